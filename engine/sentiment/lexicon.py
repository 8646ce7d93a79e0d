"""The VADER lexicon (7,500 rated words), used two ways:

* per-word valence features the network sees (with VADER's negation rule), which carry a model
  to words its training data never had;
* the baseline ``vader_predict``: nltk's VADER analyser scoring whole texts.

nltk cannot download its lexicon offline, but the PyPI package ``vaderSentiment`` ships the same
file. nltk (3.9+) refuses resource paths outside ``nltk.data.path``, so the folder is appended to
it and the file is passed as ``lexicon_file="file:" + path``.
"""
import functools
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

NEGATION_SCALAR = -0.74          # VADER's N_SCALAR
NEGATION_WINDOW = 3              # tokens before a word that can negate it


def lexicon_path() -> str:
    import vaderSentiment.vaderSentiment as vs
    return os.path.join(os.path.dirname(vs.__file__), "vader_lexicon.txt")


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Dict[str, float]:
    """word -> mean valence in [-4, 4]."""
    table = {}
    with open(lexicon_path(), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                try:
                    table[parts[0].lower()] = float(parts[1])
                except ValueError:
                    continue
    return table


@functools.lru_cache(maxsize=1)
def negations() -> frozenset:
    from nltk.sentiment.vader import VaderConstants
    return frozenset(VaderConstants.NEGATE)


def token_valence(tokens: Sequence[str], lexicon: Optional[Dict[str, float]] = None) -> np.ndarray:
    """Valence of each token in [-1, 1], flipped (x -0.74) after a negation within 3 tokens."""
    lexicon = load_lexicon() if lexicon is None else lexicon
    neg = negations()
    out = np.zeros(len(tokens), dtype=np.float32)
    for i, tok in enumerate(tokens):
        v = lexicon.get(tok)
        if v is None:
            continue
        window = tokens[max(0, i - NEGATION_WINDOW):i]
        if any(w in neg or w.endswith("n't") for w in window):
            v *= NEGATION_SCALAR
        out[i] = v / 4.0
    return out


@functools.lru_cache(maxsize=1)
def vader_analyzer():
    import nltk
    from nltk.sentiment import SentimentIntensityAnalyzer
    folder = os.path.dirname(lexicon_path())
    if folder not in nltk.data.path:
        nltk.data.path.append(folder)
    return SentimentIntensityAnalyzer(lexicon_file="file:" + lexicon_path())


def polar_pair(labels: Sequence[str]) -> Optional[Tuple[str, str]]:
    """(negative label, positive label) when ``labels`` are such a pair by name, else None."""
    names = {lab.lower(): lab for lab in labels}
    neg = next((names[k] for k in ("negative", "neg", "-1", "0", "bad") if k in names), None)
    pos = next((names[k] for k in ("positive", "pos", "1", "good") if k in names), None)
    if len(labels) != 2 or neg is None or pos is None:
        return None
    return neg, pos


def class_polarity(labels: Sequence[str]) -> Tuple[float, ...]:
    """-1 for the negative class and +1 for the positive one, in ``labels`` order; () when the
    labels are not a negative/positive pair (the lexicon cannot vote on them)."""
    pair = polar_pair(labels)
    return tuple(-1.0 if lab == pair[0] else 1.0 for lab in labels) if pair else ()


def vader_predict(texts: List[str], labels: Sequence[str]) -> Optional[List[str]]:
    """VADER's verdicts mapped onto ``labels`` when they are a negative/positive pair, else None."""
    pair = polar_pair(labels)
    if pair is None:
        return None
    sia = vader_analyzer()
    return [pair[1] if sia.polarity_scores(t)["compound"] >= 0 else pair[0] for t in texts]
