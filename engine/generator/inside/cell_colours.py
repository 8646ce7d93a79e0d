"""The colour scale every face shows a cell's values in (kept free of MXNet: the command line
imports it before it knows it will need a model)."""
from typing import Tuple


def value_rgb(value: float) -> Tuple[int, int, int]:
    """Blue (-1) through white (0) to red (+1)."""
    v = max(-1.0, min(1.0, float(value)))
    fade = int(round(255 * (1 - abs(v))))
    return (255, fade, fade) if v >= 0 else (fade, fade, 255)
