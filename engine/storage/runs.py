"""Run folders: the on-disk checkpoint of one model (format ``rnn-studio/2``).

::

    runs/<name>/meta.json               the current checkpoint: config, vocab, labels, corpus,
                                        history, best, state, and where its files are:
                                        files{name: sha256}, paths{name: relative path}
                 gen-000007/last.params  Gluon parameters (MXNet NDArray format, never pickle)
                            best.params  best on validation so far (when this save was the best)
                            trainer.states  optimizer state + carried hidden state (NDArray)
                            manifest.json   the meta.json this generation was saved with
                 gen-000006/...          the previous checkpoint, kept to fall back on
                 gen-000004/best.params  an older save's best model, while a kept checkpoint
                                        names it: only that file stays (no manifest)
                 .lock                   held by the one process that trains this run

A checkpoint becomes visible as one unit: each save writes a new generation folder (its files,
then its manifest), and only then replaces ``meta.json``, atomically, to point at it. A crash at
any instant leaves the previous meta.json and every file it names untouched; older generations
are pruned only after the switch. Loading checks each file's sha256 (MXNet alone loads about half
of bit-flipped files silently) and falls back to the newest complete generation, saying so.

Format ``rnn-studio/1`` (files beside meta.json, no ``paths``) still loads; its next save moves
the run to generations.
"""
import contextlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import mxnet as mx
from mxnet import gluon, nd

from engine import __version__
from engine.storage.atomic import TEMP_PREFIX, atomic_write_json, atomic_write_with, sha256_file
from engine.storage.disk import mxnet_write, reason
from engine.errors import StudioError
from engine.memory import OutOfMemory
from engine.storage.paths import runs_dir
from engine.storage.run_meta import FORMAT, RunMeta
from engine.wording import setting

META = "meta.json"
MANIFEST = "manifest.json"
LOCK = ".lock"
PARAM_FILES = ("last.params", "best.params")
STATES = "trainer.states"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_GENERATION = re.compile(r"gen-(\d{6,})")
log = logging.getLogger("rnn_studio")


def versions() -> dict:
    import gluonnlp
    return {"engine": __version__, "mxnet": mx.__version__, "gluonnlp": gluonnlp.__version__}


def resolve_run(ref: str, must_exist: bool = True, allow_path: bool = True) -> Path:
    """A run name (folder in the runs directory) or a path to a run folder -> its path.

    Bare names must be plain folder names, so nothing escapes the runs folder: a name whose
    folder is a link to elsewhere is refused too. ``allow_path=False`` (the GUI) takes names only.
    """
    ref = str(ref)
    if allow_path and ("/" in ref or "\\" in ref or ref.startswith("~")):
        path = Path(ref).expanduser()
    else:
        if not _NAME.fullmatch(ref):
            raise StudioError(f"invalid run name {ref!r}: use letters, digits, '.', '_' and '-' "
                              f"(starting with a letter or digit)"
                              + (", or give a path" if allow_path else ""))
        path = runs_dir() / ref
        if path.is_symlink() or (path.exists() and path.resolve().parent != runs_dir().resolve()):
            raise StudioError(f"{path}: the run name {ref!r} is a link to a folder outside the "
                              f"runs folder; refused")
    if must_exist:
        if not path.is_dir():
            raise StudioError(f"no run named {ref!r} (looked in {path})")
        if not RunFolder(path).exists():
            raise StudioError(f"{path} is not a run folder (no {META})")
    return path


class RunFolder:
    def __init__(self, path):
        self.path = Path(path)
        self._held = None            # while writing(): the lock file and folder this process holds

    @property
    def name(self) -> str:
        return self.path.name

    def exists(self) -> bool:
        """Whether a checkpoint was ever completed here (meta.json, or a generation's manifest)."""
        return (self.path / META).is_file() or bool(self._manifests())

    # ---- reading --------------------------------------------------------------------------
    def read_meta(self, kind: Optional[str] = None) -> RunMeta:
        """meta.json, checked; with ``kind``, a run of another kind is refused. A missing or
        damaged meta.json falls back to the newest generation's manifest (with a warning)."""
        meta_path = self.path / META
        try:
            meta = self._checked_meta(meta_path)
        except StudioError as err:
            meta = self._newest_manifest()
            if meta is None:
                raise
            log.warning("%s; using the checkpoint of step %s saved beside it instead",
                        err, meta.step)
        if kind is not None and meta.kind != kind:
            raise StudioError(f"{self.path} is a {meta.kind} run, not a {kind} run")
        return meta

    def _checked_meta(self, meta_path: Path) -> RunMeta:
        if not meta_path.is_file():
            raise StudioError(f"{self.path}: not a run folder (no {META})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise StudioError(f"{meta_path}: corrupted ({err})") from None
        except OSError as err:
            raise StudioError(f"{meta_path}: unreadable ({err.strerror})") from None
        return RunMeta.from_json(meta, str(meta_path))

    def _manifests(self) -> List[Path]:
        """The generations' manifests, newest first. A generation kept only for its best
        model has none (see ``_prune``): it is no checkpoint to fall back on."""
        if not self.path.is_dir():
            return []
        found = [(int(m.group(1)), d / MANIFEST) for d in self.path.iterdir()
                 if (m := _GENERATION.fullmatch(d.name)) and (d / MANIFEST).is_file()]
        return [path for _, path in sorted(found, reverse=True)]

    def _newest_manifest(self, older_than: Optional[int] = None) -> Optional[RunMeta]:
        for path in self._manifests():
            try:
                meta = self._checked_meta(path)
            except StudioError:
                continue
            if older_than is None or meta.generation < older_than:
                return meta
        return None

    def file_path(self, filename: str, meta: RunMeta) -> Path:
        return self.path / meta.paths.get(filename, filename)

    def verify(self, filename: str, meta: Optional[RunMeta] = None) -> Path:
        """Check that ``filename`` exists and matches the sha256 in meta.json."""
        meta = meta or self.read_meta()
        path = self.file_path(filename, meta)
        expected = meta.files.get(filename)
        if expected is None:
            raise StudioError(f"{self.path}: meta.json lists no {filename}")
        if not path.is_file():
            raise StudioError(f"{path}: missing")
        if sha256_file(path) != expected:
            raise StudioError(f"{path}: corrupted (checksum does not match meta.json); "
                              f"the file was changed or damaged after it was saved")
        return path

    def load_params(self, net: gluon.Block, which: str = "best", ctx=None,
                    meta: Optional[RunMeta] = None) -> RunMeta:
        """Verify and load ``<which>.params`` into ``net`` (falls back to last if no best).

        A damaged file falls back to the newest older generation whose files are whole (with a
        warning); the meta of the checkpoint actually loaded is returned: use it for the rest
        of that checkpoint (its optimizer state, its step)."""
        meta = meta or self.read_meta()
        try:
            self._load_params(net, which, ctx, meta)
            return meta
        except StudioError as err:
            older = meta
            while (older := self._newest_manifest(older_than=older.generation)):
                try:
                    self._load_params(net, which, ctx, older)
                except StudioError:
                    continue
                log.warning("%s; loaded the previous checkpoint (step %s) instead", err,
                            older.step)
                return older
            raise

    def _load_params(self, net: gluon.Block, which: str, ctx, meta: RunMeta):
        filename = f"{which}.params"
        if filename not in meta.files and which == "best":
            filename = "last.params"
        path = self.verify(filename, meta)
        if which == "last" and STATES in meta.files:
            self.verify(STATES, meta)            # a resumable checkpoint is whole, or not used
        try:
            net.load_parameters(str(path), ctx=ctx or mx.cpu())
        except (mx.base.MXNetError, AssertionError, ValueError, KeyError, MemoryError) as err:
            _raise_if_out_of_memory(err)
            first = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
            raise StudioError(f"{path}: does not fit this model ({first})") from None

    def load_states(self, meta: Optional[RunMeta] = None) -> Dict[str, nd.NDArray]:
        path = self.verify(STATES, meta)
        try:
            return nd.load(str(path))
        except (mx.base.MXNetError, MemoryError) as err:
            _raise_if_out_of_memory(err)
            raise StudioError(f"{path}: unreadable ({str(err).strip().splitlines()[0][:200]})") from None

    def require_new(self):
        """Refuse to start a fresh run on top of an existing one."""
        if self.exists():
            raise StudioError(f"{self.path} already holds a run: continue it with ",
                              setting("resume"), ", or choose another ", setting("out"))

    # ---- one writer -----------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator["RunFolder"]:
        """Hold the run's lock while training it: a second process (or a second job in the
        same process) is refused. The lock is an OS file lock, so a crashed process never
        leaves it stuck. A new run that never completed a checkpoint leaves no folder behind."""
        try:
            created = not self.path.exists()
            if not created and self.path.is_dir() and not self.exists() and any(
                    not _left_by_a_run(p.name) for p in self.path.iterdir()):
                raise StudioError(f"{self.path} is a folder that holds other files, not a run: "
                                  f"give a new or empty folder (or a run's name)")
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK, "a+")
        except OSError as err:
            raise StudioError(f"cannot write in {self.path}: {reason(err)}") from None
        try:
            if not _try_lock(handle):
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StudioError(f"{self.path} is being trained by {holder}: wait for it to "
                                  f"finish (or stop it) before training this run again")
            try:                         # who holds it, for the message above (best effort:
                handle.seek(0)           # the lock itself is the OS's, not these bytes)
                handle.truncate()
                handle.write(f"process {os.getpid()}")
                handle.flush()
            except OSError:
                pass
            for stale in self.path.glob(TEMP_PREFIX + "*"):   # half-written by a crashed writer
                stale.unlink(missing_ok=True)
            self._held = (handle, _identity(os.fstat(handle.fileno())),
                          _identity(os.stat(self.path)))
            try:
                yield self
            finally:
                still_ours = self._still_held() is None
                self._held = None
                if still_ours and not self.exists():   # no checkpoint was completed: no trace
                    self._remove_leftovers(whole_folder=created)
        finally:
            handle.close()               # closing releases the lock

    def _still_held(self) -> Optional[str]:
        """None while the folder at ``self.path`` and its lock are the ones this process locked;
        else where the locked folder is now (or that it is gone). A folder moved or renamed by
        hand takes its lock along: a second trainer may then lock a new folder of the old name,
        and this process must neither write there nor recreate it."""
        if self._held is None:
            return None
        handle, lock_id, folder_id = self._held
        try:
            same = (_identity(os.stat(self.path / LOCK)) == lock_id
                    and _identity(os.stat(self.path)) == folder_id)
        except OSError:
            same = False
        if same:
            return None
        try:                             # Linux: where the open lock file is now
            now = Path(os.readlink(f"/proc/self/fd/{handle.fileno()}")).parent
            return f"it is now {now}" if now.exists() else "it was deleted"
        except OSError:
            return "it was moved, renamed or deleted"

    def _require_held(self):
        """Refuse to save when the run folder was moved, renamed or replaced under this writer."""
        where = self._still_held()
        if where is not None:
            raise StudioError(f"{self.path} is no longer the run folder this process locked "
                              f"({where}): training stopped without writing there, so that two "
                              f"trainers never mix their work; the checkpoints saved before are "
                              f"in the folder that was moved")

    def _remove_leftovers(self, whole_folder: bool):
        """What a run that never completed a checkpoint wrote (its lock, temp files, a split, a
        half-written generation); ``whole_folder``: the folder too, which it created."""
        if whole_folder:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for entry in self.path.iterdir():
            ours = entry.name == LOCK or entry.name.startswith(TEMP_PREFIX) or (
                _left_by_a_run(entry.name) and not entry.name.startswith("."))
            if ours and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            elif ours:
                entry.unlink(missing_ok=True)

    # ---- writing --------------------------------------------------------------------------
    def save_checkpoint(self, net: gluon.Block, meta: RunMeta, states: Dict[str, nd.NDArray],
                        best: bool) -> RunMeta:
        """Write a new generation (last.params, best.params when ``best``, trainer.states, its
        manifest), then switch meta.json to it atomically, then prune generations that neither
        this checkpoint nor the previous one names. Returns the new meta.

        A failed write (a full disk, a read-only folder; MXNet's own failures included, see
        disk.py) removes the half-written generation and raises a StudioError: the previous
        checkpoint stays as it was."""
        self._require_held()
        generation = meta.generation + 1
        folder = self.path / f"gen-{generation:06d}"
        files, paths = dict(meta.files), dict(meta.paths)
        try:
            if folder.exists():          # left by a crash, and named by no checkpoint
                shutil.rmtree(folder)
            folder.mkdir()               # never parents=True: a moved run folder is not remade
            written = {"last.params": net.save_parameters, STATES: lambda tmp: nd.save(tmp, states)}
            if best:
                written["best.params"] = net.save_parameters
            for name, write in written.items():
                files[name] = atomic_write_with(
                    folder / name, lambda tmp, write=write: mxnet_write(lambda: write(tmp), tmp),
                    make_parent=False)
                paths[name] = f"{folder.name}/{name}"
            new = meta.replace(format=FORMAT, generation=generation, files=files, paths=paths,
                               versions=versions(), saved_at=time.time())
            atomic_write_json(folder / MANIFEST, new.to_json(), make_parent=False)
            self._require_held()         # moved while this generation was written: no switch
            atomic_write_json(self.path / META, new.to_json(), make_parent=False)   # the switch
        except (OSError, OutOfMemory) as err:
            self._require_held()         # the folder went away mid-save: say that, touch nothing
            shutil.rmtree(folder, ignore_errors=True)
            try:             # the caller's meta already holds the new state: ask the disk
                kept = f"the checkpoint of step {self.read_meta().step} is kept"
            except StudioError:
                kept = "no checkpoint was saved yet"
            why = err.parts if isinstance(err, OutOfMemory) else (reason(err),)
            raise StudioError(f"cannot save a checkpoint in {self.path}: ", *why,
                              f"; {kept}") from None
        self._prune(keep=[new, meta])
        return new

    def _prune(self, keep: List[RunMeta]):
        """Remove every file that no checkpoint in ``keep`` needs: whole generations that none
        names, the unnamed files of a generation kept only for some of its files (the best
        model of an older save: its last.params and trainer.states go, and its manifest, so
        that it is no checkpoint to fall back on any more), pre-generation files and temp
        files. Best effort: what fails now is pruned by a later save."""
        needed = self._needed_files(keep)
        for entry in self.path.iterdir():
            try:
                if _GENERATION.fullmatch(entry.name) and entry.is_dir():
                    self._prune_generation(entry, needed)
                elif (entry.name in PARAM_FILES + (STATES,) or entry.name.startswith(TEMP_PREFIX)) \
                        and entry.resolve() not in needed:
                    entry.unlink()
            except OSError as err:
                log.debug("could not prune %s: %s", entry, err)

    def _needed_files(self, keep: List[RunMeta]) -> set:
        """The files that the checkpoints in ``keep`` name, and the manifest of each one's own
        generation (what a damaged meta.json or a damaged newer generation falls back to)."""
        needed = {self.file_path(name, m).resolve() for m in keep for name in m.files}
        needed |= {(self.path / f"gen-{m.generation:06d}" / MANIFEST).resolve()
                   for m in keep if m.generation}
        return needed

    @staticmethod
    def _prune_generation(folder: Path, needed: set):
        """Remove ``folder`` if it holds nothing needed, else only its files that are not.
        Its manifest goes first: a crash midway leaves a generation with all its files or
        one without a manifest, which no reader takes for a checkpoint (``_manifests``)."""
        files = sorted(folder.iterdir(), key=lambda f: f.name != MANIFEST)
        if not any(f.resolve() in needed for f in files):
            shutil.rmtree(folder)
            return
        for f in files:
            if f.resolve() in needed:
                continue
            if f.is_dir():
                shutil.rmtree(f)
            else:
                f.unlink()

    def write_meta(self, meta: RunMeta):
        self._require_held()
        try:
            atomic_write_json(self.path / META, meta.to_json(), make_parent=False)
        except OSError as err:
            raise StudioError(f"cannot write {self.path / META}: {reason(err)}") from None


def _left_by_a_run(name: str) -> bool:
    """A file that a run that crashed before its first checkpoint may have left behind."""
    return (name.startswith(".") or bool(_GENERATION.fullmatch(name))
            or name in (META, "split.json") + PARAM_FILES + (STATES,))


def _identity(stat: os.stat_result) -> tuple:
    return stat.st_dev, stat.st_ino


def _try_lock(handle) -> bool:
    try:
        import fcntl
    except ImportError:           # Windows: msvcrt locks the first byte instead
        import msvcrt
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def list_runs(kind: Optional[str] = None) -> List[dict]:
    """Summaries of every run in the runs folder (or only those of ``kind``); a damaged run is
    listed with its error (unless a kind is asked for)."""
    root = runs_dir()
    out = []
    if not root.is_dir():
        return out
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (path / LOCK).exists() and not RunFolder(path).exists():
            continue                  # a new run before its first checkpoint
        entry = {"name": path.name, "path": str(path)}
        try:
            meta = RunFolder(path).read_meta()
            entry.update(kind=meta.kind, corpus=meta.corpus.get("name"), steps=meta.step,
                         best_val_loss=(meta.best or {}).get("val_loss"), saved_at=meta.saved_at,
                         size_bytes=sum(f.stat().st_size for f in path.rglob("*") if f.is_file()))
        except StudioError as err:
            entry.update(kind="damaged", error=str(err))
        out.append(entry)
    return out if kind is None else [r for r in out if r["kind"] == kind]


def run_exists(name: str) -> bool:
    """Whether ``name`` names a run that can be resumed (False for names that are not valid)."""
    try:
        resolve_run(name, must_exist=True, allow_path=False)
        return True
    except StudioError:
        return False


def _require_idle(path: Path):
    """Refuse to change a run that a process is training right now."""
    with RunFolder(path).writing():
        pass


def delete_run(ref: str):
    path = resolve_run(ref)
    if path.is_symlink():        # a path given to a link: the same refusal the name form gives
        raise StudioError(f"{path} is a link to a folder, not a run folder: refused (remove the "
                          f"link itself, or delete the run by its own path)")
    _require_idle(path)
    shutil.rmtree(path)


def rename_run(ref: str, new_name: str) -> Path:
    path = resolve_run(ref)
    _require_idle(path)
    if not _NAME.fullmatch(new_name):
        raise StudioError(f"invalid run name {new_name!r}")
    target = path.parent / new_name
    if target.exists():
        raise StudioError(f"a run named {new_name!r} already exists")
    path.rename(target)
    return target


def _raise_if_out_of_memory(err: BaseException) -> None:
    """A checkpoint that could not be read because memory ran out is not damaged: say so (MXNet
    words it as a traceback whose first line tells nothing; seen under ``prlimit --as``)."""
    from engine.memory import as_out_of_memory
    if (memory := as_out_of_memory(err)) is not None:
        raise memory from None
