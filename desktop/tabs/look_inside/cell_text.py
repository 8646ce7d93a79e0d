"""The text of a recording, coloured by one cell of a generator: blue (-1) through white (0) to
red (+1), as every face shows cells; hovering a character tells the cell's value there and the
model's likeliest next characters (the Look inside view's left side)."""
from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QToolTip

from engine.generator.inside.cell_colours import value_rgb

LEVELS = 21                       # colour steps from -1 to +1


def value_colour(value: float) -> QColor:
    """Blue (-1) through white (0) to red (+1), as every face shows cells."""
    return QColor(*value_rgb(value))


def legend_html() -> str:
    cells = []
    for v in (-1.0, -0.5, 0.0, 0.5, 1.0):
        c = value_colour(v)
        ink = "white" if abs(v) > 0.6 else "black"        # as the text itself is drawn
        cells.append(f'<span style="background-color: {c.name()}; color: {ink}">'
                     f'&nbsp;{v:+.1f}&nbsp;</span>')
    return "Cell value: " + "".join(cells)


class CellHighlighter(QSyntaxHighlighter):
    """Colours each character's background by a value in -1..1 (one per Python character)."""

    def __init__(self, document):
        super().__init__(document)
        self.values: Optional[np.ndarray] = None
        self.formats = []
        for step in range(LEVELS):
            value = step / (LEVELS - 1) * 2 - 1
            fmt = QTextCharFormat()
            fmt.setBackground(value_colour(value))
            fmt.setForeground(QColor(255, 255, 255) if abs(value) > 0.6 else QColor(0, 0, 0))
            self.formats.append(fmt)
        self._py_start = None               # UTF-16 block position -> Python index

    def show(self, values: Optional[np.ndarray], text: str):
        self.values = values
        if values is not None and any(ord(c) > 0xFFFF for c in text):
            widths = np.array([2 if ord(c) > 0xFFFF else 1 for c in text])
            self._py_start = {int(q): i for i, q in enumerate(np.r_[0, np.cumsum(widths)])}
        else:
            self._py_start = None
        self.rehighlight()

    def highlightBlock(self, text: str):
        if self.values is None:
            return
        position = self.currentBlock().position()
        start = self._py_start.get(position, 0) if self._py_start is not None else position
        values = self.values[start:start + len(text)]
        if not len(values):
            return
        levels = np.rint((np.clip(values, -1, 1) + 1) / 2 * (LEVELS - 1)).astype(int)
        widths = np.array([2 if ord(c) > 0xFFFF else 1 for c in text[:len(values)]]) \
            if self._py_start is not None else np.ones(len(values), int)
        offsets = np.r_[0, np.cumsum(widths)]
        cuts = np.r_[0, np.flatnonzero(np.diff(levels)) + 1, len(levels)]
        for a, b in zip(cuts[:-1], cuts[1:]):
            self.setFormat(int(offsets[a]), int(offsets[b] - offsets[a]), self.formats[levels[a]])


class CellTextView(QPlainTextEdit):
    """The recorded text; hovering a character tells its value and the likeliest next ones."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFont("monospace"))
        self.setMouseTracking(True)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.highlighter = CellHighlighter(self.document())
        self.recording = None
        self.cell = None

    def python_index(self, position: int) -> int:
        """A document position (UTF-16) -> an index into the recorded text."""
        text = self.recording.text if self.recording is not None else ""
        if all(ord(c) <= 0xFFFF for c in text[:position]):
            return position
        index = used = 0
        while index < len(text) and used < position:
            used += 2 if ord(text[index]) > 0xFFFF else 1
            index += 1
        return index

    def qt_position(self, index: int) -> int:
        """An index into the recorded text -> a document position (UTF-16)."""
        text = self.recording.text if self.recording is not None else ""
        return index + sum(1 for c in text[:index] if ord(c) > 0xFFFF)

    def selected_span(self):
        """(start, end) of the selected characters in the recorded text, or None."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return None
        start, end = self.python_index(cursor.selectionStart()), \
            self.python_index(cursor.selectionEnd())
        return (start, end) if end > start else None

    def show_span(self, start: int, end: int):
        """Select and scroll to characters ``start:end`` of the recorded text."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.qt_position(start))
        cursor.setPosition(self.qt_position(end), QTextCursor.KeepAnchor)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def hover_text(self, index: int) -> str:
        rec = self.recording
        if rec is None or not 0 <= index < len(rec):
            return ""
        lines = [f"{rec.text[index]!r} at character {index:,}"]
        if self.cell is not None:
            from desktop.tabs.look_inside.cell_list import cell_words
            lines.append(f"{cell_words(self.cell)} = {rec.display(self.cell)[index]:+.2f}")
        likely = ", ".join(f"{c!r} {p:.0%}" for c, p in rec.next_chars(index))
        lines.append(f"likeliest next: {likely}")
        return "\n".join(lines)

    def viewportEvent(self, event):
        if event.type() == QEvent.ToolTip and self.recording is not None:
            cursor = self.cursorForPosition(event.pos())
            position = cursor.position()      # between characters: take the one pointed at
            if event.pos().x() < self.cursorRect(cursor).x() and position > 0:
                position -= 1
            shown = self.hover_text(self.python_index(position))
            if shown:
                QToolTip.showText(event.globalPos(), shown, self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
