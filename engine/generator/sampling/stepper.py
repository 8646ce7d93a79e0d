"""Advancing a trained CharRNN one character at a time, for many streams ("lanes") at once.

A lane is one stream of text: its own hidden state, stepped with its own character. Two
implementations of the same step:

* ``NumpyStepper`` (CPU): float32 on the host, the first layer's input projection folded into a
  (vocab x 4H) lookup table. Its matrix products go through the lanes kernel
  (engine/native/lanes.c, ``KernelProducts``): one call per weight matrix for every lane, each
  weight read once per step for up to 8 lanes. Where the kernel is not built it falls back to one
  numpy matrix-vector product per lane (``MatvecProducts``, the earlier way, bit for bit).
  Everything around the products (gates, softmax, the draws in sample.py) runs on all lanes at
  once.
* ``MXNetStepper`` (GPU): the hybridized cell stack (``CharRNNStep``), every lane of a block in
  one matrix-matrix product per weight matrix.

**Why a lane's numbers never depend on the other lanes.** A sample must read exactly the same
whether it is drawn alone or beside others, so a lane's arithmetic must be bit-identical in
both cases. A BLAS matrix-matrix product does not promise that: measured here, OpenBLAS (numpy)
gives a row different bits when the number of rows or its position changes, and oneDNN (MXNet on
a CPU) works in tiles of 6 rows whose remainders of 1-3 rows use other kernels. So:

* the lanes kernel fixes each output's summation order by construction: output ``o`` of lane
  ``l`` is one chain ``acc = fma(W[o, k], x[l, k], acc)`` over k = 0, 1, ... from +0, whatever
  the number of lanes and wherever the lane sits. It vectorises across outputs (8 per AVX2
  register), never across k, and a different lane count only changes which chains run side by
  side. Its plain C path (CPUs without AVX2 and FMA) runs the same chains with ``fmaf`` and so
  gives the same bits; the path is picked once per process anyway. tests/test_lanes_kernel.py
  checks every position among 1-17 lanes against a lane alone and against the C path;
* the fallback makes one matrix-vector product per lane (the identical call whatever the batch);
* everything else is element-wise (numpy's float32 functions compute an element the same way
  wherever it sits) or row by row (softmax, cumulative sums, draws);
* the MXNet stepper always runs blocks of the same number of lanes (``width``), padded, chosen
  when it is built by checking that every row of a block computes the same bits from the same
  input (``_rows_agree``): the kernel is then the same for every lane position, so a lane's
  result depends only on its own inputs. A lone stream runs in a padded block too.

**Speed** (the default 2 x 512 LSTM, 12.7 MB of weights a step; README "Many samples at once"):
one lane is bound by streaming the weights, 8 lanes by the multiply-adds of 8 chains per weight.
On this project's shared 2-core AMD EPYC (Zen 3, AVX2), in alternating rounds: one stream ran
2.2-2.4x the numpy fallback's characters per second, and 8 streams together 3.4-3.9x one stream
(the fallback: 2.8-2.9x). One core cannot reach 4x there: 8 lanes are 25 M multiply-adds a step
(~0.65 ms at the core's peak; the kernel reaches 65-85 % of it) against ~0.3 ms to stream the
weights once from L3 for one lane, and the gates' exp and tanh grow with the lanes too. The
kernel runs on the calling thread only: an OpenMP split of its output blocks keeps every bit but
measured ~10x slower on the shared machine (its threads wait whenever one is descheduled).

Both start from the fused layer's states after each lane's prime text and return float32 logits;
``softmax_rows`` turns them into probabilities at each lane's inverse temperature, row by row.
Gate orders follow MXNet: i, f, g, o (LSTM) and r, z, n (GRU); the plain RNN has one block
(engine/generator/cells.py says what each computes).
"""
from typing import List, Optional, Sequence

import numpy as np
from mxnet import nd

from engine.native import lanes as lanes_kernel
from engine.generator.model import CharRNN, CharRNNStep


def _sigmoid(x):
    """1 / (1 + exp(-x)), computed in one new array."""
    out = np.negative(x)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def softmax_rows(logits: np.ndarray, inv_t: np.ndarray) -> np.ndarray:
    """Probabilities (float64) of each row of ``logits`` (N, V) at its inverse temperature."""
    z = logits.astype(np.float64) * np.asarray(inv_t, dtype=np.float64)[:, None]
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    """The model's own log-probabilities (temperature 1) of each row, float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


class _Lanes:
    """The lanes' hidden states on the host: ``states[layer]`` is [h] (GRU, RNN) or [h, c] (LSTM),
    each (lanes, hidden) float32. Starting, copying and reordering lanes is shared."""

    layers: int
    states: Optional[List[List[np.ndarray]]] = None

    def start(self, fused_states_per_lane: Sequence[Sequence[nd.NDArray]]):
        """One lane per entry: the fused layer's states after that lane's prime
        ([h] or [h, c], each (layers, 1, hidden))."""
        lanes = list(fused_states_per_lane)
        kinds = len(lanes[0])
        self.states = [[np.stack([lane[i][layer, 0].asnumpy() for lane in lanes])
                        for i in range(kinds)] for layer in range(self.layers)]

    @property
    def count(self) -> int:
        return 0 if self.states is None else len(self.states[0][0])

    def select(self, lanes: Sequence[int]):
        """Keep the lanes ``lanes`` in that order (a lane may be repeated: copies of a state)."""
        index = np.asarray(lanes, dtype=np.int64)
        self.states = [[s[index] for s in layer] for layer in self.states]

    def _rows(self, lanes) -> np.ndarray:
        return np.arange(self.count) if lanes is None else np.asarray(lanes, dtype=np.int64)

    # ---- one stream (the interface before lanes; ``Sampler`` uses the lanes) ---------------
    def reset(self, fused_states):
        self.start([fused_states])

    def step(self, token: int, inv_t: float) -> np.ndarray:
        return softmax_rows(self.advance(np.array([token])), np.array([inv_t]))[0]


class MatvecProducts:
    """``x @ w.T`` as one numpy (BLAS) matrix-vector product per row: a row's bits never depend
    on how many rows there are. The fallback where the lanes kernel is not built."""

    def __init__(self, name: str = "numpy matvec per lane"):
        self.name = name

    @staticmethod
    def prepare(w: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(w)

    def __call__(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.empty((len(x), w.shape[0]), dtype=np.float32)
        for i, row in enumerate(x):
            out[i] = w @ row
        return out


class KernelProducts:
    """``x @ w.T`` for all rows in one call of the lanes kernel (engine/native/lanes.c): each
    weight read once per step for every lane, each output one fixed chain of fused
    multiply-adds, so a row's bits never depend on the other rows."""

    def __init__(self):
        self.name = f"lanes kernel ({lanes_kernel.PATHS[lanes_kernel.best_path()]})"
        self.prepare = lanes_kernel.PackedWeights

    def __call__(self, w, x: np.ndarray) -> np.ndarray:
        return w.products(x)


def host_products(kernel: Optional[bool] = None):
    """The lanes kernel when it is built (``kernel`` None or True), else numpy's matvecs;
    ``kernel=True`` without the library is an error, ``False`` asks for numpy."""
    why = lanes_kernel.unavailable_reason()
    if kernel is False:
        return MatvecProducts()
    if kernel is None and why is not None:
        return MatvecProducts(f"numpy matvec per lane: {why}")
    if why is not None:
        raise RuntimeError(why)
    return KernelProducts()


class NumpyStepper(_Lanes):
    def __init__(self, model: CharRNN, kernel: Optional[bool] = None):
        cfg = model.config
        self.mode, self.hidden, self.layers = cfg.mode, cfg.hidden_size, cfg.num_layers
        self.products = host_products(kernel)
        self.name = self.products.name
        prepare = self.products.prepare

        def get(layer, kind):
            return getattr(model.encoder, f"l{layer}_{kind}").data().asnumpy()
        embed = model.embedding.weight.data().asnumpy()
        self.layer_weights = []
        for layer in range(self.layers):
            w_i, w_h = get(layer, "i2h_weight"), get(layer, "h2h_weight")
            b_i, b_h = get(layer, "i2h_bias"), get(layer, "h2h_bias")
            if layer == 0:          # embedding -> input projection is a table lookup
                w_i = np.ascontiguousarray(embed @ w_i.T + b_i)
                b_i = None
            else:
                w_i = prepare(w_i)
            self.layer_weights.append((w_i, prepare(w_h), b_i, b_h))
        self.w_out = prepare(model.decoder.weight.data().asnumpy())
        self.b_out = model.decoder.bias.data().asnumpy()

    def advance(self, tokens: np.ndarray, lanes: Optional[Sequence[int]] = None) -> np.ndarray:
        """Feed ``tokens[j]`` to lane ``lanes[j]`` (all lanes when None); the logits (n, vocab).
        Every step is element-wise or a row-independent product, so a lane's bits are the same
        in any company."""
        rows = slice(None) if lanes is None else np.asarray(lanes, dtype=np.int64)
        tokens = np.asarray(tokens, dtype=np.int64)
        H = self.hidden
        x = None
        for layer, (w_i, w_h, b_i, b_h) in enumerate(self.layer_weights):
            state = self.states[layer]
            h_prev = state[0][rows]
            gx = w_i[tokens] if layer == 0 else self.products(w_i, x) + b_i
            gh = self.products(w_h, h_prev) + b_h
            if self.mode == "lstm":
                g = gx + gh
                i_f = _sigmoid(g[:, :2 * H])            # the input and forget gates at once
                c = i_f[:, H:] * state[1][rows] + i_f[:, :H] * np.tanh(g[:, 2 * H:3 * H])
                h = _sigmoid(g[:, 3 * H:]) * np.tanh(c)
                state[1][rows] = c
            elif self.mode == "rnn":                   # h' = tanh(W x + b_i + U h + b_h)
                h = np.tanh(gx + gh)
            else:
                r_z = _sigmoid(gx[:, :2 * H] + gh[:, :2 * H])
                z = r_z[:, H:]
                n = np.tanh(gx[:, 2 * H:] + r_z[:, :H] * gh[:, 2 * H:])
                h = (1.0 - z) * n + z * h_prev
            state[0][rows] = h
            x = h
        return self.products(self.w_out, x) + self.b_out


class _LogitStep(CharRNNStep):
    """``CharRNNStep`` returning logits: each lane's temperature is applied on the host."""

    def hybrid_forward(self, F, token, *states):
        output, new_states = self.cells(self.embedding(token), list(states))
        return (self.decoder(output),) + tuple(new_states)


class MXNetStepper(_Lanes):
    """Blocks of ``width`` lanes through the cell stack, one call per block and step."""

    def __init__(self, model: CharRNN, ctx, width: int = 16):
        self.ctx, self.layers = ctx, model.config.num_layers
        self.hidden, self.vocab = model.config.hidden_size, model.config.vocab_size
        self.net = _LogitStep(model.config)
        self.net.initialize(ctx=ctx)
        self.net.copy_from(model)
        self.net.hybridize(static_alloc=True, static_shape=True)
        self.width = self._uniform_width(width)
        self.name = f"mxnet cell stack ({ctx}), blocks of {self.width} lanes"

    def _run(self, tokens: np.ndarray, flat_states: List[np.ndarray]):
        out = self.net(nd.array(tokens, ctx=self.ctx),
                       *[nd.array(s, ctx=self.ctx) for s in flat_states])
        return [o.asnumpy() for o in out]

    def _rows_agree(self, width: int) -> bool:
        """Whether every row of a ``width``-lane block computes the same bits from the same
        input (then the kernel is the same at every lane position)."""
        rng = np.random.RandomState(width)
        kinds = 2 if self.net.config.mode == "lstm" else 1
        one = [rng.uniform(-1, 1, (1, self.hidden)).astype(np.float32)
               for _ in range(kinds * self.layers)]
        out = self._run(np.full(width, rng.randint(self.vocab), np.float32),
                        [np.repeat(s, width, axis=0) for s in one])
        return all((o == o[:1]).all() for o in out)

    def _uniform_width(self, start: int) -> int:
        # (oneDNN on an AVX2 CPU: 16 passes; 7-9, 13-15, ... do not)
        for width in range(start, start + 32):
            if self._rows_agree(width):
                return width
        return 1            # one lane per call: slow, and still exact

    def advance(self, tokens: np.ndarray, lanes: Optional[Sequence[int]] = None) -> np.ndarray:
        rows = self._rows(lanes)
        tokens = np.asarray(tokens, dtype=np.float32)
        flat = [s for layer in self.states for s in layer]
        logits = np.empty((len(rows), self.vocab), dtype=np.float32)
        for start in range(0, len(rows), self.width):
            block = rows[start:start + self.width]
            pad = self.width - len(block)
            padded = np.concatenate([block, np.repeat(block[:1], pad)])
            out = self._run(np.concatenate([tokens[start:start + self.width],
                                            np.repeat(tokens[start:start + 1], pad)]),
                            [s[padded] for s in flat])
            logits[start:start + len(block)] = out[0][:len(block)]
            for s, new in zip(flat, out[1:]):
                s[block] = new[:len(block)]
        return logits


def make_stepper(model: CharRNN, ctx):
    return NumpyStepper(model) if ctx.device_type == "cpu" else MXNetStepper(model, ctx)
