"""Writing beside a model: the state at the cursor of a document, kept as the person types.

``WritingState`` holds the model's state after the text before the cursor. A new cursor
position with the same text before it reads only what was added; an edit or a move back
restarts from the nearest kept state before the change (one every ``CHECKPOINT`` characters),
so no suggestion ever re-reads the whole document. Characters the model does not know are
skipped (the model never sees them) and collected once in ``unknown`` for the person to be told.
``suggest`` draws several continuations at once as lanes (sample.py) from that state, each
ending at a word, line or sentence end. No Qt here: the Write tab calls it on the engine thread.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Set

import mxnet as mx
import numpy as np
from mxnet import nd

from engine.config import SamplingConfig
from engine.errors import StudioError
from engine.generator.sampling.sample import Lanes, Sampler

CHECKPOINT = 512            # a kept state every this many characters of the document
ENDS = ("word", "line", "sentence")
SENTENCE_ENDS = ".!?"


@dataclass(frozen=True)
class Suggestion:
    text: str
    copied: int = 0                 # longest stretch of it found in the training text
    copied_line: Optional[int] = None

    def novelty(self) -> str:
        """For people: whether the suggestion is the training text word for word."""
        if not self.text.strip():
            return ""
        if self.copied >= len(self.text):
            return f"in the training text word for word (line {self.copied_line:,})"
        if self.copied_line is None or self.copied < 8:
            return "new"
        return f"{self.copied} of {len(self.text)} characters from the training text " \
               f"(line {self.copied_line:,})"


def ended(text: str, end: str) -> int:
    """How much of ``text`` (drawn so far) the suggestion keeps once it reached ``end``, or -1
    when it has not yet: a word ends at whitespace after a non-space, a line at a newline after
    some text (a suggestion at a line's end goes on to the next line), a sentence after . ! or ?
    (or a line end)."""
    last, something = text[-1], bool(text[:-1].strip())     # an end before anything is skipped
    if end == "sentence" and last in SENTENCE_ENDS:
        return len(text)
    if end in ("line", "sentence"):
        return len(text) - 1 if last == "\n" and something else -1
    return len(text) - 1 if last.isspace() and something else -1


class WritingState:
    def __init__(self, sampler: Sampler, index=None):
        """``index``: the training text's novelty index (CorpusIndex), or None to skip novelty."""
        self.sampler, self.index = sampler, index
        self.known = set(sampler.vocab.chars)
        self.unknown: Set[str] = set()
        self.told: Set[str] = set()
        states, logits = sampler.prime_state(sampler.default_prime())
        self.text = ""                              # the text the state has read
        self.states, self.logits = states, logits
        self.kept = [(0, states, logits)]           # (position, states, logits), ascending
        self.read_chars = 0                         # characters fed to the model (for tests)

    # ---- reading -----------------------------------------------------------------------------
    def move_to(self, before: str):
        """Make the state the one after ``before`` (the text before the cursor)."""
        if before == self.text:
            return
        if not before.startswith(self.text):
            while self.kept[-1][0] > len(before) or \
                    before[:self.kept[-1][0]] != self.text[:self.kept[-1][0]]:
                self.kept.pop()
            position, self.states, self.logits = self.kept[-1]
            self.text = before[:position]
        start = len(self.text)
        while start < len(before):
            stop = min(len(before), (start // CHECKPOINT + 1) * CHECKPOINT)
            self._read(before[start:stop])
            start = stop
            if stop % CHECKPOINT == 0:
                self.kept.append((stop, self.states, self.logits))
        self.text = before

    def _read(self, chunk: str):
        known = [c for c in chunk if c in self.known]
        if len(known) < len(chunk):
            self.unknown.update(set(chunk) - self.known)
        if not known:
            return
        ids = self.sampler.vocab.encode("".join(known)).astype(np.float32).reshape(-1, 1)
        model, ctx = self.sampler.model, self.sampler.ctx
        with mx.autograd.predict_mode():
            out = model(nd.array(ids, ctx=ctx), *self.states)
        self.states, self.logits = list(out[1:]), out[0][-1, 0].asnumpy()
        self.read_chars += len(known)

    def news(self) -> List[str]:
        """Unknown characters not told before (each told once)."""
        new = sorted(self.unknown - self.told)
        self.told.update(new)
        return new

    # ---- suggesting --------------------------------------------------------------------------
    def suggest(self, count: int = 3, length: int = 40, end: str = "word",
                temperature: float = 0.8, top_k: int = 0, top_p: float = 1.0,
                seed: Optional[int] = None,
                should_stop: Callable[[], bool] = lambda: False,
                judge=None, candidates: int = 8) -> List[Suggestion]:
        """Up to ``count`` different continuations of the text read, drawn together. With a
        ``judge`` (steer.py's Judge with a label), each is the best of ``candidates`` drawn from
        the same state, chosen by the judge: steer.py's one steering, started from the cursor."""
        if end not in ENDS:
            raise StudioError(f"a suggestion ends at one of {', '.join(ENDS)}, not {end!r}")
        configs = [SamplingConfig(temperature=temperature, top_k=top_k, top_p=top_p,
                                  length=length, seed=None if seed is None else seed + i,
                                  candidates=candidates)
                   for i in range(count)]
        if judge is not None:
            texts = self._steered(configs, judge, end, should_stop)
        else:
            texts = self._drawn(configs, end, should_stop)
        results, seen = [], set()
        for text in texts:
            if text and text not in seen:
                seen.add(text)
                results.append(self._with_novelty(text))
        return results

    def _steered(self, configs, judge, end, should_stop) -> List[str]:
        from engine.generator.sampling.steer import steered
        segments = steered(self.sampler, configs, judge, should_stop,
                           start=(self.states, self.logits),
                           segment_done=lambda stream, text: ended(text, end) >= 0)
        first = next(segments, [])                  # each stream's chosen first segment
        texts = ["".join(ch.char for ch in first if ch.stream == s) for s in range(len(configs))]
        return [text[:keep] if (keep := ended(text, end)) >= 0 else text for text in texts]

    def _drawn(self, configs, end, should_stop) -> List[str]:
        count, length = len(configs), configs[0].length
        lanes = Lanes(self.sampler, configs, start=(self.states, self.logits))
        texts, done = [""] * count, [None] * count
        going = list(range(count))
        for _ in range(length):
            if should_stop() or not going:
                break
            chars = lanes.draw_many(going, going)
            for lane, ch in zip(going, chars):
                texts[lane] += ch.char
                keep = ended(texts[lane], end)
                if keep >= 0:
                    done[lane] = texts[lane][:keep]
            going = [lane for lane in going if done[lane] is None]
            if going:
                lanes.advance(going, [texts[lane][-1] for lane in going])
        return [texts[lane] if done[lane] is None else done[lane] for lane in range(count)]

    def _with_novelty(self, text: str) -> Suggestion:
        if self.index is None:
            return Suggestion(text)
        from engine.generator.sampling.novelty import check_text
        report = check_text(self.index, self.sampler.vocab, text, ks=(), min_span=len(text) + 1)
        longest = report.longest
        return Suggestion(text, longest.length if longest else 0,
                          longest.line if longest else None)
