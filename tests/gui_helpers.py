"""What the GUI tests share: a real main window (offscreen) over a fresh home and fresh
settings, waiting for the engine thread, tiny settings to train with, and answering dialogs."""
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from .conftest import run_cli  # noqa: E402

WAIT_MS = 180_000


@pytest.fixture(name="window")
def _window(qtbot, tmp_path):
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(tmp_path / "settings"))
    from desktop.app import MainWindow
    win = MainWindow()
    win.resize(1280, 720)             # the size it is made for (a first start fits the screen:
    #                                   the offscreen one is 800 pixels wide)
    win.confirm_close = False         # closed and deleted by close_for_good, not by qtbot
    win.show()
    wait_idle(qtbot, win)
    yield win
    close_for_good(win)


def close_for_good(win):
    """Close, then collect the window's reference cycles here, on the GUI thread (collected
    later on some engine thread, Qt objects would be destroyed off the GUI thread)."""
    import gc
    win.close()
    win.deleteLater()
    QTest.qWait(10)
    gc.collect()


def wait_idle(qtbot, win, timeout=WAIT_MS):
    qtbot.waitUntil(lambda: not win.engine.busy, timeout=timeout)


def set_tiny_generator(tab, text_file, name="gui-gen", epochs=3.0):
    tab.picker.add(str(text_file))
    tab.settings.set_values({"hidden_size": 32, "embed_size": 8, "num_layers": 1, "dropout": 0.0,
                             "seq_len": 20, "batch_size": 8, "lr": 0.01, "epochs": epochs})
    tab.run_name.setText(name)


def set_tiny_sentiment(tab, data, name="gui-sent", epochs=6):
    tab.picker.add(str(data))
    tab.settings.set_values({"hidden_size": 16, "embed_size": 16, "epochs": epochs})
    tab.run_name.setText(name)


def train_and_wait(qtbot, win, tab):
    wait_idle(qtbot, win)
    tab.panel.train_button.click()
    wait_idle(qtbot, win)
    assert win.last_error is None, win.last_error


def answer_dialog(qtbot, answer, fill=None, then=()):
    """Once a modal dialog opens, optionally type ``fill`` into its line edit, then press its
    ``answer`` button (a QMessageBox standard button, a button's label, or "ok" / "cancel" for
    input dialogs); ``then``: the answers for the dialogs that follow it, in turn. Returns a
    list that receives each answered dialog's text."""
    from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QMessageBox
    seen, answers = [], [answer, *then]

    def poll():
        box = QApplication.activeModalWidget()
        if box is None or getattr(box, "_answered", False):
            QTimer.singleShot(20, poll)
            return
        box._answered = True
        reply = answers.pop(0)
        if fill is not None and not seen:
            box.findChild(QLineEdit).setText(fill)
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            if isinstance(reply, str):           # a button of the dialog's own, by its label
                button = next(b for b in box.buttons() if b.text() == reply)
            else:
                button = box.button(reply)
        else:
            seen.append(box.windowTitle())
            role = QDialogButtonBox.Ok if reply == "ok" else QDialogButtonBox.Cancel
            button = box.findChild(QDialogButtonBox).button(role)
        if answers:
            QTimer.singleShot(20, poll)
        button.click()
    QTimer.singleShot(0, poll)
    return seen


def make_runs(studio_home, text_file, *names, epochs="0.05"):
    for name in names:
        result = run_cli("generator", "train", "--corpus", text_file, "--out", name, "--hidden",
                         "16", "--embed", "8", "--layers", "1", "--seq-len", "10", "--batch", "4",
                         "--epochs", epochs)
        assert result.returncode == 0, result.stderr
