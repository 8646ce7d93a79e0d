"""The Models tab over runs trained for real: listing and sorting, comparing, exporting,
renaming and deleting (with the real buttons and dialogs)."""
import json
import re
import time

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from .gui_helpers import (answer_dialog, make_runs, set_tiny_generator,  # noqa: E402,F401
                          train_and_wait, wait_idle, _window)


def test_models_tab_lists_overlays_exports_and_deletes(qtbot, window, text_file, tmp_path,
                                                       studio_home):
    tab = window.generate
    for name in ("first", "second"):
        set_tiny_generator(tab, text_file, name, epochs=1)
        train_and_wait(qtbot, window, tab)
    models = window.models
    models.refresh()
    assert models.table.rowCount() == 2
    models.table.selectAll()
    assert len(models.chart._curves) == 2               # both runs' curves overlaid
    colours = {n: c.opts["pen"].color().name() for n, c in models.chart._curves.items()}
    models.select("second")                             # a run keeps its colour
    assert models.chart._curves["second"].opts["pen"].color().name() == colours["second"]
    details = models.details.toPlainText()
    assert details.startswith("second: a text generator") and "bits/char" in details
    assert "{" not in details and not re.search(r"\d\.\d{6,}", details)   # a summary, not JSON
    score = models.table.item(0, 4)
    assert score.text().endswith("bits/char") and "nats" in score.toolTip()
    models.export("second", tmp_path / "exported")
    wait_idle(qtbot, window)
    assert {"model-symbol.json", "model-0000.params", "meta.json", "README.md"} <= {
        p.name for p in (tmp_path / "exported").iterdir()}
    models.exported.close()
    models.select("first")
    from PySide6.QtWidgets import QMessageBox
    answer_dialog(qtbot, QMessageBox.Yes)
    models.buttons["delete"].click()
    assert not (studio_home / "runs" / "first").exists()
    assert models.table.rowCount() == 1 and tab.runs.count() == 1


def _make_dated_runs(studio_home, text_file):
    """Three runs saved in the order a, c, b, with different step counts (10, 2, 100)."""
    for name, epochs in (("a", "0.05"), ("c", "0.01"), ("b", "0.5")):
        make_runs(studio_home, text_file, name, epochs=epochs)
        time.sleep(1.1)


def test_the_list_is_newest_first_and_sorts_by_what_the_header_says(qtbot, window, text_file,
                                                                    studio_home):
    """Finding 11: newest first by default; a click on a heading sorts by it (numbers as
    numbers), and the heading's arrow says so."""
    _make_dated_runs(studio_home, text_file)
    models = window.models
    models.refresh()
    header = models.table.horizontalHeader()
    assert models.names_in_order() == ["b", "c", "a"]
    assert header.sortIndicatorSection() == 6 and header.sortIndicatorOrder() == Qt.DescendingOrder
    centre = QPoint(header.sectionViewportPosition(0) + header.sectionSize(0) // 2,
                    header.height() // 2)
    QTest.mouseClick(header.viewport(), Qt.LeftButton, pos=centre)       # the "name" heading
    assert header.sortIndicatorSection() == 0
    ascending = header.sortIndicatorOrder() == Qt.AscendingOrder
    assert models.names_in_order() == (["a", "b", "c"] if ascending else ["c", "b", "a"])
    models.table.sortItems(5, Qt.AscendingOrder)          # steps: 2 < 10 < 100, not "10" < "2"
    steps = [int(models.table.item(i, 5).text().replace(",", "")) for i in range(3)]
    assert steps == sorted(steps) and len(set(steps)) == 3
    models.refresh()                                       # a refresh keeps the chosen order
    assert [int(models.table.item(i, 5).text().replace(",", "")) for i in range(3)] == steps


def test_comparing_runs_shows_them_side_by_side_over_a_chosen_axis(qtbot, window, text_file,
                                                                   studio_home):
    """Finding 11: several runs' details side by side; the curves over passes, minutes or
    characters seen."""
    make_runs(studio_home, text_file, "short", "long", epochs="0.3")
    models = window.models
    models.refresh()
    models.table.selectAll()
    html = models.details.toHtml()
    text = models.details.toPlainText()
    assert "2 text generators compared" in text and "<table" in html.lower()
    assert text.count("bits/char") == 2 and "short" in text and "long" in text
    meta = json.loads((studio_home / "runs" / "short" / "meta.json").read_text())
    validated = [h for h in meta["history"] if h.get("val_loss") is not None]
    for key, x_of in (("epoch", lambda h: h["epoch"]),
                      ("minutes", lambda h: h["seconds"] / 60),
                      ("seen", lambda h: h["step"] * 4 * 10)):          # batch 4 x seq 10
        models.x_axis.setCurrentIndex(models.x_axis.findData(key))
        xs = models.chart._data["short"][0]
        assert xs == pytest.approx([x_of(h) for h in validated]), key
        assert models.chart.plot.getAxis("bottom").labelText == models.x_axis.currentText()


def test_export_goes_where_it_says_and_says_where_it_went(qtbot, window, text_file, tmp_path,
                                                          studio_home, monkeypatch):
    """Finding 12: an empty folder is used as it is, any other gets a new NAME-export folder;
    a dialog says where, with a button to open the folder."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox
    make_runs(studio_home, text_file, "exp")
    models = window.models
    models.refresh()
    models.select("exp")
    empty, busy = tmp_path / "empty", tmp_path / "busy"
    empty.mkdir()
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    for chosen, expected in ((empty, empty), (busy, busy / "exp-export")):
        titles = []
        monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                            lambda parent, title, *a, c=chosen, t=titles, **k: t.append(title) or str(c))
        models.buttons["export"].click()
        # the dialog's title is one short line that a title bar shows whole (issue 29, 9)
        assert titles == ["Export exp into a folder"], titles
        assert "NAME-export" in models.buttons["export"].toolTip()
        wait_idle(qtbot, window)
        assert (expected / "model-symbol.json").is_file() and models.last_export == str(expected)
        dialog = models.exported
        assert isinstance(dialog, QMessageBox) and dialog.isVisible()
        assert str(expected) in dialog.text()
        assert "Open folder" in [b.text() for b in dialog.buttons()]
        dialog.close()
    # the web page, through the same export the command line uses
    page = tmp_path / "page"
    page.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(page))
    assert models.export_format.model().item(models.export_format.findText("web")).isEnabled()
    models.export_format.setCurrentText("web")
    models.buttons["export"].click()
    wait_idle(qtbot, window)
    html = (page / "model.html").read_text("utf-8")
    assert html.lower().startswith("<!doctype html>") and "<title>exp" in html
    assert (page / "README.md").is_file() and models.last_export == str(page)
    assert (busy / "notes.txt").read_text() == "mine"


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


def test_help_opens_the_guide_and_export_offers_only_formats_that_work(qtbot, window,
                                                                       tmp_path):
    from PySide6.QtWidgets import QTextBrowser
    from desktop.guide import show_guide
    from .gui_helpers import set_tiny_sentiment
    from .sentiment_helpers import synthetic_rows, write_csv
    guide = show_guide(window)
    assert "Bits per character" in guide.findChild(QTextBrowser).toPlainText()
    guide.close()
    tab = window.sentiment
    set_tiny_sentiment(tab, write_csv(tmp_path / "reviews.csv", synthetic_rows(120)),
                       "both-ways", epochs=1)
    tab.settings.form["bidirectional"].setChecked(True)
    train_and_wait(qtbot, window, tab)
    models = window.models
    models.refresh()
    models.select("both-ways")
    onnx = models.export_format.model().item(models.export_format.findText("onnx"))
    assert not onnx.isEnabled() and "SequenceReverse" in onnx.toolTip()
    # the reason names the settings by their labels on screen, not their flags
    assert "--" not in onnx.toolTip() and '"Format"' in onnx.toolTip()
    assert '"Read both ways"' in onnx.toolTip()
    web = models.export_format.model().item(models.export_format.findText("web"))
    assert not web.isEnabled() and "text generator" in web.toolTip()
