"""The model kinds RNN Studio trains, listed once: what each is called, what its data and speed
are counted in, the one score it is judged by, its configs, and where its loader, exporter,
ONNX check and training recipes live (looked up when first used, so importing this module
stays light: the app's tabs, the Models tab, the run summary, ``export`` and ``launch`` all
read it). A third kind is one more entry here (see ARCHITECTURE.md)."""
import importlib
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from engine.config import (GeneratorConfig, SentimentConfig, SentimentTrainConfig, TrainConfig)
from engine.errors import StudioError


def _bits(nats: Optional[float]) -> Optional[float]:
    return None if nats is None else nats / math.log(2)


@dataclass(frozen=True)
class Kind:
    name: str                      # meta.json's "kind" and the CLI's command: "generator"
    called: str                    # what people call it: "text generator"
    data_noun: str                 # what its data is counted in: "characters", "examples"
    size_noun: str                 # what the size in its meta.json's corpus counts
    speed_unit: str                # what its training speed counts per second: "chars"
    score: str                     # the one score it is judged by, in words
    shown: Callable                # (score) -> it in a list's column: "2.310 bits/char"
    higher_is_better: bool         # for that score
    loss_unit: str                 # the unit its training loss is shown in ("" = the raw loss)
    loss_short: str                # that unit beside a number: " bits/char" ("" = none)
    loss_in_bits: bool             # the loss (nats) is shown in bits
    curve_name: str                # what its score's curve shows: "bits per character"
    budget: str                    # what a new training is first set to last: "minutes"/"epochs"
    model_config: type
    train_config: type
    best_score: Callable           # (RunMeta) -> its score, or None before there is one
    curve: Callable                # (history entry) -> its validation score at that point
    seen: Callable                 # (RunMeta, history entry) -> items trained on by then
    seen_noun: str                 # what those items are: "characters", "texts"
    where: Dict[str, str] = field(default_factory=dict)   # what -> "module:attribute"

    def get(self, what: str):
        """Its ``trainer``, ``loader``, ``exporter``, ``onnx_refusal``, ``recipes``,
        ``recipe_for``, ``recipe_probe`` (where it has one), ``data_ref``, ``command_line``
        (engine/cli/kind_commands.py) or ``app_tab``, imported now."""
        module, _, attributes = self.where[what].partition(":")
        found = importlib.import_module(module)
        for attribute in attributes.split("."):
            found = getattr(found, attribute)
        return found

    def loss_shown(self, nats: float) -> float:
        """A training loss (nats) in the unit the kind shows it in."""
        return _bits(nats) if self.loss_in_bits else nats

    def data_ref(self, source):
        """Its trainer's data reference for a ``training.plan.DataSource``."""
        return self.get("data_ref")(str(source.path), source.name, **source.options)

    def recipes(self) -> tuple:
        """Its presets: the registry names a tuple, or a function making them (the generator's
        depend on this machine's measured speed, engine/generator/recipes.py)."""
        found = self.get("recipes")
        return tuple(found() if callable(found) else found)

    def recipe_probe(self):
        """What measures this machine for its recipes (``.needed()``, ``.run(progress, again,
        should_stop)``), or None for a kind whose recipes need no measuring."""
        return self.get("recipe_probe") if "recipe_probe" in self.where else None

    def has_recipe_for(self) -> bool:
        return "recipe_for" in self.where

    def recipe_for(self, minutes: float, data_size: Optional[int]):
        """The recipe measured for a budget of ``minutes``, made fit for ``data_size`` (an
        object with ``.configs(model, train, keep=...)`` and ``.describe()``)."""
        if not self.has_recipe_for():
            raise StudioError(f"there are no measured recipes per budget for a {self.called}")
        return self.get("recipe_for")(minutes, data_size)

    def format_score(self, value: Optional[float]) -> str:
        return "not scored yet" if value is None else self.shown(value)


GENERATOR = Kind(
    "generator", "text generator", "characters", "bytes", "chars",
    score="bits per character on held-out text", shown=lambda v: f"{v:.3f} bits/char",
    higher_is_better=False, loss_unit="bits per character", loss_short=" bits/char",
    loss_in_bits=True, curve_name="bits per character", budget="minutes",
    model_config=GeneratorConfig, train_config=TrainConfig,
    best_score=lambda meta: _bits((meta.best or {}).get("val_loss")),
    curve=lambda h: _bits(h.get("val_loss")),
    seen=lambda meta, h: h["step"] * meta.train_settings.get("batch_size", 0) *
    meta.train_settings.get("seq_len", 0), seen_noun="characters",
    where={"trainer": "engine.generator.train:train_generator",
           "loader": "engine.generator.load:load_generator",
           "exporter": "engine.generator.export:export_generator",
           "onnx_refusal": "engine.generator.export:onnx_refusal",
           "recipes": "engine.generator.recipes:recipes",
           "recipe_for": "engine.generator.recipes:recipe_for",
           "recipe_probe": "engine.generator.recipes:PROBE",
           "data_ref": "engine.generator.train:CorpusRef",
           "command_line": "engine.cli.main:GENERATOR_COMMANDS",
           "app_tab": "desktop.tabs.generate.tab:GenerateTab"})   # the app imports it, never the engine

SENTIMENT = Kind(
    "sentiment", "sentiment model", "examples", "examples", "sentences",
    score="accuracy on its held-back test split", shown=lambda v: f"{v:.1%} test accuracy",
    higher_is_better=True, loss_unit="", loss_short="", loss_in_bits=False,
    curve_name="accuracy", budget="epochs",
    model_config=SentimentConfig, train_config=SentimentTrainConfig,
    best_score=lambda meta: (meta.test or {}).get("accuracy"),
    curve=lambda h: h.get("val_accuracy"),
    seen=lambda meta, h: h["epoch"] * (meta.split or {}).get("train", 0), seen_noun="texts",
    where={"trainer": "engine.sentiment.train:train_sentiment",
           "loader": "engine.sentiment.predict:SentimentPredictor.load",
           "exporter": "engine.sentiment.export:export_sentiment",
           "onnx_refusal": "engine.sentiment.export:onnx_refusal",
           "recipes": "engine.sentiment.recipes:RECIPES",
           "data_ref": "engine.sentiment.train:DataRef",
           "command_line": "engine.cli.main:SENTIMENT_COMMANDS",
           "app_tab": "desktop.tabs.sentiment.tab:SentimentTab"})

KINDS: Dict[str, Kind] = {k.name: k for k in (GENERATOR, SENTIMENT)}


def kind_of(name: str) -> Kind:
    """The kind called ``name`` (a run's ``meta.kind``); a clear error for any other."""
    if name not in KINDS:
        raise StudioError(f"unknown kind of model {name!r} (this version knows "
                          f"{' and '.join(KINDS)})")
    return KINDS[name]


def names() -> Tuple[str, ...]:
    return tuple(KINDS)


def curve_points(meta) -> List[Tuple[dict, float]]:
    """(history entry, validation score) for each validated point of a run."""
    kind = kind_of(meta.kind)
    return [(h, kind.curve(h)) for h in meta.history if kind.curve(h) is not None]
