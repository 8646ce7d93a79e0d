"""Turning a context name ("cpu", "gpu", "gpu:1") into an MXNet context, with a clear error."""
import mxnet as mx

from .errors import StudioError


def parse_ctx(name: str) -> mx.Context:
    name = (name or "cpu").strip().lower()
    kind, _, index = name.partition(":")
    if kind == "cpu":
        return mx.cpu()
    if kind == "gpu":
        n = mx.context.num_gpus()
        i = int(index or 0)
        if n == 0:
            raise StudioError("--ctx gpu: this MXNet build sees no GPU (install mxnet-cu112 "
                              "or similar on a CUDA machine, or use --ctx cpu)")
        if i >= n:
            raise StudioError(f"--ctx {name}: only {n} GPU(s) present")
        return mx.gpu(i)
    raise StudioError(f"unknown context {name!r}: use cpu, gpu or gpu:N")
