"""A generator as deployable files: MXNet symbol + params (+ ONNX), loadable without RNN Studio."""
import json
from pathlib import Path
from typing import Optional

import mxnet as mx
from mxnet import nd

from ..config import GeneratorConfig
from ..errors import StudioError
from ..wording import setting
from ..export_folder import prepare_export_folder
from .load import load_generator

GENERATOR_README = """# {name}: a character-level {mode_upper} exported by RNN Studio

Files: `model-symbol.json` + `model-0000.params` (MXNet), `meta.json` (vocabulary, shapes){onnx_line}.
The network takes one block of character ids and the recurrent state, and returns the logits and
the new state, so a plain MXNet program can sample step by step:

```python
import json, numpy as np, mxnet as mx
meta = json.load(open("meta.json"))
chars = meta["chars"]; L, H = meta["num_layers"], meta["hidden_size"]
net = mx.gluon.SymbolBlock.imports("model-symbol.json", meta["input_names"], "model-0000.params")
states = [mx.nd.zeros((L, 1, H)) for _ in range(meta["num_states"])]
x = mx.nd.array([[chars.index("\\n")]])          # (time, batch) ids
rng, text = np.random.RandomState(0), ""
for _ in range(200):
    logits, *states = net(x, *states)
    p = mx.nd.softmax(logits[-1, 0] / 0.8).asnumpy().astype("float64")
    i = rng.choice(len(p), p=p / p.sum()); text += chars[i]
    x = mx.nd.array([[i]])
print(text)
```
Inputs: `{inputs}`: ids (time, batch) as float32, then the states, each (layers, batch, hidden).
Outputs: logits (time, batch, vocab), then the new states.
"""



def onnx_refusal(config: GeneratorConfig) -> Optional[StudioError]:
    """Why mxnet 1.9.1's ONNX converter cannot take this generator (None: it can), as the error
    an export would raise."""
    if config.num_layers > 2 or (config.num_layers == 2 and config.embed_size != config.hidden_size):
        return StudioError(f"ONNX export supports at most 2 layers, and 2 only when embed size equals hidden "
                f"size (mxnet 1.9.1's converter); this model has {config.num_layers} layers, "
                f"embed {config.embed_size}, hidden {config.hidden_size}. Set ", setting("format"),
                " to mxnet.")
    return None


def export_generator(ref, out: Path, fmt: str, force: bool = False) -> Path:
    model, vocab, meta = load_generator(ref, "best")
    config = model.config
    refusal = onnx_refusal(config) if fmt == "onnx" else None
    if refusal:
        raise refusal
    prepare_export_folder(out, force)
    states = model.begin_state(1)
    with mx.autograd.predict_mode():
        model(nd.zeros((1, 1)), *states)
    prefix = str(out / "model")
    model.export(prefix, epoch=0)
    input_names = [f"data{i}" for i in range(1 + len(states))]
    info = {"format": "rnn-studio-export/1", "kind": "generator",
            "corpus": meta.corpus.get("name"),
            "mode": config.mode, "num_layers": config.num_layers, "hidden_size": config.hidden_size,
            "embed_size": config.embed_size, "vocab_size": config.vocab_size, "chars": vocab.chars,
            "input_names": input_names, "num_states": len(states),
            "inputs": {"data0": "character ids, (time, batch), float32",
                       **{f"data{i + 1}": "state (layers, batch, hidden)" for i in range(len(states))}},
            "outputs": ["logits (time, batch, vocab)"] + ["new state"] * len(states),
            "best": meta.best}
    onnx_line = ""
    if fmt == "onnx":
        from ..onnx_compat import export_onnx, output_names
        L, H = config.num_layers, config.hidden_size
        export_onnx(prefix, [(1, 1)] + [(L, 1, H)] * len(states), str(out / "model.onnx"))
        info["onnx"] = {"file": "model.onnx", "opset": 13, "output_names": output_names(prefix)}
        onnx_line = ", `model.onnx` (opset 13; fetch outputs by the names in meta.json)"
    (out / "meta.json").write_text(json.dumps(info, indent=2))
    (out / "README.md").write_text(GENERATOR_README.format(
        name=Path(str(ref)).name, mode_upper=config.mode.upper(), onnx_line=onnx_line,
        inputs=", ".join(input_names)))
    return out
