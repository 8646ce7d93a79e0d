"""The Generate tab's single sample: the text streaming in (shaded by confidence if asked), its
sentiment badge, how much of it was copied from the training text (highlighted if asked), and
what to do with it: copy, save, continue writing it, look inside the model as it reads it."""
from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.tabs.generate.copied_text import CopiedTextChecker
from desktop.tabs.generate.sample_grid import badge, lines_tip
from desktop.tabs.generate.sample_view import SampleView


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


class OneSample(QWidget):
    BADGE_TIP = "What the sentiment model chosen in \"Judge with\" says about this sample"
    message = Signal(str)                 # what copy did, for the status bar
    save_clicked = Signal()
    continue_clicked = Signal()
    look_inside_clicked = Signal(str)     # the whole text

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.output = SampleView()
        self.badge = QLabel()
        self.badge.setToolTip(self.BADGE_TIP)
        self.novelty = QLabel()
        self.novelty.setWordWrap(True)
        self.novelty.setToolTip("How much of the sample is in the training text word for word "
                                "(20 characters or more in a row)")
        self.checker = CopiedTextChecker(engine, self.output, self.novelty)
        self.copy_button = _button("Copy", "Copy the text")
        self.save_button = _button("Save…", "Save the text to a file")
        self.continue_button = _button("Continue", "Go on writing from the end of this text, "
                                       "with the settings above")
        self.look_button = _button("Look inside", "See what the model's cells do as it reads "
                                   "this text (the Look inside tab)")
        self.footer = footer = QHBoxLayout()
        footer.setContentsMargins(0, 0, 0, 0)
        footer.addWidget(self.badge)
        footer.addWidget(self.novelty, 1)
        for b in (self.continue_button, self.copy_button, self.save_button, self.look_button):
            footer.addWidget(b)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.output, 1)
        box.addLayout(footer)
        self.busy = False
        self.output.textChanged.connect(lambda: self.set_buttons(self.busy))
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.save_clicked)
        self.continue_button.clicked.connect(self.continue_clicked)
        self.look_button.clicked.connect(
            lambda: self.look_inside_clicked.emit(self.output.toPlainText()))

    def start(self, prime: str, shaded: bool):
        """A new text (or a continuation) starting with ``prime``."""
        self.checker.clear()
        self.badge.clear()
        self.badge.setToolTip(self.BADGE_TIP)
        self.output.show_confidence = shaded
        self.output.start(prime)

    def on_event(self, item):
        """What the sampling job yields: lists of SampledChar, then the CellScores."""
        if isinstance(item, list):
            self.output.append_chars(item)
        else:
            self.badge.setText(badge(item.label, item.probability))
            self.badge.setToolTip(f"{self.BADGE_TIP}; line by line:\n{lines_tip(item.lines)}")

    def copy(self):
        text = self.output.toPlainText()
        QGuiApplication.clipboard().setText(text)
        self.message.emit(f"Copied {len(text):,} characters.")

    def set_buttons(self, busy: bool):
        self.busy, has_text = busy, bool(self.output.toPlainText())
        for b in (self.copy_button, self.save_button, self.look_button):
            b.setEnabled(has_text)
        self.continue_button.setEnabled(has_text and not busy)
