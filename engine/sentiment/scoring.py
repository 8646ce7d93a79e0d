"""Scoring texts with a SentimentRNN: class probabilities in batches, from the whole model or one
of its halves, and the metrics of a labeled set. Used by training (validation, test), prediction,
export and the benchmark, none of which needs the training module."""
from typing import List

import numpy as np
from mxnet import autograd, nd

from engine.sentiment.features import Batch, Example, bucketed_batches, to_batch
from engine.sentiment.metrics import confusion_matrix, confusion_scores
from engine.sentiment.model import SentimentRNN


def _part_scores(model: SentimentRNN, part: str, batch: Batch):
    if part == "reader":
        return model.reader(*batch.reader_inputs())
    if part == "linear":
        return model.linear(*batch.linear_inputs())
    return model(*batch.model_inputs(model.config.linear))


def predict_probs(model: SentimentRNN, examples: List[Example], ctx, batch_size: int = 1024,
                  part: str = "model"):
    """Class probabilities (n, C) for ``examples``, in order, from the whole model or from one
    of its halves (``part`` "reader" or "linear")."""
    out = np.zeros((len(examples), model.config.data.num_classes), dtype=np.float32)
    pending = []     # MXNet computes asynchronously: pad the next batch while this one runs
    with autograd.predict_mode():
        for batch_idx in bucketed_batches(examples, batch_size, shuffle=False):
            batch = to_batch([examples[i] for i in batch_idx], ctx)
            pending.append((batch_idx, nd.softmax(_part_scores(model, part, batch), axis=-1)))
    for batch_idx, probs in pending:
        out[batch_idx] = probs.asnumpy()
    return out


def evaluate_examples(model, examples: List[Example], ctx, part: str = "model") -> dict:
    return scores_from_sums(example_sums(model, examples, ctx, part))


def example_sums(model, examples: List[Example], ctx, part: str = "model") -> dict:
    """What scoring ``examples`` adds up to: the summed loss (nats) and the confusion matrix
    (sums that several workers' shares can be added into)."""
    probs = predict_probs(model, examples, ctx, part=part)
    labels = np.array([e.label for e in examples], dtype=np.int64)
    nll = -np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-12))
    return {"loss_sum": float(np.sum(nll, dtype=np.float64)),
            "confusion": confusion_matrix(labels, probs.argmax(axis=1),
                                          model.config.data.num_classes)}


def scores_from_sums(sums: dict) -> dict:
    """{"accuracy", "macro_f1", "n", "confusion", "loss" (mean nats)} from ``example_sums``."""
    result = confusion_scores(sums["confusion"])
    result["loss"] = float(sums["loss_sum"]) / max(result["n"], 1)
    return result
