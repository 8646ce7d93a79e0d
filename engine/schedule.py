"""Learning-rate schedule as a pure function of the step (so a resumed run gets the same rates),
and the budget check both training loops make before each step."""
import time
from typing import Callable, Optional


def learning_rate(step: int, steps_per_epoch: int, base_lr: float, warmup_steps: int,
                  decay: float) -> float:
    """Linear warm-up over ``warmup_steps``, then ``base_lr * decay ** epoch``."""
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    return base_lr * warm * decay ** (step // max(1, steps_per_epoch))


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
