"""Persisting widget values and recent choices with QSettings (per user, per platform)."""
from PySide6.QtCore import QSettings

from desktop.widgets.widget_values import holds_value, set_value, value_of

ORGANIZATION, APPLICATION = "rnn-studio", "RNN Studio"


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def save_widgets(group: str, widgets: dict):
    s = settings()
    s.beginGroup(group)
    for key, w in widgets.items():
        if holds_value(w):
            s.setValue(key, value_of(w))
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
            set_value(w, value)
        except (TypeError, ValueError):
            continue                    # a damaged setting falls back to the default
    s.endGroup()
