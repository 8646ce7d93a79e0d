"""Scoring a text with a trained generator: bits and nats per character."""
import math

import numpy as np

from engine.generator.data import _show_chars
from engine.errors import StudioError
from engine.text import inspect_text_file, iter_text_chunks
from engine.generator.sampling.sample import evaluate_ids


def evaluate_text(model, vocab, path, encoding: str = "utf-8", ctx=None) -> dict:
    """Bits/nats per character of ``path``. Characters outside the vocabulary cannot be scored:
    they are removed from the stream, counted and named in the result, never silently dropped."""
    inspect_text_file(path, encoding)
    pieces, unknown, oov = [], set(), 0
    for chunk in iter_text_chunks(path, encoding):
        ids = vocab.encode(chunk)
        bad = ids < 0
        if bad.any():
            oov += int(bad.sum())
            unknown.update(vocab.unknown_chars(chunk))
        pieces.append(ids[~bad])
    ids = np.concatenate(pieces).astype(np.float32)
    if len(ids) < 2:
        raise StudioError(f"{path}: fewer than two characters the model knows")
    nats, count = evaluate_ids(model, ids, ctx)
    result = {"bits_per_char": nats / count / math.log(2), "nats_per_char": nats / count,
              "chars": count, "oov_chars": oov}
    if unknown:
        result["oov_examples"] = _show_chars(sorted(unknown))
    return result
