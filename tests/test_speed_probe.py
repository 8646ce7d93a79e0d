"""The recipe speed probe (engine/generator/speed_probe.py): measured for real, cached under what
the speed depends on, measured again when that changes; the CLI and the app pick the recipes
from it (engine/generator/recipes.py)."""
import json
import os
import subprocess
import sys

import pytest

from engine.generator import recipes, speed_probe
from engine.generator.recipes import parameters, pick

from .conftest import ROOT
try:
    from .gui_helpers import _window  # noqa: F401
except pytest.skip.Exception:                # no PySide6: the GUI test alone is skipped
    pass

TINY = {"tiny16": ({"hidden_size": 16, "embed_size": 8, "num_layers": 1, "dropout": 0.0},
                   {"batch_size": 4, "seq_len": 10}),
        "tiny48": ({"hidden_size": 48, "embed_size": 8, "num_layers": 2, "dropout": 0.0},
                   {"batch_size": 4, "seq_len": 10})}


@pytest.fixture
def unprobed(studio_home):
    """A machine on which the probe never ran."""
    (studio_home / "cache" / speed_probe.CACHE_NAME).unlink()
    return studio_home


def test_the_probe_measures_caches_and_measures_again_when_the_threads_change(unprobed,
                                                                            monkeypatch):
    assert speed_probe.cached_speeds(TINY) is None
    seen = []
    speeds = speed_probe.run_probe(TINY, lambda *step: seen.append(step), seconds=0.3)
    assert set(speeds) == set(TINY) and all(v > 0 for v in speeds.values())
    assert seen == [(0, 2, "tiny16"), (1, 2, "tiny48"), (2, 2, "")]
    cached = json.loads((unprobed / "cache" / speed_probe.CACHE_NAME).read_text())
    assert cached["key"]["threads"] == speed_probe.threads()
    assert cached["key"]["precision"] == speed_probe.probe_path().precision
    assert speed_probe.cached_speeds(TINY) == speeds      # used as it is next time
    assert speed_probe.cached_speeds({**TINY, "other": ({}, {})}) is None   # a new candidate
    cache = unprobed / "cache" / speed_probe.CACHE_NAME
    timed_the_old_way = dict(cached, key={k: v for k, v in cached["key"].items() if k != "timing"})
    cache.write_text(json.dumps(timed_the_old_way))
    assert speed_probe.cached_speeds(TINY) is None        # synced steps' timing: measured again
    cache.write_text(json.dumps(cached))
    monkeypatch.setenv("OMP_NUM_THREADS", str(speed_probe.threads() + 1))
    assert speed_probe.cached_speeds(TINY) is None        # other threads: measured again


def test_a_stopped_probe_caches_nothing(unprobed):
    calls = []
    assert speed_probe.run_probe(TINY, should_stop=lambda: calls.append(1) or len(calls) > 1,
                                 seconds=0.2) is None
    assert not (unprobed / "cache" / speed_probe.CACHE_NAME).exists()


@pytest.mark.parametrize("minutes", ["-5", "0", "nan"])
def test_generator_recipe_refuses_a_budget_training_would_refuse(minutes, capsys):
    from engine.cli.main import main
    assert main(["generator", "recipe", "--minutes", minutes]) == 2
    err = capsys.readouterr().err
    assert "error: minutes must be" in err and "Traceback" not in err, err


def test_a_cpu_quota_is_read_from_the_cgroup(tmp_path):
    quota = tmp_path / "cpu.max"
    quota.write_text("50000 100000\n")
    assert speed_probe.cpu_quota(str(quota)) == 0.5
    quota.write_text("max 100000\n")
    assert speed_probe.cpu_quota(str(quota)) is None
    assert speed_probe.cpu_quota(str(tmp_path / "none")) is None


def _recipe_cli(home, threads, *flags):
    env = dict(os.environ, RNN_STUDIO_HOME=str(home), OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-m", "engine", "generator", "recipe", "--json",
                           *flags], env=env, capture_output=True, text=True, cwd=str(ROOT),
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_a_real_one_thread_machine_is_measured_and_gets_the_recipe_its_speed_buys(unprobed):
    """A real probe of every shipped candidate with one thread (a slow machine), then with two:
    each is cached under its own thread count, and each budget's recipe is the pick for the
    speeds measured; the one-thread machine trains no faster and its models are no larger."""
    one = _recipe_cli(unprobed, 1)
    assert one["machine"]["threads"] == 1 and set(one["speeds"]) == set(recipes.curves())
    for got in one["recipes"]:
        expected = pick(got["minutes"], one["speeds"])
        assert (got["model"], got["steps"], got["line"]) == (expected.model, expected.steps,
                                                              expected.describe())
        assert "measured here" in got["line"]
    again = _recipe_cli(unprobed, 1)
    assert again["measured"] == one["measured"] and again["speeds"] == one["speeds"]   # cached
    two = _recipe_cli(unprobed, 2)
    assert two["machine"]["threads"] == 2 and two["measured"] >= one["measured"]
    if (os.cpu_count() or 1) >= 2 and sum(two["speeds"].values()) > sum(one["speeds"].values()):
        for slow, fast in zip(one["recipes"], two["recipes"]):
            assert parameters(slow["model"]) <= parameters(fast["model"]), slow["minutes"]


def test_train_with_recipe_measures_this_machine_first_and_says_so(unprobed, tmp_path,
                                                                  monkeypatch, capsys):
    """``generator train --recipe`` on a machine never measured: the probe runs first, with a
    line per candidate, and the recipe line then says its speed was measured here."""
    from engine.cli.main import main
    from tests.conftest import repeating_text
    monkeypatch.setattr(recipes, "_curves_file", lambda: _tiny_curves())
    text = tmp_path / "text.txt"
    text.write_text(repeating_text(20_000), encoding="utf-8")
    assert main(["generator", "train", "--corpus", str(text), "--out", str(tmp_path / "run"),
                 "--minutes", "0.02", "--recipe", "--batch", "4", "--seq-len", "10"]) == 0
    err = capsys.readouterr().err
    assert "measuring this machine's training speed for the recipes (1/2: tiny16)" in err
    assert "chars/s measured here" in err
    assert speed_probe.cached_speeds(TINY) is not None


def _tiny_curves():
    return {"measured_on": "a test's made-up curves",
            "candidates": {name: {"model": model, "train": train, "reference_speed": 1000,
                                  "curve": [[10, 3.0], [100, 2.5 if name == "tiny16" else 2.4]]}
                           for name, (model, train) in TINY.items()}}


@pytest.fixture
def tiny_curves(monkeypatch):
    monkeypatch.setattr(recipes, "_curves_file", _tiny_curves)


@pytest.mark.gui
def test_the_app_measures_this_machine_on_its_engine_thread_and_picks_the_presets_again(
        unprobed, tiny_curves, qtbot, window):
    """A first start on a machine never measured: the Generate tab's presets stand on the
    curves' machine's speeds until the probe, run as an engine-thread job (the window opened
    and waited for it), has measured this one; then they are picked again."""
    settings = window.generate.settings
    assert speed_probe.cached_speeds(TINY) is not None
    assert settings.preset.currentText() == "Good"
    assert "measured here" in settings.expectation.text()
    assert settings.expectation.text() == settings.recipes["Good"].describe()
    settings.measuring(1, 2)
    assert "Measuring this computer's training speed" in settings.expectation.text()


def test_the_probe_times_steps_as_the_loop_runs_them_over_their_whole_time():
    """The probe's timing (bench._in_flight_rate): at least PROBE_MIN_STEPS steps however short
    the time asked, each queued before the last one's loss is waited for, and the rate is all
    their characters over all their time (not a median of synced steps, which on a 2-core EPYC
    read one model at 7,700 to 12,000 chars/s where the engine trained it at 7,000-8,000)."""
    import time
    from engine.generator import bench
    queued, waited = [], []

    class Loss:
        def __init__(self, i):
            self.i = i

        def wait_to_read(self):
            waited.append((self.i, len(queued)))

    def step():
        time.sleep(0.02)
        queued.append(len(queued))
        return Loss(len(queued) - 1)

    rate = bench._in_flight_rate(step, 1000, 0.0)
    steps = bench.PROBE_MIN_STEPS
    assert len(queued) == steps
    # step i's loss is waited for once step i + 1 is queued; the last one after the loop
    assert waited == [(i, i + 2) for i in range(steps - 1)] + [(steps - 1, steps)]
    assert 0.2 * 1000 / 0.02 < rate <= 1000 / 0.02
