"""Sentiment throughput for ``rnn-studio bench``: batched prediction and one-sentence analysis
(the GUI's live analysis) with the default model shape, untrained weights, synthetic sentences."""
import time
from pathlib import Path

import mxnet as mx
import numpy as np

from engine.config import SentimentConfig
from engine.sentiment.features import Featurizer, build_vocab
from engine.sentiment.model import build_sentiment_model
from engine.sentiment.scoring import predict_probs


def bench_sentiment(quick: bool = False, seconds: float = 20.0, home: Path = None) -> dict:
    rng = np.random.RandomState(0)
    words = [f"w{i}" for i in range(5000)] + ["good", "bad", "not", "great", "boring"]
    sentences = [" ".join(rng.choice(words, rng.randint(8, 35))) for _ in range(4000)]
    config = SentimentConfig()
    if quick:
        config = config.replace(hidden_size=16, embed_size=16, ngram_buckets=1009,
                                linear_buckets=1009)
        seconds = min(seconds, 3.0)
    featurizer = Featurizer(None, config.max_len, 0)
    tokens = [featurizer.tokens(s) for s in sentences]
    vocab = build_vocab(tokens, 1, config.max_vocab)
    # as a trained negative/positive model: the lexicon's vote and its unseen-gram weight on
    config = config.with_data(vocab_size=len(vocab), num_classes=2, class_polarity=(-1.0, 1.0),
                              linear_texts=len(sentences), unseen_gate=True)
    featurizer = Featurizer.for_config(vocab, config)
    model = build_sentiment_model(config, mx.cpu())
    examples = [featurizer.example(t) for t in tokens]
    predict_probs(model, examples, mx.cpu())                    # compile each bucket shape once
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds / 2:
        predict_probs(model, examples, mx.cpu())
        n += len(examples)
    batched = n / (time.perf_counter() - start)
    from engine.sentiment.predict import SentimentPredictor
    predictor = SentimentPredictor(model, vocab, ["negative", "positive"], {}, mx.cpu())
    latencies = []
    for s in sentences[:60]:
        t0 = time.perf_counter()
        predictor.explain(s)
        latencies.append(time.perf_counter() - t0)
    return {"sentiment_sentences_per_s": batched,
            "sentiment_analyse_ms_median": 1000 * float(np.median(latencies[10:])),
            "sentiment_mean_words": float(np.mean([len(t) for t in tokens]))}
