"""The folder an export writes into: new, empty, or holding only an earlier export's files."""
from pathlib import Path

from .errors import StudioError

EXPORT_FILES = {"model-symbol.json", "model-0000.params", "meta.json", "README.md", "model.onnx"}


def prepare_export_folder(out: Path, force: bool):
    """Create ``out``; refuse a folder that holds other files (unless ``force``)."""
    if out.exists() and any(out.iterdir()) and not force:
        if {p.name for p in out.iterdir()} - EXPORT_FILES:
            raise StudioError(f"{out} exists and holds other files; choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)
