"""Pruning a run folder keeps only what resume (the current and the previous checkpoint) and the
best model need: a generation kept for an older save's best model keeps its best.params alone.
A real tiny run whose best is in an older generation (a learning rate high enough that the
validation loss rises again after an early best) still resumes bit for bit, still loads its best
model, and still falls back to the previous checkpoint when the current one is damaged."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.errors import StudioError
from engine.generator.load import load_generator
from engine.storage.runs import RunFolder

from .fault_report import record_outcomes
from .helpers import tiny_train, train

# fp32: the same figures on every CPU (auto would be bf16 here, fp32 on an AVX2-only CPU)
SETTINGS = dict(lr=0.2, val_interval=5, precision="fp32")
FIRST, FINAL = 3, 4                  # epochs: the first part of the run, and its end


def generation_of(meta, filename: str) -> int:
    return int(meta.paths[filename].split("/")[0].split("-")[1])


def contents(run: Path) -> dict:
    return {g.name: sorted(p.name for p in g.iterdir()) for g in sorted(run.glob("gen-*"))}


def params(run: Path, which: str) -> dict:
    model, _, meta = load_generator(str(run), which)
    return {k: v.data().asnumpy() for k, v in model._collect_params_with_prefix().items()}, meta


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The run trained to the end without a break; and the text it read."""
    from .conftest import repeating_text
    folder = tmp_path_factory.mktemp("pruning")
    text = folder / "text.txt"
    text.write_text(repeating_text(), encoding="utf-8")
    train(folder / "reference", text, train_config=tiny_train(epochs=FINAL, **SETTINGS))
    return folder / "reference", text


@pytest.fixture
def pruned(tmp_path, reference):
    """The same run stopped after its first part: its best is in an older generation."""
    _, text = reference
    run = tmp_path / "run"
    train(run, text, train_config=tiny_train(epochs=FIRST, **SETTINGS))
    meta = RunFolder(run).read_meta()
    assert generation_of(meta, "best.params") < meta.generation - 1, meta.paths   # the setup
    return run


def resume_to_the_end(run: Path, text: Path):
    train(run, None, train_config=tiny_train(epochs=FINAL, **SETTINGS), resume=True)


def test_a_kept_older_generation_keeps_only_the_best_model(pruned):
    meta = RunFolder(pruned).read_meta()
    best = f"gen-{generation_of(meta, 'best.params'):06d}"
    previous, current = f"gen-{meta.generation - 1:06d}", f"gen-{meta.generation:06d}"
    assert contents(pruned) == {
        best: ["best.params"],
        previous: ["last.params", "manifest.json", "trainer.states"],
        current: ["last.params", "manifest.json", "trainer.states"]}


def test_a_pruned_run_resumes_bit_for_bit_and_loads_its_best(pruned, reference):
    ref_run, text = reference
    best_before, meta = params(pruned, "best")
    assert meta.best["step"] < meta.step
    resume_to_the_end(pruned, text)
    assert same(params(pruned, "last")[0], params(ref_run, "last")[0])
    got_best, got_meta = params(pruned, "best")
    ref_meta = RunFolder(ref_run).read_meta()
    assert got_meta.best == ref_meta.best
    assert got_meta.files["best.params"] == ref_meta.files["best.params"]       # sha256
    assert same(got_best, params(ref_run, "best")[0])
    if got_meta.best["step"] == meta.best["step"]:      # the best of the first part still stands
        assert same(got_best, best_before)


def test_a_damaged_current_checkpoint_falls_back_and_resumes_exactly(pruned, reference, caplog):
    ref_run, text = reference
    run = RunFolder(pruned)
    meta = run.read_meta()
    current = run.file_path("last.params", meta)
    current.write_bytes(current.read_bytes()[:100])
    _, loaded = params(pruned, "last")
    assert loaded.generation == meta.generation - 1 and "previous checkpoint" in caplog.text
    resume_to_the_end(pruned, text)
    assert same(params(pruned, "last")[0], params(ref_run, "last")[0])
    assert same(params(pruned, "best")[0], params(ref_run, "best")[0])


def test_with_no_whole_checkpoint_left_the_error_names_the_current_file(pruned, reference):
    """The best's generation (no manifest: not a checkpoint) is not taken for one to fall back
    on; the best model itself still loads."""
    run = RunFolder(pruned)
    meta = run.read_meta()
    for gen in (meta.generation, meta.generation - 1):
        (pruned / f"gen-{gen:06d}" / "trainer.states").unlink()
    with pytest.raises(StudioError, match=f"gen-{meta.generation:06d}/trainer.states: missing"):
        resume_to_the_end(pruned, reference[1])
    params(pruned, "best")


def test_a_damaged_meta_json_falls_back_to_the_current_manifest(pruned):
    meta = RunFolder(pruned).read_meta()
    (pruned / "meta.json").write_text("{not json")
    got, loaded = params(pruned, "best")
    assert loaded.generation == meta.generation and loaded.best == meta.best
    shutil.rmtree(pruned / f"gen-{meta.generation:06d}")       # and then the previous one's
    assert RunFolder(pruned).read_meta().generation == meta.generation - 1
    assert same(params(pruned, "best")[0], got)


STEPS_PER_EPOCH = 34                 # the reference text at batch 8 x sequence 20


def epochs_to(step: int) -> float:
    return step / STEPS_PER_EPOCH - 1e-6


def test_a_crash_while_an_older_generation_is_pruned_loses_nothing(tmp_path, reference):
    """A run whose best is its previous checkpoint, resumed to its next save: that save prunes
    the best's generation down to best.params. The resume is SIGKILLed right after each of its
    file operations in turn (tests/crash_at.py); every time, the best model still loads, and
    resuming ends with exactly the parameters and the folder of a run never interrupted."""
    from .conftest import run_cli
    _, text = reference
    first = tmp_path / "first"
    train(first, text, train_config=tiny_train(epochs=epochs_to(45), **SETTINGS))
    meta = RunFolder(first).read_meta()
    assert meta.step == 45 and generation_of(meta, "best.params") == meta.generation - 1, meta.paths
    best_params = params(first, "best")[0]
    end = tmp_path / "end"
    shutil.copytree(first, end)
    train(end, None, train_config=tiny_train(epochs=epochs_to(50), **SETTINGS), resume=True)
    assert contents(end)[f"gen-{meta.generation - 1:06d}"] == ["best.params"]

    def attempt(n):
        runs = tmp_path / f"crash-{n}"
        run = runs / "run"
        shutil.copytree(first, run)
        result = run_cli("generator", "train", "--out", run, "--resume", "--epochs",
                         f"{epochs_to(50):.7f}", "--precision", "fp32", "--quiet", timeout=120,
                         crash={"n": n, "folder": runs, "count_file": tmp_path / f"count-{n}"})
        return result, run

    counted, _ = attempt(0)
    assert counted.returncode == 0, counted.stderr
    total = int((tmp_path / "count-0").read_text())
    assert total >= 10, total
    outcomes = {}
    for n in range(1, total + 1):
        crashed, run = attempt(n)
        assert crashed.returncode == -9, (n, crashed.stderr[-2000:])
        assert same(params(run, "best")[0], best_params), n
        if RunFolder(run).read_meta().step < 50:
            outcomes[n] = "before the switch: resumed exactly"
            train(run, None, train_config=tiny_train(epochs=epochs_to(50), **SETTINGS), resume=True)
            assert contents(run) == contents(end), n
        else:
            outcomes[n] = "after the switch" + ("" if contents(run) == contents(end) else
                                                ", mid-prune: best and resume whole")
        assert same(params(run, "last")[0], params(end, "last")[0]), n
    assert any("mid-prune" in o for o in outcomes.values()), outcomes   # the prune was hit
    record_outcomes("crash while an older generation is pruned to its best model", outcomes)
