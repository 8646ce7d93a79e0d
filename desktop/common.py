"""Small helpers shared by the tabs: formatting and form rows with tooltips."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDoubleSpinBox, QScrollArea, QSpinBox,
                               QSplitter, QVBoxLayout, QWidget)


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


def settings_column(*items) -> QScrollArea:
    """The left-hand column of a training tab: group boxes and button rows, scrolling."""
    column = QWidget()
    layout = QVBoxLayout(column)
    for item in items:
        if isinstance(item, QWidget):
            layout.addWidget(item)
        else:
            layout.addLayout(item)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(column)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(column.sizeHint().width() + 24)
    return scroll


def side_by_side(left: QWidget, right: QWidget) -> QSplitter:
    split = QSplitter(Qt.Horizontal)
    split.addWidget(left)
    split.addWidget(right)
    split.setSizes([380, 820])
    return split


def select_or_add(combo, path: str):
    """Select the entry for ``path`` in a combo box of sources, adding it first if new,
    without emitting currentIndexChanged (the caller decides what follows)."""
    from pathlib import Path
    index = combo.findData(str(path))
    if index < 0:
        combo.addItem(Path(path).name, str(path))
        index = combo.count() - 1
    combo.blockSignals(True)
    combo.setCurrentIndex(index)
    combo.blockSignals(False)
