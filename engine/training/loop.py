"""The one training loop: every model kind trains through ``train``, with its own ``Task``.

The loop owns what is the same for every kind: the optimizer (Adam), resume (parameters,
optimizer state, step, history, best, the task's carried state), the stop rules (epochs, time
budget, patience, ``should_stop``), the learning-rate schedule, the validation cadence, the best
checkpoint by a named metric, checkpoints, and the progress events with rate and ETA. A task
says how to read its batches, the loss of one batch, how to validate and what else to save.

Per step the loop does: seed dropout from (seed, step), let the task start an epoch when one
begins, record the task's loss, backward, clip the global gradient norm, step the optimizer.
The device is synced only once per log interval (losses and counts are summed on the device).
"""
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from mxnet import autograd, gluon, nd

from ..config import TrainConfig
from ..device import parse_ctx
from ..errors import StudioError
from ..events import Finished, Progress, Saved, Started, Validated
from ..optim_state import restore_trainer_state, trainer_state
from ..run_meta import RunMeta
from ..runs import RunFolder
from ..schedule import learning_rate, stop_reason
from ..seeding import seed_step


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
    trainable: gluon.ParameterDict   # what the optimizer updates
    steps_per_epoch: int
    info: dict                       # facts for the Started event (sizes, vocabulary, ...)

    def begin_epoch(self, epoch: int, from_start: bool):
        """Called before the first step of each epoch, and before the first step of a resumed
        run (``from_start`` False when it resumes mid-epoch)."""

    def forward(self, index: int) -> Tuple[nd.NDArray, int, object]:
        """Under autograd.record: (mean loss of batch ``index``, items in it, outputs for
        ``counts``)."""
        raise NotImplementedError

    def counts(self, outputs) -> Dict[str, nd.NDArray]:
        """Device-side counts summed over a log interval (e.g. correct predictions)."""
        return {}

    def validate(self) -> Validation:
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


def train_run(run_dir, prepare: Callable[[RunFolder, object], Tuple[Task, TrainConfig, RunMeta]],
              ctx_name: str, resume: bool, should_stop: Callable[[], bool]) -> Iterator[object]:
    """Lock the run in ``run_dir`` (a second trainer of it is refused), let ``prepare(run, ctx)``
    read the data and build the task, then train it: what every model kind's train_<kind>
    does."""
    run = RunFolder(run_dir)
    with run.writing():
        ctx = parse_ctx(ctx_name)
        task, tc, meta = prepare(run, ctx)
        yield from train(run, task, tc, meta, ctx, resume, should_stop)


def train(run: RunFolder, task: Task, tc: TrainConfig, meta: RunMeta, ctx, resume: bool,
          should_stop: Callable[[], bool] = lambda: False) -> Iterator[object]:
    """Train ``task`` in ``run``, yielding events; ``meta`` is the run's record (read from the
    run when resuming, else the new run's first one)."""
    trainer = gluon.Trainer(task.trainable, "adam", {"learning_rate": tc.lr,
                                                     "wd": tc.weight_decay})
    state = _Run()
    if resume:
        meta = run.load_params(task.model, "last", ctx, meta)   # the checkpoint actually loaded
        arrays = run.load_states(meta)
        restore_trainer_state(trainer, task.model, arrays, meta.state["optimizer"], ctx)
        task.restore(arrays, meta.state)
        state = _Run(meta.step, list(meta.history), meta.best, int(meta.state.get("stale", 0)),
                     meta.seconds)
    steps_per_epoch = task.steps_per_epoch
    total_steps = math.ceil(tc.epochs * steps_per_epoch) if tc.epochs is not None else None
    if total_steps is not None and state.step >= total_steps:
        raise StudioError(f"{run.path} already finished its {tc.epochs:g} epoch(s): "
                          f"pass a larger --epochs (or --minutes) to train on")
    params = [p for p in task.trainable.values() if p.grad_req != "null"]
    start_time = time.time()
    deadline = start_time + tc.minutes * 60 if tc.minutes is not None else None
    yield Started(str(run.path), total_steps, state.step, count_parameters(task.model), task.info)

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
        arrays, opt_info = trainer_state(trainer, task.model)
        extra_arrays, extra_info = task.carried_state()
        arrays.update(extra_arrays)
        meta = meta.replace(history=state.history, best=state.best,
                            state={"step": state.step, "epoch": state.step / steps_per_epoch,
                                   "stale": state.stale, "seconds": seconds(),
                                   "optimizer": opt_info, **extra_info})
        meta = run.save_checkpoint(task.model, meta, arrays,
                                   best=is_best or "best.params" not in meta.files)
        return is_best

    def validate(epoch: int) -> Iterator[object]:
        result = task.validate()
        entry = {"val_loss": result.loss, **{f"val_{k}": v for k, v in result.metrics.items()}}
        if state.history and state.history[-1]["step"] == state.step:
            state.history[-1].update(entry)
        else:
            state.history.append({"step": state.step, "epoch": state.step / steps_per_epoch,
                                  "train_loss": None, "seconds": seconds(), **entry})
        is_best = checkpoint(result)
        yield Validated(state.step, epoch, result.loss, is_best, dict(result.metrics))
        yield Saved(state.step, str(run.path), is_best)
        yield from task.after_validation(state.step, run, meta)

    sums: Dict[str, nd.NDArray] = {}
    items = steps = 0
    interval_start, first = time.time(), True
    while (reason := stop_reason(state.step, total_steps, should_stop, deadline)) is None:
        epoch, index = divmod(state.step, steps_per_epoch)
        if index == 0 or first:
            task.begin_epoch(epoch, from_start=index == 0)
            first = False
        lr = learning_rate(state.step, steps_per_epoch, tc.lr, tc.warmup_steps, tc.lr_decay,
                           _budget_share(tc, start_time))
        trainer.set_learning_rate(lr)
        if task.random_steps:
            seed_step(tc.seed, state.step)
        with autograd.record():
            loss, n, outputs = task.forward(index)
        loss.backward()
        gluon.utils.clip_global_norm([p.grad(ctx) for p in params], tc.clip,
                                     check_isfinite=False)
        trainer.step(1)
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
                                  f"{mean_loss}); try a lower --lr")
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

    if reason == "time budget" and meta.step != state.step:
        # the budget ran out between validations: score the final parameters too, so that
        # "best" can be the last thing learned
        yield from validate(state.step // steps_per_epoch)
    elif not meta.has_checkpoint or meta.step != state.step:
        checkpoint(None)
        yield Saved(state.step, str(run.path), False)
    meta = task.finish(run, meta)
    yield Finished(state.step, reason, str(run.path),
                   state.best["val_loss"] if state.best else None, time.time() - start_time)


def _budget_share(tc: TrainConfig, start_time: float) -> Optional[float]:
    """How much of this session's time budget is spent (for a schedule that anneals over it)."""
    if tc.minutes is None or tc.anneal == "none":
        return None
    return min(1.0, (time.time() - start_time) / (tc.minutes * 60))


def count_parameters(net: gluon.Block) -> int:
    return int(sum(p.data().size for p in net.collect_params().values()))
