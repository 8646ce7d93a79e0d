"""Turning texts into model inputs: word ids (gluonnlp Vocab), lexicon valence, hashed n-grams,
and bucketed, padded batches (gluonnlp FixedBucketSampler + Pad)."""
import warnings
import zlib
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Sequence

import gluonnlp as nlp
import mxnet as mx
import numpy as np

from engine.text import word_tokenize
from engine.sentiment.lexicon import load_lexicon, token_valence

PAD, UNK = "<pad>", "<unk>"


def build_vocab(token_lists: Sequence[List[str]], min_freq: int, max_size: int,
                extra_words: Sequence[str] = ()) -> nlp.Vocab:
    """Words of the (training) texts seen ``min_freq`` times or more, plus ``extra_words`` (words
    that have pretrained vectors), at most ``max_size`` (the most frequent first)."""
    counter = nlp.data.Counter()
    for tokens in token_lists:
        counter.update(tokens)
    for word in extra_words:
        if counter[word] < min_freq:
            counter[word] = min_freq
    return nlp.Vocab(counter, max_size=max_size, min_freq=min_freq, unknown_token=UNK,
                     padding_token=PAD, bos_token=None, eos_token=None)


def gram_hashes(tokens: Sequence[str]) -> np.ndarray:
    """Stable hashes (crc32) of the distinct unigrams and bigrams of ``tokens``, sorted."""
    grams = set(tokens)
    grams.update(a + " " + b for a, b in zip(tokens, tokens[1:]))
    return np.unique(np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.int64,
                                 count=len(grams)))


def bucket_ids(hashes: np.ndarray, buckets: int) -> np.ndarray:
    """Gram hashes -> table ids 1..buckets-1 (0 is padding); all zeros for a table that is off."""
    if buckets <= 1:
        return np.zeros(max(len(hashes), 1), dtype=np.int64)
    return 1 + hashes % (buckets - 1)


@dataclass
class Example:
    ids: np.ndarray          # (T,) word ids
    valence: np.ndarray      # (T,) lexicon valence in [-1, 1]
    ngrams: np.ndarray       # (G,) the distinct 1-2 grams' ids in the reader's n-gram bag
    linear_grams: np.ndarray  # (G,) the same grams' ids in the linear half's table
    label: int


class Featurizer:
    def __init__(self, vocab: nlp.Vocab, max_len: int, ngram_buckets: int, linear_buckets: int = 0):
        self.vocab, self.max_len = vocab, max_len
        self.ngram_buckets, self.linear_buckets = ngram_buckets, linear_buckets
        self.lexicon = load_lexicon()

    @classmethod
    def for_config(cls, vocab: nlp.Vocab, config) -> "Featurizer":
        return cls(vocab, config.max_len, config.ngram_buckets,
                   config.linear_buckets if config.linear else 0)

    def tokens(self, text: str) -> List[str]:
        return (word_tokenize(text) or [UNK])[: self.max_len]

    def example(self, tokens: List[str], label: int = -1) -> Example:
        ids = np.array(self.vocab[tokens], dtype=np.int64)
        hashes = gram_hashes(tokens)
        return Example(ids, token_valence(tokens, self.lexicon),
                       bucket_ids(hashes, self.ngram_buckets),
                       bucket_ids(hashes, self.linear_buckets), label)

    def examples(self, texts: Sequence[str], labels: Optional[Sequence[int]] = None) -> List[Example]:
        labels = labels if labels is not None else [-1] * len(texts)
        return [self.example(self.tokens(t), lab) for t, lab in zip(texts, labels)]


_BATCHIFY = nlp.data.batchify.Tuple(
    nlp.data.batchify.Pad(axis=0, pad_val=1, ret_length=True, dtype="float32"),   # <pad> is id 1
    nlp.data.batchify.Pad(axis=0, pad_val=0, dtype="float32"),
    nlp.data.batchify.Pad(axis=0, pad_val=0, ret_length=True, dtype="float32"),
    nlp.data.batchify.Pad(axis=0, pad_val=0, dtype="float32"),
    nlp.data.batchify.Stack(dtype="float32"))


class Batch(NamedTuple):
    """One padded batch of texts: float32 arrays on the model's context."""
    ids: mx.nd.NDArray             # (N, T) word ids, padded
    valence: mx.nd.NDArray         # (N, T) each word's VADER valence (0 on padding)
    lengths: mx.nd.NDArray         # (N,) words per text
    ngrams: mx.nd.NDArray          # (N, G) the reader's hashed word 1-2 gram ids
    ngram_lengths: mx.nd.NDArray   # (N,) distinct grams per text (both gram lists have them)
    linear_grams: mx.nd.NDArray    # (N, G) the linear half's hashed gram ids
    labels: mx.nd.NDArray          # (N,) class ids (0 when predicting)

    def reader_inputs(self) -> tuple:
        """What RecurrentReader takes."""
        return self.ids, self.valence, self.lengths, self.ngrams, self.ngram_lengths

    def linear_inputs(self) -> tuple:
        """What the linear half (NgramLinear) takes."""
        return self.linear_grams, self.ngram_lengths

    def model_inputs(self, with_linear: bool) -> tuple:
        """What SentimentRNN takes: the reader's inputs, then the linear half's grams."""
        return self.reader_inputs() + ((self.linear_grams,) if with_linear else ())


def example_input_shapes(with_linear: bool, words: int = 8, grams: int = 15) -> List[tuple]:
    """The shapes of ``Batch.model_inputs`` for one text (for exporting a graph)."""
    shapes = [(1, words), (1, words), (1,), (1, grams), (1,)]
    return shapes + ([(1, grams)] if with_linear else [])


def to_batch(examples: Sequence[Example], ctx) -> Batch:
    """Pad ``examples`` into one Batch.

    gluonnlp's Pad/Stack return arrays on a shared-memory CPU context, which a hybridized block
    rejects ("multiple contexts"), so everything is moved to ``ctx``; the lengths come back as
    int32 and are cast to float32 like the rest.
    """
    (ids, lengths), valence, (grams, gram_lengths), linear_grams, labels = _BATCHIFY(
        [(e.ids, e.valence, e.ngrams, e.linear_grams, e.label) for e in examples])
    return Batch(*(a.as_in_context(ctx).astype("float32", copy=False)
                   for a in (ids, valence, lengths, grams, gram_lengths, linear_grams, labels)))


def bucketed_batches(examples: Sequence[Example], batch_size: int, shuffle: bool,
                     seed: int = 0) -> List[List[int]]:
    """Index lists grouped by similar length (fewer pads, few distinct shapes to compile)."""
    lengths = [len(e.ids) for e in examples]
    state = np.random.get_state()
    np.random.seed(seed % (2 ** 32))
    try:
        with warnings.catch_warnings():      # "some buckets are empty": harmless for small sets
            warnings.simplefilter("ignore", UserWarning)
            sampler = nlp.data.FixedBucketSampler(lengths, batch_size=batch_size, num_buckets=8,
                                                  ratio=0.5, shuffle=shuffle)
        return [list(b) for b in sampler]
    finally:
        np.random.set_state(state)
