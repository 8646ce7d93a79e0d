"""The learning-rate schedule of a dist_async job, which the parameter servers apply.

MXNet sends the optimizer to the servers pickled (its own wire protocol, never a file), and a
server unpickles it while ``import mxnet`` is still running (importing MXNet with
``DMLC_ROLE=server`` is what serves). So this module may import only what exists by then:
``mxnet.lr_scheduler`` by its own name, never ``mx.lr_scheduler`` through the half-made package.
"""
from mxnet.lr_scheduler import LRScheduler

from engine.training.schedule import learning_rate


class ServerSchedule(LRScheduler):
    """The loop's warm-up and per-epoch decay, evaluated by the servers' optimizer from its
    update count (which counts every worker's pushes, hence the division). MXNet sends the
    optimizer to the servers pickled (its own protocol, never a file), so this class must be
    importable there: the launcher runs the servers with the same Python."""

    def __init__(self, steps_per_epoch: int, lr: float, warmup: int, decay: float, workers: int):
        super().__init__(base_lr=lr)
        self.steps_per_epoch, self.lr, self.warmup = steps_per_epoch, lr, warmup
        self.decay, self.workers = decay, workers

    def __call__(self, num_update: int) -> float:
        return learning_rate(num_update // self.workers, self.steps_per_epoch, self.lr,
                             self.warmup, self.decay)
