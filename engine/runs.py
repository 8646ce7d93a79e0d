"""Run folders: the on-disk checkpoint of one model (format ``rnn-studio/1``).

::

    runs/<name>/meta.json      config, vocab, labels, corpus, history, best, files{name: sha256}, state
                 last.params    Gluon parameters (MXNet NDArray format, never pickle)
                 best.params    best on validation so far
                 trainer.states optimizer state + carried hidden state (NDArray format)

Every file is written atomically; ``meta.json`` is written last and names the sha256 of each file
it belongs to, so a crash leaves the previous good checkpoint and a flipped byte is caught on load
(MXNet alone loads about half of such files silently).
"""
import json
import re
import shutil
import time
from pathlib import Path
from typing import Dict, List, Optional

import mxnet as mx
from mxnet import gluon, nd

from . import __version__
from .atomic import atomic_write_json, atomic_write_with, sha256_file
from .errors import StudioError
from .paths import runs_dir

FORMAT = "rnn-studio/1"
META = "meta.json"
PARAM_FILES = ("last.params", "best.params")
STATES = "trainer.states"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def versions() -> dict:
    import gluonnlp
    return {"engine": __version__, "mxnet": mx.__version__, "gluonnlp": gluonnlp.__version__}


def resolve_run(ref: str, must_exist: bool = True) -> Path:
    """A run name (folder in the runs directory) or a path to a run folder -> its path.

    Bare names must be plain folder names, so nothing escapes the runs folder.
    """
    ref = str(ref)
    if "/" in ref or "\\" in ref or ref.startswith("~"):
        path = Path(ref).expanduser()
    else:
        if not _NAME.fullmatch(ref):
            raise StudioError(f"invalid run name {ref!r}: use letters, digits, '.', '_' and '-' "
                              f"(starting with a letter or digit), or give a path")
        path = runs_dir() / ref
    if must_exist:
        if not path.is_dir():
            raise StudioError(f"no run named {ref!r} (looked in {path})")
        if not (path / META).is_file():
            raise StudioError(f"{path} is not a run folder (no {META})")
    return path


class RunFolder:
    def __init__(self, path):
        self.path = Path(path)

    @property
    def name(self) -> str:
        return self.path.name

    # ---- reading --------------------------------------------------------------------------
    def read_meta(self, kind: Optional[str] = None) -> dict:
        """meta.json, checked; with ``kind``, a run of another kind is refused."""
        meta_path = self.path / META
        if not meta_path.is_file():
            raise StudioError(f"{self.path}: not a run folder (no {META})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise StudioError(f"{meta_path}: corrupted ({err})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise StudioError(f"{meta_path}: unknown format {found!r} (expected {FORMAT})")
        for key in ("kind", "config", "files"):
            if key not in meta:
                raise StudioError(f"{meta_path}: corrupted (no {key!r} entry)")
        if kind is not None and meta["kind"] != kind:
            raise StudioError(f"{self.path} is a {meta['kind']} run, not a {kind} run")
        return meta

    def verify(self, filename: str, meta: Optional[dict] = None) -> Path:
        """Check that ``filename`` exists and matches the sha256 in meta.json."""
        meta = meta or self.read_meta()
        path = self.path / filename
        expected = meta["files"].get(filename)
        if expected is None:
            raise StudioError(f"{self.path}: meta.json lists no {filename}")
        if not path.is_file():
            raise StudioError(f"{path}: missing")
        if sha256_file(path) != expected:
            raise StudioError(f"{path}: corrupted (checksum does not match meta.json); "
                              f"the file was changed or damaged after it was saved")
        return path

    def load_params(self, net: gluon.Block, which: str = "best", ctx=None, meta=None) -> dict:
        """Verify and load ``<which>.params`` into ``net`` (falls back to last if no best)."""
        meta = meta or self.read_meta()
        filename = f"{which}.params"
        if filename not in meta["files"] and which == "best":
            filename = "last.params"
        path = self.verify(filename, meta)
        try:
            net.load_parameters(str(path), ctx=ctx or mx.cpu())
        except (mx.base.MXNetError, AssertionError, ValueError) as err:
            first = str(err).strip().splitlines()[0][:300]
            raise StudioError(f"{path}: does not fit this model ({first})") from None
        return meta

    def load_states(self, meta: Optional[dict] = None) -> Dict[str, nd.NDArray]:
        path = self.verify(STATES, meta)
        try:
            return nd.load(str(path))
        except mx.base.MXNetError as err:
            raise StudioError(f"{path}: unreadable ({str(err).strip().splitlines()[0][:200]})") from None

    def require_new(self):
        """Refuse to start a fresh run on top of an existing one."""
        if (self.path / META).exists():
            raise StudioError(f"{self.path} already holds a run: pass --resume to continue it, "
                              f"or choose another --out")

    # ---- writing --------------------------------------------------------------------------
    def save_checkpoint(self, net: gluon.Block, meta: dict, states: Dict[str, nd.NDArray],
                        best: bool) -> dict:
        """Atomically write last.params (+ best.params) + trainer.states, then meta.json."""
        self.path.mkdir(parents=True, exist_ok=True)
        meta = dict(meta)
        files = dict(meta.get("files", {}))
        files["last.params"] = atomic_write_with(self.path / "last.params", net.save_parameters)
        if best:
            files["best.params"] = atomic_write_with(self.path / "best.params", net.save_parameters)
        files[STATES] = atomic_write_with(self.path / STATES, lambda tmp: nd.save(tmp, states))
        meta.update(format=FORMAT, files=files, versions=versions(), saved_at=time.time())
        atomic_write_json(self.path / META, meta)
        return meta

    def write_meta(self, meta: dict):
        atomic_write_json(self.path / META, meta)


def list_runs(kind: Optional[str] = None) -> List[dict]:
    """Summaries of every run in the runs folder (or only those of ``kind``); a damaged run is
    listed with its error (unless a kind is asked for)."""
    root = runs_dir()
    out = []
    if not root.is_dir():
        return out
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entry = {"name": path.name, "path": str(path)}
        try:
            meta = RunFolder(path).read_meta()
            best = meta.get("best") or {}
            entry.update(kind=meta["kind"], corpus=(meta.get("corpus") or {}).get("name"),
                         steps=(meta.get("state") or {}).get("step", 0),
                         best_val_loss=best.get("val_loss"), saved_at=meta.get("saved_at"),
                         size_bytes=sum(f.stat().st_size for f in path.iterdir() if f.is_file()))
        except StudioError as err:
            entry.update(kind="damaged", error=str(err))
        out.append(entry)
    return out if kind is None else [r for r in out if r["kind"] == kind]


def delete_run(ref: str):
    path = resolve_run(ref)
    shutil.rmtree(path)


def rename_run(ref: str, new_name: str) -> Path:
    path = resolve_run(ref)
    if not _NAME.fullmatch(new_name):
        raise StudioError(f"invalid run name {new_name!r}")
    target = path.parent / new_name
    if target.exists():
        raise StudioError(f"a run named {new_name!r} already exists")
    path.rename(target)
    return target
