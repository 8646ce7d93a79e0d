"""Training recipes for sentiment models, as the Sentiment tab's presets: settings, a budget,
and the test accuracy they reached on the default data on this kind of machine. The same shape
as the generator's recipes (engine/generator/recipes.py): ``name``, ``minutes`` (None: an epoch budget,
in ``train``), ``model``, ``train`` and ``describe()``.

Measured with ``sentiment train`` on rated-sentences (1,936 test sentences, whose standard
error is about +-0.9 points), seed 0, on the 2-core development machine while other work shared
it: 2 minutes gave 80.9 % (3 epochs' worth; validation 80.4 % after the first); the defaults
(up to 10 epochs, stopping after 3 validations without a better one) gave 82.2 % (README,
"Quality", the mean of seeds 0 and 1).
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class SentimentRecipe:
    name: str                                  # what the app calls it
    minutes: Optional[float]                   # a time budget (None: ``train["epochs"]``)
    model: Dict[str, object] = field(default_factory=dict)   # SentimentConfig fields it sets
    train: Dict[str, object] = field(default_factory=dict)   # SentimentTrainConfig fields
    accuracy: Tuple[float, float] = (0.0, 0.0)  # the test accuracy to expect, as a range
    measured_on: str = ""

    def describe(self) -> str:
        budget = (f"{self.minutes:g} minutes of training" if self.minutes else
                  f"up to {self.train.get('epochs', 10):g} passes, stopping once it stops "
                  f"improving")
        low, high = self.accuracy
        return (f"{budget}; expect {100 * low:.0f}-{100 * high:.0f} % test accuracy "
                f"({self.measured_on})")


MEASURED_ON = "rated-sentences, 2-core machine"

RECIPES: Tuple[SentimentRecipe, ...] = (
    SentimentRecipe("Quick try", 2, {}, {}, (0.80, 0.82), MEASURED_ON),
    SentimentRecipe("Good", None, {}, {"epochs": 10}, (0.81, 0.83), MEASURED_ON),
)
