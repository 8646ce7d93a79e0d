"""``rnn-studio bench --workers N``: how data-parallel training scales on this machine.

Each measurement is a real training run of the default generator on a synthetic text, started
as the CLI starts it: one process with the local kvstore; one worker through ``launch``
(dist_sync, so every step pushes and pulls the whole gradient through a server); N workers
through ``launch``. Every worker gets the same OpenMP threads (the cores shared out among N),
so the one-worker figure is what one of the N would do alone. Speeds come from the runs' own
history (training time only: start-up and graph building excluded).

The gradient exchange per step is the one-worker dist_sync step time minus the local step time;
a smaller model shows how it changes with the gradient's size.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from engine.generator.bench import _synthetic_text
from engine.config import GeneratorConfig, TrainConfig
from engine.storage.runs import RunFolder

SMALL = ["--hidden", "128", "--layers", "1"]


def _gradient_mb(model: GeneratorConfig, vocab: int = 64) -> float:
    """The model's trainable numbers (float32) in MB: what each worker pushes and pulls per step."""
    from engine.generator.model import CharRNN
    from engine.training.loop import count_parameters
    net = CharRNN(model.replace(vocab_size=vocab))
    net.initialize()
    return count_parameters(net) * 4 / 1e6


def _steps_per_s(run: Path) -> float:
    progress = [h for h in RunFolder(run).read_meta().history if h.get("train_loss") is not None]
    if len(progress) < 3:
        raise RuntimeError(f"{run}: too few progress reports to time ({len(progress)})")
    first, last = progress[1], progress[-1]        # the first interval builds the graph
    return (last["step"] - first["step"]) / (last["seconds"] - first["seconds"])


def _train(home: Path, name: str, text: Path, seconds: float, threads: int, workers: int,
           extra=()) -> float:
    run = home / name
    command = ["generator", "train", "--corpus", str(text), "--out", str(run), "--minutes",
               f"{seconds / 60:.4f}", "--val-interval", "1000000000", "--sample-length", "0",
               "--log-interval", "2", "--quiet", *extra]
    engine = [sys.executable, "-m", "engine"]
    if workers:
        command = engine + ["launch", "--workers", str(workers), "--threads", str(threads),
                            "--"] + command
    else:
        command = engine + command
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=seconds * 4 + 300)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return _steps_per_s(run)


def bench_workers(workers: int, seconds: float = 20.0, quick: bool = False) -> dict:
    model, train = GeneratorConfig(), TrainConfig()
    extra = ["--hidden", "32", "--layers", "1", "--batch", "8", "--seq-len", "20"] if quick else []
    if quick:
        model = model.replace(hidden_size=32, num_layers=1)
        train = train.replace(batch_size=8, seq_len=20)
        seconds = min(seconds, 4.0)
    threads = max(1, (os.cpu_count() or 1) // workers)
    chars_per_step = train.batch_size * train.seq_len
    with tempfile.TemporaryDirectory(prefix="rnn-studio-bench-") as tmp:
        home = Path(tmp)
        text = home / "bench.txt"
        _synthetic_text(text, max(2_000_000, 3 * chars_per_step * 400))
        local = _train(home, "local", text, seconds, threads, 0, extra)
        one = _train(home, "one", text, seconds, threads, 1, extra)
        many = _train(home, "many", text, seconds, threads, workers, extra)
        small_local = small_one = None
        if not quick:
            small_local = _train(home, "small-local", text, seconds, threads, 0, SMALL)
            small_one = _train(home, "small-one", text, seconds, threads, 1, SMALL)
    result = {
        "workers": workers, "threads_per_worker": threads,
        "local_train_chars_per_s": local * chars_per_step,
        "one_worker_train_chars_per_s": one * chars_per_step,
        "workers_train_chars_per_s": many * chars_per_step * workers,
        "scaling": many * workers / one,
        "scaling_vs_local": many * workers / local,
        "gradient_mb": _gradient_mb(model),
        "exchange_ms_per_step": (1 / one - 1 / local) * 1000,
        "step_ms_local": 1000 / local,
        "config": {"model": model.to_dict(), "batch_size": train.batch_size,
                   "seq_len": train.seq_len, "seconds": seconds},
    }
    if small_local:
        small = _gradient_mb(model.replace(hidden_size=128, num_layers=1))
        result["small_model"] = {"hidden": 128, "layers": 1, "gradient_mb": small,
                                 "exchange_ms_per_step": (1 / small_one - 1 / small_local) * 1000,
                                 "step_ms_local": 1000 / small_local}
    return result
