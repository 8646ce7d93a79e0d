"""Reading user text safely: size, encoding and binary checks with specific messages.

Text is read in chunks so that a 100 MB file never becomes one Python list of characters.
"""
import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

from engine.errors import StudioError
from engine.wording import setting

CHUNK_BYTES = 1 << 22          # 4 MiB per read
SNIFF_BYTES = 1 << 16
_CONTROL = set(range(0, 32)) - {9, 10, 12, 13}      # control bytes other than tab, LF, FF, CR


@dataclass(frozen=True)
class TextInfo:
    path: str
    size: int          # bytes on disk
    sha256: str
    encoding: str


_UTF16 = ("utf-16", "utf-16-le", "utf-16-be")
_READ_AS_TEXT = ("if it is text, save it as UTF-8 (in Notepad: Save As, Encoding: UTF-8) "
                 "and choose it again")


def _sniff_utf16(head: bytes) -> Optional[str]:
    """The UTF-16 codec ``head`` is written in, or None: ``utf-16`` where a byte-order mark says so
    (Windows Notepad's "Unicode"), ``utf-16-le``/``utf-16-be`` for UTF-16 without one, known by
    its NUL bytes all falling on one side of each byte pair (mostly-Latin text) and decoding."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    sample = sample[:len(sample) - len(sample) % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    nul_even, nul_odd = sample[0::2].count(0), sample[1::2].count(0)
    if nul_odd > 0.3 * pairs and nul_even == 0:
        guess = "utf-16-le"
    elif nul_even > 0.3 * pairs and nul_odd == 0:
        guess = "utf-16-be"
    else:
        return None
    try:
        codecs.getincrementaldecoder(guess)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    return guess


def resolved_encoding(encoding: str, head: bytes) -> str:
    """The codec to read a file with: the one asked for, except that a file written in UTF-16
    (with or without a byte-order mark) is read as UTF-16 where UTF-8 or UTF-16 was asked for,
    so a text saved by Windows Notepad trains without the person knowing about encodings."""
    if codecs.lookup(encoding).name in ("utf-8",) + _UTF16:
        return _sniff_utf16(head) or encoding
    return encoding


def _check_not_binary(path: Path, head: bytes, encoding: str):
    if codecs.lookup(encoding).name in _UTF16:
        # NUL bytes are part of UTF-16 text: judge the characters instead
        text = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=False)
        if "\x00" in text:
            raise StudioError(f"{path}: looks like a binary file (it contains NUL characters), "
                              f"not text; {_READ_AS_TEXT}")
        head = text.encode("utf-8", "replace")
    if b"\x00" in head:
        raise StudioError(f"{path}: looks like a binary file (it contains NUL bytes), not text; "
                          f"{_READ_AS_TEXT}")
    if head:
        controls = sum(1 for b in head if b in _CONTROL)
        if controls / len(head) > 0.05:
            raise StudioError(f"{path}: looks like a binary file ({controls} control bytes in the "
                              f"first {len(head)}), not text; {_READ_AS_TEXT}")


def _encoding_error(path: Path, err: UnicodeDecodeError, offset: int, lines_before: int,
                    encoding: str) -> StudioError:
    byte_at = offset + err.start
    line = lines_before + err.object[:err.start].count(b"\n") + 1
    return StudioError(
        f"{path}: not valid {encoding} (byte 0x{err.object[err.start]:02x} at offset {byte_at}, "
        f"line {line}); "
        f"save it as UTF-8, or set ", setting("encoding"), " to its encoding (e.g. cp1252 or "
        "latin-1)")


def inspect_text_file(path, encoding: str = "utf-8") -> TextInfo:
    """Check that ``path`` is a non-empty text file decodable as ``encoding``; return its facts.

    Raises StudioError naming the problem (missing, empty, binary, undecodable with offset/line).
    """
    path = Path(path)
    if not path.exists():
        raise StudioError(f"{path}: no such file")
    if path.is_dir():
        raise StudioError(f"{path}: is a folder, not a text file")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise StudioError(f"unknown encoding {encoding!r}") from None
    size = path.stat().st_size
    if size == 0:
        raise StudioError(f"{path}: the file is empty")
    digest = hashlib.sha256()
    offset, lines, has_text = 0, 0, False
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        encoding = resolved_encoding(encoding, head)
        _check_not_binary(path, head, encoding)
        decoder = codecs.getincrementaldecoder(_python_codec(encoding))("strict")
        f.seek(0)
        while True:
            block = f.read(CHUNK_BYTES)
            final = not block
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as err:
                raise _encoding_error(path, err, offset, lines, encoding) from None
            has_text = has_text or bool(text.strip())
            if final:
                break
            digest.update(block)
            offset += len(block)
            lines += block.count(b"\n")
    if not has_text:
        raise StudioError(f"{path}: the file holds only whitespace")
    return TextInfo(str(path), size, digest.hexdigest(), encoding)


def guess_encoding(path) -> str:
    """A likely encoding for a text file, from its first 64 KiB: UTF-16 where it is written so
    (with or without a byte-order mark); bytes that decode as UTF-8 are UTF-8; otherwise cp1252
    where it decodes (Windows text), else latin-1 (which decodes any bytes). A guess the user can
    overrule, never an error."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return "utf-8"
    utf16 = _sniff_utf16(head)
    if utf16:
        return utf16
    for encoding in ("utf-8", "cp1252"):
        try:   # an incremental decoder: a character cut at the 64 KiB edge is not an error
            codecs.getincrementaldecoder(_python_codec(encoding))("strict").decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _python_codec(encoding: str) -> str:
    # A UTF-8 byte-order mark is not text: read UTF-8 files with utf-8-sig.
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def iter_text_chunks(path, encoding: str = "utf-8", chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """Yield the decoded text of ``path`` in pieces of about ``chunk_bytes``; newlines normalised."""
    pending_cr = False
    with open(path, "rb") as f:
        encoding = resolved_encoding(encoding, f.read(SNIFF_BYTES))
        f.seek(0)
        decoder = codecs.getincrementaldecoder(_python_codec(encoding))("strict")
        while True:
            block = f.read(chunk_bytes)
            text = decoder.decode(block, final=not block)
            if pending_cr:
                text = "\r" + text
            pending_cr = text.endswith("\r") and bool(block)
            if pending_cr:
                text = text[:-1]
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if text:
                yield text
            if not block:
                break


def read_text(path, encoding: str = "utf-8") -> str:
    """The whole text of a checked file (for files small enough to hold as one string)."""
    inspect_text_file(path, encoding)
    return "".join(iter_text_chunks(path, encoding))


# ---- word tokenizing (sentiment) ---------------------------------------------------------------
# nltk's word_tokenize needs the punkt data files, which cannot be downloaded here; the Treebank
# word tokenizer (NLTKWordTokenizer) needs none. Sentences are not split first (preserve_line).
_tokenizer = None
_URL = re.compile(r"https?://\S+|www\.\S+")


_EMOTICON = None


def _standalone_emoticon():
    """A space-delimited emoticon (nltk's casual-text pattern: ``:)``, ``:-(``, ``<3``, ...)."""
    global _EMOTICON
    if _EMOTICON is None:
        from nltk.tokenize.casual import EMOTICONS
        _EMOTICON = re.compile(r"(?:(?<=\s)|^)(" + EMOTICONS + r")(?=\s|$)", re.VERBOSE | re.I)
    return _EMOTICON


def word_tokenize(text: str) -> List[str]:
    """Lower-cased word tokens of ``text`` using nltk's data-free Treebank tokenizer.

    Emoticons that stand alone between spaces stay whole (the Treebank rules would cut ``:)``
    into ``:`` and ``)``): the VADER lexicon rates them, and tweets are full of them. Text
    without one is tokenized exactly as before.
    """
    global _tokenizer
    if _tokenizer is None:
        from nltk.tokenize import NLTKWordTokenizer
        _tokenizer = NLTKWordTokenizer()
    text = _URL.sub(" url ", text.replace("<br />", " ").replace("<br/>", " "))
    tokens, start = [], 0
    for match in _standalone_emoticon().finditer(text):
        tokens += _tokenizer.tokenize(text[start:match.start()])
        tokens.append(match.group(1))
        start = match.end()
    tokens += _tokenizer.tokenize(text[start:])
    return [t.lower() for t in tokens]
