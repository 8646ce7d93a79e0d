"""Issue 25: a third model kind, registered from this test alone (a config, a task, a trainer,
its command-line face), gets a ``rnn-studio <kind> train`` command with its flags, a run folder
with its record, and the resume refusal by name, with no engine file edited for it. (The
Models tab's listing and an app tab for such a kind are not covered yet: see ARCHITECTURE.md.)"""
import csv
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import pytest
from mxnet import gluon, nd

from engine import kinds
from engine.cli.kind_commands import KindCommands
from engine.cli.main import main
from engine.config import TrainConfig, _JSONConfig, setting
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder
from engine.training import loop
from engine.training.plan import DataSource

TOY = ("toy",)


@dataclass(frozen=True)
class ToyConfig(_JSONConfig):
    """y = f(x): a small two-layer network."""
    width: int = setting(4, "Units of the hidden layer", low=1, high=64, kinds=TOY)


@dataclass(frozen=True)
class ToyTrainConfig(TrainConfig):
    default_epochs = 1.0
    batch_size: int = setting(8, "Rows per step", flag="--batch", low=1, high=64, kinds=TOY)
    lr: float = setting(0.05, "Adam's learning rate", low=1e-6, high=1.0, kinds=TOY)
    epochs: Optional[float] = setting(None, "Passes over the rows", low=0.0, high=1000.0,
                                      kinds=TOY, type=float)


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
    assert "--width 5 (the run has 3)" in err and "on resume only --epochs may change" in err
    assert main(["toy", "train", "--out", str(out), "--resume", "--epochs", "6",
                 "--quiet"]) == 0
    again = RunFolder(out).read_meta(kind="toy")
    assert again.step == 6 * 8 and again.best["val_loss"] < first        # it learned on
    assert main(["toy", "train", "--out", str(tmp_path / "x"), "--recipe"]) == 2   # no recipes
