"""SentimentRNN: words (+ lexicon valence) -> (Bi)LSTM/GRU -> length-aware mean/max pooling,
beside a hashed 1-2 gram bag (fastText-style) -> dense over the classes.

MXNet 1.9.1's bidirectional fused RNN ignores sequence lengths on CPU, so padding would leak into
the backward direction. The backward direction is therefore a second one-directional layer that
reads each sequence reversed with ``SequenceReverse`` (which honours lengths), so padded tails
never touch a real word's state. Pooling masks padding with ``SequenceMask``.
"""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn, rnn

from ..config import SentimentConfig

_LAYERS = {"lstm": rnn.LSTM, "gru": rnn.GRU}


class SentimentRNN(gluon.HybridBlock):
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

    def _masked_mean(self, F, seq_tnc, lengths):
        total = F.sum(F.SequenceMask(seq_tnc, sequence_length=lengths, use_sequence_length=True),
                      axis=0)
        return F.broadcast_div(total, F.maximum(lengths, 1).reshape((-1, 1)))

    def hybrid_forward(self, F, ids, valence, lengths, ngrams, ngram_lengths):
        x = self.embed_dropout(self.embedding(ids))                       # (N, T, E)
        if self.config.lexicon:
            x = F.concat(x, F.expand_dims(valence, axis=2), dim=2)
        x = F.transpose(x, axes=(1, 0, 2))                                # (T, N, E')
        h = self.forward_rnn(x)
        if self.config.bidirectional:
            rev = F.SequenceReverse(x, sequence_length=lengths, use_sequence_length=True)
            back = F.SequenceReverse(self.backward_rnn(rev), sequence_length=lengths,
                                     use_sequence_length=True)
            h = F.concat(h, back, dim=2)
        mean = self._masked_mean(F, h, lengths)
        peak = F.max(F.SequenceMask(h, sequence_length=lengths, use_sequence_length=True,
                                    value=-1e4), axis=0)
        features = [mean, peak]
        if self.config.lexicon:        # the text's overall valence, as VADER would sum it
            features.append(F.sum(valence, axis=1, keepdims=True))
        if self.config.ngram_buckets:
            grams = F.transpose(self.ngram_embedding(ngrams), axes=(1, 0, 2))
            features.append(self._masked_mean(F, grams, ngram_lengths))
        return self.output(self.dropout(F.concat(*features, dim=1)))


def build_sentiment_model(config: SentimentConfig, ctx) -> SentimentRNN:
    model = SentimentRNN(config)
    model.initialize(mx.init.Xavier(), ctx=ctx)
    model.embedding.weight.set_data(mx.nd.random.normal(0, 0.1, model.embedding.weight.shape,
                                                         ctx=ctx))
    model.hybridize()
    return model
