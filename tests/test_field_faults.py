"""Issue 29, "Seen under real faults": each fault produced as a person or the machine would
(a run folder really moved while a real trainer runs, real edited JSON records, a real
address-space limit, a real SIGSTOP, a real symlink)."""
import subprocess

from engine.storage.runs import RunFolder

from .conftest import run_cli
from .real_faults import start_cli, wait_for
from .test_real_faults import GEN, one_line_error


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
