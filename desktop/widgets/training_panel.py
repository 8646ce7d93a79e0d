"""The training panel both tabs use: Train / Resume / Stop, the live charts, a progress bar that
tells the truth, and a status line.

It shows the engine's training events (engine/events.py). The progress bar follows the steps
when an epoch budget bounds the run, and the elapsed share of the time when a minutes budget
does (from the event's ETA); it reaches 100 % when training completes and stops moving whenever
work stops, failed or not. ``metric`` names a second chart (the sentiment model's accuracy).
"""
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from engine.events import Finished, Progress, Started, Validated

from ..common import duration
from .loss_chart import LossChart

PERMILLE = 1000


class TrainingPanel(QWidget):
    train_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, loss_title: str, unit: str, metric: Optional[str] = None, parent=None):
        super().__init__(parent)
        self.unit, self.metric = unit, metric
        self.buttons = QWidget()          # placed by the tab, under its settings
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for attr, label, tip, signal in (
                ("train_button", "Train", "Train a new model (Ctrl+T)", self.train_clicked),
                ("resume_button", "Resume", "Continue the run with this name where it stopped",
                 self.resume_clicked),
                ("stop_button", "Stop", "Stop and keep what was learned (Esc)",
                 self.stop_clicked)):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(lambda _checked=False, s=signal: s.emit())
            setattr(self, attr, button)
            row.addWidget(button)
        self.chart = LossChart(loss_title)
        self.metric_chart = LossChart(metric.capitalize(), y_label=metric) if metric else None
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
    def starting(self, message: str):
        """A new job: clear what the last one showed; while the data is read (and the sentiment
        model's linear half fitted) the bar says "working" until training starts."""
        self.reset(message)
        self.progress.setRange(0, 0)

    def reset(self, message: str):
        """Nothing running: empty charts, a still bar, ``message``."""
        self.chart.clear()
        if self.metric_chart:
            self.metric_chart.clear()
        self.failed(message)

    def failed(self, message: str = "Training failed."):
        """Work stopped on an error: nothing keeps moving, nothing of a previous run stays."""
        self.progress.setRange(0, PERMILLE)
        self.progress.setValue(0)
        self.status.setText(message)

    def set_buttons(self, training: bool, can_train: bool = True, can_resume: bool = True):
        self.train_button.setEnabled(not training and can_train)
        self.resume_button.setEnabled(not training and can_resume)
        self.stop_button.setEnabled(training)

    # ---- events --------------------------------------------------------------------------------
    def display(self, ev):
        if isinstance(ev, Started):
            self.progress.setRange(0, PERMILLE)
            self._set_fraction(ev.start_step / ev.total_steps if ev.total_steps else 0.0)
        elif isinstance(ev, Progress):
            self.chart.add_point("train", ev.step, ev.train_loss)
            if self.metric_chart and self.metric in ev.metrics:
                self.metric_chart.add_point("train", ev.step, ev.metrics[self.metric])
            if ev.total_steps:
                self._set_fraction(ev.step / ev.total_steps)
            elif ev.eta_s is not None:              # a time budget: the share of it spent
                self._set_fraction(ev.elapsed_s / max(ev.elapsed_s + ev.eta_s, 1e-9))
            extra = "".join(f"  {k} {v:.3f}" for k, v in ev.metrics.items())
            self.status.setText(f"step {ev.step:,}  loss {ev.train_loss:.3f}{extra}  "
                                f"{ev.items_per_s:,.0f} {self.unit}/s  elapsed "
                                f"{duration(ev.elapsed_s)}  ETA {duration(ev.eta_s)}")
        elif isinstance(ev, Validated):
            self.chart.add_point("validation", ev.step, ev.val_loss, dashed=True)
            if self.metric_chart and self.metric in ev.metrics:
                self.metric_chart.add_point("validation", ev.step, ev.metrics[self.metric],
                                            dashed=True)
        elif isinstance(ev, Finished):
            if ev.reason in ("completed", "time budget", "early stopping"):
                self._set_fraction(1.0)

    def _set_fraction(self, fraction: float):
        self.progress.setValue(int(round(PERMILLE * min(1.0, max(0.0, fraction)))))

    def load_history(self, history):
        """Draw what a resumed run learned before."""
        for series, key, dashed in (("train", "train_loss", False), ("validation", "val_loss", True)):
            points = [(h["step"], h[key]) for h in history if h.get(key) is not None]
            if points:
                self.chart.set_series(series, *zip(*points), dashed=dashed)
        if self.metric_chart:
            for series, key, dashed in (("train", f"train_{self.metric}", False),
                                        ("validation", f"val_{self.metric}", True)):
                points = [(h["step"], h[key]) for h in history if h.get(key) is not None]
                if points:
                    self.metric_chart.set_series(series, *zip(*points), dashed=dashed)
