"""Character data: the vocabulary, a memory-mapped id stream, and BPTT batches.

A corpus is encoded once into an integer ``.npy`` file (uint8/uint16/int32 by vocabulary size)
under the cache and memory-mapped, so a 100 MB text costs no Python list of characters.
gluonnlp's ``CorpusBPTTBatchify`` works on Python token lists, so the contiguous-stream batching
is done here with numpy views instead: same layout (TNC, one contiguous stream per batch row).
"""
import collections
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import gluonnlp as nlp
import numpy as np

from .errors import StudioError
from .paths import cache_dir
from .text import TextInfo, inspect_text_file, iter_text_chunks


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


@dataclass
class EncodedCorpus:
    info: TextInfo
    vocab: CharVocab
    ids: np.ndarray            # memory-mapped, read-only

    @property
    def num_chars(self) -> int:
        return int(self.ids.shape[0])


def encoded_cache_path(text_sha256: str, vocab: CharVocab) -> Path:
    """Where ``encode_corpus`` keeps a text's ids: one file per text (by its sha256) and
    vocabulary. Indexes of the same text (the novelty check's suffix array) sit beside it."""
    key = hashlib.sha256((text_sha256 + vocab.to_json()).encode()).hexdigest()[:24]
    return cache_dir() / "encoded" / f"{key}.npy"


def encode_corpus(path, encoding: str = "utf-8", vocab: Optional[CharVocab] = None,
                  info: Optional[TextInfo] = None) -> EncodedCorpus:
    """Check, count and encode a text file into a cached memory-mapped id array.

    With ``vocab`` given (resuming), the text must not contain characters outside it.
    """
    info = info or inspect_text_file(path, encoding)
    if vocab is None:
        vocab = CharVocab.from_counter(count_chars(path, encoding))
    target = encoded_cache_path(info.sha256, vocab)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        total = sum(len(c) for c in iter_text_chunks(path, encoding))
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=vocab.dtype, shape=(total,))
        at = 0
        for chunk in iter_text_chunks(path, encoding):
            ids = vocab.encode(chunk)
            if (ids < 0).any():
                missing = vocab.unknown_chars(chunk)
                del out
                tmp.unlink()
                raise StudioError(f"{path}: characters the model has never seen: "
                                  f"{_show_chars(missing)}")
            out[at:at + len(ids)] = ids
            at += len(ids)
        out.flush()
        del out
        os.replace(tmp, target)
    ids = np.load(target, mmap_mode="r")
    return EncodedCorpus(info, vocab, ids)


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
        """Batch ``index`` as (data, target), both (T, N) int arrays."""
        start = index * self.seq_len
        stop = min(start + self.seq_len, self.row_len)
        rows = np.arange(self.batch_size)[:, None] * self.row_len
        cols = np.arange(start, stop)[None, :]
        data = np.asarray(self.ids[(rows + cols).ravel()]).reshape(self.batch_size, -1)
        target = np.asarray(self.ids[(rows + cols + 1).ravel()]).reshape(self.batch_size, -1)
        return data.T.astype(np.float32), target.T.astype(np.float32)

    def __iter__(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        for i in range(self.num_batches):
            yield self.batch(i)


def vocab_summary(vocab: CharVocab) -> str:
    return json.dumps(vocab.chars[:40])
