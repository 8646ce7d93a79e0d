"""A live training chart (pyqtgraph): train and validation curves, several runs overlaid."""
import zlib

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


class LossChart(QWidget):
    """``add_point(series, x, y)`` appends to a named curve; ``set_series`` replaces one."""

    def __init__(self, title: str = "loss", x_label: str = "step", y_label: str = "loss",
                 parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.plot = pg.PlotWidget(title=title)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setMinimumHeight(160)
        self._apply_palette()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._curves, self._data = {}, {}

    def _apply_palette(self):
        """Follow the window's light or dark palette (pyqtgraph defaults to black)."""
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.Base))
        fg = palette.color(QPalette.Text)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setPen(fg)
            self.plot.getAxis(axis).setTextPen(fg)
        self.plot.setTitle(self.plot.plotItem.titleLabel.text, color=fg.name())

    def changeEvent(self, event):
        if event.type() == QEvent.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _curve(self, name: str, dashed: bool = False, stable_colour: bool = False):
        """A named curve. ``stable_colour``: the colour follows the name, not the order the
        curves came in (so a run keeps its colour whatever else is selected)."""
        if name not in self._curves:
            index = zlib.crc32(name.encode()) if stable_colour else len(self._curves)
            colour = _PALETTE[index % len(_PALETTE)]
            pen = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.DashLine if dashed else
                           pg.QtCore.Qt.SolidLine)
            # points are marked on validation curves and on overlays: a run with a single
            # validation has no line to draw, only its point
            marked = dashed or stable_colour
            self._curves[name] = self.plot.plot([], [], pen=pen, name=name,
                                                symbol="o" if marked else None, symbolSize=5,
                                                symbolBrush=colour)
            self._data[name] = ([], [])
        return self._curves[name]

    def add_point(self, name: str, x: float, y: float, dashed: bool = False):
        curve = self._curve(name, dashed)
        xs, ys = self._data[name]
        xs.append(x)
        ys.append(y)
        curve.setData(xs, ys)

    def set_series(self, name: str, xs, ys, dashed: bool = False, stable_colour: bool = False):
        curve = self._curve(name, dashed, stable_colour)
        self._data[name] = (list(xs), list(ys))
        curve.setData(list(xs), list(ys))

    def set_labels(self, title: str, y_label: str):
        self.plot.setTitle(title, color=self.palette().color(QPalette.Text).name())
        self.plot.setLabel("left", y_label)

    def clear(self):
        for curve in self._curves.values():
            self.plot.removeItem(curve)
        self.plot.plotItem.legend.clear()
        self._curves, self._data = {}, {}

    def points(self, name: str) -> int:
        return len(self._data.get(name, ([], []))[0])
