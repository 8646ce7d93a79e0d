"""A fixed, seeded train/validation/test split of labeled examples that never leaks.

Rated-sentence sets overlap: the 4,000 ``movie-sentences`` are inside the 10,605 movie
snippets (lower-cased and tokenized there), and short phrases ("Great!") recur across domains.
A sentence on both sides of a split would be scored on what the model was trained on, so
examples with the same normalised text form one unit that lands on one side only. Units are
stratified by label and, where the data has one, by domain.
"""
import re
from collections import Counter
from typing import Dict, List, Optional, Sequence

import numpy as np

_NOT_WORD = re.compile(r"[\W_]+")


def normalised(text: str) -> str:
    """The form two copies of a sentence share: lower case, letters and digits only (so
    "It's great!" and "it 's great" are one sentence)."""
    return _NOT_WORD.sub("", text.lower())


def _units(texts: Sequence[str]) -> List[List[int]]:
    """Example indices grouped by normalised text, in order of first appearance."""
    groups: Dict[str, List[int]] = {}
    for i, text in enumerate(texts):
        key = normalised(text)
        groups.setdefault(key if key else f"\0{i}", []).append(i)    # no letters: its own unit
    return list(groups.values())


def stratified_split(labels: Sequence[str], val_fraction: float, test_fraction: float,
                     seed: int, texts: Optional[Sequence[str]] = None,
                     strata: Optional[Sequence[str]] = None) -> Dict[str, List[int]]:
    """Index lists {"train", "val", "test"}. Examples with the same normalised text (when
    ``texts`` are given) stay together; each stratum (label, plus ``strata`` such as the
    domain) is split in proportion, and every label appears in each part. The same inputs and
    seed always give the same split; data without duplicates or strata splits exactly as
    before duplicates were grouped."""
    rng = np.random.RandomState(seed % (2 ** 32))
    labels = list(labels)
    units = _units(texts) if texts is not None else [[i] for i in range(len(labels))]

    def stratum(unit):       # a unit whose copies disagree goes by its most common label
        label = Counter(labels[i] for i in unit).most_common(1)[0][0]
        return (label, strata[unit[0]]) if strata is not None else (label,)

    by_stratum: Dict[tuple, List[int]] = {}
    for u, unit in enumerate(units):
        by_stratum.setdefault(stratum(unit), []).append(u)
    parts = {"train": [], "val": [], "test": []}
    seen = {"val": set(), "test": set()}
    for key in sorted(by_stratum):
        chosen = np.array(by_stratum[key])
        rng.shuffle(chosen)
        # a label's first stratum guarantees it a unit in each part; later ones round honestly
        least = 0 if key[0] in seen["test"] and key[0] in seen["val"] else 1
        n_test = max(least, int(round(len(chosen) * test_fraction)))
        n_val = max(least, int(round(len(chosen) * val_fraction)))
        for part, picked in (("test", chosen[:n_test]), ("val", chosen[n_test:n_test + n_val]),
                             ("train", chosen[n_test + n_val:])):
            for u in picked.tolist():
                parts[part].extend(units[u])
            if part in seen and len(picked):
                seen[part].add(key[0])
    return {k: sorted(v) for k, v in parts.items()}
