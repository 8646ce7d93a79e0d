"""Deployable files: MXNet symbol + params (+ ONNX), loadable without RNN Studio installed.
Each model kind writes its own (its ``exporter`` in engine/kinds.py); this picks one."""
from pathlib import Path
from typing import Optional

from engine.errors import StudioError
from engine.export.folder import check_destination, write_export
from engine.kinds import kind_of
from engine.storage.run_meta import RunMeta
from engine.storage.runs import RunFolder, resolve_run


def export_run(ref, out, fmt: str = "mxnet", force: bool = False) -> Path:
    """Export a run (of any kind) to ``out``, whole or not at all (export_folder.py); returns
    the folder."""
    if fmt == "web":
        from engine.export.web import export_web
        return export_web(ref, out, force)
    if fmt not in ("mxnet", "onnx"):
        raise StudioError(f"unknown export format {fmt!r}: use mxnet, onnx or web")
    exporter = kind_of(RunFolder(resolve_run(ref)).read_meta().kind).get("exporter")
    check_destination(Path(out), force)
    return write_export(Path(out), lambda folder: exporter(ref, folder, fmt))


def onnx_refusal(meta: RunMeta) -> Optional[StudioError]:
    """Why a run cannot be exported to ONNX, read from its record (None: it can), so the app
    can say so before anyone picks the format."""
    kind = kind_of(meta.kind)
    return kind.get("onnx_refusal")(kind.model_config.from_dict(meta.model_settings))
