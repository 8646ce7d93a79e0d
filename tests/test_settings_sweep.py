"""Every setting that is offered either trains or is refused up front: a sweep over small, odd and
extreme model and training settings for both model kinds. Each one trains, saves, loads and
predicts, or stops with the project's own error before any work is done."""
import itertools
import random

import pytest

from engine.config import GeneratorConfig, SentimentConfig
from engine.errors import StudioError
from engine.generator.load import load_generator
from engine.generator.sampling.sample import Sampler
from engine.sentiment.predict import SentimentPredictor

from .helpers import tiny_train, train
from .sentiment_helpers import synthetic_rows, tiny_sentiment_train, train_sentiment_run, write_csv
from .fault_report import record_outcomes


def _sample(space: dict, n: int, seed: int):
    """``n`` settings from the grid ``space``: its corners first, then a random draw."""
    keys = list(space)
    grid = list(itertools.product(*space.values()))
    rng = random.Random(seed)
    picked = [grid[0], grid[-1]] + rng.sample(grid[1:-1], n - 2)
    return [dict(zip(keys, values)) for values in picked]


GENERATOR_SPACE = {"mode": ["lstm", "gru", "rnn"], "num_layers": [1, 3], "hidden_size": [1, 7, 33],
                   "embed_size": [1, 5], "batch_size": [1, 3], "seq_len": [1, 9]}


@pytest.mark.parametrize("setting", _sample(GENERATOR_SPACE, 10, seed=0), ids=str)
def test_generator_settings_train_save_load_and_sample(tmp_path, text_file, setting):
    model = GeneratorConfig(mode=setting["mode"], num_layers=setting["num_layers"],
                            hidden_size=setting["hidden_size"], embed_size=setting["embed_size"],
                            dropout=0.1)
    config = tiny_train(batch_size=setting["batch_size"], seq_len=setting["seq_len"],
                        epochs=0.02, val_interval=20)   # a few checkpoints, not 38
    train(tmp_path / "run", text_file, model, config)
    net, vocab, meta = load_generator(str(tmp_path / "run"), "best")
    assert len(Sampler(net, vocab).sample_text(prime="the", length=12, seed=3)) == 12
    record_outcomes("generator settings sweep", {str(setting): "trains, saves, loads, samples"})


@pytest.mark.parametrize("bad, message", [
    ({"hidden_size": 0}, r"hidden_size \(--hidden\) must be at least 1"),
    ({"num_layers": 0}, r"num_layers \(--layers\) must be at least 1"),
    ({"mode": "elman"}, r"mode \(--cell\) must be 'lstm' or 'gru' or 'rnn'"),
    ({"dropout": 1.0}, "dropout must be at most 0.95"),
])
def test_generator_settings_out_of_range_are_refused_up_front(bad, message):
    with pytest.raises(StudioError, match=message):
        GeneratorConfig(**bad)
    record_outcomes("settings out of range", {str(bad): "clear error"})


def test_a_text_too_short_for_its_batches_is_refused_up_front(tmp_path, text_file):
    with pytest.raises(StudioError, match="too short"):
        train(tmp_path / "run", text_file, train_config=tiny_train(batch_size=1024, seq_len=1000))
    assert not (tmp_path / "run").exists()        # refused before anything was written


SENTIMENT_SPACE = {"mode": ["gru", "lstm"], "bidirectional": [False, True],
                   "hidden_size": [1, 7, 16], "embed_size": [1, 5], "num_layers": [1, 2],
                   "ngram_buckets": [0, 11], "ngram_size": [1, 3], "lexicon": [True, False],
                   "linear": [True, False], "batch_size": [1, 5]}


@pytest.mark.parametrize("setting", _sample(SENTIMENT_SPACE, 10, seed=1), ids=str)
def test_sentiment_settings_train_save_load_and_predict(tmp_path, setting):
    data = write_csv(tmp_path / "data.csv", synthetic_rows(60))
    model_settings = {k: v for k, v in setting.items() if k != "batch_size"}
    model = SentimentConfig(dropout=0.1, linear_buckets=1009, word_vectors="learned",
                            **model_settings)
    train_sentiment_run(tmp_path / "run", data, model,
                        tiny_sentiment_train(batch_size=setting["batch_size"], epochs=1))
    predictor = SentimentPredictor.load(str(tmp_path / "run"))
    verdicts = [predictor.explain(t) for t in ("zorbly", "a", "the film was quite blech !")]
    assert all(v.label in ("pos", "neg") for v in verdicts)
    record_outcomes("sentiment settings sweep", {str(setting): "trains, saves, loads, predicts"})
