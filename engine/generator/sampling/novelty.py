"""Copied or new: how much of a generated text appears verbatim in the run's training text.

The training text is indexed once by a suffix array (every position of the text, sorted by the
text that follows it; built by libdivsufsort through ``pydivsufsort``), kept beside the text's
encoded ids in the cache (``<key>.sa.npy`` next to ``<key>.npy``) and memory-mapped. For each
position of a sample, a binary search over it finds the longest stretch starting there that
occurs in the training text (its "matching statistics"); everything else follows:

* the share of the sample's k-character windows found verbatim (k = 10, 20, 40): a window at
  ``i`` is copied when the match at ``i`` is at least k long;
* the longest copied span, and one place where it occurs (character offset and line);
* the copied spans: each maximal match of at least ``MIN_SPAN`` characters.

A 2,000-character sample takes about 2,000 binary searches of ~23 steps each, well under a
second whatever the size of the text (the index is read, never loaded whole).
"""
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from engine.storage.atomic import atomic_write_with
from engine.generator.data import CharVocab, encoded_cache_path
from engine.errors import StudioError
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder, resolve_run
from engine.generator.training_text import training_text

KS = (10, 20, 40)              # window lengths whose copied share is reported
PREVIEW_K = 20                 # the one the training previews and the GUI's line show
MIN_SPAN = 20                  # copied spans shorter than this are not listed
PREVIEW_MAX_CHARS = 200_000_000   # training texts above this get no preview novelty
_FIRST_LOOK = 64               # characters compared before a longer match is looked for
log = logging.getLogger("rnn_studio")


# ---- the index ----------------------------------------------------------------------------
def index_path(encoded: Path) -> Path:
    """The suffix array's file beside an encoded text's ``<key>.npy``."""
    return encoded.with_name(encoded.stem + ".sa.npy")


def build_suffix_array(ids: np.ndarray) -> np.ndarray:
    try:
        from pydivsufsort import divsufsort
    except ImportError:
        raise StudioError("the novelty check needs the pydivsufsort package (pip install "
                          "pydivsufsort==0.0.20)") from None
    # pydivsufsort sorts multi-byte ids as their big-endian bytes, exactly the order used here
    return divsufsort(np.array(ids))        # a writable copy: it refuses memory-mapped input


class CorpusIndex:
    """A training text's ids and their suffix array, both memory-mapped."""

    def __init__(self, ids: np.ndarray, suffixes: np.ndarray, newline: Optional[int] = None):
        self.ids, self.suffixes, self.newline = ids, suffixes, newline
        self._big = ids.dtype.newbyteorder(">")     # bytes compare as the ids do
        self._line_starts = None
        # plain memoryviews: indexing them costs a tenth of indexing the numpy arrays, and the
        # binary searches below do nothing else
        self._order = memoryview(np.ascontiguousarray(suffixes)).cast("B").cast(
            suffixes.dtype.char)
        self._bytes = memoryview(np.ascontiguousarray(ids)).cast("B") \
            if ids.dtype.itemsize == 1 else None

    @classmethod
    def open(cls, ids: np.ndarray, encoded: Path, newline: Optional[int] = None) -> "CorpusIndex":
        """The index cached beside ``encoded`` (the ids' cache file); built and written
        (atomically) the first time, or again if the cached one is damaged."""
        path = index_path(encoded)
        if path.exists():
            try:
                index = cls(ids, np.load(path, mmap_mode="r"), newline)
                if index.looks_sound():
                    return index
            except (OSError, ValueError):
                pass
            log.warning("%s: the novelty index is damaged; building it again", path)
        suffixes = build_suffix_array(ids)
        atomic_write_with(path, lambda tmp: np.save(tmp, suffixes))
        return cls(ids, np.load(path, mmap_mode="r"), newline)

    def looks_sound(self, checks: int = 64) -> bool:
        """Right length and type, and a random sample of neighbours in order."""
        n = len(self.ids)
        if self.suffixes.shape != (n,) or self.suffixes.dtype.kind != "i":
            return False
        if n < 2:
            return True
        rng = np.random.RandomState(n % 9973)
        for k in rng.randint(0, n - 1, min(checks, n - 1)):
            a, b = int(self.suffixes[k]), int(self.suffixes[k + 1])
            if not (0 <= a < n and 0 <= b < n) or self._key(a, 32) > self._key(b, 32):
                return False
        return True

    def _key(self, position: int, length: int) -> bytes:
        if self._bytes is not None:
            return self._bytes[position:position + length].tobytes()
        return self.ids[position:position + length].astype(self._big).tobytes()

    def pattern(self, ids: np.ndarray) -> bytes:
        return np.asarray(ids).astype(self._big).tobytes()

    def longest_match(self, pattern: bytes, start: int = 0) -> Tuple[int, int]:
        """(length, a position in the text) of the longest stretch of ``pattern`` from
        character ``start`` on that occurs in the text."""
        width = self._big.itemsize
        at = start * width
        length, position = self._search(pattern[at:at + _FIRST_LOOK * width])
        if length == _FIRST_LOOK and len(pattern) > at + _FIRST_LOOK * width:
            length, position = self._search(pattern[at:])
        return length, position

    def _search(self, pattern: bytes) -> Tuple[int, int]:
        width = self._big.itemsize
        m = len(pattern) // width
        order, key = self._order, self._key
        lo, hi = 0, len(order)
        while lo < hi:                  # the first suffix not below the pattern
            mid = (lo + hi) // 2
            if key(order[mid], m) < pattern:
                lo = mid + 1
            else:
                hi = mid
        best, where = 0, 0
        for k in (lo - 1, lo):          # the longest shared start is with a neighbour
            if 0 <= k < len(order):
                position = order[k]
                shared = _shared_prefix(self._key(position, m), pattern) // width
                if shared > best:
                    best, where = shared, position
        return best, where

    def line_of(self, offsets) -> np.ndarray:
        """Line numbers (from 1) of character offsets in the text."""
        if self._line_starts is None:
            self._line_starts = (np.flatnonzero(np.asarray(self.ids) == self.newline)
                                 if self.newline is not None else np.zeros(0, np.int64))
        return np.searchsorted(self._line_starts, np.asarray(offsets), side="left") + 1


def _shared_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n                   # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


# ---- the report ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CopiedSpan:
    start: int                  # in the checked text (characters)
    end: int                    # exclusive
    text: str
    corpus_offset: int          # where it occurs in the training text (characters)
    line: int                   # that place's line in the training text (from 1)

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class NoveltyReport:
    chars: int                                   # characters checked
    windows: Dict[int, dict]                     # k -> {"windows", "copied", "share"}
    longest: Optional[CopiedSpan]                # None when nothing at all is shared
    spans: List[CopiedSpan] = field(default_factory=list)
    min_span: int = MIN_SPAN
    corpus: str = ""                             # the training text's name
    left_out: int = 0                            # characters the model does not know (never copied)

    def share(self, k: int = PREVIEW_K) -> Optional[float]:
        return self.windows.get(k, {}).get("share")

    def to_dict(self) -> dict:
        return {"chars": self.chars, "corpus": self.corpus,
                "windows": {str(k): v for k, v in self.windows.items()},
                "longest": asdict(self.longest) if self.longest else None,
                "min_span": self.min_span, "spans": [asdict(s) for s in self.spans],
                "left_out": self.left_out}

    def line(self, k: int = PREVIEW_K) -> str:
        """For people: "12 % of 20-character windows copied; longest 31 characters, from
        line 1,234"."""
        share = self.share(k)
        if share is None:
            return f"Too short to check (fewer than {k} characters)."
        text = f"{share:.0%} of {k}-character windows copied"
        if self.longest:
            text += (f"; longest {self.longest.length:,} characters, from line "
                     f"{self.longest.line:,}")
        return text.replace("%", " %", 1)


def matching_lengths(index: CorpusIndex, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """For each position of ``ids`` (-1: a character the text cannot have): the length of the
    longest stretch starting there found in the text, and one place where it is found."""
    lengths = np.zeros(len(ids), np.int64)
    places = np.zeros(len(ids), np.int64)
    bounds = np.flatnonzero(ids < 0)
    start = 0
    for stop in list(bounds) + [len(ids)]:      # each run of known characters on its own
        pattern = index.pattern(ids[start:stop])
        for i in range(start, stop):
            lengths[i], places[i] = index.longest_match(pattern, i - start)
        start = stop + 1
    return lengths, places


def check_text(index: CorpusIndex, vocab: CharVocab, text: str, ks=KS,
               min_span: int = MIN_SPAN, corpus: str = "") -> NoveltyReport:
    ids = vocab.encode(text)
    lengths, places = matching_lengths(index, ids)
    windows = {}
    for k in ks:
        count = max(0, len(text) - k + 1)
        copied = int((lengths[:count] >= k).sum())
        windows[k] = {"windows": count, "copied": copied,
                      "share": copied / count if count else None}
    found = []                          # (start, end, place in the training text)
    covered_to = 0
    for i in np.flatnonzero(lengths >= min_span):
        end = int(i + lengths[i])
        if end > covered_to:            # not inside the span found before it
            found.append((int(i), end, int(places[i])))
            covered_to = end
    has_longest = bool(len(text)) and lengths.max() > 0
    if has_longest:
        i = int(np.argmax(lengths))
        found.append((i, int(i + lengths[i]), int(places[i])))
    lines = index.line_of([place for _, _, place in found])
    spans = [CopiedSpan(s, e, text[s:e], place, int(line))
             for (s, e, place), line in zip(found, lines)]
    longest = spans.pop() if has_longest else None
    return NoveltyReport(len(text), windows, longest, spans, min_span, corpus,
                         int((ids < 0).sum()))


# ---- a run's training text ----------------------------------------------------------------
def run_index(meta: RunMeta, vocab: CharVocab, run_name: str = "this run") -> CorpusIndex:
    """The index of the text ``meta`` says the run was trained on; a clear error when that
    text is gone or has changed since."""
    encoded = training_text(meta, vocab, run_name)
    return CorpusIndex.open(encoded.ids, encoded_cache_path(encoded.info.sha256, vocab),
                            _newline_id(vocab))


def _newline_id(vocab: CharVocab) -> Optional[int]:
    return vocab.chars.index("\n") if "\n" in vocab.chars else None


def check_run(ref, text: str, ks=KS, min_span: int = MIN_SPAN) -> NoveltyReport:
    """The novelty of ``text`` against the training text of run ``ref``."""
    run = RunFolder(resolve_run(ref))
    meta = run.read_meta(kind="generator")
    vocab = CharVocab.from_json(meta.vocab)
    index = run_index(meta, vocab, f"run {run.name}")
    return check_text(index, vocab, text, ks, min_span, (meta.corpus or {}).get("name", ""))


class PreviewNovelty:
    """The novelty of training previews, so memorisation shows as a run goes on. The index is
    opened (or built, once per text) at the first preview; if that fails, previews go on
    without it (a warning says why)."""

    def __init__(self, ids: np.ndarray, encoded: Path, vocab: CharVocab):
        self.ids, self.encoded, self.vocab = ids, encoded, vocab
        self.index, self.failed = None, len(ids) > PREVIEW_MAX_CHARS

    def fields(self, text: str) -> dict:
        """``SampleReady``'s novelty fields for ``text`` (empty when unavailable)."""
        if self.failed:
            return {}
        try:
            if self.index is None:
                self.index = CorpusIndex.open(self.ids, self.encoded, _newline_id(self.vocab))
            report = check_text(self.index, self.vocab, text, ks=(PREVIEW_K,))
        except (StudioError, OSError, MemoryError) as err:
            log.warning("previews go on without their novelty: %s", err)
            self.failed = True
            return {}
        longest = report.longest
        return {"copied_share": report.share(), "longest_copy": longest.length if longest else 0,
                "longest_copy_line": longest.line if longest else None}
