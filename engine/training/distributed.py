"""Training as one of several workers, on MXNet's parameter-server KVStore (ps-lite).

``rnn-studio launch`` starts a scheduler, servers and workers with the ``DMLC_*`` variables
set; each worker runs the ordinary train command with ``--kvstore dist_sync`` (or
``dist_async``), and the one training loop asks its ``Cluster`` who it is:

- every worker trains on its own shard of the data (``share``), the same number of steps;
- the parameters start identical: the Trainer's first KVStore ``init`` is rank 0's values;
- ``dist_sync``: gradients are summed on the servers and every worker runs the same optimizer
  step on the same sums (``update_on_kvstore=False``), so the workers stay identical, the
  learning-rate schedule stays on the workers (a known MXNet pitfall: ``set_learning_rate``
  never reaches an optimizer that runs on the servers) and the optimizer state can be saved;
- ``dist_async``: MXNet updates on the servers only, so the optimizer goes there, with the
  schedule as an ``LRScheduler`` the servers evaluate themselves (``ServerSchedule``), never
  without an updater (the servers would just keep the last pushed gradient);
- validation sums (losses, counts, confusion matrices) are added up over the workers
  (``sum``), so every worker reports, keeps its best and stops early on the same numbers;
- only rank 0 writes the run folder.
"""
import logging
import os
from typing import Dict, List, Optional, Tuple

import mxnet as mx
import numpy as np
from mxnet import gluon, nd

from engine.config import KVSTORES
from engine.errors import StudioError
from engine.training.optim_state import restore_trainer_state, trainer_state
from engine.training.rank_channel import announce_rank
from engine.training.server_schedule import ServerSchedule

STOP_REASONS = ("completed", "stopped", "time budget", "data changed")
_OWN_KEYS = 1 << 20     # keys of the loop's own sums, far above the Trainer's parameter indices
log = logging.getLogger("rnn_studio")


class Cluster:
    """This process's place among the workers of one training job (one worker: ``local``)."""

    def __init__(self, kvstore: str = "local"):
        if kvstore not in KVSTORES:
            raise StudioError(f"unknown kvstore {kvstore!r}: use one of {', '.join(KVSTORES)}")
        self.kvstore = kvstore
        self.kv: Optional[mx.kv.KVStore] = None
        self.rank, self.num_workers = 0, 1
        self._keys: Dict[str, int] = {}
        if kvstore.startswith("dist"):
            if os.environ.get("DMLC_ROLE") != "worker":
                raise StudioError(f"--kvstore {kvstore} trains as one worker of several: start "
                                  f"it with 'rnn-studio launch --workers N -- <train command>'")
            self.kv = mx.kv.create(kvstore)
            self.rank, self.num_workers = self.kv.rank, self.kv.num_workers
            announce_rank(self.rank)            # to ``launch``, which names the worker by it

    @property
    def distributed(self) -> bool:
        return self.kv is not None

    @property
    def synchronous(self) -> bool:
        """Workers step together and can add up their numbers (dist_sync)."""
        return self.kvstore == "dist_sync"

    @property
    def writer(self) -> bool:
        """Only rank 0 writes the run folder."""
        return self.rank == 0

    @property
    def lr_on_servers(self) -> bool:
        """dist_async: the servers run the optimizer, with their own schedule."""
        return self.distributed and not self.synchronous

    def trainer(self, trainable: gluon.ParameterDict, tc, steps_per_epoch: int,
                devices: int) -> gluon.Trainer:
        """Adam for this worker's devices, started with rank 0's parameters."""
        options = {"learning_rate": tc.lr, "wd": tc.weight_decay}
        schedule = self.server_schedule(steps_per_epoch, tc)
        if schedule is not None:
            options["lr_scheduler"] = schedule
        trainer = gluon.Trainer(trainable, "adam", options, **self.trainer_options(devices))
        self.start(trainer)
        return trainer

    def trainer_options(self, devices: int = 1) -> dict:
        """The Trainer's kvstore: on several devices of one process the loop sums the
        gradients itself before it clips them (``update_on_kvstore=False``)."""
        if not self.distributed:
            return {"kvstore": self.kvstore, **({"update_on_kvstore": False} if devices > 1
                                                else {})}
        return {"kvstore": self.kv, "update_on_kvstore": not self.synchronous}

    def start(self, trainer) -> None:
        """Put rank 0's parameters into the KVStore and wait until every worker has pulled
        them, before any gradient is pushed.

        MXNet 1.9.1 workaround: with ``update_on_kvstore=False`` a Trainer pushes gradients to
        the same keys its lazy first-step broadcast pulls the parameters from, with no order
        between the two. On a busy machine a worker's parameter pull could land after the first
        gradient sum and take the gradients as its weights (measured here: 1 run in 3 under
        load diverged at step 2). Doing the broadcast up front, then a barrier, closes it."""
        if not self.distributed:
            return
        trainer._init_kvstore()
        if trainer._params_to_init:
            trainer._init_params()
        for param in trainer._params:
            for data in param.list_data():
                data.wait_to_read()
        self.kv._barrier()

    def share(self, count: int, every_worker: bool = False) -> Tuple[int, int]:
        """This worker's contiguous share [start, stop) of ``count`` items: equal sizes (the
        last ``count % workers`` items go unused), so every worker takes the same number of
        steps. ``every_worker``: the whole range when the workers cannot add up their numbers
        (async), so each validates everything itself."""
        if every_worker and not self.synchronous:
            return 0, count
        size = count // self.num_workers
        return self.rank * size, (self.rank + 1) * size

    def sum(self, name: str, values: np.ndarray) -> np.ndarray:
        """``values`` added up over the workers (dist_sync; otherwise this worker's own).
        Every worker must call it with the same name and shape at the same point."""
        if not (self.distributed and self.synchronous):
            return values
        flat = mx.nd.array(np.asarray(values, dtype=np.float64).reshape(-1), dtype="float64")
        if name not in self._keys:
            self._keys[name] = _OWN_KEYS + len(self._keys)
            self.kv.init(self._keys[name], mx.nd.zeros_like(flat))
        key = self._keys[name]
        self.kv.push(key, flat)            # the servers add every worker's push (no updater)
        total = mx.nd.zeros_like(flat)
        self.kv.pull(key, out=total)
        return total.asnumpy().reshape(np.shape(values))

    def gather(self, name: str, value: np.ndarray) -> np.ndarray:
        """Every worker's ``value`` stacked (workers, ...): each fills its own row of zeros."""
        rows = np.zeros((self.num_workers,) + np.shape(value))
        rows[self.rank] = value
        return self.sum(name, rows)

    def server_schedule(self, steps_per_epoch: int, tc) -> Optional[ServerSchedule]:
        """The schedule the servers apply in async mode (None otherwise)."""
        if not self.distributed or self.synchronous:
            return None
        if tc.anneal != "none":
            raise StudioError("--anneal follows the wall clock of one worker: it cannot run on "
                              "the servers of a dist_async job; use dist_sync or --anneal none")
        return ServerSchedule(steps_per_epoch, tc.lr, tc.warmup_steps, tc.lr_decay,
                              self.num_workers)

    # ---- what the training loop asks of it ---------------------------------------------------
    def agree(self, reason: Optional[str]) -> Optional[str]:
        """dist_sync workers stop at the same step: when any of them has a reason (Ctrl-C, its
        clock, its data), all stop with it. One tiny sum per step."""
        if not (self.distributed and self.synchronous):
            return reason
        votes = self.sum("stop", np.array([float(reason == r) for r in STOP_REASONS]))
        return next((r for r, v in zip(STOP_REASONS, votes) if v > 0), None)

    def validation(self, task):
        """The task's validation; of several workers each scores its share and the sums are
        added up, so every worker gets the same numbers (and keeps the same best, and stops
        early at the same step)."""
        if not self.distributed:
            return task.validate()
        part = self.share(task.validation_items(), every_worker=True)
        sums = task.validation_sums(part)
        return task.validation_result({k: self.sum(f"val:{k}", np.asarray(v, dtype=np.float64))
                                       for k, v in sorted(sums.items())})

    def optimizer_state(self, trainer: gluon.Trainer, model) -> Tuple[Dict[str, nd.NDArray], dict]:
        if self.lr_on_servers:
            return {}, {"on_servers": True}      # async: Adam's state lives on the servers
        return trainer_state(trainer, model)

    def restore_optimizer(self, trainer: gluon.Trainer, model, arrays, info: dict, contexts):
        if info.get("on_servers") or self.lr_on_servers:
            log.warning("the optimizer's state of a dist_async run lives on its servers and is "
                        "not saved: Adam's moment estimates start again (the parameters are "
                        "resumed)")
            return
        restore_trainer_state(trainer, model, arrays, info, contexts)

    def carried(self, task) -> Tuple[Dict[str, nd.NDArray], dict]:
        """The task's carried state; of dist_sync workers, every worker's, stacked by rank."""
        arrays, info = task.carried_state()
        if not (self.distributed and self.synchronous) or not arrays:
            return arrays, info
        stacked = {k: nd.array(self.gather(f"carried:{k}", v.asnumpy()), dtype=v.dtype)
                   for k, v in sorted(arrays.items())}
        return stacked, dict(info, carried_by_workers=self.num_workers)

    def restore_carried(self, task, arrays, info: dict):
        by = info.get("carried_by_workers")
        ours = self.num_workers if self.distributed and self.synchronous else None
        if by == ours:
            if by:
                arrays = {k: v[self.rank] for k, v in arrays.items()}
            task.restore(arrays, info)
            return
        log.warning("this run's carried state (a generator's hidden state) was saved by %s; it "
                    "starts fresh with %s", f"{by} workers" if by else "one process",
                    f"{ours} workers" if ours else "one process")


def clip_and_update(trainer: gluon.Trainer, params: List, clip: float, contexts: List,
                    cluster: Cluster):
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
