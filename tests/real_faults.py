"""Real faults for the tests: a small filesystem of its own (a tmpfs) that a test fills to a
real full disk or remounts read-only, and a training process to send real signals to.

Mounting needs root (as CI runs); elsewhere the tests that need it are skipped, saying why."""
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

ROOT_NEEDED = ("a real full disk or read-only folder is a tmpfs mounted by the test, which needs "
               "root (CI runs as root)")


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "8M"):
    """A tmpfs of ``size`` mounted at ``path`` for the test's duration."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip(ROOT_NEEDED)
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(folder: Path, leave: int) -> Path:
    """Fill ``folder``'s filesystem until only about ``leave`` bytes are free (a real full disk
    for what comes next); removing the returned file gives the room back."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as f:
        remaining = max(0, free - leave)
        block = b"\0" * (1 << 20)
        while remaining > 0:
            f.write(block[:remaining])
            remaining -= min(remaining, len(block))
    return filler


def read_only(path: Path):
    """Remount the tmpfs at ``path`` read-only (EROFS for every write, as a real one gives)."""
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)


def leftovers(folder: Path) -> list:
    """Temp files and folders anywhere under ``folder`` (what a failed write must not leave)."""
    return sorted(str(p) for p in Path(folder).rglob(".tmp*"))


def start_cli(*args, env=None) -> subprocess.Popen:
    """``python -m engine ARGS`` as a process of its own (to signal or to damage under)."""
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-m", "engine", *map(str, args)], env=full_env,
                            cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(condition, timeout: float = 120, what: str = "the condition"):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
