"""The engine's one plan for a training (engine/training/plan.py), used by the CLI and the app:
a real run is trained through it, then resumed with changed settings."""
import pytest

from engine.events import Finished
from engine.kinds import GENERATOR
from engine.storage.runs import RunFolder
from engine.training.plan import DataSource, SettingsChanged, plan_training
from tests.helpers import TINY, tiny_train


def _train(plan):
    events = list(plan.events())
    assert isinstance(events[-1], Finished)
    return events[-1]


@pytest.fixture
def run(tmp_path, text_file):
    out = tmp_path / "run"
    plan = plan_training(GENERATOR, str(out), TINY, tiny_train(epochs=1),
                         source=DataSource(str(text_file), "test", {"encoding": "utf-8"}))
    assert plan.data.path == str(text_file) and plan.data.encoding == "utf-8"
    _train(plan)
    return out


def test_a_changed_setting_on_resume_is_refused_by_setting_with_both_values(run):
    model, train = TINY.replace(hidden_size=64), tiny_train(epochs=2, lr=0.05)
    with pytest.raises(SettingsChanged) as refused:
        plan_training(GENERATOR, str(run), model, train, resume=True,
                      given={"hidden_size", "lr", "epochs"})
    changes = {c.setting.name: c for c in refused.value.changes}
    assert set(changes) == {"hidden_size", "lr"}            # epochs may change: not refused
    assert (changes["hidden_size"].given, changes["hidden_size"].saved) == (64, 32)
    assert changes["hidden_size"].app_words() == '"Hidden size": yours 64, the run\'s 32'
    assert "--hidden 64 (the run has 32)" in str(refused.value)
    assert "on resume only --epochs, --minutes" in str(refused.value)
    # settings not given never count
    plan = plan_training(GENERATOR, str(run), model, train, resume=True, given={"epochs"})
    assert [c.setting.name for c in plan.applied] == ["epochs"]


def test_keeping_the_runs_settings_resumes_with_them_and_applies_the_budget(run):
    before = RunFolder(run).read_meta()
    plan = plan_training(GENERATOR, str(run), TINY.replace(hidden_size=64),
                         tiny_train(epochs=2, lr=0.05), resume=True,
                         given={"hidden_size", "lr", "epochs"}, keep_run_settings=True)
    assert [(c.setting.name, c.given, c.saved) for c in plan.applied] == [("epochs", 2, 1)]
    finished = _train(plan)
    meta = RunFolder(run).read_meta()
    assert finished.step > before.step                              # epochs 2: it trained on
    assert meta.model_settings["hidden_size"] == 32                 # the run's own
    assert meta.train_settings["lr"] == before.train_settings["lr"]


def test_a_resumed_budget_is_so_many_more_passes_or_the_rest_of_the_runs_own(run):
    more = plan_training(GENERATOR, str(run), TINY, tiny_train(epochs=3), resume=True,
                         resume_budget=(False, {"epochs": 3, "minutes": None}))
    assert more.train.epochs == pytest.approx(1 + 3, abs=0.05)      # from where it stopped
    assert [c.setting.name for c in more.applied] == ["epochs"]
    used_up = plan_training(GENERATOR, str(run), TINY, tiny_train(epochs=3), resume=True,
                            resume_budget=(True, {"epochs": 3, "minutes": None}))
    assert used_up.train.epochs == pytest.approx(4, abs=0.05)   # nothing left: the budget set


def test_a_recipe_is_for_a_new_run_with_minutes(run, text_file):
    from engine.errors import StudioError
    with pytest.raises(StudioError, match="resumed run keeps its own"):
        plan_training(GENERATOR, str(run), TINY, tiny_train(), resume=True, recipe=True)
    source = DataSource(str(text_file), "test")
    with pytest.raises(StudioError, match="needs --minutes"):
        plan_training(GENERATOR, str(run.parent / "new"), TINY, tiny_train(), source=source,
                      recipe=True)
    plan = plan_training(GENERATOR, str(run.parent / "new"), TINY,
                         tiny_train(minutes=0.02, epochs=None), source=source, recipe=True,
                         given={"embed_size"})
    assert plan.recipe is not None and plan.model.embed_size == TINY.embed_size   # given: kept
