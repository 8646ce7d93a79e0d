"""One way to start a training, for every face: the command line's ``<kind> train`` and the
app's Train and Resume all make a ``TrainingPlan`` and train through it.

From the kind, the run, the data source, the settings a person gave (and which of them they
gave), resume or not, a recipe and a budget, ``plan_training`` resolves the run, refuses
settings a resumed run cannot change (``SettingsChanged``, which names each one as a
``Setting`` so every face words it its own way), says which changeable ones it applies, fills
in the recipe, makes the kind's data reference and hands back the configs and, through
``events``, the trainer's events (the trainer locks the run while it trains).
"""
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Sequence, Tuple

from engine.config import label_of, settings_of
from engine.errors import Setting, StudioError
from engine.wording import flag_of


@dataclass(frozen=True)
class Change:
    """A setting a person gave that differs from the run's own."""
    setting: Setting
    given: object
    saved: object

    def command_line_words(self) -> str:
        """``--hidden 64 (the run has 32)``; an on/off flag by its flag alone."""
        shown = self.setting.flag if isinstance(self.given, bool) else \
            f"{self.setting.flag} {self.given}"
        return f"{shown} (the run has {self.saved!r})"

    def app_words(self) -> str:
        """``"Hidden size": yours 64, the run's 32``."""
        return f'"{self.setting.label}": yours {_shown(self.given)}, the run\'s {_shown(self.saved)}'


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


class SettingsChanged(StudioError):
    """A resumed run keeps the settings it began with; these would change them. ``str`` is the
    command line's message; ``changes`` lets a face name each setting with both values."""

    def __init__(self, run_dir, changes: Sequence[Change], changeable: Sequence[Setting]):
        self.run_dir, self.changes, self.changeable = run_dir, tuple(changes), tuple(changeable)
        allowed = ", ".join(s.flag for s in changeable)
        super().__init__(f"{run_dir}: a resumed run keeps the settings it began with, and "
                         f"{', '.join(c.command_line_words() for c in changes)} would change "
                         f"them: leave such flags out (on resume only {allowed} may change), or "
                         f"train a new run with another --out")


def _setting_of(f) -> Setting:
    return Setting(f.name, flag_of(f), label_of(f))


def compare_settings(kind, model, train, given, meta) -> Tuple[list, list]:
    """(the given settings a resumed run cannot change that differ from its own, the given
    changeable ones that differ: applied). Settings not given never count, nor one given as
    "auto" (the sentiment model's helper data: resolved, and saved, when the run began)."""
    kept, applied = [], []
    changeable = getattr(kind.train_config, "changeable_on_resume", ())
    for config, saved in ((model, meta.model_settings), (train, meta.train_settings)):
        for f in settings_of(type(config), offered=True):
            if f.name not in given or f.name not in saved:
                continue
            value = getattr(config, f.name)
            if value == "auto":       # "let the data decide": the run decided when it began
                continue
            if saved[f.name] != value:
                (applied if f.name in changeable else kept).append(
                    Change(_setting_of(f), value, saved[f.name]))
    return kept, applied


def changeable_settings(kind) -> list:
    """The settings of ``kind`` a resumed run may change, in the order its train config lists
    them (those it offers)."""
    offered = {f.name: f for f in settings_of(kind.train_config, offered=True)}
    return [_setting_of(offered[name]) for name in
            getattr(kind.train_config, "changeable_on_resume", ()) if name in offered]


def resumed_budget(meta, rest: bool, budget: dict) -> Tuple[dict, float]:
    """(the budget to resume with, the seconds of it already spent, for a progress bar):
    ``rest``: what is left of the run's own budget (when anything is); else ``budget`` (minutes,
    or epochs: so many more passes from where the run is)."""
    saved = meta.train_settings
    epoch = float(meta.state.get("epoch", 0.0))
    if rest and budget_left(meta) is not None:
        if saved.get("minutes"):
            return ({"minutes": (saved["minutes"] * 60 - meta.seconds) / 60, "epochs": None},
                    meta.seconds)
        return {"epochs": saved["epochs"], "minutes": None}, 0.0
    if budget.get("epochs"):
        return {"epochs": epoch + budget["epochs"], "minutes": None}, 0.0
    return {"minutes": budget["minutes"], "epochs": None}, 0.0


def budget_left(meta) -> Optional[Tuple[str, float]]:
    """What is left of a run's own budget: ("seconds", s) or ("epochs", n); None if used up."""
    saved = meta.train_settings
    if saved.get("minutes"):
        left = saved["minutes"] * 60 - meta.seconds
        return ("seconds", left) if left >= 1 else None
    epochs, epoch = saved.get("epochs"), float(meta.state.get("epoch", 0.0))
    return ("epochs", epochs - epoch) if epochs and epoch < epochs else None


@dataclass(frozen=True)
class DataSource:
    """The data a new run trains on: where it is (a face resolves a built-in name to a path),
    what it is called, and the kind's own options for it (an encoding, a column to leave out)."""
    path: str
    name: str
    options: dict = field(default_factory=dict)


@dataclass
class TrainingPlan:
    kind: object
    run_dir: object
    model: object
    train: object
    resume: bool
    data: object = None                 # the kind's data reference (None: the run's own)
    applied: Tuple[Change, ...] = ()    # changeable settings that differ from the run's
    recipe: object = None               # the recipe filled in, if one was asked for
    prior_seconds: float = 0.0          # of a resumed time budget, already trained

    def events(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[object]:
        """The trainer's events (it locks the run while it trains)."""
        return self.kind.get("trainer")(self.run_dir, self.data, self.model, self.train,
                                        resume=self.resume, should_stop=should_stop)


def plan_training(kind, out: str, model, train, *, resume: bool = False, given=(),
                  source: Optional[DataSource] = None, recipe: bool = False,
                  keep_run_settings: bool = False, allow_path: bool = True,
                  resume_budget: Optional[Tuple[bool, dict]] = None,
                  probe_progress: Optional[Callable[[int, int, str], None]] = None
                  ) -> TrainingPlan:
    """The plan for training ``kind`` in the run ``out`` with the configs ``model`` and
    ``train``; ``given``: the names of the settings the person gave (only those are compared
    with a resumed run's, and a recipe fills in the rest). ``keep_run_settings``: resume with
    the run's settings whatever was given (else a change is refused: ``SettingsChanged``).
    ``resume_budget``: (the rest of the run's own budget?, the budget set) to work out how long
    a resumed run trains (else ``train``'s budget)."""
    from engine.storage.runs import RunFolder, resolve_run
    if recipe and resume:
        raise StudioError("--recipe chooses a new run's settings; a resumed run keeps its own")
    run_dir = resolve_run(out, must_exist=resume, allow_path=allow_path)
    plan = TrainingPlan(kind, run_dir, model, train, resume)
    if resume:
        meta = RunFolder(run_dir).read_meta(kind=kind.name)
        if resume_budget is not None:
            changes, plan.prior_seconds = resumed_budget(meta, *resume_budget)
            plan.train = plan.train.replace(**changes)
            given = set(given) | set(changes)
        kept, applied = compare_settings(kind, model, plan.train, set(given), meta)
        if kept and not keep_run_settings:
            raise SettingsChanged(run_dir, kept, changeable_settings(kind))
        plan.applied = tuple(applied)
    if recipe:
        plan.recipe = _recipe(kind, plan, source, set(given), probe_progress)
    if source is not None:
        plan.data = kind.data_ref(source)
    return plan


def _recipe(kind, plan: TrainingPlan, source: Optional[DataSource], given: set,
            probe_progress=None):
    """The budget's measured settings (the kind's recipes), made fit for the data's size, in
    place of every setting not given. A kind whose recipes depend on this machine's speed has
    it measured first, once (``probe_progress(done, total, name)`` follows it)."""
    if plan.train.minutes is None:
        raise StudioError("--recipe needs --minutes: the recipe is the one measured for that "
                          "budget")
    probe = kind.recipe_probe()
    if probe is not None and probe.needed():
        probe.run(probe_progress)
    recipe = kind.recipe_for(plan.train.minutes,
                             os.path.getsize(source.path) if source else None)
    plan.model, plan.train = recipe.configs(plan.model, plan.train, keep=given)
    return recipe
