"""The oneDNN recurrent layer (the bf16 training path) is MXNet's fused layer in another engine:
same outputs, states and gradients in f32, same parameters, so runs move between the two.

bf16 itself needs a CPU with AVX512_BF16 or AMX; on others those tests skip and say why."""
import os
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, nd
from mxnet.gluon import rnn

from engine.config import GeneratorConfig
from engine.errors import StudioError
from engine.export.run import export_run
from engine.generator.load import load_generator
from engine.generator.onednn_layer import OneDNNRNN
from engine.generator.sampling.sample import Sampler
from engine.native import onednn_rnn
from engine.generator.precision import LAYER_ENV, bf16_unavailable, cpu_summary, training_path
from engine.storage.runs import RunFolder

from .helpers import TINY, tiny_train, train

ROOT = Path(__file__).resolve().parent.parent
MISSING = onednn_rnn.unavailable_reason()
if MISSING and os.environ.get("CI"):       # `make setup` builds it: CI must not skip silently
    raise RuntimeError(f"CI without the oneDNN RNN library: {MISSING}")
needs_library = pytest.mark.skipif(MISSING is not None, reason=f"{MISSING}")
BF16_MISSING = bf16_unavailable()
# bf16 is the default where it runs (precision auto), so its tests run wherever the CPU has it
# (`make test-bf16` runs only them, and CI fails when they fail) and skip elsewhere, saying why.
needs_bf16 = pytest.mark.skipif(BF16_MISSING is not None, reason=f"no bf16 here: {BF16_MISSING}")


BESIDE_MXNET = """
import mxnet as mx
from engine.native import onednn_rnn
# a random operator on MXNet's engine thread: its OpenMP team exists from here on
mx.nd.random.uniform(shape=(256, 256)).wait_to_read()
print(onednn_rnn.openmp_runtime())
print(sorted({line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line}))
"""


@needs_library
def test_the_layer_runs_on_its_own_openmp_runtime_beside_mxnets(tmp_path):
    """Where the build gave it one (engine/native/build.py says why): oneDNN's OpenMP calls bind
    to the private copy, MXNet's to the system's libgomp.so.1, both loaded in one process."""
    from engine.native.build import LIBRARY, PRIVATE_OPENMP
    if not (LIBRARY.parent / PRIVATE_OPENMP).exists():
        pytest.skip("built without patchelf: the library shares MXNet's OpenMP runtime")
    script = tmp_path / "beside.py"
    script.write_text(BESIDE_MXNET, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    runtime, mapped = done.stdout.splitlines()
    assert runtime == str(LIBRARY.parent / PRIVATE_OPENMP)
    mapped = eval(mapped)                                   # a printed list of paths
    assert len(mapped) == 2 and any(path.endswith(PRIVATE_OPENMP) for path in mapped), mapped


def _run_layer(net, x, states):
    """Output, new states, and the gradients of a loss that uses all of them."""
    x = x.copy()
    x.attach_grad()
    states = [s.copy() for s in states]
    for s in states:
        s.attach_grad()
    with autograd.record():
        out, new = net(x, states)
        loss = (out * out).sum() + sum((s * s).sum() * 0.5 for s in new)
    loss.backward()
    grads = {k: p.grad().asnumpy() for k, p in net._collect_params_with_prefix().items()}
    return out.asnumpy(), [s.asnumpy() for s in new], x.grad.asnumpy(), \
        [s.grad.asnumpy() for s in states], grads


def _compare_with_fused(mode, layers, width, hidden, steps, batch, other_layouts=False):
    fused = (rnn.LSTM if mode == "lstm" else rnn.GRU)(hidden, num_layers=layers, layout="TNC",
                                                      input_size=width, dropout=0.5)
    ours = OneDNNRNN(mode, hidden, layers, width, other_layouts=other_layouts)
    for net in (fused, ours):
        mx.random.seed(5)                    # same order of parameters: same initial weights
        net.initialize(mx.init.Xavier())
        net.hybridize(static_alloc=True, static_shape=True)
    assert fused._collect_params_with_prefix().keys() == ours._collect_params_with_prefix().keys()
    rng = np.random.RandomState(1)
    x = nd.array(rng.randn(steps, batch, width))
    states = [nd.array(rng.randn(layers, batch, hidden)) for _ in range(2 if mode == "lstm" else 1)]
    with autograd.train_mode():
        want, got = _run_layer(fused, x, states), _run_layer(ours, x, states)
    for name, a, b in zip(("output", "states", "d input", "d states"), want[:4], got[:4]):
        np.testing.assert_allclose(b, a, atol=1e-5, rtol=1e-5, err_msg=name)
    for name, grad in want[4].items():
        np.testing.assert_allclose(got[4][name], grad, atol=1e-5, rtol=1e-5, err_msg=name)


@needs_library
@pytest.mark.parametrize("mode", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("other_layouts", [False, True])
def test_the_onednn_layer_matches_the_fused_layer(mode, layers, other_layouts):
    """Odd sizes (input 7, hidden 13, 5 steps, batch 3). other_layouts: oneDNN works on other
    layouts than MXNet's, so every conversion the bf16 path makes runs here in f32 too. The fused
    layer gets dropout 0.5: on a CPU it applies none between layers (MXNet 1.9.1 runs it through
    oneDNN), and neither does this layer."""
    _compare_with_fused(mode, layers, 7, 13, 5, 3, other_layouts)


@needs_library
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_the_onednn_layer_matches_at_the_smallest_sizes(mode):
    _compare_with_fused(mode, 2, 1, 1, 1, 1)          # one unit, one step, one sequence
    _compare_with_fused(mode, 3, 5, 1, 3, 1, other_layouts=True)


def _stopped_and_resumed(run, text_file, model, config, steps: int, resume: bool = False):
    """Train (or resume) ``run`` for ``steps`` steps, stop, then resume it to the end."""
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > steps
    assert train(run, text_file, model, config, resume=resume,
                 should_stop=stop)[-1].reason == "stopped"
    train(run, None, model, config, resume=True)


def _last_parameters(run):
    model, _, _ = load_generator(str(run), "last")
    return {k: p.data().asnumpy() for k, p in model._collect_params_with_prefix().items()}


def _assert_same_parameters(run_a, run_b):
    a, b = _last_parameters(run_a), _last_parameters(run_b)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@needs_library
def test_gradients_add_up_when_asked():
    """grad_req 'add' (gradient accumulation) adds into the gradients instead of writing them."""
    ours = OneDNNRNN("gru", 6, 2, 4)
    ours.initialize(mx.init.Xavier())
    ours.collect_params().setattr("grad_req", "add")
    x, states = nd.ones((3, 2, 4)), [nd.zeros((2, 2, 6))]
    grads = []
    for _ in range(2):
        with autograd.record():
            loss = ours(x, states)[0].sum()
        loss.backward()
        grads.append(ours.l0_i2h_weight.grad().asnumpy().copy())
    assert np.abs(grads[0]).max() > 0
    np.testing.assert_allclose(grads[1], 2 * grads[0], rtol=1e-6)


@needs_library
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_a_run_on_the_onednn_layer_resumes_exactly(tmp_path, text_file, mode, monkeypatch):
    monkeypatch.setenv(LAYER_ENV, "onednn")
    model, config = TINY.replace(mode=mode, num_layers=2, embed_size=6), tiny_train(epochs=2)
    train(tmp_path / "full", text_file, model, config)
    _stopped_and_resumed(tmp_path / "split", text_file, model, config, steps=17)
    _assert_same_parameters(tmp_path / "full", tmp_path / "split")


@needs_library
def test_runs_move_between_the_fused_and_the_onednn_layer(tmp_path, text_file, monkeypatch):
    """A run started on the fused layer, continued on the oneDNN layer (stopped and resumed on
    it), then back on the fused one: the same parameters as all on the fused layer (to float
    rounding), and it loads, samples and exports (ONNX) as any other."""
    model = TINY.replace(num_layers=2, embed_size=6)
    config = tiny_train(epochs=2, precision="fp32")      # the fused layer, then the oneDNN one
    train(tmp_path / "fused", text_file, model, config)
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 10
    train(tmp_path / "mixed", text_file, model, config, should_stop=stop)
    monkeypatch.setenv(LAYER_ENV, "onednn")      # then on the oneDNN layer, stopped and resumed
    _stopped_and_resumed(tmp_path / "mixed", None, model, config.replace(epochs=1.5), steps=10,
                         resume=True)
    monkeypatch.delenv(LAYER_ENV)                # and the rest on the fused layer again
    train(tmp_path / "mixed", None, model, config, resume=True)
    assert RunFolder(tmp_path / "mixed").read_meta().state["precision"] == "fp32"
    fused, mixed = _last_parameters(tmp_path / "fused"), _last_parameters(tmp_path / "mixed")
    for name, value in fused.items():
        np.testing.assert_allclose(mixed[name], value, atol=1e-4, err_msg=name)
    mixed, vocab, _ = load_generator(str(tmp_path / "mixed"), "last")
    assert len(Sampler(mixed, vocab).sample_text(length=30, seed=1)) == 30
    out = export_run(str(tmp_path / "mixed"), tmp_path / "export", fmt="onnx")
    assert (out / "model-step.onnx").is_file()


def test_the_cpu_flags_decide_what_auto_means(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile\n")
    from engine.generator.precision import cpu_flags, cpu_has_bf16
    flags = cpu_flags(str(cpuinfo))
    assert cpu_has_bf16(flags) and not cpu_has_bf16(["avx2", "avx512f"])
    assert cpu_summary(flags) == {"bf16": True, "flags": ["avx2", "avx512f", "amx_bf16",
                                                          "amx_tile"]}
    assert cpu_flags(str(tmp_path / "none")) == []
    plain = ["fpu", "avx2"]
    assert training_path("auto", flags=plain).precision == "fp32"
    assert training_path("auto", flags=plain).describe() == (
        "fp32 (auto: bf16 needs a CPU with AVX512_BF16 or AMX; this one has neither (flags: "
        "avx2))")
    assert training_path("fp32", flags=flags).describe() == "fp32 (chosen)"
    with pytest.raises(StudioError, match="AVX512_BF16 or AMX.*flags: avx2"):
        training_path("bf16", flags=plain)
    with pytest.raises(StudioError, match="CPU only"):
        training_path("bf16", "gpu:0", flags=flags)
    assert training_path("auto", "gpu:0", flags=flags).layer == "fused"


def test_without_the_library_fp32_trains_and_bf16_says_why(tmp_path, text_file, monkeypatch,
                                                         capsys):
    """The library is optional: a machine where it was not built trains in fp32, and asking
    for bf16 there (even on a CPU that has it) names what is missing."""
    from engine.native import build
    monkeypatch.setattr(onednn_rnn, "LIBRARY", tmp_path / "libornn.so")
    onednn_rnn._load.cache_clear()
    onednn_rnn.bf16_support.cache_clear()
    try:
        bf16_cpu = ["avx2", "avx512f", "avx512_bf16"]
        assert training_path("auto", flags=bf16_cpu).precision == "fp32"
        with pytest.raises(StudioError, match="library is not built.*make setup"):
            training_path("bf16", flags=bf16_cpu)
        monkeypatch.setenv(LAYER_ENV, "onednn")
        with pytest.raises(StudioError, match="not built"):
            training_path("fp32")
        monkeypatch.delenv(LAYER_ENV)
        train(tmp_path / "run", text_file, TINY, tiny_train(epochs=0.2, precision="auto"))
        assert RunFolder(tmp_path / "run").read_meta().state["precision"] == "fp32"
    finally:
        onednn_rnn._load.cache_clear()
        onednn_rnn.bf16_support.cache_clear()
    monkeypatch.setattr(build, "onednn_dirs", lambda: None)     # make setup goes on without it
    assert build.main() == 0 and "not built" in capsys.readouterr().out


def test_bf16_on_a_cpu_without_it_is_one_clear_line(tmp_path, text_file):
    from .conftest import run_cli
    if BF16_MISSING is None:
        pytest.skip("this CPU trains in bf16")
    proc = run_cli("generator", "train", "--corpus", str(text_file), "--out", str(tmp_path / "r"),
                   "--precision", "bf16", "--epochs", "0.1")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--precision bf16" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "r").exists()


@needs_bf16
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_the_bf16_layer_follows_the_fp32_layer(mode):
    ours = {p: OneDNNRNN(mode, 64, 2, 24, bf16=p == "bf16") for p in ("fp32", "bf16")}
    for net in ours.values():
        mx.random.seed(5)
        net.initialize(mx.init.Xavier())
    rng = np.random.RandomState(1)
    x = nd.array(rng.randn(20, 8, 24))
    states = [nd.array(rng.randn(2, 8, 64) * 0.1) for _ in range(2 if mode == "lstm" else 1)]
    with autograd.train_mode():
        want, got = _run_layer(ours["fp32"], x, states), _run_layer(ours["bf16"], x, states)
    np.testing.assert_allclose(got[0], want[0], atol=3e-2)          # bf16: 8 significant bits
    for name, grad in want[4].items():
        scale = np.abs(grad).max() + 1e-6
        assert np.abs(got[4][name] - grad).max() / scale < 5e-2, name


@needs_bf16
def test_a_bf16_run_follows_fp32_and_resumes_exactly(tmp_path, text_file):
    model = TINY.replace(num_layers=2, embed_size=16, hidden_size=64)
    runs = {}
    for precision in ("fp32", "auto"):
        config = tiny_train(epochs=3, precision=precision, val_interval=10)
        events = train(tmp_path / precision, text_file, model, config)
        runs[precision] = [e.val_loss for e in events if hasattr(e, "is_best")]
    # auto (the default) took bf16 here, and said why
    assert events[0].info["precision"] in ("bf16 (auto: this CPU has AMX)",
                                           "bf16 (auto: this CPU has AVX512_BF16)")
    assert RunFolder(tmp_path / "auto").read_meta().state["precision"] == "bf16"
    runs["bf16"] = runs["auto"]
    assert max(abs(a - b) for a, b in zip(runs["fp32"], runs["bf16"])) < 0.05
    config = tiny_train(epochs=3, precision="bf16", val_interval=10)
    _stopped_and_resumed(tmp_path / "split", text_file, model, config, steps=13)
    _assert_same_parameters(tmp_path / "auto", tmp_path / "split")


@pytest.mark.slow
@needs_bf16
def test_bf16_learns_as_well_as_fp32_per_step(tmp_path):
    """The same seed and settings trained for the same steps in fp32 and in bf16 on real text (a
    2x256 LSTM, the 2-minute recipe's model): the held-out bits per character differ by less
    than 0.02. bf16 trades no learning for its speed."""
    import corpora
    from engine.generator.evaluate import evaluate_text
    text = corpora.build("shakespeare").read_text(encoding="utf-8")
    (tmp_path / "train.txt").write_text(text[:-50_000], encoding="utf-8")
    (tmp_path / "held-out.txt").write_text(text[-50_000:], encoding="utf-8")
    model = GeneratorConfig(mode="lstm", embed_size=64, hidden_size=256, num_layers=2, dropout=0.0)
    bits, paths = {}, {}
    for precision in ("fp32", "bf16"):
        config = tiny_train(seq_len=100, batch_size=32, lr=4e-3, warmup_steps=20, log_interval=50,
                            val_interval=10_000, sample_length=0, val_fraction=0.01,
                            epochs=300 / 1460, precision=precision)
        events = train(tmp_path / precision, tmp_path / "train.txt", model, config)
        paths[precision] = events[0].info["precision"]
        assert events[-1].step >= 290
        net, vocab, _ = load_generator(str(tmp_path / precision), "last")
        bits[precision] = evaluate_text(net, vocab, tmp_path / "held-out.txt")["bits_per_char"]
    assert paths["bf16"].startswith("bf16") and paths["fp32"] == "fp32 (chosen)", paths
    assert bits["fp32"] < 3.0, bits                                 # it learned
    assert abs(bits["bf16"] - bits["fp32"]) < 0.02, bits


@needs_library
def test_a_native_failure_says_what_the_library_said_not_mxnets_custom_op_error(monkeypatch,
                                                                                capsys):
    """The library's real refusal (backward on a stack built for inference only, forced by
    building every stack so) fails inside MXNet's custom op, which raises only a generic
    "Check failed ... kCustomOpBackward": the engine's translation puts the library's message
    back, it is no out-of-memory, the bug report's line says it, MXNet's print of the op's
    traceback to stdout is dropped and its kept errors are drained (a later wait is clean)."""
    from engine.generator import onednn_layer
    from engine.memory import as_out_of_memory
    from engine.mxnet_failures import settled
    from engine.storage.crash_report import describe_unexpected
    build = onednn_layer._OneDNNRNNOp._stack
    monkeypatch.setattr(onednn_layer._OneDNNRNNOp, "_stack",
                        lambda op, shape, training: build(op, shape, False))
    layer = OneDNNRNN("lstm", 4, 1, 3)
    layer.initialize()
    x = nd.ones((2, 2, 3))
    x.attach_grad()
    with pytest.raises(mx.base.MXNetError) as raised:
        with autograd.record():
            out, _ = layer(x, layer.begin_state(2))
        out.backward()
        x.grad.wait_to_read()
    assert "inference only" not in str(raised.value)        # what MXNet alone would show
    real = settled(raised.value)
    assert isinstance(real, onednn_rnn.NativeError)
    assert "this stack was built for inference only" in str(real)
    assert as_out_of_memory(real) is None
    line = describe_unexpected(real, "the test job")
    assert "this stack was built for inference only" in line and "CustomOp" not in line, line
    mx.nd.waitall()                                            # nothing kept: no raise
    assert "Traceback" not in capsys.readouterr().out


def test_the_bench_counts_the_layers_arithmetic():
    """Where bf16's time goes is read against the layers' arithmetic: the default 2x512 LSTM
    (embedding 64) does 2*4*512*(64+512) + 2*4*512*(512+512) flops per character forward, three
    times that with the backward (about 20 MFLOP, the issue's count); a GRU three quarters."""
    from engine.generator.bench_bf16 import layer_flops_per_char
    lstm = GeneratorConfig(mode="lstm", hidden_size=512, embed_size=64, num_layers=2)
    assert layer_flops_per_char(lstm) == 3 * (2 * 4 * 512 * 576 + 2 * 4 * 512 * 1024)
    assert layer_flops_per_char(lstm.replace(mode="gru")) == 0.75 * layer_flops_per_char(lstm)
    assert layer_flops_per_char(lstm.replace(num_layers=1)) == 3 * 2 * 4 * 512 * 576


@needs_library
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_the_layer_alone_and_oneDNNs_matmul_are_timed(mode):
    """The bench's bare-layer rate runs the library's forward and backward at odd sizes, and the
    matmul ceiling runs in f32 everywhere (bf16 where the CPU has it); impossible shapes are the
    library's own clear error."""
    from engine.generator.bench_bf16 import layer_rate
    model = GeneratorConfig(mode=mode, hidden_size=13, embed_size=5, num_layers=2)
    assert layer_rate(model, batch=3, seq_len=7, bf16=False, seconds=0.05) > 0
    assert onednn_rnn.matmul_gflops(False, 33, 17, 9, seconds=0.01) > 0
    if BF16_MISSING is None:
        assert layer_rate(model, batch=3, seq_len=7, bf16=True, seconds=0.05) > 0
        assert onednn_rnn.matmul_gflops(True, 33, 17, 9, seconds=0.01) > 0
    with pytest.raises(onednn_rnn.NativeError, match="oneDNN"):
        onednn_rnn.matmul_gflops(False, -1, 17, 9, seconds=0.01)
