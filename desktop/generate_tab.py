"""The Generate tab: pick a text, train a character model while watching it learn, then sample."""
import json
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QRadioButton, QSlider,
                               QSplitter, QVBoxLayout, QWidget)

import corpora
from engine.config import GeneratorConfig, TrainConfig, settings_of
from engine.events import Finished, SampleReady, Started

from .common import (dspin, plain_words, select_or_add, settings_column, settle_run_name,
                     side_by_side, spin)
from .run_summary import bits
from .settings_form import SettingsForm, setting_widget
from .settings import restore_widgets, save_widgets, settings
from .widgets.sample_view import SampleView, confidence_legend
from .widgets.training_panel import TrainingPanel

TRAIN, SAMPLE, INSPECT = "gen-train", "gen-sample", "gen-inspect"
# Training presets: settings, a minutes budget, and what to expect, as measured on this kind of
# 2-core machine on the built-in Shakespeare (validation bits per character: 2.41 after 2 min at
# hidden 256, 2.13 after 10 min with the defaults; README "Quality")
TRAINING_PRESETS = {
    "Quick try": ({"hidden_size": 256, "num_layers": 2, "embed_size": 64}, 2,
                  "about 2.4 bits per character: speakers and verse lines, many real words, "
                  "many made-up ones"),
    "Good": ({"hidden_size": 512, "num_layers": 2, "embed_size": 64}, 10,
             "about 2.1 bits per character: mostly real words and phrases, little sense"),
}
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


class GenerateTab(QWidget):
    runs_changed = Signal()

    def __init__(self, engine, window, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.setAcceptDrops(True)
        self.report = None
        self._build()
        restore_widgets("generate", self._persisted())
        self._match_preset()
        self._match_training_preset()
        self._restore_corpus()
        self.refresh_runs()
        engine.jobs_changed.connect(self._update_buttons)
        self._update_buttons()

    # ---- layout --------------------------------------------------------------------------------
    def _build(self):
        corpus_box = QGroupBox("Text to learn from")
        self.corpus = QComboBox()
        self.corpus.setToolTip("A built-in corpus, or a UTF-8 text file (drop one on this tab)")
        for entry in corpora.REGISTRY.values():
            if entry.kind == "text":
                self.corpus.addItem(f"{entry.name} (built-in)", entry.name)
        self.open_file = QPushButton("Open file…")
        self.encoding = QComboBox()
        self.encoding.addItems(["utf-8", "cp1252", "latin-1", "utf-16"])
        self.encoding.setToolTip("How the file's characters are stored. It is guessed when you "
                                 "open a file (most are UTF-8); each text keeps its own.")
        self._encodings = {}    # source -> encoding, guessed when a file is added or chosen
        self.corpus_info = QLabel("…")
        self.corpus_info.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #d9822b")
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setMaximumHeight(110)
        row = QHBoxLayout()
        row.addWidget(self.corpus, 1)
        row.addWidget(self.open_file)
        form = QVBoxLayout(corpus_box)
        form.addLayout(row)
        enc = QHBoxLayout()
        enc.addWidget(QLabel("Encoding"))
        enc.addWidget(self.encoding)
        enc.addStretch(1)
        form.addLayout(enc)
        form.addWidget(self.corpus_info)
        form.addWidget(self.warnings)
        form.addWidget(self.preview)

        model_box = QGroupBox("Model and training")
        self.training_preset = QComboBox()
        self.training_preset.addItems([*TRAINING_PRESETS, "Custom"])
        self.training_preset.setToolTip("Ready-made settings, with what they give on this kind "
                                        "of computer; change any setting for your own")
        self.expectation = QLabel()
        self.expectation.setWordWrap(True)
        self.form = SettingsForm([(GeneratorConfig, None), (TrainConfig, "generator")],
                                 skip=("epochs", "minutes", "ctx", "kvstore"))
        budget_fields = {f.name: f for f in settings_of(TrainConfig, "generator")}
        self.by_minutes = QRadioButton("minutes")
        self.by_epochs = QRadioButton("epochs")
        self.by_minutes.setChecked(True)
        self.by_minutes.setToolTip("Train for this many minutes")
        self.by_epochs.setToolTip("Train for this many passes over the text")
        self.minutes = setting_widget(TrainConfig, budget_fields["minutes"])
        self.epochs = setting_widget(TrainConfig, budget_fields["epochs"])
        self.run_name = QLineEdit("my-model")
        self.run_name.setToolTip("The model's name in the Models tab (letters, digits, . _ -)")
        self.run_name.textChanged.connect(lambda _: self._update_buttons())
        budget = QHBoxLayout()
        budget.addWidget(self.by_minutes)
        budget.addWidget(self.minutes)
        budget.addWidget(self.by_epochs)
        budget.addWidget(self.epochs)
        budget_row = QWidget()
        budget_row.setLayout(budget)
        budget.setContentsMargins(0, 0, 0, 0)
        self.form.add_row("Budget", budget_row)
        self.form.add_row("Run name", self.run_name)
        box = QVBoxLayout(model_box)
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset"))
        preset_row.addWidget(self.training_preset, 1)
        box.addLayout(preset_row)
        box.addWidget(self.expectation)
        box.addWidget(self.form)
        self.training_preset.currentTextChanged.connect(self._apply_training_preset)
        for name in ("hidden_size", "num_layers", "embed_size"):
            self.form[name].valueChanged.connect(lambda _: self._match_training_preset())
        self.minutes.valueChanged.connect(lambda _: self._match_training_preset())
        self.by_epochs.toggled.connect(lambda _: self._match_training_preset())
        self.panel = TrainingPanel("Loss (nats per character)", "chars")
        self.panel.status.setText("Pick a text and press Train.")
        scroll = settings_column(corpus_box, model_box, self.panel.buttons)

        train_panel = QWidget()
        tv = QVBoxLayout(train_panel)
        self.live_sample = QPlainTextEdit()
        self.live_sample.setReadOnly(True)
        self.live_sample.setPlaceholderText("A sample appears after each validation.")
        self.live_sample.setMaximumHeight(120)
        tv.addWidget(self.panel, 1)
        tv.addWidget(self.live_sample)

        sample_box = QGroupBox("Generate text")
        sv = QVBoxLayout(sample_box)
        self.sample_run = QComboBox()
        self.sample_run.setToolTip("A trained generator (see the Models tab)")
        self.checkpoint = QComboBox()
        self.checkpoint.addItems(["best", "last"])
        self.checkpoint.setToolTip("best: the point in training that scored best on held-out "
                                   "text; last: where training stopped")
        self.temperature = QSlider(Qt.Horizontal)
        self.temperature.setRange(0, 200)
        self.temperature.setValue(80)
        self.temperature.setToolTip("0: always the likeliest character; higher: more adventurous")
        self.temperature_label = QLabel("0.80")
        self.preset = QComboBox()
        for name in [*PRESETS, "Custom"]:
            self.preset.addItem(name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_TIPS[name], Qt.ToolTipRole)
        self.preset.setToolTip("How adventurous the text is: Safe, Balanced or Wild set the "
                               "temperature, top-k and top-p beside it")
        self.top_k = spin(0, 1000, 0, "Keep only the k likeliest characters (0 = off)")
        self.top_p = dspin(0.01, 1.0, 1.0, "Keep the likeliest characters holding this much "
                           "probability (1 = off)", 0.05, 2)
        self.prime = QLineEdit()
        self.prime.setPlaceholderText("Prime text, e.g. ROMEO:")
        self.prime.setToolTip("The text starts with this, and the model continues it")
        self.length = spin(1, 100000, 500, "Characters to generate", 100)
        self.sample_seed = spin(0, 2**31 - 1, 1, "Same seed, same text")
        self.fixed_seed = QCheckBox("fixed seed")
        self.fixed_seed.setChecked(True)
        self.fixed_seed.setToolTip("On: the same settings give the same text again. Off: a new "
                                   "seed, and new text, each time")
        self.confidence = QCheckBox("shade by confidence")
        self.confidence.setToolTip("Shade unsure characters; hover to see the alternatives")
        self.confidence_legend = QLabel(confidence_legend())
        self.confidence_legend.setToolTip("How sure the model was of each character it wrote")
        self.confidence_legend.setVisible(False)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate text (Ctrl+G)")
        self.stop_sample_button = QPushButton("Stop")
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save…")
        self.output = SampleView()
        r1 = QHBoxLayout()
        r1.addWidget(QLabel("Model"))
        r1.addWidget(self.sample_run, 1)
        r1.addWidget(self.checkpoint)
        r1.addWidget(QLabel("Style"))
        r1.addWidget(self.preset)
        r1.addWidget(QLabel("Temperature"))
        r1.addWidget(self.temperature, 1)
        r1.addWidget(self.temperature_label)
        r2 = QHBoxLayout()
        for label, w in (("Top-k", self.top_k), ("Top-p", self.top_p), ("Length", self.length),
                         ("Seed", self.sample_seed)):
            r2.addWidget(QLabel(label))
            r2.addWidget(w)
        r2.addWidget(self.fixed_seed)
        r2.addWidget(self.confidence)
        r2.addWidget(self.confidence_legend)
        r3 = QHBoxLayout()
        r3.addWidget(self.prime, 1)
        for b in (self.generate_button, self.stop_sample_button, self.copy_button, self.save_button):
            r3.addWidget(b)
        sv.addLayout(r1)
        sv.addLayout(r2)
        sv.addLayout(r3)
        sv.addWidget(self.output, 1)

        right = QSplitter(Qt.Vertical)
        right.addWidget(train_panel)
        right.addWidget(sample_box)
        right.setSizes([380, 420])
        QVBoxLayout(self).addWidget(side_by_side(scroll, right))

        for name in ("num_layers", "hidden_size", "embed_size"):
            self.form[name].valueChanged.connect(lambda _: self._show_report())
        self.form["mode"].currentIndexChanged.connect(lambda _: self._show_report())
        self.corpus.currentIndexChanged.connect(lambda _: self._source_changed())
        self.encoding.currentIndexChanged.connect(lambda _: self._encoding_chosen())
        self.open_file.clicked.connect(self.choose_file)
        self.panel.train_clicked.connect(lambda: self.start_training(resume=False))
        self.panel.resume_clicked.connect(lambda: self.start_training(resume=True))
        self.panel.stop_clicked.connect(lambda: self.engine.stop(TRAIN))
        self.generate_button.clicked.connect(self.generate)
        self.stop_sample_button.clicked.connect(lambda: self.engine.stop(SAMPLE))
        self.copy_button.clicked.connect(self.copy_output)
        self.preset.currentTextChanged.connect(self._apply_preset)
        for control in (self.temperature, self.top_k, self.top_p):
            control.valueChanged.connect(lambda _: self._match_preset())
        self.save_button.clicked.connect(self.save_output)
        self.temperature.valueChanged.connect(
            lambda v: self.temperature_label.setText(f"{v / 100:.2f}"))
        self.confidence.toggled.connect(lambda on: setattr(self.output, "show_confidence", on))
        self.confidence.toggled.connect(self.confidence_legend.setVisible)

    def _persisted(self):
        """Every setting the tab offers: the form's (one per config field) and the rest."""
        return {**self.form.widgets,
                "by_minutes": self.by_minutes, "by_epochs": self.by_epochs, "minutes": self.minutes,
                "epochs": self.epochs, "run_name": self.run_name,
                "temperature": self.temperature, "top_k": self.top_k,
                "top_p": self.top_p, "prime": self.prime, "length": self.length,
                "sample_seed": self.sample_seed, "fixed_seed": self.fixed_seed,
                "confidence": self.confidence}

    def save_settings(self):
        save_widgets("generate", self._persisted())
        s = settings()
        s.setValue("generate/corpus", self.corpus.currentData() or "")
        s.setValue("generate/encodings", json.dumps(self._encodings))
        s.setValue("generate/sample_run", self.sample_run.currentText())

    def _restore_corpus(self):
        try:
            saved = json.loads(settings().value("generate/encodings", "{}") or "{}")
            self._encodings = {str(k): str(v) for k, v in saved.items()
                               if self.encoding.findText(str(v)) >= 0}
        except (TypeError, ValueError, AttributeError):
            self._encodings = {}
        last = settings().value("generate/corpus", "")
        if last and last not in corpora.REGISTRY and Path(last).is_file():
            self.add_file(last, inspect=False)
        elif last:
            index = self.corpus.findData(last)
            if index >= 0:
                self.corpus.blockSignals(True)
                self.corpus.setCurrentIndex(index)
                self.corpus.blockSignals(False)
        self._source_changed()

    # ---- corpus --------------------------------------------------------------------------------
    def choose_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open a text file", "",
                                              "Text files (*.txt *.md);;All files (*)")
        if path:
            self.add_file(path)

    def add_file(self, path: str, inspect: bool = True):
        from engine.text import guess_encoding
        path = str(path)
        if path not in self._encodings:
            self._encodings[path] = guess_encoding(path)
        select_or_add(self.corpus, path)
        self._show_encoding()
        if inspect:
            self.inspect_corpus()

    def _show_encoding(self):
        """Show the current source's own encoding: a built-in corpus is always UTF-8, a file
        keeps the one guessed for it or chosen for it (never the previous text's)."""
        ref = self.corpus.currentData()
        builtin = ref in corpora.REGISTRY
        self.encoding.blockSignals(True)
        self.encoding.setCurrentText("utf-8" if builtin else self._encodings.get(ref, "utf-8"))
        self.encoding.blockSignals(False)
        self.encoding.setEnabled(not builtin)

    def _source_changed(self):
        self._show_encoding()
        self.inspect_corpus()

    def _encoding_chosen(self):
        ref = self.corpus.currentData()
        if ref and ref not in corpora.REGISTRY:
            self._encodings[ref] = self.encoding.currentText()
        self.inspect_corpus()

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.add_file(url.toLocalFile())
                break

    def model_config(self) -> GeneratorConfig:
        return GeneratorConfig(**self.form.values(GeneratorConfig))

    def train_config(self) -> TrainConfig:
        minutes = self.minutes.value() if self.by_minutes.isChecked() else None
        epochs = self.epochs.value() if self.by_epochs.isChecked() else None
        return TrainConfig(**self.form.values(TrainConfig), minutes=minutes, epochs=epochs)

    def inspect_corpus(self):
        ref, encoding = self.corpus.currentData(), self.encoding.currentText()
        if not ref:
            return
        self.corpus_info.setText("Reading the text…")
        self.warnings.clear()
        self.report = None                  # Train waits until the text is known to be good
        self._update_buttons()
        model, train = self.model_config(), self.train_config()

        def run(should_stop):
            from engine.generator.inspect import corpus_report
            path, name = corpora.resolve_text_source(ref)
            return dict(corpus_report(path, encoding, model, train), name=name)
        self.engine.submit(INSPECT, run, on_done=self._show_corpus,
                           on_error=self._corpus_refused, streams=False, uses_runs=False)

    # ---- training ------------------------------------------------------------------------------
    def start_training(self, resume: bool):
        if self.engine.running(TRAIN):
            return
        resume = settle_run_name(self, resume)
        if resume is None:
            return
        from engine.errors import StudioError
        from engine.generator.train import CorpusRef, train_generator
        from engine.runs import resolve_run
        try:
            run_dir = resolve_run(self.run_name.text().strip(), must_exist=resume, allow_path=False)
            model, train = self.model_config(), self.train_config()
        except StudioError as err:
            self.window.show_error("Cannot train", str(err))
            return
        ref, encoding = self.corpus.currentData(), self.encoding.currentText()
        self.save_settings()

        def run(should_stop):
            corpus = None
            if not resume:
                path, name = corpora.resolve_text_source(ref)
                corpus = CorpusRef(str(path), name, encoding)
            return train_generator(run_dir, corpus, model, train, resume=resume,
                                   should_stop=should_stop)
        self.live_sample.clear()
        self.panel.starting("Preparing the text…")
        self.engine.submit(TRAIN, run, on_event=self._on_training_event,
                           on_error=self._training_failed)

    def _on_training_event(self, ev):
        self.panel.display(ev)
        if isinstance(ev, Started):
            self._load_history(ev.run_dir)
            self.panel.status.setText(f"{ev.parameters:,} parameters, "
                                      f"{ev.info.get('chars', 0):,} characters, "
                                      f"{ev.info.get('vocab', 0)} distinct. Training…")
        elif isinstance(ev, SampleReady):
            self.live_sample.setPlainText(ev.text)
        elif isinstance(ev, Finished):
            best = (f", best validation {bits(ev.best_val_loss):.3f} bits/char"
                    if ev.best_val_loss else "")
            self.panel.status.setText(f"{ev.reason.capitalize()} at step {ev.step:,}{best}. "
                                      f"Saved.")
            self.runs_changed.emit()
            self.refresh_runs(select=Path(ev.run_dir).name)

    def _training_failed(self, message: str):
        self.panel.failed()
        self.window.show_error("Training failed", message)

    def _load_history(self, run_dir):
        """On resume, draw what the run had learned before."""
        from engine.errors import StudioError
        from engine.runs import RunFolder
        try:
            self.panel.load_history(RunFolder(run_dir).read_meta().history)
        except StudioError:
            return

    def _show_report(self):
        """The corpus facts, with the parameter count of the model as it is set up now."""
        from engine.generator.inspect import parameter_count
        r = self.report
        if not r:
            return
        params = parameter_count(self.model_config(), r["vocab"])
        self.corpus_info.setText(
            f"<b>{r['name']}</b>: {r['chars']:,} characters, {r['vocab']} distinct; this model: "
            f"{params:,} parameters ({params / max(1, r['chars']):.2f} per character).")

    def _show_corpus(self, report: dict):
        self.report = report
        self._update_buttons()
        self._show_report()
        self.warnings.setText("\n".join(report["warnings"]))
        self.preview.setPlainText(report["preview"])

    def _corpus_refused(self, message: str):
        self.report = None
        self.corpus_info.setText("This file cannot be trained on.")
        self.warnings.setText(plain_words(message))
        self.preview.clear()
        self._update_buttons()

    # ---- sampling ------------------------------------------------------------------------------
    def refresh_runs(self, select: str = None):
        current = select or self.sample_run.currentText() or settings().value("generate/sample_run", "")
        self.sample_run.blockSignals(True)
        self.sample_run.clear()
        from engine.runs import list_runs
        for r in list_runs(kind="generator"):
            self.sample_run.addItem(r["name"], r["path"])
        index = self.sample_run.findText(current)
        if index >= 0:
            self.sample_run.setCurrentIndex(index)
        self.sample_run.blockSignals(False)
        self.output.setPlaceholderText(
            "Generated text appears here. Press Generate." if self.sample_run.count() else
            "No text generator yet: pick a text on the left and press Train (a few minutes "
            "give a first result); then generate text here.")
        self._update_buttons()

    def select_run(self, name: str):
        """Show a trained model: its curves, ready to generate from or resume."""
        self.refresh_runs(select=name)
        self.run_name.setText(name)
        if self.sample_run.currentData():
            self.panel.reset(f"{name}: loaded.")
            self._load_history(self.sample_run.currentData())

    def sample_options(self) -> dict:
        if not self.fixed_seed.isChecked():
            import random
            self.sample_seed.setValue(random.randrange(2**31 - 1))
        return {"prime": self.prime.text(), "length": self.length.value(),
                "temperature": self.temperature.value() / 100.0,
                "top_k": self.top_k.value() or None,
                "top_p": self.top_p.value() if self.top_p.value() < 1.0 else None,
                "seed": self.sample_seed.value()}

    def generate(self):
        if self.sample_run.count() == 0 or self.engine.running(SAMPLE):
            return
        options = self.sample_options()
        self.output.show_confidence = self.confidence.isChecked()
        self.output.start(options["prime"])
        self.save_settings()
        self.engine.submit(SAMPLE, sample_job(self.sample_run.currentData(),
                                              self.checkpoint.currentText(), options),
                           on_event=self.output.append_chars, on_done=self._sampled,
                           on_error=lambda message: self.window.show_error("Cannot generate",
                                                                           message))

    def _sampled(self, _result):
        self.window.statusBar().showMessage(
            f"{len(self.output.generated_text()):,} characters generated.", 5000)

    def _apply_training_preset(self, name: str):
        if name in TRAINING_PRESETS:
            settings, minutes, _ = TRAINING_PRESETS[name]
            for key, value in settings.items():
                self.form[key].setValue(value)
            self.by_minutes.setChecked(True)
            self.minutes.setValue(minutes)
        self._match_training_preset()

    def _match_training_preset(self):
        """The preset the settings now match (else Custom), and what it leads one to expect."""
        name = next((n for n, (settings, minutes, _) in TRAINING_PRESETS.items()
                     if all(self.form[k].value() == v for k, v in settings.items())
                     and self.by_minutes.isChecked() and self.minutes.value() == minutes),
                    "Custom")
        self.training_preset.blockSignals(True)
        self.training_preset.setCurrentText(name)
        self.training_preset.blockSignals(False)
        self.expectation.setText(
            f"Expect {TRAINING_PRESETS[name][2]} on Shakespeare (less on a short text)."
            if name in TRAINING_PRESETS else "Your own settings.")

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
        try:
            Path(path).write_text(self.output.toPlainText(), encoding="utf-8")
        except OSError as err:
            self.window.show_error("Cannot save", f"{path}: {err.strerror}")
            return
        self.window.statusBar().showMessage(f"Saved to {path}", 8000)

    def _update_buttons(self, *_):
        from engine.runs import run_exists
        training = self.engine.running(TRAIN)
        sampling = self.engine.running(SAMPLE)
        # Train needs a text that was read and found good; Resume a run of this name
        self.panel.set_buttons(training, can_train=self.report is not None,
                               can_resume=run_exists(self.run_name.text().strip()))
        # one engine thread: sampling waits for training to end
        self.generate_button.setEnabled(not sampling and not training and self.sample_run.count() > 0)
        self.stop_sample_button.setEnabled(sampling)
