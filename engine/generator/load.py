"""Rebuilding a trained generator from its run folder."""
import mxnet as mx

from engine.config import GeneratorConfig
from engine.generator.data import CharVocab
from engine.errors import StudioError
from engine.storage.runs import RunFolder, resolve_run
from engine.generator.model import CharRNN


def load_generator(ref, which: str = "best", ctx=None):
    """(model, vocab, meta) for run ``ref`` (a name or a path), checksums verified."""
    ctx = ctx or mx.cpu()
    run = RunFolder(resolve_run(ref))
    meta = run.read_meta(kind="generator")
    try:
        config = GeneratorConfig.from_dict(meta.model_settings)
        vocab = CharVocab.from_json(meta.vocab)
    except (KeyError, TypeError, ValueError) as err:
        raise StudioError(f"{run.path}/meta.json: corrupted ({err})") from None
    model = CharRNN(config)
    meta = run.load_params(model, which, ctx, meta)     # the checkpoint actually loaded
    model.hybridize(static_alloc=True)
    return model, vocab, meta
