"""A live training chart (pyqtgraph): train and validation curves, several runs overlaid.

The axes are set here, never left to pyqtgraph's auto-range, which gives a single point absurd
axes (an accuracy from -0.5 to 2.0 over epochs -30 to 30) and keeps an emptied chart's: the x
axis starts at 0 and ends a little past the last point, the y axis spans the data with a
margin, within ``y_bounds`` when the values have natural bounds (an accuracy: 0 to 1).
"""
import math
import zlib
from typing import Optional, Tuple

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

SHARE_BOUNDS = (0.0, 1.02)     # an accuracy: 0 to 1, with room to see the points at 1
_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def axis_range(values, low_bound: Optional[float] = None, high_bound: Optional[float] = None,
               start_at_zero: bool = False) -> Tuple[float, float]:
    """A range that shows ``values`` with a margin: never empty, never past the bounds."""
    if not values:
        return (0.0, 1.0)
    low, high = min(values), max(values)
    if start_at_zero:
        low = min(0.0, low)
    span = high - low
    margin = 0.08 * span if span > 0 else max(0.05 * abs(high), 0.05)
    low, high = low if start_at_zero else low - margin, high + margin
    if low_bound is not None:
        low = max(low, low_bound)
    if high_bound is not None:
        high = min(high, high_bound)
    if high <= low:
        high = low + 1.0
    return (low, high)


def _round_up(x: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7.5 times a power of ten that is at least ``x``."""
    if x <= 0:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(x))
    return next(scale * m for m in (1, 1.5, 2, 3, 5, 7.5, 10) if scale * m >= x * (1 - 1e-9))


class LossChart(QWidget):
    """``add_point(series, x, y)`` appends to a named curve; ``set_series`` replaces one."""

    def __init__(self, title: str = "loss", x_label: str = "step", y_label: str = "loss",
                 y_bounds: Tuple[Optional[float], Optional[float]] = (0.0, None), parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.y_bounds = y_bounds
        self.plot = pg.PlotWidget(title=title)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setMinimumHeight(120)
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()           # no "A" auto-range button
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self._apply_palette()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._curves, self._data = {}, {}
        self._fit()

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
        self._fit()

    def set_series(self, name: str, xs, ys, dashed: bool = False, stable_colour: bool = False):
        curve = self._curve(name, dashed, stable_colour)
        self._data[name] = (list(xs), list(ys))
        curve.setData(list(xs), list(ys))
        self._fit()

    def set_labels(self, title: str, y_label: str, x_label: Optional[str] = None,
                   y_bounds: Tuple[Optional[float], Optional[float]] = (0.0, None)):
        self.plot.setTitle(title, color=self.palette().color(QPalette.Text).name())
        self.plot.setLabel("left", y_label)
        if x_label is not None:
            self.plot.setLabel("bottom", x_label)
        self.y_bounds = y_bounds
        self._fit()

    def clear(self):
        for curve in self._curves.values():
            self.plot.removeItem(curve)
        self.plot.plotItem.legend.clear()
        self._curves, self._data = {}, {}
        self._fit()

    def _fit(self):
        """Set the axes when the data no longer fits them well (setting them redraws the axes,
        which costs a live chart tens of milliseconds: the x axis grows in round steps, the y
        axis changes when a point falls outside it or the data fill less than half of it)."""
        xs = [x for data_x, _ in self._data.values() for x in data_x]
        ys = [y for _, data_y in self._data.values() for y in data_y]
        x_range = (0.0, _round_up(axis_range(xs, low_bound=0.0, start_at_zero=True)[1]))
        y_range = axis_range(ys, *self.y_bounds)
        (x0, x1), (y0, y1) = self.ranges()
        if (x0, x1) != x_range:
            self.plot.setXRange(*x_range, padding=0)
        fits = ys and y0 <= min(ys) and max(ys) <= y1 and \
            (y_range[1] - y_range[0]) > 0.5 * (y1 - y0)
        if not fits and (y0, y1) != y_range:
            self.plot.setYRange(*y_range, padding=0)

    def ranges(self):
        """((x low, x high), (y low, y high)) as shown."""
        (x0, x1), (y0, y1) = self.plot.getPlotItem().vb.viewRange()
        return (x0, x1), (y0, y1)

    def points(self, name: str) -> int:
        return len(self._data.get(name, ([], []))[0])
