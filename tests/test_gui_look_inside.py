"""The Look inside tab in the real window: it follows the generator chosen in the Generate tab
(and the other way round), records the Generate tab's last sample (its button or the source),
a slice of the training text, pasted text and a file, and waits while a model trains."""
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QKeySequence  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from .gui_helpers import (make_runs, set_tiny_generator, train_and_wait,  # noqa: E402,F401
                          wait_idle, _window)


def record(qtbot, window, look, source: str):
    look.source.setCurrentText(source)
    QTest.mouseClick(look.record_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert look.look is not None, look.status.text()
    return look.look.recording.text


def test_look_inside_follows_the_generator_and_reads_every_source(qtbot, window, text_file,
                                                                  studio_home, tmp_path,
                                                                  monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from desktop.tabs.look_inside.read_choice import FILE, LAST, OWN, SLICE
    tab, look = window.generate, window.look_inside
    assert "No text generator yet" in look.text.placeholderText()
    assert not look.record_button.isEnabled()
    set_tiny_generator(tab, text_file, "seen", epochs=1)
    train_and_wait(qtbot, window, tab)
    make_runs(studio_home, text_file, "other")
    window.runs_changed()
    assert tab.runs.currentText() == "seen"
    window.tabs.setCurrentWidget(look)                 # it looks inside the chosen generator
    assert look.runs.currentText() == "seen" and look.run_path.endswith("seen")
    assert look.record_button.isEnabled() and "Record a text" in look.text.placeholderText()
    look.runs.setCurrentIndex(look.runs.findText("other"))     # a choice here is made there
    assert tab.runs.currentText() == "other"
    tab.runs.setCurrentIndex(tab.runs.findText("seen"))        # and the other way round
    assert look.runs.currentText() == "seen"

    # the Generate tab's sample, by its Look inside button
    window.tabs.setCurrentWidget(tab)
    tab.sampling.settings.widgets["length"].setValue(300)
    QTest.mouseClick(tab.sampling.generate_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    sample = tab.sampling.output.toPlainText()
    QTest.mouseClick(tab.sampling.one.look_button, Qt.LeftButton)
    assert window.tabs.currentWidget() is look and look.source.currentText() == LAST
    wait_idle(qtbot, window)
    assert look.look.recording.text == sample
    assert look.ranked_cells() and f"Recorded {len(sample):,} characters" in look.status.text()
    # plain words on screen (issue 29 item 8): cells by layer and number, what a score means
    first = look.cells.topLevelItem(0)
    cell = first.data(0, Qt.UserRole)
    assert first.text(0) == f"layer {cell.layer}, cell {cell.index} (memory)" \
        if cell.kind == "c" else f"layer {cell.layer}, cell {cell.index} (output)"
    assert ":" not in first.text(0) and look.ranked_cells()[0] == cell.name
    note = look.side.ranking_note.text()
    assert "1.00 means" in note and "0.50" in note, note

    training = text_file.read_text(encoding="utf-8")
    look.start.setValue(100)
    look.length.setValue(300)
    assert record(qtbot, window, look, SLICE) == training[100:400]
    assert record(qtbot, window, look, LAST) == sample         # the source, by the button
    look.source.setCurrentText(OWN)                            # pasted text
    QGuiApplication.clipboard().setText("the lazy dog jumps over the quick brown fox.\n" * 3)
    look.text.setFocus()
    QTest.keySequence(look.text, QKeySequence.Paste)
    assert record(qtbot, window, look, OWN).startswith("the lazy dog jumps")
    other = tmp_path / "other.txt"
    other.write_text("a brown dog, a quick fox.\n" * 20, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
    recorded = record(qtbot, window, look, FILE)     # the comma is no character it knows
    assert recorded == other.read_text(encoding="utf-8").replace(",", "")
    assert "20 character(s) the model has never seen were left out" in look.status.text()

    # the user's own property, mistyped: said in the app's words
    QTest.keyClicks(look.pattern, "uppercase")
    QTest.keyClick(look.pattern, Qt.Key_Return)
    wait_idle(qtbot, window)
    said = look.status.text()
    assert said.startswith('"Your own property" takes NAME=REGEX') and "--" not in said

    # one engine thread: a recording waits while a model trains, and says so
    set_tiny_generator(tab, text_file, "busy", epochs=200)
    window.tabs.setCurrentWidget(tab)
    wait_idle(qtbot, window)                    # the text checked: Train is ready
    QTest.mouseClick(tab.panel.train_button, Qt.LeftButton)
    window.tabs.setCurrentWidget(look)
    assert not look.record_button.isEnabled()
    assert "waits until the training ends" in look.record_button.toolTip()
    waits = look.bar.record_waits         # the reason on screen, beside the greyed button
    assert waits.isVisible() and "waits until the training ends" in waits.text()
    tab.stop_training()
    wait_idle(qtbot, window)
    assert look.record_button.isEnabled() and not waits.text()
