"""The Look inside view: a text coloured by one cell of a generator, and the cells ranked by
what they track.

Record a text (a slice of the run's training text, a fresh sample, or your own) and every cell
of the model is kept per character and ranked by simple properties of the text (quotes,
brackets, line position, speakers' names, ...). Click a cell to colour the text by it (blue
-1, white 0, red +1); select a span with the mouse to rank the cells that are on across it and
off around it, and see where else the same cells switch on; hover a character for the model's
likeliest next characters.

The view is one widget that takes the engine thread and a run: ``LookInsideView(engine)``,
``set_run(path)``, then ``record_text(text)`` or the Record button. The recording (the model)
runs as one engine-thread job; ranking a selection is numpy over a few hundred values, done
here on the GUI thread so that it answers at once even while a training job holds the engine.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton,
                               QSplitter, QToolTip, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from engine.generator.cell_ranking import Ranking, SelectionRanking, rank_by_selection
from engine.generator.cell_colours import value_rgb

from .common import spin

JOB = "look-inside"
LEVELS = 21                       # colour steps from -1 to +1
SOURCES = ("A slice of the training text", "A new sample", "Your own text", "A text file…")
SELECTION = "Your selection"
MEASURES = {   # what each score means, for people
    "AUC": "AUC, the chance that the cell is higher where the property holds than where it does "
           "not (0.5: no relation; 1 or 0: perfect).",
    "Spearman": "Spearman's rho, the rank correlation of the cell with it (0: none, ±1: perfect).",
    "Youden's J": "Youden's J, the share of the selection the cell is on across minus the share "
                  "around it it is on too (1: on across it, off around it).",
}


def value_colour(value: float) -> QColor:
    """Blue (-1) through white (0) to red (+1), as every face shows cells."""
    return QColor(*value_rgb(value))


def legend_html() -> str:
    cells = []
    for v in (-1.0, -0.5, 0.0, 0.5, 1.0):
        c = value_colour(v)
        cells.append(f'<span style="background-color: {c.name()}; color: black">'
                     f'&nbsp;{v:+.1f}&nbsp;</span>')
    return "Cell value: " + "".join(cells)


# ---- the coloured text --------------------------------------------------------------------
class CellHighlighter(QSyntaxHighlighter):
    """Colours each character's background by a value in -1..1 (one per Python character)."""

    def __init__(self, document):
        super().__init__(document)
        self.values: Optional[np.ndarray] = None
        self.formats = []
        for step in range(LEVELS):
            value = step / (LEVELS - 1) * 2 - 1
            fmt = QTextCharFormat()
            fmt.setBackground(value_colour(value))
            fmt.setForeground(QColor(255, 255, 255) if abs(value) > 0.6 else QColor(0, 0, 0))
            self.formats.append(fmt)
        self._py_start = None               # UTF-16 block position -> Python index

    def show(self, values: Optional[np.ndarray], text: str):
        self.values = values
        if values is not None and any(ord(c) > 0xFFFF for c in text):
            widths = np.array([2 if ord(c) > 0xFFFF else 1 for c in text])
            self._py_start = {int(q): i for i, q in enumerate(np.r_[0, np.cumsum(widths)])}
        else:
            self._py_start = None
        self.rehighlight()

    def highlightBlock(self, text: str):
        if self.values is None:
            return
        position = self.currentBlock().position()
        start = self._py_start.get(position, 0) if self._py_start is not None else position
        values = self.values[start:start + len(text)]
        if not len(values):
            return
        levels = np.rint((np.clip(values, -1, 1) + 1) / 2 * (LEVELS - 1)).astype(int)
        widths = np.array([2 if ord(c) > 0xFFFF else 1 for c in text[:len(values)]]) \
            if self._py_start is not None else np.ones(len(values), int)
        offsets = np.r_[0, np.cumsum(widths)]
        cuts = np.r_[0, np.flatnonzero(np.diff(levels)) + 1, len(levels)]
        for a, b in zip(cuts[:-1], cuts[1:]):
            self.setFormat(int(offsets[a]), int(offsets[b] - offsets[a]), self.formats[levels[a]])


class CellTextView(QPlainTextEdit):
    """The recorded text; hovering a character tells its value and the likeliest next ones."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFont("monospace"))
        self.setMouseTracking(True)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.highlighter = CellHighlighter(self.document())
        self.recording = None
        self.cell = None

    def python_index(self, position: int) -> int:
        """A document position (UTF-16) -> an index into the recorded text."""
        text = self.recording.text if self.recording is not None else ""
        if all(ord(c) <= 0xFFFF for c in text[:position]):
            return position
        index = used = 0
        while index < len(text) and used < position:
            used += 2 if ord(text[index]) > 0xFFFF else 1
            index += 1
        return index

    def hover_text(self, index: int) -> str:
        rec = self.recording
        if rec is None or not 0 <= index < len(rec):
            return ""
        lines = [f"{rec.text[index]!r} at character {index:,}"]
        if self.cell is not None:
            lines.append(f"cell {self.cell.name} = {rec.display(self.cell)[index]:+.2f}")
        likely = ", ".join(f"{c!r} {p:.0%}" for c, p in rec.next_chars(index))
        lines.append(f"likeliest next: {likely}")
        return "\n".join(lines)

    def viewportEvent(self, event):
        if event.type() == QEvent.ToolTip and self.recording is not None:
            cursor = self.cursorForPosition(event.pos())
            position = cursor.position()      # between characters: take the one pointed at
            if event.pos().x() < self.cursorRect(cursor).x() and position > 0:
                position -= 1
            shown = self.hover_text(self.python_index(position))
            if shown:
                QToolTip.showText(event.globalPos(), shown, self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


# ---- engine-thread job events -------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Looked:
    session: object            # the engine's InsideSession (used only by later jobs)
    look: object               # engine.generator.inside_session.Look


# ---- the view -----------------------------------------------------------------------------
class LookInsideView(QWidget):
    recorded = Signal(int)            # characters recorded
    cell_chosen = Signal(str)         # e.g. "2:37c"
    ranked = Signal(str)              # what the list is ranked by now
    failed = Signal(str)              # a readable message
    status_changed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.run_path: Optional[str] = None
        self.session = None               # engine-side; touched only inside jobs
        self.look = None                  # the latest recording and its property rankings
        self.rankings = {}                # name -> Ranking
        self.selection: Optional[SelectionRanking] = None

        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.source.setToolTip("What to read: a stretch of the text the model learned from, "
                               "a sample it writes now, or a text you paste or open")
        self.start = spin(0, 2_000_000_000, 0, "Where the slice starts (characters)", 1000)
        self.length = spin(100, 100_000, 5000, "Characters to read (memory grows with it: "
                           "8 KiB per character for a 2 x 512 LSTM)", 1000)
        self.record_button = QPushButton("Record")
        self.record_button.setToolTip("Run the model over the text and keep every cell's value "
                                      "at every character (on the engine thread)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        top = QHBoxLayout()
        self.run_label = QLabel("No model chosen.")
        for w in (self.run_label, QLabel("Text:"), self.source, QLabel("from"), self.start,
                  QLabel("characters:"), self.length, self.record_button, self.stop_button):
            top.addWidget(w)
        top.addStretch(1)

        self.text = CellTextView()
        self.text.setPlaceholderText("Record a text to see what the model's cells do.")
        self.rank_by = QComboBox()
        self.rank_by.setToolTip("The property (or your selection in the text) that ranks the "
                                "cells")
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText("your own: NAME=REGEX, Enter to rank")
        self.pattern.setToolTip("A character is in the property when a match covers it, e.g. "
                                "stage=\\[[^]]*\\]")
        self.cells = QTreeWidget()
        self.cells.setHeaderLabels(["Cell", "Score", "What it tracks"])
        self.cells.setRootIsDecorated(False)
        self.cells.setColumnWidth(0, 70)
        self.cells.setColumnWidth(1, 60)
        self.ranking_note = QLabel()
        self.ranking_note.setWordWrap(True)
        self.matches_title = QLabel("Select a span in the text to find where else its cells "
                                    "switch on.")
        self.matches_title.setWordWrap(True)
        self.matches = QListWidget()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Rank the cells by:"), self.rank_by, self.pattern, self.ranking_note,
                  self.cells, self.matches_title, self.matches):
            side_layout.addWidget(w)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.text)
        split.addWidget(side)
        split.setSizes([760, 440])
        self.legend = QLabel(legend_html())
        self.status = QLabel()
        self.status.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.legend)
        bottom.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        self.record_button.clicked.connect(self.record)
        self.stop_button.clicked.connect(lambda: self.engine.stop(JOB))
        self.source.currentIndexChanged.connect(self._source_changed)
        self.rank_by.currentIndexChanged.connect(self._rank_by_changed)
        self.pattern.returnPressed.connect(self._rank_pattern)
        self.cells.currentItemChanged.connect(self._cell_clicked)
        self.matches.itemClicked.connect(self._match_clicked)
        self._select_timer = QTimer(self)
        self._select_timer.setSingleShot(True)
        self._select_timer.setInterval(250)
        self._select_timer.timeout.connect(self.rank_selection)
        self.text.selectionChanged.connect(self._select_timer.start)
        self.engine.jobs_changed.connect(self._update_buttons)
        self._source_changed()

    # ---- choosing what to read -----------------------------------------------------------
    def set_run(self, run_path: Optional[str]):
        """The generator to look inside (a run folder); the old recording goes."""
        if run_path == self.run_path:
            return
        self.run_path, self.session = run_path, None
        self.run_label.setText(f"Model: {Path(run_path).name}" if run_path else
                               "No model chosen.")
        self._show_recording(None)
        self._update_buttons()

    def _source_changed(self):
        source = self.source.currentText()
        self.start.setEnabled(source == SOURCES[0])
        self.length.setEnabled(source in SOURCES[:2])
        own = source == SOURCES[2]
        self.text.setReadOnly(not own)
        if own:
            self._show_recording(None)
            self.text.setPlaceholderText("Paste or type a text here, then press Record.")
        self._update_buttons()

    def record(self):
        """Record what the source says (the Record button)."""
        source = self.source.currentText()
        if source == SOURCES[0]:
            start, length = self.start.value(), self.length.value()
            self._submit(lambda s: s.training_slice(start, length), f"{length:,} characters of "
                         f"the training text from {start:,}")
        elif source == SOURCES[1]:
            length = self.length.value()
            self._submit(lambda s: s.sample(length), f"a new sample of {length:,} characters")
        elif source == SOURCES[2]:
            self.record_text(self.text.toPlainText())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "A text to look at")
            if path:
                self.record_file(path)

    def record_text(self, text: str, what: str = "your text"):
        """Record ``text`` (a sample from elsewhere in the app, say)."""
        self._submit(lambda s: text, what)

    def record_file(self, path: str):
        from engine.text import read_text
        self._submit(lambda s: read_text(path), Path(path).name)

    def _submit(self, text_of, what: str):
        if not self.run_path or self.engine.running(JOB):
            return
        run_path, session = self.run_path, self.session

        def job(should_stop):
            from engine.generator.inside_session import InsideSession
            yield Note(f"Loading {Path(run_path).name}…")
            current = session or InsideSession(run_path)
            text = text_of(current)
            yield Note(f"Reading {len(text):,} characters ({what}) through every layer…")
            look = current.look(text, should_stop=should_stop)
            if look is not None:
                yield Looked(current, look)
        self._set_status(f"Recording {what}…")
        self.engine.submit(JOB, job, on_event=self._on_event, on_error=self._failed,
                           on_done=lambda _: self._update_buttons())
        self._update_buttons()

    def _on_event(self, ev):
        if isinstance(ev, Note):
            self._set_status(ev.text)
        elif isinstance(ev, Looked):
            if self.run_path is not None and ev.session.run.path == Path(self.run_path):
                self.session = ev.session
            self._show_recording(ev.look)
            rec = ev.look.recording
            note = f" {rec.removed_note()}." if rec.removed else ""
            layers = f"{rec.layers} layer{'s' if rec.layers > 1 else ''}"
            self._set_status(f"Recorded {len(rec):,} characters: {layers} of {rec.hidden} "
                             f"{rec.mode.upper()} cells (c: memory, h: output)."
                             f"{note} Click a cell, or select a span.")
            self.recorded.emit(len(rec))

    def _failed(self, message: str):
        self._set_status(message)
        self._update_buttons()
        self.failed.emit(message)

    # ---- showing a recording and its rankings --------------------------------------------
    def _show_recording(self, look):
        self.look, self.selection = look, None
        self.rankings = {r.by: r for r in look.rankings} if look else {}
        self.text.recording = look.recording if look else None
        self.text.cell = None
        self.text.highlighter.show(None, "")
        if look is not None:
            self.text.setReadOnly(True)
            self.text.setPlainText(look.recording.text)
            self._select_timer.stop()
        elif self.text.isReadOnly():        # an old recording goes (text being typed stays)
            self.text.clear()
        self.rank_by.blockSignals(True)
        self.rank_by.clear()
        for ranking in self.rankings.values():
            self.rank_by.addItem(self._rank_label(ranking), ranking.by)
        self.rank_by.blockSignals(False)
        self.matches.clear()
        if look is not None:
            best = max(self.rankings.values(), key=lambda r: r.cells[0].strength if r.cells
                       else -1)
            self.rank_by.setCurrentIndex(self.rank_by.findData(best.by))
            self._show_ranking(best)

    @staticmethod
    def _rank_label(ranking: Ranking) -> str:
        return ranking.by if ranking.cells else f"{ranking.by} (not in this text)"

    def _rank_by_changed(self):
        by = self.rank_by.currentData()
        if by == SELECTION and self.selection is not None:
            self._show_ranking(self.selection.ranking)
        elif by in self.rankings:
            self._show_ranking(self.rankings[by])

    def _rank_pattern(self):
        """Rank by the user's NAME=REGEX: every cell's ranks again, seconds for a long text,
        so on the engine thread."""
        if self.look is None or not self.pattern.text().strip() or self.engine.running(JOB):
            return
        recording, spec = self.look.recording, self.pattern.text()

        def job(should_stop):
            from engine.generator.inside_session import InsideSession
            return InsideSession.rank_pattern(recording, spec)
        self._set_status(f"Ranking the cells by {spec}…")
        self.engine.submit(JOB, job, streams=False, uses_runs=False, on_error=self._failed,
                           on_done=lambda ranking: self._add_ranking(ranking, recording))
        self._update_buttons()

    def _add_ranking(self, ranking: Ranking, recording):
        self._update_buttons()
        if self.look is None or self.look.recording is not recording:
            return                          # a new recording came in the meantime
        self._set_status(f"Ranked by {ranking.by}.")
        self.rankings[ranking.by] = ranking
        index = self.rank_by.findData(ranking.by)
        if index < 0:
            self.rank_by.addItem(self._rank_label(ranking), ranking.by)
            index = self.rank_by.count() - 1
        self.rank_by.setCurrentIndex(index)
        self._show_ranking(ranking)

    def _show_ranking(self, ranking: Ranking):
        self.cells.blockSignals(True)
        self.cells.clear()
        for rc in ranking.cells:
            item = QTreeWidgetItem([rc.cell.name, f"{rc.score:.2f}", ranking.meaning(rc)])
            item.setData(0, Qt.UserRole, rc.cell)
            item.setToolTip(2, ranking.summary(rc))
            self.cells.addTopLevelItem(item)
        self.cells.blockSignals(False)
        self.ranking_note.setText(f"<b>{ranking.by}</b>: {ranking.description}"
                                  + (f" ({ranking.note})" if ranking.note else "")
                                  + f"<br>Score: {MEASURES.get(ranking.measure, ranking.measure)}")
        self.ranked.emit(ranking.by)
        if ranking.cells:
            self.cells.setCurrentItem(self.cells.topLevelItem(0))      # colours by the best
        else:
            self.show_cell(None)

    def _cell_clicked(self, item, _previous=None):
        if item is not None:
            self.show_cell(item.data(0, Qt.UserRole))

    def show_cell(self, cell):
        """Colour the text by ``cell`` (None: no colour)."""
        rec = self.look.recording if self.look else None
        self.text.cell = cell
        self.text.highlighter.show(rec.display(cell) if (rec is not None and cell) else None,
                                   rec.text if rec is not None else "")
        if cell is not None:
            self.cell_chosen.emit(cell.name)

    # ---- ranking by a selection (LSTMVis) ------------------------------------------------
    def selected_span(self):
        cursor = self.text.textCursor()
        if not cursor.hasSelection():
            return None
        start = self.text.python_index(cursor.selectionStart())
        end = self.text.python_index(cursor.selectionEnd())
        return (start, end) if end > start else None

    def rank_selection(self):
        if self.look is None or self.text.toPlainText() != self.look.recording.text:
            return
        span = self.selected_span()
        if span is None:
            return
        self.selection = rank_by_selection(self.look.recording, *span, top=20)
        index = self.rank_by.findData(SELECTION)
        if index < 0:
            self.rank_by.addItem(SELECTION, SELECTION)
            index = self.rank_by.count() - 1
        self.rank_by.blockSignals(True)
        self.rank_by.setCurrentIndex(index)
        self.rank_by.blockSignals(False)
        self._show_ranking(self.selection.ranking)
        self._show_matches(self.selection)

    def _show_matches(self, selection: SelectionRanking):
        self.matches.clear()
        others = [m for m in selection.matches if not m.selected]
        used = ", ".join(c.cell.name for c in selection.used)
        self.matches_title.setText(
            f"Where {used} switch on together: {len(others):,} other place(s)" if used else
            "No cell is on across the selection and off around it.")
        for m in others:
            shown = m.text if len(m.text) <= 50 else m.text[:47] + "…"
            item = QListWidgetItem(f"{m.start:,}–{m.end:,}: {shown!r}")
            item.setData(Qt.UserRole, (m.start, m.end))
            self.matches.addItem(item)

    def _match_clicked(self, item):
        start, end = item.data(Qt.UserRole)
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(self._qt_position(start))
        cursor.setPosition(self._qt_position(end), QTextCursor.KeepAnchor)
        self.text.setTextCursor(cursor)
        self.text.ensureCursorVisible()
        self._select_timer.stop()           # showing a match is not a new selection

    def _qt_position(self, index: int) -> int:
        text = self.look.recording.text
        return index + sum(1 for c in text[:index] if ord(c) > 0xFFFF)

    # ---- state ---------------------------------------------------------------------------
    def _set_status(self, text: str):
        self.status.setText(text)
        self.status_changed.emit(text)

    def _update_buttons(self):
        busy = self.engine.running(JOB)
        self.record_button.setEnabled(bool(self.run_path) and not busy)
        self.stop_button.setEnabled(busy)

    def ranked_cells(self) -> List[str]:
        """The cells listed now, best first (their names)."""
        return [self.cells.topLevelItem(i).text(0) for i in range(self.cells.topLevelItemCount())]
