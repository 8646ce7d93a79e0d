"""Issue 29, "Seen under real faults": each fault produced as a person or the machine would
(a run folder really moved while a real trainer runs, real edited JSON records, a real
address-space limit, a real SIGSTOP, a real symlink)."""
import json
import os
import re
import sys
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.generator.train import CorpusRef, train_generator
from engine.storage.runs import RunFolder

from .conftest import run_cli
from .fault_report import record_outcomes, work_cases
from .helpers import TINY, tiny_train
from .real_faults import start_cli, wait_for
from .test_onednn_layer import needs_library
from .test_real_faults import GEN, listing, one_line_error


# ---- 1. a run folder moved by hand while it trains ---------------------------------------------
def test_a_run_folder_moved_while_training_stops_its_trainer(tmp_path, text):
    """``mv runs/tw runs/tw-moved`` under a running trainer, then a second trainer of ``tw``:
    the first stops at its next save, saying so, and never writes into (or remakes) the new
    ``tw``; the second trains its own run there alone."""
    runs = tmp_path / "runs"
    runs.mkdir()
    first = start_cli("generator", "train", "--corpus", text, "--out", runs / "tw", "--epochs",
                      "100", *GEN, "--val-interval", "20")
    try:
        wait_for(lambda: (runs / "tw" / "meta.json").is_file() or first.poll() is not None,
                 what="the first checkpoint")
        (runs / "tw").rename(runs / "tw-moved")
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    one_line_error(subprocess.CompletedProcess(first.args, first.returncode, out, err),
                   "no longer the run folder this process locked", f"it is now {runs / 'tw-moved'}")
    assert not (runs / "tw").exists(), "the moved trainer remade the folder of the old name"
    moved = RunFolder(runs / "tw-moved").read_meta()
    assert moved.step > 0
    second = run_cli("generator", "train", "--corpus", text, "--out", runs / "tw", "--epochs",
                     "1", *GEN, "--val-interval", "20")
    assert second.returncode == 0, second.stderr[-2000:]
    assert RunFolder(runs / "tw").read_meta().history[0]["step"] <= 20     # a run of its own
    assert RunFolder(runs / "tw-moved").read_meta().step == moved.step


# ---- 2. 3. 5. records of valid JSON with wrong values ------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory, text):
    """A tiny generator run, trained once for this module (copied before each edit)."""
    folder = tmp_path_factory.mktemp("trained") / "gen"
    list(train_generator(folder, CorpusRef(str(text), "t"), TINY, tiny_train(epochs=0.3)))
    return folder


def edited_run(trained, home: Path, name: str, edit) -> Path:
    """A copy of ``trained`` in the runs folder whose meta.json and every manifest were edited
    by ``edit(record)`` as a person with a text editor would (so no fallback hides it)."""
    run = home / "runs" / name
    shutil.copytree(trained, run)
    for record in [run / "meta.json", *run.glob("gen-*/manifest.json")]:
        data = json.loads(record.read_text())
        edit(data)
        record.write_text(json.dumps(data, indent=2))
    return run


def _set(path: str, value):
    """``path``: keys joined by "." (a last key may hold dots itself: "paths.last.params")."""
    def edit(data):
        *parents, last = path.split(".", 1 if path.startswith("paths.") else -1)
        for key in parents:
            data = data[key]
        data[last] = value
    return edit


def _vocab_cut_to(n):
    def edit(data):
        vocab = json.loads(data["vocab"])
        vocab["idx_to_token"] = vocab["idx_to_token"][:n]
        vocab["token_to_idx"] = {t: i for i, t in enumerate(vocab["idx_to_token"])}
        data["vocab"] = json.dumps(vocab)
    return edit


EDITS = {
    "hidden abc": (_set("config.model.hidden_size", "abc"), "config.model", "whole number"),
    "hidden 64.5": (_set("config.model.hidden_size", 64.5), "config.model", "whole number"),
    "vocab size 0": (_set("config.model.vocab_size", 0), "vocab_size", "at least 1"),
    "empty vocab": (_set("vocab", ""), "vocab is not a vocabulary", ""),
    "non-JSON vocab": (_set("vocab", "{oops"), "vocab is not a vocabulary", ""),
    "vocab cut to 10": (_vocab_cut_to(10), "vocab holds 10 tokens", "vocab_size"),
    "step abc": (_set("state.step", "abc"), "state.step", "whole number"),
    "generation x": (_set("generation", "x"), "generation", "whole number"),
    "batch -5": (_set("config.train.batch_size", -5), "config.train", "at least 1"),
    "params ../": (_set("paths.last.params", "../other/gen-000001/last.params"),
                   "paths.last.params", "outside the run folder"),
    "params /etc/passwd": (_set("paths.best.params", "/etc/passwd"), "paths.best.params",
                           "absolute path"),
}


@pytest.mark.parametrize("fault", list(EDITS))
def test_a_hand_edited_record_is_refused_naming_the_file_and_field(trained, studio_home,
                                                                    tmp_path, text, fault):
    """Resume, sample and evaluate each refuse the edited record in one line (exit 2) that
    names meta.json and the field; nothing trains or samples from it."""
    edit, *words = EDITS[fault]
    run = edited_run(trained, studio_home, "edited", edit)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"}
    for command in (["generator", "train", "--corpus", text, "--out", "edited", "--resume",
                     "--epochs", "1", "--quiet"],
                    ["generator", "sample", "edited", "--length", "5"],
                    ["generator", "evaluate", "edited", "--text", text]):
        done = run_cli(*command)
        last = one_line_error(done, "meta.json", *[w for w in words if w])
        assert str(run) in last or "edited" in last, last
    assert {p: p.read_bytes() for p in before} == before          # nothing written over it


def test_one_damaged_run_is_listed_as_damaged_beside_the_others(trained, studio_home):
    """``runs list`` (and its --json, which the app's run list reads too) shows every run."""
    edited_run(trained, studio_home, "bad", _set("state.step", "abc"))
    edited_run(trained, studio_home, "good", lambda data: None)
    done = run_cli("runs", "list", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    listed = {r["name"]: r for r in json.loads(done.stdout)}
    assert listed["good"]["kind"] == "generator" and listed["good"]["steps"] > 0
    assert listed["bad"]["kind"] == "damaged" and "state.step" in listed["bad"]["error"]
    plain = run_cli("runs", "list")
    assert plain.returncode == 0 and "bad" in plain.stdout and "good" in plain.stdout


# ---- 4. a float setting that is not a number ---------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_temperature_that_is_not_finite_is_refused(trained, studio_home, value):
    edited_run(trained, studio_home, "gen", lambda data: None)
    done = run_cli("generator", "sample", "gen", "--length", "20", f"--temperature={value}")
    one_line_error(done, "finite")
    assert done.stdout.strip() == ""


# ---- 6. out of memory --------------------------------------------------------------------------
# Under a real address-space limit an allocation can fail anywhere (MXNet's pool, oneDNN, a thread
# MXNet starts, and inside MXNet's worker threads, which aborts the process), and which one fails
# first moves with the machine: a model near the limit makes a test that passes on one machine
# and fails on the next. So each test below is far from the edge: a model whose weights alone
# (16 bytes each) are more than the limit leaves, refused before it is built (engine/memory.py,
# require_room), or one allocation of oneDNN's that is larger than the whole limit.
OOM_LIMIT = "--as=1500000000"       # 1.5 GB: MXNet, oneDNN and their threads take about 1.0-1.2
BIG = ["--hidden", "2048", "--layers", "2", "--embed", "8", "--seq-len", "10", "--batch", "4",
       "--quiet"]                   # 50 M weights: at least 0.75 GB to train
needs_prlimit = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit (util-linux)")


def limited(*args, home: Path, limit: str = OOM_LIMIT, **env_changes) -> subprocess.CompletedProcess:
    """Python with this checkout's engine under a real address-space limit (prlimit)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]), RNN_STUDIO_HOME=str(home),
               **env_changes)
    return subprocess.run(["prlimit", limit, sys.executable, *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=180)


def limited_cli(home: Path, *args) -> subprocess.CompletedProcess:
    return limited("-m", "engine", *args, home=home)


def out_of_memory_line(done: subprocess.CompletedProcess, home: Path) -> str:
    """Exit 2, one line naming memory and what to shrink, no traceback on stderr or stdout (MXNet
    prints a failed custom op's traceback to stdout, and its kept errors at exit), no bug report."""
    line = one_line_error(done, "out of memory", "--hidden", "--layers", "--batch", "--seq-len")
    assert "Traceback" not in done.stdout and "Error in CustomOp" not in done.stdout, done.stdout
    assert not (home / "logs").exists(), "a crash report was filed for the machine's memory"
    return line


REFUSED = "process's address-space limit (ulimit -v) leaves"


@needs_prlimit
def test_a_model_the_address_space_limit_cannot_hold_is_refused_before_it_is_built(tmp_path, text):
    """A 2x2048 model under ``prlimit --as=1.5 GB``: exit 2 naming memory, the weights' floor
    and what the limit leaves, what to shrink; no checkpoint was begun."""
    home = tmp_path / "home"
    done = limited_cli(home, "generator", "train", "--corpus", text, "--out", "oom", *BIG,
                       "--epochs", "0.05")
    line = out_of_memory_line(done, home)
    assert re.search(r"training 50,\d{3},\d{3} weights needs at least 0\.7\d GB", line), line
    assert REFUSED in line, line
    assert not list((home / "runs").glob("oom/gen-*")), "a checkpoint was begun"
    record_outcomes("field fault 29.6: out of memory under a real address-space limit (prlimit --as)",
                    {"a new run": "refused before it is built, what to shrink"})


@needs_prlimit
def test_a_resumed_run_the_limit_cannot_hold_is_refused_and_keeps_its_checkpoint(tmp_path, text):
    """A 2x2048 run trained (a checkpoint on disk), resumed under ``prlimit --as=1.5 GB``: exit 2
    naming memory and what to shrink, quiet, and the checkpoint byte for byte as it was."""
    home = tmp_path / "home"
    first = subprocess.run([sys.executable, "-m", "engine", "generator", "train", "--corpus",
                            str(text), "--out", "oom", *BIG, "--epochs", "0.01"],
                           env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]),
                                    RNN_STUDIO_HOME=str(home)),
                           capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr[-2000:]
    run = home / "runs" / "oom"
    before = listing(run)
    with work_cases("field fault 29.6: out of memory under a real address-space limit (prlimit --as)") \
            as cases:
        done = limited_cli(home, "generator", "train", "--out", "oom", "--resume", "--epochs",
                           "0.05", "--quiet")
        assert REFUSED in out_of_memory_line(done, home)
        cases.outcomes["a resumed run"] = "exit 2, what to shrink, checkpoint kept"
        with cases.check("a resumed run"):
            assert listing(run) == before
            assert RunFolder(run).read_meta().step == 2


ENGINE_THREAD_UNDER_LIMIT = """
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QTimer
from desktop.workers import EngineThread
from engine.config import GeneratorConfig, TrainConfig
from engine.generator.train import CorpusRef, train_generator

app = QCoreApplication([])
engine = EngineThread()
text, folder = sys.argv[1], Path(sys.argv[2])
model = GeneratorConfig(mode="lstm", embed_size=8, hidden_size=2048, num_layers=2, dropout=0.0)
train = TrainConfig(seq_len=10, batch_size=4, epochs=0.05, val_fraction=0.1)


def after(message):
    print("ERROR:", message, flush=True)
    import mxnet as mx        # the next job's wait is clean: nothing kept from the failure
    engine.submit("next", lambda stopped: float(mx.nd.ones((2,)).sum().asscalar()),
                  streams=False, on_done=lambda v: (print("NEXT:", v, flush=True), app.quit()),
                  on_error=lambda m: (print("NEXT ERROR:", m, flush=True), app.quit()))


engine.submit("generator-train",
              lambda stopped: train_generator(folder, CorpusRef(text, "t"), model, train,
                                              should_stop=stopped),
              on_error=after, on_done=lambda v: (print("DONE", flush=True), app.quit()))
QTimer.singleShot(120_000, app.quit)
app.exec()
print("SHUTDOWN:", engine.shutdown(), flush=True)
"""


@needs_prlimit
def test_out_of_memory_on_the_apps_engine_thread_names_the_controls_to_shrink(tmp_path, text):
    """The app's engine thread (desktop/workers.py) starting a 2x2048 model under
    ``prlimit --as=1.5 GB``: its message names memory and the controls to shrink by their labels
    (no bug report), and the next job on that thread runs clean."""
    probe = tmp_path / "probe.py"
    probe.write_text(ENGINE_THREAD_UNDER_LIMIT, encoding="utf-8")
    done = limited(probe, text, tmp_path / "home" / "runs" / "g", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ERROR: Out of memory ("), lines
    assert REFUSED in lines[0], lines
    assert '"Hidden size"' in lines[0] and '"Batch size"' in lines[0] and "--" not in lines[0]
    assert lines[1:] == ["NEXT: 2.0", "SHUTDOWN: True"], lines
    assert "Traceback" not in done.stderr and not (tmp_path / "home" / "logs").exists()
    record_outcomes("field fault 29.6: out of memory under a real address-space limit (prlimit --as)",
                    {"the app's engine thread": "labels to shrink, next job clean"})


LAYER_UNDER_LIMIT = """
import mxnet as mx
from mxnet import autograd
from engine.generator.onednn_layer import OneDNNRNN
from engine.memory import as_out_of_memory
from engine.mxnet_failures import settled

layer = OneDNNRNN("lstm", 1024, 1, 8)
layer.initialize()
x = mx.nd.ones((2000, 64, 8))       # y is 0.5 GB; the training primitive's workspace, over 3 GB
try:
    with autograd.record():
        out = layer(x, layer.begin_state(64))
    out[0].wait_to_read()
    print("TRAINED")
except mx.base.MXNetError as err:
    print("ERROR:", as_out_of_memory(settled(err)), flush=True)
print("NEXT:", float(mx.nd.ones((2,)).sum().asscalar()), flush=True)
"""


@needs_prlimit
@needs_library
def test_onednn_failing_to_allocate_inside_the_custom_op_names_memory(tmp_path):
    """The oneDNN layer (the bf16 path's, in fp32 here so it runs on every CPU) asked for a
    training primitive whose workspace is larger than the whole ``prlimit --as=3 GB``: oneDNN's
    own words (status 1, out of memory) come back from behind MXNet's generic custom-op failure
    as out of memory, and MXNet's next operation runs clean."""
    probe = tmp_path / "layer.py"
    probe.write_text(LAYER_UNDER_LIMIT, encoding="utf-8")
    done = limited(probe, home=tmp_path / "home", limit="--as=3000000000")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ERROR: out of memory (oneDNN: could not create a "), lines
    assert "(status 1)" in lines[0] and "--hidden" in lines[0], lines
    assert lines[-1] == "NEXT: 2.0", lines
    record_outcomes("field fault 29.6: out of memory under a real address-space limit (prlimit --as)",
                    {"inside the oneDNN layer": "oneDNN's words, next operation clean"})


WRITE_UNDER_LIMIT = """
import sys
from pathlib import Path
import mxnet as mx
from engine.memory import OutOfMemory
from engine.storage.atomic import atomic_write_with
from engine.storage.disk import mxnet_write
path = Path(sys.argv[1])
def save(tmp):       # 2 GB of zeros, made lazily: the allocation fails inside MXNet's save
    mxnet_write(lambda: mx.nd.save(tmp, {"x": mx.nd.zeros((1 << 29,))}), tmp)
try:                 # as RunFolder.save_checkpoint writes each file
    atomic_write_with(path, save)
except OutOfMemory as err:
    print("OutOfMemory:", err)
"""


@needs_prlimit
def test_out_of_memory_while_mxnet_writes_a_file_is_memory_not_a_disk_failure(tmp_path):
    """Seen at ``--as=1800000000`` on the bf16 3x1024 model: the allocation fails while MXNet
    writes a checkpoint, which read "MXNet could not write the file" (a disk's words). A real
    failed allocation in an MXNet write under ``prlimit``: engine.memory.OutOfMemory, naming what
    to shrink, and (written as checkpoints are, atomically) no file left behind."""
    target = tmp_path / "x.params"
    done = limited("-c", WRITE_UNDER_LIMIT, target, home=tmp_path / "home")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("OutOfMemory: out of memory (Failed to allocate CPU Memory)"), \
        done.stdout
    assert "--hidden" in done.stdout and "--batch" in done.stdout
    assert list(tmp_path.glob("*.params*")) == [] and list(tmp_path.glob(".*")) == []
    record_outcomes("field fault 29.6: out of memory under a real address-space limit (prlimit --as)",
                    {"an MXNet file write": "out of memory, what to shrink, no file left"})


READ_UNDER_LIMIT = """
import mmap, sys
import mxnet as mx
from engine.errors import StudioError
from engine.memory import address_space_left
from engine.storage.runs import RunFolder
mx.nd.ones((2,)).asnumpy()              # MXNet's threads started: what is left is what reading has
ballast = mmap.mmap(-1, address_space_left() - (8 << 20))      # leave 8 MB
try:
    RunFolder(sys.argv[1]).load_states()
    print("READ")
except StudioError as err:
    print(type(err).__name__ + ":", err)
"""


@needs_prlimit
def test_a_checkpoint_that_memory_cannot_hold_is_out_of_memory_not_unreadable(tmp_path, text):
    """Seen under ``prlimit --as=1.5 GB`` resuming a 3x1024 run: reading Adam's state failed for
    memory and read "trainer.states: unreadable (Traceback (most recent call last):)", as if
    the file were damaged. A real read with 8 MB of address space left (a real mapping holds the
    rest) of a 2x512 run's 26 MB state: out of memory, what to shrink."""
    run = tmp_path / "runs" / "big"
    list(train_generator(run, CorpusRef(str(text), "t"), TINY.replace(hidden_size=512, num_layers=2),
                         tiny_train(epochs=0.01, seq_len=10, batch_size=4)))
    assert (run / f"gen-{RunFolder(run).read_meta().generation:06d}" / "trainer.states").stat() \
        .st_size > 20 << 20
    done = limited("-c", READ_UNDER_LIMIT, run, home=tmp_path / "home",
                   limit="--as=2500000000")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("OutOfMemory: out of memory ("), done.stdout
    assert "unreadable" not in done.stdout and "--hidden" in done.stdout, done.stdout
    record_outcomes("field fault 29.6: out of memory under a real address-space limit (prlimit --as)",
                    {"reading a checkpoint": "out of memory, not unreadable"})


# ---- 8. runs delete on a planted symlink -------------------------------------------------------
def test_runs_delete_of_a_symlink_path_is_a_one_line_refusal(trained, studio_home, tmp_path):
    real = edited_run(trained, studio_home, "real", lambda data: None)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    done = run_cli("runs", "delete", link)
    one_line_error(done, "is a link", "refused")
    assert link.is_symlink() and RunFolder(real).read_meta().step > 0
