"""Judging and steering generated text with a trained sentiment model: "Judge with" lists every
sentiment run of the Models tab (refreshed when runs change); "Steer toward" one of its labels,
with a strength, the number of candidate lines drawn at each line end of which the one
likeliest to carry the label is kept (``SamplingConfig.candidates``)."""
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from engine.config import SamplingConfig, default_of, settings_of
from engine.errors import StudioError
from engine.wording import in_app_words

from desktop.widgets.settings_form import setting_widget, widget_value

NOBODY = "nobody"             # no sentiment model
PLAIN = "nothing"              # plain sampling
STRONGEST = 32                    # the slider's top; the command line goes to the field's high


class SentimentChoice(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        fields = {f.name: f for f in settings_of(SamplingConfig)}
        candidates = fields["candidates"].metadata
        self.judge = QComboBox()
        self.judge.setMinimumContentsLength(12)
        self.judge.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.judge.setToolTip("A trained sentiment model (see the Models tab) that judges every "
                              "sample and each of its lines; nobody: no judging, no steering")
        self.label = QComboBox()
        self.label.setMinimumContentsLength(7)
        self.label.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.label.setToolTip("Steer toward: at each line end keep the candidate line likeliest "
                              "to carry this label; nothing: plain sampling")
        self.steer_at = setting_widget(SamplingConfig, fields["steer_at"])
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setRange(candidates["low"], min(STRONGEST, candidates["high"]))
        self.strength.setValue(default_of(SamplingConfig, "candidates"))
        self.strength.setMinimumWidth(60)
        self.strength.setToolTip(f"{candidates['label']}: {candidates['help']}")
        self.strength_label = QLabel()
        self.strength_label.setToolTip(self.strength.toolTip())
        self.problem = ""                 # why the chosen model's labels could not be read
        self.per = None                   # what the strength counts per (None: steer_at's end)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Judge with", self.judge), ("Steer toward", self.label)):
            caption = QLabel(text)
            caption.setToolTip(widget.toolTip())
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget)
        at = QLabel("at each")
        at.setToolTip(self.steer_at.toolTip())
        row.addWidget(at)
        row.addWidget(self.steer_at)
        self.at = at
        row.addWidget(self.strength, 1)
        row.addWidget(self.strength_label)
        self.judge.currentIndexChanged.connect(lambda _: self._show_labels())
        self.strength.valueChanged.connect(lambda _: self._show_strength())
        self.steer_at.currentIndexChanged.connect(lambda _: self._show_strength())
        self._show_strength()
        self.refresh_runs()

    def refresh_runs(self):
        """List the sentiment runs again, keeping the chosen one."""
        from engine.storage.runs import list_runs
        current = self.judge.currentData()
        self.judge.blockSignals(True)
        self.judge.clear()
        self.judge.addItem(NOBODY, None)
        for r in list_runs(kind="sentiment"):
            self.judge.addItem(r["name"], r["path"])
        self.judge.setCurrentIndex(max(0, self.judge.findData(current)))
        self.judge.blockSignals(False)
        self._show_labels()

    def choose(self, path: str):
        index = self.judge.findData(path)
        if index < 0:
            self.judge.addItem(Path(path).name, path)
            index = self.judge.count() - 1
        self.judge.setCurrentIndex(index)

    def judge_path(self) -> Optional[str]:
        return self.judge.currentData()

    def steer_label(self) -> Optional[str]:
        return self.label.currentData()

    def steering(self) -> dict:
        """The SamplingConfig fields these controls set."""
        return {"candidates": self.strength.value(), "steer_at": widget_value(self.steer_at)}

    def persisted(self) -> dict:
        return {"judge": self.judge, "steer_label": self.label, "candidates": self.strength,
                "steer_at": self.steer_at}

    def _show_labels(self):
        from engine.storage.runs import RunFolder
        current = self.label.currentData()
        self.label.clear()
        self.label.addItem(PLAIN, None)
        path, self.problem = self.judge_path(), ""
        if path:
            try:
                for name in RunFolder(path).read_meta(kind="sentiment").labels:
                    self.label.addItem(name, name)
            except StudioError as err:
                self.problem = in_app_words(err)
        self.label.setCurrentIndex(max(0, self.label.findData(current)))
        for w in (self.label, self.steer_at, self.strength):
            w.setEnabled(bool(path))

    def per_item(self, item: str):
        """Steer whole items (the Write tab's suggestions), which end where they end: the
        "at each" choice is hidden and the strength counts candidates per ``item``."""
        self.per = item
        self.at.hide()
        self.steer_at.hide()
        self.label.setToolTip(f"Steer toward: of the candidates drawn for each {item}, keep "
                              f"the one likeliest to carry this label; nothing: plain sampling")
        self._show_strength()

    def _show_strength(self):
        per = self.per or widget_value(self.steer_at)
        self.strength_label.setText(f"{self.strength.value()} per {per}")
