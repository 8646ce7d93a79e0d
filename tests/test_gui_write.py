"""The Write tab through its real widgets: a tiny trained run, keys pressed on the editor
(Tab shows grey suggestions, Down cycles, Return accepts, Esc rejects), a run deleted while in
use, suggestions that arrive while a real training runs (the engine's interactive lane), and the
document recovered after a real kill -9 of a real app process."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from engine.storage.paths import runs_dir  # noqa: E402

from .gui_helpers import WAIT_MS, _window, set_tiny_generator, wait_idle  # noqa: E402,F401
from .helpers import TINY, tiny_train, train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ready_tab(qtbot, window, text, name="write-gen"):
    train(runs_dir() / name, text, TINY, tiny_train(epochs=3, precision="fp32"))
    window.runs_changed()
    tab = window.write
    window.tabs.setCurrentWidget(tab)
    tab.runs.setCurrentIndex(tab.runs.findText(name))
    qtbot.waitUntil(lambda: tab.state is not None and not window.engine.busy, timeout=60000)
    return tab


def press_tab_for_suggestions(qtbot, window, tab):
    QTest.keyClick(tab.editor, Qt.Key_Tab)
    qtbot.waitUntil(lambda: bool(tab.editor.options), timeout=60000)


def test_tab_suggests_in_grey_down_cycles_return_accepts_esc_rejects(qtbot, window, text):
    tab = ready_tab(qtbot, window, text)
    tab.count.setValue(3)
    tab.temperature.setValue(1.5)
    tab.ends.setCurrentText("line")
    editor = tab.editor
    editor.setFocus()
    QTest.keyClicks(editor, "the quick brown fox jumps over ")
    wait_idle(qtbot, window)
    press_tab_for_suggestions(qtbot, window, tab)
    typed = "the quick brown fox jumps over "
    first = editor.options[0]
    assert editor.toPlainText() == typed + first and editor.text() == typed
    cursor = editor.textCursor()
    cursor.setPosition(len(typed) + 1)
    assert cursor.charFormat().foreground().color().name() == "#8c8c8c"    # grey
    assert "Suggestion 1 of" in tab.which.text()
    if len(editor.options) > 1:
        QTest.keyClick(editor, Qt.Key_Down)
        assert editor.current == 1
        assert editor.toPlainText() == typed + editor.options[1]
    chosen = editor.options[editor.current]
    QTest.keyClick(editor, Qt.Key_Return)
    assert not editor.options and editor.toPlainText() == typed + chosen
    assert editor.document().isModified()
    # Esc rejects: the text goes back to what was typed
    after = editor.toPlainText()
    press_tab_for_suggestions(qtbot, window, tab)
    QTest.keyClick(editor, Qt.Key_Escape)
    assert editor.toPlainText() == after and not editor.options
    # any other key rejects, then types
    press_tab_for_suggestions(qtbot, window, tab)
    QTest.keyClicks(editor, "z")
    assert editor.toPlainText() == after + "z"


def test_unknown_characters_told_once_and_a_deleted_run_is_said(qtbot, window, text):
    tab = ready_tab(qtbot, window, text, "write-gone")
    tab.editor.setFocus()
    tab.editor.insertPlainText("the “fox” ")      # pasted: QTest types Latin-1 keys only
    press_tab_for_suggestions(qtbot, window, tab)
    assert "cannot see" in tab.status.text() and "“" in tab.status.text()
    QTest.keyClick(tab.editor, Qt.Key_Escape)
    shutil.rmtree(runs_dir() / "write-gone")
    QTest.keyClick(tab.editor, Qt.Key_Tab)
    assert "was deleted while in use" in tab.status.text()
    assert tab.editor.text() == "the “fox” "


def test_suggestions_do_not_wait_behind_a_training(qtbot, window, text, text_file,
                                                   monkeypatch):
    """A real training runs in the Generate tab (its budget half a minute); meanwhile the
    Write tab loads its model and Tab brings suggestions, drawn on the interactive lane, while
    the training is still running; then the training is stopped and saves as usual."""
    from PySide6.QtCore import QThread

    from engine.generator.writing import WritingState
    from desktop.workers import INTERACTIVE
    train(runs_dir() / "write-beside", text, TINY, tiny_train(epochs=3, precision="fp32"))
    threads = []
    real_suggest = WritingState.suggest
    monkeypatch.setattr(WritingState, "suggest", lambda *a, **k: threads.append(
        QThread.currentThread()) or real_suggest(*a, **k))
    generate = window.generate
    window.tabs.setCurrentWidget(generate)
    set_tiny_generator(generate, text_file, "long-training", epochs=10_000)
    generate.settings.set_values({"minutes": 0.5, "log_interval": 1})
    wait_idle(qtbot, window)
    generate.panel.train_button.click()
    qtbot.waitUntil(lambda: generate.panel.chart.points("train") >= 1, timeout=WAIT_MS)
    window.runs_changed()
    tab = window.write
    window.tabs.setCurrentWidget(tab)
    tab.runs.setCurrentIndex(tab.runs.findText("write-beside"))
    qtbot.waitUntil(lambda: tab.state is not None and not window.engine.running("write"),
                    timeout=60000)
    tab.editor.setFocus()
    QTest.keyClicks(tab.editor, "the quick ")
    press_tab_for_suggestions(qtbot, window, tab)
    assert window.engine.running(generate.TRAIN), "the suggestions waited for the training"
    assert threads == [window.engine.thread_of(INTERACTIVE)]
    assert window.engine.thread_of(INTERACTIVE) != window.engine.thread_of()
    assert window.working.text() == "Working…"          # the training still shows as work
    QTest.keyClick(tab.editor, Qt.Key_Return)
    assert tab.editor.text().startswith("the quick ") and len(tab.editor.text()) > 10
    generate.panel.stop_button.click()
    wait_idle(qtbot, window)
    assert generate.panel.status.text().startswith("Stopped"), generate.panel.status.text()
    assert window.working.text() == "Ready"


def test_shutdown_stops_and_waits_for_both_engine_lanes(qtbot):
    """A job on each lane, both running at once (neither waits for the other); shutdown asks
    both to stop and returns only once both threads have ended, and busy says so."""
    import threading
    import time

    from desktop.workers import INTERACTIVE, MAIN, EngineThread
    engine = EngineThread()
    started = {MAIN: threading.Event(), INTERACTIVE: threading.Event()}
    ended = []

    def job(lane):
        def fn(should_stop):
            started[lane].set()
            while not should_stop():
                time.sleep(0.01)
            time.sleep(0.3 if lane == MAIN else 0.6)      # saving what it learned, after Stop
            ended.append(lane)
        return fn
    busy = []
    engine.busy_changed.connect(busy.append)
    engine.submit("long-main", job(MAIN), streams=False)
    engine.submit("long-interactive", job(INTERACTIVE), streams=False, lane=INTERACTIVE)
    assert started[MAIN].wait(10) and started[INTERACTIVE].wait(10)      # side by side
    assert engine.running("long-main") and engine.running("long-interactive")
    assert busy == [True]
    assert engine.shutdown(10_000)
    assert sorted(ended) == sorted([MAIN, INTERACTIVE])
    assert engine.thread_of(MAIN).isFinished() and engine.thread_of(INTERACTIVE).isFinished()
    assert not engine.busy and busy == [True, False]


CHILD = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, sys.argv[2])
    from desktop.app import MainWindow
    from engine.storage import documents
    win = MainWindow()
    win.confirm_close = False
    win.show()
    tab = win.write
    win.tabs.setCurrentWidget(tab)
    if sys.argv[1] == "type":
        QTest.keyClicks(tab.editor, "My precious words, typed and never saved.")
        while not documents.draft_path().exists():
            app.processEvents()
            time.sleep(0.05)
        print("autosaved", flush=True)
        while True:
            app.processEvents()
            time.sleep(0.05)
    else:
        print("offered" if not tab.recovery.isHidden() else "nothing offered", flush=True)
        tab.restore_button.click()
        print("text=" + tab.editor.text(), flush=True)
        print("modified=%s" % tab.editor.document().isModified(), flush=True)
        win.engine.shutdown()
""")


def test_the_text_is_recovered_after_a_real_kill_9(studio_home, tmp_path):
    env = {**os.environ, "RNN_STUDIO_HOME": str(studio_home), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": ROOT}
    settings = str(tmp_path / "settings")
    app = subprocess.Popen([sys.executable, "-c", CHILD, "type", settings], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout.readline().strip() == "autosaved"
    finally:
        os.kill(app.pid, signal.SIGKILL)
        app.wait(30)
    assert app.returncode == -signal.SIGKILL
    again = subprocess.run([sys.executable, "-c", CHILD, "recover", settings], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    lines = again.stdout.splitlines()
    assert lines[:3] == ["offered", "text=My precious words, typed and never saved.",
                         "modified=True"], again.stderr[-2000:]


@pytest.mark.slow
def test_steer_toward_steers_the_suggestions_through_the_widget(qtbot, window, tmp_path):
    """Steer toward (the Generate tab's SentimentChoice) in the Write tab: with a sentiment run
    and a label chosen, the suggestions drawn on the engine thread are the best of the
    candidates by that run, and lean toward the label compared with plain ones."""
    import numpy as np
    from PySide6.QtGui import QTextCursor

    from engine.generator.sampling.steer import Judge

    from .sentiment_helpers import synthetic_rows, train_sentiment_run, write_csv
    rows = synthetic_rows(400, seed=1)
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(t + "\n" for t, _ in rows), encoding="utf-8")
    train(runs_dir() / "steer-gen", lines, TINY.replace(hidden_size=64),
          tiny_train(epochs=6, seq_len=40, batch_size=16, val_interval=100))
    train_sentiment_run(runs_dir() / "steer-sent", write_csv(tmp_path / "lines.csv", rows))
    window.runs_changed()
    tab = window.write
    window.tabs.setCurrentWidget(tab)
    tab.runs.setCurrentIndex(tab.runs.findText("steer-gen"))
    qtbot.waitUntil(lambda: tab.state is not None and not window.engine.busy, timeout=60000)
    assert tab.sentiment.at.isHidden() and tab.sentiment.steer_at.isHidden()
    tab.ends.setCurrentText("line")
    tab.temperature.setValue(1.0)
    tab.editor.setFocus()
    tab.editor.setPlainText(lines.read_text(encoding="utf-8")[:200])
    tab.editor.moveCursor(QTextCursor.End)
    wait_idle(qtbot, window)

    def asked(times):
        got = []
        for _ in range(times):
            press_tab_for_suggestions(qtbot, window, tab)
            got += list(tab.editor.options)
            QTest.keyClick(tab.editor, Qt.Key_Escape)
            wait_idle(qtbot, window)
        return got
    plain = asked(4)
    tab.sentiment.judge.setCurrentIndex(tab.sentiment.judge.findText("steer-sent"))
    tab.sentiment.label.setCurrentIndex(tab.sentiment.label.findData("pos"))
    tab.sentiment.strength.setValue(8)
    leaned = asked(4)
    assert str(runs_dir() / "steer-sent") in {str(p) for p in tab.judges}    # loaded once, used
    judge = Judge.load(str(runs_dir() / "steer-sent"), "pos")
    before, after = (float(np.mean(judge.target_probs(t))) for t in (plain, leaned))
    assert after > before + 0.1, (before, after)
