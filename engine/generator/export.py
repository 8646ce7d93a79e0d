"""A generator as deployable files: MXNet symbol + params (+ ONNX), loadable without RNN Studio."""
import json
import tempfile
from pathlib import Path
from typing import List, Optional

import mxnet as mx
from mxnet import nd

from engine.config import GeneratorConfig
from engine.errors import StudioError
from engine.export.folder import prepare_export_folder
from engine.generator.cells import cell_kind
from engine.generator.load import load_generator
from engine.generator.model import CharRNN, CharRNNStep

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



ONNX_README = """
## In onnxruntime: `model-step.onnx`, one character at a time

The one-step model takes a character id, the inverse temperature and the state of each layer
({state_list}, each (batch, hidden)) and returns the next character's probabilities and the
new states (the same names with `_out`). A sampling loop:

```python
import json, numpy as np, onnxruntime as ort
meta = json.load(open("meta.json")); step = meta["onnx_step"]
chars, H = meta["chars"], meta["hidden_size"]
sess = ort.InferenceSession(step["file"], providers=["CPUExecutionProvider"])
states = {{name: np.zeros((1, H), np.float32) for name in step["states"]}}
token = chars.index("\\n") if "\\n" in chars else 0
rng, text = np.random.RandomState(0), ""
for _ in range(200):
    feeds = {{"token": np.array([token], np.float32),
             "inv_temperature": np.array([1 / 0.8], np.float32), **states}}
    probs, *new = sess.run(step["outputs"], feeds)
    states = dict(zip(step["states"], new))
    p = probs[0].astype("float64")
    token = rng.choice(len(p), p=p / p.sum()); text += chars[token]
print(text)
```
{sequence_line}
"""


def onnx_refusal(config: GeneratorConfig) -> Optional[StudioError]:
    """Why a generator cannot be exported to ONNX: never (None). Every generator exports its
    one-step model; the whole-sequence model too where the converter takes it
    (``sequence_onnx_refusal``)."""
    return None


def sequence_onnx_refusal(config: GeneratorConfig) -> Optional[str]:
    """Why mxnet 1.9.1's ONNX converter cannot take this generator's whole-sequence model (the
    fused layer) (None: it can)."""
    if config.num_layers > 2 or (config.num_layers == 2 and config.embed_size != config.hidden_size):
        return (f"mxnet 1.9.1's converter takes the fused layer with at most 2 layers, and 2 only "
                f"when embed size equals hidden size; this model has {config.num_layers} layers, "
                f"embed {config.embed_size}, hidden {config.hidden_size}")
    return None


def state_names(config: GeneratorConfig) -> List[str]:
    """The one-step model's states in order: h0, c0, h1, c1, ... (LSTM) or h0, h1, ... (GRU, RNN)."""
    kinds = cell_kind(config.mode).states
    return [f"{k}{layer}" for layer in range(config.num_layers) for k in kinds]


def export_step_onnx(model: CharRNN, path: Path) -> dict:
    """The one-step cell model (``CharRNNStep``, the trained weights copied in) as ONNX at
    ``path``, its tensors named ``token``, ``inv_temperature``, ``h0``/``c0``..., ``probs`` and
    ``h0_out``...; returns what meta.json says about it."""
    from engine.export.onnx_compat import OPSET, export_onnx, graph_output_names, name_graph
    config = model.config
    step = CharRNNStep(config)
    step.initialize()
    step.copy_from(model)
    step.hybridize()
    states = step.begin_state(1)
    step(nd.zeros((1,)), nd.ones((1,)), *states)
    names = state_names(config)
    # the step model's inputs: data0 the token, data1 the inverse temperature, data2... states
    inputs = {"data0": "token", "data1": "inv_temperature",
              **{f"data{k + 2}": name for k, name in enumerate(names)}}
    shapes = {"data0": (1,), "data1": (1,), **{f"data{k + 2}": s.shape for k, s in enumerate(states)}}
    with tempfile.TemporaryDirectory(prefix="rnn-studio-step-") as tmp:
        prefix = str(Path(tmp) / "step")
        step.export(prefix, epoch=0)
        order = [n for n in mx.sym.load(f"{prefix}-symbol.json").list_inputs() if n in shapes]
        export_onnx(prefix, [shapes[n] for n in order], str(path))
        outputs = dict(zip(graph_output_names(prefix), ["probs"] + [f"{n}_out" for n in names]))
    name_graph(str(path), inputs, outputs)
    return {"file": path.name, "opset": OPSET, "states": names,
            "inputs": {"token": "character id, (batch,) float32",
                       "inv_temperature": "1 / temperature, (1,) float32",
                       **{n: "state, (batch, hidden) float32" for n in names}},
            "outputs": list(outputs.values())}


def export_generator(ref, out: Path, fmt: str, force: bool = False) -> Path:
    model, vocab, meta = load_generator(ref, "best")
    config = model.config
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
    onnx_line, onnx_readme = "", ""
    if fmt == "onnx":
        info["onnx_step"] = export_step_onnx(model, out / "model-step.onnx")
        onnx_line = ", `model-step.onnx` (ONNX opset 13, the one-step model: see below)"
        refusal = sequence_onnx_refusal(config)
        if refusal is None:
            from engine.export.onnx_compat import export_onnx, output_names
            L, H = config.num_layers, config.hidden_size
            export_onnx(prefix, [(1, 1)] + [(L, 1, H)] * len(states), str(out / "model.onnx"))
            info["onnx"] = {"file": "model.onnx", "opset": 13, "output_names": output_names(prefix)}
            onnx_line += ", `model.onnx` (the whole-sequence model; fetch outputs by the names in meta.json)"
            sequence_line = ("`model.onnx` is the whole-sequence model above in ONNX: its outputs "
                             "by the names in meta.json's `onnx.output_names`.")
        else:
            sequence_line = f"No whole-sequence ONNX model: {refusal}."
        onnx_readme = ONNX_README.format(state_list=", ".join(f"`{n}`" for n in state_names(config)),
                                         sequence_line=sequence_line)
    (out / "meta.json").write_text(json.dumps(info, indent=2))
    (out / "README.md").write_text(GENERATOR_README.format(
        name=Path(str(ref)).name, mode_upper=config.mode.upper(), onnx_line=onnx_line,
        inputs=", ".join(input_names)) + onnx_readme)
    return out
