"""The Generate tab's sampling area: pick a trained generator, set how adventurous the text is
(the settings of ``SamplingConfig``, shared by every view), judge and steer it with a sentiment
model, and generate: one sample (streaming, shaded by confidence, copy, save, continue, look
inside) or many side by side (temperatures across, seeds down), each drawn by one engine job.
Under every sample: how much of it was copied from the training text, highlighted if asked.
"""
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QTabWidget, QToolButton, QVBoxLayout)

from engine.errors import StudioError
from engine.wording import in_app_words

from desktop.widgets.common import save_text, set_placeholder
from desktop.tabs.generate.one_sample import OneSample
from desktop.tabs.generate.sample_grid import GRID_JOB, SampleGrid, sample_job
from desktop.tabs.generate.sample_view import confidence_legend
from desktop.tabs.generate.sampling_settings import SamplingSettings, label
from desktop.tabs.generate.sentiment_choice import SentimentChoice

SAMPLE = "generate-sample"
ONE, MANY = "One sample", "Many samples"


class SamplingPanel(QGroupBox):
    generating = Signal()                     # a text is about to be generated
    room_wanted = Signal(bool)                # True: hide the training charts above
    look_inside_requested = Signal(str)       # look inside the model as it reads this text

    def __init__(self, engine, window, runs, parent=None):
        super().__init__("Generate text", parent)
        self.engine, self.window, self.runs = engine, window, runs
        self.checkpoint = QComboBox()
        self.checkpoint.addItems(["best", "last"])
        self.checkpoint.setToolTip("best: the point in training that scored best on held-out "
                                   "text; last: where training stopped")
        self.room = QToolButton()
        self.room.setCheckable(True)
        self.room.setToolTip("Give generating the whole column: the training charts hide until "
                             "you press this again or train")
        self.settings = SamplingSettings(self)
        self.sentiment = SentimentChoice()
        self.prime = self.settings.prime
        self.generate_button = QPushButton("Generate")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop generating")
        self.one = OneSample(engine)
        self.output = self.one.output
        self.grid = SampleGrid(engine)
        self.views = QTabWidget()
        self.views.addTab(self.one, ONE)
        self.views.addTab(self.grid, MANY)
        self.views.setTabToolTip(0, "One text, streaming, with its confidence and alternatives")
        self.views.setTabToolTip(1, "Many texts side by side: one per temperature and seed, all "
                                 "drawn together")
        self.confidence = QCheckBox("shade by confidence")
        self.confidence.setToolTip("Shade unsure characters; hover to see the alternatives")
        self.confidence_legend = QLabel(confidence_legend())
        self.confidence_legend.setToolTip("How sure the model was of each character it wrote")
        self.confidence_legend.setVisible(False)
        self.highlight = QCheckBox("highlight copied text")
        self.highlight.setToolTip("Mark the stretches found word for word in the training text "
                                  "(hover one to see where)")

        self.views.setCornerWidget(self.room)
        first = self.settings.first
        caption = QLabel("Model")
        caption.setToolTip(self.runs.toolTip())
        for i, w in enumerate((caption, self.runs, self.checkpoint)):
            first.insertWidget(i, w)
        actions = QHBoxLayout()
        start = QLabel(label("prime"))
        start.setToolTip(self.prime.toolTip())
        for w in (start, self.prime, self.confidence, self.highlight, self.generate_button,
                  self.stop_button):
            actions.addWidget(w, w is self.prime)
        self.one.footer.insertWidget(0, self.confidence_legend)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        for row in (first, self.settings.second):
            layout.addLayout(row)
        layout.addWidget(self.sentiment)
        layout.addLayout(actions)
        layout.addWidget(self.views, 1)

        self.generate_button.clicked.connect(self.generate)
        self.stop_button.clicked.connect(self.stop)
        self.room.toggled.connect(self._room_toggled)
        self.views.currentChanged.connect(self._view_changed)
        self.confidence.toggled.connect(self.confidence_legend.setVisible)
        self.highlight.toggled.connect(self._highlight)
        self.one.message.connect(lambda text: self.window.statusBar().showMessage(text, 5000))
        self.one.save_clicked.connect(self.save_output)
        self.one.continue_clicked.connect(lambda: self.generate_one(self.output.toPlainText()))
        self.one.look_inside_clicked.connect(self.look_inside_requested)
        self.grid.continue_requested.connect(self.continue_from)
        self.runs.currentIndexChanged.connect(lambda _: self.update_buttons())
        engine.jobs_changed.connect(self.update_buttons)
        self._room_toggled(False)
        self._view_changed(0)
        self.highlight.setChecked(True)

    # ---- generating ----------------------------------------------------------------------------
    def persisted(self) -> dict:
        return {**self.settings.persisted(), **self.sentiment.persisted(),
                **self.grid.axes.persisted(), "confidence": self.confidence,
                "highlight_copied": self.highlight}

    @property
    def busy(self) -> bool:
        return self.engine.running(SAMPLE) or self.engine.running(GRID_JOB)

    def generate(self):
        """Generate in the view shown: one sample, or the grid."""
        if self.views.currentWidget() is self.grid:
            self.generate_grid()
        else:
            self.generate_one()

    def _base(self, **overrides):
        """The shared settings as a SamplingConfig (None, and said, if they are refused)."""
        try:
            return self.settings.config(**self.sentiment.steering(), **overrides)
        except StudioError as err:
            self.window.show_error("Cannot generate", err)
            return None

    def generate_one(self, prime: str = None):
        """One sample (``prime``: the text to go on from; default the Prime box)."""
        if not self.runs.path() or self.busy:
            return
        base = self._base(**({} if prime is None else {"prime": prime}))
        if base is None:
            return
        from engine.generator.sampling.grid import make_grid
        self.generating.emit()
        self.views.setCurrentWidget(self.one)
        self.one.start(base.prime, self.confidence.isChecked())
        label = self.sentiment.steer_label()
        self.one.novelty.setText(f"Writing… steered toward {label}: {base.candidates} candidate "
                                 f"lines at each {base.steer_at} end" if label else "Writing…")
        run = self.runs.path()
        self.engine.submit(SAMPLE, sample_job(run, self.checkpoint.currentText(),
                                              make_grid(base, {}), self.sentiment.judge_path(),
                                              self.sentiment.steer_label()),
                           on_event=self.one.on_event, on_done=lambda _: self._sampled(run),
                           on_error=lambda message: self.window.show_error("Cannot generate",
                                                                           message))

    def generate_grid(self):
        if not self.runs.path() or self.busy:
            return
        base = self._base()
        if base is None:
            return
        self.generating.emit()
        self.grid.set_run(self.runs.path(), self.checkpoint.currentText())
        try:
            self.grid.start(base, self.grid.axes.values(), self.sentiment.judge_path(),
                            self.sentiment.steer_label())
        except StudioError as err:                # a list that is no list
            self.grid.status.setText(in_app_words(err))

    def continue_from(self, text: str, settings: dict):
        """A grid cell chosen: its settings here, and its text goes on in the One sample view."""
        self.settings.set_values(settings)
        self.generate_one(text)

    def stop(self):
        self.engine.stop(SAMPLE)
        self.grid.stop()

    def _sampled(self, run: str):
        self.window.statusBar().showMessage(
            f"{len(self.output.generated_text()):,} characters generated.", 5000)
        self.one.checker.check(run)

    def _highlight(self, on: bool):
        self.one.checker.set_highlight(on)
        self.grid.set_highlight(on)

    def save_output(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save the generated text", "sample.txt",
                                              "Text files (*.txt)")
        if path:
            self.write_output(path)

    def write_output(self, path: str):
        if save_text(self.window, path, self.output.toPlainText()):
            self.window.statusBar().showMessage(f"Saved to {path}", 8000)

    # ---- the room it takes ---------------------------------------------------------------------
    def _room_toggled(self, on: bool):
        self.room.setText("Show charts" if on else "Hide charts")
        self.room_wanted.emit(on)

    def give_room(self, on: bool):
        """Take the whole column (True) or share it with the training charts (False)."""
        self.room.setChecked(on)

    def _view_changed(self, _index: int):
        many = self.views.currentWidget() is self.grid
        self.generate_button.setText("Generate all" if many else "Generate")
        self.generate_button.setToolTip("Generate every sample of the grid together (Ctrl+G)"
                                        if many else "Generate text (Ctrl+G)")
        for w in (self.settings.temperature, self.settings.temperature_box,
                  self.settings.temperature_hint):
            w.setEnabled(not many)         # the grid has its list of temperatures
        if many:
            self.give_room(True)           # side by side needs the height

    def update_buttons(self, *_):
        busy = self.busy
        # one engine thread: sampling waits while a model trains
        self.generate_button.setEnabled(not busy and not self.engine.training and
                                        bool(self.runs.path()))
        self.stop_button.setEnabled(busy)
        self.one.set_buttons(busy)
        set_placeholder(
            self.output, "Generated text appears here. Press Generate." if self.runs.count() else
            "No text generator yet: pick a text on the left and press Train (a few minutes give "
            "a first result); then generate text here.")
