"""How fast this machine trains each recipe candidate: the part of a recipe that a table measured
on another machine cannot know (engine/generator/recipes.py reads it).

A candidate's quality per training step (its curve) is the same on every machine; how many steps
a budget buys is not. The probe trains each candidate for a few seconds here, in the precision
it will train in (``--precision auto``: bf16 where the CPU has it) and with the threads it will
use, and keeps the characters per second it measured in the studio's cache, under a key of what
the speed depends on: the CPU model, the precision, the thread count, the CPU quota and the
library versions. When any of them changes, the next recipe measures again.

The probe times a bare Gluon training loop (bench.bare_loop_rate: the same model, layer,
dropout, clipping and Adam as the engine's loop, on random ids), not the engine's loop with its
data pipeline: that is the same work per step (the engine's loop measured 1.2x the bare loop in
fp32, README "Speed") without reading a text. It runs the steps as the engine's loop does, one
in flight, and divides all their characters by all their time (bench._in_flight_rate says why).
"""
import json
import os
import platform
import time
from typing import Callable, Dict, Iterator, Optional, Tuple

from engine.config import GeneratorConfig, TrainConfig

PROBE_SECONDS = 3.0                  # per candidate, after two untimed steps (graph building)
CACHE_NAME = "speed-probe.json"
VOCAB = 65                           # characters in the built-in Shakespeare


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_quota(cgroup: str = "/sys/fs/cgroup/cpu.max") -> Optional[float]:
    """The CPUs a cgroup (v2) quota allows this process, or None without a quota."""
    try:
        with open(cgroup) as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def threads() -> int:
    """The threads MXNet computes with: OMP_NUM_THREADS (engine/__init__.py sets it to the cores
    unless the user did)."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


def _versions() -> Dict[str, str]:
    from importlib import metadata
    found = {}
    for package in ("mxnet", "onednn-cpu-gomp", "rnn-studio"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "-"
    return found


TIMING = "one step in flight"          # how the probe times (bench._in_flight_rate); a cache
                                       # timed another way (synced steps) is measured again


def machine_key(precision: str) -> Dict[str, object]:
    """What a measured speed holds for: a cached speed is used only under the same key."""
    return {"cpu": cpu_model(), "precision": precision, "threads": threads(),
            "cpu_quota": cpu_quota(), "versions": _versions(), "timing": TIMING}


def probe_path(mode: str = "lstm"):
    """(precision, layer, bf16) a candidate of cell ``mode`` trains with under --precision auto."""
    from engine.generator.precision import path_for_cell, training_path
    return path_for_cell(training_path("auto"), "auto", mode)


def measure(model: Dict[str, object], train: Dict[str, object],
            seconds: float = PROBE_SECONDS) -> float:
    """Training characters per second of one candidate here, in its auto precision."""
    from engine.generator.bench import bare_loop_rate
    config = GeneratorConfig(**model)
    path = probe_path(config.mode)
    return bare_loop_rate(config, TrainConfig(**train), seconds, vocab_size=VOCAB,
                          layer=path.layer, bf16=path.bf16, every=1)


def _cache_file():
    from engine.storage.paths import cache_dir
    return cache_dir() / CACHE_NAME


def read_cache() -> Dict[str, object]:
    """The cached probe ({"key": ..., "speeds": {candidate: chars/s}, "when": ...}), or {}."""
    try:
        cached = json.loads(_cache_file().read_text(encoding="utf-8"))
        return cached if isinstance(cached, dict) and isinstance(cached.get("speeds"), dict) else {}
    except (OSError, ValueError):
        return {}


def cached_speeds(candidates: Dict[str, Tuple[dict, dict]]) -> Optional[Dict[str, float]]:
    """This machine's measured speeds for every one of ``candidates`` when the cache holds them
    under this machine's key; None when the probe has to run (first use, or a change)."""
    cached = read_cache()
    if cached.get("key") != machine_key(probe_path().precision):
        return None
    speeds = cached["speeds"]
    if not all(isinstance(speeds.get(name), (int, float)) for name in candidates):
        return None
    return {name: float(speeds[name]) for name in candidates}


def probe_steps(candidates: Dict[str, Tuple[dict, dict]], speeds: Dict[str, float],
                seconds: float = PROBE_SECONDS) -> Iterator[Tuple[int, int, str]]:
    """Measure every candidate into ``speeds``, yielding (done, total, the one measured next)
    before each and (total, total, "") at the end, then cache them under this machine's key. A
    consumer that stops early leaves nothing cached."""
    from engine.storage.atomic import atomic_write_json
    for done, (name, (model, train)) in enumerate(sorted(candidates.items())):
        yield done, len(candidates), name
        speeds[name] = measure(model, train, seconds)
    yield len(candidates), len(candidates), ""
    entry = {"key": machine_key(probe_path().precision), "speeds": speeds,
             "seconds_per_candidate": seconds, "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        atomic_write_json(_cache_file(), entry)
    except OSError:
        pass            # an unwritable cache costs a probe next time, nothing else


def run_probe(candidates: Dict[str, Tuple[dict, dict]],
              progress: Optional[Callable[[int, int, str], None]] = None,
              should_stop: Callable[[], bool] = lambda: False,
              seconds: float = PROBE_SECONDS) -> Optional[Dict[str, float]]:
    """probe_steps with ``progress(done, total, name)``; None when stopped before the end."""
    speeds: Dict[str, float] = {}
    for done, total, name in probe_steps(candidates, speeds, seconds):
        if should_stop():
            return None
        if progress:
            progress(done, total, name)
    return speeds


def speeds_here(candidates: Dict[str, Tuple[dict, dict]],
                progress: Optional[Callable[[int, int, str], None]] = None,
                again: bool = False,
                should_stop: Callable[[], bool] = lambda: False) -> Optional[Dict[str, float]]:
    """The cached speeds, or the probe's when there are none for this machine (or ``again``);
    None when stopped."""
    cached = None if again else cached_speeds(candidates)
    return cached if cached is not None else run_probe(candidates, progress, should_stop)
