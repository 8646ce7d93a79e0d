"""RNN Studio's main window: Generate, Sentiment and Models tabs over one engine thread."""
import logging
import sys

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QTabWidget

from .common import plain_words
from .generate_tab import SAMPLE, TRAIN, GenerateTab
from .guide import show_guide
from .models_tab import ModelsTab
from .sentiment_tab import TRAIN as SENTIMENT_TRAIN
from .sentiment_tab import SentimentTab
from .settings import settings
from .workers import EngineThread, MainThreadGarbageCollector


def dark_palette() -> QPalette:
    p = QPalette()
    base, text = QColor(37, 37, 38), QColor(220, 220, 220)
    for role, colour in ((QPalette.Window, QColor(45, 45, 48)), (QPalette.WindowText, text),
                         (QPalette.Base, base), (QPalette.AlternateBase, QColor(50, 50, 52)),
                         (QPalette.Text, text), (QPalette.Button, QColor(55, 55, 58)),
                         (QPalette.ButtonText, text), (QPalette.Highlight, QColor(42, 130, 218)),
                         (QPalette.HighlightedText, Qt.white), (QPalette.ToolTipBase, base),
                         (QPalette.ToolTipText, text), (QPalette.PlaceholderText, QColor(140, 140, 140))):
        p.setColor(role, colour)
    # disabled controls must look disabled: grey text on a flatter button
    dim = QColor(115, 115, 118)
    for role in (QPalette.ButtonText, QPalette.WindowText, QPalette.Text):
        p.setColor(QPalette.Disabled, role, dim)
    p.setColor(QPalette.Disabled, QPalette.Button, QColor(45, 45, 48))
    p.setColor(QPalette.Disabled, QPalette.Base, QColor(45, 45, 48))
    # Fusion draws radio and check box outlines from these: light enough to see on dark grey
    for role, grey in ((QPalette.Light, 120), (QPalette.Midlight, 95), (QPalette.Mid, 80),
                       (QPalette.Dark, 25), (QPalette.Shadow, 15)):
        p.setColor(role, QColor(grey, grey, grey))
    return p


DARK_RADIOS = """
QRadioButton::indicator { width: 11px; height: 11px; border-radius: 6px;
                          border: 1px solid #a8a8a8; background: #252526; }
QRadioButton::indicator:checked { background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5,
    fx: 0.5, fy: 0.5, stop: 0 #4a9eea, stop: 0.5 #4a9eea, stop: 0.6 #252526); }
QRadioButton::indicator:disabled { border-color: #6a6a6a; }
"""


class EngineWarnings(QObject, logging.Handler):
    """The engine's warnings (a damaged checkpoint fallen back from, skipped rows) from any
    thread, re-emitted as a signal that the window receives on the GUI thread."""
    warned = Signal(str)

    def __init__(self, parent=None):
        QObject.__init__(self, parent)
        logging.Handler.__init__(self, logging.WARNING)

    def emit(self, record):                  # logging's emit, called on the logging thread
        self.warned.emit(record.getMessage())


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("RNN Studio")
        self.resize(1280, 860)
        self.last_error = None
        self.confirm_close = True            # tests switch the question off
        self.collector = MainThreadGarbageCollector(self)   # before the engine thread starts
        self.engine = EngineThread(self)
        self.generate = GenerateTab(self.engine, self)
        self.sentiment = SentimentTab(self.engine, self)
        self.models = ModelsTab(self.engine, self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.generate, "Generate")
        self.tabs.addTab(self.sentiment, "Sentiment")
        self.tabs.addTab(self.models, "Models")
        self.setCentralWidget(self.tabs)
        self.statusBar()
        self.generate.runs_changed.connect(self.runs_changed)
        self.sentiment.runs_changed.connect(self.runs_changed)
        self.models.load_requested.connect(self.load_run)
        self.engine.busy_changed.connect(
            lambda busy: self.statusBar().showMessage("Working…" if busy else "Ready", 0 if busy else 3000))
        self.last_warning = None
        self.engine_warnings = EngineWarnings(self)
        self.engine_warnings.warned.connect(self.show_warning)
        logging.getLogger("rnn_studio").addHandler(self.engine_warnings)
        self._menus()
        self._shortcuts()
        s = settings()
        self.tabs.setCurrentIndex(int(s.value("window/tab", 0)))
        if s.value("window/geometry"):
            self.restoreGeometry(s.value("window/geometry"))
        if s.value("window/dark") in (True, "true"):
            self.dark_action.setChecked(True)

    def _menus(self):
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view = self.menuBar().addMenu("&View")
        self.dark_action = QAction("&Dark theme", self, checkable=True)
        self.dark_action.toggled.connect(self.set_dark)
        view.addAction(self.dark_action)
        help_menu = self.menuBar().addMenu("&Help")
        guide = QAction("&Guide", self, shortcut=QKeySequence.HelpContents)
        guide.triggered.connect(lambda: show_guide(self))
        help_menu.addAction(guide)
        about = QAction("&About RNN Studio", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "RNN Studio", "Train character-level text generators and word-level sentiment "
            "classifiers on your own machine.\nMXNet Gluon, gluonnlp, nltk, PySide6. MIT licence."))
        help_menu.addAction(about)

    def _shortcuts(self):
        for keys, action in (("Ctrl+T", self.train_current), ("Ctrl+G", self.generate.generate),
                             ("Esc", self.stop_current)):
            QShortcut(QKeySequence(keys), self, activated=action)

    def train_current(self):
        if self.tabs.currentWidget() is self.sentiment:
            self.sentiment.start_training(False)
        else:
            self.generate.start_training(False)

    def stop_current(self):
        if self.tabs.currentWidget() is self.sentiment:
            self.engine.stop(SENTIMENT_TRAIN)
        elif self.engine.running(SAMPLE):
            self.engine.stop(SAMPLE)
        else:
            self.engine.stop(TRAIN)

    def set_dark(self, on: bool):
        app = QApplication.instance()
        app.setPalette(dark_palette() if on else app.style().standardPalette())
        # Fusion draws an unchecked radio button dark on dark: give it a visible ring
        self.setStyleSheet(DARK_RADIOS if on else "")
        settings().setValue("window/dark", on)

    def show_error(self, title: str, message: str):
        """A readable, non-blocking dialog (never a traceback), in the app's words."""
        message = plain_words(message)
        self.last_error = (title, message)
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModal)
        box.open()

    @Slot(str)
    def show_warning(self, message: str):
        """An engine warning, in the status bar (it is worth knowing, not worth a dialog)."""
        self.last_warning = message
        self.statusBar().showMessage(f"Note: {message}", 20000)

    def runs_changed(self):
        self.models.refresh()
        self.generate.refresh_runs()
        self.sentiment.refresh_runs()

    def load_run(self, kind: str, name: str):
        if kind == "generator":
            self.generate.select_run(name)
            self.tabs.setCurrentWidget(self.generate)
        else:
            self.sentiment.select_run(name)
            self.tabs.setCurrentWidget(self.sentiment)

    def closeEvent(self, event):
        if self.engine.busy and self.confirm_close:
            answer = QMessageBox.question(self, "Quit while working?", "A job is still running. "
                                          "Stop it (training saves what it has learned) and quit?")
            if answer != QMessageBox.Yes:
                event.ignore()
                return
        self.generate.save_settings()
        self.sentiment.save_settings()
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/tab", self.tabs.currentIndex())
        self.statusBar().showMessage("Stopping and saving…")
        self.engine.shutdown()
        self.collector.stop()
        logging.getLogger("rnn_studio").removeHandler(self.engine_warnings)
        event.accept()


def main(argv=None) -> int:
    from .platform_check import display_problem
    problem = display_problem()
    if problem:
        print(f"rnn-studio: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("RNN Studio")
    app.setOrganizationName("rnn-studio")
    app.setStyle("Fusion")
    window = MainWindow()
    window.show()
    return app.exec()
