"""Form rows made from config fields (engine/config.py): each setting's widget, range, starting
value, label and tooltip come from the field, so the GUI never retypes a default. Settings marked
``advanced`` go under a closed "Advanced settings" heading that a newcomer can ignore."""
import math
from typing import Dict, Iterable, Tuple

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from engine.config import settings_of, value_type
from engine.wording import label_of
from desktop.widgets.widget_values import changed_signal, set_value
from desktop.widgets.widget_values import value_of as widget_value  # noqa: F401 (read from here)


def setting_widget(cls, f) -> QWidget:
    """A widget for field ``f`` of ``cls``, set to the class's default (as an instance made
    with no arguments has it: a sentiment model's epochs are 10, a generator's 5)."""
    m, default, kind = f.metadata, getattr(cls(), f.name), value_type(f)
    if m["choices"]:
        w = QComboBox()
        w.addItems(list(m["choices"]))
        w.setCurrentText(default)
    elif kind is bool:
        w = QCheckBox(label_of(f))
        w.setChecked(default)
    elif kind is int:
        w = QSpinBox()
        w.setRange(int(m["low"]), int(m["high"]))
        w.setSingleStep(int(m["step"] or 1))
        w.setGroupSeparatorShown(int(m["high"]) >= 100_000)     # 200,003, not 200003
        w.setValue(default if default is not None else m.get("suggested") or m["low"])
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
        # a heading that opens the advanced settings (a collapsed group box looked like an
        # empty field)
        self.advanced = QToolButton()
        self.advanced.setText("Advanced settings")
        self.advanced.setCheckable(True)
        self.advanced.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.advanced.setArrowType(Qt.RightArrow)
        self.advanced.setAutoRaise(True)
        self.advanced.setToolTip("Settings a first model does not need; the defaults are what "
                                 "measured best here")
        inner = QWidget()
        self.advanced_rows = QFormLayout(inner)
        self.advanced_rows.setContentsMargins(12, 0, 0, 0)
        inner.setVisible(False)
        self.advanced.toggled.connect(inner.setVisible)
        self.advanced.toggled.connect(
            lambda on: self.advanced.setArrowType(Qt.DownArrow if on else Qt.RightArrow))
        layout.addWidget(self.advanced)
        layout.addWidget(inner)
        skip = set(skip)
        for cls, kind in sources:
            for f in settings_of(cls, offered=kind is not None):
                if f.name in skip or f.name in self.widgets:
                    continue
                w = setting_widget(cls, f)
                self.widgets[f.name], self._classes[f.name] = w, cls
                self.add_row("" if isinstance(w, QCheckBox) else label_of(f), w,
                             f.metadata["advanced"])

    def __getitem__(self, name: str) -> QWidget:
        return self.widgets[name]

    def values(self, cls) -> dict:
        """The form's values for the fields of ``cls`` (to build the config with)."""
        names = {f.name for f in settings_of(cls)}
        return {k: widget_value(w) for k, w in self.widgets.items() if k in names}

    def add_row(self, label: str, widget: QWidget, advanced: bool = False) -> QLabel:
        """A row: ``label`` (with the widget's tooltip, so pointing at either explains it)."""
        text = QLabel(label)
        text.setToolTip(widget.toolTip())
        text.setBuddy(widget)
        (self.advanced_rows if advanced else self.basic).addRow(text, widget)
        return text

    def set_values(self, values: dict):
        """Set fields by name (unknown names are ignored)."""
        for name, value in values.items():
            if name in self.widgets:
                set_value(self.widgets[name], value)

    def defaults(self) -> dict:
        """Each field's default (what a config made with no arguments has)."""
        return {name: getattr(cls(), name) for name, cls in self._classes.items()}

    def changed_signals(self):
        """The signal of each widget that fires when its value changes."""
        for w in self.widgets.values():
            yield changed_signal(w)
