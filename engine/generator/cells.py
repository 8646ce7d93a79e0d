"""The three recurrent cells a generator can be built from, in one place: what each computes,
its gate count and its states, and MXNet's blocks for it.

Each step reads the layer's input ``x`` and its previous output ``h`` (``W x + b_i`` and
``U h + b_h``, MXNet's i2h and h2h weights and biases, the gate blocks stacked in the order below):

* ``lstm`` (4 blocks: i, f, g, o; states h and c)::

      i, f, o = sigmoid(...), g = tanh(...)
      c' = f * c + i * g;  h' = o * tanh(c')

* ``gru`` (3 blocks: r, z, n; state h; MXNet's "linear before reset" GRU)::

      r, z = sigmoid(W_rz x + b_i_rz + U_rz h + b_h_rz)
      n = tanh(W_n x + b_i_n + r * (U_n h + b_h_n))
      h' = (1 - z) * n + z * h

* ``rnn``, the plain (Elman) RNN (1 block; state h)::

      h' = tanh(W x + b_i + U h + b_h)

  No gate: every step multiplies the gradient flowing back through ``h`` by ``U^T`` and the
  tanh's slope (at most 1), which is why it fades over long distances (the vanishing gradient;
  compare.py measures it). MXNet's fused layer runs it as mode ``rnn_tanh``.
"""
from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class CellKind:
    name: str
    gates: Tuple[str, ...]          # the blocks of rows of the i2h/h2h weights, in order
    gated: Tuple[str, ...]          # of those, the ones that are gates (a sigmoid)
    states: Tuple[str, ...]         # the states carried from step to step ("h", "c")
    title: str

    @property
    def blocks(self) -> int:
        """Rows of the i2h/h2h weights per hidden unit."""
        return len(self.gates)

    def fused_layer(self, hidden: int, **kwargs):
        """MXNet's fused (oneDNN) layer for this cell."""
        from mxnet.gluon import rnn       # here, so the table above needs no MXNet
        if self.name == "lstm":
            return rnn.LSTM(hidden, **kwargs)
        if self.name == "gru":
            return rnn.GRU(hidden, **kwargs)
        return rnn.RNN(hidden, activation="tanh", **kwargs)

    def step_cell(self, hidden: int, input_size: int):
        """MXNet's one-step cell for this cell (the same parameters as the fused layer's)."""
        from mxnet.gluon import rnn
        if self.name == "lstm":
            return rnn.LSTMCell(hidden, input_size=input_size)
        if self.name == "gru":
            return rnn.GRUCell(hidden, input_size=input_size)
        return rnn.RNNCell(hidden, activation="tanh", input_size=input_size)


CELLS = {
    "lstm": CellKind("lstm", ("i", "f", "g", "o"), ("forget", "input", "output"), ("h", "c"),
                     "LSTM"),
    "gru": CellKind("gru", ("r", "z", "n"), ("update", "reset"), ("h",), "GRU"),
    "rnn": CellKind("rnn", ("h",), (), ("h",), "plain RNN"),
}
NAMES = tuple(CELLS)


def cell_kind(mode: str) -> CellKind:
    return CELLS[mode]


def parameter_count(config, vocab_size: int) -> int:
    """Trainable weights of a CharRNN with ``config`` (a GeneratorConfig) over ``vocab_size``
    characters, without building it: the embedding, each recurrent layer (input and hidden
    weights and two biases per block) and the output layer."""
    blocks = cell_kind(config.mode).blocks
    hidden, embed = config.hidden_size, config.embed_size
    recurrent = sum(blocks * hidden * ((embed if layer == 0 else hidden) + hidden + 2)
                    for layer in range(config.num_layers))
    return vocab_size * embed + recurrent + hidden * vocab_size + vocab_size
