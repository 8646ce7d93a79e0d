"""A form widget's value, whatever its type: read it, set it (from a Python value or a saved
setting's string), and the signal that says it changed. One table of widget types serves the
settings form, the saved settings and the sampling controls."""
from dataclasses import dataclass
from typing import Callable, Optional

from PySide6.QtWidgets import (QAbstractButton, QComboBox, QDoubleSpinBox, QLineEdit, QSlider,
                               QSpinBox)


@dataclass(frozen=True)
class _Access:
    types: tuple
    get: Callable        # widget -> its value
    set: Callable        # (widget, value) -> None; the value may be a saved setting's string
    changed: Callable    # widget -> the signal that fires when its value changes


def _choose(combo: QComboBox, value):
    index = combo.findText(str(value))
    if index >= 0:
        combo.setCurrentIndex(index)


_ACCESS = (
    _Access((QSpinBox, QSlider), lambda w: int(w.value()), lambda w, v: w.setValue(int(v)),
            lambda w: w.valueChanged),
    _Access((QDoubleSpinBox,), lambda w: float(w.value()), lambda w, v: w.setValue(float(v)),
            lambda w: w.valueChanged),
    _Access((QComboBox,), lambda w: w.currentText(), _choose, lambda w: w.currentIndexChanged),
    _Access((QLineEdit,), lambda w: w.text(), lambda w, v: w.setText(str(v)),
            lambda w: w.textChanged),
    _Access((QAbstractButton,), lambda w: bool(w.isChecked()),      # checkable buttons only
            lambda w, v: w.setChecked(v in (True, "true", "1", 1)), lambda w: w.toggled),
)


def _access(widget) -> Optional[_Access]:
    if isinstance(widget, QAbstractButton) and not widget.isCheckable():
        return None
    return next((a for a in _ACCESS if isinstance(widget, a.types)), None)


def value_of(widget):
    return _access(widget).get(widget)


def set_value(widget, value) -> bool:
    """Set ``widget`` to ``value``; False (nothing set) for a widget that holds no value."""
    access = _access(widget)
    if access is None:
        return False
    access.set(widget, value)
    return True


def changed_signal(widget):
    return _access(widget).changed(widget)


def holds_value(widget) -> bool:
    return _access(widget) is not None
