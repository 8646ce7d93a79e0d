"""A fixed, seeded, stratified train/validation/test split of labeled examples."""
from typing import Dict, List, Sequence

import numpy as np


def stratified_split(labels: Sequence[str], val_fraction: float, test_fraction: float,
                     seed: int) -> Dict[str, List[int]]:
    """Index lists {"train", "val", "test"}; every class appears in each part (at least once),
    in proportion otherwise. The same labels and seed always give the same split."""
    rng = np.random.RandomState(seed % (2 ** 32))
    parts = {"train": [], "val": [], "test": []}
    labels = list(labels)
    for cls in sorted(set(labels)):
        idx = np.array([i for i, lab in enumerate(labels) if lab == cls])
        rng.shuffle(idx)
        n_test = max(1, int(round(len(idx) * test_fraction)))
        n_val = max(1, int(round(len(idx) * val_fraction)))
        parts["test"].extend(idx[:n_test].tolist())
        parts["val"].extend(idx[n_test:n_test + n_val].tolist())
        parts["train"].extend(idx[n_test + n_val:].tolist())
    return {k: sorted(v) for k, v in parts.items()}
