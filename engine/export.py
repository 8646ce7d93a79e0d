"""Deployable files: MXNet symbol + params (+ ONNX), loadable without RNN Studio installed.
Each model kind writes its own (generator/export.py, sentiment/export.py); this picks one."""
from pathlib import Path

from .errors import StudioError
from .generator.export import export_generator
from .runs import RunFolder, resolve_run
from .sentiment.export import export_sentiment


def export_run(ref, out, fmt: str = "mxnet", force: bool = False) -> Path:
    """Export a run (generator or sentiment) to ``out``; returns the folder."""
    if fmt not in ("mxnet", "onnx"):
        raise StudioError(f"unknown export format {fmt!r}: use mxnet or onnx")
    kind = RunFolder(resolve_run(ref)).read_meta().kind
    if kind == "generator":
        return export_generator(ref, Path(out), fmt, force)
    if kind == "sentiment":
        return export_sentiment(ref, Path(out), fmt, force)
    raise StudioError(f"cannot export a run of kind {kind!r}")


