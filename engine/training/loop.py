"""The one training loop: every model kind trains through ``train``, with its own ``Task``.

The loop owns what is the same for every kind: the optimizer (Adam), resume (parameters,
optimizer state, step, history, best, the task's carried state), the stop rules (epochs, time
budget, patience, ``should_stop``), the learning-rate schedule, the validation cadence, the best
checkpoint by a named metric, checkpoints, and the progress events with rate and ETA. A task
says how to read its batches, the loss of one batch, how to validate and what else to save.

Per step the loop does: seed dropout from (seed, step), let the task start an epoch when one
begins, record the task's loss, backward, clip the global gradient norm, step the optimizer.
The device is synced only once per log interval (losses and counts are summed on the device).

The same loop trains data-parallel: over several devices of one process (the task shares each
batch out, the loop sums, clips and applies the gradients alike on every device) and as one of
several workers on MXNet's distributed KVStore (``distributed.Cluster``: shards, summed
validation, one agreed stopping step, only rank 0 writes).
"""
import logging
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
from mxnet import autograd, gluon, nd

from ..config import TrainConfig
from ..device import parse_contexts
from ..errors import StudioError
from ..events import Finished, Progress, Saved, Started, Validated
from ..optim_state import restore_trainer_state, trainer_state
from ..run_meta import RunMeta
from ..runs import RunFolder
from ..schedule import learning_rate, stop_reason
from ..seeding import seed_step
from ..wording import setting
from .distributed import Cluster

log = logging.getLogger("rnn_studio")


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

    def finish(self, run: RunFolder, meta: RunMeta) -> RunMeta:
        """Last work once training stops (e.g. scoring the test split); returns the meta."""
        return meta


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


def train(run: RunFolder, task: Task, tc: TrainConfig, meta: RunMeta, ctx, resume: bool,
          should_stop: Callable[[], bool] = lambda: False,
          cluster: Optional[Cluster] = None, contexts: Optional[list] = None) -> Iterator[object]:
    """Train ``task`` in ``run``, yielding events; ``meta`` is the run's record (read from the
    run when resuming, else the new run's first one). ``cluster``: this process's place among
    several workers (distributed.py); one process by default. ``contexts``: the devices that
    share each batch (``ctx`` alone by default)."""
    cluster = cluster or Cluster(tc.kvstore)
    task.contexts = contexts = contexts or [ctx]
    steps_per_epoch = task.steps_per_epoch
    if resume:
        meta = run.load_params(task.model, "last", ctx, meta)   # the checkpoint actually loaded
    if len(contexts) > 1:                 # built (and loaded) on the first, copied to the rest
        task.model.collect_params().reset_ctx(contexts)
    options = {"learning_rate": tc.lr, "wd": tc.weight_decay}
    server_schedule = cluster.server_schedule(steps_per_epoch, tc)
    if server_schedule is not None:
        options["lr_scheduler"] = server_schedule
    trainer = gluon.Trainer(task.trainable, "adam", options,
                            **cluster.trainer_options(len(contexts)))
    cluster.start(trainer)
    state = _Run()
    if resume:
        arrays = run.load_states(meta)
        _restore_optimizer(trainer, task, arrays, meta.state["optimizer"], contexts, cluster)
        _restore_carried(task, arrays, meta.state, cluster)
        state = _Run(meta.step, list(meta.history), meta.best, int(meta.state.get("stale", 0)),
                     meta.seconds, meta.step)
    total_steps = math.ceil(tc.epochs * steps_per_epoch) if tc.epochs is not None else None
    if total_steps is not None and state.step >= total_steps:
        raise StudioError(f"{run.path} already finished its {tc.epochs:g} epoch(s): to train "
                          f"on, give it more ", setting("epochs"), " (or ", setting("minutes"), ")")
    params = [p for p in task.trainable.values() if p.grad_req != "null"]
    start_time = time.time()
    deadline = start_time + tc.minutes * 60 if tc.minutes is not None else None
    info = dict(task.info, worker=f"{cluster.rank + 1} of {cluster.num_workers}",
                kvstore=cluster.kvstore) if cluster.distributed else task.info
    yield Started(str(run.path), total_steps, state.step, count_parameters(task.model), info)

    def seconds() -> float:
        return state.prior_seconds + time.time() - start_time

    def checkpoint(result: Optional[Validation]) -> bool:
        nonlocal meta
        is_best = result is not None and better(task, result, state.best)
        if result is not None:
            if is_best:
                state.best = {"step": state.step, "epoch": state.step / steps_per_epoch,
                              "val_loss": result.loss, **result.metrics}
                state.stale = 0
            else:
                state.stale += 1
        state.saved_step = state.step
        extra_arrays, extra_info = _carried(task, cluster)       # every worker takes part
        if not cluster.writer:
            return is_best
        arrays, opt_info = _optimizer_state(trainer, task, cluster)
        arrays.update(extra_arrays)
        meta = meta.replace(history=state.history, best=state.best,
                            state={"step": state.step, "epoch": state.step / steps_per_epoch,
                                   "stale": state.stale, "seconds": seconds(),
                                   "optimizer": opt_info, **extra_info})
        meta = run.save_checkpoint(task.model, meta, arrays,
                                   best=is_best or "best.params" not in meta.files)
        return is_best

    def validate(epoch: int) -> Iterator[object]:
        result = _validation(task, cluster)
        entry = {"val_loss": result.loss, **{f"val_{k}": v for k, v in result.metrics.items()}}
        if state.history and state.history[-1]["step"] == state.step:
            state.history[-1].update(entry)
        else:
            state.history.append({"step": state.step, "epoch": state.step / steps_per_epoch,
                                  "train_loss": None, "seconds": seconds(), **entry})
        is_best = checkpoint(result)
        yield Validated(state.step, epoch, result.loss, is_best, dict(result.metrics))
        if cluster.writer:
            yield Saved(state.step, str(run.path), is_best)
            yield from task.after_validation(state.step, run, meta)

    sums: Dict[str, nd.NDArray] = {}
    items = steps = 0
    interval_start, first = time.time(), True
    in_flight = None                          # the last step's loss (see the wait below)
    while (reason := _agreed(cluster, stop_reason(state.step, total_steps, should_stop,
                                                  deadline))) is None:
        epoch, index = divmod(state.step, steps_per_epoch)
        if index == 0 or first:
            task.begin_epoch(epoch, from_start=index == 0)
            first = False
        lr = learning_rate(state.step, steps_per_epoch, tc.lr, tc.warmup_steps, tc.lr_decay,
                           _budget_share(tc, start_time))
        if server_schedule is None:
            trainer.set_learning_rate(lr)
        if task.random_steps:                    # each worker its own dropout masks
            seed_step(tc.seed + 7919 * cluster.rank, state.step)
        with autograd.record():
            loss, n, outputs = task.forward(index)
        if isinstance(loss, list):            # one per device: their mean on the first
            autograd.backward(loss)
            loss = nd.add_n(*[x.as_in_context(ctx) for x in loss]) / len(loss)
        else:
            loss.backward()
        _step(trainer, params, tc.clip, contexts, cluster)
        # MXNet queues work asynchronously: unchecked, Python runs many steps ahead of the device
        # (14 steps, a minute, with the default model on a busy 2-core CPU) and a stop waits for
        # all of them. Waiting for the previous step's loss keeps one step in flight (the next
        # is already queued, so the device never idles): a stop lands within about one step.
        if in_flight is not None:
            in_flight.wait_to_read()
        in_flight = loss
        for key, value in [("loss", loss), *task.counts(outputs).items()]:
            sums[key] = sums[key] + value if key in sums else value.copy()
        items += n
        steps += 1
        state.step += 1

        end_of_epoch = state.step % steps_per_epoch == 0
        if state.step % tc.log_interval == 0 or end_of_epoch or state.step == total_steps:
            totals = {k: float(v.asscalar()) for k, v in sums.items()}   # the one device sync
            mean_loss = totals.pop("loss") / steps
            if not math.isfinite(mean_loss):
                raise StudioError(f"training diverged at step {state.step} (loss is "
                                  f"{mean_loss}); try a lower ", setting("lr"))
            now = time.time()
            rate = items / max(now - interval_start, 1e-9)
            per_step = (now - interval_start) / steps
            eta = (total_steps - state.step) * per_step if total_steps is not None else None
            if deadline is not None:
                eta = min(eta, deadline - now) if eta is not None else deadline - now
            metrics = {k: v / items for k, v in totals.items()}
            state.history.append({"step": state.step, "epoch": state.step / steps_per_epoch,
                                  "train_loss": mean_loss, "val_loss": None, "seconds": seconds(),
                                  **{f"train_{k}": v for k, v in metrics.items()}})
            yield Progress(state.step, epoch, mean_loss, lr, rate, now - start_time,
                           None if eta is None else max(0.0, eta), total_steps, metrics)
            sums, items, steps, interval_start = {}, 0, 0, time.time()

        every = task.validate_every
        if end_of_epoch or state.step == total_steps or (every and state.step % every == 0):
            yield from validate(epoch)
            if tc.patience and state.stale >= tc.patience:
                reason = "early stopping"
                break
            interval_start = time.time()

    if reason == "time budget" and state.saved_step != state.step:
        # the budget ran out between validations: score the final parameters too, so that
        # "best" can be the last thing learned
        yield from validate(state.step // steps_per_epoch)
    elif state.saved_step != state.step:
        checkpoint(None)
        if cluster.writer:
            yield Saved(state.step, str(run.path), False)
    if cluster.writer:
        meta = task.finish(run, meta)
    yield Finished(state.step, reason, str(run.path),
                   state.best["val_loss"] if state.best else None, time.time() - start_time)


def _budget_share(tc: TrainConfig, start_time: float) -> Optional[float]:
    """How much of this session's time budget is spent (for a schedule that anneals over it)."""
    if tc.minutes is None or tc.anneal == "none":
        return None
    return min(1.0, (time.time() - start_time) / (tc.minutes * 60))


def count_parameters(net: gluon.Block) -> int:
    return int(sum(np.prod(p.shape) for p in net.collect_params().values()))


def _step(trainer: gluon.Trainer, params, clip: float, contexts, cluster: Cluster):
    """Clip the gradient's global norm and update.

    One device of one process: clip, step. Several devices, or dist_sync workers: the
    gradients are first summed over every device of every worker (each device then holds the
    same sum), the sum clipped at ``clip`` per replica, and every device applies the same
    update to the average. dist_async: each device's gradient clipped here, the update applied
    on the servers."""
    grads = [[p.grad(c) for p in params] for c in contexts]
    synchronous = cluster.synchronous and cluster.distributed
    if synchronous or len(contexts) > 1 and not cluster.distributed:
        replicas = len(contexts) * (cluster.num_workers if synchronous else 1)
        trainer.allreduce_grads()
        for device_grads in grads:
            gluon.utils.clip_global_norm(device_grads, clip * replicas, check_isfinite=False)
        trainer.update(replicas)
        return
    for device_grads in grads:
        gluon.utils.clip_global_norm(device_grads, clip, check_isfinite=False)
    trainer.step(len(contexts))


_REASONS = ("completed", "stopped", "time budget")


def _agreed(cluster: Cluster, reason: Optional[str]) -> Optional[str]:
    """dist_sync workers stop at the same step: when any of them has a reason (Ctrl-C, its
    clock), all stop with it. One tiny sum per step."""
    if not (cluster.distributed and cluster.synchronous):
        return reason
    votes = cluster.sum("stop", np.array([float(reason == r) for r in _REASONS]))
    return next((r for r, v in zip(_REASONS, votes) if v > 0), None)


def _validation(task: Task, cluster: Cluster) -> Validation:
    """The task's validation; of several workers each scores its share and the sums are
    added up, so every worker gets the same numbers (and keeps the same best, and stops
    early at the same step)."""
    if not cluster.distributed:
        return task.validate()
    part = cluster.share(task.validation_items(), every_worker=True)
    sums = task.validation_sums(part)
    return task.validation_result({k: cluster.sum(f"val:{k}", np.asarray(v, dtype=np.float64))
                                   for k, v in sorted(sums.items())})


def _optimizer_state(trainer: gluon.Trainer, task: Task, cluster: Cluster):
    if cluster.distributed and not cluster.synchronous:
        return {}, {"on_servers": True}      # async: Adam's state lives on the servers
    return trainer_state(trainer, task.model)


def _restore_optimizer(trainer, task: Task, arrays, info: dict, contexts, cluster: Cluster):
    if info.get("on_servers") or (cluster.distributed and not cluster.synchronous):
        log.warning("the optimizer's state of a dist_async run lives on its servers and is not "
                    "saved: Adam's moment estimates start again (the parameters are resumed)")
        return
    restore_trainer_state(trainer, task.model, arrays, info, contexts)


def _carried(task: Task, cluster: Cluster) -> Tuple[Dict[str, nd.NDArray], dict]:
    """The task's carried state; of dist_sync workers, every worker's, stacked by rank."""
    arrays, info = task.carried_state()
    if not (cluster.distributed and cluster.synchronous) or not arrays:
        return arrays, info
    stacked = {k: nd.array(cluster.gather(f"carried:{k}", v.asnumpy()), dtype=v.dtype)
               for k, v in sorted(arrays.items())}
    return stacked, dict(info, carried_by_workers=cluster.num_workers)


def _restore_carried(task: Task, arrays, info: dict, cluster: Cluster):
    by = info.get("carried_by_workers")
    ours = cluster.num_workers if cluster.distributed and cluster.synchronous else None
    if by == ours:
        if by:
            arrays = {k: v[cluster.rank] for k, v in arrays.items()}
        task.restore(arrays, info)
        return
    log.warning("this run's carried state (a generator's hidden state) was saved by %s; it "
                "starts fresh with %s", f"{by} workers" if by else "one process",
                f"{ours} workers" if ours else "one process")
