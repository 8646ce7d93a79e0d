"""A person's own document (the Write tab): read and saved with its encoding, byte-order mark
and line ends kept, saved atomically, a change on disk by another program noticed before it is
overwritten, and an autosave copy (a draft) under the studio home, beside the runs folder, to
recover after a crash or a kill -9."""
import codecs
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from engine.errors import StudioError
from engine.text import SNIFF_BYTES, resolved_encoding
from engine.storage.atomic import _alive, atomic_write_bytes, atomic_write_json
from engine.storage.paths import studio_home

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024        # the editor stays responsive well below this


@dataclass
class Document:
    path: Optional[Path]            # None until first saved
    encoding: str = "utf-8"
    newline: str = "\n"
    stamp: Optional[tuple] = None   # (size, mtime_ns) when last read or written

    @property
    def name(self) -> str:
        return self.path.name if self.path else "Untitled"


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def decode(data: bytes, name: str):
    """(text with \\n line ends, encoding, newline) of a document's bytes; a clear error for a
    binary file or one in no encoding tried."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"                      # kept, so a save writes the mark back
    else:   # UTF-16 with or without a byte-order mark, as training reads it (engine/text.py)
        encoding = resolved_encoding("utf-8", data[:SNIFF_BYTES])
        if encoding == "utf-8" and b"\0" in data[:8192]:
            raise StudioError(f"{name} looks like a binary file, not text: open a .txt or .md "
                              f"document")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise StudioError(f"{name} is neither UTF-8 nor Windows-1252 text") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    return text.replace("\r\n", "\n"), encoding, newline


def open_document(path) -> tuple:
    """(Document, text) of the file at ``path``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise StudioError(f"{path.name} is {size / 2**20:.1f} MB; the Write tab opens "
                              f"documents up to {MAX_DOCUMENT_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as err:
        raise StudioError(f"cannot read {path}: {err.strerror or err}") from None
    text, encoding, newline = decode(data, path.name)
    return Document(path, encoding, newline, _stamp(path)), text


def changed_on_disk(doc: Document) -> bool:
    """Whether the file was changed (or removed) by someone else since it was read or saved."""
    if doc.path is None or doc.stamp is None:
        return False
    try:
        return _stamp(doc.path) != doc.stamp
    except OSError:
        return True


def save_document(doc: Document, text: str, overwrite_changes: bool = False) -> Document:
    """Write ``text`` to ``doc.path`` atomically in its own encoding and line ends. A file
    changed on disk since it was read is not overwritten unless ``overwrite_changes``."""
    if doc.path is None:
        raise StudioError("choose where to save the document first")
    if not overwrite_changes and changed_on_disk(doc) and doc.path.exists():
        raise StudioError(f"{doc.path.name} was changed on disk by another program since it "
                          f"was opened; saving would overwrite those changes")
    try:
        data = text.replace("\n", doc.newline).encode(doc.encoding)
    except UnicodeEncodeError as err:
        raise StudioError(f"{doc.path.name} is {doc.encoding} text, which cannot hold "
                          f"{err.object[err.start:err.end]!r}; save it as UTF-8 instead") from None
    try:
        atomic_write_bytes(doc.path, data)
    except OSError as err:
        raise StudioError(f"cannot save {doc.path}: {err.strerror or err}") from None
    doc.stamp = _stamp(doc.path)
    return doc


# ---- drafts: the autosave copies -----------------------------------------------------------
def drafts_dir() -> Path:
    return studio_home() / "drafts"


def draft_path(pid: Optional[int] = None) -> Path:
    return drafts_dir() / f"write-{pid or os.getpid()}.json"


def save_draft(doc: Document, text: str) -> Path:
    path = draft_path()
    atomic_write_json(path, {"path": str(doc.path) if doc.path else None,
                             "encoding": doc.encoding, "newline": doc.newline,
                             "saved_at": time.time(), "text": text})
    return path


def remove_draft():
    try:
        draft_path().unlink()
    except FileNotFoundError:
        pass


@dataclass
class Draft:
    file: Path
    doc: Document
    text: str
    saved_at: float


def orphaned_drafts() -> List[Draft]:
    """Drafts left by an app that did not close (a crash, a kill -9), newest first."""
    found = []
    for file in sorted(drafts_dir().glob("write-*.json")):
        try:
            pid = int(file.stem.split("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            data = json.loads(file.read_text("utf-8"))
            doc = Document(Path(data["path"]) if data["path"] else None, data["encoding"],
                           data["newline"])
            found.append(Draft(file, doc, data["text"], float(data["saved_at"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda d: -d.saved_at)
