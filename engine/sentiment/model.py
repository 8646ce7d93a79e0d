"""SentimentRNN: a recurrent reader mixed with a TF-IDF linear classifier.

The reader: words (+ lexicon valence) -> (Bi)LSTM/GRU -> length-aware mean/max pooling, beside a
hashed 1-2 gram bag (fastText-style) -> dense over the classes. The linear half (``linear.py``) is
fitted first, on the training texts plus any extra labeled texts, and then stays fixed while the
reader trains; the output is the weighted geometric mean of the two halves' class probabilities
(``mix`` is the reader's weight), as log-probabilities, which a softmax turns into probabilities.
On the built-in movie sentences the reader alone reaches ~76 %, the linear half ~77 % and the
mixture ~78 % (README, "Sentiment quality").

MXNet 1.9.1's bidirectional fused RNN ignores sequence lengths on CPU, so padding would leak into
the backward direction. The backward direction is therefore a second one-directional layer that
reads each sequence reversed with ``SequenceReverse`` (which honours lengths), so padded tails
never touch a real word's state. Pooling masks padding with ``SequenceMask``.
"""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn, rnn

from ..config import SentimentConfig
from .linear import NgramLinear

_LAYERS = {"lstm": rnn.LSTM, "gru": rnn.GRU}


class RecurrentReader(gluon.HybridBlock):
    """(ids (N,T), valence (N,T), lengths (N,), ngrams (N,G), ngram_lengths (N,)) -> logits (N,C)."""

    def __init__(self, config: SentimentConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c = config
        in_size = c.embed_size + (1 if c.lexicon else 0)
        with self.name_scope():
            self.embedding = nn.Embedding(c.vocab_size, c.embed_size)
            if c.word_vectors == "ppmi":            # set from unlabeled text, then kept frozen
                self.embedding.weight.grad_req = "null"
            self.embed_dropout = nn.Dropout(c.dropout, axes=(2,))     # drops whole words
            self.forward_rnn = _LAYERS[c.mode](c.hidden_size, num_layers=c.num_layers, layout="TNC",
                                               input_size=in_size)
            if c.bidirectional:
                self.backward_rnn = _LAYERS[c.mode](c.hidden_size, num_layers=c.num_layers,
                                                    layout="TNC", input_size=in_size)
            if c.ngram_buckets:
                self.ngram_embedding = nn.Embedding(c.ngram_buckets, c.ngram_size)
            self.dropout = nn.Dropout(c.dropout)
            pooled = 2 * c.hidden_size * (2 if c.bidirectional else 1)
            extra = (1 if c.lexicon else 0) + (c.ngram_size if c.ngram_buckets else 0)
            self.output = nn.Dense(c.num_classes, in_units=pooled + extra)

    @staticmethod
    def _pool(F, h_tnc, lengths):
        """Length-masked mean and max over time of (T, N, H) -> two (N, H) arrays."""
        total = F.sum(F.SequenceMask(h_tnc, sequence_length=lengths, use_sequence_length=True),
                      axis=0)
        mean = F.broadcast_div(total, F.maximum(lengths, 1).reshape((-1, 1)))
        peak = F.max(F.SequenceMask(h_tnc, sequence_length=lengths, use_sequence_length=True,
                                    value=-1e4), axis=0)
        return [mean, peak]

    def hybrid_forward(self, F, ids, valence, lengths, ngrams, ngram_lengths):
        # time-major from the start: embedding the transposed ids avoids moving (N, T, E) data
        x = self.embed_dropout(self.embedding(F.transpose(ids)))           # (T, N, E)
        if self.config.lexicon:
            x = F.concat(x, F.expand_dims(F.transpose(valence), axis=2), dim=2)
        features = self._pool(F, self.forward_rnn(x), lengths)
        if self.config.bidirectional:
            # the backward reader reads each text reversed; its outputs stay in that order, as
            # pooling does not care about order and the padding is still at the end
            rev = F.SequenceReverse(x, sequence_length=lengths, use_sequence_length=True)
            features += self._pool(F, self.backward_rnn(rev), lengths)
        if self.config.lexicon:        # the text's overall valence, as VADER would sum it
            features.append(F.sum(valence, axis=1, keepdims=True))
        if self.config.ngram_buckets:
            grams = F.SequenceMask(self.ngram_embedding(ngrams), sequence_length=ngram_lengths,
                                   use_sequence_length=True, axis=1)              # (N, G, S)
            features.append(F.broadcast_div(F.sum(grams, axis=1),
                                            F.maximum(ngram_lengths, 1).reshape((-1, 1))))
        return self.output(self.dropout(F.concat(*features, dim=1)))


class SentimentRNN(gluon.HybridBlock):
    """The model's inputs (``input_count`` of them: the reader's five, then the linear half's
    hashed grams (N,G), which share ``ngram_lengths``) -> log-probabilities (N,C)."""

    def __init__(self, config: SentimentConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        with self.name_scope():
            self.reader = RecurrentReader(config)
            if config.linear:
                self.linear = NgramLinear(config.linear_buckets, config.num_classes)

    @property
    def input_count(self) -> int:
        return 6 if self.config.linear else 5

    def hybrid_forward(self, F, ids, valence, lengths, ngrams, ngram_lengths, linear_grams=None):
        reader = F.log_softmax(self.reader(ids, valence, lengths, ngrams, ngram_lengths), axis=-1)
        if not self.config.linear:
            return reader
        linear = F.log_softmax(self.linear(linear_grams, ngram_lengths), axis=-1)
        return self.config.mix * reader + (1.0 - self.config.mix) * linear


def build_sentiment_model(config: SentimentConfig, ctx) -> SentimentRNN:
    model = SentimentRNN(config)
    model.initialize(mx.init.Xavier(), ctx=ctx)
    embedding = model.reader.embedding.weight
    embedding.set_data(mx.nd.random.normal(0, 0.1, embedding.shape, ctx=ctx))
    if config.linear:
        model.linear.weight.weight.set_data(mx.nd.zeros(model.linear.weight.weight.shape, ctx=ctx))
    model.hybridize()
    return model
