"""Where the bf16 path's time goes, for ``rnn-studio bench``: the oneDNN layer alone (the library's
forward and backward over one batch, no Gluon around it) beside the training loop's rate, at the
default batch and at half and twice it, and the layer's arithmetic rate beside oneDNN's own
matmul on this CPU (the ceiling its products can reach).

Read together (README, "Where bf16's time goes"): ``bf16_layer_share_of_step`` is how much of a
training step the layer is (the rest: embedding, output layer, softmax, clipping, Adam, the
custom operator's hand-over); ``bf16_layer_gflops`` over ``bf16_matmul_gflops`` is how near
oneDNN's RNN primitives come to this CPU's limit; the per-batch rates say whether a larger batch
feeds this CPU better (AMX wants large products; AVX512_BF16 much less).
"""
import time
from typing import Dict, Optional

import numpy as np

from engine.config import GeneratorConfig, TrainConfig
from engine.generator.cells import cell_kind

MATMUL_SIZE = 2048            # a square bf16 product large enough to run at the CPU's best


def layer_flops_per_char(model: GeneratorConfig) -> float:
    """Multiply-adds x 2 of the recurrent layers' forward and backward for one character: each
    layer's forward is 2*G*H*(C + H); its backward twice that (the gradients of the inputs and
    of the weights)."""
    gates, hidden = cell_kind(model.mode).blocks, model.hidden_size
    forward = sum(2 * gates * hidden * ((model.embed_size if layer == 0 else hidden) + hidden)
                  for layer in range(model.num_layers))
    return 3.0 * forward


def layer_rate(model: GeneratorConfig, batch: int, seq_len: int, bf16: bool,
               seconds: float) -> float:
    """Characters per second of the oneDNN stack alone: forward and backward of one batch of
    random f32 arrays through the library (engine/native/onednn_rnn.py), median of the rounds."""
    from engine.native.onednn_rnn import Stack
    rng = np.random.RandomState(0)
    layers, hidden, width = model.num_layers, model.hidden_size, model.embed_size
    lstm, gates = model.mode == "lstm", cell_kind(model.mode).blocks

    def arr(*shape):
        return (rng.randn(*shape) * 0.05).astype(np.float32)

    state = (layers, batch, hidden)
    x, h0, c0 = arr(seq_len, batch, width), arr(*state), arr(*state)
    params = []
    for layer in range(layers):
        params += [arr(gates * hidden, width if layer == 0 else hidden),
                   arr(gates * hidden, hidden), arr(gates * hidden), arr(gates * hidden)]
    y = np.zeros((seq_len, batch, hidden), np.float32)
    hT, cT = np.zeros(state, np.float32), np.zeros(state, np.float32)
    dy, dhT, dcT = arr(seq_len, batch, hidden), arr(*state), arr(*state)
    dx, dh0, dc0 = np.zeros_like(x), np.zeros_like(h0), np.zeros_like(c0)
    dparams = [np.zeros_like(p) for p in params]
    weights, grads = [p.ctypes.data for p in params], [p.ctypes.data for p in dparams]

    def cell(a):                                    # the LSTM's cell states; a GRU has none
        return a.ctypes.data if lstm else None

    stack = Stack(model.mode, layers, width, hidden, seq_len, batch, bf16, True)

    def once():
        stack.forward(x.ctypes.data, h0.ctypes.data, cell(c0), weights, y.ctypes.data,
                      hT.ctypes.data, cell(cT))
        stack.backward(x.ctypes.data, h0.ctypes.data, cell(c0), weights, y.ctypes.data,
                       hT.ctypes.data, cell(cT), dy.ctypes.data, dhT.ctypes.data, cell(dcT),
                       dx.ctypes.data, dh0.ctypes.data, cell(dc0), grads)

    once()                                          # builds the kernels
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    return seq_len * batch / float(np.median(times))


def bf16_breakdown(model: GeneratorConfig, train: TrainConfig, seconds: float,
                   loop_rate: Optional[float]) -> Dict[str, object]:
    """The bench's bf16 keys beside ``train_chars_per_s_bf16`` (``loop_rate``); all None where
    bf16 cannot run here."""
    from engine.generator.onednn_layer import MODES
    from engine.generator.precision import bf16_unavailable
    keys = ("bare_layer_onednn_bf16_chars_per_s", "bare_layer_bf16_chars_per_s_by_batch",
            "bf16_layer_gflops", "bf16_matmul_gflops", "bf16_layer_share_of_step")
    if bf16_unavailable() is not None or not loop_rate or model.mode not in MODES:
        return dict.fromkeys(keys)
    from engine.native.onednn_rnn import matmul_gflops
    batches = sorted({max(1, train.batch_size // 2), train.batch_size, 2 * train.batch_size})
    share = seconds / (len(batches) + 1)
    by_batch = {str(b): layer_rate(model, b, train.seq_len, True, share) for b in batches}
    layer = by_batch[str(train.batch_size)]
    size = MATMUL_SIZE if seconds >= 2 else 256       # --quick: a small product, quickly
    return dict(zip(keys, (layer, by_batch, layer * layer_flops_per_char(model) / 1e9,
                           matmul_gflops(True, size, size, size, share), loop_rate / layer)))
