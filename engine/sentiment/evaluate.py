"""Scoring a trained sentiment model on labeled data, side by side with the VADER baseline."""
from ..errors import StudioError
from .labeled import read_labeled
from .lexicon import vader_predict
from .metrics import label_ids, scores
from .predict import SentimentPredictor


def evaluate_data(predictor: SentimentPredictor, path) -> dict:
    """{"accuracy", "macro_f1", "n", "confusion", "labels", "vader": {...} or None,
    "skipped": rows left out for an empty text or no label}."""
    data = read_labeled(path)
    unknown = sorted(set(data.labels) - set(predictor.labels))
    if unknown:
        raise StudioError(f"{data.source}: labels {unknown} are not ones this model knows "
                          f"({', '.join(predictor.labels)})")
    true = label_ids(data.labels, predictor.labels)
    pred = predictor.probabilities(data.texts).argmax(axis=1)
    result = scores(true, pred, len(predictor.labels))
    result["labels"] = list(predictor.labels)
    result["skipped"] = len(data.skipped)
    vader = vader_predict(data.texts, predictor.labels)
    result["vader"] = (scores(true, label_ids(vader, predictor.labels), len(predictor.labels))
                       if vader is not None else None)
    return result
