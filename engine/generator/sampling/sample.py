"""Sampling text from a trained CharRNN, one character at a time, for one stream or many at once.

Each stream's prime text runs through the fused layer in one call; after that a stepper
(stepper.py) advances every stream one character per call and each stream's draw happens on the
host with its own seeded numpy generator, which makes temperature, top-k and top-p exact and
reproducible and gives the GUI each character's probability and its best alternatives for free.
A stream gives exactly the same text alone as beside others (stepper.py says why).
"""
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import mxnet as mx
import numpy as np
from mxnet import nd

from engine.config import SamplingConfig, default_of
from engine.generator.data import CharVocab, _show_chars
from engine.errors import StudioError
from engine.generator.model import CharRNN
from engine.generator.sampling.stepper import log_softmax_rows, make_stepper, softmax_rows

DEFAULT_TEMPERATURE = default_of(SamplingConfig, "temperature")


@dataclass(frozen=True)
class SampledChar:
    char: str
    prob: float                              # probability the model gave the chosen character
    alternatives: Tuple[Tuple[str, float], ...]  # the most likely characters, best first
    stream: int = 0                          # which stream it belongs to (0 for one stream)
    logprob: float = 0.0                     # its log-probability under the model itself (T=1)


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


def stream_settings(temperature: float = DEFAULT_TEMPERATURE, top_k: Optional[int] = None,
                    top_p: Optional[float] = None, **rest) -> SamplingConfig:
    """A SamplingConfig from the one-stream keywords (top-k/top-p None = off), checked with
    the same words as before the config existed."""
    if temperature < 0:
        raise StudioError("temperature must be 0 (greedy) or positive")
    if top_k is not None and top_k < 1:
        raise StudioError("top-k must be at least 1")
    if top_p is not None and not 0 < top_p <= 1:
        raise StudioError("top-p must be in (0, 1]")
    return SamplingConfig(temperature=temperature, top_k=top_k or 0,
                          top_p=1.0 if top_p is None else top_p, **rest)


class Lanes:
    """Streams being advanced together: the stepper's lanes plus, per lane, its settings, its
    random generator and its next-character distribution. Steering (steer.py) copies and
    reorders lanes; plain sampling keeps one lane per stream."""

    def __init__(self, sampler: "Sampler", configs: Sequence[SamplingConfig], start=None):
        """``start``: (fused states, next-character logits) every lane begins from (the
        Write tab's state at the cursor); by default each lane's prime text is read."""
        self.sampler = sampler
        self.configs = list(configs)
        self.rngs = [np.random.RandomState(c.seed) for c in self.configs]
        self.inv_t = np.array([1.0 if c.temperature == 0 else 1.0 / c.temperature
                               for c in self.configs])
        starts = ([start] * len(self.configs) if start is not None else
                  [sampler.prime_state(c.prime or sampler.default_prime()) for c in self.configs])
        sampler.stepper.start([states for states, _ in starts])
        self._set(np.stack([logits for _, logits in starts]))

    def _set(self, logits: np.ndarray, rows=None):
        rows = slice(None) if rows is None else rows
        if isinstance(rows, slice):
            self.probs = softmax_rows(logits, self.inv_t)
            self.logp = log_softmax_rows(logits)
        else:
            self.probs[rows] = softmax_rows(logits, self.inv_t[rows])
            self.logp[rows] = log_softmax_rows(logits)

    def __len__(self):
        return len(self.configs)

    def draw(self, lane: int, stream: int) -> SampledChar:
        """Draw lane ``lane``'s next character (reported as belonging to ``stream``)."""
        return self.draw_many([lane], [stream])[0]

    def draw_many(self, lanes: Sequence[int], streams: Sequence[int]) -> List[SampledChar]:
        """Draw the next character of each lane in ``lanes`` (reported as belonging to the
        matching ``streams``) with the numpy work shared by all of them. Row by row it is
        exactly ``draw()``: the same filters, one uniform draw from the lane's own generator
        (none when greedy), the same cumulative sums (numpy adds along a row in order) and the
        same pick (a count of the sums at or below the draw is ``searchsorted(side="right")``)."""
        rows = np.asarray(lanes, dtype=np.int64)
        probs = self.probs[rows]
        configs = [self.configs[i] for i in lanes]
        greedy = np.array([c.temperature == 0 for c in configs])
        filtered = [j for j, c in enumerate(configs)
                    if not greedy[j] and any(v is not None for v in c.filters.values())]
        p = probs.copy() if filtered else probs
        for j in filtered:
            p[j] = filter_probs(probs[j], **configs[j].filters)
        cum = np.cumsum(p, axis=1)
        u = np.array([0.0 if g else self.rngs[i].random_sample() for i, g in zip(lanes, greedy)])
        picks = np.minimum((cum <= (u * cum[:, -1])[:, None]).sum(axis=1), probs.shape[1] - 1)
        if greedy.any():
            picks[greedy] = np.argmax(probs[greedy], axis=1)
        top = np.argpartition(-probs, min(3, probs.shape[1] - 1), axis=1)[:, :3]
        across = np.arange(len(rows))[:, None]
        top = top[across, np.argsort(-probs[across, top], axis=1)]
        chars = self.sampler.vocab.chars
        chosen = probs[across[:, 0], picks].tolist()
        logps = self.logp[rows, picks].tolist()
        tops, top_probs = top.tolist(), probs[across, top].tolist()
        return [SampledChar(chars[idx], chosen[j], tuple(zip([chars[t] for t in tops[j]],
                                                               top_probs[j])),
                            stream, logps[j])
                for j, (idx, stream) in enumerate(zip(picks.tolist(), streams))]

    def advance(self, lanes: Sequence[int], chars: Sequence[str]):
        """Feed each lane in ``lanes`` its character; their distributions move on."""
        ids = self.sampler.char_ids
        tokens = np.array([ids[c] for c in chars], dtype=np.int64)
        if list(lanes) == list(range(len(self))):       # every lane, in order
            self._set(self.sampler.stepper.advance(tokens))
        else:
            rows = np.asarray(lanes, dtype=np.int64)
            self._set(self.sampler.stepper.advance(tokens, rows), rows)

    def select(self, lanes: Sequence[int], rngs: Optional[List[np.random.RandomState]] = None,
               configs: Optional[List[SamplingConfig]] = None):
        """Keep lanes ``lanes`` in that order (repeats copy a lane), with these random
        generators and settings (default: the lanes' own)."""
        index = np.asarray(lanes, dtype=np.int64)
        self.sampler.stepper.select(index)
        self.rngs = rngs if rngs is not None else [self.rngs[i] for i in index]
        self.configs = configs if configs is not None else [self.configs[i] for i in index]
        self.inv_t, self.probs, self.logp = self.inv_t[index], self.probs[index], self.logp[index]


class Sampler:
    def __init__(self, model: CharRNN, vocab: CharVocab, ctx=None):
        self.model, self.vocab, self.ctx = model, vocab, ctx or mx.cpu()
        self.stepper = make_stepper(model, self.ctx)
        self.char_ids = {c: i for i, c in enumerate(vocab.chars)}
        self._primes: Dict[str, tuple] = {}

    def check_prime(self, prime: str):
        unknown = self.vocab.unknown_chars(prime)
        if unknown:
            raise StudioError(f"the prime text has characters the model has never seen: "
                              f"{_show_chars(unknown)}")

    def default_prime(self) -> str:
        return "\n" if "\n" in self.vocab.chars else self.vocab.chars[0]

    def prime_state(self, prime: str):
        """(the fused layer's states after ``prime``, the logits of the next character), at
        batch 1 whatever the number of streams; kept per prime text for the next call."""
        if prime not in self._primes:
            self.check_prime(prime)
            ids = self.vocab.encode(prime).astype(np.float32).reshape(-1, 1)
            with mx.autograd.predict_mode():
                out = self.model(nd.array(ids, ctx=self.ctx), *self.model.begin_state(1, self.ctx))
            if len(self._primes) > 64:
                self._primes.clear()
            self._primes[prime] = (list(out[1:]), out[0][-1, 0].asnumpy())
        return self._primes[prime]

    def generate_many(self, configs: Sequence[SamplingConfig],
                      should_stop: Callable[[], bool] = lambda: False
                      ) -> Iterator[List[SampledChar]]:
        """Advance one stream per config together; yield, per step, the next character of every
        stream still going (``SampledChar.stream`` is its index in ``configs``). Each stream
        writes exactly what it writes alone."""
        if not configs:
            return
        for c in configs:
            self.check_prime(c.prime)
        lanes = Lanes(self, configs)
        left = [c.length for c in configs]
        going = [i for i in range(len(configs)) if left[i] > 0]
        while going:
            if should_stop():
                return
            chars = lanes.draw_many(going, going)
            yield chars
            for i in going:
                left[i] -= 1
            more = [j for j, i in enumerate(going) if left[i] > 0]
            if not more:
                return
            going = [going[j] for j in more]
            lanes.advance(going, [chars[j].char for j in more])

    def generate(self, prime: str = "", length: int = 500, temperature: float = DEFAULT_TEMPERATURE,
                 top_k: Optional[int] = None, top_p: Optional[float] = None,
                 seed: Optional[int] = None,
                 should_stop: Callable[[], bool] = lambda: False) -> Iterator[SampledChar]:
        """Yield ``length`` characters continuing ``prime`` (the prime itself is not yielded):
        one stream, through the same code as many."""
        config = stream_settings(temperature, top_k, top_p, prime=prime, length=max(0, length),
                                 seed=seed)
        for chars in self.generate_many([config], should_stop):
            yield chars[0]

    def sample_text(self, **kwargs) -> str:
        return "".join(c.char for c in self.generate(**kwargs))

    def sample_texts(self, configs: Sequence[SamplingConfig], should_stop=lambda: False
                     ) -> List[str]:
        texts = [[] for _ in configs]
        for chars in self.generate_many(configs, should_stop):
            for ch in chars:
                texts[ch.stream].append(ch.char)
        return ["".join(t) for t in texts]


CONTEXT_CHARS = 1024   # characters each scoring row reads, unscored, before its first scored one


def evaluate_ids(model: CharRNN, ids: np.ndarray, ctx=None, chunk: int = 1000) -> Tuple[float, int]:
    """Total negative log-likelihood (nats) of ``ids[1:]`` given what precedes, and the count.

    The stream is cut into up to 32 rows scored in parallel, hidden state carried along each row.
    Every row but the first reads the ``CONTEXT_CHARS`` characters before its start without
    scoring them, so its first characters are scored given what precedes them, as in one
    stream. A row that started from an empty state scored its first characters as if the text
    began there: on held-out Macbeth (96,784 characters, 23 rows) that added 0.002 bits per
    character to a ten-minute 2x512 model's 2.065.
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
        context = min(CONTEXT_CHARS, row_len) if rows > 1 else 0
        if context:
            # row r reads ids[base_r - context, base_r); the first row has nothing before it:
            # it reads its own first characters and then starts again from the empty state
            before = np.maximum(base - context, 0) + np.arange(context)[None, :]
            states = model(nd.array(ids[before].T, ctx=ctx), *states)[1:]
            first = [s[:, :1] for s in model.begin_state(1, ctx)]
            states = [nd.concat(f, s[:, 1:], dim=1) for f, s in zip(first, states)]
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
