"""Learning-rate schedule as a pure function of the step, so a resumed run gets the same rates."""


def learning_rate(step: int, steps_per_epoch: int, base_lr: float, warmup_steps: int,
                  decay: float) -> float:
    """Linear warm-up over ``warmup_steps``, then ``base_lr * decay ** epoch``."""
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    return base_lr * warm * decay ** (step // max(1, steps_per_epoch))
