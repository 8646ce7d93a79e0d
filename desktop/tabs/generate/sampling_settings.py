"""The sampling settings the Generate tab's single sample and its grid share, made from
``SamplingConfig``'s fields (engine/config.py): a style (Safe / Balanced / Wild set the
temperature, top-k and top-p at once), the temperature, top-k, top-p, length, seed and prime.
Every default comes from the config; Balanced is the config's defaults.
"""
import random

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel,
                               QSizePolicy, QSlider, QWidget)

from engine.config import SamplingConfig, default_of, settings_of

from desktop.widgets.settings_form import setting_widget, widget_value

FIELDS = {f.name: f for f in settings_of(SamplingConfig)}
STYLED = ("temperature", "top_k", "top_p")
_DEFAULTS = {name: default_of(SamplingConfig, name) for name in STYLED}
# Styles: temperature, top-k and top-p at once; Balanced is the defaults; Custom is whatever
# the controls say
PRESETS = {"Safe": {**_DEFAULTS, "temperature": 0.5, "top_p": 0.9},
           "Balanced": dict(_DEFAULTS),
           "Wild": {**_DEFAULTS, "temperature": 1.3}}
PRESET_TIPS = {"Safe": "Likely characters only: tidy, repetitive text",
               "Balanced": "Some surprise, mostly sensible: a good start (the default)",
               "Wild": "Adventurous: inventive words, more mistakes",
               "Custom": "Your own temperature, top-k and top-p"}
SLIDER_STEPS = 100               # the temperature slider counts hundredths
SLIDER_TOP = 2.0                 # hotter than 2 is noise; the command line goes to the field's high


# what a temperature does, in a few words shown beside the controls (the tooltip says more)
TEMPERATURE_WORDS = ((0.0, "always the likeliest: the same text"),
                     (0.01, "cautious: tidy, repeats itself"),
                     (0.5, "balanced: some surprise"),
                     (1.0, "adventurous: more mistakes"),
                     (1.4, "wild: mostly noise"))


def temperature_words(value: float) -> str:
    return next(words for low, words in reversed(TEMPERATURE_WORDS) if value >= low)


def tip(name: str) -> str:
    return FIELDS[name].metadata["help"]


def label(name: str) -> str:
    return FIELDS[name].metadata["label"]


def labelled(row: QHBoxLayout, text: str, widget: QWidget):
    """A label (with the widget's tooltip) and its widget, side by side in the row."""
    caption = QLabel(text)
    caption.setToolTip(widget.toolTip())
    caption.setBuddy(widget)
    row.addWidget(caption)
    row.addWidget(widget)


class SamplingSettings(QObject):
    """The style, temperature, top-k, top-p, length and seed controls in two rows (``first``,
    ``second``: the panel adds to them), and ``prime``, which the panel places beside Generate.
    ``config()`` is the SamplingConfig they describe."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.preset = QComboBox()
        for name in [*PRESETS, "Custom"]:
            self.preset.addItem(name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_TIPS[name], Qt.ToolTipRole)
        self.preset.setToolTip("How adventurous the text is: Safe, Balanced or Wild set the "
                               "temperature, top-k and top-p")
        self.temperature = QSlider(Qt.Horizontal)
        self.temperature.setRange(0, round(SLIDER_TOP * SLIDER_STEPS))
        self.temperature.setMinimumWidth(80)
        self.temperature.setToolTip(tip("temperature"))
        self.temperature_box = QDoubleSpinBox()          # type a value: 0.30 without 50 presses
        self.temperature_box.setRange(0.0, SLIDER_TOP)
        self.temperature_box.setDecimals(2)
        self.temperature_box.setSingleStep(0.05)
        self.temperature_box.setKeyboardTracking(False)  # the value counts once typed (Enter)
        self.temperature_box.setToolTip(tip("temperature"))
        self.temperature_hint = QLabel()
        self.temperature_hint.setToolTip(tip("temperature"))
        self.temperature_hint.setStyleSheet("color: palette(placeholder-text)")
        self.temperature_hint.setWordWrap(True)          # it takes the row's spare room, no more
        self.temperature_hint.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.widgets = {name: setting_widget(SamplingConfig, FIELDS[name])
                        for name in ("top_k", "top_p", "length", "prime")}
        self.prime = self.widgets["prime"]
        self.prime.setPlaceholderText("Start with, e.g. ROMEO:")
        self.seed = setting_widget(SamplingConfig, FIELDS["seed"])
        self.fixed_seed = QCheckBox("fixed seed")
        self.fixed_seed.setChecked(True)
        self.fixed_seed.setToolTip("On: the same settings give the same text again. Off: a new "
                                   "seed, and new text, each time")
        for w in (self.widgets["top_k"], self.widgets["top_p"], self.widgets["length"],
                  self.seed):
            w.setMaximumWidth(100)
        self.first, self.second = QHBoxLayout(), QHBoxLayout()
        labelled(self.first, "Style", self.preset)
        labelled(self.first, label("temperature"), self.temperature)
        self.first.addWidget(self.temperature_box)
        for name in ("top_k", "top_p", "length"):
            labelled(self.second, label(name), self.widgets[name])
        labelled(self.second, label("seed"), self.seed)
        self.second.addWidget(self.fixed_seed)
        self.second.addWidget(self.temperature_hint, 1)

        self.preset.currentTextChanged.connect(self._apply_preset)
        self.temperature.valueChanged.connect(self._show_temperature)
        self.temperature_box.valueChanged.connect(
            lambda value: self.temperature.setValue(round(value * SLIDER_STEPS)))
        for signal in (self.temperature.valueChanged, self.widgets["top_k"].valueChanged,
                       self.widgets["top_p"].valueChanged):
            signal.connect(lambda _: self.match_preset())
        self.set_values(_DEFAULTS)

    # ---- values --------------------------------------------------------------------------------
    def set_values(self, values: dict):
        """Set controls by setting name (a SamplingConfig's ``to_dict()``, say); unknown names,
        and the prime, are left alone (a continuation says what it starts from)."""
        if "temperature" in values:
            self.temperature.setValue(round(values["temperature"] * SLIDER_STEPS))
        for name in ("top_k", "top_p", "length"):
            if name in values:
                self.widgets[name].setValue(values[name])
        if values.get("seed") is not None:
            self.seed.setValue(values["seed"])
        self.match_preset()

    def config(self, **overrides) -> SamplingConfig:
        """The settings as a SamplingConfig (a new seed first, unless the seed is fixed)."""
        if not self.fixed_seed.isChecked():
            self.seed.setValue(random.randrange(2**31 - 1))
        values = {name: widget_value(w) for name, w in self.widgets.items()}
        values.update(temperature=self.temperature.value() / SLIDER_STEPS,
                      seed=self.seed.value(), **overrides)
        return SamplingConfig(**values)

    def persisted(self) -> dict:
        return {"temperature": self.temperature, "top_k": self.widgets["top_k"],
                "top_p": self.widgets["top_p"], "prime": self.prime,
                "length": self.widgets["length"], "sample_seed": self.seed,
                "fixed_seed": self.fixed_seed}

    # ---- styles --------------------------------------------------------------------------------
    def _show_temperature(self, value: int):
        """The slider moved (or the box was typed in): the box, and the words on what it does."""
        if round(self.temperature_box.value() * SLIDER_STEPS) != value:
            self.temperature_box.blockSignals(True)
            self.temperature_box.setValue(value / SLIDER_STEPS)
            self.temperature_box.blockSignals(False)
        self.temperature_hint.setText(temperature_words(value / SLIDER_STEPS))

    def _apply_preset(self, name: str):
        if name in PRESETS:
            self.set_values(PRESETS[name])

    def match_preset(self):
        """Show the style that the controls now match, or Custom."""
        now = {"temperature": self.temperature.value() / SLIDER_STEPS,
               "top_k": self.widgets["top_k"].value(),
               "top_p": round(self.widgets["top_p"].value(), 2)}
        name = next((n for n, v in PRESETS.items() if v == now), "Custom")
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)
