"""The settings both training tabs use: presets (the kind's recipes, engine/generator/recipes.py and
engine/sentiment/recipes.py), the settings form (every chooseable field of the kind's configs),
a budget in minutes or epochs with an estimate of the time, and the run's name.

A preset sets every setting it was measured with: the fields it names, every other one back to
its default (the seed excepted), and its budget; it then says what to expect and on what that
was measured. Any change afterwards makes the settings "Custom".
"""
import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QRadioButton,
                               QVBoxLayout, QWidget)

from engine.config import settings_of
from engine.kinds import Kind

from desktop.widgets.settings_form import SettingsForm, setting_widget

CUSTOM = "Custom"
STARTING_PRESET = "Good"     # what a first start shows: the recipe measured for a first real run
KEPT = ("seed",)             # a preset leaves these as they are


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return a == b


class TrainingSettings(QWidget):
    changed = Signal()                       # any setting, the budget or the preset changed

    def __init__(self, kind: Kind, run_name: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.recipes = {r.name: r for r in kind.recipes()}
        self.preset = QComboBox()
        for name in [*self.recipes, CUSTOM]:
            self.preset.addItem(name)
        self._preset_tips()
        self.preset.setToolTip("Ready-made settings, picked for this computer's measured speed; "
                               "change any setting to make your own")
        self.expectation = QLabel()
        self.expectation.setWordWrap(True)
        self.form = SettingsForm([(kind.model_config, None), (kind.train_config, kind.name)],
                                 skip=("epochs", "minutes", "ctx", "kvstore"))
        budget_fields = {f.name: f for f in settings_of(kind.train_config, offered=True)}
        self.by_minutes = QRadioButton("minutes")
        self.by_epochs = QRadioButton("epochs")
        self.by_minutes.setToolTip("Train for this many minutes")
        self.by_epochs.setToolTip("Train for this many passes over the data")
        self.minutes = setting_widget(kind.train_config, budget_fields["minutes"])
        self.epochs = setting_widget(kind.train_config, budget_fields["epochs"])
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        self.estimate.setToolTip("Estimated from the data's size and the speed measured on this "
                                 "kind of computer: a guide, not a promise")
        self.run_name = QLineEdit(run_name)
        self.run_name.setToolTip("The model's name in the Models tab (letters, digits, . _ -)")
        budget = QHBoxLayout()
        budget.setContentsMargins(0, 0, 0, 0)
        for w in (self.by_minutes, self.minutes, self.by_epochs, self.epochs):
            budget.addWidget(w)
        budget_row = QWidget()
        budget_row.setLayout(budget)
        budget_row.setToolTip("How long to train: minutes of the clock, or passes over the data")
        self.form.add_row("Budget", budget_row)
        self.form.basic.addRow("", self.estimate)
        self.form.add_row("Run name", self.run_name)
        preset_row = QHBoxLayout()
        label = QLabel("Preset")
        label.setToolTip(self.preset.toolTip())
        preset_row.addWidget(label)
        preset_row.addWidget(self.preset, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(preset_row)
        layout.addWidget(self.expectation)
        layout.addWidget(self.form)

        self.preset.currentTextChanged.connect(self.apply_preset)
        for signal in (*self.form.changed_signals(), self.minutes.valueChanged,
                       self.epochs.valueChanged, self.by_minutes.toggled):
            signal.connect(self._changed)
        (self.by_minutes if kind.budget == "minutes" else self.by_epochs).setChecked(True)

    # ---- the configs ---------------------------------------------------------------------------
    def budget(self) -> dict:
        return {"minutes": self.minutes.value() if self.by_minutes.isChecked() else None,
                "epochs": self.epochs.value() if self.by_epochs.isChecked() else None}

    def model_config(self):
        return self.kind.model_config(**self.form.values(self.kind.model_config))

    def train_config(self, **changes):
        values = {**self.form.values(self.kind.train_config), **self.budget(), **changes}
        return self.kind.train_config(**values)

    def set_values(self, values: dict):
        """Set settings by field name (a fix the advice offers, say)."""
        budget = {k: values[k] for k in ("minutes", "epochs") if values.get(k) is not None}
        self.form.set_values({k: v for k, v in values.items() if k not in budget})
        if "minutes" in budget:
            self.by_minutes.setChecked(True)
            self.minutes.setValue(budget["minutes"])
        elif "epochs" in budget:
            self.by_epochs.setChecked(True)
            self.epochs.setValue(budget["epochs"])

    def persisted(self) -> dict:
        return {**self.form.widgets, "by_minutes": self.by_minutes, "by_epochs": self.by_epochs,
                "minutes": self.minutes, "epochs": self.epochs, "run_name": self.run_name}

    # ---- presets -------------------------------------------------------------------------------
    def _preset_tips(self):
        for i in range(self.preset.count()):
            name = self.preset.itemText(i)
            tip = self.recipes[name].describe() if name in self.recipes else "Your own settings"
            self.preset.setItemData(i, tip, Qt.ToolTipRole)

    def measuring(self, done: int, total: int):
        """Say that this computer's speed is being measured for the presets (the probe)."""
        self.expectation.setText(f"Measuring this computer's training speed to pick the presets "
                                 f"({done} of {total} models)…")

    def refresh_recipes(self):
        """Take the presets again (this computer's speed was just measured): a preset that was
        chosen is set again as now picked; settings of one's own stay as they are."""
        chosen = self.preset.currentText()
        self.recipes = {r.name: r for r in self.kind.recipes()}
        self._preset_tips()
        if chosen in self.recipes:
            self.apply_preset(chosen)
        else:
            self.match_preset()

    def _preset_values(self, recipe) -> dict:
        values = {k: v for k, v in self.form.defaults().items() if k not in KEPT}
        values.update(recipe.model)
        values.update(recipe.train)
        if recipe.minutes:
            values["minutes"] = recipe.minutes
        return values

    def apply_preset(self, name: str):
        """Set the settings of the preset ``name`` (nothing for Custom or a name the kind lacks)."""
        if name in self.recipes:
            self.set_values(self._preset_values(self.recipes[name]))
        self.match_preset()

    def match_preset(self):
        """The preset the settings now match (else Custom), and what it leads one to expect."""
        now = {**{k: v for k, v in self.form.values(self.kind.model_config).items()},
               **self.form.values(self.kind.train_config), **self.budget()}
        name = next((n for n, r in self.recipes.items()
                     if all(_same(now.get(k), v) for k, v in self._preset_values(r).items())
                     and (r.minutes is None) == (now["minutes"] is None)), CUSTOM)
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)
        self.expectation.setText(self.recipes[name].describe()
                                 if name in self.recipes else "Your own settings.")

    def _changed(self, *_):
        self.match_preset()
        self.changed.emit()
