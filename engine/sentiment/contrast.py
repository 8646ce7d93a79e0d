"""Contrast sentences ("X but Y") built from rated sentences, to measure how a sentiment model
reads a turn such as "The plot was thin but the acting was wonderful." (issue 29 item 6).

Each sentence joins a clearly negative clause and a clearly positive one (either order) with
" but " and is labeled by the clause AFTER "but", the reading English readers give. Clauses are
short sentences (at most ``max_words`` words, no inner "but") whose rating is clearly on one
side. The pool is split by a hash of the clause text (``pool="test"`` or ``"train"``), so a set
built for training never shares a clause with the set used for measuring.
"""
import hashlib
import random
import re
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from engine.errors import StudioError

_BUT = re.compile(r"\bbut\b", re.IGNORECASE)


@dataclass
class ContrastSet:
    texts: List[str]          # "first but second"
    labels: List[str]         # the second clause's label
    first: List[str]          # the clauses alone, as they were rated
    first_labels: List[str]
    second: List[str]
    second_labels: List[str]


def clause_pool(hash_of: str) -> str:
    """"test" for about a third of clauses, "train" for the rest, by a hash of the text."""
    digest = hashlib.sha256(hash_of.strip().casefold().encode("utf-8")).digest()
    return "test" if digest[0] % 3 == 0 else "train"


def usable_clauses(rows: Sequence[Tuple[str, str, float]], max_words: int = 12,
                   min_strength: float = 1.0, pool: str = "test") -> dict:
    """{"negative": [...], "positive": [...]}: short clauses rated at least ``min_strength``
    away from neutral, with no inner "but", from the given hash ``pool``."""
    found = {"negative": [], "positive": []}
    seen = set()
    for text, label, rating in rows:
        text = " ".join(text.split()).rstrip(" .!?;,")
        key = text.casefold()
        if (not text or key in seen or label not in found or abs(rating) < min_strength
                or len(text.split()) > max_words or _BUT.search(text)
                or clause_pool(text) != pool):
            continue
        seen.add(key)
        found[label].append(text)
    return found


def _second(clause: str) -> str:
    """The clause after "but", its first letter lowercased unless it is "I" or an acronym."""
    head = clause.split()[0]
    if head == "I" or head.startswith("I'") or (len(head) > 1 and head.isupper()):
        return clause
    return clause[0].lower() + clause[1:]


def build_contrast(rows: Sequence[Tuple[str, str, float]], n: int = 600, seed: int = 0,
                   pool: str = "test", max_words: int = 12) -> ContrastSet:
    """``n`` contrast sentences, half negative-but-positive and half positive-but-negative,
    the same for the same ``rows``, ``seed`` and ``pool``."""
    clauses = usable_clauses(rows, max_words=max_words, pool=pool)
    if len(clauses["negative"]) < 2 or len(clauses["positive"]) < 2:
        raise StudioError(f"too few short, clearly rated clauses for contrast sentences "
                          f"({len(clauses['negative'])} negative, {len(clauses['positive'])} "
                          f"positive)")
    rng = random.Random(seed)
    out = ContrastSet([], [], [], [], [], [])
    for i in range(n):
        first_label, second_label = (("negative", "positive") if i % 2 == 0
                                     else ("positive", "negative"))
        first = rng.choice(clauses[first_label])
        second = rng.choice(clauses[second_label])
        out.texts.append(f"{first} but {_second(second)}.")
        out.labels.append(second_label)
        out.first.append(first + ".")
        out.first_labels.append(first_label)
        out.second.append(second + ".")
        out.second_labels.append(second_label)
    return out


def augmentation(texts: Sequence[str], labels: Sequence[str], ratings, n: int,
                 seed: int) -> ContrastSet:
    """``n`` contrast sentences for training, from these (training split) texts in the hash
    pool "train" only, so none shares a clause with the measuring set; ``ratings`` None: every
    text counts as clearly rated."""
    rows = [(t, lab, float(r) if ratings is not None else 2.0)
            for t, lab, r in zip(texts, labels, ratings if ratings is not None else labels)]
    return build_contrast(rows, n=n, seed=seed, pool="train")


def rated_rows(path) -> List[Tuple[str, str, float]]:
    """(text, label, rating) from a rated-sentences CSV (columns text, label, rating)."""
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not {"text", "label", "rating"} <= set(reader.fieldnames or ()):
            raise StudioError(f"{path}: contrast sentences need the columns text, label and "
                              f"rating (the built-in rated-sentences corpus has them)")
        return [(r["text"], r["label"], float(r["rating"])) for r in reader]
