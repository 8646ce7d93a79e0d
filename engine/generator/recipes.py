"""Training recipes per time budget: for a given number of minutes (and a text), the generator
settings that spend that budget best on THIS machine, and what to expect from them.

A recipe is picked from two measurements (README, "A recipe per time budget"):

* each candidate's **curve**: held-out bits per character by training step, measured once by
  ``python -m engine.generator.recipe_build`` and shipped in ``recipe_curves.json``. A seeded
  run takes the same steps whatever the machine or its load, so a curve holds everywhere;
* each candidate's **speed here**: characters per second on this machine, in the precision it
  will train in, with the threads it will use (engine/generator/speed_probe.py, measured on first
  use and cached per CPU, precision, threads and library versions).

The budget buys ``steps_bought`` steps at that speed; the recipe is the candidate whose curve is
lowest there, then made fit for the text (``for_text``). Past a curve's last measured step no
further gain is assumed (``curve_at``; the recipe line says it reads past the curve). Where
this machine's speeds are not measured yet (the app before its probe ran), the speeds of the
machine the curves were measured on stand in, and the line says so.

The GUI's training presets and ``generator train --recipe`` read this; every setting in a recipe
stays overridable.
"""
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Collection, Dict, Iterator, List, Optional, Tuple

from engine.config import GeneratorConfig, TrainConfig
from engine.generator.cells import parameter_count

CURVES_FILE = Path(__file__).with_name("recipe_curves.json")
BUDGETS: Dict[float, str] = {2: "Quick try", 10: "Good", 30: "Better", 60: "Best"}
COSINE_FROM_MINUTES = 10      # measured at 10 minutes on the 2x256 model: 2.17 with the cosine,
                              # 2.20 without (at 2 minutes the cosine cost: 2.62 against 2.46)
VALIDATION_WORK = 1 / 3       # a validation character costs a third of a training one (forward
                              # only); a time budget pays for its validations too


@dataclass(frozen=True)
class Recipe:
    name: str                                 # what the GUI calls it ("Quick try", "Good")
    minutes: float                            # the time budget it was picked for
    model: Dict[str, object] = field(default_factory=dict)   # GeneratorConfig fields it sets
    train: Dict[str, object] = field(default_factory=dict)   # TrainConfig fields it sets
    bits_per_char: Tuple[float, float] = (0.0, 0.0)   # the expected held-out range
                                              # ((0, 0): none, e.g. a scaled-down one)
    chars_per_s: Optional[float] = None       # its training speed (here, or on the curves'
    measured_on: str = ""                     # machine: ``speed_here`` says which); what the
    precision: str = "fp32"                   # curve was measured on; the precision it trains in
    steps: Optional[int] = None               # training steps the budget buys at that speed
    extrapolated_from: Optional[int] = None   # the curve's last step, when read past it
    speed_here: bool = True                   # the speed was measured on this machine

    def describe(self) -> str:
        """One line for people: the budget, the model, its precision and speed, and what to
        expect (from which curve, and whether read past its end)."""
        m = GeneratorConfig(**self.model)          # the defaults where the recipe sets nothing
        shape = f"{m.num_layers}x{m.hidden_size} {m.mode.upper()}, {self.precision}"
        speed = ""
        if self.chars_per_s:
            where = "measured here" if self.speed_here else \
                "on the curves' machine: this one is measured when training starts"
            speed = f", {self.chars_per_s:,.0f} chars/s {where}"
        low, high = self.bits_per_char
        if not high:
            expect = "no measured expectation"
        elif round(low, 2) == round(high, 2):
            expect = f"expect ~{high:.2f} bits per character"
        else:
            expect = f"expect {low:.2f}-{high:.2f} bits per character"
        if high and self.steps:
            expect += f" after ~{self.steps:,} steps"
        if high and self.extrapolated_from:
            expect += (f" or better (its curve was measured to step {self.extrapolated_from:,}"
                       f" only)")
        return f"{self.minutes:g} minutes: {shape}{speed}, {expect} ({self.measured_on})"

    def configs(self, model: GeneratorConfig, train: TrainConfig,
                keep: Collection[str] = ()) -> Tuple[GeneratorConfig, TrainConfig]:
        """``model`` and ``train`` with this recipe's settings, except the fields named in
        ``keep`` (those a person chose), which stay as given."""
        return (model.replace(**{k: v for k, v in self.model.items() if k not in keep}),
                train.replace(**{k: v for k, v in self.train.items() if k not in keep}))


# ---- the curves --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _curves_file() -> dict:
    return json.loads(CURVES_FILE.read_text(encoding="utf-8"))


def curves() -> Dict[str, dict]:
    """name -> {"model", "train", "curve": [[step, held-out bits], ...], "reference_speed"}."""
    return _curves_file()["candidates"]


def candidates() -> Dict[str, Tuple[dict, dict]]:
    """name -> (GeneratorConfig fields, TrainConfig fields): what the probe measures."""
    return {name: (c["model"], c["train"]) for name, c in curves().items()}


def reference_speeds() -> Dict[str, float]:
    """The candidates' speeds on the machine their curves were measured on (the stand-in)."""
    return {name: c["reference_speed"] for name, c in curves().items()}


def curve_at(points: List[List[float]], step: float) -> Tuple[float, Optional[int]]:
    """(held-out bits at ``step``, None) between measured points (linear), or (bits, the last
    measured step) past the end: the mean of the last three points, no further gain assumed.
    Continuing a curve's trend promised too much here: the GRU's, continued from its first half,
    promised 2.11 at its end and reached 2.20 (it stopped gaining at a constant learning rate).
    Before the first point: the first point's bits (a budget that small is not worth a recipe
    of its own)."""
    steps = [p[0] for p in points]
    if step <= steps[0]:
        return points[0][1], None
    for (s0, b0), (s1, b1) in zip(points, points[1:]):
        if s0 <= step <= s1:
            return b0 + (step - s0) / (s1 - s0) * (b1 - b0), None
    last = [b for _, b in points[-3:]]
    return sum(last) / len(last), int(steps[-1])


def annealed_train(candidate: dict) -> Dict[str, object]:
    """A candidate's TrainConfig fields for a budget with the cosine: its curve's, the cosine,
    and what it takes instead under the cosine (``cosine_train``: a larger learning rate that
    ten minutes measured better; recipe_build.UNDER_THE_COSINE says where)."""
    return dict(candidate["train"], **candidate.get("cosine_train", {}), anneal="cosine")


def steps_bought(minutes: float, chars_per_s: float, train: TrainConfig,
                 text_chars: int) -> int:
    """Training steps a ``--minutes`` run gets at ``chars_per_s``: its steps, and a validation
    of the held-back share of the text every ``val_interval`` steps, all inside the budget."""
    step_s = train.batch_size * train.seq_len / chars_per_s
    validation_s = text_chars * train.val_fraction * VALIDATION_WORK / chars_per_s
    per_interval = train.val_interval * step_s + validation_s
    budget = minutes * 60
    whole = int(budget // per_interval)
    return whole * train.val_interval + int((budget - whole * per_interval) // step_s)


# ---- picking ------------------------------------------------------------------------------------
def _name(minutes: float) -> str:
    fitting = [b for b in BUDGETS if b <= minutes]
    return BUDGETS[max(fitting)] if fitting else BUDGETS[min(BUDGETS)]


def pick(minutes: float, speeds: Dict[str, float], speed_here: bool = True,
         text_chars: Optional[int] = None) -> Recipe:
    """The candidate whose curve is lowest at the steps ``speeds`` buy in ``minutes`` (only
    candidates with a speed count), made fit for a text of ``text_chars`` characters."""
    from engine.generator.speed_probe import probe_path
    best = None
    fitting = {name for name, c in curves().items()
               if text_chars is None or fits(c["model"], text_chars)}
    for name, c in sorted(curves().items()):
        if not speeds.get(name) or fitting and name not in fitting:
            continue
        train = annealed_train(c) if minutes >= COSINE_FROM_MINUTES else dict(c["train"])
        steps = steps_bought(minutes, speeds[name], TrainConfig(**train),
                             text_chars or MEASURED_CHARS)
        bits, extrapolated_from = curve_at(c["curve"], steps)
        if best is None or bits < best[0]:
            best = (bits, name, train, steps, extrapolated_from)
    if best is None:
        raise ValueError("no recipe candidate has a measured speed")
    bits, name, train, steps, extrapolated_from = best
    recipe = Recipe(_name(minutes), minutes, dict(curves()[name]["model"]), train,
                    (round(bits, 2), round(bits, 2)), speeds[name], _curves_file()["measured_on"],
                    probe_path(GeneratorConfig(**curves()[name]["model"]).mode).precision,
                    steps, extrapolated_from, speed_here)
    return recipe if text_chars is None else for_text(recipe, text_chars)


def current_speeds() -> Tuple[Dict[str, float], bool]:
    """(speeds, measured here?): this machine's cached probe, else the curves' machine's."""
    from engine.generator.speed_probe import cached_speeds
    here = cached_speeds(candidates())
    return (here, True) if here is not None else (reference_speeds(), False)


def recipes(speeds: Optional[Dict[str, float]] = None) -> Tuple[Recipe, ...]:
    """One recipe per budget in BUDGETS (the app's presets), for ``speeds`` or this machine's."""
    speeds, here = (speeds, True) if speeds is not None else current_speeds()
    return tuple(pick(minutes, speeds, here) for minutes in BUDGETS)


def ensure_probed(progress=None, again: bool = False,
                  should_stop=lambda: False) -> Optional[Dict[str, float]]:
    """This machine's speeds: the cache's, or measured now (``progress(done, total, name)``);
    None when stopped first."""
    from engine.generator.speed_probe import speeds_here
    return speeds_here(candidates(), progress, again, should_stop)


def probe_needed() -> bool:
    """Whether the recipes still stand on the curves' machine's speeds (no probe here yet)."""
    from engine.generator.speed_probe import cached_speeds
    return cached_speeds(candidates()) is None


def probe_steps() -> Iterator[Tuple[int, int, str]]:
    """Measure this machine now, as (done, total, the candidate measured next) steps (the app
    runs them on its engine thread, showing each)."""
    from engine.generator.speed_probe import probe_steps as steps
    return steps(candidates(), {})


@dataclass(frozen=True)
class RecipeProbe:
    """What the kinds registry names for a kind whose recipes need this machine measured."""
    needed: Callable[[], bool] = probe_needed
    run: Callable = ensure_probed                 # (progress, again, should_stop) -> speeds
    steps: Callable[[], Iterator[Tuple[int, int, str]]] = probe_steps


PROBE = RecipeProbe()


# ---- short texts ---------------------------------------------------------------------------------
# A recipe was measured on MEASURED_CHARS characters of Shakespeare, which its budget passes
# over less than twice. On a short text the same budget passes over it many times, and a model
# with far more weights than the text has characters learns the text by heart (its validation
# loss rises while its training loss falls). The rule: at most PARAMS_PER_CHAR weights per
# character of text (char-rnn's rule of thumb: parameters and characters of the same order),
# reached by narrowing the layers; and a run that will pass over its text more often than the
# recipe passed over its own (and more than once) keeps dropout: the recipes' dropout 0 was
# measured only that far.
MEASURED_CHARS = 4_725_838        # the plays without Macbeth (python -m corpora.holdout macbeth)
PARAMS_PER_CHAR = 1.0
SMALLEST_HIDDEN = 32
DROPOUT_WHEN_SEEN_MORE = 0.2


def parameters(model: Dict[str, object], vocab: int = 65) -> int:
    """Weights of a CharRNN with these GeneratorConfig settings (``vocab`` characters)."""
    return parameter_count(GeneratorConfig(**model), vocab)


def fits(model: Dict[str, object], text_chars: int) -> bool:
    """Whether a model fits a text of ``text_chars`` characters: the text is as long as the one
    the curves were measured on (where the largest candidates were seen not to learn it by heart
    over their curves' steps), or the model has at most PARAMS_PER_CHAR weights per character.
    ``pick`` takes the best candidate that fits; only when none does is one narrowed."""
    return text_chars >= MEASURED_CHARS or parameters(model) <= PARAMS_PER_CHAR * text_chars


def for_text(recipe: Recipe, text_chars: int) -> Recipe:
    """``recipe`` made fit for a text of ``text_chars`` characters (the rule above); the recipe
    itself when it already fits."""
    model, train = dict(recipe.model), dict(recipe.train)
    while (not fits(model, text_chars)
           and GeneratorConfig(**model).hidden_size // 2 >= SMALLEST_HIDDEN):
        model["hidden_size"] = GeneratorConfig(**model).hidden_size // 2
    seen = (recipe.chars_per_s or 0) * recipe.minutes * 60
    if seen / text_chars > max(1.0, seen / MEASURED_CHARS):
        model["dropout"] = max(GeneratorConfig(**model).dropout, DROPOUT_WHEN_SEEN_MORE)
    if model == recipe.model and train == recipe.train:
        return recipe
    return replace(recipe, model=model, train=train, bits_per_char=(0.0, 0.0), steps=None,
                   chars_per_s=None,
                   measured_on=f"scaled down from the {recipe.name!r} recipe for a text of "
                               f"{text_chars:,} characters; not measured")


def recipe_for(minutes: float, text_chars: Optional[int] = None,
               speeds: Optional[Dict[str, float]] = None) -> Recipe:
    """The recipe for a budget of ``minutes`` at ``speeds`` (default: this machine's cached
    probe, else the curves' machine's), made fit for a text of ``text_chars`` characters."""
    speeds, here = (speeds, True) if speeds is not None else current_speeds()
    return pick(minutes, speeds, here, text_chars)
