"""Deployable files: MXNet symbol + params (+ ONNX), loadable without RNN Studio installed.
Each model kind writes its own (generator/export.py, sentiment/export.py); this picks one."""
from pathlib import Path

from .errors import StudioError
from typing import Optional

from .config import GeneratorConfig, SentimentConfig
from .generator.export import export_generator
from .generator.export import onnx_refusal as generator_onnx_refusal
from .run_meta import RunMeta
from .runs import RunFolder, resolve_run
from .sentiment.export import export_sentiment
from .sentiment.export import onnx_refusal as sentiment_onnx_refusal


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




def onnx_refusal(meta: RunMeta) -> Optional[str]:
    """Why a run cannot be exported to ONNX, read from its record (None: it can), so the app
    can say so before anyone picks the format."""
    if meta.kind == "generator":
        return generator_onnx_refusal(GeneratorConfig.from_dict(meta.model_settings))
    if meta.kind == "sentiment":
        return sentiment_onnx_refusal(SentimentConfig.from_dict(meta.model_settings))
    return f"cannot export a run of kind {meta.kind!r}"
