"""``rnn-studio bench``: throughput of the default models, measured through the engine's own code.

Training speed comes from the real training loop (``train_generator``) on a synthetic text, in
fp32 and, where the CPU has it, bf16 (``train_chars_per_s_bf16``, else null; ``cpu`` says what
the CPU supports), each beside a bare Gluon loop with the same model (``bare_loop_*``: the fused
layer; the oneDNN layer in fp32; and in bf16, ``bare_loop_onednn_bf16_chars_per_s`` with
``loop_efficiency_bf16``, null where bf16 cannot run; and where its time goes: the layer alone
by batch, beside oneDNN's matmul here, bench_bf16.py); sampling speed from the real ``Sampler``,
one stream and eight at once, and which stepper drew them (``sampler``).
Speed targets live here, not in tests.
"""
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from engine.config import GeneratorConfig, TrainConfig
from engine.events import Progress


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _synthetic_text(path: Path, n_chars: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.;:!?'\n-"))
    path.write_text("".join(alphabet[rng.randint(0, len(alphabet), n_chars)]), encoding="utf-8")


def train_rate(model: GeneratorConfig, train: TrainConfig, seconds: float, run: Path,
               text: Path) -> float:
    """Median characters per second of the engine's training loop (``train_generator``)."""
    from engine.generator.train import CorpusRef, train_generator
    config = train.replace(minutes=seconds / 60, epochs=None, val_interval=10**9, sample_length=0,
                           log_interval=5)
    events = list(train_generator(run, CorpusRef(str(text), "bench"), model, config))
    rates = [e.items_per_s for e in events if isinstance(e, Progress)]
    if len(rates) < 2:     # too slow a machine for two reports in the time: the whole run's rate
        done = events[-1]                                        # (Finished)
        return done.step * train.batch_size * train.seq_len / max(done.elapsed_s, 1e-9)
    return float(np.median(rates[1:]))   # the first interval includes graph building


def bench_generator(model: GeneratorConfig, train: TrainConfig, seconds: float, home: Path) -> dict:
    """Training (fp32, and bf16 where the CPU has it) and sampling speed of the generator."""
    from engine.generator.load import load_generator
    from engine.generator.sampling.sample import Sampler
    from engine.generator.precision import bf16_unavailable
    text = home / "bench.txt"
    _synthetic_text(text, max(400_000, 3 * train.batch_size * train.seq_len * 40))
    result = {"train_chars_per_s": train_rate(model, train.replace(precision="fp32"), seconds,
                                              home / "run", text),
              "train_chars_per_s_bf16": None}
    if bf16_unavailable() is None:
        result["train_chars_per_s_bf16"] = train_rate(model, train.replace(precision="bf16"),
                                                      seconds, home / "run-bf16", text)
    net, vocab, _ = load_generator(str(home / "run"), "last")
    result.update(sampling_rates(Sampler(net, vocab), min(seconds, 10)))
    return result


def sampling_rates(sampler, seconds: float, streams: int = 8, length: int = 500) -> dict:
    """Characters per second of one stream and of ``streams`` streams drawn together (all
    counted), measured in alternating rounds so that a busy machine slows both alike; and which
    stepper drew them (``sampler``: the lanes kernel, numpy's matvecs or MXNet's cell stack)."""
    from engine.config import SamplingConfig
    sampler.sample_text(length=50, seed=0)   # warm-up
    solo, many, start, seed = [], [], time.perf_counter(), 0
    while time.perf_counter() - start < seconds or not many:
        t = time.perf_counter()
        solo.append(len(sampler.sample_text(length=length, seed=seed)) / (time.perf_counter() - t))
        t = time.perf_counter()
        texts = sampler.sample_texts([SamplingConfig(length=length, seed=seed + i)
                                      for i in range(streams)])
        many.append(sum(map(len, texts)) / (time.perf_counter() - t))
        seed += streams
    one, together = float(np.median(solo)), float(np.median(many))
    return {"sample_chars_per_s": one, f"sample_chars_per_s_{streams}_streams": together,
            f"sample_streams_speedup_{streams}": together / one,
            "sampler": sampler.stepper.name}


def suggestion_times(model: GeneratorConfig, rounds: int = 20, doc_chars: int = 20_000) -> dict:
    """The Write tab's Tab: milliseconds to draw 3 suggestions of up to 40 characters at the
    cursor of a ``doc_chars``-character document already read (one character typed before each
    Tab is read first, as in the app), with an untrained model of ``model``'s shape (the time
    does not depend on what it learned)."""
    import mxnet as mx
    from engine.generator.data import CharVocab
    from engine.generator.model import CharRNN
    from engine.generator.sampling.sample import Sampler
    from engine.generator.writing import WritingState
    rng = np.random.RandomState(0)
    words = ["the", "and", "of", "a", "to", "in", "is", "you", "that", "it", "he", "was"]
    doc = " ".join(rng.choice(words, doc_chars // 3))[:doc_chars]
    vocab = CharVocab.from_text("".join(map(chr, range(32, 127))) + "\n")
    net = CharRNN(model.replace(vocab_size=len(vocab.chars)))
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    net.hybridize(static_alloc=True)
    state = WritingState(Sampler(net, vocab))
    state.move_to(doc)
    times = []
    for i in range(rounds + 1):
        doc += "e"
        t = time.perf_counter()
        state.move_to(doc)
        state.suggest(count=3, length=40, end="line", temperature=1.0, seed=i)
        times.append((time.perf_counter() - t) * 1000)
    times = times[1:]                                    # the first builds the graphs
    return {"suggest_ms_median": float(np.median(times)),
            "suggest_ms_p95": float(np.percentile(times, 95))}


PROBE_MIN_STEPS = 6        # the fewest steps the speed probe times, however long they take


def _in_flight_rate(step, chars: int, seconds: float) -> float:
    """Characters per second of ``step`` (queues one training step, returns its loss) run as
    the engine's loop runs it: the next step queued before the last one's loss is waited for;
    for at least ``seconds`` and ``PROBE_MIN_STEPS`` steps."""
    start, steps, in_flight = time.perf_counter(), 0, None
    while steps < PROBE_MIN_STEPS or time.perf_counter() - start < seconds:
        loss = step()
        if in_flight is not None:
            in_flight.wait_to_read()
        in_flight, steps = loss, steps + 1
    in_flight.wait_to_read()
    return steps * chars / (time.perf_counter() - start)


def bare_loop_rate(model: GeneratorConfig, train: TrainConfig, seconds: float,
                   vocab_size: int = 64, layer: str = "fused", bf16: bool = False,
                   every: int = 5) -> float:
    """Characters per second of a bare Gluon loop with the same model, dropout, clipping and
    Adam, on random ids held on the device: the fused layer's speed, the loop's ceiling.
    ``layer="onednn"``: the same with the oneDNN layer (generator/onednn_layer.py), in fp32, or
    in bf16 with ``bf16=True``: the bf16 path's ceiling beside its loop's rate.

    Timed after two untimed steps (graph building and oneDNN's kernel creation: seconds for a
    large model), in intervals of ``every`` steps, each ended by a sync; the median interval's
    rate, from at least two intervals. ``every=1`` (the speed probe) times as the engine's loop
    runs: one step in flight (each step queued before the previous one's loss is waited for),
    the characters of all timed steps, at least ``PROBE_MIN_STEPS``, over their whole time.
    Synced step by step, a step's time holds part of the one before it (MXNet queues the
    update), and on a 2-core EPYC the 2x512's steps then alternated between 3,100 and 13,300
    chars/s: three seconds' median read 7,700 to 12,000 chars/s for one model in fp32."""
    import mxnet as mx
    from mxnet import autograd, gluon, nd

    from engine.generator.model import CharRNN
    net = CharRNN(model.replace(vocab_size=vocab_size), layer=layer, bf16=bf16)
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": train.lr})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]
    shape = (train.seq_len, train.batch_size)
    x = nd.random.randint(0, vocab_size, shape).astype("float32")
    y = nd.random.randint(0, vocab_size, shape).astype("float32")
    hidden = net.begin_state(train.batch_size)

    def step():
        nonlocal hidden
        hidden = [h.detach() for h in hidden]
        with autograd.record():
            out = net(x, *hidden)
            loss = loss_fn(out[0], y).mean()
        loss.backward()
        hidden = list(out[1:])
        gluon.utils.clip_global_norm([p.grad() for p in params], train.clip, check_isfinite=False)
        trainer.step(1)
        return loss

    for _ in range(2):
        step().asscalar()
    if every == 1:
        return _in_flight_rate(step, x.size, seconds)
    rates, start = [], time.perf_counter()
    interval = start
    while time.perf_counter() - start < seconds or len(rates) < 2:
        for _ in range(every - 1):
            step()
        step().asscalar()                    # one sync per interval, as the engine's loop
        now = time.perf_counter()
        rates.append(every * x.size / (now - interval))
        interval = now
    return float(np.median(rates))


def _bare_bf16(model: GeneratorConfig, train: TrainConfig, seconds: float,
               loop_rate: Optional[float]) -> dict:
    """The bf16 path's bare-layer rate beside its loop's (``train_chars_per_s_bf16``), and their
    ratio; both None where bf16 cannot run here."""
    from engine.generator.precision import bf16_unavailable
    if bf16_unavailable() is not None or not loop_rate:
        return {"bare_loop_onednn_bf16_chars_per_s": None, "loop_efficiency_bf16": None}
    bare = bare_loop_rate(model, train, seconds, layer="onednn", bf16=True)
    return {"bare_loop_onednn_bf16_chars_per_s": bare, "loop_efficiency_bf16": loop_rate / bare}


def run_bench(quick: bool = False, seconds: float = 20.0) -> dict:
    from engine.native import onednn_rnn
    from engine.generator.precision import bf16_unavailable, cpu_summary
    model = GeneratorConfig()
    train = TrainConfig()
    if quick:
        model = model.replace(hidden_size=64, embed_size=16, num_layers=1)
        train = train.replace(batch_size=16, seq_len=50)
        seconds = min(seconds, 3.0)
    result = {}
    with tempfile.TemporaryDirectory(prefix="rnn-studio-bench-") as tmp:
        saved = os.environ.get("RNN_STUDIO_HOME")
        os.environ["RNN_STUDIO_HOME"] = tmp      # keep the encoded-text cache out of the user's home
        try:
            result.update(bench_generator(model, train, seconds, Path(tmp)))
            result.update(suggestion_times(model, rounds=5 if quick else 20))
            # the same model in a bare Gluon loop, measured right after, in the same process
            result["bare_loop_train_chars_per_s"] = bare_loop_rate(model, train, seconds / 2)
            result["loop_efficiency"] = (result["train_chars_per_s"]
                                         / result["bare_loop_train_chars_per_s"])
            if onednn_rnn.unavailable_reason() is None:   # the bf16 path's layer, in fp32
                result["bare_loop_onednn_fp32_chars_per_s"] = bare_loop_rate(
                    model, train, seconds / 2, layer="onednn")
            result.update(_bare_bf16(model, train, seconds / 2, result["train_chars_per_s_bf16"]))
            from engine.generator.bench_bf16 import bf16_breakdown
            result.update(bf16_breakdown(model, train, seconds / 2,
                                         result["train_chars_per_s_bf16"]))
            from engine.sentiment.bench import bench_sentiment
            result.update(bench_sentiment(quick=quick, seconds=seconds, home=Path(tmp)))
        finally:
            if saved is None:
                os.environ.pop("RNN_STUDIO_HOME", None)
            else:
                os.environ["RNN_STUDIO_HOME"] = saved
    import mxnet as mx
    result["peak_rss_mb"] = _peak_rss_mb()
    built = onednn_rnn.unavailable_reason() is None
    result["cpu"] = dict(cpu_summary(), bf16_unavailable=bf16_unavailable(),
                         onednn=onednn_rnn.info() if built else None,
                         # libgomp-ornn.so.1: its own copy (engine/native/build.py says why)
                         onednn_openmp=Path(onednn_rnn.openmp_runtime()).name if built else None)
    result["config"] = {"generator": model.to_dict(),
                        "train": {"batch_size": train.batch_size, "seq_len": train.seq_len,
                                  "optimizer": "adam"},
                        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
                        "cpus": os.cpu_count(), "mxnet": mx.__version__, "quick": quick}
    return result
