"""Issue 25: a third model kind, registered from this test alone (a config, a task, a trainer,
its command-line face, its app tab), gets a ``rnn-studio <kind> train`` command with its
flags, a run folder with its record, the resume refusal by name, the Models tab's listing and
a training tab in the app, with no engine or desktop file edited for it."""
import csv
from dataclasses import dataclass, fields, replace
from typing import Optional

import numpy as np
import pytest
from mxnet import gluon, nd

from engine import kinds, wording
from engine.cli.kind_commands import KindCommands
from engine.cli.main import main
from engine.config import TrainConfig, _JSONConfig, setting
from engine.errors import Setting
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder
from engine.training import loop
from engine.training.plan import DataSource

@dataclass(frozen=True)
class ToyConfig(_JSONConfig):
    """y = f(x): a small two-layer network."""
    width: int = setting(4, "Units of the hidden layer", low=1, high=64)


@dataclass(frozen=True)
class ToyTrainConfig(TrainConfig):
    default_epochs = 1.0
    # the kind says here which inherited settings it has no use for (no edit in engine/config.py)
    withheld = frozenset(f.name for f in fields(TrainConfig)) - {"batch_size", "lr", "epochs",
                                                                 "minutes", "seed"}
    batch_size: int = setting(8, "Rows per step", flag="--batch", low=1, high=64)
    lr: float = setting(0.05, "Adam's learning rate", low=1e-6, high=1.0)
    epochs: Optional[float] = setting(None, "Passes over the rows", low=0.0, high=1000.0,
                                      type=float)
    minutes: Optional[float] = setting(None, "Time budget", low=0.0, high=1000.0,
                                       type=float)


@dataclass(frozen=True)
class ToyData:
    path: str
    name: str


class ToyTask(loop.Task):
    random_steps = False

    def __init__(self, rows, config, tc, ctx):
        self.x, self.y = nd.array(rows[:, :1], ctx=ctx), nd.array(rows[:, 1:], ctx=ctx)
        self.model = gluon.nn.HybridSequential()
        self.model.add(gluon.nn.Dense(config.width, activation="tanh"), gluon.nn.Dense(1))
        self.model.initialize(ctx=ctx)
        self.trainable = self.model.collect_params()
        self.batch = tc.batch_size
        self.steps_per_epoch = max(1, len(rows) // self.batch)
        self.info = {"rows": len(rows)}

    @classmethod
    def prepare(cls, run, data, config, tc, resume, ctx, cluster=None):
        if resume:
            meta, config, tc = loop.resumed_settings(run, "toy", ToyConfig, tc)
            path = meta.corpus["path"]
        else:
            run.require_new()
            path = data.path
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
        if not resume:
            meta = RunMeta("toy", {"model": config.to_dict(), "train": tc.to_dict()},
                           corpus={"name": data.name, "path": path, "size": len(rows)})
        return cls(rows, config, tc, ctx), tc, meta

    def forward(self, index):
        rows = slice(index * self.batch, (index + 1) * self.batch)
        loss = ((self.model(self.x[rows]) - self.y[rows]) ** 2).mean()
        return loss, self.batch, None

    def validate(self):
        return loop.Validation(float(((self.model(self.x) - self.y) ** 2).mean().asscalar()))


def train_toy(run_dir, data, config, tc, resume=False, should_stop=lambda: False):
    return loop.train_task(ToyTask, run_dir, data, config, tc, resume, should_stop)


def _data(args):
    return DataSource(args.rows, "rows") if args.rows else None


COMMANDS = KindCommands("a toy regression", "train (or --resume) a toy",
                        lambda t: t.add_argument("--rows", metavar="FILE"), _data)


@pytest.fixture
def toy(monkeypatch):
    kind = replace(kinds.SENTIMENT, name="toy", called="toy regression", data_noun="rows",
                   model_config=ToyConfig, train_config=ToyTrainConfig,
                   best_score=lambda meta: (meta.best or {}).get("val_loss"),
                   where={"trainer": f"{__name__}:train_toy", "data_ref": f"{__name__}:ToyData",
                          "command_line": f"{__name__}:COMMANDS"})
    monkeypatch.setitem(kinds.KINDS, "toy", kind)
    return kind


def test_a_third_kind_trains_from_its_own_command_and_refuses_a_changed_setting(
        toy, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    with rows.open("w", newline="") as f:
        csv.writer(f).writerows([(x, 2 * x + 1) for x in np.linspace(-1, 1, 64)])
    out = tmp_path / "toy-run"
    assert main(["toy", "train", "--rows", str(rows), "--out", str(out), "--width", "3",
                 "--epochs", "3", "--quiet"]) == 0, capsys.readouterr().err
    meta = RunFolder(out).read_meta(kind="toy")
    assert meta.model_settings["width"] == 3 and meta.corpus["size"] == 64
    assert meta.step == 3 * 8 and meta.best is not None
    first = meta.best["val_loss"]
    capsys.readouterr()
    assert main(["toy", "train", "--out", str(out), "--resume", "--width", "5",
                 "--epochs", "6", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--width 5 (the run has 3)" in err and "on resume only --epochs, --minutes may change" in err
    assert wording.setting("width") == Setting("width", "--width", "Width")   # its own words
    assert main(["toy", "train", "--out", str(out), "--resume", "--epochs", "6",
                 "--quiet"]) == 0
    again = RunFolder(out).read_meta(kind="toy")
    assert again.step == 6 * 8 and again.best["val_loss"] < first        # it learned on
    assert main(["toy", "train", "--out", str(tmp_path / "x"), "--recipe"]) == 2   # no recipes
    capsys.readouterr()
    assert main(["toy", "train", "--rows", str(rows), "--out", str(tmp_path / "y"),
                 "--seq-len", "5"]) == 2          # a withheld setting is no flag of its command
    assert "unrecognized arguments: --seq-len 5" in capsys.readouterr().err


# ---- the app: a tab of its own, the Models tab's listing ---------------------------------------
def _toy_tab():
    """The toy kind's TrainingTab, as a kind brings it (``where["app_tab"]``)."""
    from PySide6.QtWidgets import QLabel
    from desktop.tabs.training.data_picker import DataPicker
    from desktop.tabs.training.tab import TrainingTab

    class RowsPicker(DataPicker):
        def __init__(self, engine, job):
            super().__init__(engine, job, "Rows", "x,y rows to fit", "toy", "toy rows", [])

        def check_job(self, ref):
            return lambda should_stop=None: {"name": ref, "rows": len(np.loadtxt(
                ref, delimiter=",", ndmin=2))}

        def show_report(self, report):
            pass

        def save(self, group):            # nothing to keep between starts
            pass

        def restore(self, group):
            pass

    class ToyTab(TrainingTab):
        kind, group = kinds.KINDS["toy"], "toy"

        def make_picker(self):
            return RowsPicker(self.engine, f"{self.group}-check")

        def below_chart(self):
            return QLabel()

        def use_area(self):
            return self.runs

        def describe_data(self, report):
            return f"{report['rows']} rows"

        def data_maker(self, ref):
            return lambda: ToyData(ref, "rows")
    return ToyTab


def ToyTab(engine, window):
    return _toy_tab()(engine, window, "toy-model")


RECIPES = []


@pytest.fixture
def toy_app(toy, monkeypatch):
    pytest.importorskip("PySide6")
    monkeypatch.setitem(toy.where, "app_tab", f"{__name__}:ToyTab")
    monkeypatch.setitem(toy.where, "recipes", f"{__name__}:RECIPES")
    return toy


def test_a_third_kind_has_a_training_tab_and_is_listed_in_the_models_tab(toy_app, qtbot,
                                                                          tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox
    from tests.gui_helpers import answer_dialog, close_for_good, wait_idle
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(tmp_path / "settings"))
    from desktop.app import MainWindow
    window = MainWindow()
    window.confirm_close = False
    window.show()
    try:
        wait_idle(qtbot, window)
        tab = window.training_tabs["toy"]
        titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        assert titles == ["Generate", "Look inside", "Sentiment", "Toy regression", "Models",
                          "Compare cells", "Write"]      # every kind's tab from the registry
        rows = tmp_path / "rows.csv"
        rows.write_text("".join(f"{x},{2 * x + 1}\n" for x in np.linspace(-1, 1, 64)))
        tab.picker.add(str(rows))
        tab.settings.set_values({"width": 3, "epochs": 2})
        tab.run_name.setText("toy-run")
        wait_idle(qtbot, window)
        assert tab.picker.facts.text() == "64 rows"
        tab.panel.train_button.click()
        wait_idle(qtbot, window)
        assert window.last_error is None, window.last_error
        meta = RunFolder(tmp_path / "home" / "runs" / "toy-run").read_meta(kind="toy")
        assert meta.model_settings["width"] == 3 and meta.step == 2 * 8
        window.models.refresh()
        listed = [window.models.table.item(r, 1).text()
                  for r in range(window.models.table.rowCount())]
        assert listed == ["toy regression"], listed
        tab.settings.set_values({"width": 5})                  # Resume asks, naming it
        seen = answer_dialog(qtbot, QMessageBox.Cancel)
        tab.panel.resume_button.click()
        wait_idle(qtbot, window)
        assert seen and '"Width": yours 5, the run\'s 3' in seen[0], seen
    finally:
        close_for_good(window)
