"""``OneDNNRNN``: a drop-in for MXNet's fused LSTM/GRU layer (TNC, states passed explicitly) that
runs the whole sequence in oneDNN's own RNN primitives, in f32 or bfloat16.

Why: MXNet 1.9.1's fused ``RNN`` operator has no bfloat16 path (bf16 inputs fail with "Unknown
type enum 12"), and an LSTM unrolled from MXNet ops that do take bf16 measured far slower than the
fused layer. oneDNN's LSTM and linear-before-reset GRU (the GRU MXNet uses) run forward and
backward in bf16 on CPUs with AVX512_BF16 or AMX. The layer is an MXNet Python custom operator
(``mx.operator.CustomOp``) that calls the library in ``engine/native`` once per batch for all
layers and steps; oneDNN's workspace stays in the library between forward and backward.

Compatibility with the fused layer, so a run trained on one loads, samples, resumes and exports on
the other: the same parameters, names (``l{i}_i2h_weight``, ``l{i}_h2h_weight``,
``l{i}_i2h_bias``, ``l{i}_h2h_bias``), shapes, gate orders and registration order (so the same
seed initialises the same weights); the same states. Weights, Adam and the gradients stay f32; in
bf16 only the primitive's products are bf16.

Dropout between layers: none, as the fused layer on a CPU. MXNet 1.9.1 runs that layer through
oneDNN there, which ignores the layer's ``dropout`` (measured: a 2-layer LSTM with dropout 0.5
gives the same training-mode output as with 0); only ``MXNET_USE_MKLDNN_RNN=0`` applies it. The
model's own dropout on the top layer's output (``CharRNN.dropout``) is unchanged.
"""
import ctypes
import sys
from contextlib import contextmanager
from typing import Dict, List, Tuple

import mxnet as mx
import numpy as np
from mxnet import gluon, nd

from engine.generator.cells import cell_kind
from engine.native import onednn_rnn

OP_TYPE = "rnn_studio_onednn_rnn"
MODES = ("lstm", "gru")          # the cells oneDNN's RNN primitives run (not the plain RNN)
_KINDS = ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")


def param_names(num_layers: int) -> List[str]:
    """The fused layer's parameter names, in its registration (and the operator's input) order."""
    return [f"l{i}_{kind}" for i in range(num_layers) for kind in _KINDS]


def _address(array: nd.NDArray) -> int:
    """The f32 data pointer of a CPU NDArray (what the custom operator is handed is ready)."""
    ptr = ctypes.c_void_p()
    mx.base.check_call(mx.base._LIB.MXNDArrayGetData(array.handle, ctypes.byref(ptr)))
    return ptr.value


class _DropMXNetReport:
    """sys.stdout until MXNet's report of one failed operator has gone by: MXNet 1.9.1 (retired
    upstream) prints the operator's traceback to stdout ("Error in CustomOp.forward: Traceback
    ...", its operator.py) before failing the op. The error itself is kept (record_failure) and
    told to people by the engine's error translation, so the print is dropped; everything else
    passes through, and the real stdout is put back after the report's last write."""

    def __init__(self, real):
        self.real, self.dropping = real, False

    def write(self, text: str) -> int:
        if not self.dropping and text.startswith("Error in CustomOp."):
            self.dropping = True
            return len(text)
        if self.dropping:             # print's own "\n" ends the report
            if sys.stdout is self:
                sys.stdout = self.real
            self.dropping = False
            if text == "\n":
                return len(text)
        return self.real.write(text)

    def __getattr__(self, name):
        return getattr(self.real, name)


@contextmanager
def _native_call():
    """Keep the library's failure for the waiting thread and quiet MXNet's print of it."""
    try:
        yield
    except onednn_rnn.NativeError as err:
        onednn_rnn.record_failure(err)
        if not isinstance(sys.stdout, _DropMXNetReport):
            sys.stdout = _DropMXNetReport(sys.stdout)
        raise


class _Buffers:
    """Where a gradient goes: straight into MXNet's array for 'write', else a scratch array that
    is then added ('add') or dropped ('null')."""

    def __init__(self):
        self.scratch: Dict[Tuple[int, tuple], np.ndarray] = {}

    def target(self, index: int, array: nd.NDArray, req: str) -> int:
        if req in ("write", "inplace"):
            return _address(array)
        key = (index, array.shape)
        if key not in self.scratch:
            self.scratch[key] = np.empty(array.shape, np.float32)
        return self.scratch[key].ctypes.data

    def finish(self, op: mx.operator.CustomOp, index: int, array: nd.NDArray, req: str):
        if req == "add":
            op.assign(array, req, nd.array(self.scratch[(index, array.shape)]))


class _OneDNNRNNOp(mx.operator.CustomOp):
    """Inputs: data (T, N, C), h0 (L, N, H), [c0], then 4 parameters per layer.
    Outputs: output (T, N, H), hT, [cT]."""

    def __init__(self, mode: str, layers: int, hidden: int, bf16: bool, other_layouts: bool):
        super().__init__()
        self.mode, self.layers, self.hidden, self.bf16 = mode, layers, hidden, bf16
        self.other_layouts = other_layouts
        self.states = 2 if mode == "lstm" else 1
        self.stacks: Dict[tuple, onednn_rnn.Stack] = {}
        self.buffers = _Buffers()

    def _stack(self, shape, training: bool) -> onednn_rnn.Stack:
        steps, batch, width = shape
        key = (steps, batch, width, training)
        if key not in self.stacks:
            self.stacks[key] = onednn_rnn.Stack(self.mode, self.layers, width, self.hidden, steps,
                                                batch, self.bf16, training, self.other_layouts)
        return self.stacks[key]

    def _split(self, in_data):
        pointers = [_address(a) for a in in_data]
        x, h0 = pointers[0], pointers[1]
        c0 = pointers[2] if self.states == 2 else None
        return x, h0, c0, pointers[1 + self.states:]

    def _outputs(self, out_data):
        pointers = [_address(a) for a in out_data]
        return pointers[0], pointers[1], pointers[2] if self.states == 2 else None

    def forward(self, is_train, req, in_data, out_data, aux):
        if "add" in req:
            raise mx.base.MXNetError("the oneDNN RNN layer cannot add into its outputs")
        x, h0, c0, params = self._split(in_data)
        y, hT, cT = self._outputs(out_data)
        with _native_call():
            self._stack(in_data[0].shape, bool(is_train)).forward(x, h0, c0, params, y, hT, cT)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        x, h0, c0, params = self._split(in_data)
        y, hT, cT = self._outputs(out_data)
        dy, dhT = _address(out_grad[0]), _address(out_grad[1])
        dcT = _address(out_grad[2]) if self.states == 2 else None
        grads = [self.buffers.target(i, g, r) for i, (g, r) in enumerate(zip(in_grad, req))]
        dx, dh0 = grads[0], grads[1]
        dc0 = grads[2] if self.states == 2 else None
        with _native_call():
            self._stack(in_data[0].shape, True).backward(x, h0, c0, params, y, hT, cT, dy, dhT,
                                                         dcT, dx, dh0, dc0, grads[1 + self.states:])
        for i, (g, r) in enumerate(zip(in_grad, req)):
            self.buffers.finish(self, i, g, r)


@mx.operator.register(OP_TYPE)
class _OneDNNRNNProp(mx.operator.CustomOpProp):
    def __init__(self, mode, layers, hidden, bf16, other_layouts):
        super().__init__(need_top_grad=True)
        self.mode, self.layers, self.hidden = str(mode), int(layers), int(hidden)
        self.bf16, self.other_layouts = str(bf16) == "1", str(other_layouts) == "1"
        self.states = 2 if self.mode == "lstm" else 1

    def list_arguments(self):
        return ["data", "h0"] + (["c0"] if self.states == 2 else []) + param_names(self.layers)

    def list_outputs(self):
        return ["output", "hT"] + (["cT"] if self.states == 2 else [])

    def infer_shape(self, in_shape):
        steps, batch, width = in_shape[0]
        rows, hidden = cell_kind(self.mode).blocks * self.hidden, self.hidden
        state = (self.layers, batch, hidden)
        params = []
        for layer in range(self.layers):
            params += [(rows, width if layer == 0 else hidden), (rows, hidden), (rows,), (rows,)]
        inputs = [in_shape[0]] + [state] * self.states + params
        return inputs, [(steps, batch, hidden)] + [state] * self.states, []

    def infer_type(self, in_type):
        return [np.float32] * len(in_type), [np.float32] * (1 + self.states), []

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        return out_grad + in_data + out_data

    def create_operator(self, ctx, shapes, dtypes):
        if ctx.device_type != "cpu":
            raise mx.base.MXNetError("the oneDNN RNN layer runs on the CPU only")
        return _OneDNNRNNOp(self.mode, self.layers, self.hidden, self.bf16, self.other_layouts)


class OneDNNRNN(gluon.HybridBlock):
    """(inputs (T, N, C), [states]) -> (output (T, N, H), new states), as ``rnn.LSTM``/``rnn.GRU``
    with ``layout="TNC"`` called with states. ``other_layouts`` (f32, for tests): oneDNN works on
    other layouts than MXNet's, so the conversions bf16 makes run and are checked in f32 too."""

    def __init__(self, mode: str, hidden_size: int, num_layers: int, input_size: int,
                 bf16: bool = False, other_layouts: bool = False, **kwargs):
        super().__init__(**kwargs)
        self._mode, self._hidden_size, self._num_layers = mode, hidden_size, num_layers
        self._bf16, self._other_layouts = bf16, other_layouts
        rows = cell_kind(mode).blocks * hidden_size
        with self.name_scope():
            for layer in range(num_layers):
                width = input_size if layer == 0 else hidden_size
                shapes = {"i2h_weight": (rows, width), "h2h_weight": (rows, hidden_size),
                          "i2h_bias": (rows,), "h2h_bias": (rows,)}
                for kind in _KINDS:    # the fused layer's defaults: weights from the model's
                    init = "zeros" if kind.endswith("bias") else None   # initializer
                    name = f"l{layer}_{kind}"
                    setattr(self, name, self.params.get(name, shape=shapes[kind], init=init,
                                                        allow_deferred_init=True))

    def _collect_params_with_prefix(self, prefix=""):
        """The fused layer's names in parameter files: ``l0_i2h_weight`` is saved as
        ``_unfused.0.i2h_weight`` (its override, kept for Gluon's older format)."""
        prefix = prefix + "." if prefix else ""
        return {f"{prefix}_unfused.{name[1:].replace('_', '.', 1)}": param
                for name, param in self._reg_params.items()}

    def begin_state(self, batch_size: int = 0, func=nd.zeros, ctx=None, **kwargs):
        shape = (self._num_layers, batch_size, self._hidden_size)
        return [func(shape=shape, ctx=ctx or mx.cpu(), **kwargs)
                for _ in range(2 if self._mode == "lstm" else 1)]

    def hybrid_forward(self, F, inputs, states, **params):
        args = [inputs] + list(states) + [params[name] for name in param_names(self._num_layers)]
        out = F.Custom(*args, op_type=OP_TYPE, mode=self._mode, layers=self._num_layers,
                       hidden=self._hidden_size, bf16=int(self._bf16),
                       other_layouts=int(self._other_layouts))
        return out[0], list(out[1:])
