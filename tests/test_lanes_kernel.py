"""The sampler's lanes kernel (engine/native/lanes.c): one call advances every stream, and a
stream's bits do not depend on how many streams there are or where it sits; the vectorised draw
is the one-stream draw row by row."""
import mxnet as mx
import numpy as np
import pytest

from engine.generator.bench import sampling_rates
from engine.config import SamplingConfig
from engine.generator.sampling.sample import Lanes, draw
from engine.generator.sampling.stepper import NumpyStepper
from engine.native import lanes
from engine.generator.precision import cpu_flags

from .test_many_samples import random_sampler

needs_kernel = pytest.mark.skipif(lanes.unavailable_reason() is not None,
                                  reason=str(lanes.unavailable_reason()))
C, AVX2 = 0, 1


@needs_kernel
@pytest.mark.parametrize("rows,k", [(37, 29), (141, 67)])
def test_a_lane_gets_the_same_bits_at_any_position_among_1_to_17_lanes(rows, k):
    """37 x 29: a partial block; 141 x 67: two cached groups of 8 blocks and the blocks left
    over; both with an odd k (the remainder of every tile's k loop)."""
    rng = np.random.RandomState(rows)
    w = rng.standard_normal((rows, k)).astype(np.float32)
    packed = lanes.PackedWeights(w)
    lane = rng.standard_normal(k).astype(np.float32)
    alone = packed.products(lane[None])
    assert alone.shape == (1, rows)
    np.testing.assert_allclose(alone[0], w.astype(np.float64) @ lane, rtol=1e-5, atol=1e-5)
    assert (packed.products(lane[None], path=C) == alone).all()   # the reference C path
    others = rng.standard_normal((17, k)).astype(np.float32)
    for n in range(1, 18):
        for position in range(n):
            x = others[:n].copy()
            x[position] = lane
            out = packed.products(x)
            assert (out[position] == alone[0]).all(), (n, position)
            if position == 0:
                assert (out == packed.products(x, path=C)).all(), n


@needs_kernel
def test_the_process_takes_avx2_where_the_cpu_has_it_and_a_path_it_lacks_is_refused():
    flags = cpu_flags()
    assert lanes.best_path() == (AVX2 if "avx2" in flags and "fma" in flags else C)
    packed = lanes.PackedWeights(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="x must be"):
        packed.products(np.ones((2, 5), np.float32))
    if lanes.best_path() == C:
        with pytest.raises(ValueError, match="does not run on this CPU"):
            packed.products(np.ones((1, 4), np.float32), path=AVX2)


def test_without_the_kernel_the_cpu_stepper_falls_back_to_numpy_and_says_why(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(lanes, "LANES_LIBRARY", tmp_path / "liblanes.so")
    lanes._load.cache_clear()
    try:
        sampler = random_sampler("gru", 9, 2, "numpy")
        assert sampler.stepper.name == ("numpy matvec per lane: the sampling kernel is not built "
                                        "(run `make setup`, or `python -m engine.native.build "
                                        "lanes`)")
        configs = [SamplingConfig(seed=s, temperature=1.2, length=30) for s in range(3)]
        assert sampler.sample_texts(configs)[1] == sampler.sample_texts(configs[1:2])[0]
        with pytest.raises(RuntimeError, match="not built"):
            NumpyStepper(sampler.model, kernel=True)
    finally:
        lanes._load.cache_clear()


@needs_kernel
@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn"])
def test_the_kernel_stepper_matches_numpy_and_the_fused_layer(mode):
    sampler = random_sampler(mode, 19, 2, "numpy")
    model, vocab = sampler.model, sampler.vocab
    kernel, matvec = NumpyStepper(model), NumpyStepper(model, kernel=False)
    assert kernel.name.startswith("lanes kernel") and matvec.name == "numpy matvec per lane"
    ids = vocab.encode("the quick brown fox")
    full = model(mx.nd.array(ids.reshape(-1, 1)), *model.begin_state(1))[0].asnumpy()[:, 0]
    prime = model(mx.nd.array(ids[:1].reshape(-1, 1)), *model.begin_state(1))
    for stepper in (kernel, matvec):
        stepper.start([prime[1:]] * 3)
        for t in range(1, len(ids)):
            logits = stepper.advance(np.repeat(ids[t], 3))
            np.testing.assert_allclose(logits, np.repeat(full[t:t + 1], 3, 0), atol=1e-5)


def test_drawing_every_lane_at_once_is_drawing_each_alone():
    sampler = random_sampler("lstm", 8, 1, "numpy")
    configs = [SamplingConfig(temperature=t, top_k=k, top_p=p, seed=s)
               for s, (t, k, p) in enumerate([(1.0, 0, 1.0), (0.0, 0, 1.0), (0.7, 3, 1.0),
                                              (1.3, 0, 0.6), (1.0, 2, 0.5), (0.0, 4, 0.3)])]
    lanes_ = Lanes(sampler, configs)
    rng = np.random.RandomState(5)
    V = len(sampler.vocab)
    lanes_.probs = rng.dirichlet(np.full(V, 0.3), len(configs))
    lanes_.probs[2, :4] = lanes_.probs[2, 5]            # ties
    lanes_.probs[3, 6:] = 0.0
    lanes_.probs /= lanes_.probs.sum(1, keepdims=True)
    for _ in range(30):
        rngs = [np.random.RandomState(0) for _ in configs]
        for r, own in zip(rngs, lanes_.rngs):
            r.set_state(own.get_state())
        order = [4, 0, 5, 2, 1, 3]
        together = lanes_.draw_many(order, [10 + i for i in order])
        for ch, lane in zip(together, order):
            c, probs = configs[lane], lanes_.probs[lane]
            idx = draw(probs, rngs[lane], c.temperature, **c.filters)
            top = np.argpartition(-probs, 3)[:3]
            top = top[np.argsort(-probs[top])]
            chars = sampler.vocab.chars
            assert (ch.char, ch.prob, ch.stream, ch.logprob) == (
                chars[idx], probs[idx], 10 + lane, lanes_.logp[lane, idx])
            assert ch.alternatives == tuple((chars[j], probs[j]) for j in top)
        for r, own in zip(rngs, lanes_.rngs):           # the same draws used up
            assert r.random_sample() == own.random_sample()


def test_the_bench_says_which_stepper_sampled():
    sampler = random_sampler("gru", 6, 1, "numpy")
    rates = sampling_rates(sampler, 0.01, streams=2, length=5)
    assert rates["sampler"] == sampler.stepper.name
    assert rates["sample_chars_per_s"] > 0 and rates["sample_streams_speedup_2"] > 0
    gpu_path = random_sampler("gru", 6, 1, "mxnet")
    assert sampling_rates(gpu_path, 0.01, streams=2, length=5)["sampler"].startswith(
        "mxnet cell stack")

