"""RNN Studio's main window: Generate, Look inside, Sentiment and Models tabs over one engine
thread."""
import logging
import sys

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QTabWidget

from engine.errors import StudioError
from engine.kinds import GENERATOR, KINDS, SENTIMENT
from engine.wording import in_app_words

from desktop.tabs.compare.tab import CompareTab
from desktop.guide import show_guide
from desktop.tabs.look_inside.tab import JOB as LOOK_JOB
from desktop.tabs.look_inside.tab import LookInsideView
from desktop.tabs.models.tab import ModelsTab
from desktop.recent import recent
from desktop.tabs.write.tab import WriteTab
from desktop.settings import settings
from desktop.widgets.wheel_guard import WheelGuard
from desktop.workers import EngineThread, MainThreadGarbageCollector


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
        worded = isinstance(record.msg, StudioError) and not record.args
        self.warned.emit(in_app_words(record.msg) if worded else record.getMessage())


FRAME_ALLOWANCE = 40      # pixels kept for a window manager's title bar and bottom border
FRAME_BORDER = 4          # and for each side border


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("RNN Studio")
        self.resize(1280, 720)
        self.last_error = None
        self.confirm_close = True            # tests switch the question off
        self.collector = MainThreadGarbageCollector(self)   # before the engine thread starts
        self.engine = EngineThread(self)
        # each kind brings its own training tab (its entry's where["app_tab"]), in the registry's
        # order; Look inside follows the generator's tab, whose models it looks into
        self.training_tabs = {kind.name: kind.get("app_tab")(self.engine, self)
                              for kind in KINDS.values() if "app_tab" in kind.where}
        assert set(self.training_tabs) == set(KINDS), "a kind of model without a tab"
        self.generate = self.training_tabs[GENERATOR.name]
        self.sentiment = self.training_tabs[SENTIMENT.name]
        self.look_inside = LookInsideView(self.engine)
        self.models = ModelsTab(self.engine, self)
        self.compare = CompareTab(self.engine, self)
        self.write = WriteTab(self.engine, self)
        self.tabs = QTabWidget()
        for kind in KINDS.values():
            tab = self.training_tabs[kind.name]
            self.tabs.addTab(tab, getattr(tab, "title", kind.called.capitalize()))
            if tab is self.generate:
                self.tabs.addTab(self.look_inside, "Look inside")
        self.tabs.addTab(self.models, "Models")
        self.tabs.addTab(self.compare, "Compare cells")
        self.tabs.addTab(self.write, "Write")
        self.tabs.setTabToolTip(self.tabs.indexOf(self.write), "Write your own text with "
                                "suggestions from a trained generator")
        self.tabs.setTabToolTip(self.tabs.indexOf(self.compare), "LSTM, GRU and a plain RNN "
                                "trained on the same text and budget, measured side by side")
        self.compare.runs_changed.connect(self.runs_changed)
        self.tabs.setTabToolTip(self.tabs.indexOf(self.look_inside), "What a text generator's "
                                "cells track, as it reads a text")
        self._follow_the_generator()
        self.setCentralWidget(self.tabs)
        # "Working…" stays in a corner of its own: a menu's hints use the status bar's message
        self.working = QLabel("")
        self.working.setToolTip("Whether the engine is busy (training, reading, generating)")
        self.statusBar().addPermanentWidget(self.working)
        for tab in self.training_tabs.values():
            tab.runs_changed.connect(self.runs_changed)
        self.models.load_requested.connect(self.load_run)
        self.engine.busy_changed.connect(self._show_busy)
        self.wheel_guard = WheelGuard(self)
        self.wheel_guard.guard(self)
        self.last_warning = None
        self.engine_warnings = EngineWarnings(self)
        self.engine_warnings.warned.connect(self.show_warning)
        logging.getLogger("rnn_studio").addHandler(self.engine_warnings)
        self._menus()
        self._shortcuts()
        s = settings()
        if s.value("window/geometry"):           # a returning user: where they left it
            self.restoreGeometry(s.value("window/geometry"))
            self.tabs.setCurrentIndex(int(s.value("window/tab", 0)))
        else:
            self.fit_first_start()
        if s.value("window/dark") in (True, "true"):
            self.dark_action.setChecked(True)

    def fit_first_start(self):
        """A first start opens on Generate, the whole window (title bar included) inside the
        screen's available area: 1280x720 where there is room, less on a smaller screen. The
        window manager's frame is not known before the window is shown, so room is kept for a
        title bar of up to FRAME_ALLOWANCE pixels."""
        self.tabs.setCurrentWidget(self.generate)
        area = self.screen().availableGeometry()
        width = min(1280, area.width() - 2 * FRAME_BORDER)
        height = min(720, area.height() - FRAME_ALLOWANCE)
        self.resize(max(width, self.minimumSizeHint().width()), height)
        self.move(area.x() + (area.width() - self.width()) // 2 - FRAME_BORDER,
                  area.y() + max(0, (area.height() - FRAME_ALLOWANCE - self.height()) // 2))

    def _follow_the_generator(self):
        """The Look inside tab looks inside the generator chosen in the Generate tab (and a
        choice there is made here too); its "last sample" is the Generate tab's."""
        runs, look = self.generate.runs, self.look_inside
        look.last_sample = self.generate.sampling.output.toPlainText
        look.refresh_runs()
        look.choose_run(runs.currentText())
        runs.currentIndexChanged.connect(lambda _: look.choose_run(runs.currentText()))
        look.runs.currentIndexChanged.connect(lambda _: self._choose_generator(
            look.runs.currentText()))
        self.generate.look_inside_requested.connect(self.show_look_inside)
        # a run chosen quietly there (a training just finished) is followed when it shows
        self.tabs.currentChanged.connect(lambda _: self.tabs.currentWidget() is look and
                                         look.choose_run(runs.currentText()))

    def _choose_generator(self, name: str):
        if name and name != self.generate.runs.currentText():
            self.generate.runs.refresh(select=name)
            self.generate.sampling.update_buttons()

    def show_look_inside(self, text: str):
        """The Generate tab's "Look inside": record its sample in the Look inside tab."""
        self.tabs.setCurrentWidget(self.look_inside)
        self.look_inside.choose_run(self.generate.runs.currentText())
        self.look_inside.record_sample(text)

    def _show_busy(self, busy: bool):
        self.working.setText("Working…" if busy else "Ready")

    def _menus(self):
        file_menu = self.menuBar().addMenu("&File")
        for label, keys, tab in (("Open &text…", QKeySequence.Open, self.generate),
                                 ("Open &labeled data…", "Ctrl+L", self.sentiment)):
            action = QAction(label, self, shortcut=QKeySequence(keys))
            action.setStatusTip(tab.picker.open_buttons[0].toolTip())
            action.triggered.connect(lambda _=False, tab=tab: self.open_data(tab))
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("&Recent files")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        export = QAction("&Export…", self, shortcut=QKeySequence("Ctrl+E"))
        export.setStatusTip("Export the model chosen in the Models tab (or the current tab's)")
        export.triggered.connect(self.export_current)
        file_menu.addAction(export)
        file_menu.addSeparator()
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

    def open_data(self, tab):
        """File > Open…: the tab's own file dialog, on its tab."""
        self.tabs.setCurrentWidget(tab)
        tab.picker.open_buttons[0].click()

    def _fill_recent(self):
        self.recent_menu.clear()
        files = recent()
        for kind, path in files:
            tab = self.training_tabs.get(kind)
            if tab is None:
                continue
            action = self.recent_menu.addAction(f"{path}  ({KINDS[kind].called})")
            action.triggered.connect(lambda _=False, tab=tab, path=path: self.open_recent(tab,
                                                                                         path))
        if not files:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def open_recent(self, tab, path: str):
        self.tabs.setCurrentWidget(tab)
        tab.picker.add(path)

    def export_current(self):
        """File > Export…: the run selected in the Models tab, else the current tab's."""
        current = self.tabs.currentWidget()
        if current is not self.models and getattr(current, "runs", None) is not None and \
                current.runs.currentText():
            self.models.refresh()
            self.models.select(current.runs.currentText())
        self.tabs.setCurrentWidget(self.models)
        if self.models.selected_names():
            self.models.choose_export_folder()
        else:
            self.show_error("Nothing to export", "Choose a model in the list first.")

    def _shortcuts(self):
        for keys, action in (("Ctrl+T", self.train_current), ("Ctrl+G", self.generate.generate),
                             ("Esc", self.stop_current)):
            QShortcut(QKeySequence(keys), self, activated=action)

    def current_training_tab(self):
        current = self.tabs.currentWidget()
        return current if current in self.training_tabs.values() else None

    def train_current(self):
        (self.current_training_tab() or self.generate).start_training(False)

    def stop_current(self):
        """Esc: stop the current tab's training, or the text being generated."""
        tab = self.current_training_tab()
        if tab is self.generate and self.generate.sampling.busy:
            self.generate.sampling.stop()
        elif tab is not None:
            tab.stop_training()
        elif self.tabs.currentWidget() is self.look_inside:
            self.engine.stop(LOOK_JOB)

    def set_dark(self, on: bool):
        app = QApplication.instance()
        app.setPalette(dark_palette() if on else app.style().standardPalette())
        # Fusion draws an unchecked radio button dark on dark: give it a visible ring
        self.setStyleSheet(DARK_RADIOS if on else "")
        settings().setValue("window/dark", on)

    def show_error(self, title: str, message):
        """A readable, non-blocking dialog (never a traceback), in the app's words: a
        StudioError names settings by their labels, and every message starts with a capital."""
        message = in_app_words(message)
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
        for tab in self.training_tabs.values():
            tab.refresh_runs()
        self.look_inside.refresh_runs()
        self.write.refresh_runs()

    def load_run(self, kind: str, name: str):
        tab = self.training_tabs[kind]
        tab.select_run(name)
        self.tabs.setCurrentWidget(tab)

    def closeEvent(self, event):
        if self.engine.busy and self.confirm_close:
            answer = QMessageBox.question(self, "Quit while working?", "A job is still running. "
                                          "Stop it (training saves what it has learned) and quit?")
            if answer != QMessageBox.Yes:
                event.ignore()
                return
        for tab in self.training_tabs.values():
            tab.save_settings()
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/tab", self.tabs.currentIndex())
        self.statusBar().showMessage("Stopping and saving…")
        self.engine.shutdown()
        self.collector.stop()
        logging.getLogger("rnn_studio").removeHandler(self.engine_warnings)
        event.accept()


def main(argv=None) -> int:
    from desktop.platform_check import display_problem
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
