"""Many samples side by side: a grid of generated texts (temperatures across, seeds down, or a
list), all drawn together through ONE engine job. Each cell can be copied, saved, or continued
from (``SampleGrid.continue_requested``); with a sentiment model chosen, each sample and each of
its lines get a badge (label, probability), and "Steer toward" keeps, at every line end, the
likeliest of K candidate lines to carry a label.

Standalone pieces, to drop into the Generate tab: ``SampleGridControls`` (the settings, made
from ``SamplingConfig``'s fields) and ``SampleGrid`` (the cells and the engine job), which takes
the engine thread handle and a run path and reports through signals.
"""
import time
from pathlib import Path
from typing import Dict, List, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QFrame, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QScrollArea, QSlider, QVBoxLayout, QWidget)

from engine.config import SamplingConfig, default_of, settings_of
from engine.errors import StudioError

from ..settings_form import setting_widget, widget_value

GRID_JOB = "gen-sample-grid"
_FIELDS = {f.name: f for f in settings_of(SamplingConfig)}


def grid_job(run_path: str, checkpoint: str, cells, sentiment_run: Optional[str] = None,
             steer_label: Optional[str] = None, chunk_seconds: float = 0.03):
    """The engine job: yields lists of SampledChar (every cell's, about every
    ``chunk_seconds``), then, with a sentiment run, one CellScores per cell."""
    def run(should_stop):
        from engine.generator.grid import cell_scores, draw_cells
        from engine.generator.load import load_generator
        from engine.generator.sample import Sampler
        from engine.generator.steer import Judge
        model, vocab, _ = load_generator(run_path, checkpoint)
        sampler = Sampler(model, vocab)
        judge = Judge.load(sentiment_run) if sentiment_run else None
        steer = Judge(judge.predictor, steer_label) if judge and steer_label else None
        texts = [""] * len(cells)
        chunk, last = [], time.monotonic()
        for chars in draw_cells(sampler, cells, steer, should_stop):
            chunk.extend(chars)
            for ch in chars:
                texts[ch.stream] += ch.char
            if time.monotonic() - last >= chunk_seconds:
                yield chunk
                chunk, last = [], time.monotonic()
        if chunk:
            yield chunk
        if judge is not None and not should_stop():
            for i, text in enumerate(texts):
                yield cell_scores(i, judge.judge_sample(text))
    return run


def _badge(label: Optional[str], probability: Optional[float]) -> str:
    return f"{label} {probability:.2f}" if label else "–"


class SampleCell(QFrame):
    """One sample: its label, its text as it streams in, its sentiment, and what to do with it."""
    continue_clicked = Signal(int)
    message = Signal(str)                   # what copy or save did, for a status line

    def __init__(self, index: int, title: str, config: SamplingConfig, parent=None):
        super().__init__(parent)
        self.index, self.config = index, config
        self.setFrameShape(QFrame.StyledPanel)
        self.title = QLabel(f"<b>{title}</b>")
        self.badge = QLabel()
        self.badge.setToolTip("What the sentiment model says about this sample; hover the "
                              "text for each line")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        self.text.setMinimumSize(220, 110)
        self.text.setPlainText(config.prime)
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save…")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Generate more from the end of this sample, with its "
                                        "settings")
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.badge)
        buttons = QHBoxLayout()
        for b in (self.copy_button, self.save_button, self.continue_button):
            buttons.addWidget(b)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(head)
        box.addWidget(self.text, 1)
        box.addLayout(buttons)
        self.lines: List[tuple] = []          # (text, label, probability) per judged line
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.choose_file)
        self.continue_button.clicked.connect(lambda: self.continue_clicked.emit(self.index))

    def append(self, text: str):
        self.text.moveCursor(QTextCursor.End)
        self.text.insertPlainText(text)

    def full_text(self) -> str:
        return self.text.toPlainText()

    def generated_text(self) -> str:
        return self.full_text()[len(self.config.prime):]

    def set_scores(self, label, probability, lines):
        self.lines = list(lines)
        self.badge.setText(_badge(label, probability))
        self.text.setToolTip("\n".join(f"[{_badge(lab, p)}] {line[:70]}"
                                       for line, lab, p in self.lines) or "no lines to judge")

    def copy(self):
        QGuiApplication.clipboard().setText(self.full_text())
        self.message.emit(f"Copied {len(self.full_text()):,} characters.")

    def choose_file(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save this sample", "sample.txt",
                                              "Text files (*.txt)")
        if path:
            self.write(path)

    def write(self, path: str) -> bool:
        try:
            Path(path).write_text(self.full_text(), encoding="utf-8")
        except OSError as err:
            self.message.emit(f"Cannot save to {path}: {err.strerror}")
            return False
        self.message.emit(f"Saved to {path}")
        return True


class SampleGridControls(QWidget):
    """The grid's settings: lists of temperatures and seeds, the other sampling settings (from
    ``SamplingConfig``), a sentiment model to judge with, and "Steer toward" (a label and a
    strength, the number of candidates per line)."""
    generate_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.temperatures = QLineEdit(str(default_of(SamplingConfig, "temperature")))
        self.temperatures.setToolTip(_FIELDS["temperature"].metadata["help"] + ". A list "
                                     "(0.5, 0.8, 1.1) gives one column per value")
        self.seeds = QLineEdit(str(_FIELDS["seed"].metadata["suggested"]))
        self.seeds.setToolTip(_FIELDS["seed"].metadata["help"] + ". A list (1, 2) gives one "
                              "row per value")
        self.widgets = {name: setting_widget(SamplingConfig, _FIELDS[name])
                        for name in ("prime", "length", "top_k", "top_p")}
        self.layout_choice = QComboBox()
        self.layout_choice.addItems(["grid", "list"])
        self.layout_choice.setToolTip("grid: temperatures across, seeds down; list: one below "
                                      "the other")
        self.sentiment = QComboBox()
        self.sentiment.setToolTip("A trained sentiment model to judge every sample and line "
                                  "with (see the Models tab)")
        self.steer_label = QComboBox()
        self.steer_label.setToolTip("Steer toward: at each line end keep the candidate line "
                                    "likeliest to carry this label")
        candidates = _FIELDS["candidates"].metadata
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setRange(candidates["low"], min(32, candidates["high"]))
        self.strength.setValue(default_of(SamplingConfig, "candidates"))
        self.strength.setToolTip(candidates["help"])
        self.strength_label = QLabel()
        self.generate_button = QPushButton("Generate all")
        self.stop_button = QPushButton("Stop")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9822b")
        form = QFormLayout()
        form.addRow(_FIELDS["temperature"].metadata["label"] + "s", self.temperatures)
        form.addRow("Seeds", self.seeds)
        for name, w in self.widgets.items():
            form.addRow(_FIELDS[name].metadata["label"], w)
        form.addRow("Layout", self.layout_choice)
        form.addRow("Judge with", self.sentiment)
        steer = QHBoxLayout()
        steer.addWidget(self.steer_label)
        steer.addWidget(self.strength, 1)
        steer.addWidget(self.strength_label)
        form.addRow("Steer toward", steer)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addLayout(buttons)
        box.addWidget(self.message)
        self.sentiment.currentIndexChanged.connect(lambda _: self._show_labels())
        self.strength.valueChanged.connect(self._show_strength)
        self.generate_button.clicked.connect(self.generate_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self._show_strength(self.strength.value())
        self.refresh_runs()

    def refresh_runs(self):
        from engine.runs import list_runs
        current = self.sentiment.currentData()
        self.sentiment.blockSignals(True)
        self.sentiment.clear()
        self.sentiment.addItem("nobody (no sentiment)", None)
        for r in list_runs(kind="sentiment"):
            self.sentiment.addItem(r["name"], r["path"])
        index = self.sentiment.findData(current)
        self.sentiment.setCurrentIndex(max(0, index))
        self.sentiment.blockSignals(False)
        self._show_labels()

    def choose_sentiment(self, path: str):
        index = self.sentiment.findData(path)
        if index < 0:
            self.sentiment.addItem(Path(path).name, path)
            index = self.sentiment.count() - 1
        self.sentiment.setCurrentIndex(index)

    def _show_labels(self):
        from engine.runs import RunFolder
        self.steer_label.clear()
        self.steer_label.addItem("nothing (plain sampling)", None)
        path = self.sentiment.currentData()
        if path:
            try:
                labels = RunFolder(path).read_meta(kind="sentiment").labels
            except StudioError as err:
                self.message.setText(str(err))
                labels = []
            for label in labels:
                self.steer_label.addItem(label, label)
        self.steer_label.setEnabled(bool(path))
        self.strength.setEnabled(bool(path))

    def _show_strength(self, k: int):
        self.strength_label.setText(f"{k} per line")

    def request(self):
        """(base SamplingConfig, the lists of temperatures and seeds, sentiment run path or None,
        steer label or None); a StudioError says what is wrong."""
        from engine.generator.grid import parse_values
        values = {"temperature": parse_values(self.temperatures.text(), "temperature",
                                              "Temperatures"),
                  "seed": parse_values(self.seeds.text(), "seed", "Seeds")}
        base = SamplingConfig(**{k: widget_value(w) for k, w in self.widgets.items()},
                              candidates=self.strength.value(),
                              temperature=values["temperature"][0], seed=values["seed"][0])
        return base, values, self.sentiment.currentData(), self.steer_label.currentData()


class SampleGrid(QWidget):
    """The cells, filled by one engine job. ``continue_requested(text, settings)``: the chosen
    cell's whole text (prime included) and its settings (``SamplingConfig.to_dict()``)."""
    continue_requested = Signal(str, dict)
    finished = Signal()
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.run_path: Optional[str] = None
        self.checkpoint = "best"
        self.cells: List[SampleCell] = []
        self.status = QLabel("Choose settings and press Generate all.")
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setWidget(QWidget())
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.status)
        box.addWidget(self.area, 1)

    def set_run(self, run_path: str, checkpoint: str = "best"):
        self.run_path, self.checkpoint = run_path, checkpoint

    @property
    def running(self) -> bool:
        return self.engine.running(GRID_JOB)

    def start(self, base: SamplingConfig, values: Dict[str, list], sentiment_run=None,
              steer_label=None, layout: str = "grid"):
        """Lay out one cell per combination and submit the one job that fills them all."""
        from engine.generator.grid import make_grid
        if self.run_path is None or self.running:
            return None
        cells = make_grid(base, values)
        self._lay_out(cells, layout)
        self.status.setText(f"Generating {len(cells)} samples together…"
                            + (f" Steering toward {steer_label}." if steer_label else ""))
        return self.engine.submit(GRID_JOB, grid_job(self.run_path, self.checkpoint, cells,
                                                     sentiment_run, steer_label),
                                  on_event=self._on_event, on_done=self._done,
                                  on_error=self._failed)

    def stop(self):
        self.engine.stop(GRID_JOB)

    def _lay_out(self, cells, layout: str):
        holder = QWidget()
        grid = QGridLayout(holder)
        self.cells = []
        for c in cells:
            cell = SampleCell(c.index, c.label, c.config)
            cell.continue_clicked.connect(self._continue)
            cell.message.connect(self.status.setText)
            row, col = (c.row, c.col) if layout == "grid" else (c.index, 0)
            grid.addWidget(cell, row, col)
            self.cells.append(cell)
        self.area.setWidget(holder)

    def _on_event(self, item):
        if isinstance(item, list):
            pieces: Dict[int, List[str]] = {}
            for ch in item:
                pieces.setdefault(ch.stream, []).append(ch.char)
            for index, chars in pieces.items():
                self.cells[index].append("".join(chars))
        else:                                   # CellScores
            self.cells[item.cell].set_scores(item.label, item.probability, item.lines)

    def _done(self, _result):
        self.status.setText(f"{len(self.cells)} samples, "
                            f"{sum(len(c.generated_text()) for c in self.cells):,} characters.")
        self.finished.emit()

    def _failed(self, message: str):
        self.status.setText(message)
        self.failed.emit(message)

    def _continue(self, index: int):
        cell = self.cells[index]
        self.continue_requested.emit(cell.full_text(), cell.config.to_dict())


class SampleGridPanel(QWidget):
    """The controls beside the grid, wired together: what the Generate tab drops in."""

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.controls = SampleGridControls()
        self.grid = SampleGrid(engine)
        box = QHBoxLayout(self)
        box.addWidget(self.controls)
        box.addWidget(self.grid, 1)
        self.controls.generate_clicked.connect(self.generate)
        self.controls.stop_clicked.connect(self.grid.stop)
        self.grid.failed.connect(self.controls.message.setText)

    def set_run(self, run_path: str, checkpoint: str = "best"):
        self.grid.set_run(run_path, checkpoint)

    def generate(self):
        """Start the grid from the controls (a wrong list is said beside them)."""
        self.controls.message.clear()
        try:
            base, values, sentiment, label = self.controls.request()
            return self.grid.start(base, values, sentiment, label,
                                   self.controls.layout_choice.currentText())
        except StudioError as err:
            self.controls.message.setText(str(err))
            return None
