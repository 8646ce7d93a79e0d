"""The Write tab: the person's own document, with suggestions from a generator run they pick.

All model work is on the engine's interactive lane (``engine.submit(..., lane=INTERACTIVE)``,
desktop/workers.py), so a suggestion never waits behind a training: loading the run, keeping
the state at the cursor (engine/generator/writing.py: only the changed tail is read, a short
while after each edit or move) and drawing suggestions. The tab's model (and its Steer toward
judge) is loaded on that lane and used there only. The document is never lost: saves are atomic
(engine/storage/documents.py) and refuse to overwrite a file changed on disk without asking,
and an autosave copy is written every few seconds while there are unsaved changes; after a
crash or a kill -9 the next start offers it back."""
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from engine.config import SamplingConfig, settings_of
from engine.errors import StudioError
from engine.generator.writing import ENDS
from engine.kinds import GENERATOR
from engine.storage import documents
from engine.wording import in_app_words

from desktop.tabs.generate.sampling_settings import labelled
from desktop.tabs.generate.sentiment_choice import SentimentChoice
from desktop.tabs.write.editor import SuggestEditor
from desktop.widgets.run_picker import RunPicker
from desktop.widgets.settings_form import setting_widget, widget_value
from desktop.workers import INTERACTIVE

AUTOSAVE_MS = 3000
READ_AFTER_MS = 300              # the state follows the cursor this long after the last key
JOB = "write"
FILES = "Text (*.txt *.md);;All files (*)"


def _field(name: str):
    return next(f for f in settings_of(SamplingConfig) if f.name == name)


class WriteTab(QWidget):
    def __init__(self, engine, window, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.doc = documents.Document(None)
        self.state = None                    # WritingState, on the interactive lane only
        self.loaded = None                   # the run path the state is for
        self.asked_at = None
        self.drafts = []
        self._build()
        self.autosave = QTimer(self)
        self.autosave.timeout.connect(self.save_draft)
        self.autosave.start(AUTOSAVE_MS)
        self.follow = QTimer(self, singleShot=True, interval=READ_AFTER_MS)
        self.follow.timeout.connect(self.read_to_cursor)
        self.refresh_runs()
        self.offer_recovery()

    # ---- layout ------------------------------------------------------------------------------
    def _build(self):
        self.runs = RunPicker(GENERATOR)
        self.runs.currentIndexChanged.connect(lambda *_: self.load_run())
        self.temperature = setting_widget(SamplingConfig, _field("temperature"))
        self.ends = QComboBox()
        self.ends.addItems(ENDS)
        self.ends.setToolTip("Where each suggestion ends: at a word, line or sentence end")
        self.count = QSpinBox()
        self.count.setRange(1, 8)
        self.count.setValue(3)
        self.count.setToolTip("How many suggestions are drawn at once (Up/Down cycle them)")
        self.suggest_button = QPushButton("Suggest (Tab)")
        self.suggest_button.setToolTip("Suggestions at the cursor: Up/Down cycle, Tab or "
                                       "Return accepts, Esc rejects")
        self.suggest_button.clicked.connect(self.ask)
        open_button, save_button, save_as = (QPushButton("Open…"), QPushButton("Save"),
                                             QPushButton("Save as…"))
        open_button.clicked.connect(self.open_file)
        save_button.clicked.connect(self.save)
        save_as.clicked.connect(self.save_as)
        top = QHBoxLayout()
        labelled(top, "Model", self.runs)
        labelled(top, "Temperature", self.temperature)
        labelled(top, "Ends at", self.ends)
        labelled(top, "Suggestions", self.count)
        top.addWidget(self.suggest_button)
        top.addStretch(1)
        for b in (open_button, save_button, save_as):
            top.addWidget(b)
        self.sentiment = SentimentChoice()
        self.sentiment.per_item("suggestion")
        self.judges = {}                     # sentiment run path -> its predictor (its lane)
        self.recovery = QWidget()
        bar = QHBoxLayout(self.recovery)
        bar.setContentsMargins(0, 0, 0, 0)
        self.recovery_text = QLabel()
        self.restore_button, discard = QPushButton("Restore"), QPushButton("Discard")
        self.restore_button.clicked.connect(self.restore)
        discard.clicked.connect(self.discard_drafts)
        bar.addWidget(self.recovery_text, 1)
        bar.addWidget(self.restore_button)
        bar.addWidget(discard)
        self.recovery.hide()
        self.editor = SuggestEditor()
        self.editor.setPlaceholderText("Write here. Press Tab for suggestions from the model.")
        self.editor.wanted.connect(self.ask)
        self.editor.shown.connect(self.show_which)
        self.editor.settled.connect(lambda: self.which.clear())
        self.editor.textChanged.connect(self.edited)
        self.editor.cursorPositionChanged.connect(self.moved)
        self.which = QLabel()
        self.which.setToolTip("Which suggestion shows, and whether it is copied from the "
                              "training text")
        self.status = QLabel()
        self.status.setWordWrap(True)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.sentiment)
        column.addWidget(self.recovery)
        column.addWidget(self.editor, 1)
        column.addWidget(self.which)
        column.addWidget(self.status)
        self.suggestions = []

    # ---- the model ---------------------------------------------------------------------------
    def refresh_runs(self, select: str = None):
        """The list of generators; the chosen one is loaded once this tab is in view (loading
        it unseen would keep the engine busy, and the Models tab's Delete waits for it)."""
        self.runs.refresh(select)
        self.sentiment.refresh_runs()
        self.suggest_button.setEnabled(self.runs.count() > 0)
        if self.isVisible() and self.runs.count() and self.loaded != self.runs.path():
            self.load_run()

    def showEvent(self, event):
        super().showEvent(event)
        if self.runs.count() and self.loaded != self.runs.path():
            self.load_run()

    def load_run(self):
        path = self.runs.path()
        if not path or path == self.loaded:
            return
        self.loaded, self.state = path, None
        self.status.setText(f"Loading {self.runs.currentText()}…")

        def load(should_stop):
            from engine.generator.load import load_generator
            from engine.generator.sampling.novelty import run_index
            from engine.generator.sampling.sample import Sampler
            from engine.generator.writing import WritingState
            model, vocab, meta = load_generator(path)
            try:
                index = run_index(meta, vocab)
            except (StudioError, OSError):
                index = None            # suggestions go on without their novelty
            return WritingState(Sampler(model, vocab), index)
        self.engine.submit(JOB, load, on_done=lambda state: self._loaded(path, state),
                           on_error=self.failed, streams=False, lane=INTERACTIVE)

    def _loaded(self, path, state):
        if path != self.loaded:
            return
        self.state = state
        novelty = "" if state.index is not None else " (its training text is gone: no novelty)"
        self.status.setText(f"{self.runs.currentText()} is ready{novelty}. Press Tab for "
                            f"suggestions.")
        self.read_to_cursor()

    def failed(self, message: str):
        self.status.setText(message)

    def _run_gone(self) -> bool:
        if self.loaded and not Path(self.loaded).exists():
            self.status.setText(f"The model {Path(self.loaded).name} was deleted while in use; "
                                f"pick another one under Model (your text is untouched).")
            self.state, self.loaded = None, None
            self.refresh_runs()
            return True
        return False

    # ---- following the cursor ----------------------------------------------------------------
    def edited(self):
        if not self.editor.showing:
            self.follow.start()

    def moved(self):
        if not self.editor.showing:
            self.follow.start()

    def read_to_cursor(self):
        state = self.state
        if state is None or self.editor.options or self.engine.running(JOB):
            return
        before = self.editor.before_cursor()

        def read(should_stop):
            state.move_to(before)
            return state.news()
        self.engine.submit(JOB, read, on_done=self.tell_unknown, on_error=self.failed,
                           streams=False, uses_runs=False, lane=INTERACTIVE)

    def tell_unknown(self, chars):
        if chars:
            shown = " ".join(repr(c)[1:-1] if c.isspace() else c for c in chars)
            self.status.setText(f"The model cannot see these characters (they are skipped, "
                                f"suggestions go on): {shown}")

    # ---- suggestions -------------------------------------------------------------------------
    def ask(self):
        if self._run_gone():
            return
        state = self.state
        if state is None:
            self.status.setText("Pick a trained model under Model first (train one in the "
                                "Generate tab).")
            return
        before = self.editor.before_cursor()
        position = len(before)
        settings = dict(count=self.count.value(), end=self.ends.currentText(),
                        temperature=float(widget_value(self.temperature)),
                        candidates=self.sentiment.strength.value())
        judge_path, label = self.sentiment.judge_path(), self.sentiment.steer_label()

        def suggest(should_stop):
            judge = self._judge(judge_path, label) if judge_path and label else None
            state.move_to(before)
            return (state.suggest(length=40, should_stop=should_stop, judge=judge, **settings),
                    state.news())
        self.asked_at = time.perf_counter()
        self.engine.submit(JOB, suggest, on_done=lambda result: self.show(result, position),
                           on_error=self.failed, streams=False, lane=INTERACTIVE)

    def _judge(self, path, label):
        """The Steer toward judge, its sentiment model loaded once per run (interactive lane)."""
        from engine.generator.sampling.steer import Judge
        if path not in self.judges:
            self.judges[path] = Judge.load(path).predictor
        return Judge(self.judges[path], label)

    def show(self, result, position):
        suggestions, unknown = result
        self.tell_unknown(unknown)
        self.suggestions = suggestions
        if not suggestions:
            self.status.setText("The model had nothing to suggest here.")
        self.editor.offer([s.text for s in suggestions], position)
        self.editor.setFocus()

    def show_which(self, current: int, count: int):
        novelty = self.suggestions[current].novelty() if current < len(self.suggestions) else ""
        self.which.setText(f"Suggestion {current + 1} of {count}"
                           + (f": {novelty}" if novelty else "")
                           + ". Up/Down: another, Tab/Return: take it, Esc: no.")

    # ---- files -------------------------------------------------------------------------------
    def load_text(self, doc, text):
        self.editor.reject()
        self.doc = doc
        self.editor.setPlainText(text)
        self.editor.document().setModified(False)
        self.window.setWindowTitle(f"RNN Studio: {doc.name}")

    def open_file(self, path=None):
        if self.editor.document().isModified() and QMessageBox.question(
                self, "Unsaved text", "Open another document and leave the unsaved changes "
                "(their autosave copy is kept)?") != QMessageBox.Yes:
            return
        path = path or QFileDialog.getOpenFileName(self, "Open a document", "", FILES)[0]
        if not path:
            return
        try:
            self.load_text(*documents.open_document(path))
        except StudioError as err:
            self.window.show_error("Cannot open the document", in_app_words(err))

    def save_as(self):
        path = QFileDialog.getSaveFileName(self, "Save the document", "", FILES)[0]
        if path:
            self.doc = documents.Document(Path(path), self.doc.encoding, self.doc.newline)
            self.save()

    def save(self, overwrite_changes=False):
        if self.doc.path is None:
            return self.save_as()
        try:
            documents.save_document(self.doc, self.editor.text(), overwrite_changes)
        except StudioError as err:
            if "changed on disk" in str(err) and QMessageBox.question(
                    self, "Changed on disk", in_app_words(err) + ". Overwrite them?"
                    ) == QMessageBox.Yes:
                return self.save(overwrite_changes=True)
            self.window.show_error("Not saved", in_app_words(err))
            return
        self.editor.document().setModified(False)
        documents.remove_draft()
        self.status.setText(f"Saved {self.doc.path}.")

    # ---- autosave and recovery ---------------------------------------------------------------
    def save_draft(self):
        if self.editor.document().isModified():
            try:
                documents.save_draft(self.doc, self.editor.text())
            except OSError as err:
                self.status.setText(f"The autosave copy could not be written: {err}")

    def offer_recovery(self):
        self.drafts = documents.orphaned_drafts()
        if not self.drafts:
            return
        draft = self.drafts[0]
        when = time.strftime("%H:%M on %d %b", time.localtime(draft.saved_at))
        self.recovery_text.setText(
            f"RNN Studio closed with unsaved text in {draft.doc.name} (autosaved at {when}, "
            f"{len(draft.text):,} characters). Restore it?")
        self.recovery.show()

    def restore(self):
        draft = self.drafts[0]
        doc = draft.doc
        if doc.path is not None and doc.path.exists():
            doc.stamp = documents._stamp(doc.path)      # the draft is newer than the file
        self.load_text(doc, draft.text)
        self.editor.document().setModified(True)
        self.save_draft()
        self.discard_drafts()

    def discard_drafts(self):
        for draft in self.drafts:
            draft.file.unlink(missing_ok=True)
        self.drafts = []
        self.recovery.hide()
