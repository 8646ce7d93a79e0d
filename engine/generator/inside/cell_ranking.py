"""Which cells track what: ranking a recording's cells by a property of the text, by a span a
person selected (the LSTMVis way), or by the labels of labeled texts.

**The score for a yes/no property (and for labels) is the AUC**, the area under the ROC curve:
the chance that a character where the property holds gives the cell a higher value than one
where it does not (0.5: no relation; 1 or 0: the cell separates them perfectly, upwards or
downwards). It is read from ranks, so it does not care about a cell's scale (an LSTM's ``c``
is unbounded, ``h`` lies in -1..1) or about saturation, only about order; and unlike a
correlation it does not shrink when a property is rare (quotes are a few percent of a text),
so cells can be compared across properties. Mutual information would need binning choices and
says nothing of direction. **For the one numeric property, line position, it is Spearman's
rank correlation**, the same rank-based idea. Cells are ranked by **strength**: ``|2 AUC - 1|``
or ``|rho|``, 0 (nothing) to 1 (perfect), the direction kept beside it.

Ranks come from each cell's values quantised to 65,536 levels between its own minimum and
maximum (values sharing a level count as ties, half each), which turns a sort per cell into a
histogram: all 2,048 cells of the default model over 100,000 characters in seconds.
"""
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from engine.errors import StudioError
from engine.sentiment.labeled import LabeledData
from engine.generator.inside.neurons import Cell, Recording, all_cells, final_states, record
from engine.generator.inside.text_properties import Property, builtin_properties, parse_property

LEVELS = 1 << 16
BLOCK = 64                     # cells ranked at once (bounds the memory of the ranks)


@dataclass(frozen=True)
class RankedCell:
    cell: Cell
    score: float               # the AUC, or Spearman's rho for a numeric property
    strength: float            # 0 (tracks nothing) .. 1 (tracks it perfectly): the ranking key
    higher: bool               # higher where the property holds (grows with it)
    detail: str = ""           # e.g. the label it is high for

    def to_dict(self) -> dict:
        return {**self.cell.to_dict(), "score": round(self.score, 4),
                "strength": round(self.strength, 4), "higher": self.higher,
                **({"detail": self.detail} if self.detail else {})}


@dataclass
class Ranking:
    by: str                    # "quotes", "selection 120:145", "label"
    description: str           # what that means for people
    measure: str               # "AUC", "Spearman", "on inside minus on around"
    cells: List[RankedCell]    # best first
    note: str = ""             # how much of the text it concerns, or why nothing could be said

    def to_dict(self) -> dict:
        return {"by": self.by, "description": self.description, "measure": self.measure,
                "note": self.note, "cells": [c.to_dict() for c in self.cells]}

    def summary(self, cell: RankedCell) -> str:
        """One line for people: "AUC 0.97: higher inside double quotes"."""
        name = {"Spearman": "rho", "AUC": "AUC"}.get(self.measure, "J")
        return f"{name} {cell.score:.2f}: {self.meaning(cell)}"

    def meaning(self, cell: RankedCell) -> str:
        """What the cell does, in words: "higher inside double quotes"."""
        if self.measure == "Spearman":
            return f"{'grows' if cell.higher else 'falls'} with {self.description}"
        if self.measure == "AUC":
            return f"{'higher' if cell.higher else 'lower'} {cell.detail or self.description}"
        return f"{'on' if cell.higher else 'on (downwards)'} across the selection, off around " \
               f"it ({cell.detail})"


# ---- ranks --------------------------------------------------------------------------------
def quantised_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1..n) of each column of ``values`` (n, B), from 65,536 levels per column
    (float32: exact for up to 16 million rows)."""
    n, width = values.shape
    low, high = values.min(axis=0), values.max(axis=0)
    scale = np.where(high > low, (LEVELS - 1) / np.where(high > low, high - low, 1), 0)
    levels = ((values - low) * scale.astype(np.float32)).astype(np.int32)
    levels += (np.arange(width) * LEVELS).astype(np.int32)    # one histogram per column
    counts = np.bincount(levels.ravel(), minlength=width * LEVELS).reshape(width, LEVELS)
    below = np.cumsum(counts, axis=1) - counts
    average = (below + (counts + 1) / 2.0).astype(np.float32).ravel()
    return average[levels]


def _auc_from_ranks(ranks: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """AUC (masks (P, n) bool: where each property holds) of each rank column: (P, B)."""
    n_in = masks.sum(axis=1, dtype=np.float64)[:, None]
    n_out = masks.shape[1] - n_in
    sums = masks.astype(np.float64) @ ranks
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums - n_in * (n_in + 1) / 2) / (n_in * n_out)


def _centred_ranks(target: np.ndarray) -> np.ndarray:
    ranks = quantised_ranks(target[:, None].astype(np.float64))[:, 0]
    return ranks - ranks.mean()


def _block_scores(block: np.ndarray, masks: np.ndarray, targets: List[np.ndarray]):
    """(AUC (P, B) per mask, rho (Q, B) per centred target rank vector) of ``block``'s columns."""
    ranks = quantised_ranks(block)
    centred = ranks - ranks.mean(axis=0)
    norms = np.linalg.norm(centred, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = [(t @ centred) / (np.linalg.norm(t) * norms) for t in targets]
    return _auc_from_ranks(ranks, masks), np.array(rhos).reshape(len(targets), block.shape[1])


def _column_blocks(arrays):
    """Blocks of at most BLOCK columns of each (n, width) array."""
    for values in arrays:
        for start in range(0, values.shape[1], BLOCK):
            yield values[:, start:start + BLOCK]


def _best(cells: Sequence[Cell], scores: np.ndarray, centre: float, scale: float, top: int,
          details: Optional[Sequence[str]] = None) -> List[RankedCell]:
    scores = np.nan_to_num(scores, nan=centre)
    strength = np.abs(scores - centre) * scale
    order = np.argsort(-strength, kind="stable")[:top]
    return [RankedCell(cells[i], float(scores[i]), float(strength[i]), bool(scores[i] > centre),
                       details[i] if details else "") for i in order]


# ---- by a property ------------------------------------------------------------------------
def rank_by_properties(rec: Recording, properties: Sequence[Property], top: int = 10,
                       should_stop: Callable[[], bool] = lambda: False) -> List[Ranking]:
    """One ranking per property; all properties share one pass over the cells' ranks."""
    for p in properties:
        if len(p.values) != len(rec):
            raise ValueError(f"property {p.name} has {len(p.values)} values for {len(rec)} chars")
    binary = [p for p in properties if not p.numeric]
    numeric = [p for p in properties if p.numeric]
    masks = np.array([p.values for p in binary], bool).reshape(len(binary), len(rec))
    targets = [_centred_ranks(p.values) for p in numeric]
    aucs, rhos = [], []
    for block in _column_blocks(values for _, _, values in rec.blocks()):
        if should_stop():
            return []
        a, r = _block_scores(block, masks, targets)
        aucs.append(a)
        rhos.append(r)
    aucs, rhos = np.concatenate(aucs, axis=1), np.concatenate(rhos, axis=1)
    cells = rec.cells()
    rankings = {}
    for p, scores in zip(binary, aucs):
        n_in = int(p.values.sum())
        if n_in == 0 or n_in == len(rec):
            rankings[p.name] = Ranking(p.name, p.description, "AUC", [],
                                       f"{'never' if n_in == 0 else 'always'} holds in this text")
        else:
            rankings[p.name] = Ranking(p.name, p.description, "AUC",
                                       _best(cells, scores, 0.5, 2.0, top),
                                       f"holds at {n_in:,} of {len(rec):,} characters")
    for p, scores in zip(numeric, rhos):
        varies = len(np.unique(p.values)) > 1
        rankings[p.name] = Ranking(p.name, p.description, "Spearman",
                                   _best(cells, scores, 0.0, 1.0, top) if varies else [],
                                   "" if varies else "does not vary in this text")
    return [rankings[p.name] for p in properties]


# ---- by a selection (LSTMVis) -------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    start: int
    end: int                   # exclusive
    text: str
    selected: bool = False     # the selection itself

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text,
                "selected": self.selected}


@dataclass
class SelectionRanking:
    ranking: Ranking
    used: List[RankedCell]             # the cells whose switching on defines the matches
    matches: List[Match] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**self.ranking.to_dict(), "matched_cells": [c.cell.name for c in self.used],
                "matches": [m.to_dict() for m in self.matches]}


def parse_span(spec: str, length: int) -> Tuple[int, int]:
    """``START:END`` (character offsets, END exclusive) inside a text of ``length``."""
    start, sep, end = (spec or "").partition(":")
    try:
        start, end = int(start), int(end)
    except ValueError:
        start = end = None
    if not sep or start is None:
        raise StudioError(f"--select takes START:END (character offsets, e.g. 120:145), "
                          f"not {spec!r}")
    if not 0 <= start < end <= length:
        raise StudioError(f"--select {spec}: needs 0 <= START < END <= {length:,} (the text's "
                          f"length)")
    return start, end


def rank_by_selection(rec: Recording, start: int, end: int, top: int = 10,
                      matched_cells: int = 3) -> SelectionRanking:
    """Cells that stay above a threshold across ``[start, end)`` and below it around it (as far
    on each side as the selection is long, at least 3 characters) rank first, and cells that
    stay below it across the span and above it around it (negative cells) as well.

    Each cell gets its own threshold, the one that best tells the span from its surroundings
    (LSTMVis has the user set one for all cells; cells differ in scale, so one would favour
    the large ones). The score is Youden's J at that threshold: the share of the span's
    characters on minus the share of the surrounding ones on, 1 when it separates them
    perfectly. Ties (short spans are separated perfectly by many cells) go to the widest gap
    between the span and its surroundings, in units of the cell's own spread over the text.
    Then: the other places where the ``matched_cells`` best switch on together."""
    width = max(3, end - start)
    lo, hi = max(0, start - width), min(len(rec), end + width)
    inside = np.zeros(hi - lo, bool)
    inside[start - lo:end - lo] = True
    window = np.concatenate([_shown(kind, values[lo:hi]) for kind, _, values in rec.blocks()],
                            axis=1)
    spread = rec_spread(rec)
    cells = rec.cells()
    up = _separation(window, inside, spread)
    down = _separation(-window, inside, spread)
    higher = np.where(up[0] != down[0], up[0] > down[0], up[1] >= down[1])
    score = np.where(higher, up[0], down[0])
    gap = np.where(higher, up[1], down[1])
    threshold = np.where(higher, up[2], -down[2])
    order = np.lexsort((-gap, -score))[:max(top, matched_cells)]
    ranked = [RankedCell(cells[i], float(score[i]), float(score[i]), bool(higher[i]),
                         f"threshold {threshold[i]:+.2f}, gap {gap[i]:+.1f} spreads")
              for i in order]
    outside = int((~inside).sum())
    ranking = Ranking(f"selection {start}:{end}", f"characters {start}-{end}: "
                      f"{rec.text[start:end]!r}", "Youden's J", ranked[:top],
                      f"on across the selection, off in the {outside} characters around it")
    used = [(c, float(threshold[order[k]])) for k, c in enumerate(ranked[:matched_cells])
            if c.strength > 0]
    return SelectionRanking(ranking, [c for c, _ in used], find_matches(rec, used, start, end))


def _shown(kind: str, values: np.ndarray) -> np.ndarray:
    return np.tanh(values) if kind == "c" else values


def rec_spread(rec: Recording) -> np.ndarray:
    """Each cell's standard deviation over the whole text (on the -1..1 scale), kept with the
    recording: selections are ranked over and over in the GUI."""
    cached = getattr(rec, "_spread", None)
    if cached is None:
        cached = np.concatenate([_shown(kind, values).std(axis=0)
                                 for kind, _, values in rec.blocks()]) + 1e-6
        rec._spread = cached
    return cached


def _separation(values: np.ndarray, inside: np.ndarray, spread: np.ndarray):
    """Per column: (Youden's J of "above a threshold" for the rows ``inside`` against the
    rest, the gap (lowest inside - highest outside) / spread, that threshold)."""
    order = np.argsort(-values, axis=0, kind="stable")           # highest first
    ins = inside[order]
    n_in, n_out = inside.sum(), (~inside).sum()
    j = np.cumsum(ins, axis=0) / n_in - (np.cumsum(~ins, axis=0) / n_out if n_out else 0)
    best = np.argmax(j, axis=0)
    cols = np.arange(values.shape[1])
    ranked = np.take_along_axis(values, order, axis=0)
    below = ranked[np.minimum(best + 1, len(ranked) - 1), cols]
    threshold = (ranked[best, cols] + below) / 2
    low_in = np.where(inside[:, None], values, np.inf).min(axis=0)
    high_out = np.where(inside[:, None], -np.inf, values).max(axis=0) if n_out else low_in - 1
    return np.maximum(j[best, cols], 0), (low_in - high_out) / spread, threshold


def find_matches(rec: Recording, used, start: int, end: int) -> List[Match]:
    """Runs of characters where every cell of ``used`` ((RankedCell, threshold) pairs) is on
    (above its threshold, or below it for a negative cell), at least a third as long as the
    selection; the selection's own run is marked."""
    if not used:
        return []
    on = np.ones(len(rec), bool)
    for c, threshold in used:
        shown = rec.display(c.cell)
        on &= shown > threshold if c.higher else shown < threshold
    edges = np.diff(np.r_[0, on.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    shortest = max(1, (end - start) // 3)
    found = [Match(int(s), int(e), rec.text[s:e], bool(s < end and e > start))
             for s, e in zip(starts, ends) if e - s >= shortest]
    return found


# ---- by labels ----------------------------------------------------------------------------
def rank_by_labels(cells: Sequence[Cell], finals: np.ndarray, labels: Sequence[str],
                   top: int = 10) -> Ranking:
    """Cells read at the end of each text (``finals`` (texts, cells)) ranked by how well they
    separate the labels: the AUC of one label against the rest (for two labels, the second
    against the first), the best label per cell."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise StudioError("the labeled texts have only one label; ranking needs two or more")
    labels = np.asarray(labels)
    targets = classes[1:] if len(classes) == 2 else classes
    masks = np.array([labels == c for c in targets])
    aucs = np.concatenate([_block_scores(block, masks, [])[0]
                           for block in _column_blocks([finals])], axis=1)
    pick = np.argmax(np.abs(aucs - 0.5), axis=0)
    scores = aucs[pick, np.arange(aucs.shape[1])]
    what = [f"for label {targets[k]!r}" + (f" (than {classes[0]!r})" if len(classes) == 2 else
                                            " (than the rest)") for k in pick]
    counts = ", ".join(f"{c} {int((labels == c).sum()):,}" for c in classes)
    return Ranking("label", "the label of each text", "AUC",
                   _best(cells, scores, 0.5, 2.0, top, what),
                   f"cells read at the end of {len(labels):,} texts ({counts})")


# ---- the whole look inside ----------------------------------------------------------------
def record_and_rank(model, vocab, text: str, extra: Sequence[str] = (), top: int = 10, ctx=None,
                    should_stop: Callable[[], bool] = lambda: False):
    """Record ``text`` and rank its cells by every built-in property and the ``NAME=REGEX``
    ones in ``extra``: (recording, rankings), or None if stopped."""
    rec = record(model, vocab, text, ctx, should_stop=should_stop)
    if rec is None:
        return None
    properties = builtin_properties(rec.text) + [parse_property(p, rec.text) for p in extra]
    rankings = rank_by_properties(rec, properties, top, should_stop)
    return (rec, rankings) if rankings else None


def rank_labeled_texts(model, vocab, data: LabeledData, max_texts: Optional[int] = 500,
                       top: int = 10, ctx=None, seed: int = 0) -> Ranking:
    """The label ranking of a labeled file's texts (a seeded random ``max_texts`` of them:
    reading thousands of long reviews costs minutes)."""
    picked = list(range(len(data)))
    if max_texts and len(picked) > max_texts:
        picked = sorted(np.random.RandomState(seed).choice(len(picked), max_texts, replace=False))
    texts = [data.texts[i] for i in picked]
    finals, kept, removed = final_states(model, vocab, texts, ctx)
    if not kept:
        raise StudioError(f"{data.source}: none of the texts has a character the model knows")
    cfg = model.config
    cells = all_cells(cfg.mode, cfg.num_layers, cfg.hidden_size)
    ranking = rank_by_labels(cells, finals, [data.labels[picked[k]] for k in kept], top)
    if len(picked) < len(data):
        ranking.note += f"; a random {len(picked):,} of the file's {len(data):,}"
    if removed:
        ranking.note += f"; {sum(removed.values()):,} unknown characters left out"
    return ranking
