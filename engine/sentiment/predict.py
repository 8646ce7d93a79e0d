"""Using a trained sentiment model: labels and probabilities, per-word contributions, whole files.

A word's contribution is measured by occlusion: the drop in the predicted class's probability
when that word is left out (all the one-word-shorter texts go through the model as one batch).
Positive numbers pushed the text towards the verdict, negative ones against it.
"""
import csv
import dataclasses
import logging
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import gluonnlp as nlp
import mxnet as mx
import numpy as np

from engine.config import SentimentConfig
from engine.storage.atomic import atomic_write_with
from engine.storage.disk import reason
from engine.errors import StudioError
from engine.storage.run_meta import RunMeta
from engine.storage.trained import load_trained
from engine.sentiment.features import Featurizer
from engine.sentiment.labeled import read_table
from engine.sentiment.model import SentimentRNN
from engine.sentiment.scoring import predict_probs

MAX_EXPLAINED_WORDS = 400
MOSTLY_UNKNOWN_BELOW = 0.5   # a text with fewer of its words known than this is "mostly unknown"
log = logging.getLogger("rnn_studio")


@dataclass(frozen=True)
class Verdict:
    label: str
    probabilities: Dict[str, float]
    words: Optional[List[tuple]] = None     # [(word, contribution), ...] when explained
    toward: Optional[str] = None            # the label a positive contribution pushes toward
    known_words: Optional[float] = None     # share of its words in the model's vocabulary

    @property
    def mostly_unknown(self) -> bool:
        """Most of the text's words were never seen in training (another language, say): the
        verdict then rests on a few words and on chance, whatever its probability says."""
        return self.known_words is not None and self.known_words < MOSTLY_UNKNOWN_BELOW

    def to_dict(self) -> dict:
        out = {"label": self.label, "probabilities": self.probabilities,
               "known_words": self.known_words, "mostly_unknown": self.mostly_unknown}
        if self.words is not None:
            out["words"] = [{"word": w, "contribution": c} for w, c in self.words]
            out["toward"] = self.toward
        return out


class SentimentPredictor:
    def __init__(self, model: SentimentRNN, vocab: nlp.Vocab, labels: List[str],
                 meta: Optional[RunMeta], ctx):
        self.model, self.labels, self.meta, self.ctx = model, labels, meta, ctx
        c = model.config
        self.featurizer = Featurizer.for_config(vocab, c)

    @classmethod
    def load(cls, ref, which: str = "best", ctx=None) -> "SentimentPredictor":
        ctx = ctx or mx.cpu()
        model, (vocab, labels), meta = load_trained(
            ref, "sentiment", SentimentConfig,
            lambda meta: (nlp.Vocab.from_json(meta.vocab), list(meta.labels)), SentimentRNN,
            which, ctx)
        return cls(model, vocab, labels, meta, ctx)

    def probabilities(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        return predict_probs(self.model, self.featurizer.examples(list(texts)), self.ctx, batch_size)

    def known_share(self, text: str) -> Optional[float]:
        """The share of ``text``'s words (tokens with a letter or digit: punctuation is known
        in every language) that are in the model's vocabulary; None for a text without any."""
        words = [t for t in self.featurizer.tokens(text) if any(ch.isalnum() for ch in t)]
        if not words:
            return None
        vocab = self.featurizer.vocab
        return sum(w in vocab.token_to_idx for w in words) / len(words)

    def _verdict(self, probs: np.ndarray, words=None, text: Optional[str] = None) -> Verdict:
        return Verdict(self.labels[int(probs.argmax())],
                       {lab: float(p) for lab, p in zip(self.labels, probs)}, words,
                       known_words=None if text is None else self.known_share(text))

    def predict(self, texts: Sequence[str]) -> List[Verdict]:
        return [self._verdict(p, text=t) for p, t in zip(self.probabilities(texts), texts)]

    def explain(self, text: str) -> Verdict:
        """The verdict on ``text`` with each word's occlusion contribution: how much the word
        raises the probability of the positive class when the labels are a negative/positive
        pair (so a word's sign is its own direction, whatever the verdict), else of the
        verdict."""
        tokens = self.featurizer.tokens(text)[:MAX_EXPLAINED_WORDS]
        variants = [tokens] + [tokens[:i] + tokens[i + 1:] or ["<unk>"] for i in range(len(tokens))]
        probs = predict_probs(self.model, [self.featurizer.example(t) for t in variants], self.ctx)
        full = probs[0]
        polarity = self.model.config.data.class_polarity
        k = int(np.argmax(polarity)) if len(polarity) == len(self.labels) else int(full.argmax())
        words = [(tok, float(full[k] - probs[i + 1, k])) for i, tok in enumerate(tokens)]
        return dataclasses.replace(self._verdict(full, words, text), toward=self.labels[k])

    def classify_file(self, in_path, out_path, text_column: str = "text", batch_size: int = 512,
                      progress: Callable[[int, int], None] = lambda done, total: None,
                      should_stop: Callable[[], bool] = lambda: False) -> "Classified":
        """Write ``in_path`` (CSV/TSV) to ``out_path`` with every row and column kept, in
        order, plus ``predicted_label`` and ``p_<label>`` columns (empty on a row without
        text: unscored) and ``known_words`` (the share of the row's words the model knows).
        Returns the last step: rows, counts per label, rows unscored, rows mostly unknown."""
        step = None
        for step in self.classify_file_steps(in_path, out_path, text_column, batch_size,
                                             should_stop):
            progress(step.done, step.total)
        return step

    def classify_file_steps(self, in_path, out_path, text_column: str = "text",
                            batch_size: int = 512,
                            should_stop: Callable[[], bool] = lambda: False):
        """``classify_file`` as a generator of ``Classified`` steps, for progress bars (the
        last one holds the count per label); the output is written (atomically: a full disk
        leaves no partial file) only when every row is classified. Every input row is kept, a
        blank one too, so that the output lines up with the input row for row."""
        table = read_table(in_path)
        header, rows = table.header, table.rows
        lowered = [h.strip().lower() for h in header]
        if text_column.lower() not in lowered:
            raise StudioError(f"{in_path}: no {text_column!r} column (header: {header[:8]})")
        col = lowered.index(text_column.lower())
        added = ["predicted_label"] + [f"p_{lab}" for lab in self.labels] + ["known_words"]
        clash = sorted(set(added) & set(header))
        if clash:
            raise StudioError(f"{in_path}: already has column(s) {clash}; rename them first")
        out_rows, skipped, unknown = [], [], []
        for start in range(0, len(rows), batch_size):
            if should_stop():
                raise StudioError("classification stopped; nothing was written")
            chunk = rows[start:start + batch_size]
            texts = [r[col] if col < len(r) else "" for r in chunk]
            # a row with no text is kept, unscored (empty cells), and counted, as train and
            # evaluate skip such rows
            scored = [i for i, t in enumerate(texts) if t.strip()]
            probs = dict(zip(scored, self.probabilities([texts[i] for i in scored]))) \
                if scored else {}
            for i, r in enumerate(chunk):
                p = probs.get(i)
                cells = list(r) + [""] * (len(header) - len(r))      # a short row padded
                if p is None:
                    out_rows.append(cells + [""] * len(added))
                    skipped.append(start + i + 1)
                    continue
                known = self.known_share(texts[i])
                out_rows.append(cells + [self.labels[int(p.argmax())]] +
                                [f"{x:.6f}" for x in p] +
                                ["" if known is None else f"{known:.2f}"])
                if known is not None and known < MOSTLY_UNKNOWN_BELOW:
                    unknown.append(start + i + 1)
            if start + batch_size < len(rows):
                yield Classified(start + batch_size, len(rows))

        def write(tmp):
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, delimiter=table.delimiter, lineterminator="\n")
                writer.writerow(list(header) + added)
                writer.writerows(out_rows)
        try:
            atomic_write_with(out_path, write)
        except OSError as err:
            raise StudioError(f"cannot write {out_path}: {reason(err)}; nothing was "
                              f"written") from None
        if skipped:
            log.warning("%s: %d row(s) with an empty text left unscored (data row(s) %s)",
                        in_path, len(skipped), _first_rows(skipped))
        if unknown:
            log.warning("%s: %d row(s) are mostly words the model never saw (known_words below "
                        "%.2f), so their labels mean little (data row(s) %s)", in_path,
                        len(unknown), MOSTLY_UNKNOWN_BELOW, _first_rows(unknown))
        predicted = [r[len(header)] for r in out_rows if r[len(header)]]
        yield Classified(len(rows), len(rows), {lab: predicted.count(lab) for lab in self.labels},
                         len(skipped), len(unknown))


@dataclass(frozen=True)
class Classified:
    """How far the classification of a file is; the last step also has the results."""
    done: int
    total: int
    counts: Optional[Dict[str, int]] = None   # texts per predicted label (the last step)
    skipped: int = 0                          # rows without text, left unscored
    mostly_unknown: int = 0                   # scored rows whose words are mostly unknown


def unknown_words_note(known: float) -> str:
    """What a mostly-unknown verdict means, in words (the CLI and the app say the same)."""
    return (f"only {known:.0%} of its words are known to this model (another language?): "
            f"the label means little")


def _first_rows(numbers: List[int]) -> str:
    return ", ".join(map(str, numbers[:10])) + (" …" if len(numbers) > 10 else "")


def table_header(path) -> List[str]:
    """The header of a CSV or TSV file, checked to be a readable text table first (so that a
    wrong file is refused before anyone is asked where to save the results)."""
    return read_table(path).header
