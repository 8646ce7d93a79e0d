"""Several devices sharing each batch (``--ctx gpu:0,1``, Gluon's split_and_load). No test needs
a GPU: MXNet's CPU contexts cpu(0) and cpu(1) are two devices to it, with their own copies of
every parameter, so ``--ctx cpu:0,1`` runs the very code path two GPUs would."""
import mxnet as mx
import numpy as np
import pytest

from engine.errors import StudioError
from engine.training.device import parse_contexts
from engine.generator.load import load_generator
from engine.training import loop

from .helpers import TINY, tiny_train, train
from .sentiment_helpers import (TINY_SENTIMENT, synthetic_rows, tiny_sentiment_train,
                                train_sentiment_run, write_csv)

TWO = "cpu:0,1"


@pytest.fixture
def captured(monkeypatch):
    """The task each training trained (to look at its parameters on every device)."""
    tasks = []
    original = loop.train

    def capturing(run, task, *args, **kwargs):
        tasks.append(task)
        yield from original(run, task, *args, **kwargs)
    monkeypatch.setattr(loop, "train", capturing)
    return tasks


def same_on_every_device(model):
    for name, param in model.collect_params().items():
        copies = [d.asnumpy() for d in param.list_data()]
        assert len(copies) == 2, name
        assert np.array_equal(copies[0], copies[1]), name


def test_contexts_are_parsed_with_clear_errors():
    assert parse_contexts("cpu") == [mx.cpu(0)]
    assert parse_contexts(" CPU:0,1 ") == [mx.cpu(0), mx.cpu(1)]
    for bad, message in (("tpu", "unknown context"), ("cpu:a", "whole numbers"),
                         ("cpu:1,1", "each device once")):
        with pytest.raises(StudioError, match=message):
            parse_contexts(bad)
    if mx.context.num_gpus() == 0:
        with pytest.raises(StudioError, match="sees no GPU"):
            parse_contexts("gpu:0,1")


def test_a_generator_trains_on_two_devices_that_stay_identical(tmp_path, text_file, captured):
    events = train(tmp_path / "two", text_file, TINY.replace(dropout=0.2),
                   tiny_train(ctx=TWO, batch_size=5))           # 3 + 2 streams
    same_on_every_device(captured[-1].model)
    losses = [e.train_loss for e in events if hasattr(e, "train_loss")]
    assert losses[-1] < losses[0] * 0.7
    net, _, _ = load_generator(str(tmp_path / "two"), "last")   # loads on one device
    assert net is not None


def test_two_devices_learn_what_one_device_learns(tmp_path, text_file):
    """Without dropout the mean of the two halves' gradients is the whole batch's: the
    parameters after training match one device's up to float rounding."""
    # fp32: the comparison is to float rounding (bf16 rounds each product to 8 bits)
    train(tmp_path / "one", text_file, TINY, tiny_train(epochs=1, precision="fp32"))
    train(tmp_path / "two", text_file, TINY, tiny_train(epochs=1, ctx=TWO, precision="fp32"))
    one, _, _ = load_generator(str(tmp_path / "one"), "last")
    two, _, _ = load_generator(str(tmp_path / "two"), "last")
    a, b = ({k: v.data().asnumpy() for k, v in n._collect_params_with_prefix().items()}
            for n in (one, two))
    for key in a:
        assert np.allclose(a[key], b[key], atol=2e-4), (key, np.abs(a[key] - b[key]).max())


def test_a_two_device_run_resumes_exactly(tmp_path, text_file):
    model, config = TINY.replace(dropout=0.2), tiny_train(epochs=2, ctx=TWO)
    train(tmp_path / "whole", text_file, model, config)
    calls = iter(range(10 ** 6))
    first = train(tmp_path / "split", text_file, model, config,
                  should_stop=lambda: next(calls) >= 17)
    assert first[-1].step == 17
    train(tmp_path / "split", None, model, config, resume=True)
    a, _, _ = load_generator(str(tmp_path / "whole"), "last")
    b, _, _ = load_generator(str(tmp_path / "split"), "last")
    for (key, x), y in zip(a.collect_params().items(), b.collect_params().values()):
        assert np.array_equal(x.data().asnumpy(), y.data().asnumpy()), key


def test_a_sentiment_model_trains_on_two_devices(tmp_path, captured):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(120))
    # batch 7 leaves a last batch of 1 text in some epochs: one device then has none
    train_sentiment_run(tmp_path / "s", data, TINY_SENTIMENT,
                        tiny_sentiment_train(ctx=TWO, batch_size=7, epochs=4))
    same_on_every_device(captured[-1].model.reader)
    from engine.storage.runs import RunFolder
    assert RunFolder(tmp_path / "s").read_meta().test["accuracy"] > 0.8
