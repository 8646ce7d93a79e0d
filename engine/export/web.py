"""``rnn-studio export RUN OUT --format web``: a generator as one self-contained HTML page.

The page (web/page.html + web/generator.js, shipped as package data) runs the model in plain
JavaScript, offline, opened from disk: no network, no CDN, no server. The weights are inside it
as float16 (base64), half of float32's size: a default 2 x 512 LSTM's page stays under 10 MB.
``fp16_bits_lost`` measures what that rounding costs on held-out text (README "Web page").
"""
import base64
import html
import json
import math
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from engine.config import SamplingConfig, default_of
from engine.errors import StudioError
from engine.export.folder import check_destination
from engine.storage.atomic import atomic_write_bytes

HERE = Path(__file__).parent / "web"
PAGE = "model.html"
README = """# {name}: your generator as one web page

`{page}` is the whole generator: the model ({mode} {layers} x {hidden}, its weights inside the
file as float16) and the page that samples from it. It needs nothing else: open it from disk in
any current browser, offline. No network, no server.

To share it, send or upload that one file (e-mail, a chat, any static web host). A link can carry
settings after `#`, and the page generates at once on opening:

    {page}#prime=ROMEO:&temperature=0.8&length=300&seed=1

(also `top_k` and `top_p`). The same seed gives the same text in the same page. "Put these
settings in the address" writes the current ones there, ready to copy.

Sampling follows RNN Studio's rules (softmax at the temperature, then top-k, then top-p); the
page's random numbers are its own, so a seed does not give the same text as the app's seed.
"""


def model_tensors(model) -> List[Tuple[str, np.ndarray]]:
    """The generator's weights by the names generator.js reads."""
    enc = model.encoder
    out = [("embedding", model.embedding.weight.data()),
           ("decoder_weight", model.decoder.weight.data()),
           ("decoder_bias", model.decoder.bias.data())]
    for layer in range(model.config.num_layers):
        for kind in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
            out.append((f"l{layer}_{kind}", getattr(enc, f"l{layer}_{kind}").data()))
    return [(name, array.asnumpy().astype(np.float32)) for name, array in out]


def pack_fp16(tensors) -> Tuple[str, List[Dict]]:
    """(base64 of every tensor as little-endian float16, one after another; their index)."""
    index, parts, offset = [], [], 0
    for name, array in tensors:
        half = array.astype("<f2").ravel()
        index.append({"name": name, "offset": offset, "size": int(half.size)})
        parts.append(half.tobytes())
        offset += half.size
    return base64.b64encode(b"".join(parts)).decode("ascii"), index


def round_to_fp16(model):
    """Round the model's weights to float16 in place: the weights the page runs."""
    for param in model.collect_params().values():
        data = param.data()
        param.set_data(data.astype("float16").astype("float32"))


def page_html(model, vocab, meta, name: str) -> str:
    config = model.config
    weights, index = pack_fp16(model_tensors(model))
    info = {"mode": config.mode, "num_layers": config.num_layers,
            "hidden_size": config.hidden_size, "embed_size": config.embed_size,
            "vocab_size": len(vocab.chars), "chars": vocab.chars, "tensors": index,
            "default_prime": "\n" if "\n" in vocab.chars else vocab.chars[0]}
    about = f"A character-level {config.mode.upper()} ({config.num_layers} x {config.hidden_size})"
    corpus = (meta.corpus or {}).get("name")
    if corpus:
        about += f" trained on {corpus}"
    if meta.best and meta.best.get("val_loss") is not None:
        about += f"; held-out loss {meta.best['val_loss'] / math.log(2):.3f} bits/char"
    about += ". Made with RNN Studio."
    model_json = json.dumps(info).replace("</", "<\\/")
    page = (HERE / "page.html").read_text(encoding="utf-8")
    for key, value in (("__TITLE__", html.escape(name)), ("__ABOUT__", html.escape(about)),
                       ("__T__", str(default_of(SamplingConfig, "temperature"))),
                       ("__MODEL__", model_json), ("__WEIGHTS__", weights)):
        page = page.replace(key, value)
    return page.replace("__SCRIPT__", (HERE / "generator.js").read_text(encoding="utf-8"))


def export_web(ref, out, force: bool = False) -> Path:
    """Write ``out``/model.html and a README on sharing it; returns the folder."""
    from engine.generator.load import load_generator
    from engine.storage.runs import RunFolder, resolve_run
    kind = RunFolder(resolve_run(ref)).read_meta().kind
    if kind != "generator":
        raise StudioError(f"only a generator can be exported as a web page ({ref} is a {kind} run)")
    out = Path(out).expanduser()
    check_destination(out, force)
    model, vocab, meta = load_generator(ref, "best")
    name = Path(str(ref)).name
    page = page_html(model, vocab, meta, name)
    config = model.config
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / PAGE, page.encode("utf-8"))
        atomic_write_bytes(out / "README.md", README.format(
            name=name, page=PAGE, mode=config.mode.upper(), layers=config.num_layers,
            hidden=config.hidden_size).encode("utf-8"))
    except OSError as err:
        raise StudioError(f"cannot export to {out}: {err.strerror or err}") from None
    return out
