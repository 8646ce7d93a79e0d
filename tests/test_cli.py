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
                "sample_streams_speedup_8", "suggest_ms_median", "suggest_ms_p95"):
        assert result[key] > 0, key
    assert result["config"]["quick"] is True
    cpu = result["cpu"]                       # fp32 and bf16 side by side, and why not bf16
    assert isinstance(cpu["bf16"], bool) and isinstance(cpu["flags"], list)
    assert (result["train_chars_per_s_bf16"] is None) == (cpu["bf16_unavailable"] is not None)
    if cpu["onednn"]:
        assert cpu["onednn"].startswith("oneDNN 3.") and result["bare_loop_onednn_fp32_chars_per_s"] > 0
        assert cpu["onednn_openmp"] in ("libgomp-ornn.so.1", "libgomp.so.1"), cpu
    # the bf16 path's bare-layer rate beside its loop's, null (both) where bf16 cannot run here
    bare_bf16 = result["bare_loop_onednn_bf16_chars_per_s"]
    assert (bare_bf16 is None) == (result["train_chars_per_s_bf16"] is None)
    if bare_bf16 is not None:
        assert bare_bf16 > 0 and result["loop_efficiency_bf16"] == pytest.approx(
            result["train_chars_per_s_bf16"] / bare_bf16)
    # where the bf16 path's time goes: the layer alone by batch, beside oneDNN's matmul here
    layer = result["bare_layer_onednn_bf16_chars_per_s"]
    assert (layer is None) == (bare_bf16 is None)
    if layer is not None:
        by_batch = result["bare_layer_bf16_chars_per_s_by_batch"]
        assert set(by_batch) == {"8", "16", "32"} and min(by_batch.values()) > 0
        assert by_batch["16"] == layer
        assert result["bf16_layer_share_of_step"] == pytest.approx(
            result["train_chars_per_s_bf16"] / layer)
        assert 0 < result["bf16_layer_gflops"] and 0 < result["bf16_matmul_gflops"]


def test_a_notepad_utf16_text_trains_and_samples(tmp_path):
    """Finding 29.1 as a person meets it: a text saved by Windows Notepad (UTF-16 LE with a
    byte-order mark, CRLF) trains with no encoding given, and the model learned its characters."""
    text = tmp_path / "notepad.txt"
    text.write_bytes(repeating_text().replace("\n", "\r\n").encode("utf-16"))
    run = tmp_path / "from-utf16"
    _ok(run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs", "1", *TINY_ARGS))
    tokens = json.loads(json.loads((run / "meta.json").read_text())["vocab"])["idx_to_token"]
    assert set(repeating_text()) <= set(tokens) and "\x00" not in tokens and "\r" not in tokens
    sample = _ok(run_cli("generator", "sample", run, "--prime", "the ", "--length", "40",
                         "--seed", "1")).stdout
    assert "\x00" not in sample and sample.startswith("the ")


def test_the_command_line_speaks_bits_per_character_as_the_app_does(tmp_path, studio_home):
    """Finding 29.10: the progress, the validation lines, the last line and `runs list` give a
    generator's loss in bits per character (the app's unit), each the nats the run recorded
    divided by ln 2; a sentiment model keeps its own units."""
    import math
    text = tmp_path / "text.txt"
    text.write_text(repeating_text(), encoding="utf-8")
    args = [a for a in TINY_ARGS if a != "--quiet"]
    proc = _ok(run_cli("generator", "train", "--corpus", text, "--out", "bits", "--epochs", "1",
                       *args))
    best_nats = json.loads((studio_home / "runs" / "bits" / "meta.json").read_text())["best"][
        "val_loss"]
    last = proc.stderr.strip().splitlines()[-1]
    assert f"best validation loss {best_nats / math.log(2):.4f} bits/char" in last, last
    assert " bits/char (best)" in proc.stdout, proc.stdout         # the validation lines
    assert "loss=" in proc.stderr and " bits/char" in proc.stderr.split("loss=", 1)[1][:20]
    listed = _ok(run_cli("runs", "list")).stdout
    assert f"best val {best_nats / math.log(2):.4f} bits/char" in listed, listed


def test_a_very_long_sample_shows_progress_and_stops_keeping_what_was_drawn(cli_run):
    """Finding 29, fault 8: `--length 10000000` sampled for minutes with no progress. A long
    sample shows its progress on stderr, and a real SIGINT stops it: exit 0, what was drawn
    kept on stdout, a line saying how far it got."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from .conftest import ROOT
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "engine", "generator", "sample", str(cli_run),
                             "--length", "10000000", "--seed", "1"], cwd=str(ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)                                  # loading, then some seconds of drawing
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "char" in err and "/10.0M" in err, err[-2000:]               # the progress bar
    drawn = int(re.search(r"stopped after ([\d,]+) of 10,000,000 characters", err)
                .group(1).replace(",", ""))
    assert 0 < drawn < 10_000_000 and len(out) == drawn + 1      # every drawn character kept
    assert "keeping what was drawn" in err and "Traceback" not in err
