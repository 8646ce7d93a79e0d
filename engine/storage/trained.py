"""Rebuilding a trained model from its run folder, for every kind: the record read and checked,
the model built from its saved settings, the checkpoint's parameters loaded (checksums verified)."""
from typing import Callable, Tuple

import mxnet as mx

from engine.errors import StudioError
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder, resolve_run


def load_trained(ref, kind: str, config_cls, read_vocab: Callable[[RunMeta], object],
                 build: Callable, which: str = "best", ctx=None,
                 hybridize: dict = None) -> Tuple[object, object, RunMeta]:
    """(model, what ``read_vocab`` read from the record, meta) for run ``ref`` (a name or a
    path) of ``kind``; the meta is the checkpoint's actually loaded (``which``: best or last)."""
    ctx = ctx or mx.cpu()
    run = RunFolder(resolve_run(ref))
    meta = run.read_meta(kind=kind)
    try:
        config = config_cls.from_dict(meta.model_settings)
        vocab = read_vocab(meta)
    except (KeyError, TypeError, ValueError) as err:
        raise StudioError(f"{run.path}/meta.json: corrupted ({err})") from None
    model = build(config)
    meta = run.load_params(model, which, ctx, meta)
    model.hybridize(**(hybridize or {}))
    return model, vocab, meta
