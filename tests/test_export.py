"""Exported generators run in a plain MXNet (and onnxruntime) process without RNN Studio."""
import json
import subprocess
import sys

import numpy as np
import pytest
from mxnet import nd

from engine.export.run import export_run
from engine.generator.load import load_generator

from .helpers import TINY, tiny_train, train

PLAIN_MXNET = r"""
import json, sys, numpy as np, mxnet as mx
out = sys.argv[1]
meta = json.load(open(out + "/meta.json"))
net = mx.gluon.SymbolBlock.imports(out + "/model-symbol.json", meta["input_names"],
                                   out + "/model-0000.params")
x = mx.nd.array(np.load(out + "/x.npy"))
states = [mx.nd.zeros((meta["num_layers"], 1, meta["hidden_size"])) for _ in range(meta["num_states"])]
first = net(x, *states)
second = net(x, *first[1:])          # states fed back: step-by-step use
np.save(out + "/y.npy", second[0].asnumpy())
assert "engine" not in sys.modules and "corpora" not in sys.modules
print("ok")
"""


def _reference(run, x):
    model, _, _ = load_generator(str(run))
    out = model(x, *model.begin_state(1))
    return model(x, *out[1:])[0].asnumpy()


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn"])
def test_mxnet_export_reproduces_engine_in_fresh_process(tmp_path, text_file, mode):
    run = tmp_path / "run"
    train(run, text_file, TINY.replace(mode=mode, num_layers=2), tiny_train(epochs=1))
    out = export_run(str(run), tmp_path / "export")
    assert {"model-symbol.json", "model-0000.params", "meta.json", "README.md"} <= {
        p.name for p in out.iterdir()}
    meta = json.loads((out / "meta.json").read_text())
    _, vocab, _ = load_generator(str(run))
    x = vocab.encode("the lazy dog").astype(np.float32).reshape(-1, 1)
    np.save(out / "x.npy", x)
    proc = subprocess.run([sys.executable, "-c", PLAIN_MXNET, str(out)], capture_output=True,
                          text=True, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(np.load(out / "y.npy"), _reference(run, nd.array(x)), atol=1e-5)
    assert meta["chars"] == vocab.chars


def test_onnx_export_matches(tmp_path, text_file):
    ort = pytest.importorskip("onnxruntime")
    run = tmp_path / "run"
    train(run, text_file, TINY.replace(num_layers=2, embed_size=32), tiny_train(epochs=1))
    out = export_run(str(run), tmp_path / "export", fmt="onnx")
    meta = json.loads((out / "meta.json").read_text())
    model, vocab, _ = load_generator(str(run))
    x = vocab.encode("the lazy dog").astype(np.float32).reshape(-1, 1)
    h = np.random.RandomState(0).randn(2, 1, 32).astype(np.float32) * 0.1
    c = np.random.RandomState(1).randn(2, 1, 32).astype(np.float32) * 0.1
    ref = model(nd.array(x), nd.array(h), nd.array(c))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(out / "model.onnx"), so, providers=["CPUExecutionProvider"])
    feeds = dict(zip([i.name for i in sess.get_inputs()], [x, h, c]))
    got = sess.run(meta["onnx"]["output_names"], feeds)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r.asnumpy(), atol=1e-5)


ONNX_README_RUN = r"""
import re, sys
code = re.search(r"```python\n(.*?)```", open("README.md").read().split("## In onnxruntime")[1], re.S)
exec(code.group(1))
assert "engine" not in sys.modules and "mxnet" not in sys.modules
"""


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_every_generator_exports_its_step_model_to_onnx(tmp_path, text_file, mode, layers):
    """The one-step ONNX model gives the engine's next-character probabilities for 200 steps
    (states carried by the ONNX model itself), embed and hidden sizes unequal; the README's
    onnxruntime sampling loop runs as written, in a process without RNN Studio or MXNet."""
    ort = pytest.importorskip("onnxruntime")
    run = tmp_path / "run"
    train(run, text_file, TINY.replace(mode=mode, num_layers=layers, embed_size=6,
                                       hidden_size=20), tiny_train(epochs=0.3))
    out = export_run(str(run), tmp_path / "export", fmt="onnx")
    meta = json.loads((out / "meta.json").read_text())
    step = meta["onnx_step"]
    assert ("onnx" in meta) == (layers == 1)      # the whole-sequence model where mx2onnx can
    model, vocab, _ = load_generator(str(run))
    ids = vocab.encode(("the quick brown fox jumps over the lazy dog. " * 5)[:200])
    inv_t = 1 / 0.7
    logits = model(nd.array(ids.reshape(-1, 1)), *model.begin_state(1))[0][:, 0].asnumpy()
    want = np.exp(logits * inv_t - (logits * inv_t).max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    sess = ort.InferenceSession(str(out / step["file"]), providers=["CPUExecutionProvider"])
    states = {n: np.zeros((1, meta["hidden_size"]), np.float32) for n in step["states"]}
    worst = 0.0
    for t, token in enumerate(ids):
        probs, *new = sess.run(step["outputs"], {"token": np.array([token], np.float32),
                                                 "inv_temperature": np.array([inv_t], np.float32),
                                                 **states})
        states = dict(zip(step["states"], new))
        worst = max(worst, float(np.abs(probs[0] - want[t]).max()))
    assert len(ids) == 200 and worst < 1e-4
    proc = subprocess.run([sys.executable, "-c", ONNX_README_RUN], capture_output=True, text=True,
                          cwd=str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout.rstrip("\n")) >= 150 and set(proc.stdout) <= set(vocab.chars) | {"\n"}
