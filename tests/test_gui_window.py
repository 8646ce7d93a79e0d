"""The main window as a whole: it fits a laptop screen, the wheel never changes a setting by
accident, the File menu, the status bar, tooltips, messages in the app's own words, themes,
persistence, and the safety around a display and the garbage collector."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .gui_helpers import (close_for_good, make_runs, set_tiny_generator,  # noqa: E402,F401
                          train_and_wait, wait_idle, _window)

SCREENS = ((1280, 720), (1366, 768))
DECORATIONS = (0, 40)          # a title bar, and some room for a panel or task bar


def reachable(window, widget) -> bool:
    """Shown, not covered or cut off, and inside the window."""
    corner = widget.mapTo(window, QPoint(widget.width(), widget.height()))
    return widget.isVisible() and not widget.visibleRegion().isEmpty() and \
        corner.x() <= window.width() and corner.y() <= window.height()


def test_the_window_fits_a_laptop_screen_with_every_control_reachable(qtbot, window):
    """Finding 8: the minimum size fits 1280x720 (less a title bar and a panel); at that size
    Train, Resume and Stop are on screen in both training tabs, and so are the sampling
    controls in either view of the samples, and the Look inside tab's; shading by confidence
    does not widen the window."""
    sampling, look = window.generate.sampling, window.look_inside
    hint = window.minimumSizeHint()
    assert hint.width() <= SCREENS[0][0] and hint.height() <= SCREENS[0][1] - DECORATIONS[1], hint
    sampling_controls = (sampling.generate_button, sampling.stop_button, sampling.prime,
                         sampling.room, sampling.highlight, sampling.settings.seed,
                         sampling.sentiment.strength, sampling.checkpoint)
    views = ((sampling.one, (sampling.one.continue_button, sampling.one.look_button,
                             sampling.one.save_button)),
             (sampling.grid, (sampling.grid.axes.temperatures, sampling.grid.axes.layout_choice)))
    for width, height in ((hint.width(), hint.height()), *SCREENS):
        window.resize(width, height - DECORATIONS[1])
        for tab in (window.generate, window.sentiment):
            window.tabs.setCurrentWidget(tab)
            QTest.qWait(20)
            for button in (tab.panel.train_button, tab.panel.resume_button,
                           tab.panel.stop_button):
                assert reachable(window, button), (width, height, button.text())
        window.tabs.setCurrentWidget(window.generate)
        for view, controls in views:
            sampling.views.setCurrentWidget(view)
            QTest.qWait(20)
            for w in (*sampling_controls, *controls):
                assert reachable(window, w), (width, height, type(w).__name__)
        sampling.give_room(False)
        window.tabs.setCurrentWidget(look)
        QTest.qWait(20)
        for w in (look.record_button, look.stop_button, look.source, look.length, look.pattern,
                  look.legend):
            assert reachable(window, w), (width, height, type(w).__name__)
    assert window.minimumSizeHint().height() <= hint.height()     # the grid's view asks no more
    window.tabs.setCurrentWidget(window.generate)
    sampling.views.setCurrentWidget(sampling.one)
    before = window.minimumSizeHint().width()
    window.generate.sampling.confidence.click()
    QTest.qWait(20)
    assert window.generate.sampling.confidence_legend.isVisible()
    assert window.minimumSizeHint().width() <= before


def _wheel(widget, steps=-1):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase,
                        False)
    QApplication.sendEvent(widget, event)
    return event


def test_the_wheel_changes_a_setting_only_once_it_has_the_focus(qtbot, window):
    """Finding 3: scrolling over a number box that was not clicked leaves it alone (the wheel
    goes on to the scrolling column); once focused, the wheel changes it."""
    batch = window.generate.settings.form["batch_size"]
    cell = window.generate.settings.form["mode"]
    window.generate.settings.run_name.setFocus()
    event = _wheel(batch)
    assert batch.value() == 64 and not event.isAccepted()        # passed on, not taken
    _wheel(cell)
    assert cell.currentText() == "lstm"
    assert batch.focusPolicy() == Qt.StrongFocus                  # the wheel gives no focus
    QTest.mouseClick(batch.lineEdit(), Qt.LeftButton)
    assert batch.hasFocus()
    _wheel(batch, steps=-1)
    assert batch.value() == 56                                     # one step of 8 down


def test_the_file_menu_opens_data_lists_recent_files_and_exports(qtbot, window, text_file,
                                                                 monkeypatch):
    """Finding 13: File has Open text…, Open labeled data…, Recent files, Export… and Quit."""
    from PySide6.QtWidgets import QFileDialog
    menu = window.menuBar().actions()[0].menu()
    names = [a.text() for a in menu.actions() if a.text()]
    assert names == ["Open &text…", "Open &labeled data…", "&Recent files", "&Export…", "&Quit"]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(text_file), ""))
    window.tabs.setCurrentWidget(window.models)
    next(a for a in menu.actions() if a.text() == "Open &text…").trigger()
    assert window.tabs.currentWidget() is window.generate
    assert window.generate.picker.ref() == str(text_file)
    wait_idle(qtbot, window)
    window._fill_recent()
    recent = [a.text() for a in window.recent_menu.actions()]
    assert recent == [f"{text_file}  (text generator)"]
    window.generate.picker.select("shakespeare")
    window.recent_menu.actions()[0].trigger()
    assert window.generate.picker.ref() == str(text_file)
    wait_idle(qtbot, window)
    next(a for a in menu.actions() if a.text() == "&Export…").trigger()   # nothing trained
    assert window.tabs.currentWidget() is window.models
    assert window.last_error == ("Nothing to export", "Choose a model in the list first.")


def test_a_menu_never_wipes_working_from_the_status_bar(qtbot, window, text_file):
    """Finding 13: the busy sign is not the status bar's passing message, which a menu's
    hints replace."""
    tab = window.generate
    set_tiny_generator(tab, text_file, "busy", epochs=200)
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    assert window.working.text() == "Working…"
    menu = window.menuBar().actions()[0].menu()
    menu.popup(window.mapToGlobal(QPoint(10, 10)))
    for action in menu.actions()[:3]:
        menu.setActiveAction(action)                   # hovering: its hint in the status bar
        QTest.qWait(20)
    assert window.statusBar().currentMessage() != "" and window.working.text() == "Working…"
    menu.close()
    tab.stop_training()
    wait_idle(qtbot, window)
    assert window.working.text() == "Ready"


def test_labels_explain_themselves_and_errors_start_with_a_capital(qtbot, window, tmp_path):
    """Finding 13: a setting's label has the setting's tooltip; messages start with a capital
    and name settings by their labels, never their command-line flags."""
    from PySide6.QtWidgets import QFormLayout, QLabel
    for tab in (window.generate, window.sentiment):
        for rows in (tab.settings.form.basic, tab.settings.form.advanced_rows):
            for i in range(rows.rowCount()):
                item = rows.itemAt(i, QFormLayout.LabelRole)
                label = item.widget() if item else None
                if isinstance(label, QLabel) and label.text():
                    assert label.toolTip().strip(), label.text()
    from engine.errors import StudioError
    from engine.storage.runs import RunFolder, resolve_run
    from engine.text import inspect_text_file
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "meta.json").write_text("{}")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    real = []
    for make_error in (lambda: RunFolder(tmp_path / "run").require_new(),
                       lambda: inspect_text_file(tmp_path / "latin.txt"),
                       lambda: resolve_run("no-such-run", must_exist=True)):
        try:
            make_error()
        except StudioError as err:
            real.append(err)
    assert len(real) == 3 and sum("--" in str(e) for e in real) == 2    # worded for the CLI
    shown = []
    for err in real:
        window.show_error("Problem", err)
        shown.append(window.last_error[1])
    assert all("--" not in m and m[0] == m[0].upper() for m in shown), shown
    assert 'continue it with "Resume", or choose another "Run name"' in shown[0]
    assert 'set "Encoding" to its encoding' in shown[1]


def test_the_engine_words_a_setting_for_each_face(qtbot, window, text_file, studio_home):
    """A StudioError carries the settings it names: the command line shows flags, the app
    labels (here a real refusal: a finished run resumed with no more epochs)."""
    from engine.errors import StudioError
    from engine.generator.train import train_generator
    from engine.config import GeneratorConfig, TrainConfig
    from engine.wording import in_app_words
    make_runs(studio_home, text_file, "done", epochs="0.05")
    with pytest.raises(StudioError) as caught:
        list(train_generator(studio_home / "runs" / "done", None, GeneratorConfig(),
                             TrainConfig(epochs=0.05), resume=True))
    err = caught.value
    assert [s.name for s in err.settings] == ["epochs", "minutes"]
    assert "give it more --epochs (or --minutes)" in str(err)
    assert 'give it more "Epochs" (or "Minutes")' in in_app_words(err)
    window.show_error("Cannot resume", err)
    assert window.last_error[1].startswith("/") and '"Epochs"' in window.last_error[1]


def test_messages_the_app_can_meet_name_no_flag(qtbot, window, text_file, tmp_path, caplog):
    """Engine messages a GUI user can meet that name a flag on the command line: bf16 this CPU
    lacks (the Advanced "Precision"), and labels that differ only in case (the command line's
    --merge-label-case, which the app has no control for, is left out)."""
    from engine.generator.precision import bf16_unavailable
    from .sentiment_helpers import synthetic_rows, write_csv
    tab = window.generate
    set_tiny_generator(tab, text_file, "bf16-run", epochs=1)
    tab.settings.form["precision"].setCurrentText("bf16")
    wait_idle(qtbot, window)
    if bf16_unavailable() is not None:              # this CPU: refused, in the app's words
        tab.panel.train_button.click()
        wait_idle(qtbot, window)
        title, message = window.last_error
        assert title == "Training failed" and message.startswith('"Precision" bf16: ')
        assert "--" not in message and 'use "Precision" fp32 or auto' in message
        window.last_error = None
    rows = [(t, label.upper() if i % 3 == 0 else label)
            for i, (t, label) in enumerate(synthetic_rows(120))]
    sentiment = window.sentiment
    sentiment.picker.add(str(write_csv(tmp_path / "cased.csv", rows)))
    sentiment.settings.set_values({"hidden_size": 16, "embed_size": 16, "epochs": 1})
    sentiment.run_name.setText("cased")
    train_and_wait(qtbot, window, sentiment)
    assert "differ only in case" in window.last_warning and "--" not in window.last_warning
    cli = " ".join(r.getMessage() for r in caplog.records)      # the command line's words
    assert "differ only in case" in cli and "or pass --merge-label-case" in cli


def test_dark_theme_keeps_disabled_controls_and_radio_buttons_visible(qtbot, window):
    from PySide6.QtGui import QPalette
    window.dark_action.setChecked(True)
    palette = window.generate.panel.stop_button.palette()
    active = palette.color(QPalette.Active, QPalette.ButtonText)
    disabled = palette.color(QPalette.Disabled, QPalette.ButtonText)
    assert abs(active.lightness() - disabled.lightness()) > 60
    assert "QRadioButton::indicator" in window.styleSheet()
    window.dark_action.setChecked(False)
    assert window.styleSheet() == ""


def test_empty_states_say_what_to_do_first(qtbot, window):
    # a first start: the sentiment data is every rated sentence (films, products, posts, news)
    assert window.sentiment.picker.ref() == "rated-sentences"
    assert window.models.table.rowCount() == 0
    assert "No models yet" in window.models.details.toPlainText()
    assert "press Train" in window.generate.sampling.output.placeholderText()
    assert "press Train" in window.sentiment.analysis.text.placeholderText()


def test_every_offered_setting_persists_between_sessions(qtbot, tmp_path, window):
    """The persisted list is the forms' own widgets: each config field the GUI offers (the
    'Vote on unfamiliar text' was once missing from a hand-kept list)."""
    from desktop.widgets.settings_form import widget_value
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox
    changed = {}
    for tab in (window.generate, window.sentiment):
        for name, w in tab.settings.form.widgets.items():
            if isinstance(w, QCheckBox):
                w.setChecked(not w.isChecked())
            elif isinstance(w, QComboBox):
                w.setCurrentIndex((w.currentIndex() + 1) % w.count())
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(w.value() + w.singleStep() if w.value() < w.maximum() else w.minimum())
            elif isinstance(w, QLineEdit):
                w.setText(w.text() + "-x")
            changed[(type(tab).__name__, name)] = widget_value(w)
    window.sentiment.settings.by_minutes.setChecked(True)
    window.generate.sampling.prime.setText("JULIET:")
    window.tabs.setCurrentIndex(2)
    assert ("SentimentTab", "unfamiliar_weight") in changed and len(changed) > 30
    window.close()
    from desktop.app import MainWindow
    again = MainWindow()
    again.confirm_close = False
    for tab in (again.generate, again.sentiment):
        for name, w in tab.settings.form.widgets.items():
            assert widget_value(w) == changed[(type(tab).__name__, name)], name
    assert again.sentiment.settings.by_minutes.isChecked()
    assert again.generate.sampling.prime.text() == "JULIET:" and again.tabs.currentIndex() == 2
    close_for_good(again)


def test_a_first_start_shows_the_good_recipe_and_a_returning_user_keeps_their_own(qtbot,
                                                                                   window):
    """A new user starts on the recipe measured for a first real run (the engine's defaults
    match no recipe); one who changed a setting finds it changed, not reset to the recipe."""
    from engine.generator.recipes import recipes
    good = next(r for r in recipes() if r.name == "Good")
    settings = window.generate.settings
    assert settings.preset.currentText() == "Good"
    assert settings.expectation.text() == good.describe()
    model = settings.form.values(settings.kind.model_config)
    train = settings.form.values(settings.kind.train_config)
    assert all(model[k] == v for k, v in good.model.items())
    assert all(train[k] == v for k, v in good.train.items())
    assert settings.minutes.value() == good.minutes
    settings.form["hidden_size"].setValue(128)
    assert settings.preset.currentText() == "Custom"
    window.close()
    from desktop.app import MainWindow
    again = MainWindow()
    again.confirm_close = False
    assert again.generate.settings.form["hidden_size"].value() == 128
    assert again.generate.settings.preset.currentText() == "Custom"
    close_for_good(again)


def test_without_a_display_the_app_points_to_the_cli():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                             "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "engine"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2
    assert "no display" in proc.stderr and "rnn-studio --help" in proc.stderr


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, window):
    """A reference cycle made while the window lives survives allocation on the engine thread
    (automatic collection is off) and is freed by the GUI thread's timer; every collection in
    between ran on the GUI thread."""
    import gc
    import threading
    import weakref
    assert not gc.isenabled()              # while the window lives, the GUI thread collects
    collected_on = []

    def note(phase, _info):
        if phase == "start":
            collected_on.append(threading.get_ident())

    class Probe:
        pass
    probe = Probe()
    probe.itself = probe                   # a reference cycle: only the collector frees it
    ref = weakref.ref(probe)
    del probe
    gc.callbacks.append(note)
    try:
        # far past every threshold, on the engine thread: automatic collection would run here.
        # The GUI thread's timer is held meanwhile: it may collect at any tick (that is its job),
        # and a tick during the wait would free the probe before the check below.
        window.collector.timer.stop()
        done = []
        window.engine.submit("allocate", lambda _stop: [[[]] for _ in range(50_000)] and None,
                             streams=False, uses_runs=False, on_done=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=10000)
        assert ref() is not None           # nothing collected it off the GUI thread
        window.collector.threshold = (0, 0, 0)
        window.collector.timer.start()
        qtbot.waitUntil(lambda: ref() is None, timeout=5000)
    finally:
        gc.callbacks.remove(note)
    assert collected_on and set(collected_on) == {threading.main_thread().ident}
    window.close()
    assert gc.isenabled()


def test_qt_binding_keeps_none_alive(qtbot):
    """PySide6 6.12.0 dropped a reference to None on every call from Python 3.11 (the app then
    aborted with 'none_dealloc' after some thousands of calls). Guard the pinned binding."""
    from PySide6.QtWidgets import QApplication, QLabel
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(200_000):
        label.setText("x")
        QApplication.processEvents()
    assert abs(sys.getrefcount(None) - before) < 1000


def test_every_setting_a_person_can_change_has_a_tooltip(qtbot, window):
    from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QPushButton,
                                   QRadioButton, QSlider, QSpinBox)
    kinds = (QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QRadioButton, QSlider, QSpinBox,
             QPushButton)
    import re
    from PySide6.QtWidgets import QWidget
    missing = []
    for tab in (window.generate, window.look_inside, window.sentiment, window.models):
        for w in (w for kind in kinds for w in tab.findChildren(kind)):
            if isinstance(w, QLineEdit) and isinstance(w.parent(), (QSpinBox, QDoubleSpinBox,
                                                                    QComboBox)):
                continue                      # the editor inside a spin or combo box
            if not w.toolTip().strip():
                missing.append(f"{type(tab).__name__}: {type(w).__name__} {w.objectName()!r} "
                               f"{getattr(w, 'text', lambda: '')()!r}")
    assert not missing, missing
    flags = [w.toolTip() for w in window.findChildren(QWidget) if re.search(r"--[a-z]",
                                                                             w.toolTip())]
    assert not flags, flags                   # the app's words name no command-line flag


def test_an_empty_state_leaves_the_screen_once_a_model_exists(qtbot, window, text_file,
                                                              studio_home):
    """The "No text generator yet" line stayed on screen after the first model was trained:
    Qt changes a placeholder without repainting it; the app repaints it."""
    from PySide6.QtCore import QEvent, QObject

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched, event):
            Paints.count += event.type() == QEvent.Paint
            return False
    output = window.generate.sampling.output
    QTest.qWait(50)
    paints = Paints()
    output.viewport().installEventFilter(paints)
    assert "No text generator yet" in output.placeholderText()
    make_runs(studio_home, text_file, "first")
    window.runs_changed()                             # what a finished training calls
    QTest.qWait(50)
    assert output.placeholderText().startswith("Generated text appears here")
    assert Paints.count > 0                           # and it was painted again


def test_a_returning_user_sees_the_last_run_again(qtbot, window, text_file, studio_home):
    """At start, the run named in the settings (the last one trained) shows its curves and
    says what Resume and Train will do, instead of an empty chart."""
    make_runs(studio_home, text_file, "my-model", epochs="0.3")   # the Generate tab's name
    window.close()
    from desktop.app import MainWindow
    again = MainWindow()
    again.confirm_close = False
    wait_idle(qtbot, again)
    panel = again.generate.panel
    assert panel.chart.points("validation") >= 1
    assert panel.status.text().startswith("my-model, as it was last saved")
    assert again.generate.resume.isVisible() or not again.isVisible()
    close_for_good(again)


FIRST_START = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.app import MainWindow
window = MainWindow()
window.confirm_close = False
window.show()
for _ in range(20):
    app.processEvents()
area, frame = window.screen().availableGeometry(), window.frameGeometry()
print(json.dumps({"area": [area.x(), area.y(), area.width(), area.height()],
                  "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
                  "size": [window.width(), window.height()],
                  "tab": window.tabs.tabText(window.tabs.currentIndex())}))
window.tabs.setCurrentIndex(int(sys.argv[1]))
window.close()
"""


@pytest.mark.parametrize("screen", [(1280, 720), (1366, 768), (1920, 1080)])
def test_a_first_start_opens_on_generate_inside_the_screen(tmp_path, screen):
    """Finding 29.2: a first start (no saved settings) sized its client area alone to 1280x720,
    so with a title bar the status bar fell off a 720-pixel screen. Real windows, in processes
    of their own, on offscreen screens of three sizes: the whole frame fits the available area
    and the tab is Generate; a second start comes back where the first was closed."""
    import json
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": screen[0],
                                               "height": screen[1], "logicalDpi": 96,
                                               "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
               XDG_CONFIG_HOME=str(tmp_path / "config"), RNN_STUDIO_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(ROOT))

    def start(tab_on_close: int) -> dict:
        proc = subprocess.run([sys.executable, "-c", FIRST_START, str(tab_on_close)], env=env,
                              capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def inside(started):
        (ax, ay, aw, ah), (fx, fy, fw, fh) = started["area"], started["frame"]
        return ax <= fx and ay <= fy and fx + fw <= ax + aw and fy + fh <= ay + ah

    first = start(3)                                       # closed on the Models tab
    assert first["tab"] == "Generate" and inside(first), first
    roomy = screen[0] >= 1280 + 8 and screen[1] >= 720 + 40
    if roomy:
        assert first["size"] == [1280, 720], first         # the size the app is made for
    else:
        assert first["size"][1] >= 640, first              # as large as the screen allows
    second = start(0)
    assert second["tab"] == "Models" and inside(second), second
    assert second["size"] == first["size"]
