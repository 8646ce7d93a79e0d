"""Frozen word vectors from a small vocabulary: a labeled file with fewer distinct words than
the vectors have dimensions (found by training the default model on a 300-row file in the app:
it failed with "could not broadcast input array from shape (17,) into shape (100,)")."""
import numpy as np

from engine.config import SentimentConfig

from .sentiment_helpers import synthetic_rows, tiny_sentiment_train, train_sentiment_run, write_csv


def test_the_default_model_trains_on_a_file_with_few_distinct_words(tmp_path):
    from engine.sentiment.word_vectors import ppmi_svd_vectors
    tokens = [text.split() for text, _ in synthetic_rows(60)]
    words = sorted({w for t in tokens for w in t})
    assert len(words) < 100
    vectors = ppmi_svd_vectors(tokens, ["<unk>"] + words, 100)
    assert vectors.shape == (len(words) + 1, 100)
    assert np.allclose(np.linalg.norm(vectors[1:], axis=1), 1.0, atol=1e-5)
    data = write_csv(tmp_path / "few.csv", synthetic_rows(120))
    events = train_sentiment_run(tmp_path / "run", data, SentimentConfig(ngram_buckets=1009),
                                 tiny_sentiment_train(epochs=1))
    assert events[-1].step > 0
