"""The Generate tab's sampling area: pick a trained generator, set how adventurous the text is,
generate it streaming, shade it by confidence, copy or save it.

It is its own component so that what comes next lands here without touching the training
parts: more views of the samples beside the text (a grid of samples, a look inside the model)
go in ``views`` with ``add_view``; controls for scoring or steering by sentiment, and a line
under each sample (its novelty), go in ``extras`` with ``add_extra``.
"""
import random
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider, QTabWidget,
                               QVBoxLayout, QWidget)

from .common import dspin, save_text, set_placeholder, spin
from .widgets.sample_view import SampleView, confidence_legend

SAMPLE = "generate-sample"
# Sampling presets: (temperature, top-k, top-p); "Custom" is whatever the controls say
PRESETS = {"Safe": (0.5, 0, 0.9), "Balanced": (0.8, 0, 1.0), "Wild": (1.3, 0, 1.0)}
PRESET_TIPS = {"Safe": "Likely characters only: tidy, repetitive text",
               "Balanced": "Some surprise, mostly sensible: a good start (the default)",
               "Wild": "Adventurous: inventive words, more mistakes",
               "Custom": "Your own temperature, top-k and top-p"}


def sample_job(run_path: str, checkpoint: str, options: dict, chunk_seconds: float = 0.03):
    """A streaming engine job: yields lists of SampledChar, about every ``chunk_seconds``."""
    def run(should_stop):
        from engine.generator.load import load_generator
        from engine.generator.sample import Sampler
        model, vocab, _ = load_generator(run_path, checkpoint)
        chunk, last = [], time.monotonic()
        for ch in Sampler(model, vocab).generate(should_stop=should_stop, **options):
            chunk.append(ch)
            if time.monotonic() - last >= chunk_seconds:
                yield chunk
                chunk, last = [], time.monotonic()
        if chunk:
            yield chunk
    return run


def _labelled(grid: QGridLayout, row: int, column: int, text: str, widget: QWidget):
    """A label (with the widget's tooltip) and its widget, side by side in the grid."""
    label = QLabel(text)
    label.setToolTip(widget.toolTip())
    label.setBuddy(widget)
    grid.addWidget(label, row, column)
    grid.addWidget(widget, row, column + 1)


class SamplingPanel(QGroupBox):
    generating = Signal()                     # a text is about to be generated

    def __init__(self, engine, window, runs, parent=None):
        super().__init__("Generate text", parent)
        self.engine, self.window, self.runs = engine, window, runs
        self.checkpoint = QComboBox()
        self.checkpoint.addItems(["best", "last"])
        self.checkpoint.setToolTip("best: the point in training that scored best on held-out "
                                   "text; last: where training stopped")
        self.preset = QComboBox()
        for name in [*PRESETS, "Custom"]:
            self.preset.addItem(name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_TIPS[name], Qt.ToolTipRole)
        self.preset.setToolTip("How adventurous the text is: Safe, Balanced or Wild set the "
                               "temperature, top-k and top-p")
        self.temperature = QSlider(Qt.Horizontal)
        self.temperature.setRange(0, 200)
        self.temperature.setValue(80)
        self.temperature.setMinimumWidth(80)
        self.temperature.setToolTip("0: always the likeliest character; higher: more adventurous")
        self.temperature_label = QLabel("0.80")
        self.temperature_label.setToolTip(self.temperature.toolTip())
        self.top_k = spin(0, 1000, 0, "Keep only the k likeliest characters (0 = off)")
        self.top_p = dspin(0.01, 1.0, 1.0, "Keep the likeliest characters holding this much "
                           "probability (1 = off)", 0.05, 2)
        self.length = spin(1, 100000, 500, "Characters to generate", 100)
        self.seed = spin(0, 2**31 - 1, 1, "Same seed, same text")
        self.fixed_seed = QCheckBox("fixed seed")
        self.fixed_seed.setChecked(True)
        self.fixed_seed.setToolTip("On: the same settings give the same text again. Off: a new "
                                   "seed, and new text, each time")
        self.confidence = QCheckBox("shade by confidence")
        self.confidence.setToolTip("Shade unsure characters; hover to see the alternatives")
        self.confidence_legend = QLabel(confidence_legend())
        self.confidence_legend.setToolTip("How sure the model was of each character it wrote")
        self.confidence_legend.setVisible(False)
        self.prime = QLineEdit()
        self.prime.setPlaceholderText("Start with, e.g. ROMEO:")
        self.prime.setToolTip("The text starts with this, and the model continues it")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate text (Ctrl+G)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop generating")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the text")
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the text to a file")
        self.output = SampleView()
        for box in (self.top_k, self.top_p, self.length, self.seed):
            box.setMaximumWidth(110)
        self.views = QTabWidget()
        self.views.addTab(self.output, "Text")
        self.views.tabBar().setVisible(False)        # shown once there is a second view
        self.extras = QVBoxLayout()

        grid = QGridLayout()
        _labelled(grid, 0, 0, "Model", self.runs)
        grid.addWidget(self.checkpoint, 0, 2)
        _labelled(grid, 0, 3, "Style", self.preset)
        _labelled(grid, 0, 5, "Temperature", self.temperature)
        grid.addWidget(self.temperature_label, 0, 7)
        _labelled(grid, 1, 0, "Top-k", self.top_k)
        _labelled(grid, 1, 3, "Top-p", self.top_p)
        _labelled(grid, 1, 5, "Length", self.length)
        seed = QHBoxLayout()
        for w in (QLabel("Seed"), self.seed, self.fixed_seed):
            seed.addWidget(w)
        seed.itemAt(0).widget().setToolTip(self.seed.toolTip())
        seed.addStretch(1)
        shade = QHBoxLayout()
        shade.addWidget(self.confidence)
        shade.addWidget(self.confidence_legend)
        shade.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.prime, 1)
        for b in (self.generate_button, self.stop_button, self.copy_button, self.save_button):
            actions.addWidget(b)
        grid.setColumnStretch(6, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        options = QHBoxLayout()
        options.addLayout(seed)
        options.addLayout(shade, 1)
        layout.addLayout(options)
        layout.addLayout(actions)
        layout.addWidget(self.views, 1)
        layout.addLayout(self.extras)

        self.generate_button.clicked.connect(self.generate)
        self.stop_button.clicked.connect(lambda: self.engine.stop(SAMPLE))
        self.copy_button.clicked.connect(self.copy_output)
        self.save_button.clicked.connect(self.save_output)
        self.preset.currentTextChanged.connect(self._apply_preset)
        for control in (self.temperature, self.top_k, self.top_p):
            control.valueChanged.connect(lambda _: self._match_preset())
        self.temperature.valueChanged.connect(
            lambda v: self.temperature_label.setText(f"{v / 100:.2f}"))
        self.confidence.toggled.connect(self.confidence_legend.setVisible)
        engine.jobs_changed.connect(self.update_buttons)

    # ---- places for what comes next ------------------------------------------------------------
    def add_view(self, title: str, widget: QWidget):
        """Another view of the samples beside the text (a grid, a look inside)."""
        self.views.addTab(widget, title)
        self.views.tabBar().setVisible(True)

    def add_extra(self, widget: QWidget):
        """Controls or lines under the samples (scoring, steering, novelty)."""
        self.extras.addWidget(widget)

    # ---- generating ----------------------------------------------------------------------------
    def persisted(self) -> dict:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
                "prime": self.prime, "length": self.length, "sample_seed": self.seed,
                "fixed_seed": self.fixed_seed, "confidence": self.confidence}

    def options(self) -> dict:
        if not self.fixed_seed.isChecked():
            self.seed.setValue(random.randrange(2**31 - 1))
        return {"prime": self.prime.text(), "length": self.length.value(),
                "temperature": self.temperature.value() / 100.0,
                "top_k": self.top_k.value() or None,
                "top_p": self.top_p.value() if self.top_p.value() < 1.0 else None,
                "seed": self.seed.value()}

    def generate(self):
        if not self.runs.path() or self.engine.running(SAMPLE):
            return
        options = self.options()
        self.generating.emit()
        self.output.show_confidence = self.confidence.isChecked()
        self.output.start(options["prime"])
        self.engine.submit(SAMPLE, sample_job(self.runs.path(), self.checkpoint.currentText(),
                                              options),
                           on_event=self.output.append_chars, on_done=self._sampled,
                           on_error=lambda message: self.window.show_error("Cannot generate",
                                                                           message))

    def _sampled(self, _result):
        self.window.statusBar().showMessage(
            f"{len(self.output.generated_text()):,} characters generated.", 5000)

    def _apply_preset(self, name: str):
        if name in PRESETS:
            temperature, top_k, top_p = PRESETS[name]
            self.temperature.setValue(round(temperature * 100))
            self.top_k.setValue(top_k)
            self.top_p.setValue(top_p)

    def _match_preset(self):
        """The preset that the controls now match, or Custom."""
        now = (self.temperature.value() / 100, self.top_k.value(), round(self.top_p.value(), 2))
        name = next((n for n, v in PRESETS.items() if v == now), "Custom")
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)

    def copy_output(self):
        text = self.output.toPlainText()
        QGuiApplication.clipboard().setText(text)
        self.window.statusBar().showMessage(f"Copied {len(text):,} characters.", 5000)

    def save_output(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save the generated text", "sample.txt",
                                              "Text files (*.txt)")
        if path:
            self.write_output(path)

    def write_output(self, path: str):
        if save_text(self.window, path, self.output.toPlainText()):
            self.window.statusBar().showMessage(f"Saved to {path}", 8000)

    def update_buttons(self, *_):
        busy = self.engine.running(SAMPLE)
        # one engine thread: sampling waits while a model trains
        self.generate_button.setEnabled(not busy and not self.engine.training and
                                        bool(self.runs.path()))
        self.stop_button.setEnabled(busy)
        set_placeholder(
            self.output, "Generated text appears here. Press Generate." if self.runs.count() else
            "No text generator yet: pick a text on the left and press Train (a few minutes give "
            "a first result); then generate text here.")

