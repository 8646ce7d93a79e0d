"""Checkpoints survive real crashes: a training process is SIGKILLed right after each of its file
operations in turn (tests/crash_at.py), and after every crash the run still samples, and resuming
it ends with exactly the parameters of a run that was never interrupted."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.config import TrainConfig
from engine.errors import StudioError
from engine.generator.load import load_generator
from engine.generator.sampling.sample import Sampler
from engine.generator.train import train_generator
from engine.storage.runs import RunFolder, resolve_run

from .conftest import ROOT, run_cli
from .fault_report import record_outcomes, work_cases
from .helpers import STEPS_PER_EPOCH, epochs

ARGS = ["--hidden", "16", "--embed", "8", "--layers", "1", "--seq-len", "10", "--batch", "4",
        "--val-interval", "5", "--sample-length", "5", "--quiet"]
FIRST, FINAL = 10, 15                # steps: the first part of a run, and its end


def crash_at(n: int, runs: Path, count_file: Path, *cli_args):
    """The CLI in a process of its own, SIGKILLed after its ``n``-th file operation in ``runs``
    (tests/crash_at.py)."""
    return run_cli(*cli_args, timeout=120,
                   crash={"n": n, "folder": runs, "count_file": count_file})


def final_params(run) -> dict:
    model, _, _ = load_generator(str(run), "last")
    return {k: v.data().asnumpy() for k, v in model._collect_params_with_prefix().items()}


def resume_to_the_end(run):
    events = list(train_generator(run, None, None, TrainConfig(epochs=float(epochs(FINAL))),
                                  resume=True))
    assert events[-1].step == FINAL


def assert_usable_and_exact(run, reference: dict, text: Path):
    """The crashed run loads, samples and resumes to the reference parameters, bit for bit;
    or (a crash inside its very first checkpoint) is no run yet, and training it anew works."""
    if not RunFolder(run).exists():
        with pytest.raises(StudioError, match="not a run folder"):
            resolve_run(str(run))
        result = run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs",
                         epochs(FINAL), *ARGS)
        assert result.returncode == 0, result.stderr
        wrote = True
    else:
        for which in ("best", "last"):
            model, vocab, _ = load_generator(str(run), which)
            assert len(Sampler(model, vocab).sample_text(length=10, seed=1)) == 10
        step = RunFolder(run).read_meta().step
        assert step in (5, FIRST, FINAL)
        wrote = step < FINAL
        if wrote:
            resume_to_the_end(run)
    got = final_params(run)
    assert got.keys() == reference.keys()
    for k in got:
        assert np.array_equal(got[k], reference[k]), k
    # once a writer ran after the crash, the crash's half-written files are gone: the current
    # and the previous generation stay (and the best's, if older)
    generations = sorted(p.name for p in Path(run).iterdir() if p.name.startswith("gen-"))
    assert len(generations) <= 3, generations
    if wrote:
        assert not list(Path(run).glob(".tmp*"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, text):
    runs = tmp_path_factory.mktemp("reference")
    run = runs / "ref"
    result = run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs",
                     epochs(FINAL), *ARGS, "--quiet")
    assert result.returncode == 0, result.stderr
    assert f"steps_per_epoch {STEPS_PER_EPOCH}" in result.stdout + result.stderr
    return final_params(run)


SHARES = 3           # the crash points are tried in three shares, which xdist runs side by side


@pytest.mark.parametrize("share", range(SHARES))
@pytest.mark.parametrize("phase", ["first checkpoints of a new run", "checkpoint of a resumed run"])
def test_a_crash_after_any_file_operation_loses_nothing(tmp_path, text, reference, first_run,
                                                       phase, share):
    """Every crash point of the phase is tried by one of its shares: points share+1,
    share+1+SHARES, ... (each share counts the operations first)."""
    base = tmp_path / "base"
    if phase.startswith("first"):
        cli = ["generator", "train", "--corpus", text, "--out", None, "--epochs", epochs(FIRST), *ARGS]
    else:
        shutil.copytree(first_run, base)
        cli = ["generator", "train", "--out", None, "--resume", "--epochs", epochs(FINAL), *ARGS]

    def attempt(n):
        runs = tmp_path / f"crash-{n}"
        runs.mkdir()
        run = runs / "run"
        if base.exists():
            shutil.copytree(base, run)
        args = [run if a is None else a for a in cli]
        return crash_at(n, runs, tmp_path / f"count-{n}", *args), run

    counted, _ = attempt(0)
    assert counted.returncode == 0, counted.stderr
    total = int((tmp_path / "count-0").read_text())
    assert total >= 14, total            # a checkpoint is many operations: all are tried
    with work_cases(f"crash after each file operation ({phase})") as cases:
        for n in range(1 + share, total + 1, SHARES):
            crashed, run = attempt(n)
            assert crashed.returncode == -9, (n, crashed.returncode, crashed.stderr[-2000:])
            with cases.check(n):
                cases.outcomes[n] = "no run yet" if not RunFolder(run).exists() else \
                    f"step {RunFolder(run).read_meta().step}"
                assert_usable_and_exact(run, reference, text)


# ---- a second writer (a real full disk and a read-only folder: test_real_faults.py) -----------
@pytest.fixture(scope="module")
def first_run(tmp_path_factory, text):
    """A run trained through the CLI to step FIRST, once for this module."""
    run = tmp_path_factory.mktemp("first") / "run"
    result = run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs",
                     epochs(FIRST), *ARGS)
    assert result.returncode == 0, result.stderr
    return run


@pytest.fixture
def tiny_run(tmp_path, first_run):
    """A copy of ``first_run`` of this test's own (training is deterministic: the same as
    training it anew)."""
    run = tmp_path / "run"
    shutil.copytree(first_run, run)
    return run


def run_listing(run: Path) -> dict:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def test_one_writer_per_run_and_a_crashed_writer_does_not_block(tiny_run):
    run = tiny_run
    first = train_generator(run, None, None, TrainConfig(epochs=float(epochs(FINAL))), resume=True)
    next(first)                                # training: the run is locked
    with pytest.raises(StudioError, match=f"being trained by process {os.getpid()}"):
        resume_to_the_end(run)
    result = run_cli("generator", "train", "--out", run, "--resume", "--epochs", epochs(FINAL))
    assert result.returncode == 2 and "being trained by process" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    first.close()                              # stopping releases it
    # a writer killed while it holds the lock leaves nothing stuck
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal, sys; sys.path.insert(0, sys.argv[1])\n"
        "from engine.storage.runs import RunFolder\n"
        "with RunFolder(sys.argv[2]).writing():\n"
        "    os.kill(os.getpid(), signal.SIGKILL)"), str(ROOT), str(run)], timeout=120)
    assert killed.returncode == -9
    resume_to_the_end(run)


def test_an_unexpected_error_is_one_line_and_a_report(tmp_path, text, monkeypatch, capsys,
                                                      studio_home):
    import engine.generator.train as trainer
    from engine.cli.main import main

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(trainer, "validation_sums", broken)
    code = main(["generator", "train", "--corpus", str(text), "--out", str(tmp_path / "r"),
                 "--epochs", epochs(FIRST), *ARGS])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    err = err.splitlines()[-1]                 # after the run's opening line: one line
    assert "unexpected failure in generator train" in err and "ZeroDivisionError: a bug" in err
    report = Path(err.split("the full report is in ")[1])
    assert report.parent == studio_home / "logs"
    assert "Traceback" in report.read_text() and "--hidden 16" in report.read_text()


# ---- kill -9 at random moments -----------------------------------------------------------------
KILL_STEPS = 60


@pytest.fixture(scope="module")
def kill_reference(tmp_path_factory, text):
    run = tmp_path_factory.mktemp("kill-reference") / "ref"
    result = run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs",
                     epochs(KILL_STEPS), *ARGS)
    assert result.returncode == 0, result.stderr
    return final_params(run)


def _saved_step(folder: RunFolder) -> int:
    """The step of the run's last checkpoint, 0 while there is none (or the record is being read
    between its writes, which a writer's rename makes rare but not impossible)."""
    try:
        return folder.read_meta().step if folder.exists() else 0
    except StudioError:
        return 0


def kill_at_random_moments(tmp_path, text, reference, cases, kills: int, seed: int):
    """Start a training process that saves after every step, SIGKILL it at a random moment of its
    training (after a random step between its first checkpoint and ten steps before its end, plus
    a random fraction of a step), then check that the run samples and that resuming it ends
    exactly where an uninterrupted run ends. Records each kill in ``cases``."""
    import random
    import time
    rng = random.Random(seed)
    outcomes = cases.outcomes
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for k in range(kills):
        run = tmp_path / f"kill-{k}"
        args = ["generator", "train", "--corpus", text, "--out", run, "--epochs",
                epochs(KILL_STEPS), *ARGS, "--val-interval", "1"]
        proc = subprocess.Popen([sys.executable, "-m", "engine", *map(str, args)], env=env,
                                cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # the random moment counts from the first checkpoint, not from the start: how long the
        # interpreter takes to import MXNet differs between machines by seconds (2 s here, more
        # on CI), and a kill during the first checkpoint's own writes is tests/crash_at.py's job;
        # the moment is picked by step, not by seconds, so that it lands inside the training on a
        # fast machine and a slow one alike
        target = rng.randint(1, KILL_STEPS - 10)
        deadline = time.monotonic() + 120
        while _saved_step(RunFolder(run)) < target and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.05))
        proc.kill()
        proc.wait(timeout=60)
        proc.stderr.close()
        folder = RunFolder(run)
        if not folder.exists():
            outcomes[k] = "killed before the first checkpoint: no run, nothing to lose"
            continue
        with cases.check(k):
            step = folder.read_meta().step
            outcomes[k] = "finished before the kill" if step == KILL_STEPS else \
                "killed while training: samples, resumes exactly"
            model, vocab, _ = load_generator(str(run), "best")
            assert len(Sampler(model, vocab).sample_text(length=10, seed=1)) == 10
            if step < KILL_STEPS:
                events = list(train_generator(run, None, None, TrainConfig(
                    epochs=float(epochs(KILL_STEPS))), resume=True))
                assert events[-1].step == KILL_STEPS
            got = final_params(run)
            assert all(np.array_equal(got[key], reference[key]) for key in reference)


@pytest.mark.parametrize("kills, seed", [pytest.param(3, 1, id="3"),
                                         pytest.param(15, 2, id="15", marks=pytest.mark.slow)])
def test_kill_minus_nine_at_random_moments(tmp_path, text, kill_reference, kills, seed):
    """Every kill lands inside the training (after its first checkpoint, before its end) and
    loses nothing."""
    name = "kill -9 of a training process at a random moment" + (
        "" if kills == 3 else f" (slow, {kills})")
    with work_cases(name) as cases:
        kill_at_random_moments(tmp_path, text, kill_reference, cases, kills=kills, seed=seed)
    mid_training = [o for o in cases.outcomes.values() if o.startswith("killed while training")]
    assert len(mid_training) == kills, cases.outcomes


# ---- damaged run folders -----------------------------------------------------------------------
def _flip(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x10
    path.write_bytes(bytes(raw))


def _every(run, name):
    return list(run.glob(f"gen-*/{name}"))


DAMAGE = {
    "truncated params": (lambda run: [p.write_bytes(p.read_bytes()[:100])
                                      for p in _every(run, "best.params")], "best.params: corrupted"),
    "bit-flipped params": (lambda run: [_flip(p) for p in _every(run, "best.params")],
                           "best.params: corrupted"),
    "missing params": (lambda run: [p.unlink() for p in _every(run, "best.params")],
                       "best.params: missing"),
    "missing optimizer state": (lambda run: [p.unlink() for p in _every(run, "trainer.states")],
                                "trainer.states: missing"),
    "meta.json not JSON": (lambda run: [(run / "meta.json").write_text("{not json")] +
                           [p.unlink() for p in _every(run, "manifest.json")],
                           "meta.json: corrupted"),
    "meta.json from a newer format": (
        lambda run: [(run / "meta.json").write_text(json.dumps(dict(json.loads(
            (run / "meta.json").read_text()), format="rnn-studio/9")))] +
        [p.unlink() for p in _every(run, "manifest.json")], "saved by a newer RNN Studio"),
    "shapes that do not fit the params": (
        lambda run: [p.write_text(p.read_text().replace('"hidden_size": 16', '"hidden_size": 24'))
                     for p in [run / "meta.json", *_every(run, "manifest.json")]],
        "does not fit this model"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_run_gets_a_specific_error_naming_the_file(tiny_run, damage):
    run = tiny_run
    spoil, message = DAMAGE[damage]
    spoil(run)
    which = "last" if "optimizer" in damage else "best"
    with pytest.raises(StudioError, match=message):
        if which == "last":
            resume_to_the_end(run)
        else:
            load_generator(str(run), which)
    proc = run_cli("generator", "sample", run, "--length", "5") if which == "best" else \
        run_cli("generator", "train", "--out", run, "--resume", "--epochs", epochs(FINAL))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message.split(":")[0] in proc.stderr.splitlines()[-1]
    record_outcomes(f"damaged run folder: {damage}", {0: "clear error"})


def test_a_run_saved_in_the_first_format_still_loads_and_resumes(tiny_run, text, reference):
    """Format rnn-studio/1 kept its files beside meta.json, which named their checksums."""
    run = tiny_run
    meta = json.loads((run / "meta.json").read_text())
    for name, relative in meta.pop("paths").items():
        if name != "split.json":
            shutil.move(str(run / relative), str(run / name))
    for folder in run.glob("gen-*"):
        shutil.rmtree(folder)
    meta.pop("generation")
    meta["format"] = "rnn-studio/1"
    (run / "meta.json").write_text(json.dumps(meta))
    model, vocab, _ = load_generator(str(run), "best")
    assert len(Sampler(model, vocab).sample_text(length=10, seed=1)) == 10
    resume_to_the_end(run)
    got = final_params(run)
    assert all(np.array_equal(got[k], reference[k]) for k in reference)
    after = RunFolder(run).read_meta()
    assert after.format == "rnn-studio/2" and all(
        p.startswith("gen-") for p in after.paths.values())
    record_outcomes("a run saved in the first format (rnn-studio/1)",
                    {0: "loads, samples, resumes exactly"})


# ---- runs saved by other versions (ARCHITECTURE.md, "Runs saved by other versions") -----------
def _edit_settings(run, edit):
    """Apply ``edit(config)`` to the settings in meta.json and in every generation's manifest."""
    for path in [run / "meta.json", *_every(run, "manifest.json")]:
        record = json.loads(path.read_text())
        if "config" in record:
            edit(record["config"])
            path.write_text(json.dumps(record))


def test_a_run_from_an_older_version_without_newer_settings_loads_and_resumes(tiny_run, text,
                                                                              reference):
    """An older version saved no ``mode`` or ``anneal`` (settings added later at defaults that
    reproduce it): they read as their defaults, and the run samples and resumes exactly."""
    run = tiny_run
    _edit_settings(run, lambda c: (c["model"].pop("mode"), c["train"].pop("anneal")))
    model, vocab, _ = load_generator(str(run), "best")
    assert len(Sampler(model, vocab).sample_text(length=10, seed=1)) == 10
    resume_to_the_end(run)
    got = final_params(run)
    assert all(np.array_equal(got[k], reference[k]) for k in reference)


def test_a_run_from_a_newer_version_with_an_unknown_setting_is_refused_by_name(tiny_run):
    """What an older version meets in a newer run: an unknown model setting refuses loading it
    and an unknown training setting refuses resuming it, each naming the setting and saying a
    newer version saved it (one line, exit 2), and the run is left as it was."""
    run = tiny_run
    _edit_settings(run, lambda c: c["train"].update(ema_decay=0.999))
    before = run_listing(run)
    assert run_cli("generator", "sample", run, "--length", "5").returncode == 0
    proc = run_cli("generator", "train", "--out", run, "--resume", "--epochs", epochs(FINAL))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "newer RNN Studio" in proc.stderr and "ema_decay" in proc.stderr.splitlines()[-1]
    _edit_settings(run, lambda c: c["model"].update(attention_heads=4))
    with pytest.raises(StudioError, match="newer RNN Studio.*attention_heads"):
        load_generator(str(run), "best")
    proc = run_cli("generator", "sample", run, "--length", "5")
    assert proc.returncode == 2 and "attention_heads" in proc.stderr.splitlines()[-1]
    assert {k for k in run_listing(run)} == set(before)
