"""Classification scores: accuracy, macro F1 and the confusion matrix (rows: true, columns: predicted)."""
from typing import Dict, List, Sequence

import numpy as np


def confusion_matrix(true: Sequence[int], pred: Sequence[int], num_classes: int) -> np.ndarray:
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(true, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return m


def scores(true: Sequence[int], pred: Sequence[int], num_classes: int) -> Dict[str, object]:
    return confusion_scores(confusion_matrix(true, pred, num_classes))


def confusion_scores(m: np.ndarray) -> Dict[str, object]:
    """Accuracy, macro F1, n and the matrix itself, from a confusion matrix (which workers can
    add up: distributed validation)."""
    m = np.asarray(m).round().astype(np.int64)
    n = int(m.sum())
    tp = np.diag(m).astype(np.float64)
    precision = np.divide(tp, m.sum(axis=0), out=np.zeros_like(tp), where=m.sum(axis=0) > 0)
    recall = np.divide(tp, m.sum(axis=1), out=np.zeros_like(tp), where=m.sum(axis=1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp),
                   where=(precision + recall) > 0)
    return {"accuracy": float(tp.sum() / n) if n else 0.0, "macro_f1": float(f1.mean()), "n": n,
            "confusion": m.tolist()}


def label_ids(labels: Sequence[str], classes: List[str]) -> List[int]:
    index = {c: i for i, c in enumerate(classes)}
    return [index[lab] for lab in labels]
