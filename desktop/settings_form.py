"""Form rows made from config fields (engine/config.py): each setting's widget, range, starting
value, label and tooltip come from the field, so the GUI never retypes a default. Settings marked
``advanced`` go into a collapsed "Advanced" box that a newcomer can ignore."""
import math
from typing import Dict, Iterable, Tuple

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from engine.config import settings_of, value_type


def _label(f) -> str:
    return f.metadata["label"] or f.name.replace("_", " ").capitalize()


def setting_widget(cls, f) -> QWidget:
    """A widget for field ``f`` of ``cls``, set to the class's default (as an instance made
    with no arguments has it: a sentiment model's epochs are 10, a generator's 5)."""
    m, default, kind = f.metadata, getattr(cls(), f.name), value_type(f)
    if m["choices"]:
        w = QComboBox()
        w.addItems(list(m["choices"]))
        w.setCurrentText(default)
    elif kind is bool:
        w = QCheckBox(_label(f))
        w.setChecked(default)
    elif kind is int:
        w = QSpinBox()
        w.setRange(int(m["low"]), int(m["high"]))
        w.setSingleStep(int(m["step"] or 1))
        w.setValue(default)
    elif kind is float:
        w = QDoubleSpinBox()
        step = m["step"] or 0.05
        w.setDecimals(max(2, math.ceil(-math.log10(step)) + 1))
        w.setRange(m["low"], m["high"])
        w.setSingleStep(step)
        w.setValue(default if default is not None else m.get("suggested") or m["low"])
    else:
        w = QLineEdit(str(default))
    w.setToolTip(m["help"])
    return w


def widget_value(w):
    if isinstance(w, QComboBox):
        return w.currentText()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    return w.text()


class SettingsForm(QWidget):
    """The chooseable fields of one or more config classes as form rows: the basic ones first,
    the advanced ones in a collapsed "Advanced" group below. ``widgets`` maps field names to
    widgets (the tab's persisted settings come from it)."""

    def __init__(self, sources: Iterable[Tuple[type, str]], skip: Iterable[str] = (),
                 parent=None):
        super().__init__(parent)
        self.widgets: Dict[str, QWidget] = {}
        self._classes: Dict[str, type] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.basic = QFormLayout()
        layout.addLayout(self.basic)
        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        self.advanced.setToolTip("Settings a first model does not need; the defaults are what "
                                 "measured best here")
        inner = QWidget()
        self.advanced_rows = QFormLayout(inner)
        QVBoxLayout(self.advanced).addWidget(inner)
        self.advanced.toggled.connect(inner.setVisible)
        self.advanced.toggled.connect(lambda on: self.advanced.setFlat(not on))
        inner.setVisible(False)
        self.advanced.setFlat(True)             # collapsed: a heading, not an empty frame
        layout.addWidget(self.advanced)
        skip = set(skip)
        for cls, kind in sources:
            for f in settings_of(cls, kind):
                if f.name in skip or f.name in self.widgets:
                    continue
                w = setting_widget(cls, f)
                self.widgets[f.name], self._classes[f.name] = w, cls
                rows = self.advanced_rows if f.metadata["advanced"] else self.basic
                rows.addRow("" if isinstance(w, QCheckBox) else _label(f), w)

    def __getitem__(self, name: str) -> QWidget:
        return self.widgets[name]

    def values(self, cls) -> dict:
        """The form's values for the fields of ``cls`` (to build the config with)."""
        names = {f.name for f in settings_of(cls)}
        return {k: widget_value(w) for k, w in self.widgets.items() if k in names}

    def add_row(self, label: str, widget: QWidget, advanced: bool = False):
        (self.advanced_rows if advanced else self.basic).addRow(label, widget)
