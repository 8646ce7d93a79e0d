"""`export --format web`: one HTML page whose JavaScript gives the engine's probabilities, in a
real headless Chromium opening the file from disk."""
import json
import re
import shutil
import subprocess
import urllib.parse

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from engine.errors import StudioError
from engine.export.run import export_run
from engine.export.web import round_to_fp16
from engine.generator.load import load_generator

from .helpers import TINY, tiny_train, train

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(apt-get install chromium) so the page cannot be run")
PRIME = "the "


def dump_dom(page, fragment: str, budget_ms: int = 20000) -> str:
    url = page.resolve().as_uri() + "#" + fragment
    proc = subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox",
                           "--no-first-run", f"--virtual-time-budget={budget_ms}", "--dump-dom",
                           url], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def engine_probs(run, text: str) -> np.ndarray:
    """The engine's next-character probabilities along ``text`` with the page's (fp16) weights."""
    model, vocab, _ = load_generator(str(run))
    round_to_fp16(model)
    ids = vocab.encode(text).astype(np.float32).reshape(-1, 1)
    with mx.autograd.predict_mode():
        out = model(nd.array(ids), *model.begin_state(1))
    return nd.softmax(out[0][:, 0, :], axis=-1).asnumpy()


@needs_chromium
@pytest.mark.parametrize("mode,layers", [("lstm", 1), ("lstm", 3), ("gru", 2), ("gru", 3),
                                         ("rnn", 2)])
def test_page_probabilities_match_engine(tmp_path, text_file, mode, layers):
    run = tmp_path / "run"
    train(run, text_file, TINY.replace(mode=mode, num_layers=layers), tiny_train(epochs=1))
    out = export_run(str(run), tmp_path / "web", fmt="web")
    page = out / "model.html"
    text = text_file.read_text()[:200]
    dom = dump_dom(page, urllib.parse.urlencode({"prime": PRIME, "probe": text}))
    rows = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1))
    want = engine_probs(run, PRIME + text)[len(PRIME) - 1:]
    assert len(rows) == len(want) == 201
    np.testing.assert_allclose(np.array(rows), want, atol=1e-3)


@needs_chromium
def test_address_settings_generate_at_once_and_seed_repeats(tmp_path, text_file):
    run = tmp_path / "run"
    train(run, text_file, TINY, tiny_train(epochs=1))
    page = export_run(str(run), tmp_path / "web", fmt="web") / "model.html"
    texts = []
    for seed in (1, 1, 2):
        dom = dump_dom(page, f"prime=the%20&temperature=1.0&length=120&seed={seed}")
        texts.append(re.search(r'<div id="output"[^>]*>(.*?)</div>', dom, re.S).group(1))
    assert texts[0].startswith("the ") and len(texts[0]) == len("the ") + 120
    assert texts[0] == texts[1] != texts[2]
    assert not re.search(r"\b(src|href)=\"https?:", page.read_text())
    readme = (page.parent / "README.md").read_text()
    assert "share" in readme and "#prime=" in readme


def test_web_export_of_a_missing_run_is_a_clear_error(tmp_path):
    with pytest.raises(StudioError):
        export_run(str(tmp_path / "no-such-run"), tmp_path / "web", fmt="web")
