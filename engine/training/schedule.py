"""Learning-rate schedule as a pure function of the step (so a resumed run gets the same rates),
and the stop check the training loop (training/loop.py) makes before each step."""
import math
import time
from typing import Callable, Optional

ANNEAL_FLOOR = 0.05       # a cosine over the time budget ends at 5 % of the learning rate


def learning_rate(step: int, steps_per_epoch: int, base_lr: float, warmup_steps: int,
                  decay: float, budget_share: Optional[float] = None) -> float:
    """Linear warm-up over ``warmup_steps``, then ``base_lr * decay ** epoch``; with
    ``budget_share`` (the spent share of a time budget, when annealing over it) also times a
    cosine from 1 down to ``ANNEAL_FLOOR`` over the budget."""
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    lr = base_lr * warm * decay ** (step // max(1, steps_per_epoch))
    if budget_share is not None:
        lr *= ANNEAL_FLOOR + (1 - ANNEAL_FLOOR) * 0.5 * (1 + math.cos(math.pi * budget_share))
    return lr


def stop_reason(step: int, total_steps: Optional[int], should_stop: Callable[[], bool],
                deadline: Optional[float]) -> Optional[str]:
    """Why a training loop ends before ``step``, or None to go on."""
    if total_steps is not None and step >= total_steps:
        return "completed"
    if should_stop():
        return "stopped"
    if deadline is not None and time.time() >= deadline:
        return "time budget"
    return None
