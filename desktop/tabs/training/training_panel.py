"""The training panel both tabs use: Train / Resume / Stop, the live charts, a progress bar that
tells the truth, and a status line.

It shows the engine's training events (engine/events.py), the loss in its kind's unit (a
generator's in bits per character, as everywhere else). The progress bar follows the steps when
an epoch budget bounds the run, and the spent share of the time when a minutes budget does
(by the clock, every half second, so it moves even while a slow step runs; a run resumed for
the rest of its budget counts its earlier time); it never goes back, reaches 100 % when
training completes and stops moving whenever work stops, failed or not.
Stop answers at once ("Stopping…") and is then disabled until the engine has saved.
"""
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from engine.events import Finished, Progress, Started, Validated
from engine.kinds import Kind

from desktop.widgets.common import duration
from desktop.widgets.loss_chart import SHARE_BOUNDS, LossChart

PERMILLE = 1000
STOPPING = "Stopping: finishing this step and saving…"
TIME_UP = "Time is up: a last check on held-out text, then saving…"


class TrainingPanel(QWidget):
    train_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, kind: Kind, metric: str = None, parent=None):
        super().__init__(parent)
        self.kind, self.metric = kind, metric
        self.is_stopping = False
        self.prior_seconds = 0.0              # time a resumed run had spent of its budget
        self.budget_s = None                  # the time this session may train, if bounded
        self.clock = QTimer(self)             # moves the bar of a time budget
        self.clock.setInterval(500)
        self.clock.timeout.connect(self._tick)
        self._started_at = None
        self.buttons = QWidget()          # placed by the tab, under its settings
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for attr, label, tip, signal in (
                ("train_button", "Train", "Train a new model (Ctrl+T)", self.train_clicked),
                ("resume_button", "Resume", "Continue the run with this name where it stopped",
                 self.resume_clicked),
                ("stop_button", "Stop", "Stop after this step and keep what was learned (Esc)",
                 self.stop_clicked)):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(lambda _checked=False, s=signal: s.emit())
            setattr(self, attr, button)
            row.addWidget(button)
        unit = f" ({kind.loss_unit})" if kind.loss_unit else ""
        self.chart = LossChart(f"Loss{unit}", y_label=kind.loss_unit or "loss")
        self.metric_chart = LossChart(metric.capitalize(), y_label=metric,
                                      y_bounds=SHARE_BOUNDS) if metric else None
        self.progress = QProgressBar()
        self.progress.setRange(0, PERMILLE)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        charts = QHBoxLayout()
        charts.addWidget(self.chart)
        if self.metric_chart:
            charts.addWidget(self.metric_chart)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(charts, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    # ---- states --------------------------------------------------------------------------------
    def starting(self, message: str, prior_seconds: float = 0.0, budget_s: float = None):
        """A new job: clear what the last one showed; while the data is read (and the sentiment
        model prepared) the bar says "working" until training starts. ``prior_seconds``: the
        time a run resumed for the rest of its budget had already trained; ``budget_s``: the
        time this session may train (a minutes budget)."""
        self.reset(message)
        self.prior_seconds, self.budget_s = prior_seconds, budget_s
        self.progress.setRange(0, 0)

    def reset(self, message: str):
        """Nothing running: empty charts, a still bar, ``message``."""
        self.chart.clear()
        if self.metric_chart:
            self.metric_chart.clear()
        self.failed(message)

    def failed(self, message: str = "Training failed."):
        """Work stopped on an error: nothing keeps moving, nothing of a previous run stays."""
        self.is_stopping = False
        self.clock.stop()
        self.progress.setRange(0, PERMILLE)
        self.progress.setValue(0)
        self.status.setText(message)

    def stopping(self):
        """Stop was asked for: say so at once; the engine finishes its step and saves."""
        self.is_stopping = True
        self.stop_button.setEnabled(False)
        self.status.setText(STOPPING)

    def set_buttons(self, training: bool, can_train: bool = True, can_resume: bool = True):
        self.train_button.setEnabled(not training and can_train)
        self.resume_button.setEnabled(not training and can_resume)
        self.stop_button.setEnabled(training and not self.is_stopping)
        if not training:
            self.is_stopping = False

    # ---- events --------------------------------------------------------------------------------
    def display(self, ev):
        if isinstance(ev, Started):
            self.progress.setRange(0, PERMILLE)
            if ev.total_steps:
                self._set_fraction(ev.start_step / ev.total_steps)
            else:                                   # a time budget: what was spent before
                spent = self.prior_seconds
                self._set_fraction(spent / (spent + self.budget_s) if self.budget_s else 0.0)
                if self.budget_s:
                    self._started_at = time.monotonic()
                    self.clock.start()
        elif isinstance(ev, Progress):
            loss = self.kind.loss_shown(ev.train_loss)
            self.chart.add_point("train", ev.step, loss)
            if self.metric_chart and self.metric in ev.metrics:
                self.metric_chart.add_point("train", ev.step, ev.metrics[self.metric])
            if ev.total_steps:
                self._set_fraction(ev.step / ev.total_steps)
            elif ev.eta_s is not None:              # a time budget: the share of it spent
                spent = self.prior_seconds + ev.elapsed_s
                self._set_fraction(spent / max(spent + ev.eta_s, 1e-9))
            if not self.is_stopping:
                self.status.setText(self.progress_line(ev, loss))
        elif isinstance(ev, Validated):
            self.chart.add_point("validation", ev.step, self.kind.loss_shown(ev.val_loss),
                                 dashed=True)
            if self.metric_chart and self.metric in ev.metrics:
                self.metric_chart.add_point("validation", ev.step, ev.metrics[self.metric],
                                            dashed=True)
        elif isinstance(ev, Finished):
            self.is_stopping = False
            self.clock.stop()
            if ev.reason in ("completed", "time budget", "early stopping"):
                self._set_fraction(1.0)

    def progress_line(self, ev: Progress, loss: float) -> str:
        unit = self.kind.loss_short
        extra = "".join(f"  {k} {v:.3f}" for k, v in ev.metrics.items())
        return (f"step {ev.step:,}  loss {loss:.3f}{unit}{extra}  {ev.items_per_s:,.0f} "
                f"{self.kind.speed_unit}/s  elapsed {duration(ev.elapsed_s)}  "
                f"left {duration(ev.eta_s)}")

    def _tick(self):
        """A time budget's bar, by the clock (progress reports may be minutes apart); once the
        time is up the engine still checks the model and saves: 99 % until it has."""
        spent = self.prior_seconds + time.monotonic() - self._started_at
        budget = self.prior_seconds + self.budget_s
        self._set_fraction(min(spent / budget, 0.99))
        if spent >= budget and not self.is_stopping:
            self.clock.stop()
            self.status.setText(TIME_UP)

    def _set_fraction(self, fraction: float):
        value = int(round(PERMILLE * min(1.0, max(0.0, fraction))))
        if value > self.progress.value():          # never backwards
            self.progress.setValue(value)

    def load_history(self, history):
        """Draw what a run learned before (a resumed or a loaded run)."""
        shown = self.kind.loss_shown
        for series, key, dashed in (("train", "train_loss", False), ("validation", "val_loss", True)):
            points = [(h["step"], shown(h[key])) for h in history if h.get(key) is not None]
            if points:
                self.chart.set_series(series, *zip(*points), dashed=dashed)
        if self.metric_chart:
            for series, key, dashed in (("train", f"train_{self.metric}", False),
                                        ("validation", f"val_{self.metric}", True)):
                points = [(h["step"], h[key]) for h in history if h.get(key) is not None]
                if points:
                    self.metric_chart.set_series(series, *zip(*points), dashed=dashed)
