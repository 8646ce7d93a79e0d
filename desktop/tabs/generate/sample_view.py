"""The generated-text view: text streams in; optionally each character is shaded by how sure the
model was, and hovering shows the likeliest alternatives it considered."""
from typing import List

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QToolTip


def confidence_colour(prob: float) -> QColor:
    """Unsure characters get a warm, translucent background (readable in light and dark)."""
    colour = QColor(255, 120, 0)
    colour.setAlphaF(max(0.0, min(0.65, (1.0 - prob) * 0.8)))
    return colour


def confidence_legend() -> str:
    """Rich text: the shading's scale, from sure to unsure."""
    cells = []
    for prob, word in ((1.0, "sure"), (0.6, ""), (0.3, ""), (0.0, "unsure")):
        c = confidence_colour(prob)
        cells.append(f'<span style="background-color: rgba({c.red()},{c.green()},{c.blue()},'
                     f'{c.alphaF():.2f})">&nbsp;{word or "&nbsp;&nbsp;"}&nbsp;</span>')
    return "".join(cells)


class SampleView(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFont("monospace"))
        self.setMouseTracking(True)
        self.show_confidence = False
        self._info: List[tuple] = []   # per generated character: (position, char, prob, alternatives)

    def start(self, prime: str):
        """A new text, starting with ``prime``, in the plain format: ``clear`` keeps the
        cursor's last format, which would shade the prime like the previous text's end."""
        self.clear()
        self._info = []
        self.setCurrentCharFormat(QTextCharFormat())
        self.insertPlainText(prime)

    def append_chars(self, chars):
        """Append SampledChar items (engine.generator.sampling.sample.SampledChar)."""
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.End)
        plain = QTextCharFormat()
        for ch in chars:
            self._info.append((cursor.position(), ch.char, ch.prob, ch.alternatives))
            if self.show_confidence:
                fmt = QTextCharFormat()
                fmt.setBackground(confidence_colour(ch.prob))
                cursor.insertText(ch.char, fmt)
            else:
                cursor.insertText(ch.char, plain)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def generated_text(self) -> str:
        return "".join(c for _, c, _, _ in self._info)

    def info_at(self, position: int):
        for pos, _, prob, alts in self._info:
            if pos == position:
                return prob, alts
        return None

    def viewportEvent(self, event):
        if event.type() == QEvent.ToolTip and self._info:
            cursor = self.cursorForPosition(event.pos())
            info = self.info_at(cursor.position()) or self.info_at(cursor.position() - 1)
            if info:
                prob, alts = info
                shown = ", ".join(f"{c!r} {p:.0%}" for c, p in alts)
                QToolTip.showText(event.globalPos(), f"chosen with p = {prob:.2f}\nlikeliest: {shown}",
                                  self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
