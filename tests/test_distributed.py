"""Data-parallel training on MXNet's distributed KVStore: a real scheduler, server and two
workers on loopback (``rnn-studio launch``), each process bounded by timeouts and stopped by its
own process group. Both model kinds train a few steps; both workers end with identical
parameters, equal to those rank 0 saved; a stopped distributed run resumes exactly."""
import os
import re
import signal
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
import pytest

from engine.generator.data import BPTTStream
from engine.cli.launch import Launch, host_plan, worker_command
from engine.errors import StudioError
from engine.storage.runs import RunFolder

from .conftest import ROOT
from .fault_report import record_outcomes
from .sentiment_helpers import synthetic_rows, write_csv

WORKER = [sys.executable, str(ROOT / "tests" / "dist_worker.py")]
TINY_GENERATOR = ["--hidden", "16", "--embed", "8", "--layers", "1", "--batch", "4",
                  "--seq-len", "20", "--val-interval", "40", "--sample-length", "0", "--quiet"]
TINY_SENTIMENT = ["--hidden", "8", "--embed", "8", "--ngram-buckets", "101", "--ngram-size",
                  "4", "--batch", "8", "--patience", "0", "--quiet"]


def launcher(workers, command):
    """The command line of a launcher (``rnn-studio launch``) running the tests' worker."""
    code = ("import sys; from engine.cli.launch import Launch; "
            f"sys.exit(Launch({workers}, 1, sys.argv[1:], connect_timeout=60, "
            f"program={WORKER!r}).run())")
    return [sys.executable, "-c", code, *map(str, command)]


def launcher_env(out):
    """One thread per worker; the workers write their parameters into ``out``."""
    return dict(os.environ, DIST_TEST_OUT=str(out), OMP_NUM_THREADS="1",
                PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def launch(tmp_path, command, workers=2, timeout=240):
    """Run ``rnn-studio launch`` (the tests' worker program) in a subprocess; the worker
    parameters land in tmp_path/params."""
    out = tmp_path / "params"
    out.mkdir(exist_ok=True)
    proc = subprocess.run(launcher(workers, command), env=launcher_env(out),
                          capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))
    return proc, out


def arrays(path):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(path)).items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    different = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not different, different


def saved_last(run):
    folder = RunFolder(run)
    return arrays(folder.file_path("last.params", folder.read_meta()))


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    rng = np.random.RandomState(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "away"]
    path = tmp_path_factory.mktemp("text") / "t.txt"
    path.write_text(" ".join(rng.choice(words, 12000)))
    return path


def test_two_workers_train_a_generator_to_identical_parameters(tmp_path, text):
    run = tmp_path / "g"
    proc, out = launch(tmp_path, ["generator", "train", "--corpus", text, "--out", run,
                                  "--epochs", "0.3", *TINY_GENERATOR])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert any(line.startswith("[worker 1") for line in lines)
    assert any(line.startswith("[worker 2") for line in lines)
    # every worker reports the same validation numbers (summed over their shares)
    vals = {}
    for line in lines:
        if "] step " in line and "validation loss" in line:
            vals.setdefault(line.split("]")[0], []).append(line.split("]", 1)[1])
    assert len(vals) == 2 and len(set(map(tuple, vals.values()))) == 1, vals
    w0, w1 = arrays(out / "worker-0.params"), arrays(out / "worker-1.params")
    assert_same(w0, w1)
    assert_same(w0, saved_last(run))
    meta = RunFolder(run).read_meta()
    assert meta.train_settings["kvstore"] == "dist_sync"
    # each worker says which it is and trained on half of the text
    started = [line for line in lines if "parameters;" in line]
    assert {"worker 1 of 2" in line for line in started} == {True, False}
    for line in started:         # the prefix names the worker by its KVStore rank
        k = re.search(r"worker (\d) of 2", line).group(1)
        assert line.startswith(f"[worker {k}")
    def fact(line, name):
        return int(re.search(name + r" ([\d,]+)", line).group(1).replace(",", ""))
    steps = {fact(line, "steps_per_epoch") for line in started}
    half = fact(started[0], "train_chars") // 2
    assert steps == {BPTTStream(np.zeros(half), 4, 20).num_batches}


def test_a_distributed_generator_run_resumes_exactly(tmp_path, text):
    whole, split = tmp_path / "whole", tmp_path / "split"
    args = ["generator", "train", "--corpus", text, *TINY_GENERATOR]
    proc, _ = launch(tmp_path, args + ["--out", whole, "--epochs", "0.4"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    proc, _ = launch(tmp_path, args + ["--out", split, "--epochs", "0.2"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    proc, _ = launch(tmp_path, ["generator", "train", "--out", split, "--resume", "--epochs",
                                "0.4", "--quiet"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert RunFolder(split).read_meta().step == RunFolder(whole).read_meta().step
    assert_same(saved_last(whole), saved_last(split))


def test_two_workers_train_a_sentiment_model_to_identical_parameters(tmp_path):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(160))
    run = tmp_path / "s"
    proc, out = launch(tmp_path, ["sentiment", "train", "--data", data, "--out", run,
                                  "--epochs", "2", *TINY_SENTIMENT])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    w0, w1 = arrays(out / "worker-0.params"), arrays(out / "worker-1.params")
    assert_same(w0, w1)                  # the reader, and the frozen vectors and linear half
    assert_same(w0, saved_last(run))
    meta = RunFolder(run).read_meta()
    assert meta.test["n"] > 0 and len(meta.history) > 0


def test_a_failing_worker_stops_the_whole_job(tmp_path):
    proc, _ = launch(tmp_path, ["generator", "train", "--corpus", tmp_path / "missing.txt",
                                "--out", tmp_path / "r"], timeout=120)
    assert proc.returncode == 2
    assert "failed: stopping the others" in proc.stderr
    assert "[worker 1" in proc.stdout and "missing.txt" in proc.stdout


def test_a_role_that_never_connects_times_out_by_name(tmp_path, text):
    """One server is asked for but two are awaited: the scheduler waits forever for the
    second, so the launcher must give up and say who is missing."""
    launcher = Launch(1, 1, ["generator", "train", "--corpus", str(text), "--out",
                             str(tmp_path / "r"), *TINY_GENERATOR], connect_timeout=8,
                      threads=1, out=open(os.devnull, "w"))
    launcher.env["DMLC_NUM_SERVER"] = "2"
    started = time.time()
    assert launcher.run() == 1
    assert time.time() - started < 40
    assert all(r.process.poll() is not None for r in launcher.roles)   # nothing left running
    assert not launcher.roles[0].connected


def test_launch_checks_its_train_command_and_plans_hosts():
    assert worker_command(["rnn-studio", "generator", "train", "--out", "r"])[-2:] == [
        "--kvstore", "dist_sync"]
    with pytest.raises(StudioError, match="dist_sync or dist_async"):
        worker_command(["generator", "train", "--kvstore", "local"])
    with pytest.raises(StudioError, match="runs a train command"):
        worker_command(["generator", "sample", "r"])
    plan = host_plan(["alpha", "beta"], 2, 1, ["generator", "train", "--out", "r"], 9091)
    lines = plan.splitlines()
    assert any(line.startswith("alpha: DMLC_ROLE=scheduler") for line in lines)
    assert sum("DMLC_ROLE=worker" in line for line in lines) == 2
    assert any(line.startswith("beta: DMLC_ROLE=worker") for line in lines)
    assert all("DMLC_PS_ROOT_URI=alpha" in line for line in lines if "DMLC_ROLE" in line)


def test_dist_kvstore_outside_a_launch_is_a_clear_error(tmp_path, text):
    from .conftest import run_cli
    proc = run_cli("generator", "train", "--corpus", text, "--out", tmp_path / "r",
                   "--kvstore", "dist_sync", *TINY_GENERATOR, timeout=60)
    assert proc.returncode == 2 and "rnn-studio launch" in proc.stderr


def test_sigterm_stops_every_worker_at_one_step_and_keeps_what_was_learned(tmp_path, text):
    """SIGTERM (what systemd, Docker and Slurm send) to the launcher: it asks the workers to
    stop, as Ctrl-C does (the same handler): they agree on a step, rank 0 saves."""
    run = tmp_path / "r"
    proc = subprocess.Popen(launcher(2, ["generator", "train", "--corpus", text, "--out", run,
                                         "--epochs", "50", *TINY_GENERATOR]),
                            env=launcher_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=str(ROOT),
                            start_new_session=True)
    try:
        for line in proc.stdout:                 # wait until both train (first validation)
            if "validation loss" in line:
                break
        os.kill(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, rest[-3000:]
    assert "stopping (SIGTERM)" in rest and rest.count("stopped at step") == 2, rest[-3000:]
    meta = RunFolder(run).read_meta()
    assert 0 < meta.step < 50 * 100
    assert_same(arrays(tmp_path / "worker-0.params"), arrays(tmp_path / "worker-1.params"))
    record_outcomes("real fault 05: SIGTERM to a launch of two workers", {0: "every worker stopped, saved"})


def test_async_workers_train_with_the_optimizer_on_the_server_and_resume(tmp_path, text):
    """dist_async: the servers run Adam with the schedule (never without an updater, which
    ps-lite aborts on); rank 0 saves; a resume warns that Adam's moments start again."""
    run = tmp_path / "a"
    args = ["generator", "train", *TINY_GENERATOR, "--kvstore", "dist_async"]
    proc, _ = launch(tmp_path, args + ["--corpus", text, "--out", run, "--epochs", "0.3"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    first = RunFolder(run).read_meta()
    assert first.train_settings["kvstore"] == "dist_async"
    assert first.state["optimizer"] == {"on_servers": True}
    losses = [h["val_loss"] for h in first.history if h.get("val_loss") is not None]
    assert losses[-1] < losses[0]
    proc, _ = launch(tmp_path, ["generator", "train", "--out", run, "--resume", "--epochs",
                                "0.5", "--quiet", "--kvstore", "dist_async"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Adam's moment estimates start again" in proc.stdout
    assert RunFolder(run).read_meta().step > first.step


@pytest.mark.slow
def test_bench_workers_measures_one_and_two_workers():
    from .conftest import run_cli
    proc = run_cli("bench", "--workers", "2", "--quick", "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = __import__("json").loads(proc.stdout)
    for key in ("local_train_chars_per_s", "one_worker_train_chars_per_s",
                "workers_train_chars_per_s"):
        assert result[key] > 0, key
    assert result["scaling"] == pytest.approx(result["workers_train_chars_per_s"]
                                              / result["one_worker_train_chars_per_s"])
    assert result["threads_per_worker"] >= 1 and result["gradient_mb"] > 0


def _worker_pids(run) -> list:
    """The pids of the processes training ``run`` as workers (not the launcher)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if str(run) in argv and "train" in argv and "launch" not in argv:
            pids.append(int(entry))
    return pids


@pytest.mark.slow
def test_a_stopped_worker_is_reported_and_the_job_ends_keeping_its_checkpoint(tmp_path, text):
    """Finding 29, fault 7: SIGSTOP to one worker of `launch --workers 2` froze the job
    forever without a word. A real SIGSTOP: the launcher says which worker is stopped at once,
    ends the job after the stall timeout, and the run keeps its last checkpoint."""
    run = tmp_path / "stalled"
    proc = subprocess.Popen([sys.executable, "-m", "engine", "launch", "--workers", "2",
                             "--stall-timeout", "10", "--", "generator", "train", "--corpus",
                             str(text), "--out", str(run), "--epochs", "50", *TINY_GENERATOR],
                            env=launcher_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=str(ROOT),
                            start_new_session=True)
    try:
        for line in proc.stdout:                 # both train and have validated once
            if "validation loss" in line:
                break
        # Any worker may print its validation first, while rank 0 is still writing the
        # checkpoint: stop a worker only once that checkpoint is on disk (CI saw it missing).
        deadline = time.time() + 60
        while not (run / "meta.json").is_file() and time.time() < deadline:
            time.sleep(0.1)
        assert (run / "meta.json").is_file(), "the first checkpoint was never written"
        workers = _worker_pids(run)
        assert len(workers) == 2, workers
        os.kill(workers[1], signal.SIGSTOP)
        stopped_at = time.time()
        rest, _ = proc.communicate(timeout=120)
        waited = time.time() - stopped_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _worker_pids(run):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode != 0, rest[-3000:]
    assert "is stopped (SIGSTOP or Ctrl-Z?)" in rest, rest[-3000:]
    assert "no worker made progress for 10 s: ending the job" in rest, rest[-3000:]
    assert waited < 60, waited                   # the stall timeout, then 15 s of grace at most
    assert RunFolder(run).read_meta().step > 0   # what was learned is in its checkpoint
