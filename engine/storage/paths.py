"""Where RNN Studio keeps its files: ``RNN_STUDIO_HOME`` or the platform's user data folder."""
import os
import sys
from pathlib import Path


def studio_home() -> Path:
    env = os.environ.get("RNN_STUDIO_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "rnn-studio"


def runs_dir() -> Path:
    return studio_home() / "runs"


def corpora_dir() -> Path:
    return studio_home() / "corpora"


def cache_dir() -> Path:
    return studio_home() / "cache"
