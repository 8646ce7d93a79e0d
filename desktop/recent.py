"""The data files a person opened lately, for File > Recent files (kept with QSettings)."""
import json
from pathlib import Path
from typing import List, Tuple

from desktop.settings import settings

KEY, KEEP = "recent/files", 8


def recent() -> List[Tuple[str, str]]:
    """(kind, path) pairs, the latest first, of files that still exist."""
    try:
        pairs = json.loads(settings().value(KEY, "[]") or "[]")
        pairs = [(str(k), str(p)) for k, p in pairs]
    except (TypeError, ValueError):
        return []
    return [(k, p) for k, p in pairs if Path(p).exists()]


def add_recent(kind: str, path: str):
    if kind is None:
        return
    pairs = [(kind, path)] + [pair for pair in recent() if pair[1] != path]
    settings().setValue(KEY, json.dumps(pairs[:KEEP]))
