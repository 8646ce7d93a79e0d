"""Advancing a trained CharRNN one character at a time (batch 1), for sampling.

Two implementations of the same step:

* ``NumpyStepper`` (CPU): plain float32 numpy. Each character streams the weights once
  (13 MB for the default model), and three MXNet FullyConnected calls per character cap MXNet
  near 1,300 chars/s here, while numpy's matrix-vector products with the first layer's input
  projection folded into a (vocab x 4H) lookup table reach ~3,000 (see ``rnn-studio bench``).
* ``MXNetStepper`` (GPU): the hybridized cell stack ``CharRNNStep``.

Both start from the fused layer's states after the prime text and return probabilities at an
inverse temperature. Gate orders follow MXNet: i, f, g, o (LSTM) and r, z, n (GRU).
"""
import numpy as np
from mxnet import nd

from .model import CharRNN, CharRNNStep, fused_to_cell_states


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(logits: np.ndarray, inv_t: float) -> np.ndarray:
    z = logits.astype(np.float64) * inv_t
    z -= z.max()
    e = np.exp(z)
    return e / e.sum()


class NumpyStepper:
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
        self.states = None

    def reset(self, fused_states):
        """Start from the fused layer's states ([h] or [h, c], each (layers, 1, hidden))."""
        self.states = [[s[layer, 0].asnumpy() for s in fused_states] for layer in range(self.layers)]

    def step(self, token: int, inv_t: float) -> np.ndarray:
        H = self.hidden
        x = None
        for layer, (w_i, w_h, b_i, b_h) in enumerate(self.layer_weights):
            gx = w_i[token] if layer == 0 else w_i @ x + b_i
            gh = w_h @ self.states[layer][0] + b_h
            if self.mode == "lstm":
                g = gx + gh
                c = _sigmoid(g[H:2 * H]) * self.states[layer][1] + _sigmoid(g[:H]) * np.tanh(g[2 * H:3 * H])
                h = _sigmoid(g[3 * H:]) * np.tanh(c)
                self.states[layer] = [h, c]
            else:
                r = _sigmoid(gx[:H] + gh[:H])
                z = _sigmoid(gx[H:2 * H] + gh[H:2 * H])
                n = np.tanh(gx[2 * H:] + r * gh[2 * H:])
                h = (1.0 - z) * n + z * self.states[layer][0]
                self.states[layer] = [h]
            x = h
        return _softmax(self.w_out @ x + self.b_out, inv_t)


class MXNetStepper:
    def __init__(self, model: CharRNN, ctx):
        self.ctx = ctx
        self.net = CharRNNStep(model.config)
        self.net.initialize(ctx=ctx)
        self.net.copy_from(model)
        self.net.hybridize(static_alloc=True, static_shape=True)
        self.token = nd.zeros((1,), ctx=ctx)
        self.states = None
        self._inv_t = None

    def reset(self, fused_states):
        self.states = fused_to_cell_states(fused_states)

    def step(self, token: int, inv_t: float) -> np.ndarray:
        if self._inv_t is None or self._inv_t[0] != inv_t:
            self._inv_t = (inv_t, nd.array([inv_t], ctx=self.ctx))
        self.token[:] = token
        out = self.net(self.token, self._inv_t[1], *self.states)
        self.states = out[1:]
        return out[0][0].asnumpy().astype(np.float64)


def make_stepper(model: CharRNN, ctx):
    return NumpyStepper(model) if ctx.device_type == "cpu" else MXNetStepper(model, ctx)
