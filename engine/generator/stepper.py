"""Advancing a trained CharRNN one character at a time, for many streams ("lanes") at once.

A lane is one stream of text: its own hidden state, stepped with its own character. Two
implementations of the same step:

* ``NumpyStepper`` (CPU): plain float32 numpy, the first layer's input projection folded into a
  (vocab x 4H) lookup table. Each lane's matrix products are the same BLAS matrix-vector call a
  lane stepped alone makes; everything around them (gates, softmax) runs on all lanes at once.
* ``MXNetStepper`` (GPU): the hybridized cell stack (``CharRNNStep``), every lane of a block in
  one matrix-matrix product per weight matrix.

**Why a lane's numbers never depend on the other lanes.** A sample must read exactly the same
whether it is drawn alone or beside others, so a lane's arithmetic must be bit-identical in
both cases. A BLAS matrix-matrix product does not promise that: measured here, OpenBLAS (numpy)
gives a row different bits when the number of rows or its position changes, and oneDNN (MXNet on
a CPU) works in tiles of 6 rows whose remainders of 1-3 rows use other kernels. So:

* the numpy stepper makes one matrix-vector product per lane (the identical call whatever the
  batch), and only the element-wise work is shared. On this kind of CPU that is also the fast
  choice: a skinny matrix-matrix product (2-16 rows) measured 7-10x the time of a matrix-vector
  product over the same 4 MB of weights (both libraries repack or reorder the weights per call),
  so batching there would have cost more than it saves;
* the MXNet stepper always runs blocks of the same number of lanes (``width``), padded, chosen
  when it is built by checking that every row of a block computes the same bits from the same
  input (``_rows_agree``): the kernel is then the same for every lane position, so a lane's
  result depends only on its own inputs. A lone stream runs in a padded block too.

Both start from the fused layer's states after each lane's prime text and return float32 logits;
``softmax_rows`` turns them into probabilities at each lane's inverse temperature, row by row.
Gate orders follow MXNet: i, f, g, o (LSTM) and r, z, n (GRU).
"""
from typing import List, Optional, Sequence

import numpy as np
from mxnet import nd

from .model import CharRNN, CharRNNStep


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


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
    """The lanes' hidden states on the host: ``states[layer]`` is [h] (GRU) or [h, c] (LSTM),
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


class NumpyStepper(_Lanes):
    def __init__(self, model: CharRNN):
        cfg = model.config
        self.mode, self.hidden, self.layers = cfg.mode, cfg.hidden_size, cfg.num_layers

        def get(layer, kind):
            return getattr(model.encoder, f"l{layer}_{kind}").data().asnumpy()
        embed = model.embedding.weight.data().asnumpy()
        self.layer_weights = []
        for layer in range(self.layers):
            w_i, w_h = get(layer, "i2h_weight"), get(layer, "h2h_weight")
            b_i, b_h = get(layer, "i2h_bias"), get(layer, "h2h_bias")
            if layer == 0:          # embedding -> input projection is a table lookup
                w_i = embed @ w_i.T + b_i
                b_i = None
            self.layer_weights.append((np.ascontiguousarray(w_i), np.ascontiguousarray(w_h), b_i, b_h))
        self.w_out = np.ascontiguousarray(model.decoder.weight.data().asnumpy())
        self.b_out = model.decoder.bias.data().asnumpy()

    @staticmethod
    def _products(w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``x @ w.T`` as one matrix-vector product per row: a row's bits never depend on how
        many rows there are (see the module's docstring)."""
        out = np.empty((len(x), w.shape[0]), dtype=np.float32)
        for i, row in enumerate(x):
            out[i] = w @ row
        return out

    def advance(self, tokens: np.ndarray, lanes: Optional[Sequence[int]] = None) -> np.ndarray:
        """Feed ``tokens[j]`` to lane ``lanes[j]`` (all lanes when None); the logits (n, vocab)."""
        rows = self._rows(lanes)
        tokens = np.asarray(tokens, dtype=np.int64)
        H = self.hidden
        x = None
        for layer, (w_i, w_h, b_i, b_h) in enumerate(self.layer_weights):
            state = self.states[layer]
            h_prev = state[0][rows]
            gx = w_i[tokens] if layer == 0 else self._products(w_i, x) + b_i
            gh = self._products(w_h, h_prev) + b_h
            if self.mode == "lstm":
                g = gx + gh
                c = (_sigmoid(g[:, H:2 * H]) * state[1][rows]
                     + _sigmoid(g[:, :H]) * np.tanh(g[:, 2 * H:3 * H]))
                h = _sigmoid(g[:, 3 * H:]) * np.tanh(c)
                state[1][rows] = c
            else:
                r = _sigmoid(gx[:, :H] + gh[:, :H])
                z = _sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1.0 - z) * n + z * h_prev
            state[0][rows] = h
            x = h
        return self._products(self.w_out, x) + self.b_out


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
