"""A look at labeled data before training on it: how many examples per label, the first rows,
and advice (one label cannot train; too few of a label cannot be split; unbalanced labels
train, with a caveat)."""
from typing import Dict, List

from engine.advice import Advice
from engine.sentiment.labeled import read_labeled

MIN_PER_CLASS = 5             # what train's require_classes asks of every label
PREVIEW_ROWS = 40


def data_report(path) -> dict:
    """{"n", "counts" (examples per label), "rows" (the first (text, label) pairs)}; raises
    StudioError for data that cannot be read."""
    data = read_labeled(path)
    return {"n": len(data), "counts": {c: data.labels.count(c) for c in data.classes},
            "rows": list(zip(data.texts[:PREVIEW_ROWS], data.labels[:PREVIEW_ROWS]))}


def advice(counts: Dict[str, int]) -> List[Advice]:
    if len(counts) < 2:
        return [Advice("Only one label: a classifier needs two or more.", blocks=True)]
    few = sorted(label for label, n in counts.items() if n < MIN_PER_CLASS)
    if few:
        return [Advice(f"Too few examples of {', '.join(few)}: each label needs at least "
                       f"{MIN_PER_CLASS} to be split into training, validation and test.",
                       blocks=True)]
    if max(counts.values()) > 4 * min(counts.values()):
        rare = min(counts, key=counts.get)
        return [Advice(f"Trains, but the labels are unbalanced: few examples are {rare}, so "
                       f"the model will rarely say it.")]
    return []
