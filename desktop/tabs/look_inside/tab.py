"""The Look inside view: a text coloured by one cell of a generator, and the cells ranked by
what they track.

Record a text (a slice of the run's training text, a fresh sample, the last sample of the
Generate tab, your own, or a file) and every cell of the model is kept per character and ranked
by simple properties of the text (quotes, brackets, line position, speakers' names, ...). Click
a cell to colour the text by it (blue -1, white 0, red +1); select a span with the mouse to rank
the cells that are on across it and off around it, and see where else the same cells switch
on; hover a character for the model's likeliest next characters.

``LookInsideView(engine)``: pick the model in its list (or ``set_run(path)``), then
``record_text(text)`` or the Record button. The recording (the model) runs as one engine-thread
job; ranking a selection is numpy over a few hundred values, done here on the GUI thread so that
it answers at once even while a training job holds the engine.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from engine.generator.inside.cell_ranking import Ranking, rank_by_selection

from desktop.widgets.common import set_placeholder
from desktop.tabs.look_inside.cell_list import CellList, rank_label
from desktop.tabs.look_inside.cell_text import CellTextView, legend_html, value_colour  # noqa: F401 (tests)
from desktop.tabs.look_inside.read_choice import LAST, NEW, OWN, SLICE, SOURCES, ReadChoice  # noqa: F401

JOB = "look-inside"
SELECTION = "Your selection"


# ---- engine-thread job events -------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Looked:
    session: object            # the engine's InsideSession (used only by later jobs)
    look: object               # engine.generator.inside.session.Look


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
        self.selection = None             # the SelectionRanking of the span selected
        self.last_sample: Callable[[], str] = lambda: ""     # the app sets where it comes from

        self.bar = ReadChoice()
        # the parts, by the names the tests and the README's picture use
        self.runs, self.source, self.start, self.length = self.bar.runs, self.bar.source, \
            self.bar.start, self.bar.length
        self.record_button, self.stop_button = self.bar.record_button, self.bar.stop_button

        self.text = CellTextView()
        self.side = CellList()
        # the side's parts, by their old names (tests and the README's picture use them)
        self.rank_by, self.pattern, self.cells = self.side.rank_by, self.side.pattern, \
            self.side.cells
        self.matches, self.matches_title = self.side.matches, self.side.matches_title
        self.ranking_note = self.side.ranking_note
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.text)
        split.addWidget(self.side)
        split.setSizes([760, 440])
        split.setChildrenCollapsible(False)
        self.legend = QLabel(legend_html())
        self.legend.setToolTip("The colour of each character: the chosen cell's value after it")
        self.status = QLabel()
        self.status.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.legend)
        bottom.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        self.runs.currentIndexChanged.connect(lambda _: self.set_run(self.runs.path()))
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
    def refresh_runs(self):
        """List the generators again (runs changed), keeping the chosen one."""
        self.runs.refresh()
        self.set_run(self.runs.path())

    def choose_run(self, name: str):
        """Follow a choice made elsewhere (the Generate tab's model)."""
        if name and name != self.runs.currentText():
            self.runs.refresh(select=name)
            self.set_run(self.runs.path())

    def set_run(self, run_path: Optional[str]):
        """The generator to look inside (a run folder); the old recording goes."""
        if run_path == self.run_path:
            return
        self.run_path, self.session = run_path, None
        if run_path and self.runs.findData(str(run_path)) >= 0:
            self.runs.blockSignals(True)
            self.runs.setCurrentIndex(self.runs.findData(str(run_path)))
            self.runs.blockSignals(False)
        self._show_recording(None)
        self._update_buttons()

    def _source_changed(self):
        own = self.source.currentText() == OWN
        if own and self.look is not None:
            self._show_recording(None)        # the recording goes; a text being typed stays
        self.text.setReadOnly(not own)
        self._update_buttons()

    def record(self):
        """Record what the source says (the Record button)."""
        source = self.source.currentText()
        if source == SLICE:
            start, length = self.start.value(), self.length.value()
            self._submit(lambda s: s.training_slice(start, length), f"{length:,} characters of "
                         f"the training text from {start:,}")
        elif source == NEW:
            length = self.length.value()
            self._submit(lambda s: s.sample(length), f"a new sample of {length:,} characters")
        elif source == LAST:
            self.record_sample(self.last_sample())
        elif source == OWN:
            self.record_text(self.text.toPlainText())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "A text to look at")
            if path:
                self.record_file(path)

    def record_text(self, text: str, what: str = "your text"):
        """Record ``text`` (a sample from elsewhere in the app, say)."""
        self._submit(lambda s: text, what)

    def record_sample(self, text: str):
        """Record a sample generated in the app (the Generate tab's Look inside button)."""
        if not text.strip():
            self._set_status("No sample yet: generate one in the Generate tab first.")
            return
        self.source.setCurrentText(LAST)
        self.record_text(text, "the last sample")

    def record_file(self, path: str):
        from engine.text import read_text
        self._submit(lambda s: read_text(path), Path(path).name)

    def _submit(self, text_of, what: str):
        if not self.run_path or self.engine.running(JOB):
            return
        run_path, session = self.run_path, self.session

        def job(should_stop):
            from engine.generator.inside.session import InsideSession
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
        self.side.list_rankings(self.rankings.values())
        if look is not None:
            best = max(self.rankings.values(), key=lambda r: r.cells[0].strength if r.cells
                       else -1)
            self.side.offer(rank_label(best), best.by, quietly=True)
            self._show_ranking(best)

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
            from engine.generator.inside.session import InsideSession
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
        self.side.offer(rank_label(ranking), ranking.by, quietly=True)
        self._show_ranking(ranking)

    def _show_ranking(self, ranking: Ranking):
        self.side.show_ranking(ranking)          # the best becomes current: colours by it
        self.ranked.emit(ranking.by)
        if not ranking.cells:
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
        return self.text.selected_span()

    def rank_selection(self):
        if self.look is None or self.text.toPlainText() != self.look.recording.text:
            return
        span = self.selected_span()
        if span is None:
            return
        self.selection = rank_by_selection(self.look.recording, *span, top=20)
        self.side.offer(SELECTION, SELECTION, quietly=True)
        self._show_ranking(self.selection.ranking)
        self.side.show_matches(self.selection)

    def _match_clicked(self, item):
        self.text.show_span(*item.data(Qt.UserRole))
        self._select_timer.stop()           # showing a match is not a new selection

    # ---- state ---------------------------------------------------------------------------
    def _set_status(self, text: str):
        self.status.setText(text)
        self.status_changed.emit(text)

    def _update_buttons(self):
        self.bar.set_buttons(bool(self.run_path), self.engine.running(JOB), self.engine.training)
        set_placeholder(self.text, "Paste or type a text here, then press Record."
                        if self.source.currentText() == OWN else
                        "Record a text to see what the model's cells do." if self.runs.count()
                        else "No text generator yet: train one in the Generate tab, then look "
                        "inside it here.")

    def ranked_cells(self) -> List[str]:
        """The cells listed now, best first (their names)."""
        return self.side.ranked_cells()
