"""Persisting widget values and recent choices with QSettings (per user, per platform)."""
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QAbstractButton, QComboBox, QDoubleSpinBox, QLineEdit, QSlider,
                               QSpinBox)

ORGANIZATION, APPLICATION = "rnn-studio", "RNN Studio"


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def save_widgets(group: str, widgets: dict):
    s = settings()
    s.beginGroup(group)
    for key, w in widgets.items():
        if isinstance(w, (QSpinBox, QSlider)):
            s.setValue(key, int(w.value()))
        elif isinstance(w, QDoubleSpinBox):
            s.setValue(key, float(w.value()))
        elif isinstance(w, QComboBox):
            s.setValue(key, w.currentText())
        elif isinstance(w, QLineEdit):
            s.setValue(key, w.text())
        elif isinstance(w, QAbstractButton) and w.isCheckable():
            s.setValue(key, bool(w.isChecked()))
    s.endGroup()


def has_saved(group: str, keys) -> bool:
    """Whether any of ``keys`` was saved under ``group`` (a returning user) or none (a first
    start)."""
    s = settings()
    s.beginGroup(group)
    saved = any(s.contains(key) for key in keys)
    s.endGroup()
    return saved


def restore_widgets(group: str, widgets: dict):
    s = settings()
    s.beginGroup(group)
    for key, w in widgets.items():
        if not s.contains(key):
            continue
        value = s.value(key)
        try:
            if isinstance(w, (QSpinBox, QSlider)):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(w, QComboBox):
                index = w.findText(str(value))
                if index >= 0:
                    w.setCurrentIndex(index)
            elif isinstance(w, QLineEdit):
                w.setText(str(value))
            elif isinstance(w, QAbstractButton) and w.isCheckable():
                w.setChecked(value in (True, "true", "1", 1))
        except (TypeError, ValueError):
            continue                    # a damaged setting falls back to the default
    s.endGroup()
