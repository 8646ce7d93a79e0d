"""The Compare cells tab, through its real controls and the engine thread: two cells train one
after another on a planted-bracket text, the table, the claims and both pictures fill in, and
the runs show up in the Models tab as one group."""
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from corpora.planted import planted_text  # noqa: E402

from .gui_helpers import wait_idle, _window  # noqa: E402,F401


def test_compare_cells_trains_each_cell_then_shows_the_table_pictures_and_group(
        qtbot, window, tmp_path):
    text = tmp_path / "planted.txt"
    text.write_text(planted_text(60_000, seed=2))
    tab = window.compare
    window.tabs.setCurrentWidget(tab)
    from desktop.widgets.common import select_or_add
    select_or_add(tab.text, str(text))
    tab.cell_boxes["gru"].setChecked(False)
    tab.hidden.setValue(16)
    tab.layers.setValue(1)
    tab.minutes.setValue(0.05)
    tab.name.setText("gui-cmp")
    tab.start.click()
    assert not tab.start.isEnabled() and tab.stop.isEnabled()
    wait_idle(qtbot, window)
    assert window.last_error is None, window.last_error
    assert tab.result is not None, tab.status.text()
    assert tab.start.isEnabled() and "Done" in tab.status.text()
    assert tab.table.columnCount() == 2
    assert [tab.table.horizontalHeaderItem(i).text() for i in range(2)] == ["LSTM", "Plain RNN"]
    gates = [tab.table.item(0, i).text() for i in range(2)]
    assert gates == ["3", "0"]
    assert tab.curves.points("LSTM") >= 1 and tab.curves.points("Plain RNN") >= 1
    assert tab.reach.points("LSTM") == 10 and tab.gradient.points("Plain RNN") == 13
    assert "vanishing gradient" in tab.verdicts.toPlainText().lower()
    models = window.models
    names = models.names_in_order()
    assert {"gui-cmp-lstm", "gui-cmp-rnn"} <= set(names)
    group_col = models.table.columnCount() - 1
    groups = {models.table.item(i, 0).text(): models.table.item(i, group_col).text()
              for i in range(models.table.rowCount())}
    assert groups["gui-cmp-lstm"] == groups["gui-cmp-rnn"] == "gui-cmp (Compare cells: LSTM, RNN)"
    models.select("gui-cmp-rnn")
    assert "Group: gui-cmp" in models.details.toPlainText()
    # a second comparison of the same name is refused by name, nothing overwritten
    tab.start.click()
    wait_idle(qtbot, window)
    assert "already exists" in tab.status.text()
