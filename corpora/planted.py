"""A text with planted long-range structure: brackets whose content is 20-120 characters long.

Words drawn at random from a small list, in lines; now and then a bracket opens, one of
``()``, ``[]`` and ``{}``, and closes 20-120 characters later with its own closer. Inside and
outside a bracket the words are drawn alike, so the only way to know that a closer may come,
and which one, is to remember the opener: what a model must carry across 20-120 characters.
No brackets nest. Built in code (no data set): the same bytes for the same seed. The built-in
corpus ``planted-brackets`` (1 M characters); engine/generator/compare.py's bracket closing reads
a model back on it.
"""
import numpy as np

PAIRS = ("()", "[]", "{}")
WORDS = ("the", "a", "cat", "dog", "sat", "on", "mat", "red", "blue", "ran", "far", "and", "so",
         "it", "was", "not", "big", "small", "tree", "hill", "sun", "rain", "we", "they", "see")
SHORTEST, LONGEST = 20, 120          # characters inside a bracket
OPEN_SHARE = 0.12                    # chance that a bracket opens before a word


def planted_text(chars: int, seed: int = 0, words=WORDS, shortest: int = SHORTEST,
                 longest: int = LONGEST) -> str:
    """``chars`` characters (about) of the planted-bracket text (tests: fewer words, shorter
    brackets)."""
    rng = np.random.RandomState(seed)
    out, line, size = [], [], 0
    while size < chars:
        if rng.rand() < OPEN_SHARE:
            pair = PAIRS[rng.randint(len(PAIRS))]
            length = rng.randint(shortest, longest + 1)
            inside = []
            while len(" ".join(inside)) < length:
                inside.append(words[rng.randint(len(words))])
            word = pair[0] + " ".join(inside) + pair[1]
        else:
            word = words[rng.randint(len(words))]
        line.append(word)
        if sum(len(w) + 1 for w in line) > 70 and not word.startswith(tuple(p[0] for p in PAIRS)):
            out.append(" ".join(line) + ".\n")
            size += len(out[-1])
            line = []
    return "".join(out)


CHARS = 1_000_000


def build(target) -> dict:
    text = planted_text(CHARS, seed=0)
    with open(target, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return {"chars": len(text), "source": "generated in code (corpora/planted.py), seed 0"}
