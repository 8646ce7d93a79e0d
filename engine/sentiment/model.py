"""SentimentRNN: a recurrent reader mixed with a TF-IDF linear classifier and the VADER lexicon.

Every path a text takes to the verdict (the lexicon enters at the places marked L1, L3-L5)::

  text -> nltk Treebank words (negation-aware VADER valence per word)
   |
   +-- word ids --------> embedding (frozen PPMI vectors,  --+
   |                      or learned)                         |
   +-- valence per word ---> the embedding's last column (L1) +--> LSTM/GRU (+ a reversed copy
   |                                                          |    if bidirectional)
   |                                                          |    -> masked mean and max over time
   +-- hashed 1-2 grams --> n-gram embedding, averaged ----------+--> dense --> reader log-probs
   |                                                                           x mix
   +-- hashed 1-2 grams --> linear half: TF-IDF weights, fitted first, its L2 pulled
   |                        toward each lexicon word's valence (L3) --> linear log-probs x (1 - mix)
   +-- summed valence --> VADER compound s / sqrt(s^2 + 15) x (lexicon_weight (L4)
                          + unfamiliar_weight x share of grams never seen in training (L5))
                          --> the lexicon's vote, as log-odds toward the positive class
  verdict = softmax(mix * reader + (1 - mix) * linear + vote)

The linear half (``linear.py``) is fitted first, on the training texts plus any extra labeled
texts, and then stays fixed while the reader trains. Each part was measured on rated-sentences
(in-domain and leave-one-domain-out, README "Quality") and kept only where it paid: the summed
valence the reader's output layer once also took (L2) added nothing (-0.03 points in-domain,
+0.0 leaving a domain out) and is gone; runs saved with it still load it
(``SentimentData.summed_valence``).

MXNet 1.9.1's bidirectional fused RNN ignores sequence lengths on CPU, so padding would leak into
the backward direction. The backward direction is therefore a second one-directional layer that
reads each sequence reversed with ``SequenceReverse`` (which honours lengths), so padded tails
never touch a real word's state. Pooling masks padding with ``SequenceMask``.
"""
import mxnet as mx
import numpy as np
from mxnet import gluon
from mxnet.gluon import nn, rnn

from engine.config import SentimentConfig
from engine.sentiment.linear import NgramLinear, unseen_idf

_LAYERS = {"lstm": rnn.LSTM, "gru": rnn.GRU}


class RecurrentReader(gluon.HybridBlock):
    """(ids (N,T), valence (N,T), lengths (N,), ngrams (N,G), ngram_lengths (N,)) -> logits (N,C).

    Written for MXNet's CPU kernels, which are slow at some everyday ops: concatenating along the
    last axis and reducing over time each cost as much as the RNN itself (op profiler, README
    "Speed"). So the valence enters through an extra embedding column instead of a
    concat, the masked sums are matrix products, and the max is a global max-pooling.
    """

    def __init__(self, config: SentimentConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c = config
        in_size = c.embed_size + (1 if c.lexicon else 0)
        with self.name_scope():
            # with the lexicon on, the last column holds each word's valence (zero in the table)
            self.embedding = nn.Embedding(c.data.vocab_size, in_size)
            if c.word_vectors == "ppmi":            # set from unlabeled text, then kept frozen
                self.embedding.weight.grad_req = "null"
            if c.lexicon:
                slot = np.zeros((1, in_size), dtype=np.float32)
                slot[0, -1] = 1.0
                self.valence_slot = self.params.get_constant("valence_slot", slot)
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
            extra = (1 if c.lexicon and c.data.summed_valence else 0) + (
                c.ngram_size if c.ngram_buckets else 0)
            self.output = nn.Dense(c.data.num_classes, in_units=pooled + extra)

    def set_word_vectors(self, vectors: np.ndarray, ctx):
        """Fill the embedding with (vocab, embed_size) vectors; the valence column stays zero."""
        table = np.zeros(self.embedding.weight.shape, dtype=np.float32)
        table[:, :vectors.shape[1]] = vectors
        self.embedding.weight.set_data(mx.nd.array(table, ctx=ctx))

    def _pool(self, F, h_tnc, lengths, time_ones):
        """Length-masked mean and max over time of (T, N, H) -> two (N, H) arrays."""
        hidden = self.config.hidden_size
        flat = F.SequenceMask(h_tnc, sequence_length=lengths, use_sequence_length=True)
        total = F.dot(time_ones, F.reshape(flat, (0, -1))).reshape((-1, hidden))   # sum over T
        mean = F.broadcast_div(total, F.maximum(lengths, 1).reshape((-1, 1)))
        low = F.SequenceMask(h_tnc, sequence_length=lengths, use_sequence_length=True, value=-1e4)
        # A plain max over time. Not oneDNN's 4-d global max pooling of the same numbers viewed
        # as an image (1, N*H, T, 1): it was as fast, but on AVX-512 CPUs its backward fails for
        # some batch shapes ("could not create a primitive descriptor for a reorder primitive",
        # e.g. hidden 16 with one text of 17 or 63 words); oneDNN picks kernels by CPU, so no
        # list of safe shapes holds on every machine (mxnet 1.9.1; tests/test_sentiment.py).
        return [mean, F.max(low, axis=0)]

    def hybrid_forward(self, F, ids, valence, lengths, ngrams, ngram_lengths, valence_slot=None):
        # time-major from the start: embedding the transposed ids avoids moving (N, T, E) data
        x = self.embed_dropout(self.embedding(F.transpose(ids)))           # (T, N, E[+1])
        if self.config.lexicon:      # valence into the last column: an outer product, no concat
            x = x + F.dot(F.reshape(F.transpose(valence), (-1, 1)), valence_slot).reshape_like(x)
        time_ones = F.ones_like(F.slice_axis(ids, axis=0, begin=0, end=1))            # (1, T)
        features = self._pool(F, self.forward_rnn(x), lengths, time_ones)
        if self.config.bidirectional:
            # the backward reader reads each text reversed; its outputs stay in that order, as
            # pooling does not care about order and the padding is still at the end
            rev = F.SequenceReverse(x, sequence_length=lengths, use_sequence_length=True)
            features += self._pool(F, self.backward_rnn(rev), lengths, time_ones)
        if self.config.lexicon and self.config.data.summed_valence:    # runs saved before
            features.append(F.sum(valence, axis=1, keepdims=True))     # it was dropped (L2)
        if self.config.ngram_buckets:  # the mean of the distinct grams' vectors, as a batched dot
            weights = F.SequenceMask(F.ones_like(ngrams), sequence_length=ngram_lengths,
                                     use_sequence_length=True, axis=1)             # (N, G)
            weights = F.broadcast_div(weights, F.maximum(ngram_lengths, 1).reshape((-1, 1)))
            bag = F.batch_dot(F.expand_dims(weights, axis=1), self.ngram_embedding(ngrams))
            features.append(F.reshape(bag, (0, -1)))                           # (N, S)
        return self.output(self.dropout(F.concat(*features, dim=1)))


class SentimentRNN(gluon.HybridBlock):
    """The model's inputs (``Batch.model_inputs``: the reader's five, then the linear half's
    hashed grams (N,G), which share ``ngram_lengths``) -> log-probabilities (N,C), unnormalised
    (a softmax turns them into probabilities)."""

    def __init__(self, config: SentimentConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        with self.name_scope():
            self.reader = RecurrentReader(config)
            if config.linear:
                self.linear = NgramLinear(config.linear_buckets, config.data.num_classes)
            if self.lexicon_votes:
                polarity = np.array([config.data.class_polarity], dtype=np.float32)     # (1, C)
                self.class_polarity = self.params.get_constant("class_polarity", polarity)

    @property
    def lexicon_votes(self) -> bool:
        c = self.config
        return c.lexicon_takes_sides and (c.lexicon_weight > 0 or self.gates_vote)

    def hybrid_forward(self, F, ids, valence, lengths, ngrams, ngram_lengths, linear_grams=None,
                       class_polarity=None):
        out = F.log_softmax(self.reader(ids, valence, lengths, ngrams, ngram_lengths), axis=-1)
        if self.config.linear:
            linear = F.log_softmax(self.linear(linear_grams, ngram_lengths), axis=-1)
            out = self.config.mix * out + (1.0 - self.config.mix) * linear
        if self.lexicon_votes:
            weight = self.config.lexicon_weight
            if self.gates_vote:
                unseen = self.linear.unseen_fraction(F, linear_grams, ngram_lengths,
                                                     unseen_idf(self.config.data.linear_texts))
                weight = weight + self.config.unfamiliar_weight * F.reshape(unseen, (-1, 1))
            out = out + self.lexicon_vote(F, valence, class_polarity, weight)
        return out

    @property
    def gates_vote(self) -> bool:
        c = self.config
        return c.linear and c.unfamiliar_weight > 0 and c.data.unseen_gate

    def lexicon_vote(self, F, valence, class_polarity, weight):
        """The lexicon's own verdict as (N, C) log-odds: VADER's compound score of the summed
        word valences, s / sqrt(s^2 + 15) in (-1, 1), times ``weight`` (a number, or (N, 1)),
        toward the positive class.

        Trained on one domain, the reader and the linear half are confidently wrong on others
        (tweets, product reviews); the lexicon is not. How far the text is from the training
        data is measured by the share of its word 1-2 grams that the linear half never saw, and
        the vote's weight is ``lexicon_weight + unfamiliar_weight * share`` (README, "Quality").
        """
        total = 4.0 * F.sum(valence, axis=1, keepdims=True)          # valences are scaled by 1/4
        compound = total / F.sqrt(F.square(total) + 15.0)
        return F.broadcast_mul(compound * weight * 0.5, class_polarity)


def build_sentiment_model(config: SentimentConfig, ctx) -> SentimentRNN:
    model = SentimentRNN(config)
    model.initialize(mx.init.Xavier(), ctx=ctx)
    model.reader.set_word_vectors(np.random.normal(0, 0.1, (config.data.vocab_size, config.embed_size)),
                                  ctx)
    if config.linear:
        model.linear.weight.weight.set_data(mx.nd.zeros(model.linear.weight.weight.shape, ctx=ctx))
    model.hybridize()
    return model
