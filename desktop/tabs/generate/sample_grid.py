"""Many samples side by side: a grid of generated texts (temperatures across, seeds down, or a
list), all drawn together through ONE engine job (``sample_job``, which the single sample uses
too). Each cell can be copied, saved, or continued from (``SampleGrid.continue_requested``);
under each, the share of it copied from the training text; with a sentiment model chosen, each
sample and each of its lines get a badge (label, probability).

``GridAxes`` holds what the grid varies (lists of temperatures and seeds, the layout); every
other setting comes from the panel's shared ``SamplingSettings``.
"""
import time
from pathlib import Path
from typing import Dict, List, Optional

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QScrollArea, QToolButton, QVBoxLayout,
                               QWidget)

from engine.config import SamplingConfig

from desktop.widgets.common import write_text
from desktop.tabs.generate.copied_text import CopiedTextChecker
from desktop.tabs.generate.sampling_settings import PRESETS, tip

GRID_JOB = "generate-grid"


def sample_job(run_path: str, checkpoint: str, cells, sentiment_run: Optional[str] = None,
               steer_label: Optional[str] = None, chunk_seconds: float = 0.03):
    """The engine job for one sample or a grid: yields lists of SampledChar (every cell's,
    about every ``chunk_seconds``), then, with a sentiment run, one CellScores per cell."""
    def run(should_stop):
        from engine.generator.sampling.grid import cell_scores, draw_cells
        from engine.generator.load import load_generator
        from engine.generator.sampling.sample import Sampler
        from engine.generator.sampling.steer import Judge
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


def badge(label: Optional[str], probability: Optional[float]) -> str:
    return f"{label} {probability:.2f}" if label else "–"


def lines_tip(lines) -> str:
    """Each judged line's badge, for a tooltip."""
    return "\n".join(f"[{badge(lab, p)}] {line[:70]}" for line, lab, p in lines) or \
        "no lines to judge"


def _tool(text: str, tip_text: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip_text)
    return button


class SampleCell(QFrame):
    """One sample: its label, its text as it streams in, its sentiment, how much of it was
    copied from the training text, and what to do with it."""
    continue_clicked = Signal(int)
    message = Signal(str)                   # what copy or save did, for a status line

    def __init__(self, index: int, title: str, config: SamplingConfig, engine, parent=None):
        super().__init__(parent)
        self.index, self.config = index, config
        self.setFrameShape(QFrame.StyledPanel)
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setWordWrap(True)
        self.badge = QLabel()
        self.badge.setToolTip("What the sentiment model says about this sample; hover the "
                              "text for each line")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        self.text.setMinimumSize(150, 60)
        self.text.setPlainText(config.prime)
        self.novelty = QLabel()
        self.novelty.setWordWrap(True)
        self.novelty.setToolTip("How much of this sample is in the training text word for word")
        self.checker = CopiedTextChecker(engine, self.text, self.novelty)
        self.copy_button = _tool("Copy", "Copy this sample")
        self.save_button = _tool("Save…", "Save this sample to a file")
        self.continue_button = _tool("Continue", "Go on writing this sample, with its settings, "
                                     "in the One sample view")
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.badge)
        buttons = QHBoxLayout()
        for b in (self.copy_button, self.save_button, self.continue_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        box.setSpacing(2)
        box.addLayout(head)
        box.addWidget(self.text, 1)
        box.addWidget(self.novelty)
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
        self.badge.setText(badge(label, probability))
        self.text.setToolTip(lines_tip(self.lines))

    def copy(self):
        QGuiApplication.clipboard().setText(self.full_text())
        self.message.emit(f"Copied {len(self.full_text()):,} characters.")

    def choose_file(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save this sample", "sample.txt",
                                              "Text files (*.txt)")
        if path:
            self.write(path)

    def write(self, path: str) -> bool:
        problem = write_text(path, self.full_text())
        self.message.emit(f"Saved to {path}" if problem is None else
                          f"Cannot save to {path}: {problem}")
        return problem is None


class GridAxes(QWidget):
    """What the grid varies: temperatures across, seeds down (lists), and its layout."""

    def __init__(self, parent=None):
        super().__init__(parent)
        temperatures = sorted({p["temperature"] for p in PRESETS.values()})
        self.temperatures = QLineEdit(", ".join(f"{t:g}" for t in temperatures))
        self.temperatures.setToolTip(tip("temperature") + ". A list (0.5, 0.8, 1.3) gives one "
                                     "column per value: the styles' temperatures to start")
        self.seeds = QLineEdit("1, 2")
        self.seeds.setToolTip(tip("seed") + ". A list (1, 2) gives one row per value")
        self.layout_choice = QComboBox()
        self.layout_choice.addItems(["grid", "list"])
        self.layout_choice.setToolTip("grid: temperatures across, seeds down; list: one below "
                                      "the other")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for text, widget, stretch in (("Temperatures", self.temperatures, 2),
                                      ("Seeds", self.seeds, 1), ("Layout", self.layout_choice, 0)):
            caption = QLabel(text)
            caption.setToolTip(widget.toolTip())
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget, stretch)

    def values(self) -> Dict[str, list]:
        """{"temperature": [...], "seed": [...]}; a StudioError says what is wrong."""
        from engine.generator.sampling.grid import parse_values
        return {"temperature": parse_values(self.temperatures.text(), "temperature",
                                            "Temperatures"),
                "seed": parse_values(self.seeds.text(), "seed", "Seeds")}

    def persisted(self) -> dict:
        return {"grid_temperatures": self.temperatures, "grid_seeds": self.seeds,
                "grid_layout": self.layout_choice}


class SampleGrid(QWidget):
    """The axes, the cells, and the one engine job that fills them. ``continue_requested(text,
    settings)``: the chosen cell's whole text (prime included) and its settings
    (``SamplingConfig.to_dict()``)."""
    continue_requested = Signal(str, dict)
    finished = Signal()
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.run_path: Optional[str] = None
        self.checkpoint = "best"
        self.cells: List[SampleCell] = []
        self.highlight = True                 # copied stretches marked in every cell
        self.stopped = False                  # the last job was stopped before its end
        self.axes = GridAxes()
        self.status = QLabel("Set the temperatures and seeds, then press Generate all.")
        self.status.setWordWrap(True)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setWidget(QWidget())
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.axes)
        box.addWidget(self.status)
        box.addWidget(self.area, 1)

    def set_run(self, run_path: Optional[str], checkpoint: str = "best"):
        self.run_path, self.checkpoint = run_path, checkpoint

    @property
    def running(self) -> bool:
        return self.engine.running(GRID_JOB)

    def start(self, base: SamplingConfig, values: Dict[str, list], sentiment_run=None,
              steer_label=None):
        """Lay out one cell per combination and submit the one job that fills them all
        (a StudioError says what is wrong with the lists)."""
        from engine.generator.sampling.grid import make_grid
        if self.run_path is None or self.running:
            return None
        cells = make_grid(base, values)
        self._lay_out(cells, self.axes.layout_choice.currentText())
        self.stopped = False
        self.status.setText(f"Generating {len(cells)} samples together…"
                            + (f" Steering toward {steer_label}." if steer_label else ""))
        return self.engine.submit(GRID_JOB, sample_job(self.run_path, self.checkpoint, cells,
                                                       sentiment_run, steer_label),
                                  on_event=self._on_event, on_done=self._done,
                                  on_error=self._failed)

    def stop(self):
        if self.running:
            self.stopped = True
            self.engine.stop(GRID_JOB)

    def set_highlight(self, on: bool):
        self.highlight = on
        for cell in self.cells:
            cell.checker.set_highlight(on)

    def _lay_out(self, cells, layout: str):
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        self.cells = []
        for c in cells:
            cell = SampleCell(c.index, c.label, c.config, self.engine)
            cell.continue_clicked.connect(self._continue)
            cell.message.connect(self.status.setText)
            cell.checker.set_highlight(self.highlight)
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
        self.status.setText(("Stopped: " if self.stopped else "") + f"{len(self.cells)} samples, "
                            f"{sum(len(c.generated_text()) for c in self.cells):,} characters, "
                            f"from {Path(self.run_path).name}.")
        for cell in self.cells:                 # one small engine job each, queued in turn
            cell.text.moveCursor(QTextCursor.Start)          # read from the top
            cell.checker.check(self.run_path)
        self.finished.emit()

    def _failed(self, message: str):
        self.status.setText(message)
        self.failed.emit(message)

    def _continue(self, index: int):
        cell = self.cells[index]
        self.continue_requested.emit(cell.full_text(), cell.config.to_dict())
