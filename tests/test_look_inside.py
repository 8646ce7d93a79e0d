"""The Look inside view and the copied-text highlight, offscreen, on a real engine thread with a
tiny model trained on a text with a planted property (tests/inside_helpers.py)."""
import numpy as np
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QEvent, QPoint, Qt, QThread  # noqa: E402
from PySide6.QtGui import QHelpEvent, QMouseEvent, QTextCursor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QToolTip  # noqa: E402

from .inside_helpers import isolated_span, planted_text, spans_in, train_planted  # noqa: E402

WAIT_MS = 120_000


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    return train_planted(tmp_path_factory)


@pytest.fixture
def engine(qtbot):
    from desktop.workers import EngineThread, MainThreadGarbageCollector
    collector = MainThreadGarbageCollector()
    thread = EngineThread()
    yield thread
    assert thread.shutdown()
    collector.stop()


def close_for_good(widget):
    import gc
    widget.close()
    widget.deleteLater()
    QTest.qWait(10)
    gc.collect()


@pytest.fixture
def view(qtbot, engine):
    from desktop.tabs.look_inside.tab import LookInsideView
    widget = LookInsideView(engine)
    widget.resize(1260, 640)
    widget.show()
    yield widget
    close_for_good(widget)


def point_of(text_view, position: int) -> QPoint:
    """The viewport point at the left edge of character ``position``, mid-line."""
    cursor = QTextCursor(text_view.document())
    cursor.setPosition(position)
    rect = text_view.cursorRect(cursor)
    return QPoint(rect.x() + 1, rect.center().y())


def drag_select(text_view, start: int, end: int):
    """A real mouse drag from character ``start`` to ``end`` in the view's viewport."""
    port = text_view.viewport()
    a, b = point_of(text_view, start), point_of(text_view, end)
    QTest.mousePress(port, Qt.LeftButton, Qt.NoModifier, a)
    for p in (a + (b - a) / 2, b):
        move = QMouseEvent(QEvent.MouseMove, p, port.mapToGlobal(p), Qt.NoButton, Qt.LeftButton,
                           Qt.NoModifier)
        QApplication.sendEvent(port, move)
    QTest.mouseRelease(port, Qt.LeftButton, Qt.NoModifier, b)


def background_at(text_view, position: int):
    block = text_view.document().findBlock(position)
    inner = position - block.position()
    for fr in block.layout().formats():
        if fr.start <= inner < fr.start + fr.length:
            return fr.format.background().color()
    return None


def test_look_inside_records_on_the_engine_thread_ranks_recolours_and_follows_a_selection(
        qtbot, view, engine, planted_run, monkeypatch):
    import engine.generator.inside.cell_ranking as cell_ranking
    from desktop.tabs.look_inside.tab import OWN, SELECTION, value_colour
    run, _ = planted_run
    threads = []
    real_record = cell_ranking.record
    monkeypatch.setattr(cell_ranking, "record", lambda *a, **k: threads.append(
        QThread.currentThread()) or real_record(*a, **k))

    hint = view.minimumSizeHint()
    assert hint.width() <= 1260 and hint.height() <= 640         # fits a 1280 x 720 screen
    probe = planted_text(2500, seed=1)
    view.set_run(str(run))
    view.source.setCurrentText(OWN)                         # "Your own text"
    assert not view.text.isReadOnly()
    view.text.setPlainText(probe)                           # what a paste does
    QTest.mouseClick(view.record_button, Qt.LeftButton)
    assert engine.running("look-inside") and not view.record_button.isEnabled()
    qtbot.waitUntil(lambda: view.look is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not engine.busy, timeout=WAIT_MS)
    assert threads == [engine.thread_of()] and threads[0] != QApplication.instance().thread()
    assert view.text.isReadOnly() and view.text.toPlainText() == probe
    assert "Recorded 2,500 characters" in view.status.text()
    names = [view.rank_by.itemData(i) for i in range(view.rank_by.count())]
    assert {"quotes", "speaker", "uppercase", "line position"} <= set(names)
    assert len(view.ranked_cells()) == 20 and view.text.cell is not None

    # the user's own property, typed and entered: ranked on the engine thread
    QTest.keyClicks(view.pattern, "angle=<[^>]*>")
    QTest.keyClick(view.pattern, Qt.Key_Return)
    qtbot.waitUntil(lambda: view.rank_by.currentData() == "angle", timeout=WAIT_MS)
    angle = view.rankings["angle"]
    assert angle.cells[0].strength > 0.95
    assert view.ranked_cells()[0] == angle.cells[0].cell.name

    # clicking a cell recolours the text by it
    tree = view.cells
    chosen = []
    view.cell_chosen.connect(chosen.append)
    item = tree.topLevelItem(2)
    QTest.mouseClick(tree.viewport(), Qt.LeftButton, Qt.NoModifier,
                     tree.visualItemRect(item).center())
    cell = angle.cells[2].cell
    assert chosen == [cell.name] and view.text.cell == cell
    values = view.look.recording.display(cell)
    for position in (0, 100, 2000):
        level = round((np.clip(values[position], -1, 1) + 1) / 2 * 20) / 20 * 2 - 1
        assert background_at(view.text, position) == value_colour(level)

    # selecting a span with the mouse ranks by it, and finds the other spans
    start, end = isolated_span(probe)
    drag_select(view.text, start, end - 1)
    qtbot.waitUntil(lambda: view.rank_by.currentData() == SELECTION, timeout=5000)
    assert view.selected_span() == (start, end - 1)
    selection = view.selection
    assert selection.ranking.cells[0].score == 1.0
    assert view.ranked_cells()[0] == selection.ranking.cells[0].cell.name
    others = [s for s in spans_in(probe) if s[0] != start]
    assert view.matches.count() >= 0.9 * len(others), (view.matches.count(), len(others))
    assert "switch on together" in view.matches_title.text()
    item = view.matches.item(3)
    QTest.mouseClick(view.matches.viewport(), Qt.LeftButton, Qt.NoModifier,
                     view.matches.visualItemRect(item).center())
    assert view.selected_span() == item.data(Qt.UserRole)
    QTest.qWait(400)                                        # a match shown is not a new selection
    assert view.selection is selection

    # hovering a character: its value and the likeliest next characters
    port = view.text.viewport()
    p = point_of(view.text, 10)
    QApplication.sendEvent(port, QHelpEvent(QEvent.ToolTip, p, port.mapToGlobal(p)))
    tip = QToolTip.text()
    rec = view.look.recording
    assert f"{probe[10]!r} at character 10" in tip and "likeliest next" in tip
    assert repr(rec.next_chars(10)[0][0]) in tip


def test_a_recording_of_the_training_text_and_its_errors(qtbot, view, engine, planted_run,
                                                         tmp_path):
    from desktop.tabs.look_inside.tab import NEW, SLICE
    run, text_file = planted_run
    failures = []
    view.failed.connect(failures.append)
    view.set_run(str(run))
    view.source.setCurrentText(SLICE)                       # a slice of the training text
    view.start.setValue(1000)
    view.length.setValue(400)
    QTest.mouseClick(view.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.look is not None and not engine.busy, timeout=WAIT_MS)
    assert view.look.recording.text == text_file.read_text()[1000:1400]
    view.source.setCurrentText(NEW)                         # a new sample
    view.length.setValue(200)
    QTest.mouseClick(view.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(view.look.recording) == 200 and not engine.busy, timeout=WAIT_MS)
    view.set_run(str(tmp_path / "no-such-run"))
    assert view.look is None and view.text.toPlainText() == ""
    QTest.mouseClick(view.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(failures), timeout=WAIT_MS)
    assert "no-such-run" in failures[0] and view.record_button.isEnabled()


def test_copied_text_is_highlighted_with_its_novelty_line(qtbot, engine, planted_run):
    from desktop.tabs.generate.copied_text import COPIED, CopiedTextChecker, preview_line
    from desktop.tabs.generate.sample_view import SampleView
    from engine.events import SampleReady
    run, text_file = planted_run
    training = text_file.read_text(encoding="utf-8")
    sample = SampleView()
    line = QLabel()
    sample.show()
    copied = training[5000:5080]
    shuffled = "".join(np.random.RandomState(0).permutation(list(training[9000:9100])))
    sample.setPlainText(shuffled[:50] + copied + shuffled[50:])
    checker = CopiedTextChecker(engine, sample, line)
    checker.check(str(run))
    qtbot.waitUntil(lambda: checker.report is not None, timeout=WAIT_MS)
    assert checker.copied_spans()[0] == (50, 130)
    selections = sample.extraSelections()
    assert selections and selections[0].cursor.selectedText().replace("\u2029", "\n") == copied
    assert selections[0].format.background().color() == COPIED
    share = checker.report.share()
    assert 0.2 < share < 0.5
    assert line.text() == f"Copied: {share:.0%} (longest 80 characters)".replace("%", " %")
    assert line.toolTip().startswith(f"{share:.0%}".replace("%", " %") + " of 20-character "
                                     f"windows copied; longest 80 characters, from line "
                                     f"{training[:5000].count(chr(10)) + 1:,}")
    port = sample.viewport()
    p = point_of(sample, 90)
    QApplication.sendEvent(port, QHelpEvent(QEvent.ToolTip, p, port.mapToGlobal(p)))
    assert QToolTip.text().startswith("copied: 80 characters")
    sample.setPlainText("something else")
    assert checker.span_at(60) is None                      # stale once the text changed
    assert preview_line(SampleReady(5, "x", 0.123, 31, 1234)) == \
        "12 % of 20-character windows copied; longest 31 characters, from line 1,234"
    assert preview_line(SampleReady(5, "x")) == ""
    close_for_good(sample)
