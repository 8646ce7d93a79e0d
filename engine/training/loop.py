"""The one training loop: every model kind trains through ``train``, with its own ``Task``.

The loop owns what is the same for every kind: the optimizer (Adam), resume (parameters,
optimizer state, step, history, best, the task's carried state), the stop rules (epochs, time
budget, patience, ``should_stop``), the learning-rate schedule, the validation cadence, the best
checkpoint by a named metric, checkpoints, and the progress events with rate and ETA. A task
says how to read its batches, the loss of one batch, how to validate and what else to save.

``train`` reads as the loop itself; ``_Session.step`` is one step: let the task start an epoch
when one begins, set the learning rate, seed dropout from (seed, step), record the task's loss,
backward, clip the global gradient norm and update. The device is synced only once per log
interval (losses and counts are summed on the device, ``_Interval``). The data changing on disk
under a run (``Task.data_changed``) stops it like Ctrl-C does: saved, then said.

The same loop trains data-parallel: over several devices of one process (the task shares each
batch out, the loop sums, clips and applies the gradients alike on every device) and as one of
several workers on MXNet's distributed KVStore (``distributed.Cluster``: shards, summed
validation, one agreed stopping step, only rank 0 writes).
"""
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
from mxnet import autograd, gluon, nd

from engine.config import TrainConfig
from engine.generator.data import DataChanged
from engine.training.device import parse_contexts
from engine.errors import StudioError
from engine.events import Finished, Progress, Saved, Started, Validated
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder
from engine.training.schedule import learning_rate, stop_reason
from engine.training.seeding import seed_step
from engine.wording import setting
from engine.training.distributed import Cluster, clip_and_update


@dataclass
class Validation:
    loss: float                              # mean validation loss (nats)
    metrics: Dict[str, float] = field(default_factory=dict)   # e.g. accuracy, bits_per_char


class Task:
    """What a model kind gives the loop. Subclasses set the attributes and the methods."""
    best_metric: str = "loss"        # which validation number picks the best checkpoint
    higher_is_better: bool = False   # loss: lower; accuracy: higher (ties: the lower loss wins)
    validate_every: Optional[int] = None   # steps between validations, besides each epoch's end
    random_steps: bool = True        # the model draws random numbers while training (dropout):
                                     # each step then reseeds from (seed, step), which costs a
                                     # device sync, so a model without dropout skips it
    model: gluon.Block               # what is saved and loaded
    contexts: List = []              # the devices sharing each batch (set by the loop; the
                                     # model is built on the first and spread over them)
    trainable: gluon.ParameterDict   # what the optimizer updates
    steps_per_epoch: int
    info: dict                       # facts for the Started event (sizes, vocabulary, ...)

    def begin_epoch(self, epoch: int, from_start: bool):
        """Called before the first step of each epoch, and before the first step of a resumed
        run (``from_start`` False when it resumes mid-epoch)."""

    def forward(self, index: int) -> Tuple[nd.NDArray, int, object]:
        """Under autograd.record: (mean loss of batch ``index``, items in it, outputs for
        ``counts``). With several ``contexts``: a list of mean losses, one per device's share
        of the batch, and outputs per device."""
        raise NotImplementedError

    def counts(self, outputs) -> Dict[str, nd.NDArray]:
        """Device-side counts summed over a log interval (e.g. correct predictions)."""
        return {}

    def validate(self) -> Validation:
        """Score the whole validation set. A task that can train as one of several workers
        instead gives ``validation_items``, ``validation_sums`` and ``validation_result``, so
        each worker scores its share and the workers add up their sums."""
        return self.validation_result(self.validation_sums((0, self.validation_items())))

    def validation_items(self) -> int:
        """How many validation items (texts, batches) there are to share among workers."""
        raise NotImplementedError

    def validation_sums(self, part: Tuple[int, int]) -> Dict[str, np.ndarray]:
        """Additive sums (losses, counts, confusion matrices) over items [start, stop)."""
        raise NotImplementedError

    def validation_result(self, sums: Dict[str, np.ndarray]) -> Validation:
        """The validation numbers from the sums over all items."""
        raise NotImplementedError

    def carried_state(self) -> Tuple[Dict[str, nd.NDArray], dict]:
        """Extra arrays and JSON to checkpoint (e.g. the generator's hidden state)."""
        return {}, {}

    def restore(self, arrays: Dict[str, nd.NDArray], info: dict):
        """Take back what ``carried_state`` saved."""

    def after_validation(self, step: int, run: RunFolder, meta: RunMeta) -> Iterator[object]:
        """Extra events after a validation's checkpoint (e.g. a sample preview)."""
        return iter(())

    def between_validations(self, step: int) -> Iterator[object]:
        """Extra events at a progress report between validations (e.g. an early preview, so
        a short run shows what it learns before its first validation). Must not change what
        training computes: no parameters, no training randomness."""
        return iter(())

    def finish(self, run: RunFolder, meta: RunMeta) -> RunMeta:
        """Last work once training stops (e.g. scoring the test split); returns the meta."""
        return meta

    def data_changed(self) -> Optional[str]:
        """Why the data on disk that the task reads while training is no longer what it checked
        (None: it is). Asked before each step: the loop then saves and stops with that message."""
        return None


def better(task: Task, result: Validation, best: Optional[dict]) -> bool:
    if best is None:
        return True
    sign = 1.0 if task.higher_is_better else -1.0
    now = (sign * _metric(result.metrics, result.loss, task.best_metric), -result.loss)
    then = (sign * (best["val_loss"] if task.best_metric == "loss" else best[task.best_metric]),
            -best["val_loss"])
    return now > then


def _metric(metrics: dict, loss: float, name: str) -> float:
    return loss if name == "loss" else metrics[name]


@dataclass
class _Run:
    """The loop's own state: what a checkpoint saves besides the parameters."""
    step: int = 0
    history: List[dict] = field(default_factory=list)
    best: Optional[dict] = None
    stale: int = 0                   # validations since the best one (patience)
    prior_seconds: float = 0.0       # training time of earlier sessions (resume)
    saved_step: Optional[int] = None  # the step of the last checkpoint (every worker knows it)


def train_task(task_cls, run_dir, source, model_config, tc: TrainConfig, resume: bool = False,
               should_stop: Callable[[], bool] = lambda: False) -> Iterator[object]:
    """Train (or resume) a model kind in ``run_dir``, yielding events; saves as it goes:
    ``task_cls.prepare(run, source, model_config, tc, resume, ctx, cluster)`` reads ``source``
    (the text, the labeled data) and builds the task. What each kind's ``train_<kind>`` is."""
    return train_run(run_dir, lambda run, ctx, cluster: task_cls.prepare(
        run, source, model_config, tc, resume, ctx, cluster), tc, resume, should_stop)


def train_run(run_dir, prepare: Callable[[RunFolder, object, Cluster],
                                         Tuple[Task, TrainConfig, RunMeta]],
              tc: TrainConfig, resume: bool, should_stop: Callable[[], bool]) -> Iterator[object]:
    """Lock the run in ``run_dir`` (a second trainer of it is refused), let
    ``prepare(run, ctx, cluster)`` read the data (this worker's share of it) and build the task,
    then train it: what every model kind's train_<kind> does. Of several workers only rank 0
    locks and writes the run."""
    run = RunFolder(run_dir)
    cluster = Cluster(tc.kvstore)
    with run.writing() if cluster.writer else nullcontext():
        contexts = parse_contexts(tc.ctx)
        task, tc, meta = prepare(run, contexts[0], cluster)
        yield from train(run, task, tc, meta, contexts[0], resume, should_stop, cluster,
                         contexts)


def resumed_settings(run: RunFolder, kind: str, config_cls, tc: TrainConfig):
    """What a task's ``prepare`` takes back from the run it resumes: (the run's meta, its model
    config, its training settings with this call's budgets and context)."""
    meta = run.read_meta(kind=kind)
    return meta, config_cls.from_dict(meta.model_settings), tc.resumed_from(meta.train_settings)


def opening(run: RunFolder, kind: str, config_cls, model_config, tc: TrainConfig, data_ref,
            resume: bool, cluster: Cluster, recorded_ref: Callable, what: str = "data"):
    """How every task's ``prepare`` begins: (the run's meta or None, the model config, the
    training settings, the data reference). A resumed run takes its saved settings and its data
    reference from its record (``recorded_ref(meta.corpus, the reference given or None)``: a
    path given points at the same data elsewhere); a new one needs its data given and, on the
    worker that writes, a run folder that is new."""
    if resume:
        meta, model_config, tc = resumed_settings(run, kind, config_cls, tc)
        return meta, model_config, tc, recorded_ref(meta.corpus, data_ref)
    if data_ref is None:
        raise StudioError(f"no {what} given")
    if cluster.writer:
        run.require_new()
    return None, model_config, tc, data_ref


def train(run: RunFolder, task: Task, tc: TrainConfig, meta: RunMeta, ctx, resume: bool,
          should_stop: Callable[[], bool] = lambda: False,
          cluster: Optional[Cluster] = None, contexts: Optional[list] = None) -> Iterator[object]:
    """Train ``task`` in ``run``, yielding events; ``meta`` is the run's record (read from the
    run when resuming, else the new run's first one). ``cluster``: this process's place among
    several workers (distributed.py); one process by default. ``contexts``: the devices that
    share each batch (``ctx`` alone by default)."""
    session = _Session(run, task, tc, meta, ctx, resume, cluster or Cluster(tc.kvstore),
                       contexts or [ctx])
    yield session.started()
    reason = None
    while reason is None:
        try:
            reason = yield from session.advance(should_stop)
        except DataChanged as err:            # a read found the data cut short under the run
            if session.cluster.distributed:
                raise
            reason, session.problem = "data changed", str(err)
    yield from session.finish(reason)


class _Session:
    """One session of training a task: the optimizer, the loop's state, the clock. Of several
    devices or workers, ``cluster`` and ``clip_and_update`` do what differs (distributed.py)."""

    def __init__(self, run: RunFolder, task: Task, tc: TrainConfig, meta: RunMeta, ctx,
                 resume: bool, cluster: Cluster, contexts: list):
        self.run, self.task, self.tc, self.ctx, self.cluster = run, task, tc, ctx, cluster
        task.contexts = self.contexts = contexts
        self.steps_per_epoch = task.steps_per_epoch
        if resume:
            meta = run.load_params(task.model, "last", ctx, meta)   # the checkpoint loaded
        if len(contexts) > 1:                 # built (and loaded) on the first, copied to the rest
            task.model.collect_params().reset_ctx(contexts)
        self.trainer = cluster.trainer(task.trainable, tc, self.steps_per_epoch, len(contexts))
        self.meta, self.state = meta, _Run()
        if resume:
            arrays = run.load_states(meta)
            cluster.restore_optimizer(self.trainer, task.model, arrays, meta.state["optimizer"],
                                      contexts)
            cluster.restore_carried(task, arrays, meta.state)
            self.state = _Run(meta.step, list(meta.history), meta.best,
                              int(meta.state.get("stale", 0)), meta.seconds, meta.step)
        self.total_steps = math.ceil(tc.epochs * self.steps_per_epoch) \
            if tc.epochs is not None else None
        if self.total_steps is not None and self.state.step >= self.total_steps:
            raise StudioError(f"{run.path} already finished its {tc.epochs:g} epoch(s): to train "
                              f"on, give it more ", setting("epochs"), " (or ", setting("minutes"),
                              ")")
        self.params = [p for p in task.trainable.values() if p.grad_req != "null"]
        self.start_time = time.time()
        self.deadline = self.start_time + tc.minutes * 60 if tc.minutes is not None else None
        self.interval = _Interval()
        self.lr, self.first, self.problem = tc.lr, True, None
        self.in_flight: Optional[nd.NDArray] = None     # the last step's loss (see step)

    def started(self) -> Started:
        info = self.task.info
        if self.cluster.distributed:
            info = dict(info, worker=f"{self.cluster.rank + 1} of {self.cluster.num_workers}",
                        kvstore=self.cluster.kvstore)
        return Started(str(self.run.path), self.total_steps, self.state.step,
                       count_parameters(self.task.model), info)

    def seconds(self) -> float:
        return self.state.prior_seconds + time.time() - self.start_time

    @property
    def end_of_epoch(self) -> bool:
        return self.state.step % self.steps_per_epoch == 0

    def stop_reason(self, should_stop: Callable[[], bool]) -> Optional[str]:
        self.problem = self.task.data_changed()
        reason = "data changed" if self.problem else stop_reason(
            self.state.step, self.total_steps, should_stop, self.deadline)
        return self.cluster.agree(reason)

    def advance(self, should_stop: Callable[[], bool]):
        """One step and what follows it (a progress report, a validation with its checkpoint),
        yielding their events; returns why training stops (None: it goes on)."""
        reason = self.stop_reason(should_stop)
        if reason is not None:
            return reason
        self.step()
        progress = self.progress()
        if progress is not None:
            yield progress
        if self.validation_due():
            yield from self.validate()
            if self.tc.patience and self.state.stale >= self.tc.patience:
                return "early stopping"
        elif progress is not None and self.cluster.writer:
            yield from self.task.between_validations(self.state.step)
        return None

    def step(self):
        """One training step: the batch's loss, its gradient, the update."""
        task, tc, step = self.task, self.tc, self.state.step
        epoch, index = divmod(step, self.steps_per_epoch)
        if index == 0 or self.first:
            task.begin_epoch(epoch, from_start=index == 0)
            self.first = False
        self.lr = learning_rate(step, self.steps_per_epoch, tc.lr, tc.warmup_steps, tc.lr_decay,
                                _budget_share(tc, self.start_time))
        if not self.cluster.lr_on_servers:
            self.trainer.set_learning_rate(self.lr)
        if task.random_steps:                    # each worker its own dropout masks
            seed_step(tc.seed + 7919 * self.cluster.rank, step)
        with autograd.record():
            loss, n, outputs = task.forward(index)
        if isinstance(loss, list):               # one per device: their mean on the first
            autograd.backward(loss)
            loss = nd.add_n(*[x.as_in_context(self.ctx) for x in loss]) / len(loss)
        else:
            loss.backward()
        clip_and_update(self.trainer, self.params, tc.clip, self.contexts, self.cluster)
        # MXNet queues work asynchronously: unchecked, Python runs many steps ahead of the device
        # and a stop waits for all of them. Waiting for the previous step's loss keeps one step
        # in flight (the next is already queued, so the device never idles): a stop lands
        # within about one step.
        if self.in_flight is not None:
            self.in_flight.wait_to_read()
        self.in_flight = loss
        self.interval.add({"loss": loss, **task.counts(outputs)}, n)
        self.state.step += 1

    def progress(self) -> Optional[Progress]:
        """The interval's mean loss, rate and ETA, once per log interval (the one device sync)."""
        st, tc, interval = self.state, self.tc, self.interval
        if not (st.step % tc.log_interval == 0 or self.end_of_epoch
                or st.step == self.total_steps):
            return None
        totals = {k: float(v.asscalar()) for k, v in interval.sums.items()}
        mean_loss = totals.pop("loss") / interval.steps
        if not math.isfinite(mean_loss):
            raise StudioError(f"training diverged at step {st.step} (loss is {mean_loss}); "
                              f"try a lower ", setting("lr"))
        now = time.time()
        per_step = (now - interval.start) / interval.steps
        eta = (self.total_steps - st.step) * per_step if self.total_steps is not None else None
        if self.deadline is not None:
            eta = min(eta, self.deadline - now) if eta is not None else self.deadline - now
        metrics = {k: v / interval.items for k, v in totals.items()}
        st.history.append({"step": st.step, "epoch": st.step / self.steps_per_epoch,
                           "train_loss": mean_loss, "val_loss": None, "seconds": self.seconds(),
                           **{f"train_{k}": v for k, v in metrics.items()}})
        self.interval = _Interval()
        return Progress(st.step, (st.step - 1) // self.steps_per_epoch, mean_loss, self.lr,
                        interval.items / max(now - interval.start, 1e-9), now - self.start_time,
                        None if eta is None else max(0.0, eta), self.total_steps, metrics)

    def validation_due(self) -> bool:
        every, step = self.task.validate_every, self.state.step
        return self.end_of_epoch or step == self.total_steps or bool(every and step % every == 0)

    def validate(self) -> Iterator[object]:
        """Score the validation set, record it, checkpoint; the task may add events."""
        st, epoch = self.state, (self.state.step - 1) // self.steps_per_epoch
        result = self.cluster.validation(self.task)
        entry = {"val_loss": result.loss, **{f"val_{k}": v for k, v in result.metrics.items()}}
        if st.history and st.history[-1]["step"] == st.step:
            st.history[-1].update(entry)
        else:
            st.history.append({"step": st.step, "epoch": st.step / self.steps_per_epoch,
                               "train_loss": None, "seconds": self.seconds(), **entry})
        is_best = self.checkpoint(result)
        yield Validated(st.step, epoch, result.loss, is_best, dict(result.metrics))
        if self.cluster.writer:
            yield Saved(st.step, str(self.run.path), is_best)
            yield from self.task.after_validation(st.step, self.run, self.meta)
        self.interval.start = time.time()        # validation time is not training time

    def checkpoint(self, result: Optional[Validation]) -> bool:
        """Save the run (rank 0 only); with a validation ``result``, track the best and the
        patience. Returns whether this is the best so far."""
        st, task = self.state, self.task
        is_best = result is not None and better(task, result, st.best)
        if result is not None:
            if is_best:
                st.best = {"step": st.step, "epoch": st.step / self.steps_per_epoch,
                           "val_loss": result.loss, **result.metrics}
                st.stale = 0
            else:
                st.stale += 1
        st.saved_step = st.step
        extra_arrays, extra_info = self.cluster.carried(task)     # every worker takes part
        if not self.cluster.writer:
            return is_best
        arrays, opt_info = self.cluster.optimizer_state(self.trainer, task.model)
        arrays.update(extra_arrays)
        self.meta = self.meta.replace(
            history=st.history, best=st.best,
            state={"step": st.step, "epoch": st.step / self.steps_per_epoch, "stale": st.stale,
                   "seconds": self.seconds(), "optimizer": opt_info, **extra_info})
        self.meta = self.run.save_checkpoint(task.model, self.meta, arrays,
                                             best=is_best or "best.params" not in self.meta.files)
        return is_best

    def finish(self, reason: str) -> Iterator[object]:
        """What training ends with: the last parameters saved (and scored, when a time budget
        ran out between validations, so that "best" can be the last thing learned)."""
        st = self.state
        if reason == "time budget" and st.saved_step != st.step:
            yield from self.validate()
        elif st.saved_step != st.step:
            self.checkpoint(None)
            if self.cluster.writer:
                yield Saved(st.step, str(self.run.path), False)
        if reason == "data changed":
            raise StudioError(f"{self.problem or 'the training data changed on another worker'}"
                              f"; the checkpoint of step {st.step} is saved: train again with ",
                              setting("resume"), " (the text is checked and encoded again)")
        if self.cluster.writer:
            self.meta = self.task.finish(self.run, self.meta)
        yield Finished(st.step, reason, str(self.run.path),
                       st.best["val_loss"] if st.best else None, time.time() - self.start_time)


@dataclass
class _Interval:
    """What is summed on the device between two progress reports (no sync per step)."""
    sums: Dict[str, nd.NDArray] = field(default_factory=dict)
    items: int = 0
    steps: int = 0
    start: float = field(default_factory=time.time)

    def add(self, values: Dict[str, nd.NDArray], items: int):
        for key, value in values.items():
            self.sums[key] = self.sums[key] + value if key in self.sums else value.copy()
        self.items += items
        self.steps += 1


def _budget_share(tc: TrainConfig, start_time: float) -> Optional[float]:
    """How much of this session's time budget is spent (for a schedule that anneals over it)."""
    if tc.minutes is None or tc.anneal == "none":
        return None
    return min(1.0, (time.time() - start_time) / (tc.minutes * 60))


def count_parameters(net: gluon.Block) -> int:
    return int(sum(np.prod(p.shape) for p in net.collect_params().values()))
