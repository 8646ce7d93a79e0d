"""Recording what a trained generator's cells hold at every character of a text.

``record`` runs the model over a text and keeps, for each character, every layer's values after
reading it: an LSTM's cell state ``c`` (its memory) and output ``h``, a GRU's or a plain RNN's
``h``. This is what
the look-inside ranking (cell_ranking.py), the CLI's ``generator neurons`` and the GUI's Look
inside view read.

How it stays fast without a Python loop over the characters:

* **One layer at a time, through the fused layer.** Each layer is a one-layer copy of the
  model's fused (oneDNN) RNN, fed the whole ``h`` sequence of the layer below, so every layer's
  ``h`` sequence comes out of a few calls.
* **Rows in parallel.** At batch 1 the fused layer does one matrix-vector product per
  character; here the text is cut into rows of about ``ROW_CHARS`` characters run side by side
  (matrix-matrix products, several times faster). Row ``r`` starts from the state that a
  warm-up over the ``WARMUP`` characters before it reaches; then each row whose starting state
  differs from the previous row's final state (beyond float32 noise) is run again from that
  state, until none differs. The first row starts where the text starts, so the chain is exact
  row by row; models forget, so one round usually suffices (every round fixes at least one row).
* **The gates, and so ``c``, from large products.** The fused layer returns only ``h``. With
  every layer's input and ``h`` sequence known, its gates are two large matrix products over
  all characters; ``c_t = f_t * c_(t-1) + i_t * g_t`` is then elementwise work, stepped over a
  row's length with all rows at once.

``tests/test_neurons.py`` checks the result against ``NumpyStepper`` (one character at a time) to
1e-5. The values are float32: every character costs ``4 * layers * hidden * (2 for LSTM, 1 for
GRU and RNN)`` bytes, 8 KiB for the default 2 x 512 LSTM (800 MiB for 100,000 characters), hence
``MAX_CHARS``.
"""
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import mxnet as mx
import numpy as np
from mxnet import autograd, nd

from engine.generator.cells import cell_kind
from engine.generator.data import CharVocab, _show_chars
from engine.errors import StudioError
from engine.generator.model import CharRNN

MAX_CHARS = 200_000     # 1.6 GB of values for the default model: longer texts, take a slice
ROW_CHARS = 2_000       # about this many characters per row of the parallel run
WARMUP = 256            # characters each row reads first to guess its starting state
FUSED_STEPS = 500       # characters per fused-layer call (bounds oneDNN's workspace)
TOLERANCE = 2e-6        # a row's start agrees with the row before it within this (float32 noise)
TOP_NEXT = 3            # the likeliest next characters kept per position


@dataclass(frozen=True, order=True)
class Cell:
    """One recorded value: layer and index count from 1; kind is "c" (an LSTM's memory) or "h"
    (a layer's output, the only kind a GRU has)."""
    layer: int
    index: int
    kind: str

    @property
    def name(self) -> str:
        return f"{self.layer}:{self.index}{self.kind}"

    def to_dict(self) -> dict:
        return {"cell": self.name, "layer": self.layer, "index": self.index, "kind": self.kind}


def all_cells(mode: str, layers: int, hidden: int) -> List[Cell]:
    """Every cell of a model, in recording order: per layer, an LSTM's c then its h."""
    kinds = ("c", "h") if mode == "lstm" else ("h",)
    return [Cell(layer, i + 1, kind) for layer in range(1, layers + 1) for kind in kinds
            for i in range(hidden)]


_CELL = re.compile(r"\s*(\d+)\s*:\s*(\d+)\s*:?\s*([ch]?)\s*")


@dataclass
class Recording:
    text: str                              # the text read (characters the model lacks removed)
    mode: str                              # "lstm" or "gru"
    layers: int
    hidden: int
    states: Dict[str, np.ndarray]          # "c1", "h1", ...: (chars, hidden) float32, each value
                                           # after reading that character
    next_ids: np.ndarray                   # (chars, TOP_NEXT): the likeliest next characters
    next_probs: np.ndarray                 # (chars, TOP_NEXT): their probabilities
    chars: List[str]                       # the vocabulary (ids -> characters)
    removed: Dict[str, int] = field(default_factory=dict)   # left out: character -> count

    @property
    def kinds(self) -> Tuple[str, ...]:
        return ("c", "h") if self.mode == "lstm" else ("h",)

    def __len__(self):
        return len(self.text)

    def blocks(self):
        """(kind, layer, values (chars, hidden)) for every recorded array, in cell order."""
        for layer in range(1, self.layers + 1):
            for kind in self.kinds:
                yield kind, layer, self.states[f"{kind}{layer}"]

    def cells(self) -> List[Cell]:
        """Every cell, in the order ``blocks`` gives their columns."""
        return all_cells(self.mode, self.layers, self.hidden)

    def parse_cell(self, spec: str) -> Cell:
        """``LAYER:INDEX`` (both from 1), optionally followed by ``c`` or ``h``; an LSTM's
        cell state ``c`` unless ``h`` is asked for."""
        m = _CELL.fullmatch(spec or "")
        if not m:
            raise StudioError(f"--cell takes LAYER:INDEX (e.g. 2:37, or 2:37h for an LSTM's "
                              f"output), not {spec!r}")
        layer, index, kind = int(m.group(1)), int(m.group(2)), m.group(3) or self.kinds[0]
        if not 1 <= layer <= self.layers:
            raise StudioError(f"cell {spec}: this model has layers 1 to {self.layers}")
        if not 1 <= index <= self.hidden:
            raise StudioError(f"cell {spec}: each layer has cells 1 to {self.hidden}")
        if kind not in self.kinds:
            raise StudioError(f"cell {spec}: a GRU has only its output h, no cell state c")
        return Cell(layer, index, kind)

    def values(self, cell: Cell) -> np.ndarray:
        """The cell's raw values, one per character."""
        return self.states[f"{cell.kind}{cell.layer}"][:, cell.index - 1]

    def display(self, cell: Cell) -> np.ndarray:
        """The cell's values on one scale, -1 to 1: ``h`` as it is, ``c`` through tanh (what
        the cell passes on; Karpathy et al. show ``tanh(c)`` the same way)."""
        v = self.values(cell)
        return np.tanh(v) if cell.kind == "c" else v

    def next_chars(self, position: int) -> List[Tuple[str, float]]:
        """The likeliest characters after ``text[:position + 1]``, best first."""
        return [(self.chars[int(i)], float(p))
                for i, p in zip(self.next_ids[position], self.next_probs[position])]

    def removed_note(self) -> str:
        if not self.removed:
            return ""
        n = sum(self.removed.values())
        return (f"{n:,} character(s) the model has never seen were left out: "
                f"{_show_chars(sorted(self.removed))}")


def known_text(vocab: CharVocab, text: str) -> Tuple[str, np.ndarray, Dict[str, int]]:
    """(the text without characters outside the vocabulary, its ids, what was left out)."""
    ids = vocab.encode(text)
    bad = ids < 0
    removed: Dict[str, int] = {}
    if bad.any():
        for ch in (c for c, b in zip(text, bad) if b):
            removed[ch] = removed.get(ch, 0) + 1
        text = "".join(c for c, b in zip(text, bad) if not b)
        ids = ids[~bad]
    return text, ids, removed


def record(model: CharRNN, vocab: CharVocab, text: str, ctx=None, row_chars: int = ROW_CHARS,
           should_stop: Callable[[], bool] = lambda: False) -> Optional[Recording]:
    """Every layer's values at every character of ``text`` (None if stopped on the way)."""
    ctx = ctx or mx.cpu()
    text, ids, removed = known_text(vocab, text)
    if not len(ids):
        raise StudioError("no text to read: none of its characters is in the model's vocabulary"
                          if removed else "no text to read: it is empty")
    if len(ids) > MAX_CHARS:
        raise StudioError(f"the text has {len(ids):,} characters; look inside at most "
                          f"{MAX_CHARS:,} at a time (take a slice)")
    cfg = model.config
    rows = _Rows(len(ids), row_chars)
    weights = _weights(model)
    x = weights["embedding"][ids]
    states = {}
    for layer in range(cfg.num_layers):
        if should_stop():
            return None
        fused = _one_layer(model, layer, ctx)
        h, starts = _run_layer(fused, x, rows, cfg.mode, ctx)
        states[f"h{layer + 1}"] = h
        if cfg.mode == "lstm":
            w_i, w_h, b_i, b_h = weights["layers"][layer]
            states[f"c{layer + 1}"] = _cell_state(x, h, starts[1], rows, w_i, w_h, b_i + b_h)
        x = h
    next_ids, next_probs = _likeliest_next(x, weights["decoder"], weights["decoder_bias"])
    return Recording(text, cfg.mode, cfg.num_layers, cfg.hidden_size, states, next_ids,
                     next_probs, list(vocab.chars), removed)


# ---- the fused layer, one layer at a time, rows in parallel -------------------------------
def _weights(model: CharRNN) -> dict:
    enc = model.encoder

    def get(layer, kind):
        return getattr(enc, f"l{layer}_{kind}").data().asnumpy()
    return {"embedding": model.embedding.weight.data().asnumpy(),
            "decoder": model.decoder.weight.data().asnumpy(),
            "decoder_bias": model.decoder.bias.data().asnumpy(),
            "layers": [tuple(get(layer, k) for k in ("i2h_weight", "h2h_weight", "i2h_bias",
                                                     "h2h_bias"))
                       for layer in range(model.config.num_layers)]}


def _one_layer(model: CharRNN, layer: int, ctx):
    """A one-layer fused RNN holding layer ``layer`` of the model's."""
    cfg = model.config
    size = cfg.embed_size if layer == 0 else cfg.hidden_size
    block = cell_kind(cfg.mode).fused_layer(cfg.hidden_size, num_layers=1, layout="TNC",
                                            input_size=size)
    block.initialize(ctx=ctx)
    for kind in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
        getattr(block, f"l0_{kind}").set_data(
            getattr(model.encoder, f"l{layer}_{kind}").data().as_in_context(ctx))
    return block


class _Rows:
    """The text cut into ``count`` rows of ``length`` characters (the last one padded)."""

    def __init__(self, chars: int, row_chars: int):
        self.chars = chars
        self.count = max(1, min(chars // max(1, row_chars), 256))
        self.length = -(-chars // self.count)

    def to_rows(self, seq: np.ndarray) -> np.ndarray:
        """(chars, C) -> (length, count, C), zeros after the text's end."""
        padded = np.zeros((self.count * self.length,) + seq.shape[1:], seq.dtype)
        padded[:self.chars] = seq
        return np.ascontiguousarray(padded.reshape(self.count, self.length, -1).transpose(1, 0, 2))

    def from_rows(self, rows: np.ndarray) -> np.ndarray:
        """(length, count, C) -> (chars, C)."""
        return rows.transpose(1, 0, 2).reshape(self.count * self.length, -1)[:self.chars]


def _run_layer(fused, x: np.ndarray, rows: _Rows, mode: str, ctx):
    """The layer's ``h`` sequence for input ``x`` (chars, C), and each row's starting states
    ([h] or [h, c], each (rows, hidden)), exactly as one run from the text's start gives."""
    x_rows = rows.to_rows(x)
    hidden = fused._hidden_size
    zero = np.zeros((rows.count, hidden), np.float32)
    starts = [zero.copy() for _ in range(2 if mode == "lstm" else 1)]
    warm = min(WARMUP, rows.length)
    if rows.count > 1 and warm:         # rows 1.. read the characters before them first
        before = x_rows[rows.length - warm:, :-1]
        guessed = _fused(fused, before, [s[1:] for s in starts], ctx)[1]
        for s, g in zip(starts, guessed):
            s[1:] = g
    out, finals = _fused(fused, x_rows, starts, ctx)
    while True:             # until every row starts where the row before it ends
        wanted = [np.concatenate([zero[:1], f[:-1]]) for f in finals]
        off = np.zeros(rows.count, bool)
        for w, s in zip(wanted, starts):
            off |= (np.abs(w - s) > TOLERANCE * (1 + np.abs(w))).any(axis=1)
        if not off.any():
            break
        again = np.flatnonzero(off)
        for w, s in zip(wanted, starts):
            s[again] = w[again]
        out_again, finals_again = _fused(fused, x_rows[:, again], [s[again] for s in starts], ctx)
        out[:, again] = out_again
        for f, fa in zip(finals, finals_again):
            f[again] = fa
    return rows.from_rows(out), starts


def _fused(fused, x_rows: np.ndarray, starts: List[np.ndarray], ctx):
    """(h sequence (T, N, H), final states [(N, H), ...]) from states ``starts``, FUSED_STEPS
    characters per call: oneDNN keeps every step's gates for the whole call (800 MB for 2,000
    steps of 50 rows at 512 units), so shorter calls keep the peak memory down."""
    steps = FUSED_STEPS
    out = np.empty(x_rows.shape[:2] + (fused._hidden_size,), np.float32)
    states = [nd.array(s[None], ctx=ctx) for s in starts]
    with autograd.predict_mode():
        for start in range(0, len(x_rows), steps):
            chunk, states = fused(nd.array(x_rows[start:start + steps], ctx=ctx), states)
            out[start:start + steps] = chunk.asnumpy()
    return out, [s[0].asnumpy() for s in states]


# ---- the LSTM's cell state from its gates ------------------------------------------------
def _cell_state(x: np.ndarray, h: np.ndarray, c_starts: np.ndarray, rows: _Rows,
                w_i: np.ndarray, w_h: np.ndarray, bias: np.ndarray, chunk: int = 64) -> np.ndarray:
    """``c`` at every character: gates i, f, g (MXNet's order i, f, g, o) from the layer's
    input and previous output in large products, ``chunk`` steps of every row at a time, then
    ``c = f * c + i * g`` along the rows from each row's starting ``c``."""
    H = h.shape[1]
    w_ifg = np.ascontiguousarray(np.concatenate([w_i, w_h], axis=1)[:3 * H].T)
    b_ifg = bias[:3 * H]
    c_all = np.empty((rows.chars, H), np.float32)
    c = c_starts.copy()
    row_starts = np.arange(rows.count) * rows.length
    for start in range(0, rows.length, chunk):
        where = np.arange(start, min(start + chunk, rows.length))[:, None] + row_starts
        at = np.minimum(where, rows.chars - 1)              # (steps, rows) text positions
        h_prev = np.where((at > 0)[..., None], h[np.maximum(at - 1, 0)], 0)
        gates = np.concatenate([x[at], h_prev], axis=2) @ w_ifg + b_ifg
        i_g = _sigmoid(gates[..., :H]) * np.tanh(gates[..., 2 * H:])
        f = _sigmoid(gates[..., H:2 * H])
        for t in range(len(where)):
            c = f[t] * c + i_g[t]
            real = where[t] < rows.chars                   # the last row's padding is not kept
            c_all[where[t][real]] = c[real]
    return c_all


def _sigmoid(x):
    with np.errstate(over="ignore"):        # exp(-x) overflows to inf for x < -88: 1/inf = 0
        return 1.0 / (1.0 + np.exp(-x))


def _likeliest_next(h: np.ndarray, w_out: np.ndarray, b_out: np.ndarray, chunk: int = 8192):
    ids = np.empty((len(h), min(TOP_NEXT, len(b_out))), np.int32)
    probs = np.empty(ids.shape, np.float32)
    for start in range(0, len(h), chunk):
        logits = h[start:start + chunk] @ w_out.T + b_out
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        top = np.argsort(-p, axis=1)[:, :ids.shape[1]]
        ids[start:start + chunk] = top
        probs[start:start + chunk] = np.take_along_axis(p, top, axis=1)
    return ids, probs


# ---- the cells at the end of each of many texts ------------------------------------------
def final_states(model: CharRNN, vocab: CharVocab, texts: List[str], ctx=None, batch: int = 32,
                 should_stop: Callable[[], bool] = lambda: False):
    """Every cell after reading each text from a fresh state: (values (texts, cells) in
    ``Recording.cells`` order, the indices of the texts read (those with a known character),
    the characters left out). Texts of similar length share a batch; each leaves the batch
    (its state taken) where it ends, so no text is padded."""
    ctx = ctx or mx.cpu()
    encoded, kept, removed = [], [], {}
    for i, text in enumerate(texts):
        _, ids, left_out = known_text(vocab, text)
        for ch, n in left_out.items():
            removed[ch] = removed.get(ch, 0) + n
        if len(ids):
            encoded.append(ids)
            kept.append(i)
    cfg = model.config
    kinds = 2 if cfg.mode == "lstm" else 1
    finals = np.empty((len(encoded), cfg.num_layers * kinds * cfg.hidden_size), np.float32)
    order = sorted(range(len(encoded)), key=lambda k: len(encoded[k]))
    for first in range(0, len(order), batch):
        if should_stop():
            return None
        group = order[first:first + batch]
        states = model.begin_state(len(group), ctx)
        done, alive = 0, list(group)
        with autograd.predict_mode():
            while alive:
                end = len(encoded[alive[0]])           # the shortest text still being read
                x = np.stack([encoded[k][done:end] for k in alive], axis=1)
                states = model(nd.array(x, ctx=ctx), *states)[1:]
                ending = [j for j, k in enumerate(alive) if len(encoded[k]) == end]
                values = [s.asnumpy() for s in states]         # [h, c]: (layers, N, H)
                for j in ending:
                    finals[alive[j]] = _cell_order(values, j, cfg.mode)
                stay = [j for j, k in enumerate(alive) if len(encoded[k]) > end]
                if stay and len(stay) < len(alive):
                    keep = nd.array(stay, ctx=ctx)
                    states = [nd.take(s, keep, axis=1) for s in states]
                alive, done = [alive[j] for j in stay], end
    return finals, kept, removed


def _cell_order(states: List[np.ndarray], j: int, mode: str) -> np.ndarray:
    """One row of the fused layer's final states ([h] or [h, c]) in ``Recording.cells`` order:
    per layer, c then h for an LSTM."""
    h = states[0][:, j]
    per_layer = np.stack([states[1][:, j], h], axis=1) if mode == "lstm" else h[:, None]
    return per_layer.reshape(-1)
