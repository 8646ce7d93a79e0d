"""Sampling text from a trained CharRNN, one character at a time, at batch 1.

The prime text runs through the fused layer in one call; after that a stepper (stepper.py)
advances one character per call and the draw happens on the host with a seeded numpy generator,
which makes temperature, top-k and top-p exact and reproducible and gives the GUI each
character's probability and its best alternatives for free.
"""
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Tuple

import mxnet as mx
import numpy as np
from mxnet import nd

from ..data import CharVocab, _show_chars
from ..errors import StudioError
from .model import CharRNN
from .stepper import _softmax, make_stepper


@dataclass(frozen=True)
class SampledChar:
    char: str
    prob: float                              # probability the model gave the chosen character
    alternatives: Tuple[Tuple[str, float], ...]  # the most likely characters, best first


def filter_probs(probs: np.ndarray, top_k: Optional[int], top_p: Optional[float]) -> np.ndarray:
    """Zero all but the top-k most likely and/or the smallest set holding top-p of the mass."""
    p = np.array(probs, dtype=np.float64)
    if top_k is not None and 0 < top_k < len(p):
        kth = np.partition(p, -top_k)[-top_k]
        p[p < kth] = 0.0
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        cum = np.cumsum(p[order])
        drop = (cum - p[order]) >= top_p * cum[-1]      # mass before this token already enough
        p[order[drop]] = 0.0
    return p


def draw(probs: np.ndarray, rng: np.random.RandomState, temperature: float,
         top_k: Optional[int] = None, top_p: Optional[float] = None) -> int:
    if temperature == 0:
        return int(np.argmax(probs))
    p = filter_probs(probs, top_k, top_p)
    cum = np.cumsum(p)
    return int(min(np.searchsorted(cum, rng.random_sample() * cum[-1], side="right"), len(p) - 1))


class Sampler:
    def __init__(self, model: CharRNN, vocab: CharVocab, ctx=None):
        self.model, self.vocab, self.ctx = model, vocab, ctx or mx.cpu()
        self.stepper = make_stepper(model, self.ctx)

    def check_prime(self, prime: str):
        unknown = self.vocab.unknown_chars(prime)
        if unknown:
            raise StudioError(f"the prime text has characters the model has never seen: "
                              f"{_show_chars(unknown)}")

    def default_prime(self) -> str:
        return "\n" if "\n" in self.vocab.chars else self.vocab.chars[0]

    def generate(self, prime: str = "", length: int = 500, temperature: float = 0.8,
                 top_k: Optional[int] = None, top_p: Optional[float] = None,
                 seed: Optional[int] = None,
                 should_stop: Callable[[], bool] = lambda: False) -> Iterator[SampledChar]:
        """Yield ``length`` characters continuing ``prime`` (the prime itself is not yielded)."""
        if temperature < 0:
            raise StudioError("temperature must be 0 (greedy) or positive")
        if top_k is not None and top_k < 1:
            raise StudioError("top-k must be at least 1")
        if top_p is not None and not 0 < top_p <= 1:
            raise StudioError("top-p must be in (0, 1]")
        prime = prime or self.default_prime()
        self.check_prime(prime)
        rng = np.random.RandomState(seed)
        inv_t = 1.0 if temperature == 0 else 1.0 / temperature
        ids = self.vocab.encode(prime).astype(np.float32).reshape(-1, 1)
        with mx.autograd.predict_mode():
            out = self.model(nd.array(ids, ctx=self.ctx), *self.model.begin_state(1, self.ctx))
        probs = _softmax(out[0][-1, 0].asnumpy(), inv_t)
        self.stepper.reset(out[1:])
        chars = self.vocab.chars
        for i in range(length):
            if should_stop():
                return
            idx = draw(probs, rng, temperature, top_k, top_p)
            top = np.argpartition(-probs, min(3, len(probs) - 1))[:3]
            top = top[np.argsort(-probs[top])]
            yield SampledChar(chars[idx], float(probs[idx]),
                              tuple((chars[j], float(probs[j])) for j in top))
            if i + 1 == length:
                return
            probs = self.stepper.step(idx, inv_t)

    def sample_text(self, **kwargs) -> str:
        return "".join(c.char for c in self.generate(**kwargs))


def evaluate_ids(model: CharRNN, ids: np.ndarray, ctx=None, chunk: int = 1000) -> Tuple[float, int]:
    """Total negative log-likelihood (nats) of ``ids[1:]`` given what precedes, and the count.

    The stream is cut into up to 32 rows scored in parallel, hidden state carried along each row.
    """
    ctx = ctx or mx.cpu()
    n = len(ids)
    if n < 2:
        raise StudioError("need at least two known characters to evaluate")
    rows = int(min(32, max(1, n // 4096)))
    row_len = (n - 1) // rows
    total, count = 0.0, 0
    states = model.begin_state(rows, ctx)
    base = np.arange(rows)[:, None] * row_len
    with mx.autograd.predict_mode():
        for start in range(0, row_len, chunk):
            cols = np.arange(start, min(start + chunk, row_len))[None, :]
            x = nd.array(ids[base + cols].T, ctx=ctx)
            y = nd.array(ids[base + cols + 1].T, ctx=ctx)
            out = model(x, *states)
            states = out[1:]
            nll = -nd.pick(nd.log_softmax(out[0], axis=-1), y, axis=-1)
            total += float(nll.sum().asscalar())
            count += x.size
    return total, count
