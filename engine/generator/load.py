"""Rebuilding a trained generator from its run folder."""
from engine.config import GeneratorConfig
from engine.generator.data import CharVocab
from engine.generator.model import CharRNN
from engine.storage.trained import load_trained


def load_generator(ref, which: str = "best", ctx=None):
    """(model, vocab, meta) for run ``ref`` (a name or a path), checksums verified."""
    return load_trained(ref, "generator", GeneratorConfig, lambda meta: CharVocab.from_json(
        meta.vocab), CharRNN, which, ctx, hybridize={"static_alloc": True})
