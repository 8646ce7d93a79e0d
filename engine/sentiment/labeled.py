"""Reading labeled text: CSV/TSV with ``text`` and ``label`` columns, JSON Lines, or a folder
with one sub-folder of ``.txt`` files per label (the aclImdb layout). Errors name the row.

``read_table`` is the one CSV/TSV reader (training, evaluation and prediction all read through
it, with one field limit), and ``data_sha256`` the one fingerprint of labeled data.
"""
import csv
import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

from engine.storage.atomic import sha256_file
from engine.errors import StudioError
from engine.text import inspect_text_file, read_text

FIELD_LIMIT = 1 << 26               # full reviews are long fields: 64 MiB per cell
csv.field_size_limit(FIELD_LIMIT)
log = logging.getLogger("rnn_studio")


@dataclass
class Table:
    """A CSV or TSV file as read: every data row in order (a blank line is an empty row)."""
    header: List[str]
    rows: List[List[str]]
    lines: List[int]         # the line each row ends on, for messages
    delimiter: str


def read_table(path) -> Table:
    """The header and rows of a CSV or TSV file (a ``.tsv`` name, or more tabs than commas in
    the first line, means tabs), checked to be readable text, with specific errors."""
    path = Path(path)
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") \
        else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        rows, lines = [], []
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
    except StopIteration:
        raise StudioError(f"{path}: the file is empty") from None
    except csv.Error as err:
        raise StudioError(f"{path}: not a readable table near line {reader.line_num} "
                          f"({err})") from None
    return Table(header, rows, lines, delimiter)


def data_sha256(path) -> str:
    """The sha256 of a labeled file, or of a labeled folder (each .txt file's name and bytes)."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for f in sorted(path.glob("*/*.txt")):
        digest.update(f"{f.relative_to(path).as_posix()}\0{sha256_file(f)}\n".encode())
    return digest.hexdigest()


def some(names: Sequence[str], limit: int = 5) -> str:
    """A few names and how many more: a message about 5,000 labels stays one short line."""
    shown = ", ".join(repr(n) for n in list(names)[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def case_variants(labels: Sequence[str]) -> List[List[str]]:
    """Groups of labels that differ only in case (``positive``, ``Positive``), each sorted."""
    groups: Dict[str, set] = {}
    for label in labels:
        groups.setdefault(label.casefold(), set()).add(label)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


@dataclass
class LabeledData:
    texts: List[str]
    labels: List[str]
    rows: List[int]          # where each example came from (row number / file index), for messages
    source: str
    skipped: List[int] = field(default_factory=list)   # rows left out: empty text or no label
    columns: Dict[str, List[str]] = field(default_factory=dict)   # any other columns, by name

    def skipped_note(self) -> str:
        shown = ", ".join(map(str, self.skipped[:10])) + (" …" if len(self.skipped) > 10 else "")
        return (f"{self.source}: skipped {len(self.skipped)} row(s) with an empty text or no "
                f"label (line(s)/item(s) {shown})")

    def __len__(self):
        return len(self.texts)

    @property
    def classes(self) -> List[str]:
        return sorted(set(self.labels))

    def subset(self, keep: Sequence[int]) -> "LabeledData":
        """The examples at ``keep``, in that order (their other columns with them)."""
        return LabeledData([self.texts[i] for i in keep], [self.labels[i] for i in keep],
                           [self.rows[i] for i in keep], self.source, self.skipped,
                           {k: [v[i] for i in keep] for k, v in self.columns.items()})

    def column(self, name: str) -> List[str]:
        """The values of another column (``domain``, say); a clear error names the ones there."""
        if name not in self.columns:
            there = ", ".join(repr(c) for c in self.columns) or "none besides text and label"
            raise StudioError(f"{self.source}: no column {name!r} (other columns: {there})")
        return self.columns[name]

    def leave_out(self, name: str, value: str) -> "LabeledData":
        """The examples whose column ``name`` is not ``value`` (to hold a whole domain back)."""
        values = self.column(name)
        if value not in values:
            raise StudioError(f"{self.source}: no row has {name} = {value!r} (values: "
                              f"{', '.join(sorted(set(values))[:12])})")
        data = self.subset([i for i, v in enumerate(values) if v != value])
        if not data.texts:
            raise StudioError(f"{self.source}: every row has {name} = {value!r}; nothing is left")
        return data


def _check(data: LabeledData) -> LabeledData:
    """Rows with an empty text or no label are skipped, not fatal: a few blank cells should not
    cost a user the whole file. They are counted (``skipped``) and reported with their lines."""
    whole = [bool(t.strip() and lab.strip()) for t, lab in zip(data.texts, data.labels)]
    keep = [i for i, ok in enumerate(whole) if ok]
    skipped = [r for r, ok in zip(data.rows, whole) if not ok]
    if not keep:
        raise StudioError(f"{data.source}: no examples found" + (
            f" (every one of its {len(skipped)} rows has an empty text or no label)"
            if skipped else ""))
    if skipped:
        data = data.subset(keep)
        data.skipped = skipped
        log.warning("%s", data.skipped_note())
    return data


def _read_labeled_table(path: Path) -> LabeledData:
    table = read_table(path)
    header = table.header
    columns = [h.strip().lower() for h in header]
    missing = [c for c in ("text", "label") if c not in columns]
    if missing:
        kind = "TSV" if table.delimiter == "\t" else "CSV"
        raise StudioError(f"{path}: the {kind} header must name 'text' and 'label' columns; "
                          f"missing {', '.join(repr(m) for m in missing)} (header: {header[:6]})")
    ti, li = columns.index("text"), columns.index("label")
    others = {name: i for i, name in enumerate(columns) if name and i not in (ti, li)}
    texts, labels, rows = [], [], []
    values = {name: [] for name in others}
    for row, number in zip(table.rows, table.lines):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise StudioError(f"{path}: line {number} has {len(row)} fields, the header has "
                              f"{len(header)}")
        texts.append(row[ti])
        labels.append(row[li].strip())
        rows.append(number)
        for name, i in others.items():
            values[name].append(row[i].strip())
    return _check(LabeledData(texts, labels, rows, str(path), columns=values))


def _read_jsonl(path: Path) -> LabeledData:
    texts, labels, rows, objects = [], [], [], []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as err:
            raise StudioError(f"{path}: line {number} is not JSON ({err})") from None
        if not isinstance(obj, dict) or "text" not in obj or "label" not in obj:
            raise StudioError(f"{path}: line {number} needs 'text' and 'label' fields")
        for field_name in ("text", "label"):
            try:             # JSON can spell half a UTF-16 pair ("\ud800"), which is no text
                str(obj[field_name]).encode("utf-8")
            except UnicodeEncodeError as err:
                raise StudioError(f"{path}: line {number}: the {field_name} is not valid Unicode "
                                  f"(a lone surrogate {err.object[err.start]!r})") from None
        texts.append(str(obj["text"]))
        labels.append(str(obj["label"]).strip())
        rows.append(number)
        objects.append(obj)
    # other fields become columns ("" where a line lacks one); nested values are not columns
    names = sorted({k for o in objects for k, v in o.items()
                    if k not in ("text", "label") and not isinstance(v, (dict, list))})
    columns = {k: ["" if o.get(k) is None else str(o[k]).strip() for o in objects] for k in names}
    return _check(LabeledData(texts, labels, rows, str(path), columns=columns))


def _read_folder(path: Path) -> LabeledData:
    subdirs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        raise StudioError(f"{path}: a labeled folder needs one sub-folder of .txt files per label")
    texts, labels, rows = [], [], []
    for sub in subdirs:
        files = sorted(sub.glob("*.txt"))
        for f in files:
            texts.append(read_text(f))
            labels.append(sub.name)
            rows.append(len(rows) + 1)
    if not texts:
        raise StudioError(f"{path}: no .txt files in its sub-folders")
    return _check(LabeledData(texts, labels, rows, str(path)))


def read_labeled(path) -> LabeledData:
    """Read labeled examples from a CSV/TSV/JSONL file or a folder; errors are specific."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    inspect_text_file(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in (".csv", ".tsv", ".txt", ""):
        return _read_labeled_table(path)
    raise StudioError(f"{path}: unknown data format {suffix!r}: use .csv, .tsv, .jsonl or a folder")


def require_classes(data: LabeledData, min_per_class: int):
    """Two or more classes, each with enough examples to appear in every split."""
    counts = Counter(data.labels)
    if len(counts) < 2:
        raise StudioError(f"{data.source}: only one class ({next(iter(counts))!r}); a classifier "
                          f"needs two or more labels")
    few = sorted((c, n) for c, n in counts.items() if n < min_per_class)
    if few:
        shown = ", ".join(f"{c!r} ({n})" for c, n in few[:5]) + (
            f" and {len(few) - 5:,} more of the {len(counts):,} labels" if len(few) > 5 else "")
        raise StudioError(f"{data.source}: too few examples to split into train/validation/test "
                          f"for label(s) {shown}; each label needs at least {min_per_class}")
    return dict(sorted(counts.items()))


def merge_label_case(data: LabeledData) -> LabeledData:
    """The labels that differ only in case made one: each takes its group's most frequent
    spelling (ties: the lower-case one), e.g. ``Positive`` -> ``positive``."""
    counts = Counter(data.labels)
    spelling = {}
    for group in case_variants(data.classes):
        kept = sorted(group, key=lambda label: (-counts[label], label != label.lower(), label))[0]
        spelling.update({label: kept for label in group})
    if spelling:
        data.labels = [spelling.get(label, label) for label in data.labels]
    return data
