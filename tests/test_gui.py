"""The desktop app, offscreen, driving the real engine with tiny models through its worker thread."""
import csv
import json
import re
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from .conftest import ROOT, run_cli  # noqa: E402
from .sentiment_helpers import synthetic_rows, write_csv  # noqa: E402

WAIT_MS = 180_000


@pytest.fixture
def window(qtbot, tmp_path):
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(tmp_path / "settings"))
    from desktop.app import MainWindow
    win = MainWindow()
    win.confirm_close = False         # closed and deleted by close_for_good, not by qtbot
    win.show()
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
    tab.add_file(str(text_file))
    tab.form["hidden_size"].setValue(32)
    tab.form["embed_size"].setValue(8)
    tab.form["num_layers"].setValue(1)
    tab.form["dropout"].setValue(0.0)
    tab.form["seq_len"].setValue(20)
    tab.form["batch_size"].setValue(8)
    tab.form["lr"].setValue(0.01)
    tab.by_epochs.setChecked(True)
    tab.epochs.setValue(epochs)
    tab.run_name.setText(name)


def test_generate_tab_trains_stays_responsive_and_samples_like_the_cli(qtbot, window, text_file):
    tab = window.generate
    set_tiny_generator(tab, text_file)
    wait_idle(qtbot, window)
    assert "6,000 characters" in tab.corpus_info.text()

    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    tab.panel.train_button.click()
    assert window.engine.running("gen-train") and not tab.panel.train_button.isEnabled()
    wait_idle(qtbot, window)
    timer.stop()
    assert window.last_error is None
    assert tab.panel.status.text().startswith("Completed"), tab.panel.status.text()
    assert tab.panel.chart.points("train") > 5 and tab.panel.chart.points("validation") >= 1
    assert tab.live_sample.toPlainText()
    # the event loop kept running while the model trained (the window never froze)
    # (typically the longest pause is 50-70 ms; on a busy 2-core machine one tick in a hundred
    # may be late by a few more, which is not a freeze, while any work on the GUI thread would
    # stop the ticks for the whole training)
    pauses = sorted(gaps[2:])
    assert len(gaps) > 20 and pauses[-1] < 0.25, pauses[-5:]
    assert sum(p >= 0.1 for p in pauses) <= max(1, len(pauses) // 100), pauses[-5:]

    assert tab.sample_run.currentText() == "gui-gen"
    tab.prime.setText("the ")
    tab.length.setValue(60)
    tab.sample_seed.setValue(5)
    tab.temperature.setValue(80)
    tab.confidence.setChecked(True)
    assert tab.confidence_legend.isVisible() and "unsure" in tab.confidence_legend.text()
    tab.generate_button.click()
    wait_idle(qtbot, window)
    gui_text = tab.output.toPlainText()
    cli = run_cli("generator", "sample", "gui-gen", "--prime", "the ", "--length", "60", "--seed",
                  "5", "--temperature", "0.8")
    assert cli.returncode == 0, cli.stderr
    assert gui_text == cli.stdout[:-1] and len(gui_text) == 64
    prob, alternatives = tab.output.info_at(4)
    assert 0 < prob <= 1 and len(alternatives) == 3
    assert window.models.table.rowCount() == 1


def test_stop_keeps_what_was_learned_and_resume_continues(qtbot, window, text_file, studio_home):
    tab = window.generate
    set_tiny_generator(tab, text_file, "stoppable", epochs=500)
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    qtbot.waitUntil(lambda: tab.panel.chart.points("validation") >= 1, timeout=WAIT_MS)
    tab.panel.stop_button.click()
    wait_idle(qtbot, window)
    assert tab.panel.status.text().startswith("Stopped")
    meta = json.loads((studio_home / "runs" / "stoppable" / "meta.json").read_text())
    step = meta["state"]["step"]
    assert step >= 20 and "best.params" in meta["files"]
    tab.panel.resume_button.click()
    qtbot.waitUntil(lambda: tab.panel.chart.points("train") > step // 5 + 2, timeout=WAIT_MS)
    window.close()                       # closing while training stops and saves
    assert not window.engine.busy
    later = json.loads((studio_home / "runs" / "stoppable" / "meta.json").read_text())
    assert later["state"]["step"] > step


def test_train_and_resume_are_offered_only_when_they_can_work(qtbot, window, tmp_path,
                                                            text_file):
    tab = window.generate
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    tab.add_file(str(empty))
    wait_idle(qtbot, window)
    assert "cannot be trained on" in tab.corpus_info.text()
    assert not tab.panel.train_button.isEnabled()
    set_tiny_generator(tab, text_file, "fresh", epochs=1)
    wait_idle(qtbot, window)
    assert tab.panel.train_button.isEnabled() and not tab.panel.resume_button.isEnabled()
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    assert tab.panel.resume_button.isEnabled()               # now a run of that name exists
    tab.run_name.setText("no-such-run")
    assert not tab.panel.resume_button.isEnabled()
    sentiment = window.sentiment
    bad = tmp_path / "one-class.csv"
    bad.write_text("text,label\n" + "fine,pos\n" * 20)
    sentiment.add_source(str(bad))
    wait_idle(qtbot, window)
    assert not sentiment.panel.train_button.isEnabled()


def test_a_minutes_budget_fills_the_progress_bar_and_it_stops_at_the_end(qtbot, window,
                                                                        text_file):
    tab = window.generate
    set_tiny_generator(tab, text_file, "timed")
    tab.by_minutes.setChecked(True)
    tab.minutes.setValue(0.05)                                 # 3 seconds
    wait_idle(qtbot, window)
    seen = []
    tab.panel.progress.valueChanged.connect(seen.append)
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    assert tab.panel.status.text().startswith("Time budget"), tab.panel.status.text()
    assert tab.panel.progress.value() == tab.panel.progress.maximum()
    assert len(set(seen)) > 3 and seen == sorted(seen)       # real progress, never backwards
    assert tab.panel.progress.minimum() < tab.panel.progress.maximum()   # not a "busy" bar


def test_bad_inputs_become_readable_messages(qtbot, window, tmp_path, text_file):
    tab = window.generate
    binary = tmp_path / "data.bin"
    binary.write_bytes(bytes(range(256)) * 50)
    tab.add_file(str(binary))
    wait_idle(qtbot, window)
    assert "cannot be trained on" in tab.corpus_info.text() and "binary" in tab.warnings.text()
    assert not tab.panel.train_button.isEnabled()          # not on a text that was refused
    set_tiny_generator(tab, text_file, "broken", epochs=2)     # two checkpoints
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    from engine.runs import RunFolder
    run = RunFolder(tmp_path / "home" / "runs" / "broken")
    current = run.file_path("best.params", run.read_meta())

    def damage(path):
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))
    damage(current)
    tab.refresh_runs(select="broken")
    older = [p for p in run.path.glob("gen-*/best.params") if p != current]
    assert older           # the previous checkpoint is used, and the status bar says why
    tab.generate_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None and tab.output.toPlainText()
    qtbot.waitUntil(lambda: window.last_warning is not None, timeout=5000)
    assert "corrupted" in window.last_warning and "previous checkpoint" in window.last_warning
    for path in older:
        damage(path)
    tab.generate_button.click()
    wait_idle(qtbot, window)
    title, message = window.last_error
    assert title == "Cannot generate" and "corrupted" in message and "Traceback" not in message
    tab.prime.setText("QQQ")
    tab.checkpoint.setCurrentText("last")
    tab.generate_button.click()
    wait_idle(qtbot, window)
    assert "never seen: 'Q'" in window.last_error[1]


def test_sentiment_tab_trains_evaluates_analyses_and_classifies(qtbot, window, tmp_path,
                                                                monkeypatch):
    from PySide6.QtWidgets import QTableWidget
    tab = window.sentiment
    data = write_csv(tmp_path / "reviews.csv", synthetic_rows(200))
    tab.add_source(str(data))
    wait_idle(qtbot, window)
    assert "200 examples" in tab.balance.text() and tab.table.rowCount() == 40
    tab.form["hidden_size"].setValue(16)
    tab.form["embed_size"].setValue(16)
    tab.form["epochs"].setValue(6)
    tab.run_name.setText("gui-sent")
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None
    assert tab.panel.metric_chart.points("validation") >= 1
    assert "Held-back test split" in tab.evaluation.text()
    assert tab.confusion.rowCount() == 2
    assert sum(int(tab.confusion.item(i, j).text()) for i in range(2) for j in range(2)) == 20

    tab.text.setPlainText("the story was quite zorbly")
    qtbot.waitUntil(lambda: tab.last_verdict is not None and not window.engine.busy, timeout=WAIT_MS)
    verdict = tab.last_verdict
    assert verdict.label == "pos" and [w for w, _ in verdict.words][-1] == "zorbly"
    assert "background-color" in tab.words.toHtml()
    assert "toward pos" in tab.words.toHtml() and "away from pos" in tab.words.toHtml()  # legend

    # classify a file whose texts are in a "comment" column: the file is checked first, the
    # column is asked for, then where to save (the save dialog is the platform's: stubbed)
    from PySide6.QtWidgets import QFileDialog
    asked_where = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (
        asked_where.append(a) or str(tmp_path / "out.csv"), ""))
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    tab.check_table(str(binary))
    wait_idle(qtbot, window)
    assert window.last_error[0] == "Cannot classify" and not asked_where
    from PySide6.QtWidgets import QApplication
    QApplication.activeModalWidget().close()              # the error's dialog
    src = write_csv(tmp_path / "in.csv", [(str(i), t) for i, (t, _) in enumerate(synthetic_rows(30))],
                    header=("id", "comment"))
    assert not tab.classify_progress.isVisible()          # no idle bar that looks like a field
    asked_column = answer_dialog(qtbot, "ok")
    tab.check_table(str(src))
    qtbot.waitUntil(lambda: bool(asked_column), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert asked_column == ["Which column holds the text?"] and len(asked_where) == 1
    rows = list(csv.reader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert len(rows) == 31 and rows[0][-3:] == ["predicted_label", "p_neg", "p_pos"]
    results = tab.classified.findChild(QTableWidget)
    counts = {results.item(i, 0).text(): int(results.item(i, 1).text()) for i in range(2)}
    assert counts == {"neg": sum(r[2] == "neg" for r in rows[1:]),
                      "pos": sum(r[2] == "pos" for r in rows[1:])} and sum(counts.values()) == 30
    assert not tab.classify_progress.isVisible()


def test_models_tab_lists_overlays_exports_and_deletes(qtbot, window, text_file, tmp_path, studio_home):
    tab = window.generate
    for name in ("first", "second"):
        set_tiny_generator(tab, text_file, name, epochs=1)
        wait_idle(qtbot, window)
        tab.panel.train_button.click()
        wait_idle(qtbot, window)
    models = window.models
    models.refresh()
    assert models.table.rowCount() == 2
    models.table.selectAll()
    assert len(models.chart._curves) == 2               # both runs' curves overlaid
    colours = {n: c.opts["pen"].color().name() for n, c in models.chart._curves.items()}
    models.select("second")                             # a run keeps its colour
    assert models.chart._curves["second"].opts["pen"].color().name() == colours["second"]
    models.table.selectAll()
    details = models.details.toPlainText()
    assert "first" in details and "bits/char" in details
    assert "{" not in details and not re.search(r"\d\.\d{6,}", details)   # a summary, not JSON
    score = models.table.item(0, 4)
    assert score.text().endswith("bits/char") and "nats per character" in score.toolTip()
    models.export("second", tmp_path / "exported")
    wait_idle(qtbot, window)
    assert {"model-symbol.json", "model-0000.params", "meta.json", "README.md"} <= {
        p.name for p in (tmp_path / "exported").iterdir()}
    models.select("first")
    from PySide6.QtWidgets import QMessageBox
    answer_dialog(qtbot, QMessageBox.Yes)
    models.buttons["delete"].click()
    assert not (studio_home / "runs" / "first").exists()
    assert models.table.rowCount() == 1 and tab.sample_run.count() == 1


def test_every_offered_setting_persists_between_sessions(qtbot, tmp_path, window):
    """The persisted list is the forms' own widgets: each config field the GUI offers (the
    'Vote on unfamiliar text' was once missing from a hand-kept list)."""
    from desktop.settings_form import widget_value
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox
    changed = {}
    for tab in (window.generate, window.sentiment):
        for name, w in tab.form.widgets.items():
            if isinstance(w, QCheckBox):
                w.setChecked(not w.isChecked())
            elif isinstance(w, QComboBox):
                w.setCurrentIndex((w.currentIndex() + 1) % w.count())
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(w.value() + w.singleStep() if w.value() < w.maximum() else w.minimum())
            elif isinstance(w, QLineEdit):
                w.setText(w.text() + "-x")
            changed[(tab.objectName() or type(tab).__name__, name)] = widget_value(w)
    assert ("SentimentTab", "unfamiliar_weight") in changed and len(changed) > 30
    window.close()
    from desktop.app import MainWindow
    again = MainWindow()
    again.confirm_close = False
    for tab in (again.generate, again.sentiment):
        for name, w in tab.form.widgets.items():
            assert widget_value(w) == changed[(type(tab).__name__, name)], name
    close_for_good(again)


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
    assert window.sentiment.data.currentData() == "rated-sentences"
    assert window.models.table.rowCount() == 0
    assert "No models yet" in window.models.details.toPlainText()
    assert "press Train" in window.generate.output.placeholderText()
    assert "press Train" in window.sentiment.text.placeholderText()


def test_help_opens_the_guide_and_export_offers_only_formats_that_work(qtbot, window, text_file):
    from desktop.guide import show_guide
    guide = show_guide(window)
    assert "Bits per character" in guide.findChild(__import__(
        "PySide6.QtWidgets", fromlist=["QTextBrowser"]).QTextBrowser).toPlainText()
    guide.close()
    tab = window.generate
    set_tiny_generator(tab, text_file, "three-layers", epochs=1)
    tab.form["num_layers"].setValue(3)
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    models = window.models
    models.refresh()
    models.select("three-layers")
    onnx = models.export_format.model().item(models.export_format.findText("onnx"))
    assert onnx.isEnabled()          # every generator exports to ONNX (its one-step model)
    assert "--" not in onnx.toolTip()


def test_settings_persist_between_sessions(qtbot, tmp_path, window):
    window.generate.form["hidden_size"].setValue(96)
    window.generate.prime.setText("JULIET:")
    window.tabs.setCurrentIndex(2)
    window.close()
    from desktop.app import MainWindow
    again = MainWindow()
    again.confirm_close = False
    assert again.generate.form["hidden_size"].value() == 96 and again.generate.prime.text() == "JULIET:"
    assert again.tabs.currentIndex() == 2
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
    import gc
    assert not gc.isenabled()              # while the window lives, the GUI thread collects
    garbage = []
    garbage.append(garbage)                # a reference cycle
    ref = __import__("weakref").ref(type("Probe", (), {})())
    del garbage
    window.collector.threshold = (0, 0, 0)
    qtbot.waitUntil(lambda: gc.get_count()[0] < 5, timeout=5000)
    window.close()
    assert gc.isenabled()
    assert ref() is None


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


# ---- data safety: the real buttons, the real dialogs ------------------------------------------
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


def make_runs(studio_home, text_file, *names):
    for name in names:
        result = run_cli("generator", "train", "--corpus", text_file, "--out", name, "--hidden",
                         "16", "--embed", "8", "--layers", "1", "--seq-len", "10", "--batch", "4",
                         "--epochs", "0.05")
        assert result.returncode == 0, result.stderr


def test_delete_button_asks_and_no_keeps_the_run(qtbot, window, text_file, studio_home):
    from PySide6.QtWidgets import QMessageBox
    make_runs(studio_home, text_file, "keep-me", "other")
    models = window.models
    models.refresh()
    models.select("keep-me")
    asked = answer_dialog(qtbot, QMessageBox.No)
    models.buttons["delete"].click()
    assert asked and "keep-me" in asked[0]
    assert (studio_home / "runs" / "keep-me" / "meta.json").is_file()
    assert models.table.rowCount() == 2 and models.selected_names() == ["keep-me"]

    asked = answer_dialog(qtbot, QMessageBox.Yes)
    models.buttons["delete"].click()
    assert asked and not (studio_home / "runs" / "keep-me").exists()
    assert (studio_home / "runs" / "other" / "meta.json").is_file()
    # the details pane no longer describes the deleted run
    assert models.table.rowCount() == 1 and "keep-me" not in models.details.toPlainText()


def test_failed_rename_keeps_the_original_selection(qtbot, window, text_file, studio_home):
    from PySide6.QtWidgets import QMessageBox
    make_runs(studio_home, text_file, "a", "b")
    models = window.models
    models.refresh()
    models.select("a")
    answer_dialog(qtbot, "ok", fill="b")
    models.buttons["rename"].click()
    assert window.last_error[0] == "Cannot rename" and "already exists" in window.last_error[1]
    assert models.selected_names() == ["a"]
    assert models.details.toPlainText().startswith("a: a text generator")
    # so the next Delete… names (and would delete) the run the user meant
    asked = answer_dialog(qtbot, QMessageBox.No)
    models.buttons["delete"].click()
    assert "Delete a " in asked[0]
    answer_dialog(qtbot, "ok", fill="c")
    models.buttons["rename"].click()
    assert models.selected_names() == ["c"] and (studio_home / "runs" / "c").is_dir()


def test_each_text_keeps_its_own_encoding(qtbot, window, tmp_path, text_file):
    tab = window.generate
    latin = tmp_path / "latin.txt"
    latin.write_bytes(("caf\xe9 na\xefve r\xe9sum\xe9 " * 400).encode("latin-1"))
    tab.add_file(str(latin))
    wait_idle(qtbot, window)
    assert tab.encoding.currentText() == "cp1252"          # guessed: not valid UTF-8
    assert "cannot be trained on" not in tab.corpus_info.text()
    tab.encoding.setCurrentText("latin-1")                  # the user's choice for this file
    wait_idle(qtbot, window)
    tab.corpus.setCurrentIndex(tab.corpus.findData("shakespeare"))
    wait_idle(qtbot, window)
    assert tab.encoding.currentText() == "utf-8" and not tab.encoding.isEnabled()
    tab.add_file(str(text_file))
    wait_idle(qtbot, window)
    assert tab.encoding.currentText() == "utf-8" and tab.encoding.isEnabled()
    tab.corpus.setCurrentIndex(tab.corpus.findData(str(latin)))
    wait_idle(qtbot, window)
    assert tab.encoding.currentText() == "latin-1"          # its own choice came back
    assert "é" in tab.preview.toPlainText()


def test_a_taken_run_name_offers_resume_overwrite_or_a_new_name(qtbot, window, text_file,
                                                                 studio_home):
    from PySide6.QtWidgets import QMessageBox
    tab = window.generate
    set_tiny_generator(tab, text_file, "taken", epochs=1)
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    first = (studio_home / "runs" / "taken" / "meta.json").read_text()

    asked = answer_dialog(qtbot, "New name")
    tab.panel.train_button.click()
    assert "already a model called 'taken'" in asked[0]
    assert tab.run_name.text() == "taken-2" and not window.engine.busy
    assert window.last_error is None                      # no "Training failed"

    tab.run_name.setText("taken")
    asked = answer_dialog(qtbot, "Overwrite…", then=[QMessageBox.No])   # asked twice: No
    tab.panel.train_button.click()
    assert len(asked) == 2 and "Delete the model 'taken'" in asked[1]
    wait_idle(qtbot, window)
    assert (studio_home / "runs" / "taken" / "meta.json").read_text() == first

    tab.epochs.setValue(2)
    answer_dialog(qtbot, "Resume it")
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None and tab.panel.status.text().startswith("Completed")
    assert json.loads((studio_home / "runs" / "taken" / "meta.json").read_text())["state"][
        "epoch"] == 2
    (studio_home / "runs" / "taken" / "notes.txt").write_text("the old run's")
    answer_dialog(qtbot, "Overwrite…", then=[QMessageBox.Yes])
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None and tab.panel.status.text().startswith("Completed")
    assert not (studio_home / "runs" / "taken" / "notes.txt").exists()     # a new run


def test_sampling_presets_copy_and_save_say_what_they_did(qtbot, window, tmp_path):
    tab = window.generate
    assert tab.preset.currentText() == "Balanced"           # the default controls
    tab.preset.setCurrentText("Wild")
    assert tab.temperature.value() == 130 and tab.top_p.value() == 1.0
    tab.preset.setCurrentText("Safe")
    assert tab.temperature.value() == 50 and tab.top_p.value() == 0.9
    tab.temperature.setValue(63)
    assert tab.preset.currentText() == "Custom"
    tab.temperature.setValue(80)
    tab.top_p.setValue(1.0)
    assert tab.preset.currentText() == "Balanced"
    tab.output.setPlainText("some text")
    tab.copy_button.click()
    assert "Copied 9 characters" in window.statusBar().currentMessage()
    tab.write_output(str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "some text"
    assert "Saved to" in window.statusBar().currentMessage()


def test_messages_in_the_app_never_name_command_line_flags(qtbot, window, tmp_path):
    from engine.errors import StudioError
    from engine.runs import RunFolder
    from engine.text import inspect_text_file
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "meta.json").write_text("{}")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    real = []
    for make_error in (lambda: RunFolder(tmp_path / "run").require_new(),
                       lambda: inspect_text_file(tmp_path / "latin.txt")):
        try:
            make_error()
        except StudioError as err:
            real.append(str(err))
    assert len(real) == 2 and all("--" in m for m in real)    # worded for the command line
    for message in real + ["ONNX export ... Use --format mxnet.", "diverged; try a lower --lr",
                           "r already finished its 1 epoch(s): pass a larger --epochs (or "
                           "--minutes) to train on"]:
        window.show_error("Problem", message)
        assert "--" not in window.last_error[1], window.last_error[1]


def test_the_progress_bar_says_working_then_stops_when_work_stops(qtbot):
    from engine.events import Finished, Progress, Started
    from desktop.widgets.training_panel import TrainingPanel
    panel = TrainingPanel("Loss", "chars")
    qtbot.addWidget(panel)
    panel.starting("Reading…")
    assert panel.progress.maximum() == 0                     # "working", before steps are known
    panel.failed()
    assert panel.progress.maximum() > 0 and panel.progress.value() == 0    # stopped, not busy
    panel.starting("Reading…")
    panel.display(Started("run", None, 0, 10))
    panel.display(Progress(5, 0, 2.0, 1e-3, 100.0, 30.0, 90.0, None))        # a minutes budget
    assert panel.progress.value() == panel.progress.maximum() // 4
    panel.display(Finished(9, "time budget", "run", 1.0, 120.0))
    assert panel.progress.value() == panel.progress.maximum()


def test_training_presets_set_the_model_and_say_what_to_expect(qtbot, window):
    tab = window.generate
    tab.training_preset.setCurrentText("Quick try")
    assert tab.form["hidden_size"].value() == 256 and tab.minutes.value() == 2
    assert tab.by_minutes.isChecked() and "2.4 bits per character" in tab.expectation.text()
    tab.training_preset.setCurrentText("Good")
    assert tab.form["hidden_size"].value() == 512 and tab.minutes.value() == 10
    assert "2.1 bits per character" in tab.expectation.text()
    tab.form["hidden_size"].setValue(384)
    assert tab.training_preset.currentText() == "Custom"


def test_every_setting_a_person_can_change_has_a_tooltip(qtbot, window):
    from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit,
                                   QRadioButton, QSlider, QSpinBox)
    kinds = (QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QRadioButton, QSlider, QSpinBox)
    missing = []
    for tab in (window.generate, window.sentiment, window.models):
        for w in (w for kind in kinds for w in tab.findChildren(kind)):
            if isinstance(w, QLineEdit) and isinstance(w.parent(), (QSpinBox, QDoubleSpinBox,
                                                                    QComboBox)):
                continue                      # the editor inside a spin or combo box
            if not w.toolTip().strip():
                missing.append(f"{type(tab).__name__}: {type(w).__name__} {w.objectName()!r} "
                               f"{getattr(w, 'text', lambda: '')()!r}")
    assert not missing, missing
