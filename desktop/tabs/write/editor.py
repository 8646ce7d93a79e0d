"""The Write tab's editor: the person's text, with suggestions shown inline in grey at the
cursor. Tab asks for suggestions; while they show, Up/Down cycle them, Tab or Return accepts,
Esc or any other key rejects (the key then does what it does). The grey text is in the document
only while it shows: ``text()`` is always the person's own text."""
from typing import List

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

GREY = QColor(140, 140, 140)
KEYS = (Qt.Key_Up, Qt.Key_Down, Qt.Key_Tab, Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape)


class SuggestEditor(QPlainTextEdit):
    wanted = Signal()                   # Tab with nothing showing: suggestions, please
    shown = Signal(int, int)            # which suggestion shows (from 0), of how many
    settled = Signal()                  # the suggestions went (accepted or rejected)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.options: List[str] = []
        self.current = 0
        self.at = None                  # where the grey text starts
        self.showing = False            # the grey text's edits are not the person's

    # ---- the person's text -------------------------------------------------------------------
    def text(self) -> str:
        text = self.toPlainText()
        if self.options:
            length = len(self.options[self.current])
            text = text[:self.at] + text[self.at + length:]
        return text

    def before_cursor(self) -> str:
        position = self.at if self.options else self.textCursor().position()
        return self.toPlainText()[:position]

    # ---- suggestions -------------------------------------------------------------------------
    def offer(self, options: List[str], position: int):
        """Show ``options`` at ``position`` (where the cursor was when they were asked for);
        nothing happens if the cursor has moved since."""
        self.reject()
        if not options or self.textCursor().position() != position:
            return
        self.options, self.current, self.at = list(options), 0, position
        self._put(self.options[0])

    def _put(self, text: str, grey: bool = True):
        cursor = self.textCursor()
        cursor.setPosition(self.at)
        fmt = QTextCharFormat()
        if grey:
            fmt.setForeground(GREY)
        self.showing = True
        modified = self.document().isModified()
        cursor.insertText(text, fmt)
        self.document().setModified(modified)
        self.showing = False
        cursor.setPosition(self.at)
        self.setTextCursor(cursor)
        self.shown.emit(self.current, len(self.options))

    def _take_out(self):
        cursor = self.textCursor()
        cursor.setPosition(self.at)
        cursor.setPosition(self.at + len(self.options[self.current]), QTextCursor.KeepAnchor)
        self.showing = True
        modified = self.document().isModified()
        cursor.removeSelectedText()
        self.document().setModified(modified)
        self.showing = False

    def cycle(self, by: int):
        self._take_out()
        self.current = (self.current + by) % len(self.options)
        self._put(self.options[self.current])

    def accept(self):
        if not self.options:
            return
        text = self.options[self.current]
        self._take_out()
        self.options = []
        cursor = self.textCursor()
        cursor.setPosition(self.at)
        cursor.insertText(text, QTextCharFormat())          # the person's now: one undo step
        self.setTextCursor(cursor)
        self.settled.emit()

    def reject(self):
        if not self.options:
            return
        self._take_out()
        self.options = []
        self.settled.emit()

    def event(self, event):
        """While suggestions show, their keys are the editor's, not the window's shortcuts
        (Esc is also the window's Stop)."""
        if event.type() == QEvent.ShortcutOverride and self.options and event.key() in KEYS:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        key = event.key()
        if self.options:
            if key in (Qt.Key_Up, Qt.Key_Down):
                self.cycle(-1 if key == Qt.Key_Up else 1)
                return
            if key in (Qt.Key_Tab, Qt.Key_Return, Qt.Key_Enter):
                self.accept()
                return
            self.reject()
            if key == Qt.Key_Escape:
                return
        elif key == Qt.Key_Tab and not event.modifiers():
            self.wanted.emit()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event):
        self.reject()
        super().mousePressEvent(event)
