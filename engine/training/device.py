"""Turning a context name into MXNet contexts, with a clear error: "cpu", "gpu", "gpu:1", or a
list of devices that share each training batch, "gpu:0,1" (Gluon's data parallelism on one
machine; "cpu:0,1" runs the same code path on the CPU, which is how the tests check it)."""
from typing import List

import mxnet as mx

from engine.errors import StudioError


def parse_contexts(name: str) -> List[mx.Context]:
    name = (name or "cpu").strip().lower()
    kind, _, indices = name.partition(":")
    if kind not in ("cpu", "gpu"):
        raise StudioError(f"unknown context {name!r}: use cpu, gpu, gpu:N or gpu:0,1")
    try:
        ids = [int(i) for i in indices.split(",")] if indices else [0]
    except ValueError:
        raise StudioError(f"--ctx {name}: device numbers are whole numbers, e.g. gpu:0,1") from None
    if len(set(ids)) != len(ids) or min(ids) < 0:
        raise StudioError(f"--ctx {name}: name each device once, numbered from 0")
    if kind == "cpu":
        return [mx.cpu(i) for i in ids]
    n = mx.context.num_gpus()
    if n == 0:
        raise StudioError("--ctx gpu: this MXNet build sees no GPU (install mxnet-cu112 "
                          "or similar on a CUDA machine, or use --ctx cpu)")
    if max(ids) >= n:
        raise StudioError(f"--ctx {name}: only {n} GPU(s) present")
    return [mx.gpu(i) for i in ids]


def parse_ctx(name: str) -> mx.Context:
    """The one device for work that does not split batches (sampling, prediction): the first
    of a list."""
    return parse_contexts(name)[0]
