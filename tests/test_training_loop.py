"""The training loop is really shared: a third, tiny task (a toy linear regression) trains through
it with checkpoints, best tracking, resume and patience, in a task of under 40 lines."""
import mxnet as mx
import numpy as np
from mxnet import gluon, nd

from engine.config import TrainConfig
from engine.events import Finished, Validated
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder
from engine.training.schedule import learning_rate
from engine.training import loop


class LineTask(loop.Task):
    """Learn y = 3x - 1 from noisy points: 8 batches of 16 per epoch."""
    best_metric, higher_is_better = "r2", True

    def __init__(self, seed=0):
        rng = np.random.RandomState(seed)
        self.x = rng.uniform(-1, 1, (160, 1)).astype(np.float32)
        self.y = 3 * self.x - 1 + rng.normal(0, 0.1, self.x.shape).astype(np.float32)
        self.model = gluon.nn.Dense(1, in_units=1)
        self.model.initialize(mx.init.Zero())
        self.trainable = self.model.collect_params()
        self.steps_per_epoch, self.info = 8, {"points": 128}

    def forward(self, index):
        x, y = (nd.array(a[index * 16:(index + 1) * 16]) for a in (self.x, self.y))
        return ((self.model(x) - y) ** 2).mean(), 16, None

    def validate(self):
        pred = self.model(nd.array(self.x[128:])).asnumpy()
        mse = float(((pred - self.y[128:]) ** 2).mean())
        return loop.Validation(mse, {"r2": 1 - mse / float(self.y[128:].var())})


def train_line(run, epochs, resume=False, patience=0, should_stop=lambda: False):
    config = TrainConfig(lr=0.1, epochs=epochs, warmup_steps=0, log_interval=4, patience=patience)
    meta = RunFolder(run).read_meta() if resume else RunMeta("line", {})
    with RunFolder(run).writing():
        return list(loop.train(RunFolder(run), LineTask(), config, meta, mx.cpu(), resume,
                               should_stop))


def weights(run):
    task = LineTask()
    RunFolder(run).load_params(task.model, "last")
    return {k: v.data().asnumpy() for k, v in task.model._collect_params_with_prefix().items()}


def test_a_third_task_learns_through_the_shared_loop(tmp_path):
    events = train_line(tmp_path / "line", epochs=6)
    scores = [e.metrics["r2"] for e in events if isinstance(e, Validated)]
    assert len(scores) == 6 and scores[-1] > 0.95 > scores[0]
    task = LineTask()
    RunFolder(tmp_path / "line").load_params(task.model, "best")
    assert abs(float(task.model.weight.data().asscalar()) - 3) < 0.2
    assert RunFolder(tmp_path / "line").read_meta().best["r2"] == max(scores)


def test_the_loop_resumes_a_third_task_exactly(tmp_path):
    train_line(tmp_path / "whole", epochs=4)
    calls = iter(range(1000))
    first = train_line(tmp_path / "split", epochs=4, should_stop=lambda: next(calls) >= 13)
    assert first[-1].reason == "stopped" and first[-1].step == 13
    train_line(tmp_path / "split", epochs=4, resume=True)
    a, b = weights(tmp_path / "whole"), weights(tmp_path / "split")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_patience_stops_when_the_score_stops_improving(tmp_path):
    events = train_line(tmp_path / "line", epochs=200, patience=2)
    assert isinstance(events[-1], Finished) and events[-1].reason == "early stopping"
    assert events[-1].step < 200 * 8


def test_the_schedule_can_anneal_over_a_time_budget():
    assert learning_rate(100, 10, 1.0, 0, 1.0, budget_share=0.0) == 1.0
    assert abs(learning_rate(100, 10, 1.0, 0, 1.0, budget_share=1.0) - 0.05) < 1e-12
    assert learning_rate(100, 10, 1.0, 0, 1.0, budget_share=0.5) == 0.525


class SlowStepTask(LineTask):
    """Each step is slow on the device and quick in Python (a chain of matrix products the
    loss depends on): the case where Python could queue many steps ahead of MXNet's engine."""

    def __init__(self):
        super().__init__()
        self.steps_per_epoch = 10_000           # no epoch's end (a validation syncs) in sight

    def forward(self, index):
        loss, n, out = super().forward(index % 8)
        m = nd.ones((300, 300)) / 300
        for _ in range(20):
            m = nd.dot(m, m)
        return loss + 0 * m.sum(), n, out


def test_a_stop_lands_within_about_one_step(tmp_path):
    """When should_stop() says so, at most about one step of work is still queued on MXNet's
    engine: the save that follows starts at once (it once waited for every step Python had
    queued ahead: a minute with the default model on a busy CPU)."""
    import time
    seen = {"calls": 0}

    def should_stop():
        seen["calls"] += 1
        if seen["calls"] == 3:
            seen["third"] = time.perf_counter()
        if seen["calls"] < 11:
            return False
        if "queued" not in seen:
            asked = time.perf_counter()
            nd.waitall()                        # what is still queued when the stop is seen
            seen["queued"] = time.perf_counter() - asked
            seen["per_step"] = (asked - seen["third"]) / 8
        return True
    config = TrainConfig(lr=0.1, epochs=1, warmup_steps=0, log_interval=10_000)
    run = RunFolder(tmp_path / "slow")
    with run.writing():
        events = list(loop.train(run, SlowStepTask(), config, RunMeta("line", {}), mx.cpu(),
                                 False, should_stop))
    assert events[-1].reason == "stopped" and events[-1].step == 10
    assert seen["queued"] < 2 * seen["per_step"], seen
