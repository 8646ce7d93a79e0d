"""How a run is described to people, the same everywhere: its kind's one named score (from
engine/kinds.py: a generator's bits per character on held-out text, a sentiment model's accuracy
on its held-back test split), the other numbers in a tooltip, and plain fields instead of JSON,
as lines for one run or side by side for several."""
import html
from typing import List, Optional, Tuple

from engine.kinds import curve_points, kind_of
from engine.storage.run_meta import RunMeta

from desktop.widgets.common import duration

# the x axes a Models-tab comparison can use: key -> (axis label, value of a history entry)
X_AXES = {
    "epoch": ("passes over the data", lambda meta, h: h["epoch"]),
    "minutes": ("minutes of training", lambda meta, h: h.get("seconds", 0.0) / 60),
    "seen": ("items seen (characters or texts)", lambda meta, h: kind_of(meta.kind).seen(meta, h)),
}


def headline(meta: RunMeta) -> Tuple[str, str]:
    """(the run's score as shown in lists and status lines, the tooltip with the rest)."""
    kind = kind_of(meta.kind)
    best = meta.best or {}
    score = kind.format_score(kind.best_score(meta))
    if best.get("val_loss") is None:
        return score, ""
    detail = f"best validation (step {best['step']:,}): loss {best['val_loss']:.3f} nats"
    if kind.loss_unit:
        detail += f" = {kind.loss_shown(best['val_loss']):.3f} {kind.loss_unit}"
    if best.get("accuracy") is not None:
        detail += f", accuracy {best['accuracy']:.1%}"
    return score, detail


def chart_series(meta: RunMeta, x_axis: str = "epoch") -> Tuple[str, List[Tuple[float, float]]]:
    """(y-axis name, (x, value) points) of the score a kind is judged by, on ``x_axis``."""
    kind, x_of = kind_of(meta.kind), X_AXES[x_axis][1]
    name = "validation " + kind.curve_name
    return name, [(x_of(meta, h), value) for h, value in curve_points(meta)]


def _settings(settings: dict, names) -> str:
    return ", ".join(f"{label} {settings[key]}" for key, label in names if key in settings)


def fields(name: str, meta: RunMeta, size_bytes: Optional[int] = None) -> List[Tuple[str, str]]:
    """(what, value) pairs: kind, model, data, training, score, test, size."""
    kind = kind_of(meta.kind)
    model, train = meta.config.get("model", {}), meta.config.get("train", {})
    score, detail = headline(meta)
    shape = _settings(model, [("num_layers", "layers"), ("hidden_size", "hidden size"),
                              ("embed_size", "embedding")])
    size = meta.corpus.get("size")
    data = meta.corpus.get("name", "?") + (f", {size:,} {kind.size_noun}"
                                           if isinstance(size, int) else "")
    how = _settings(train, [("batch_size", "batch"), ("lr", "learning rate"), ("seed", "seed")])
    out = [("Kind", f"a {kind.called}"), ("Model", f"{str(model.get('mode', '?')).upper()}, {shape}"),
           ("Data", data), ("Training", f"{meta.step:,} steps in {duration(meta.seconds)}, {how}"),
           ("Score", score + (f" ({detail})" if detail else ""))]
    if meta.test:
        t = meta.test
        extra = [f"macro F1 {t['macro_f1']:.3f} on {t['n']:,} test examples"]
        if t.get("vader"):
            extra.append(f"the VADER word list alone {t['vader']['accuracy']:.1%}")
        out.append(("Test", "; ".join(extra)))
    if meta.group:
        out.append(("Group", group_label(meta)))
    if size_bytes is not None:
        out.append(("Size on disk", f"{size_bytes / 2**20:.1f} MB"))
    return out


def group_label(meta: RunMeta) -> str:
    """The comparison a run was trained in ("" for none): its name and cells."""
    g = meta.group or {}
    if not g:
        return ""
    cells = ", ".join(str(c).upper() for c in g.get("cells", []))
    return f"{g.get('name', '?')} (Compare cells: {cells})"


def summary(name: str, meta: RunMeta, size_bytes: Optional[int] = None) -> List[str]:
    """A few plain lines: model, data, training, scores, size (and its last sample)."""
    parts = fields(name, meta, size_bytes)
    lines = [f"{name}: {parts[0][1]}"] + [f"{what}: {value}" for what, value in parts[1:]]
    if meta.sample:
        lines += ["", "Last sample:", meta.sample]
    return lines


def side_by_side(runs: List[Tuple[str, RunMeta, Optional[int]]]) -> str:
    """An HTML table: one column per run, one row per field, to compare them."""
    columns = [dict(fields(name, meta, size)) for name, meta, size in runs]
    rows = [w for w, _ in fields(*runs[0])]
    for c in columns:
        rows += [w for w in c if w not in rows]
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _, _ in runs)
    body = "".join(f"<tr><th align=left>{html.escape(w)}</th>" +
                   "".join(f"<td>{html.escape(c.get(w, '–'))}</td>" for c in columns) + "</tr>"
                   for w in rows)
    return f"<table cellpadding=3 border=1 cellspacing=0><tr><th></th>{head}</tr>{body}</table>"
