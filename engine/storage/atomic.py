"""Atomic file writes: write to a temp name in the same folder, fsync, ``os.replace``.

A crash at any moment leaves either the old file or the new one, never a torn one. What is
written gets the permissions any program's new files get (``0o666`` less the umask), not the
owner-only ones of ``tempfile.mkstemp``: people open, share and copy what they saved.
"""
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Callable

TEMP_PREFIX = ".tmp-"


def _fsync_dir(folder: Path):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:          # not supported on every platform (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """A fresh hidden name beside ``path`` (what a crashed writer leaves is recognisable)."""
    return path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}")


def owned_temp_name(path: Path) -> Path:
    """A temp name beside ``path`` that says which process writes it (``remove_abandoned``)."""
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")


def remove_abandoned(folder: Path):
    """Remove the ``owned_temp_name`` files and folders of processes that are gone (killed, or
    stopped by a full disk): a later run cleans up after them."""
    for tmp in folder.glob(TEMP_PREFIX + "*"):
        pid = tmp.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":     # Windows' os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:              # it exists, as another user's
        return True
    return True


def atomic_write_with(path, write: Callable[[str], None], make_parent: bool = True) -> str:
    """Call ``write(tmp_path)`` to produce the file, then move it into place. Returns its sha256.
    The temp file is created first (with the umask's permissions); ``write`` may replace it.
    ``make_parent=False``: a missing folder is an error, not made (a run folder moved away)."""
    path = Path(path)
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(str(tmp))
        digest = hashlib.sha256()
        with open(tmp, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return digest.hexdigest()


def atomic_write_bytes(path, data: bytes, make_parent: bool = True) -> str:
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
    return atomic_write_with(path, write, make_parent)


def atomic_write_json(path, obj, make_parent: bool = True) -> str:
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode(),
                              make_parent)


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
