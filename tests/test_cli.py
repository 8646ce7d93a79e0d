"""The command line end to end, in subprocesses, as scripts use it."""
import json
import re
import shutil

import pytest

from .conftest import repeating_text, run_cli


def _ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


TINY_ARGS = ["--hidden", "32", "--embed", "8", "--layers", "1", "--seq-len", "20", "--batch", "8",
             "--lr", "0.01", "--val-interval", "20", "--sample-length", "30", "--quiet"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """A run trained through the CLI once for this module (tests that change it take a copy)."""
    folder = tmp_path_factory.mktemp("cli")
    text = folder / "text.txt"
    text.write_text(repeating_text(), encoding="utf-8")
    run = folder / "cli-run"
    _ok(run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs", "3", *TINY_ARGS))
    return run


def test_train_sample_evaluate_export(tmp_path, cli_run, text_file):
    a = _ok(run_cli("generator", "sample", cli_run, "--prime", "the quick", "--length", "40",
                    "--seed", "1")).stdout
    b = _ok(run_cli("generator", "sample", cli_run, "--prime", "the quick", "--length", "40",
                    "--seed", "1")).stdout
    assert a == b and a.startswith("the quick") and len(a) == len("the quick") + 40 + 1
    result = json.loads(_ok(run_cli("generator", "evaluate", cli_run, "--text", text_file,
                                    "--json")).stdout.strip())
    assert set(result) >= {"bits_per_char", "nats_per_char", "chars"}
    assert result["bits_per_char"] < 2.0 and result["chars"] > 5000
    _ok(run_cli("export", cli_run, tmp_path / "exp"))
    assert (tmp_path / "exp" / "model-symbol.json").exists()


def test_resume_continues_with_more_epochs(cli_run, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(cli_run, run)
    before = json.loads((run / "meta.json").read_text())["state"]["step"]
    _ok(run_cli("generator", "train", "--out", run, "--resume", "--epochs", "4", "--quiet"))
    after = json.loads((run / "meta.json").read_text())["state"]["step"]
    assert after == before * 4 // 3


def test_training_speaks_bits_per_character_as_the_app_does(tmp_path):
    """The bar's loss and val, each validation line and the last line are in bits per character
    (the engine's events carry nats); the last line's figure is the run's best, converted."""
    import math
    text = tmp_path / "text.txt"
    text.write_text(repeating_text(), encoding="utf-8")
    run = tmp_path / "run"
    args = [a for a in TINY_ARGS if a != "--quiet"] + ["--log-interval", "5"]
    proc = _ok(run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs", "2",
                       *args))
    err = proc.stderr
    best_nats = json.loads((run / "meta.json").read_text())["best"]["val_loss"]
    last = err.strip().splitlines()[-1]
    assert f"best validation loss {best_nats / math.log(2):.4f} bits/char;" in last, last
    assert re.search(r"step \d+: validation loss \d\.\d{4} bits/char", proc.stdout), proc.stdout
    assert "val " in err and "bits/char, chars/s" in err, err[-2000:]


@pytest.mark.parametrize("args, message", [
    (["generator", "train", "--corpus", "{empty}", "--out", "x"], "the file is empty"),
    (["generator", "train", "--corpus", "{binary}", "--out", "x"], "binary"),
    (["generator", "train", "--corpus", "{latin}", "--out", "x"], "not valid utf-8"),
    (["generator", "train", "--corpus", "no-such-corpus", "--out", "x"], "neither a built-in corpus"),
    (["generator", "sample", "no-such-run"], "no run named 'no-such-run'"),
    (["generator", "sample", "../escape"], "no run named"),
    (["generator", "sample", ".."], "invalid run name"),
    (["generator", "sample", "{run}", "--prime", "Zebra"], "never seen: 'Z'"),
    (["generator", "train", "--out", "x", "--corpus", "{text}", "--cell", "transformer"], "invalid choice"),
    (["export", "{run}", "{tmp}/o", "--format", "onnx"], None),
    (["corpora", "build", "nope"], "unknown corpus 'nope'"),
])
def test_bad_input_gets_one_line_and_nonzero_exit(tmp_path, cli_run, text_file, args, message):
    files = {"empty": tmp_path / "empty.txt", "binary": tmp_path / "b.bin", "latin": tmp_path / "l.txt"}
    files["empty"].write_bytes(b"")
    files["binary"].write_bytes(bytes(range(256)) * 10)
    files["latin"].write_bytes("caf\xe9".encode("latin-1") * 100)
    subs = {k: str(v) for k, v in files.items()}
    subs.update(run=str(cli_run), tmp=str(tmp_path), text=str(text_file))
    proc = run_cli(*[a.format(**subs) for a in args])
    if message is None:          # a 1-layer model exports to ONNX fine
        assert proc.returncode == 0 or "onnx package" in proc.stderr
        return
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert message in lines[0]


def test_runs_list_json(cli_run):
    # cli_run lives outside the runs folder; a named run lives inside it
    proc = _ok(run_cli("runs", "list", "--json"))
    assert json.loads(proc.stdout) == []


def test_ctrl_c_saves_and_exits_cleanly(tmp_path, text_file):
    import os
    import signal
    import subprocess
    import sys
    import time

    from .conftest import ROOT
    run = tmp_path / "interrupted"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "engine", "generator", "train", "--corpus",
                             str(text_file), "--out", str(run), "--epochs", "10000", *TINY_ARGS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while not (run / "meta.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "stopped at step" in err and "Traceback" not in err
    import json
    meta = json.loads((run / "meta.json").read_text())
    assert meta["state"]["step"] > 20
    # and what was saved resumes
    _ok(run_cli("generator", "sample", run, "--length", "10"))


def test_bench_quick_prints_one_json_line():
    proc = _ok(run_cli("bench", "--quick", "--json", "--seconds", "2"))
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    for key in ("train_chars_per_s", "sample_chars_per_s", "sentiment_sentences_per_s", "peak_rss_mb",
                "bare_loop_train_chars_per_s", "loop_efficiency", "sample_chars_per_s_8_streams",
                "sample_streams_speedup_8"):
        assert result[key] > 0, key
    assert result["config"]["quick"] is True
    cpu = result["cpu"]                       # fp32 and bf16 side by side, and why not bf16
    assert isinstance(cpu["bf16"], bool) and isinstance(cpu["flags"], list)
    assert (result["train_chars_per_s_bf16"] is None) == (cpu["bf16_unavailable"] is not None)
    if cpu["onednn"]:
        assert cpu["onednn"].startswith("oneDNN 3.") and result["bare_loop_onednn_fp32_chars_per_s"] > 0
