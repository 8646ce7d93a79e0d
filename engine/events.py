"""Progress events yielded by the training loops, rendered by the CLI (tqdm) and the GUI (signals).

Events carry plain floats and strings only, never NDArrays, so any thread may read them.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional


@dataclass(frozen=True)
class Started:
    run_dir: str
    total_steps: Optional[int]     # None when only a time budget bounds the run
    start_step: int                # > 0 when resuming
    parameters: int                # trainable parameter count
    info: Dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    step: int
    epoch: int
    train_loss: float              # mean over the last log interval
    lr: float
    items_per_s: float             # characters (generator) or sentences (sentiment) per second
    elapsed_s: float
    eta_s: Optional[float]
    total_steps: Optional[int]
    metrics: Dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Validated:
    step: int
    epoch: int
    val_loss: float
    is_best: bool
    metrics: Dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleReady:
    step: int
    text: str
    # how much of the preview the training text already holds verbatim (generator/novelty.py):
    # the share of its 20-character windows found there, the longest such span and its line;
    # None where it could not be checked
    copied_share: Optional[float] = None
    longest_copy: Optional[int] = None
    longest_copy_line: Optional[int] = None


@dataclass(frozen=True)
class Saved:
    step: int
    run_dir: str
    best: bool


@dataclass(frozen=True)
class Finished:
    step: int
    reason: str                    # "completed", "time budget", "stopped", "early stopping"
    run_dir: str
    best_val_loss: Optional[float]
    elapsed_s: float
