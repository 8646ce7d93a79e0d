"""Scrolling a settings column must not change the settings under the pointer: a number box, a
list or a slider takes the mouse wheel only once it has the keyboard focus (clicked or tabbed
into); otherwise the wheel goes on to what holds it, which scrolls."""
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollBar, QWidget

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """An event filter on each guarded widget (see ``guard``): a Python filter on the whole
    application would be called for every event there is."""

    def guard(self, root: QWidget):
        """Guard every number box, list and slider inside ``root`` (scroll bars excepted)."""
        for kind in GUARDED:
            for widget in root.findChildren(kind):
                if isinstance(widget, QScrollBar):
                    continue
                widget.installEventFilter(self)
                widget.setFocusPolicy(Qt.StrongFocus)      # the wheel never gives them focus

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Wheel and not watched.hasFocus():
            event.ignore()          # not taken here: Qt passes the wheel on to the parents
            return True
        return False
