"""Generated text judged by a trained sentiment model, and generation steered toward a label.

Steering is best-of-K at each line (or sentence) end: every steered stream is copied into K
candidate lanes, all of them advance together (sample.py's ``Lanes``) until each candidate has
finished its line, the sentiment model scores the K lines in one batch, and the stream goes on
from the candidate likeliest to carry the target label. Candidate 0 continues the stream's own
random generator and the others get their own, so with K = 1 steering is plain sampling, draw
for draw. (Compared in the README with reweighting every character by the classifier's verdict
on the prefix, as FUDGE does.)
"""
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from engine.config import SamplingConfig
from engine.errors import StudioError
from engine.generator.sampling.sample import Lanes, SampledChar, Sampler, draw

BOUNDARIES = {"line": "\n", "sentence": ".!?\n"}
MAX_SEGMENT = 400             # characters a candidate may run without reaching a boundary


@dataclass(frozen=True)
class Verdict:
    label: str
    probability: float


def parse_steer(text: str) -> Tuple[str, str]:
    """``RUN:LABEL`` -> (run, label); the run may itself hold colons (a path)."""
    run, sep, label = text.rpartition(":")
    if not sep or not run.strip() or not label.strip():
        raise StudioError(f"--steer takes SENTIMENT_RUN:LABEL (e.g. my-sentiment:positive), "
                          f"not {text!r}")
    return run.strip(), label.strip()


def lines_of(text: str) -> List[str]:
    """The lines of ``text`` that have something to judge."""
    return [line for line in text.split("\n") if line.strip()]


class Judge:
    """A trained sentiment model asked about generated text (and, to steer, one of its labels)."""

    def __init__(self, predictor, label: Optional[str] = None):
        self.predictor, self.labels = predictor, list(predictor.labels)
        if label is not None and label not in self.labels:
            raise StudioError(f"the sentiment model has no label {label!r}; its labels are "
                              f"{', '.join(self.labels)}")
        self.label = label

    @classmethod
    def load(cls, ref, label: Optional[str] = None, ctx=None) -> "Judge":
        from engine.sentiment.predict import SentimentPredictor
        return cls(SentimentPredictor.load(ref, ctx=ctx), label)

    def _probs(self, texts: Sequence[str]) -> Tuple[List[int], np.ndarray]:
        scored = [i for i, t in enumerate(texts) if t.strip()]
        probs = self.predictor.probabilities([texts[i] for i in scored]) if scored else None
        return scored, probs

    def target_probs(self, texts: Sequence[str]) -> np.ndarray:
        """The target label's probability per text (-1 for a text with nothing to judge)."""
        out = np.full(len(texts), -1.0)
        scored, probs = self._probs(texts)
        if scored:
            out[scored] = probs[:, self.labels.index(self.label)]
        return out

    def verdicts(self, texts: Sequence[str]) -> List[Optional[Verdict]]:
        """The likeliest label and its probability per text (None where nothing to judge)."""
        out: List[Optional[Verdict]] = [None] * len(texts)
        scored, probs = self._probs(texts)
        for i, p in zip(scored, probs if scored else []):
            out[i] = Verdict(self.labels[int(p.argmax())], float(p.max()))
        return out

    def judge_sample(self, text: str) -> dict:
        """The sample's verdict and each of its lines', from one batch."""
        lines = lines_of(text)
        verdicts = self.verdicts([text] + lines)
        whole = verdicts[0]
        return {"label": whole.label if whole else None,
                "probability": whole.probability if whole else None,
                "lines": [{"text": line, "label": v.label, "probability": v.probability}
                          for line, v in zip(lines, verdicts[1:])]}


def fudge_steered(sampler: Sampler, configs: Sequence[SamplingConfig], judge: Judge,
                  should_stop: Callable[[], bool] = lambda: False) -> Iterator[List[SampledChar]]:
    """The compared alternative (FUDGE, Yang & Klein 2021): at every character, the
    ``candidates`` likeliest next characters are reweighted by the judge's probability of the
    label for the line so far plus that character, and the draw is made among them."""
    if judge.label is None:
        raise StudioError("steering needs a label to steer toward")
    lanes = Lanes(sampler, configs)
    chars = sampler.vocab.chars
    left = [c.length for c in configs]
    lines = ["" for _ in configs]
    going = [s for s in range(len(configs)) if left[s] > 0]
    while going:
        if should_stop():
            return
        tops = [np.argsort(-lanes.probs[s], kind="stable")[:configs[s].candidates] for s in going]
        texts = [lines[s] + chars[j] for s, top in zip(going, tops) for j in top]
        verdicts = judge.target_probs(texts)
        out, start = [], 0
        for s, top in zip(going, tops):
            weights = verdicts[start:start + len(top)]
            start += len(top)
            p = np.zeros_like(lanes.probs[s])
            p[top] = lanes.probs[s][top] * (weights if (weights >= 0).all() else 1.0)
            idx = draw(p, lanes.rngs[s], 1.0)
            out.append(SampledChar(chars[idx], float(lanes.probs[s][idx]), (), s,
                                   float(lanes.logp[s, idx])))
            lines[s] = "" if chars[idx] == "\n" else lines[s] + chars[idx]
            left[s] -= 1
        yield out
        fed = [(s, ch.char) for s, ch in zip(going, out) if left[s] > 0]
        going = [s for s, _ in fed]
        if going:
            lanes.advance(going, [c for _, c in fed])


def _candidate_rng(config: SamplingConfig, segment: int, k: int) -> np.random.RandomState:
    return np.random.RandomState(None if config.seed is None else [config.seed, segment, k])


def at_boundary(configs: Sequence[SamplingConfig]) -> Callable[[int, str], bool]:
    """The default segment end: the stream's ``steer_at`` character (line or sentence end)."""
    return lambda stream, text: text[-1] in BOUNDARIES[configs[stream].steer_at]


def steered(sampler: Sampler, configs: Sequence[SamplingConfig], judge: Judge,
            should_stop: Callable[[], bool] = lambda: False, start=None,
            segment_done: Optional[Callable[[int, str], bool]] = None
            ) -> Iterator[List[SampledChar]]:
    """Like ``Sampler.generate_many``, but each stream's text is chosen line by line (or
    sentence by sentence) among ``config.candidates`` continuations: the one ``judge`` finds
    likeliest to carry its label. Yields each stream's chosen line as it is decided.

    ``start``: (states, logits) every stream begins from instead of its prime (the Write tab's
    state at the cursor). ``segment_done(stream, text so far)``: where a candidate ends, by
    default at the stream's ``steer_at`` boundary (the Write tab ends at its word/line/sentence)."""
    if judge.label is None:
        raise StudioError("steering needs a label to steer toward")
    if start is None:
        for c in configs:
            sampler.check_prime(c.prime)
    done = segment_done or at_boundary(configs)
    lanes = Lanes(sampler, configs, start=start)
    left = [c.length for c in configs]
    going = [s for s in range(len(configs)) if left[s] > 0]
    lanes.select(going)
    segment = 0
    while going:
        # every going stream (lane j is stream going[j]) becomes its candidates
        plan = [(s, k) for s in going for k in range(configs[s].candidates)]
        copies = [going.index(s) for s, _ in plan]
        lanes.select(copies, [lanes.rngs[j] if k == 0 else _candidate_rng(configs[s], segment, k)
                              for j, (s, k) in zip(copies, plan)])
        texts = _run_candidates(lanes, plan, left, done, should_stop)
        if texts is None:
            return
        winners = []
        for s in going:
            options = [i for i, (t, _) in enumerate(plan) if t == s]
            options = ended(options, texts, s, done)
            best = options[0]
            if len(options) > 1:
                scores = judge.target_probs(["".join(c.char for c in texts[i]) for i in options])
                best = options[int(np.argmax(scores))]
            winners.append(best)
            left[s] -= len(texts[best])
        yield [ch for best in winners for ch in texts[best]]
        keep = [j for j, s in enumerate(going) if left[s] > 0]
        going = [going[j] for j in keep]
        lanes.select([winners[j] for j in keep])
        segment += 1


def ended(options: List[int], texts, stream: int, segment_done) -> List[int]:
    """Of a stream's candidates, those that reached the end of their line (or sentence), where
    any did: one cut off by the length left, or by MAX_SEGMENT, is not a line, and the judge,
    finding more words to go by in it, would otherwise often choose it, and a steered sample
    would come out as one long unbroken line."""
    whole = [i for i in options
             if texts[i] and segment_done(stream, "".join(c.char for c in texts[i]))]
    return whole or options


def _run_candidates(lanes: Lanes, plan, left, segment_done, should_stop):
    """Advance every candidate lane to the end of its line (or its stream's length); their
    characters, or None when stopped. A candidate whose stream goes on is also fed its last
    character, ready for the next line."""
    texts: List[List[SampledChar]] = [[] for _ in plan]
    drawn = ["" for _ in plan]
    active = list(range(len(plan)))
    while active:
        if should_stop():
            return None
        fed, chars, still = [], [], []
        for lane in active:
            stream = plan[lane][0]
            ch = lanes.draw(lane, stream)
            texts[lane].append(ch)
            drawn[lane] += ch.char
            budget = min(left[stream], MAX_SEGMENT)
            ended = segment_done(stream, drawn[lane]) or len(texts[lane]) >= budget
            if not ended:
                still.append(lane)
            if not ended or left[stream] > len(texts[lane]):
                fed.append(lane)
                chars.append(ch.char)
        if fed:
            lanes.advance(fed, chars)
        active = still
    return texts
