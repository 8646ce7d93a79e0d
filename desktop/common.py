"""Small helpers shared by the tabs: formatting and form rows with tooltips."""
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox


def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    w = QSpinBox()
    w.setRange(low, high)
    w.setValue(value)
    w.setSingleStep(step)
    w.setToolTip(tip)
    return w


def dspin(low: float, high: float, value: float, tip: str, step: float, decimals: int) -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setRange(low, high)
    w.setDecimals(decimals)
    w.setSingleStep(step)
    w.setValue(value)
    w.setToolTip(tip)
    return w


def duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
