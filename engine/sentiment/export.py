"""Exporting a sentiment run: MXNet symbol + params, the vocabulary, labels and how to featurize."""
import json
from pathlib import Path
from typing import Optional

import mxnet as mx

from engine.config import SentimentConfig
from engine.errors import StudioError
from engine.wording import setting
from engine.export.folder import prepare_export_folder
from engine.sentiment.features import example_input_shapes, to_batch
from engine.sentiment.predict import SentimentPredictor

README = """# {name}: a word-level sentiment classifier exported by RNN Studio

Files: `model-symbol.json` + `model-0000.params` (MXNet), `meta.json` (labels, vocabulary, inputs).
Inputs, all float32, batch first: `data0` word ids (N, T) (unknown words -> id of `<unk>`, padding
-> id of `<pad>`), `data1` per-word VADER valence (N, T) in [-1, 1] (zeros if you have no lexicon),
`data2` lengths (N,), `data3` the text's distinct 1-2 grams (the words, then each adjacent pair
joined by a space) as ids `1 + crc32(gram) % (ngram_buckets - 1)` (N, G), sorted by crc32, 0 pads
(all zeros when `ngram_buckets` is 0), `data4` how many grams (N,), and, when `linear_buckets` is
not 0, `data5` the same grams as ids `1 + crc32(gram) % (linear_buckets - 1)` (N, G).
Words are nltk's Treebank tokens, lower-cased. Output: log-probabilities (N, classes) in `labels`
order (a softmax gives the probabilities).

```python
import json, zlib, numpy as np, mxnet as mx
from nltk.tokenize import NLTKWordTokenizer
meta = json.load(open("meta.json")); vocab = meta["vocab"]
net = mx.gluon.SymbolBlock.imports("model-symbol.json", meta["input_names"], "model-0000.params")
words = [w.lower() for w in NLTKWordTokenizer().tokenize("A gripping, beautifully acted film.")]
ids = [vocab.get(w, vocab["<unk>"]) for w in words]
grams = set(words) | {{a + " " + b for a, b in zip(words, words[1:])}}
hashes = sorted(zlib.crc32(x.encode()) for x in grams)
def table(B): return [1 + h % (B - 1) for h in hashes] if B else [0] * len(hashes)
x = [mx.nd.array([ids]), mx.nd.zeros((1, len(ids))), mx.nd.array([len(ids)]),
     mx.nd.array([table(meta["ngram_buckets"])]), mx.nd.array([len(hashes)])]
if meta["linear_buckets"]:
    x.append(mx.nd.array([table(meta["linear_buckets"])]))
probs = mx.nd.softmax(net(*x)).asnumpy()[0]
print(dict(zip(meta["labels"], probs.round(3))))
```
"""


def onnx_refusal(config: SentimentConfig) -> Optional[StudioError]:
    """Why mxnet 1.9.1's ONNX converter cannot take this sentiment model (None: it can), as the
    error an export would raise."""
    if config.bidirectional:
        return StudioError("ONNX export of a bidirectional sentiment model is not possible: mxnet 1.9.1's "
                "converter has no SequenceReverse, which the padding-safe backward reader "
                "needs. Set ", setting("format"), " to mxnet, or train without ",
                setting("bidirectional"), ".")
    return None


def export_sentiment(ref, out: Path, fmt: str, force: bool = False) -> Path:
    predictor = SentimentPredictor.load(ref)
    model, c = predictor.model, predictor.model.config
    refusal = onnx_refusal(c) if fmt == "onnx" else None
    if refusal:
        raise refusal
    prepare_export_folder(out, force)
    example = predictor.featurizer.examples(["a warm-up sentence"])
    with mx.autograd.predict_mode():
        model(*to_batch(example, mx.cpu()).model_inputs(c.linear))
    model.export(str(out / "model"), epoch=0)
    vocab = predictor.featurizer.vocab
    info = {"format": "rnn-studio-export/1", "kind": "sentiment", "labels": predictor.labels,
            "input_names": [f"data{i}" for i in range(len(example_input_shapes(c.linear)))],
            "vocab": {w: i for i, w in enumerate(vocab.idx_to_token)},
            "tokenizer": "nltk NLTKWordTokenizer, lower-cased", "max_len": c.max_len,
            "ngram_buckets": c.ngram_buckets, "lexicon": c.lexicon,
            "linear_buckets": c.linear_buckets if c.linear else 0,
            "test": predictor.meta.test}
    if fmt == "onnx":
        from engine.export.onnx_compat import export_onnx, output_names
        shapes = example_input_shapes(c.linear)
        try:
            export_onnx(str(out / "model"), shapes, str(out / "model.onnx"))
        except StudioError:
            raise
        except Exception as err:      # the converter's own failures are plain exceptions
            raise StudioError(f"ONNX export failed in mxnet's converter ({err}); "
                              "set ", setting("format"), " to mxnet") from None
        info["onnx"] = {"file": "model.onnx", "opset": 13,
                        "output_names": output_names(str(out / "model"))}
    (out / "meta.json").write_text(json.dumps(info))
    (out / "README.md").write_text(README.format(name=Path(str(ref)).name))
    return out
