"""A look at a text before training on it: size, vocabulary, a preview, and warnings.

The GUI shows this when a corpus is picked, so that problems (a tiny text, a model far bigger
than its data, an odd vocabulary) are seen before minutes are spent training.
"""
from pathlib import Path

from ..config import GeneratorConfig, TrainConfig
from ..data import count_chars
from ..text import inspect_text_file, iter_text_chunks

PREVIEW_CHARS = 1500


def parameter_count(config: GeneratorConfig, vocab_size: int) -> int:
    """Trainable parameters of a CharRNN, without building it."""
    gates = 4 if config.mode == "lstm" else 3
    H, E = config.hidden_size, config.embed_size
    rnn = sum(gates * H * ((E if layer == 0 else H) + H + 2) for layer in range(config.num_layers))
    return vocab_size * E + rnn + H * vocab_size + vocab_size


def corpus_report(path, encoding: str = "utf-8", model: GeneratorConfig = GeneratorConfig(),
                  train: TrainConfig = TrainConfig()) -> dict:
    """{"path", "size", "chars", "vocab", "preview", "parameters", "warnings": [...]}.
    Raises StudioError for files that cannot be trained on (empty, binary, undecodable)."""
    info = inspect_text_file(path, encoding)
    counts = count_chars(path, encoding)
    chars = sum(counts.values())
    preview = next(iter(iter_text_chunks(path, encoding, chunk_bytes=4 * PREVIEW_CHARS)), "")
    params = parameter_count(model, len(counts))
    warnings = []
    needed = 2 * (train.batch_size * train.seq_len + 1) / train.val_fraction
    if chars < needed:
        warnings.append(f"Only {chars:,} characters: too short for batch {train.batch_size} x "
                        f"sequence {train.seq_len} with a {train.val_fraction:.0%} validation "
                        f"split; lower the batch size or sequence length.")
    elif chars < 200_000:
        warnings.append(f"A short text ({chars:,} characters): the model will soon memorise it. "
                        f"A few hundred thousand characters or more give better samples.")
    if params > 10 * chars:
        warnings.append(f"The model ({params:,} parameters) is much larger than the text "
                        f"({chars:,} characters): it will overfit. Try a smaller hidden size.")
    if len(counts) > 300:
        warnings.append(f"{len(counts):,} distinct characters: is this really one language's "
                        f"plain text? Rare characters are hard to learn.")
    return {"path": str(Path(path)), "size": info.size, "sha256": info.sha256, "chars": chars,
            "vocab": len(counts), "preview": preview[:PREVIEW_CHARS], "parameters": params,
            "warnings": warnings}
