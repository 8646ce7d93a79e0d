"""A grid of samples: every combination of the listed temperatures, seeds, top-k and top-p
values, drawn together in one pass (temperatures across, the rest down), each cell with its
text, its mean log-probability and, when a sentiment model is given, its verdicts.

Shared by the CLI (``generator sample --temperature 0.5,0.8 --seed 1,2``) and the GUI's
sample grid, so both parse lists and label cells the same way.
"""
import itertools
from dataclasses import asdict, dataclass, fields
from typing import Callable, Dict, Iterator, List, Optional, Sequence

from engine.config import SamplingConfig, value_type
from engine.errors import StudioError
from engine.wording import setting
from engine.generator.sampling.sample import SampledChar, Sampler

AXES = ("temperature", "seed", "top_k", "top_p")    # the settings a grid may vary
MAX_CELLS = 64


def parse_values(text: str, name: str, shown: Optional[str] = None) -> list:
    """``"0.5, 0.8,1.1"`` -> [0.5, 0.8, 1.1] for setting ``name`` (a number each); errors name
    it as ``shown`` (default: its command-line flag)."""
    field = next(f for f in fields(SamplingConfig) if f.name == name)
    kind = value_type(field)
    flag = shown or setting(name)          # the CLI: its flag; the app: its label
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p for p in parts):
        raise StudioError(flag, f": {text!r} is not a comma-separated list of values")
    try:
        values = [kind(p) for p in parts]
    except ValueError:
        what = "whole numbers" if kind is int else "numbers"
        raise StudioError(flag, f": {text!r} is not a comma-separated list of {what}") from None
    if len(set(values)) != len(values):
        raise StudioError(flag, f": {text!r} lists a value twice")
    return values


@dataclass(frozen=True)
class Cell:
    index: int
    row: int
    col: int
    config: SamplingConfig
    label: str               # what sets it apart, e.g. "temperature 0.5, seed 2"


def make_grid(base: SamplingConfig, values: Dict[str, list]) -> List[Cell]:
    """One cell per combination of ``values`` (setting name -> list) over ``base``; the
    temperatures are the columns. Settings are range-checked like any SamplingConfig."""
    unknown = sorted(set(values) - set(AXES))
    if unknown:
        raise StudioError(f"a grid cannot vary {', '.join(unknown)}")
    axes = {name: list(values.get(name) or [getattr(base, name)]) for name in AXES}
    count = 1
    for options in axes.values():
        count *= len(options)
    if count > MAX_CELLS:
        raise StudioError(f"{count} samples asked for; at most {MAX_CELLS} at once")
    varied = [name for name in AXES if len(axes[name]) > 1] or ["temperature"]
    down = list(itertools.product(*(axes[n] for n in AXES[1:])))
    cells = []
    for row, rest in enumerate(down):
        for col, temperature in enumerate(axes["temperature"]):
            settings = dict(zip(AXES, (temperature,) + rest))
            config = base.replace(**settings)
            label = ", ".join(f"{n.replace('_', '-')} {settings[n]}" for n in varied)
            cells.append(Cell(len(cells), row, col, config, label))
    return cells


@dataclass(frozen=True)
class CellScores:
    """A cell's sentiment: the whole sample's and each line's (text, label, probability)."""
    cell: int
    label: Optional[str]
    probability: Optional[float]
    lines: tuple


def draw_cells(sampler: Sampler, cells: Sequence[Cell], steer=None,
               should_stop: Callable[[], bool] = lambda: False) -> Iterator[List[SampledChar]]:
    """Every cell's characters (``SampledChar.stream`` is the cell's index), all cells advanced
    together; with ``steer`` (a Judge with a label), line by line toward its label."""
    configs = [c.config for c in cells]
    if steer is not None:
        from engine.generator.sampling.steer import fudge_steered, steered
        method = fudge_steered if cells[0].config.steer_method == "fudge" else steered
        return method(sampler, configs, steer, should_stop)
    return sampler.generate_many(configs, should_stop)


@dataclass
class CellResult:
    cell: Cell
    text: str = ""
    logprob_sum: float = 0.0
    chars: int = 0
    sentiment: Optional[dict] = None

    def add(self, ch: SampledChar):
        self.text += ch.char
        self.logprob_sum += ch.logprob
        self.chars += 1

    @property
    def mean_logprob(self) -> Optional[float]:
        return self.logprob_sum / self.chars if self.chars else None

    def to_dict(self) -> dict:
        c = self.cell.config
        out = {"cell": self.cell.index, "row": self.cell.row, "col": self.cell.col,
               "label": self.cell.label,
               **{k: v for k, v in asdict(c).items()
                  if k not in ("candidates", "steer_at", "steer_method")},
               "text": self.text, "chars": self.chars, "mean_logprob": self.mean_logprob}
        if self.sentiment is not None:
            out["sentiment"] = self.sentiment
        return out


def sample_grid(sampler: Sampler, cells: Sequence[Cell], steer=None, score=None,
                should_stop: Callable[[], bool] = lambda: False) -> List[CellResult]:
    """Draw every cell to the end (``draw_cells``) and, with ``score`` (a Judge), judge each
    sample and each of its lines."""
    results = [CellResult(c) for c in cells]
    for chars in draw_cells(sampler, cells, steer, should_stop):
        for ch in chars:
            results[ch.stream].add(ch)
    if score is not None:
        for r in results:
            r.sentiment = score.judge_sample(r.text)
    return results


def cell_scores(index: int, sentiment: dict) -> CellScores:
    return CellScores(index, sentiment["label"], sentiment["probability"],
                      tuple((ln["text"], ln["label"], ln["probability"])
                            for ln in sentiment["lines"]))
