"""A text with a planted property for the look-inside tests, and a tiny model trained on it.

Outside angle brackets the text has lowercase words; inside ``<...>``, uppercase ones. After a
space the model can only tell which case comes next by remembering whether a ``<`` is open:
a tiny LSTM learns a cell for that within seconds.
"""
import re

import numpy as np
import pytest

from .helpers import TINY, tiny_train, train

WORDS = ["ab", "cab", "bad", "dab", "ac", "cd", "bd", "dca"]
SPAN = re.compile(r"<[^>]*>")


def planted_text(n_chars: int, seed: int = 0, spans: float = 0.1) -> str:
    rng = np.random.RandomState(seed)
    out, size = [], 0
    while size < n_chars:
        if rng.rand() < spans:
            piece = "<" + " ".join(rng.choice(WORDS).upper()
                                   for _ in range(rng.randint(2, 5))) + "> "
        else:
            piece = rng.choice(WORDS) + " "
        if rng.rand() < 0.1:
            piece += "\n"
        out.append(piece)
        size += len(piece)
    return "".join(out)[:n_chars]


def spans_in(text: str):
    return [(m.start(), m.end()) for m in SPAN.finditer(text)]


def isolated_span(text: str):
    """A ``<...>`` span with no other bracket within its own length on either side."""
    for a, b in spans_in(text)[1:]:
        if not set("<>") & set(text[max(0, 2 * a - b):a] + text[b:2 * b - a]):
            return a, b
    raise AssertionError("no isolated span")


def open_or_closed_texts(n: int, seed: int = 3):
    """Labeled texts: "open" ones end inside an unclosed ``<...``, "closed" ones do not."""
    rng = np.random.RandomState(seed)
    texts, labels = [], []
    for k in range(n):
        base = planted_text(rng.randint(40, 120), seed=100 + k, spans=0.0)
        base = base[:base.rfind(" ") + 1]
        if k % 2:
            words = " ".join(rng.choice(WORDS).upper() for _ in range(rng.randint(1, 3)))
            texts.append(base + "<" + words + " ")
            labels.append("open")
        else:
            texts.append(base + "dab cab ")
            labels.append("closed")
    return texts, labels


def train_planted(tmp_path_factory):
    """(run folder, its training text file): a 1 x 32 LSTM trained ~5 s on the planted text
    (the test modules' ``planted_run`` fixture)."""
    folder = tmp_path_factory.mktemp("planted")
    text = folder / "planted.txt"
    text.write_text(planted_text(20_000), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNN_STUDIO_HOME", str(folder / "home"))
        train(folder / "run", text, TINY, tiny_train(epochs=3, batch_size=16, seq_len=50,
                                                     val_interval=100, sample_length=0))
    return folder / "run", text
