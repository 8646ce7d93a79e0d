"""The advice on a tab's data and settings (engine/advice.py): each item one line, red when it
stops training, orange when training works with a caveat, with its fix as a button."""
from typing import List

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.advice import Advice

BLOCKS, CAVEAT = "#d73a49", "#d9822b"


class AdviceView(QWidget):
    fix_requested = Signal(dict)          # the settings a fix button sets

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.items: List[Advice] = []
        self.buttons: List[QPushButton] = []
        self.labels: List[QLabel] = []

    def show_advice(self, items: List[Advice]):
        if items == self.items:
            return                          # unchanged: keep the widgets (and any focus)
        self.items = list(items)
        while self.layout_.count():
            widget = self.layout_.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.buttons, self.labels = [], []
        for item in self.items:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            text = QLabel(("Cannot train: " if item.blocks else "") + item.text)
            text.setWordWrap(True)
            text.setStyleSheet(f"color: {BLOCKS if item.blocks else CAVEAT}")
            line.addWidget(text, 1)
            self.labels.append(text)
            if item.fix:
                button = QPushButton(item.fix_label)
                button.setToolTip("Change the settings to " + ", ".join(
                    f"{k.replace('_', ' ')} {v}" for k, v in item.fix.items()))
                button.clicked.connect(lambda _=False, fix=dict(item.fix): self.fix_requested.emit(fix))
                line.addWidget(button)
                self.buttons.append(button)
            self.layout_.addWidget(row)

    @property
    def blocks(self) -> bool:
        return any(a.blocks for a in self.items)

    def text(self) -> str:
        return "\n".join(a.text for a in self.items)

    def clear(self):
        self.show_advice([])
