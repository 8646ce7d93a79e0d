"""A look at a text before training on it: size, vocabulary, a preview, and advice.

The GUI shows this when a corpus is picked, so that problems (a tiny text, a model far bigger
than its data, an odd vocabulary) are seen before minutes are spent training. The text is read
once (``corpus_report``); the advice follows the settings as they change (``advice``).
"""
from pathlib import Path
from typing import List

from engine.advice import Advice, largest_power_of_two, one_verdict
from engine.config import GeneratorConfig, TrainConfig
from engine.generator.cells import parameter_count
from engine.generator.data import count_chars
from engine.text import inspect_text_file, iter_text_chunks

PREVIEW_CHARS = 1500
SHORT_TEXT = 200_000           # below this, a model soon memorises the text
OVERFIT_RATIO = 10             # parameters per character above which it overfits


def advice(chars: int, vocab: int, model: GeneratorConfig, train: TrainConfig) -> List[Advice]:
    """What to know about training ``model`` with ``train`` on a text of ``chars`` characters
    and ``vocab`` distinct ones. The rules are the engine's own: the validation part is at
    least one batch (``batch x sequence + 1`` characters), and so is the training part."""
    out = []
    window = train.batch_size * train.seq_len + 1
    held = int(chars * train.val_fraction)
    if chars - max(held, window) < window:
        fits = largest_power_of_two((chars / 2 - 1) / train.seq_len)
        out.append(Advice(
            f"Too short to train with batch {train.batch_size} x sequence {train.seq_len}: "
            f"{chars:,} characters, and the training and validation parts need {window:,} each.",
            blocks=True, fix={"batch_size": fits} if fits else {},
            fix_label=f"Use batch {fits}" if fits else ""))
    elif held < window:
        fits = largest_power_of_two((held - 1) / train.seq_len)
        out.append(Advice(
            f"Trains, but validation takes {window / chars:.0%} of the text instead of "
            f"{train.val_fraction:.0%}: one batch of {train.batch_size} x {train.seq_len} needs "
            f"{window:,} characters." + (f" Batch {fits} fits." if fits else ""),
            fix={"batch_size": fits} if fits else {},
            fix_label=f"Use batch {fits}" if fits else ""))
    elif chars < SHORT_TEXT:
        out.append(Advice(f"A short text ({chars:,} characters): the model will soon memorise "
                          f"it. A few hundred thousand characters or more give better samples."))
    params = parameter_count(model, vocab)
    if params > OVERFIT_RATIO * chars:
        hidden = _largest_hidden(model, vocab, OVERFIT_RATIO * chars)
        out.append(Advice(
            f"Trains, but the model ({params:,} parameters) is much larger than the text "
            f"({chars:,} characters): it will overfit." +
            (f" Hidden size {hidden} fits." if hidden else ""),
            fix={"hidden_size": hidden} if hidden else {},
            fix_label=f"Use hidden size {hidden}" if hidden else ""))
    if vocab > 300:
        out.append(Advice(f"{vocab:,} distinct characters: is this really one language's plain "
                          f"text? Rare characters are hard to learn."))
    return one_verdict(out)


def _largest_hidden(model: GeneratorConfig, vocab: int, limit: float) -> int:
    """The largest power-of-two hidden size (at least 16) whose model stays under ``limit``
    parameters; 0 if none does."""
    hidden = largest_power_of_two(model.hidden_size - 1)
    while hidden >= 16 and parameter_count(model.replace(hidden_size=hidden), vocab) > limit:
        hidden //= 2
    return hidden if hidden >= 16 else 0


def corpus_report(path, encoding: str = "utf-8", model: GeneratorConfig = GeneratorConfig(),
                  train: TrainConfig = TrainConfig()) -> dict:
    """{"path", "size", "chars", "vocab", "preview", "parameters", "warnings": [...]}, the
    warnings being ``advice`` for ``model`` and ``train``. Raises StudioError for files that
    cannot be trained on (empty, binary, undecodable)."""
    info = inspect_text_file(path, encoding)
    counts = count_chars(path, encoding)
    chars = sum(counts.values())
    preview = next(iter(iter_text_chunks(path, encoding, chunk_bytes=4 * PREVIEW_CHARS)), "")
    return {"path": str(Path(path)), "size": info.size, "sha256": info.sha256, "chars": chars,
            "vocab": len(counts), "preview": preview[:PREVIEW_CHARS],
            "parameters": parameter_count(model, len(counts)),
            "warnings": [a.text for a in advice(chars, len(counts), model, train)]}
