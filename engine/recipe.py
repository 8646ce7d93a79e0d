"""Training recipes per time budget: for a given number of minutes (and a text), the generator
settings that measured best for that budget on this kind of machine, and what to expect from them.

The GUI's training presets and ``generator train --recipe`` read this table; every setting in a
recipe stays overridable. The figures below are the ones measured so far (README, "Quality"):
they are to be replaced by a table built by training each candidate for each budget.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Recipe:
    name: str                                 # what the GUI calls it ("Quick try", "Good")
    minutes: float                            # the time budget it was measured for
    model: Dict[str, object] = field(default_factory=dict)   # GeneratorConfig fields it sets
    train: Dict[str, object] = field(default_factory=dict)   # TrainConfig fields it sets
    bits_per_char: Tuple[float, float] = (0.0, 0.0)   # the range measured on held-out text
    chars_per_s: Optional[float] = None       # training speed measured with it
    measured_on: str = ""                     # the text and machine the figures come from

    def describe(self) -> str:
        """One line for people: the budget, the model, and what to expect."""
        m = self.model
        shape = f"{m.get('num_layers', 2)}x{m.get('hidden_size', 512)} {str(m.get('mode', 'lstm')).upper()}"
        speed = f", ~{self.chars_per_s:,.0f} chars/s" if self.chars_per_s else ""
        low, high = self.bits_per_char
        return (f"{self.minutes:g} minutes: {shape}{speed}, expect {low:.2f}-{high:.2f} bits per "
                f"character ({self.measured_on})")


MEASURED_ON = "held-out Shakespeare, 2-core machine"

RECIPES: Tuple[Recipe, ...] = (
    Recipe("Quick try", 2, {"hidden_size": 256, "num_layers": 2, "embed_size": 64}, {},
           (2.35, 2.45), None, MEASURED_ON),
    Recipe("Good", 10, {"hidden_size": 512, "num_layers": 2, "embed_size": 64}, {},
           (2.13, 2.25), None, MEASURED_ON),
)


def recipe_for(minutes: float, text_chars: Optional[int] = None) -> Recipe:
    """The recipe for a budget of ``minutes``: the one measured for the largest budget that fits
    in it (the smallest one for shorter budgets)."""
    fitting = [r for r in RECIPES if r.minutes <= minutes]
    return max(fitting, key=lambda r: r.minutes) if fitting else min(RECIPES, key=lambda r: r.minutes)
