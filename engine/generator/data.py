"""Character data: the vocabulary, the encoded text in the cache, and BPTT batches.

A corpus is encoded once into an integer ``.npy`` file (uint8/uint16/int32 by vocabulary size)
under the cache, with a record of its size and sha256 beside it; each run checks the file
against that record (and every id against the vocabulary) and encodes the text again when it is
damaged. Training reads the ids it needs with plain reads (``IdFile``), so a 100 MB text costs
no Python list of characters and no copy in memory. gluonnlp's ``CorpusBPTTBatchify`` works on
Python token lists, so the contiguous-stream batching is done here with numpy instead: same
layout (TNC, one contiguous stream per batch row).
"""
import collections
import errno
import hashlib
import io
import json
import logging
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import gluonnlp as nlp
import numpy as np

from engine.storage.atomic import atomic_write_json, owned_temp_name, remove_abandoned
from engine.storage.disk import reason
from engine.errors import StudioError
from engine.storage.paths import cache_dir
from engine.text import TextInfo, inspect_text_file, iter_text_chunks

log = logging.getLogger("rnn_studio")


class CharVocab:
    """Characters <-> ids, stored as a gluonnlp ``Vocab`` (no unknown token: the char models
    report unseen characters instead of mapping them to ``<unk>``)."""

    def __init__(self, vocab: nlp.Vocab):
        self.vocab = vocab
        self.chars: List[str] = list(vocab.idx_to_token)
        codes = np.array([ord(c) for c in self.chars], dtype=np.int64)
        order = np.argsort(codes)
        self._sorted_codes = codes[order]
        self._sorted_ids = order.astype(np.int64)

    @classmethod
    def from_counter(cls, counter: Dict[str, int]) -> "CharVocab":
        vocab = nlp.Vocab(nlp.data.Counter(counter), unknown_token=None, padding_token=None,
                          bos_token=None, eos_token=None, min_freq=1)
        return cls(vocab)

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls.from_counter(collections.Counter(text))

    def to_json(self) -> str:
        return self.vocab.to_json()

    @classmethod
    def from_json(cls, data: str) -> "CharVocab":
        return cls(nlp.Vocab.from_json(data))

    def __len__(self):
        return len(self.chars)

    def unknown_chars(self, text: str) -> List[str]:
        return sorted(set(text) - set(self.chars))

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text`` as int64; characters outside the vocabulary become -1."""
        if not text:
            return np.zeros(0, dtype=np.int64)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        pos = np.searchsorted(self._sorted_codes, codes)
        pos = np.minimum(pos, len(self._sorted_codes) - 1)
        found = self._sorted_codes[pos] == codes
        return np.where(found, self._sorted_ids[pos], -1)

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    @property
    def dtype(self):
        n = len(self.chars)
        return np.uint8 if n <= 255 else (np.uint16 if n <= 65535 else np.int32)


def count_chars(path, encoding: str = "utf-8") -> collections.Counter:
    counts = collections.Counter()
    for chunk in iter_text_chunks(path, encoding):
        counts.update(chunk)
    return counts


class DataChanged(StudioError):
    """The training data changed on disk while a run was training on it."""


def _stamp(st: os.stat_result) -> tuple:
    # an in-place write changes the modification time, a truncation the size too; not the
    # change time, which a rebuild by another process (the old file unlinked) also moves
    return st.st_size, st.st_mtime_ns


class _OpenFile:
    """One open cache file and its state when it was verified."""

    def __init__(self, path: Path, data_offset: int):
        self.path, self.data_offset = path, data_offset
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        weakref.finalize(self, os.close, self.fd)
        self.stamp = _stamp(os.fstat(self.fd))

    def changed(self) -> Optional[str]:
        """Why the file is no longer what was verified (None: it is)."""
        now = _stamp(os.fstat(self.fd))
        if now == self.stamp:
            return None
        what = "shortened" if now[0] < self.stamp[0] else "overwritten"
        return f"{self.path}: the encoded text cache was {what} while training on it"


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)             # Windows has no pread
    return os.read(fd, size)


class IdFile:
    """Character ids in the cache file, read with plain reads where a batch needs them.

    Not a memory map: a mapped file that something truncates kills the process with SIGBUS (no
    message, no checkpoint). A short read raises ``DataChanged``, and ``changed()`` (one
    ``fstat``, asked before each training step) notices a file written over in place. Slicing
    gives a view over the same open file, as a numpy array would."""

    def __init__(self, opened: _OpenFile, dtype, start: int, stop: int):
        self._file, self.dtype, self.start, self.stop = opened, np.dtype(dtype), start, stop

    @property
    def path(self) -> Path:
        return self._file.path

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def shape(self) -> Tuple[int]:
        return (len(self),)

    def __getitem__(self, key: slice) -> "IdFile":
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("an IdFile is sliced with [start:stop]; read(start, stop) reads ids")
        start, stop, _ = key.indices(len(self))
        return IdFile(self._file, self.dtype, self.start + start, self.start + max(start, stop))

    def read(self, start: int, stop: int) -> np.ndarray:
        """Ids [start, stop) of this view."""
        size = self.dtype.itemsize
        count = max(0, min(stop, len(self)) - max(start, 0))
        offset = self._file.data_offset + (self.start + max(start, 0)) * size
        raw = _pread(self._file.fd, count * size, offset)
        if len(raw) != count * size:
            raise DataChanged(f"{self.path}: the encoded text cache was shortened while "
                              f"training on it")
        return np.frombuffer(raw, dtype=self.dtype)

    def changed(self) -> Optional[str]:
        return self._file.changed()

    def __array__(self, dtype=None):
        """All the ids of this view in memory (``np.asarray(ids)``), for the few readers that
        want them whole."""
        ids = self.read(0, len(self))
        return ids if dtype is None else ids.astype(dtype)

    def astype(self, dtype) -> np.ndarray:
        return np.asarray(self, dtype=dtype)


def ids_of(ids, start: int, stop: int) -> np.ndarray:
    """Ids [start, stop) of an ``IdFile`` or a numpy array."""
    return ids.read(start, stop) if isinstance(ids, IdFile) else np.asarray(ids[start:stop])


@dataclass
class EncodedCorpus:
    info: TextInfo
    vocab: CharVocab
    ids: IdFile                # the cached ids, verified

    @property
    def num_chars(self) -> int:
        return len(self.ids)


def encoded_cache_path(text_sha256: str, vocab: CharVocab) -> Path:
    """Where ``encode_corpus`` keeps a text's ids: one file per text (by its sha256) and
    vocabulary, keyed by the characters, not the vocabulary's JSON (which a resumed run's Vocab
    writes differently): a new run and its resumes share one cache file. Indexes of the same text
    (the novelty check's suffix array) sit beside it."""
    key = hashlib.sha256((text_sha256 + json.dumps(vocab.chars)).encode()).hexdigest()[:24]
    return cache_dir() / "encoded" / f"{key}.npy"


def encode_corpus(path, encoding: str = "utf-8", vocab: Optional[CharVocab] = None,
                  info: Optional[TextInfo] = None) -> EncodedCorpus:
    """Check, count and encode a text file into the cache (once), and open it verified.

    With ``vocab`` given (resuming), the text must not contain characters outside it. A cache
    file that is damaged (a wrong size, checksum or id) is encoded again, with a warning."""
    info = info or inspect_text_file(path, encoding)
    if vocab is None:
        vocab = CharVocab.from_counter(count_chars(path, encoding))
    target = encoded_cache_path(info.sha256, vocab)
    ids, damage = _open_verified(target, len(vocab))
    if ids is None:
        if damage:
            log.warning("%s; encoding the text again", damage)
        _write_cache(path, encoding, vocab, target)
        ids, damage = _open_verified(target, len(vocab))
        if ids is None:
            raise StudioError(f"the encoded text cache cannot be read back: {damage}")
    return EncodedCorpus(info, vocab, ids)


def _record_of(target: Path) -> Path:
    return target.with_suffix(".json")


def _open_verified(target: Path, vocab_size: int) -> Tuple[Optional[IdFile], Optional[str]]:
    """The cache file opened, if it is what was written: its size, its sha256 (recorded when it
    was written) and every id within the vocabulary. Else (None, what is wrong; None when there
    is no cache yet)."""
    try:
        record = json.loads(_record_of(target).read_text(encoding="utf-8"))
        opened = _OpenFile(target, int(record["data_offset"]))
    except FileNotFoundError:
        return None, (f"{target}: the encoded text cache has no record of what was written"
                      if target.exists() else None)
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"{target}: the encoded text cache is damaged ({err})"
    dtype = np.dtype(record.get("dtype", "u1"))
    if opened.stamp[0] != record.get("bytes"):
        return None, (f"{target}: the encoded text cache is damaged ({opened.stamp[0]:,} bytes, "
                      f"{record.get('bytes'):,} were written)")
    digest, largest, at = hashlib.sha256(), -1, 0
    while block := _pread(opened.fd, 1 << 22, at):
        digest.update(block)
        data = block[max(0, opened.data_offset - at):]
        if data:
            largest = max(largest, int(np.frombuffer(data, dtype=dtype).max()))
        at += len(block)
    if digest.hexdigest() != record.get("sha256"):
        return None, f"{target}: the encoded text cache is damaged (its checksum changed)"
    if largest >= vocab_size:
        return None, (f"{target}: the encoded text cache is damaged (id {largest} is outside "
                      f"the vocabulary of {vocab_size})")
    return IdFile(opened, dtype, 0, int(record["chars"])), None


def _write_cache(path, encoding: str, vocab: CharVocab, target: Path):
    """Encode the text into ``target`` with plain writes (a full disk is an error that says so,
    never a SIGBUS in a sparse memory map), then record its size and sha256 beside it."""
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_abandoned(folder)
        total = sum(len(c) for c in iter_text_chunks(path, encoding))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {
            "descr": np.lib.format.dtype_to_descr(np.dtype(vocab.dtype)),
            "fortran_order": False, "shape": (total,)})
        tmp = owned_temp_name(target)
        digest = hashlib.sha256(header.getvalue())
        try:
            with open(tmp, "wb") as f:
                f.write(header.getvalue())
                for chunk in iter_text_chunks(path, encoding):
                    ids = vocab.encode(chunk)
                    if (ids < 0).any():
                        raise StudioError(f"{path}: characters the model has never seen: "
                                          f"{_show_chars(vocab.unknown_chars(chunk))}")
                    data = ids.astype(vocab.dtype).tobytes()
                    f.write(data)
                    digest.update(data)
                f.flush()
                os.fsync(f.fileno())
            size = tmp.stat().st_size
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        atomic_write_json(_record_of(target), {
            "bytes": size, "sha256": digest.hexdigest(), "chars": total,
            "data_offset": len(header.getvalue()), "dtype": np.dtype(vocab.dtype).str,
            "vocab_size": len(vocab)})
    except OSError as err:
        raise StudioError(f"cannot write the encoded text cache in {folder}: {reason(err)}"
                          + (" (RNN_STUDIO_HOME says where the cache lives)"
                             if err.errno == errno.ENOSPC else "")) from None


def _show_chars(chars: List[str], limit: int = 20) -> str:
    shown = ", ".join(repr(c) for c in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")


def split_stream(ids: np.ndarray, val_fraction: float, min_val: int) -> Tuple[np.ndarray, np.ndarray]:
    """Split a stream into (train, validation): the last ``val_fraction`` is held back."""
    n_val = max(int(len(ids) * val_fraction), min_val)
    if len(ids) - n_val < min_val:
        raise StudioError(f"the text is too short to train on: {len(ids)} characters "
                          f"(need at least {2 * min_val} for this batch size and sequence length)")
    return ids[:-n_val], ids[-n_val:]


class BPTTStream:
    """Contiguous truncated-BPTT batches: the stream is cut into ``batch_size`` rows and each
    batch is the next ``seq_len`` columns, so hidden state carries over between batches."""

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        usable = (len(ids) - 1) // batch_size
        if usable < 2:
            raise StudioError(f"not enough text for batch size {batch_size}: {len(ids)} characters")
        self.ids, self.batch_size, self.seq_len = ids, batch_size, seq_len
        self.row_len = usable
        self.num_batches = (usable + seq_len - 1) // seq_len

    def batch(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` as (data, target), both (T, N) float32 arrays of ids."""
        start = index * self.seq_len
        stop = min(start + self.seq_len, self.row_len)
        rows = np.stack([ids_of(self.ids, r * self.row_len + start, r * self.row_len + stop + 1)
                         for r in range(self.batch_size)])       # one read per stream
        return rows[:, :-1].T.astype(np.float32), rows[:, 1:].T.astype(np.float32)

    def changed(self) -> Optional[str]:
        """Why the ids on disk are no longer those verified (None: they are, or in memory)."""
        return self.ids.changed() if isinstance(self.ids, IdFile) else None
