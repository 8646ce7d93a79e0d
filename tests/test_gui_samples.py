"""The Generate tab's many samples side by side, judged and steered by a sentiment model, and
what was copied from the training text, in the real window: tiny models trained through its
Train buttons on the real engine thread, the grid driven by clicks and typing, every text
compared with what the engine itself draws for the same settings."""
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QEvent, QPoint, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QHelpEvent, QTextCursor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolTip  # noqa: E402

from engine.config import SamplingConfig  # noqa: E402

from .gui_helpers import (set_tiny_generator, set_tiny_sentiment, train_and_wait,  # noqa: E402,F401
                          wait_idle, _window)
from .sentiment_helpers import synthetic_rows, write_csv  # noqa: E402


def on_engine(qtbot, window, fn):
    """``fn()`` run as a job on the window's engine thread (where the app runs MXNet)."""
    out = []
    window.engine.submit("test-reference", lambda should_stop: fn(), streams=False,
                         on_done=out.append, on_error=out.append)
    wait_idle(qtbot, window)
    assert out and not isinstance(out[0], str), out
    return out[0]


def reference(qtbot, window, gen, base, values, sent=None, label=None):
    """What the engine draws for these settings (and, with ``sent``, how it judges them)."""
    def fn():
        from engine.generator.sampling.grid import make_grid, sample_grid
        from engine.generator.load import load_generator
        from engine.generator.sampling.sample import Sampler
        from engine.generator.sampling.steer import Judge
        model, vocab, _ = load_generator(gen)
        judge = Judge.load(sent) if sent else None
        steer = Judge(judge.predictor, label) if label else None
        return sample_grid(Sampler(model, vocab), make_grid(base, values), steer, judge)
    return on_engine(qtbot, window, fn)


def type_into(widget, text: str):
    widget.clear()
    QTest.keyClicks(widget, text)


def click_view(sampling, index: int):
    bar = sampling.views.tabBar()
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(index).center())


def hover(view, position: int) -> str:
    """The tooltip shown when the pointer rests on character ``position`` of ``view``."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(position)
    rect = view.cursorRect(cursor)
    port, point = view.viewport(), QPoint(rect.x() + 1, rect.center().y())
    QApplication.sendEvent(port, QHelpEvent(QEvent.ToolTip, point, port.mapToGlobal(point)))
    return QToolTip.text()


def test_many_samples_side_by_side_through_one_job_then_one_goes_on(qtbot, window, text_file,
                                                                    studio_home, tmp_path):
    from desktop.tabs.generate.copied_text import short_line
    from desktop.tabs.generate.sample_grid import GRID_JOB
    tab, sampling = window.generate, window.generate.sampling
    set_tiny_generator(tab, text_file, "grid-gen", epochs=2)
    train_and_wait(qtbot, window, tab)
    # each preview after a validation said how much of it is in the training text, and the
    # shares before it, so memorisation shows as a run goes on
    preview = tab.preview_novelty.text()
    assert "of 20-character windows copied" in preview and "Earlier previews:" in preview
    gen = str(studio_home / "runs" / "grid-gen")
    jobs = []
    submit = window.engine.submit
    window.engine.submit = lambda name, *a, **k: jobs.append(name) or submit(name, *a, **k)

    assert tab.training_area.isVisible()
    click_view(sampling, 1)                         # "Many samples": it takes the column
    assert sampling.views.currentWidget() is sampling.grid
    assert not tab.training_area.isVisible() and sampling.room.text() == "Show charts"
    assert sampling.generate_button.text() == "Generate all"
    type_into(sampling.prime, "the ")
    sampling.settings.widgets["length"].setValue(40)
    axes = sampling.grid.axes
    type_into(axes.temperatures, "0.5, 1.2")
    type_into(axes.seeds, "1,2")
    QTest.mouseClick(sampling.generate_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    grid = sampling.grid
    assert jobs == [GRID_JOB] + ["novelty"] * 4       # one job draws them all; then each checked
    refs = reference(qtbot, window, gen, SamplingConfig(prime="the ", length=40),
                     {"temperature": [0.5, 1.2], "seed": [1, 2]})
    assert [cell.generated_text() for cell in grid.cells] == [r.text for r in refs]
    layout = grid.area.widget().layout()              # temperatures across, seeds down
    assert [layout.getItemPosition(i)[:2] for i in range(4)] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert "4 samples, 160 characters" in grid.status.text()
    for cell in grid.cells:                           # under each: what it copied
        assert cell.novelty.text() == short_line(cell.checker.report)
        assert cell.novelty.toolTip().startswith(cell.checker.report.line())
    copied = [c for c in grid.cells if c.checker.copied_spans()]
    assert copied, "a model of one repeated sentence copies it"
    assert len(copied[0].text.extraSelections()) == len(copied[0].checker.copied_spans())
    sampling.highlight.click()                        # off: the marks go, the lines stay
    assert all(not c.text.extraSelections() for c in grid.cells) and copied[0].novelty.text()
    sampling.highlight.click()
    assert copied[0].text.extraSelections()

    cell = grid.cells[3]
    assert cell.full_text() == "the " + refs[3].text and "1.2" in cell.title.text()
    QTest.mouseClick(cell.copy_button, Qt.LeftButton)
    assert QGuiApplication.clipboard().text() == cell.full_text()
    assert "Copied" in grid.status.text()
    assert cell.write(str(tmp_path / "cell.txt"))
    assert (tmp_path / "cell.txt").read_text(encoding="utf-8") == cell.full_text()
    assert not cell.write(str(tmp_path)) and grid.status.text().startswith("Cannot save to")

    # Continue: the cell goes on in the One sample view, with its settings
    QTest.mouseClick(cell.continue_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert sampling.views.currentWidget() is sampling.one
    assert sampling.settings.temperature.value() == 120 and sampling.settings.seed.value() == 2
    more = reference(qtbot, window, gen, SamplingConfig(prime=cell.full_text(), length=40,
                                                        temperature=1.2, seed=2), {})
    assert sampling.output.toPlainText() == cell.full_text() + more[0].text
    one = sampling.one                                # its novelty line, its copied stretches
    assert one.novelty.text() == short_line(one.checker.report)
    spans = one.checker.copied_spans()
    assert spans and len(sampling.output.extraSelections()) == len(spans)
    start, end = spans[0]
    assert hover(sampling.output, (start + end) // 2).startswith(
        f"copied: {end - start:,} characters found verbatim at line")
    QTest.mouseClick(sampling.room, Qt.LeftButton)    # the charts come back when asked
    assert tab.training_area.isVisible() and sampling.room.text() == "Hide charts"

    # a list the engine refuses is said under the lists, in the app's words
    click_view(sampling, 1)
    type_into(axes.temperatures, "0.5, 20")
    QTest.mouseClick(sampling.generate_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert '"Temperature" must be at most 10' in grid.status.text()
    type_into(axes.temperatures, "0.5,,1")
    QTest.mouseClick(sampling.generate_button, Qt.LeftButton)
    assert grid.status.text().startswith("Temperatures: '0.5,,1' is not")
    assert "--" not in grid.status.text() and jobs.count(GRID_JOB) == 1

    # a long grid stops when asked, and says so
    type_into(axes.temperatures, "0.5, 1")
    sampling.settings.widgets["length"].setValue(100_000)
    QTest.mouseClick(sampling.generate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(grid.cells[0].generated_text()) > 50, timeout=60_000)
    QTest.mouseClick(sampling.stop_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert grid.status.text().startswith("Stopped: 4 samples")
    assert all(len(c.generated_text()) < 100_000 for c in grid.cells)


def test_a_sentiment_model_judges_and_steers_what_the_generate_tab_writes(qtbot, window,
                                                                         tmp_path, studio_home):
    rows = synthetic_rows(200, seed=2)                # clearly positive or negative lines
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(t + "\n" for t, _ in rows), encoding="utf-8")
    sampling = window.generate.sampling
    choice = sampling.sentiment
    assert choice.judge.count() == 1 and not choice.label.isEnabled()    # none trained yet
    set_tiny_sentiment(window.sentiment, write_csv(tmp_path / "lines.csv", rows), "judge")
    train_and_wait(qtbot, window, window.sentiment)
    assert choice.judge.findText("judge") == 1        # the runs changed: the list follows
    set_tiny_generator(window.generate, lines, "lines-gen", epochs=3)
    train_and_wait(qtbot, window, window.generate)
    gen, sent = (str(studio_home / "runs" / name) for name in ("lines-gen", "judge"))

    choice.judge.setCurrentIndex(choice.judge.findText("judge"))
    assert [choice.label.itemData(i) for i in range(choice.label.count())] == [None, "neg", "pos"]
    choice.label.setCurrentIndex(choice.label.findData("pos"))
    choice.strength.setValue(4)
    assert choice.strength_label.text() == "4 per line"
    sampling.settings.temperature.setValue(100)
    sampling.settings.widgets["length"].setValue(120)
    sampling.settings.seed.setValue(3)
    QTest.mouseClick(sampling.generate_button, Qt.LeftButton)       # one sample, steered
    wait_idle(qtbot, window)
    base = SamplingConfig(length=120, temperature=1.0, candidates=4)
    ref = reference(qtbot, window, gen, base.replace(seed=3), {}, sent, "pos")[0]
    assert sampling.output.generated_text() == ref.text
    verdict = ref.sentiment
    assert sampling.one.badge.text() == f"{verdict['label']} {verdict['probability']:.2f}"
    assert all(f"[{ln['label']} " in sampling.one.badge.toolTip() for ln in verdict["lines"])

    click_view(sampling, 1)                           # the grid: a badge per sample and line
    type_into(sampling.grid.axes.temperatures, "1.0")
    type_into(sampling.grid.axes.seeds, "3, 4")
    sampling.grid.axes.layout_choice.setCurrentText("list")
    QTest.mouseClick(sampling.generate_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    refs = reference(qtbot, window, gen, base, {"temperature": [1.0], "seed": [3, 4]}, sent,
                     "pos")
    grid = sampling.grid
    assert [cell.generated_text() for cell in grid.cells] == [r.text for r in refs]
    assert grid.cells[0].generated_text() == ref.text           # the same stream either way
    layout = grid.area.widget().layout()
    assert [layout.getItemPosition(i)[:2] for i in range(2)] == [(0, 0), (1, 0)]
    for cell, r in zip(grid.cells, refs):
        verdict = r.sentiment
        assert cell.badge.text() == f"{verdict['label']} {verdict['probability']:.2f}"
        assert len(cell.lines) == len(verdict["lines"]) >= 2
        assert all(f"[{ln['label']} " in cell.text.toolTip() for ln in verdict["lines"])
    judged = [ln["label"] for r in refs for ln in r.sentiment["lines"]]
    assert judged.count("pos") > judged.count("neg")          # steered toward pos
    plain = reference(qtbot, window, gen, base, {"temperature": [1.0], "seed": [3, 4]})
    assert [r.text for r in plain] != [r.text for r in refs]   # steering changed the text
