"""How a run is described to people, the same everywhere: one unit and one named score per kind
(a generator: bits per character on held-out text; a sentiment model: accuracy on its held-back
test split), the other numbers in a tooltip, and a plain summary instead of JSON."""
import math
from typing import List, Optional, Tuple

from engine.run_meta import RunMeta

from .common import duration


def bits(nats: float) -> float:
    return nats / math.log(2)


def headline(meta: RunMeta) -> Tuple[str, str]:
    """(the run's score as shown in lists and status lines, the tooltip with the rest)."""
    best = meta.best or {}
    if meta.kind == "sentiment":
        val = (f"validation accuracy {best['accuracy']:.1%} (step {best['step']:,})"
               if best.get("accuracy") is not None else "not validated yet")
        if meta.test:
            return f"{meta.test['accuracy']:.1%} test accuracy", val
        return "no test score yet", val
    if best.get("val_loss") is not None:
        return (f"{bits(best['val_loss']):.3f} bits/char",
                f"best validation: {best['val_loss']:.3f} nats per character, "
                f"{bits(best['val_loss']):.3f} bits per character (step {best['step']:,})")
    return "not validated yet", ""


def chart_series(meta: RunMeta) -> Tuple[str, List[Tuple[float, float]]]:
    """(y-axis name, (epoch, value) points) of the score a kind is judged by."""
    if meta.kind == "sentiment":
        return "validation accuracy", [(h["epoch"], h["val_accuracy"]) for h in meta.history
                                       if h.get("val_accuracy") is not None]
    return "validation bits per character", [(h["epoch"], bits(h["val_loss"]))
                                             for h in meta.history if h.get("val_loss") is not None]


def _settings(settings: dict, names) -> str:
    return ", ".join(f"{label} {settings[key]}" for key, label in names if key in settings)


def summary(name: str, meta: RunMeta, size_bytes: Optional[int] = None) -> List[str]:
    """A few plain lines: model, data, training, scores, size."""
    model, train = meta.config.get("model", {}), meta.config.get("train", {})
    score, detail = headline(meta)
    cell = str(model.get("mode", "?")).upper()
    what = "text generator" if meta.kind == "generator" else "sentiment model"
    shape = _settings(model, [("num_layers", "layers"), ("hidden_size", "hidden size"),
                              ("embed_size", "embedding")])
    size = meta.corpus.get("size")
    unit = "bytes" if meta.kind == "generator" else "examples"
    data = f"Data: {meta.corpus.get('name', '?')}" + (f", {size:,} {unit}"
                                                      if isinstance(size, int) else "")
    how = _settings(train, [("batch_size", "batch"), ("lr", "learning rate"), ("seed", "seed")])
    lines = [f"{name}: a {what}", f"Model: {cell}, {shape}", data,
             f"Training: {meta.step:,} steps in {duration(meta.seconds)}, {how}",
             f"Score: {score}" + (f" ({detail})" if detail else "")]
    if meta.test:
        t = meta.test
        extra = [f"macro F1 {t['macro_f1']:.3f} on {t['n']:,} test examples"]
        if t.get("vader"):
            extra.append(f"the VADER lexicon alone {t['vader']['accuracy']:.1%}")
        lines.append("Test: " + "; ".join(extra))
    if size_bytes is not None:
        lines.append(f"Size on disk: {size_bytes / 2**20:.1f} MB")
    if meta.sample:
        lines += ["", "Last sample:", meta.sample]
    return lines
