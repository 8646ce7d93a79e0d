"""ONNX export through mxnet 1.9.1's exporter, with the workarounds it needs.

Workarounds (verified in shared/probes/onnx_export_compat.py):
* mx2onnx's translations are opset <= 13 but it stamps the model with onnx's newest opset, which
  onnxruntime then rejects: pretend the newest opset is 13 during export and re-stamp afterwards.
* its internal ``check_graph`` rejects valid opset-13 ReduceMean: skip it, then run the full
  ``onnx.checker.check_model`` on the final model instead.
* ONNX output order differs from MXNet's: ``output_names`` gives them in MXNet's order.
Limits of the converter: RNN num_layers 1 or 2 (2 only when input size == hidden size),
bidirectional only for a 1-layer LSTM, no use_sequence_length.
* A graph of single-output nodes (the one-step cell model): mx2onnx leaves some of the model's
  outputs out of the ONNX graph's outputs (an LSTM cell's new c state), although the tensors are
  there: ``name_graph`` declares the outputs the MXNet model has, under names a person can read.
"""
import contextlib
from typing import Dict, List

import numpy as np

from engine.errors import StudioError

OPSET = 13


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise StudioError("ONNX export needs the onnx package: pip install 'rnn-studio[onnx]' "
                          "(onnx 1.17, which still works with numpy 1.23)") from None
    return onnx


@contextlib.contextmanager
def _exporter_patches(onnx):
    import onnx.checker
    import onnx.defs
    saved = onnx.defs.onnx_opset_version, onnx.checker.check_graph
    onnx.defs.onnx_opset_version = lambda: OPSET
    onnx.checker.check_graph = lambda *a, **k: None
    try:
        yield
    finally:
        onnx.defs.onnx_opset_version, onnx.checker.check_graph = saved


def export_onnx(prefix: str, in_shapes, onnx_path: str) -> str:
    """Convert ``prefix``-symbol.json / -0000.params (a Gluon export) to ``onnx_path``."""
    onnx = _import_onnx()
    import mxnet as mx
    with _exporter_patches(onnx):
        mx.onnx.export_model(f"{prefix}-symbol.json", f"{prefix}-0000.params", in_shapes=in_shapes,
                             in_types=[np.float32] * len(in_shapes), onnx_file_path=onnx_path,
                             dynamic=True)
    model = onnx.load(onnx_path)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = OPSET
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    onnx.checker.check_model(model)
    onnx.save(model, onnx_path)
    return onnx_path


def output_names(prefix: str):
    """ONNX output names in MXNet's output order."""
    import mxnet as mx

    def convert(name):
        for suffix, repl in (("_statecell_output", "2"), ("_state_output", "1"), ("_output", "")):
            if name.endswith(suffix):
                return name[: -len(suffix)] + repl
        return name
    return [convert(n) for n in mx.sym.load(f"{prefix}-symbol.json").list_outputs()]


def graph_output_names(prefix: str) -> List[str]:
    """For a model whose outputs each come from a single-output node (the one-step cell model):
    the ONNX tensor of each MXNet output, in MXNet's order (the node's name)."""
    import mxnet as mx
    return [n[: -len("_output")] if n.endswith("_output") else n
            for n in mx.sym.load(f"{prefix}-symbol.json").list_outputs()]


def name_graph(onnx_path: str, inputs: Dict[str, str], outputs: Dict[str, str]):
    """Rename the graph's tensors (``inputs``: old -> new) and make its outputs exactly
    ``outputs`` (old tensor name -> new name, in order; each (batch, width) float32), declaring
    those mx2onnx left out."""
    onnx = _import_onnx()
    from onnx import TensorProto, helper
    model = onnx.load(onnx_path)
    graph = model.graph
    renamed = dict(inputs, **outputs)
    for node in graph.node:
        node.input[:] = [renamed.get(n, n) for n in node.input]
        node.output[:] = [renamed.get(n, n) for n in node.output]
    for value in graph.input:
        value.name = renamed.get(value.name, value.name)
    produced = {n for node in graph.node for n in node.output}
    missing = [new for new in outputs.values() if new not in produced]
    if missing:
        raise RuntimeError(f"ONNX export: no tensor for output(s) {', '.join(missing)}")
    used = {n for node in graph.node for n in node.input}
    unused = [t for t in graph.initializer if t.name not in used]   # mx2onnx's leftovers,
    for tensor in unused:                                            # which onnxruntime warns of
        graph.initializer.remove(tensor)
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(new, TensorProto.FLOAT, ["batch", None])
                        for new in outputs.values())
    onnx.checker.check_model(model)
    onnx.save(model, onnx_path)
