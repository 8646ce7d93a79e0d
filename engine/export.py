"""Deployable files: MXNet symbol + params (+ ONNX), loadable without RNN Studio installed.
Each model kind writes its own (generator/export.py, sentiment/export.py); this picks one."""
from pathlib import Path

from typing import Optional

from .config import GeneratorConfig, SentimentConfig
from .errors import StudioError
from .export_folder import check_destination, write_export
from .generator.export import export_generator
from .generator.export import onnx_refusal as generator_onnx_refusal
from .run_meta import RunMeta
from .runs import RunFolder, resolve_run
from .sentiment.export import export_sentiment
from .sentiment.export import onnx_refusal as sentiment_onnx_refusal


def export_run(ref, out, fmt: str = "mxnet", force: bool = False) -> Path:
    """Export a run (generator or sentiment) to ``out``, whole or not at all
    (export_folder.py); returns the folder."""
    if fmt not in ("mxnet", "onnx"):
        raise StudioError(f"unknown export format {fmt!r}: use mxnet or onnx")
    kind = RunFolder(resolve_run(ref)).read_meta().kind
    check_destination(Path(out), force)
    return write_export(Path(out), lambda folder: _export_kind(kind, ref, folder, fmt))


def _export_kind(kind: str, ref, folder: Path, fmt: str):
    if kind == "generator":
        return export_generator(ref, folder, fmt)
    if kind == "sentiment":
        return export_sentiment(ref, folder, fmt)
    raise StudioError(f"cannot export a run of kind {kind!r}")


def onnx_refusal(meta: RunMeta) -> Optional[str]:
    """Why a run cannot be exported to ONNX, read from its record (None: it can), so the app
    can say so before anyone picks the format."""
    if meta.kind == "generator":
        return generator_onnx_refusal(GeneratorConfig.from_dict(meta.model_settings))
    if meta.kind == "sentiment":
        return sentiment_onnx_refusal(SentimentConfig.from_dict(meta.model_settings))
    return f"cannot export a run of kind {meta.kind!r}"
