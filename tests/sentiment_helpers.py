"""Synthetic labeled data and a tiny sentiment trainer for the tests."""
import csv

import numpy as np

from engine.config import SentimentConfig, TrainConfig
from engine.events import Finished
from engine.sentiment.train import DataRef, train_sentiment

POSITIVE = ["zorbly", "flimmish", "glorpy"]      # made-up words: the model must learn them
NEGATIVE = ["snarvid", "blech", "wumpish"]
FILLER = ["the", "film", "was", "quite", "and", "plot", "actor", "scene", "a", "it", "story"]

TINY_SENTIMENT = SentimentConfig(embed_size=16, hidden_size=16, dropout=0.1, ngram_buckets=1009,
                                 ngram_size=8, linear_buckets=1009)


def synthetic_rows(n=240, seed=0):
    rng = np.random.RandomState(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        words = list(rng.choice(FILLER, rng.randint(3, 9)))
        words.insert(rng.randint(0, len(words) + 1), rng.choice(POSITIVE if label == "pos" else NEGATIVE))
        rows.append((" ".join(words), label))
    return rows


def write_csv(path, rows, header=("text", "label"), delimiter=","):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def tiny_sentiment_train(**overrides):
    base = dict(batch_size=16, lr=1e-2, epochs=8, log_interval=5, warmup_steps=5,
                val_fraction=0.1, test_fraction=0.1, patience=0, sample_length=0)
    base.update(overrides)
    return TrainConfig(**base)


def train_sentiment_run(run_dir, data_path, model=TINY_SENTIMENT, config=None, resume=False,
                        should_stop=lambda: False):
    events = list(train_sentiment(run_dir, DataRef(str(data_path), "synthetic") if data_path else None,
                                  model, config or tiny_sentiment_train(), resume=resume,
                                  should_stop=should_stop))
    assert isinstance(events[-1], Finished)
    return events
