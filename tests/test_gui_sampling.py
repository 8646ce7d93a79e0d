"""The Generate tab's data picker and sampling area, with tiny models trained for real."""
import json

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from .gui_helpers import (answer_dialog, set_tiny_generator, train_and_wait,  # noqa: E402,F401
                          wait_idle, _window)


def test_sampling_presets_copy_and_save_say_what_they_did(qtbot, window, tmp_path):
    from engine.config import SamplingConfig, default_of
    sampling = window.generate.sampling
    controls = sampling.settings
    temperature, top_p = controls.temperature, controls.widgets["top_p"]
    assert controls.preset.currentText() == "Balanced"           # the default controls
    assert temperature.value() == round(default_of(SamplingConfig, "temperature") * 100)
    assert controls.widgets["length"].value() == default_of(SamplingConfig, "length")
    controls.preset.setCurrentText("Wild")
    assert temperature.value() == 130 and top_p.value() == 1.0
    controls.preset.setCurrentText("Safe")
    assert temperature.value() == 50 and top_p.value() == 0.9
    temperature.setValue(63)
    assert controls.preset.currentText() == "Custom"
    temperature.setValue(round(default_of(SamplingConfig, "temperature") * 100))
    top_p.setValue(1.0)
    assert controls.preset.currentText() == "Balanced"
    assert controls.config() == SamplingConfig(seed=1)       # the defaults, the seed fixed at 1
    sampling.output.setPlainText("some text")
    sampling.one.copy_button.click()
    assert "Copied 9 characters" in window.statusBar().currentMessage()
    sampling.write_output(str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "some text"
    assert "Saved to" in window.statusBar().currentMessage()


def test_the_temperature_can_be_typed_and_says_what_it_does(qtbot, window):
    """Finding 29.3: reaching 0.30 took 50 arrow presses and what the temperature does was only
    in a tooltip. A box takes the typed value (the slider follows) and a visible line says what
    the value does; moving the slider updates both."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    controls = window.generate.sampling.settings
    window.show()
    box, hint = controls.temperature_box, controls.temperature_hint
    assert box.isVisible() and hint.isVisible() and "balanced" in hint.text()
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "0.3")
    QTest.keyClick(box, Qt.Key_Return)
    assert controls.temperature.value() == 30 and controls.config().temperature == 0.3
    assert hint.text() == "cautious: tidy, repeats itself"
    assert controls.preset.currentText() == "Custom"
    controls.temperature.setValue(140)                          # the slider moves the box too
    assert box.value() == 1.4 and "wild" in hint.text()
    controls.preset.setCurrentText("Balanced")
    assert box.text() == "0.80" and "balanced" in hint.text()


def _shaded(output) -> int:
    """How many characters of the view have a background colour."""
    from PySide6.QtGui import QTextCursor, QTextFormat
    cursor, shaded = QTextCursor(output.document()), 0
    for position in range(1, len(output.toPlainText()) + 1):
        cursor.setPosition(position)
        shaded += cursor.charFormat().hasProperty(QTextFormat.BackgroundBrush)
    return shaded


def test_bad_inputs_and_shading_follow_the_controls(qtbot, window, tmp_path, text_file):
    tab = window.generate
    binary = tmp_path / "data.bin"
    binary.write_bytes(bytes(range(256)) * 50)
    tab.picker.add(str(binary))
    wait_idle(qtbot, window)
    assert "cannot be trained on" in tab.picker.facts.text()
    assert "binary" in tab.picker.advice.text()
    assert not tab.panel.train_button.isEnabled()          # not on a text that was refused
    set_tiny_generator(tab, text_file, "broken", epochs=2)     # two checkpoints
    train_and_wait(qtbot, window, tab)
    sampling = tab.sampling
    # finding 13: shading on, then off: the next text is plain, its start included
    sampling.prime.setText("the ")
    sampling.settings.widgets["length"].setValue(40)
    sampling.confidence.click()
    sampling.generate_button.click()
    wait_idle(qtbot, window)
    assert _shaded(sampling.output) > 0
    sampling.confidence.click()
    sampling.generate_button.click()
    wait_idle(qtbot, window)
    assert len(sampling.output.toPlainText()) == 44 and _shaded(sampling.output) == 0

    from engine.storage.runs import RunFolder
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
    sampling.generate_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None and sampling.output.toPlainText()
    qtbot.waitUntil(lambda: window.last_warning is not None, timeout=5000)
    assert "corrupted" in window.last_warning and "previous checkpoint" in window.last_warning
    for path in older:
        damage(path)
    sampling.generate_button.click()
    wait_idle(qtbot, window)
    title, message = window.last_error
    assert title == "Cannot generate" and "corrupted" in message and "Traceback" not in message
    assert message[0].isupper() or message[0] == "/"
    sampling.prime.setText("QQQ")
    sampling.checkpoint.setCurrentText("last")
    sampling.generate_button.click()
    wait_idle(qtbot, window)
    assert "never seen: 'Q'" in window.last_error[1]


def test_each_text_keeps_its_own_encoding(qtbot, window, tmp_path, text_file):
    picker = window.generate.picker
    latin = tmp_path / "latin.txt"
    latin.write_bytes(("caf\xe9 na\xefve r\xe9sum\xe9 " * 400).encode("latin-1"))
    picker.add(str(latin))
    wait_idle(qtbot, window)
    assert picker.encoding.currentText() == "cp1252"          # guessed: not valid UTF-8
    assert "cannot be trained on" not in picker.facts.text()
    picker.encoding.setCurrentText("latin-1")                  # the user's choice for this file
    wait_idle(qtbot, window)
    picker.source.setCurrentIndex(picker.source.findData("shakespeare"))
    wait_idle(qtbot, window)
    assert picker.encoding.currentText() == "utf-8" and not picker.encoding.isEnabled()
    picker.add(str(text_file))
    wait_idle(qtbot, window)
    assert picker.encoding.currentText() == "utf-8" and picker.encoding.isEnabled()
    picker.source.setCurrentIndex(picker.source.findData(str(latin)))
    wait_idle(qtbot, window)
    assert picker.encoding.currentText() == "latin-1"          # its own choice came back
    assert "é" in picker.preview.toPlainText()


def test_a_taken_run_name_offers_resume_overwrite_or_a_new_name(qtbot, window, text_file,
                                                                 studio_home):
    from PySide6.QtWidgets import QMessageBox
    tab = window.generate
    set_tiny_generator(tab, text_file, "taken", epochs=1)
    train_and_wait(qtbot, window, tab)
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

    tab.settings.epochs.setValue(1)                      # "Resume it": one more pass
    tab.resume.length.setCurrentIndex(1)
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


def test_the_built_in_corpora_say_which_are_ready_and_which_are_built_on_first_use(
        qtbot, window, tmp_path, monkeypatch):
    """Issue 29, 9: each built-in text says whether it is built here already or will be built
    (offline, from installed packages) when first used, as the corpora folder really holds them."""
    import corpora
    from PySide6.QtWidgets import QComboBox

    from desktop.widgets.common import add_builtin_corpora
    picker = window.generate.picker
    labels = {picker.source.itemData(i): picker.source.itemText(i)
              for i in range(picker.source.count()) if picker.source.itemData(i) in corpora.REGISTRY}
    assert labels
    for name, label in labels.items():
        ready = corpora.looks_built(name)
        assert label == f"{name} (built-in, {'ready' if ready else 'built on first use'})"
    (tmp_path / "bare").mkdir()
    monkeypatch.setenv("RNN_STUDIO_HOME", str(tmp_path / "bare"))     # nothing built there
    bare = QComboBox()
    add_builtin_corpora(bare, "text")
    assert bare.count() == len(labels)
    assert all(bare.itemText(i).endswith("(built-in, built on first use)")
               for i in range(bare.count()))
