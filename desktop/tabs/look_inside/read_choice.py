"""What the Look inside view reads: the generator (a list of runs), the text (a slice of its
training text, a new sample, the Generate tab's last sample, your own text, a file), where a
slice starts and how long it is, and Record / Stop."""
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.kinds import GENERATOR

from desktop.widgets.common import spin
from desktop.widgets.run_picker import RunPicker

SLICE, NEW, LAST, OWN, FILE = SOURCES = (
    "A slice of the training text", "A new sample", "The last sample of the Generate tab",
    "Your own text", "A text file…")
RECORD_TIP = ("Run the model over the text and keep every cell's value at every character (on "
              "the engine thread)")


class ReadChoice(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs = RunPicker(GENERATOR)
        self.runs.setToolTip("The text generator to look inside (the one chosen in the "
                             "Generate tab)")
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.source.setToolTip("What to read: a stretch of the text the model learned from, "
                               "a sample it writes now, the Generate tab's sample, or a text "
                               "you paste or open")
        self.start = spin(0, 2_000_000_000, 0, "Where the slice starts (characters)", 1000)
        self.length = spin(100, 100_000, 5000, "Characters to read (memory grows with it: "
                           "8 KiB per character for a 2 x 512 LSTM)", 1000)
        self.record_button = QPushButton("Record")
        self.record_button.setToolTip(RECORD_TIP)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop recording")
        self.stop_button.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for text, w in (("Model", self.runs), ("Text", self.source), ("from", self.start),
                        ("characters", self.length)):
            caption = QLabel(text)
            caption.setToolTip(w.toolTip())
            row.addWidget(caption)
            row.addWidget(w)
        row.addWidget(self.record_button)
        row.addWidget(self.stop_button)
        self.record_waits = QLabel()     # why Record is greyed, on screen (not only its tooltip)
        self.record_waits.setStyleSheet("color: #b35900")
        row.addWidget(self.record_waits)
        row.addStretch(1)
        self.source.currentIndexChanged.connect(self._enable)
        self._enable()

    def _enable(self):
        """A slice has a start and a length, a new sample a length; the rest bring their own."""
        source = self.source.currentText()
        self.start.setEnabled(source == SLICE)
        self.length.setEnabled(source in (SLICE, NEW))

    def set_buttons(self, has_run: bool, busy: bool, training: bool):
        # one engine thread: a recording waits while a model trains
        self.record_button.setEnabled(has_run and not busy and not training)
        waits = "Recording waits until the training ends (one engine for both)"
        self.record_button.setToolTip(waits if training else RECORD_TIP)
        self.record_waits.setText("Record waits until the training ends." if training else "")
        self.stop_button.setEnabled(busy)
