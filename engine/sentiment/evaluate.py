"""Scoring a trained sentiment model on labeled data, side by side with the VADER baseline."""
from typing import Optional

import numpy as np

from engine.errors import StudioError
from engine.sentiment.labeled import read_labeled, some
from engine.sentiment.lexicon import vader_predict
from engine.sentiment.metrics import label_ids, scores
from engine.sentiment.predict import SentimentPredictor


def evaluate_data(predictor: SentimentPredictor, path, by: Optional[str] = None) -> dict:
    """{"accuracy", "macro_f1", "n", "confusion", "labels", "vader": {...} or None,
    "skipped": rows left out for an empty text or no label}; with ``by`` (a column such as
    ``domain``) also "by": {value: {"accuracy", "macro_f1", "n", "vader": {...} or None}}."""
    data = read_labeled(path)
    groups = data.column(by) if by else None
    if predictor.meta is not None and predictor.meta.corpus.get("merge_label_case"):
        spelled = {label.casefold(): label for label in predictor.labels}   # as it trained
        data.labels = [spelled.get(label.casefold(), label) for label in data.labels]
    unknown = sorted(set(data.labels) - set(predictor.labels))
    if unknown:
        raise StudioError(f"{data.source}: labels {some(unknown)} are not ones this model knows "
                          f"({some(predictor.labels)})")
    true = label_ids(data.labels, predictor.labels)
    pred = predictor.probabilities(data.texts).argmax(axis=1)
    result = scores(true, pred, len(predictor.labels))
    result["labels"] = list(predictor.labels)
    result["skipped"] = len(data.skipped)
    vader = vader_predict(data.texts, predictor.labels)
    k = len(predictor.labels)
    vader_ids = label_ids(vader, predictor.labels) if vader is not None else None
    result["vader"] = scores(true, vader_ids, k) if vader is not None else None
    if groups is not None:
        true, pred, groups = np.asarray(true), np.asarray(pred), np.asarray(groups)

        def brief(predicted, rows):      # a group's scores, without its confusion matrix
            part = scores(true[rows], np.asarray(predicted)[rows], k)
            part.pop("confusion")
            return part
        result["by"] = {}
        for value in sorted(set(groups)):
            rows = groups == value
            result["by"][value] = dict(brief(pred, rows), vader=brief(vader_ids, rows)
                                       if vader is not None else None)
    return result


def _scored(predictor: SentimentPredictor, texts, labels) -> dict:
    """Accuracy, macro F1, n and confusion of the model on texts with these labels, as above."""
    unknown = sorted(set(labels) - set(predictor.labels))
    if unknown:
        raise StudioError(f"labels {some(unknown)} are not ones this model knows "
                          f"({some(predictor.labels)})")
    pred = predictor.probabilities(list(texts)).argmax(axis=1)
    return scores(label_ids(labels, predictor.labels), pred, len(predictor.labels))


def evaluate_contrast(predictor: SentimentPredictor, path, n: int = 600, seed: int = 0) -> dict:
    """The model on "X but Y" sentences built from the rated sentences at ``path`` (labeled by
    Y; see engine/sentiment/contrast.py) and on their clauses alone: {"contrast": scores,
    "first_clause": scores (each first clause by its own label), "second_clause": ..., "n",
    "seed", "pool", "examples"}."""
    from engine.sentiment.contrast import build_contrast, rated_rows
    built = build_contrast(rated_rows(path), n=n, seed=seed, pool="test")
    result = {"n": len(built.texts), "seed": seed, "pool": "test",
              "contrast": _scored(predictor, built.texts, built.labels),
              "first_clause": _scored(predictor, built.first, built.first_labels),
              "second_clause": _scored(predictor, built.second, built.second_labels)}
    result["examples"] = [{"text": t, "label": lab} for t, lab in zip(built.texts[:4], built.labels[:4])]
    return result
