"""Training recipes per time budget: for a given number of minutes (and a text), the generator
settings that measured best for that budget on this kind of machine, and what to expect from them.

The GUI's training presets and ``generator train --recipe`` read this table; every setting in a
recipe stays overridable. The table is built by ``python -m engine.generator.recipe_build`` (README,
"A recipe per time budget"): each candidate's held-out quality by training step, read at the
steps its speed buys in the budget; the winners are then trained for their budget and scored.
"""
from dataclasses import dataclass, field, replace
from typing import Collection, Dict, Optional, Tuple

from engine.config import GeneratorConfig, TrainConfig
from engine.generator.cells import parameter_count


@dataclass(frozen=True)
class Recipe:
    name: str                                 # what the GUI calls it ("Quick try", "Good")
    minutes: float                            # the time budget it was measured for
    model: Dict[str, object] = field(default_factory=dict)   # GeneratorConfig fields it sets
    train: Dict[str, object] = field(default_factory=dict)   # TrainConfig fields it sets
    bits_per_char: Tuple[float, float] = (0.0, 0.0)   # the range measured on held-out text
                                              # ((0, 0): not measured, e.g. a scaled-down one)
    chars_per_s: Optional[float] = None       # training speed measured with it
    measured_on: str = ""                     # the text and machine the figures come from
    precision: str = "fp32"                   # the arithmetic it was measured with (the build
                                              # machine has no bf16: AVX2 only)
    steps: Optional[int] = None               # training steps the budget bought when measured

    def describe(self) -> str:
        """One line for people: the budget, the model, and what to expect."""
        m = self.model
        shape = (f"{m.get('num_layers', 2)}x{m.get('hidden_size', 512)} "
                 f"{str(m.get('mode', 'lstm')).upper()}, {self.precision}")
        speed = f", ~{self.chars_per_s:,.0f} chars/s" if self.chars_per_s else ""
        low, high = self.bits_per_char
        if not high:
            expect = "no measured expectation"
        elif round(low, 2) == round(high, 2):
            expect = f"expect ~{high:.2f} bits per character"
        else:
            expect = f"expect {low:.2f}-{high:.2f} bits per character"
        return f"{self.minutes:g} minutes: {shape}{speed}, {expect} ({self.measured_on})"

    def configs(self, model: GeneratorConfig, train: TrainConfig,
                keep: Collection[str] = ()) -> Tuple[GeneratorConfig, TrainConfig]:
        """``model`` and ``train`` with this recipe's settings, except the fields named in
        ``keep`` (those a person chose), which stay as given."""
        return (model.replace(**{k: v for k, v in self.model.items() if k not in keep}),
                train.replace(**{k: v for k, v in self.train.items() if k not in keep}))


MEASURED_ON = "held-out Macbeth, 2-core AMD EPYC, AVX2"

# Built with engine/generator/recipe_build.py (README, "A recipe per time budget"): each candidate's
# held-out curve by step and its speed picked the 256-wide LSTM at learning rate 4e-3 without
# dropout for both budgets; then each recipe was trained for its budget on the quiet machine
# (`generator train --corpus TRAIN --minutes M ...`) and scored on the held-out play
# (`generator evaluate RUN --text heldout.txt`). The ranges are those real runs: with and
# without the cosine for 10 minutes (2.17 / 2.20; the default settings reached 2.30 there), the
# 2-minute run (2.46; with the cosine 2.62, and the default model's curve says 3.05).
SMALL_FAST = {"hidden_size": 256, "num_layers": 2, "embed_size": 64, "dropout": 0.0}

RECIPES: Tuple[Recipe, ...] = (
    Recipe("Quick try", 2, SMALL_FAST, {"lr": 4e-3}, (2.46, 2.46), 13_000, MEASURED_ON,
           steps=256),
    Recipe("Good", 10, SMALL_FAST, {"lr": 4e-3, "anneal": "cosine"}, (2.17, 2.20), 13_700,
           MEASURED_ON, steps=1300),
)

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


def for_text(recipe: Recipe, text_chars: int) -> Recipe:
    """``recipe`` made fit for a text of ``text_chars`` characters (the rule above); the recipe
    itself when it already fits."""
    model, train = dict(recipe.model), dict(recipe.train)
    while (parameters(model) > PARAMS_PER_CHAR * text_chars
           and model.get("hidden_size", 512) // 2 >= SMALLEST_HIDDEN):
        model["hidden_size"] = model.get("hidden_size", 512) // 2
    seen = (recipe.chars_per_s or 0) * recipe.minutes * 60
    if seen / text_chars > max(1.0, seen / MEASURED_CHARS):
        model["dropout"] = max(model.get("dropout", 0.0), DROPOUT_WHEN_SEEN_MORE)
    if model == recipe.model and train == recipe.train:
        return recipe
    return replace(recipe, model=model, train=train, bits_per_char=(0.0, 0.0), steps=None,
                   chars_per_s=None,
                   measured_on=f"scaled down from the {recipe.name!r} recipe for a text of "
                               f"{text_chars:,} characters; not measured")


def recipe_for(minutes: float, text_chars: Optional[int] = None) -> Recipe:
    """The recipe for a budget of ``minutes``: the one measured for the largest budget that fits
    in it (the smallest one for shorter budgets), made fit for a text of ``text_chars``
    characters when given."""
    fitting = [r for r in RECIPES if r.minutes <= minutes]
    recipe = (max(fitting, key=lambda r: r.minutes) if fitting
              else min(RECIPES, key=lambda r: r.minutes))
    return recipe if text_chars is None else for_text(recipe, text_chars)

