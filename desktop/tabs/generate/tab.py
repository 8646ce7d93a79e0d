"""The Generate tab: pick a text, train a character model while watching it learn, then sample.
What every training tab has comes from TrainingTab; this adds the text picker, the advice and
estimate for a text, the live sample under the charts with how much of it was copied from the
training text (and how that grew, preview by preview), and the sampling area."""
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

import corpora
from engine.events import Finished, SampleReady, Started
from engine.kinds import GENERATOR

from desktop.tabs.generate.sampling_panel import SamplingPanel
from desktop.tabs.training.tab import TrainingTab
from desktop.tabs.generate.copied_text import preview_line
from desktop.tabs.generate.text_picker import TextPicker

EARLIER = 5                      # earlier previews' shares shown beside the latest


def preview_trend(step: int, line: str, earlier) -> str:
    """The latest preview's novelty and the shares before it, oldest first."""
    text = f"Step {step:,}: {line}."
    if earlier:
        text += " Earlier previews: " + ", ".join(f"{s:.0%}".replace("%", " %")
                                                  for s in earlier[-EARLIER:]) + "."
    return text


class GenerateTab(TrainingTab):
    kind, group = GENERATOR, "generate"
    title = "Generate"                        # its tab's title in the main window
    look_inside_requested = Signal(str)       # a text to look inside the model with

    def __init__(self, engine, window, parent=None):
        super().__init__(engine, window, "my-model", parent)
        self.show_last_run("Pick a text and press Train.")
        self.sampling.settings.match_preset()
        self.sampling.update_buttons()

    def make_picker(self):
        return TextPicker(self.engine, f"{self.group}-check")

    def below_chart(self):
        self.live_sample = QPlainTextEdit()
        self.live_sample.setReadOnly(True)
        self.live_sample.setPlaceholderText("A sample appears about 20 seconds into training, then "
                                            "after each validation (and each minute).")
        self.live_sample.setToolTip("What the model writes now: about 20 s into training, then "
                                    "after each validation, and each minute without one")
        self.live_sample.setMaximumHeight(90)
        self.live_sample.setMinimumHeight(40)
        self.preview_novelty = QLabel()
        self.preview_novelty.setWordWrap(True)
        self.preview_novelty.setToolTip("How much of each preview is in the training text word "
                                        "for word: a share that keeps growing means the model "
                                        "is learning the text by heart")
        self.preview_shares = []
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.live_sample)
        column.addWidget(self.preview_novelty)
        return box

    def use_area(self):
        self.sampling = SamplingPanel(self.engine, self.window, self.runs)
        self.sampling.generating.connect(self.save_settings)     # as a training start does
        self.sampling.room_wanted.connect(lambda on: self.show_training(not on))
        self.sampling.look_inside_requested.connect(self.look_inside_requested)
        return self.sampling

    # ---- the text ------------------------------------------------------------------------------
    def _model_and_train(self):
        return self.settings.model_config(), self.settings.train_config()

    def describe_data(self, report: dict) -> str:
        from engine.generator.cells import parameter_count
        params = parameter_count(self.settings.model_config(), report["vocab"])
        return (f"<b>{report['name']}</b>: {report['chars']:,} characters, {report['vocab']} "
                f"distinct; this model: {params:,} parameters "
                f"({params / max(1, report['chars']):.2f} per character).")

    def advice(self, report: dict):
        from engine.generator.inspect import advice
        return advice(report["chars"], report["vocab"], *self._model_and_train())

    def estimate(self, report: dict):
        from engine.estimate import generator_estimate
        return generator_estimate(report["chars"], report["vocab"], *self._model_and_train())

    # ---- training ------------------------------------------------------------------------------
    def data_maker(self, ref: str):
        encoding = self.picker.encoding.currentText()

        def make():
            from engine.generator.train import CorpusRef
            path, name = corpora.resolve_text_source(ref)
            return CorpusRef(str(path), name, encoding)
        return make

    def clear_own(self):
        self.live_sample.clear()
        self.preview_novelty.clear()
        self.preview_shares = []
        self.sampling.give_room(False)          # the charts come back for the training

    def preparing(self) -> str:
        return "Reading the text…"

    def started(self, ev: Started) -> str:
        return (f"{ev.parameters:,} parameters, {ev.info.get('chars', 0):,} characters, "
                f"{ev.info.get('vocab', 0)} distinct, {ev.info.get('precision', 'fp32')}. "
                f"Training…")

    def finished(self, ev: Finished) -> str:
        best = (f", best validation {self.kind.loss_shown(ev.best_val_loss):.3f} "
                f"{self.kind.loss_unit}" if ev.best_val_loss else "")
        return f"{ev.reason.capitalize()} at step {ev.step:,}{best}. Saved."

    def on_training_event(self, ev):
        if isinstance(ev, SampleReady):
            self.live_sample.setPlainText(ev.text)
            line = preview_line(ev)
            if line:
                self.preview_novelty.setText(preview_trend(ev.step, line, self.preview_shares))
                self.preview_shares.append(ev.copied_share)

    def refresh_runs(self, select: str = None):
        super().refresh_runs(select)
        if hasattr(self, "sampling"):
            self.sampling.sentiment.refresh_runs()

    def update_buttons(self, *_):
        super().update_buttons()
        if hasattr(self, "sampling"):
            self.sampling.update_buttons()

    def persisted(self) -> dict:
        return {**super().persisted(), **self.sampling.persisted()}

    def generate(self):
        self.sampling.generate()
