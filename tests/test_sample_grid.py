"""The sample grid widget, offscreen, filled by one job on a real engine thread from a tiny
trained generator, judged and steered by a tiny trained sentiment model."""
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtGui import QGuiApplication  # noqa: E402

from engine.config import SamplingConfig  # noqa: E402

from .helpers import tiny_train, train  # noqa: E402
from .sentiment_helpers import synthetic_rows, train_sentiment_run, write_csv  # noqa: E402

WAIT_MS = 180_000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(generator run, sentiment run): both trained on the same clearly labeled lines."""
    root = tmp_path_factory.mktemp("pair")
    rows = synthetic_rows(200, seed=2)
    (root / "lines.txt").write_text("".join(t + "\n" for t, _ in rows), encoding="utf-8")
    train(root / "gen", root / "lines.txt", train_config=tiny_train(epochs=3, val_interval=100))
    train_sentiment_run(root / "sent", write_csv(root / "lines.csv", rows))
    return str(root / "gen"), str(root / "sent")


def expected(gen, base, values, sent=None, label=None):
    """What the engine itself draws for these settings (computed before any engine thread)."""
    from engine.generator.grid import make_grid, sample_grid
    from engine.generator.load import load_generator
    from engine.generator.sample import Sampler
    from engine.generator.steer import Judge
    model, vocab, _ = load_generator(gen)
    judge = Judge.load(sent) if sent else None
    steer = Judge(judge.predictor, label) if label else None
    return sample_grid(Sampler(model, vocab), make_grid(base, values), steer, judge)


def make_panel(qtbot, gen):
    from desktop.widgets.sample_grid import SampleGridPanel
    from desktop.workers import EngineThread
    engine = EngineThread()
    panel = SampleGridPanel(engine)
    qtbot.addWidget(panel)
    panel.set_run(gen)
    jobs = []
    submit = engine.submit
    engine.submit = lambda name, *a, **k: jobs.append(name) or submit(name, *a, **k)
    return engine, panel, jobs


def test_every_cell_streams_through_one_job_and_is_the_engines_sample(qtbot, pair, tmp_path):
    from desktop.widgets.sample_grid import GRID_JOB
    gen, _ = pair
    base = SamplingConfig(prime="the ", length=40)
    refs = expected(gen, base, {"temperature": [0.5, 1.2], "seed": [1, 2]})
    engine, panel, jobs = make_panel(qtbot, gen)
    try:
        c = panel.controls
        c.temperatures.setText("0.5, 1.2")
        c.seeds.setText("1,2")
        c.widgets["prime"].setText("the ")
        c.widgets["length"].setValue(40)
        assert c.steer_label.count() == 1 and not c.strength.isEnabled()   # no judge: no steer
        panel.generate()
        qtbot.waitUntil(lambda: not engine.busy, timeout=WAIT_MS)
        grid = panel.grid
        assert jobs == [GRID_JOB] and len(grid.cells) == 4
        assert [cell.generated_text() for cell in grid.cells] == [r.text for r in refs]
        assert len({r.text for r in refs}) == 4
        layout = grid.area.widget().layout()      # temperatures across, seeds down
        assert [layout.getItemPosition(i)[:2] for i in range(4)] == [(0, 0), (0, 1), (1, 0),
                                                                     (1, 1)]
        assert "4 samples, 160 characters" in grid.status.text()
        cell = grid.cells[3]
        assert cell.full_text() == "the " + refs[3].text and "1.2" in cell.title.text()
        cell.copy_button.click()
        assert QGuiApplication.clipboard().text() == cell.full_text()
        assert "Copied" in grid.status.text()
        assert cell.write(str(tmp_path / "cell.txt"))
        assert (tmp_path / "cell.txt").read_text(encoding="utf-8") == cell.full_text()
        assert not cell.write(str(tmp_path))              # a folder: said, not raised
        assert grid.status.text().startswith("Cannot save to")
        with qtbot.waitSignal(grid.continue_requested) as signal:
            cell.continue_button.click()
        assert signal.args[0] == cell.full_text()
        assert signal.args[1]["temperature"] == 1.2 and signal.args[1]["seed"] == 2
        c.temperatures.setText("0.5,,1")
        assert panel.generate() is None and len(jobs) == 1
        assert "Temperatures" in c.message.text() and "--" not in c.message.text()
    finally:
        engine.shutdown()


def test_badges_judge_each_sample_and_line_and_steering_follows_the_label(qtbot, pair):
    gen, sent = pair
    base = SamplingConfig(length=120, candidates=4)
    values = {"temperature": [1.0], "seed": [3, 4]}
    refs = expected(gen, base, values, sent, "pos")
    engine, panel, jobs = make_panel(qtbot, gen)
    try:
        c = panel.controls
        c.seeds.setText("3, 4")
        c.temperatures.setText("1.0")
        c.widgets["length"].setValue(120)
        c.layout_choice.setCurrentText("list")
        c.choose_sentiment(sent)
        assert [c.steer_label.itemData(i) for i in range(c.steer_label.count())] == [None, "neg",
                                                                                     "pos"]
        c.steer_label.setCurrentIndex(c.steer_label.findData("pos"))
        c.strength.setValue(4)
        assert c.strength_label.text() == "4 per line"
        panel.generate()
        qtbot.waitUntil(lambda: not engine.busy, timeout=WAIT_MS)
        grid = panel.grid
        assert [cell.generated_text() for cell in grid.cells] == [r.text for r in refs]
        layout = grid.area.widget().layout()
        assert [layout.getItemPosition(i)[:2] for i in range(2)] == [(0, 0), (1, 0)]
        for cell, ref in zip(grid.cells, refs):
            verdict = ref.sentiment
            assert cell.badge.text() == f"{verdict['label']} {verdict['probability']:.2f}"
            assert len(cell.lines) == len(verdict["lines"]) >= 2
            assert all(f"[{ln['label']} " in cell.text.toolTip() for ln in verdict["lines"])
        judged = [ln["label"] for r in refs for ln in r.sentiment["lines"]]
        assert judged.count("pos") > judged.count("neg")        # steered toward pos
    finally:
        engine.shutdown()
