"""The folder an export writes into: new, empty, or holding only an earlier export's files;
never inside a run folder (the run's next save would prune it) nor the runs folder.

An export is written whole or not at all: ``write_export`` lets the exporter fill a hidden
folder beside the destination, checks what MXNet wrote (disk.py), and only then moves the files
into place; a full disk or a read-only folder leaves nothing partial behind.
"""
import json
import os
import shutil
from pathlib import Path
from typing import Callable

from engine.storage.atomic import temp_name
from engine.storage.disk import mxnet_write, reason
from engine.errors import StudioError
from engine.storage.paths import runs_dir

EXPORT_FILES = {"model-symbol.json", "model-0000.params", "meta.json", "README.md", "model.onnx",
                "model.html"}
PARAMS = "model-0000.params"


def prepare_export_folder(out: Path, force: bool):
    """Create ``out``; refuse a folder that holds other files (unless ``force``)."""
    if out.exists() and any(out.iterdir()) and not force:
        if {p.name for p in out.iterdir()} - EXPORT_FILES:
            raise StudioError(f"{out} exists and holds other files; choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)


def check_destination(out: Path, force: bool):
    """Refuse what ``write_export`` must not write into, before any work is done."""
    try:
        where = Path(out).expanduser().resolve()
        runs = runs_dir().resolve()
        for folder in (where, *where.parents):
            if folder.parent == runs or _is_run(folder):
                raise StudioError(f"{out} is inside the run folder {folder}: the run's next save "
                                  f"would delete it; export to a folder outside it")
            if folder == runs:
                raise StudioError(f"{out} is the runs folder itself; export to a folder "
                                  f"outside it")
        if where.exists():
            if not where.is_dir():
                raise StudioError(f"{out} is a file, not a folder")
            prepare_export_folder(where, force)
    except OSError as err:
        raise StudioError(f"cannot export to {out}: {reason(err)}") from None


def _is_run(folder: Path) -> bool:
    """A run folder (its meta.json is a run's, or it has a checkpoint generation), not an
    export (whose meta.json says ``rnn-studio-export``)."""
    if any(folder.glob("gen-*/manifest.json")):
        return True
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8")).get(
            "format", "").startswith("rnn-studio/")
    except (OSError, ValueError, AttributeError):
        return False


def write_export(out: Path, fill: Callable[[Path], None]) -> Path:
    """Call ``fill(folder)`` to write an export into a new hidden folder beside ``out``, check
    the parameters MXNet wrote, then move the files into ``out`` (replacing an earlier export's,
    and removing those of its files this one does not have)."""
    out = Path(out).expanduser()
    tmp = temp_name(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(tmp, 0o777)             # the umask's permissions, as every file inside
        mxnet_write(lambda: fill(tmp), tmp / PARAMS)
        if not out.exists():
            os.replace(tmp, out)
            return out
        for name in EXPORT_FILES - {p.name for p in tmp.iterdir()}:
            (out / name).unlink(missing_ok=True)
        for done in tmp.iterdir():
            os.replace(done, out / done.name)
        return out
    except OSError as err:
        raise StudioError(f"cannot export to {out}: {reason(err)}; nothing was written") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
