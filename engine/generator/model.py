"""CharRNN: embedding -> fused LSTM/GRU/plain RNN -> dense over the characters (StandardRNN idiom).

``CharRNN`` trains and scores whole sequences with MXNet's fused (oneDNN) RNN layer, states passed
explicitly so truncated BPTT can carry them. ``CharRNNStep`` is the same network as a stack of
cells for sampling one character at a time: calling the fused layer per character costs ~20 ms,
the cell stack well under 1 ms. ``CharRNNStep.copy_from`` moves the weights across (the fused
layer's gate order matches the cells': i,f,g,o for LSTM, r,z,n for GRU; one block for the
plain RNN). What each cell computes: cells.py.
"""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn, rnn

from engine.config import GeneratorConfig
from engine.generator.cells import cell_kind


def recurrent_layer(config: GeneratorConfig, layer: str = "fused", bf16: bool = False):
    """The stacked LSTM/GRU/RNN: MXNet's fused layer, or ``"onednn"``: the same layer (same
    parameters and states) run by oneDNN's own primitives, the one that can train in bf16
    (onednn_layer.py)."""
    if layer == "onednn":
        from engine.generator.onednn_layer import OneDNNRNN
        return OneDNNRNN(config.mode, config.hidden_size, config.num_layers, config.embed_size,
                         bf16=bf16)
    return cell_kind(config.mode).fused_layer(config.hidden_size, num_layers=config.num_layers,
                                              dropout=config.dropout, layout="TNC",
                                              input_size=config.embed_size)


class CharRNN(gluon.HybridBlock):
    """(tokens (T, N), *states) -> (logits (T, N, V), *new_states). ``layer``/``bf16``: which
    implementation of the recurrent layer trains it (``recurrent_layer``); the parameters are the
    same whichever, so a run saved by one loads into the other."""

    def __init__(self, config: GeneratorConfig, layer: str = "fused", bf16: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.config = config
        with self.name_scope():
            # Normal(1) for the embedding: the global initialiser's small uniform values there
            # left the model barely learning.
            self.embedding = nn.Embedding(config.vocab_size, config.embed_size,
                                          weight_initializer=mx.init.Normal(1.0))
            self.encoder = recurrent_layer(config, layer, bf16)
            self.dropout = nn.Dropout(config.dropout)
            self.decoder = nn.Dense(config.vocab_size, flatten=False, in_units=config.hidden_size)

    def begin_state(self, batch_size: int, ctx=None):
        return self.encoder.begin_state(batch_size=batch_size, ctx=ctx or mx.cpu())

    def hybrid_forward(self, F, inputs, *states):
        output, new_states = self.encoder(self.embedding(inputs), list(states))
        return (self.decoder(self.dropout(output)),) + tuple(new_states)


class CharRNNStep(gluon.HybridBlock):
    """One step: (token (N,), inverse temperature (1,), *cell_states) -> (probs (N, V), *states).

    Cell states are per layer: [h0, c0, h1, c1, ...] for LSTM, [h0, h1, ...] for GRU and RNN.
    """

    def __init__(self, config: GeneratorConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        with self.name_scope():
            self.embedding = nn.Embedding(config.vocab_size, config.embed_size)
            self.cells = rnn.HybridSequentialRNNCell()
            for layer in range(config.num_layers):
                size = config.embed_size if layer == 0 else config.hidden_size
                self.cells.add(cell_kind(config.mode).step_cell(config.hidden_size, size))
            self.decoder = nn.Dense(config.vocab_size, flatten=False, in_units=config.hidden_size)

    def begin_state(self, batch_size: int, ctx=None):
        return self.cells.begin_state(batch_size=batch_size, ctx=ctx or mx.cpu())

    def hybrid_forward(self, F, token, inv_temperature, *states):
        output, new_states = self.cells(self.embedding(token), list(states))
        logits = F.broadcast_mul(self.decoder(output), inv_temperature.reshape((1, 1)))
        return (F.softmax(logits, axis=-1),) + tuple(new_states)

    def copy_from(self, model: CharRNN):
        """Copy a trained CharRNN's weights into the cell stack."""
        self.embedding.weight.set_data(model.embedding.weight.data())
        self.decoder.weight.set_data(model.decoder.weight.data())
        self.decoder.bias.set_data(model.decoder.bias.data())
        for layer, cell in enumerate(self.cells._children.values()):
            for kind in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
                fused = getattr(model.encoder, f"l{layer}_{kind}")
                getattr(cell, kind).set_data(fused.data())


