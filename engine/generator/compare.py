"""``rnn-studio generator compare``: LSTM, GRU and the plain RNN trained on the same text, split,
seed and budget, one after another, then measured against the classic table's claims.

Each cell trains with the one training loop (``train_generator``) in its own run folder (so each
can be sampled, looked inside and exported), its record carrying the comparison's ``group``.
Then, on the held-out text (the validation part of the same split), from the last checkpoint:

* **at equal steps**: the training bits per character at the last logged step all reached;
* **bits per character** with the state carried (``full``): every scored character has at least
  ``WARMUP`` characters read before it;
* **memory reach**: the same characters scored with the state reset every d characters
  (d = 1, 2, 4 ... 512: character p sees only the characters since the last multiple of d), and
  the smallest d within ``REACH_BITS`` of the full-context loss (None: none within 512);
* **gradient flow**: the norm of the gradient of the loss at character s + d with respect to the
  whole recurrent state (every layer's h, and c for an LSTM) before character s, averaged over
  ``GRAD_WINDOWS`` held-out places, divided by the same at d = 0. One forward and backward pass
  gives every d: each window is copied once per d into the batch, and copy d scores only its
  character s + d, so the gradient reaching copy d's starting state is exactly that one term;
* **bracket closing** (where the held-out text has brackets): at each closer, how much
  probability the model gives to closing a bracket, and whether it puts more on the right closer
  than on the wrong ones.

Cost (measured on the shared 2-core machine, contended, README "Cells compared"): for the
default 2 x 512 model the measurements read ``EVAL_CHARS`` characters 11 times plus a
257-step forward and backward over ``GRAD_WINDOWS`` x 13 copies: 30-42 s per gated cell and
12-13 s for the plain RNN, beside the training budget.
"""
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import mxnet as mx
import numpy as np
from mxnet import autograd, nd

from engine.config import GeneratorConfig, TrainConfig
from engine.errors import StudioError
from engine.events import Finished, Progress, Validated
from engine.generator.cells import CELLS
from engine.generator.data import encode_corpus, split_stream
from engine.generator.cells import parameter_count
from engine.generator.load import load_generator
from engine.generator.train import CorpusRef, train_generator
from engine.storage.runs import RunFolder

REACH_DS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
GRAD_DS = (0, 1, 2, 4, 8, 16, 32, 50, 64, 100, 128, 200, 256)
REACH_BITS = 0.01           # memory reach: within this many bits of the full-context loss
WARMUP = 1024               # characters read before the first scored one (full context)
EVAL_CHARS = 16384          # held-out characters scored (a multiple of 512)
GRAD_WINDOWS = 16
BRACKETS = ("()", "[]", "{}")
LN2 = math.log(2)


# ---- events -------------------------------------------------------------------------------
@dataclass
class CellStarted:
    cell: str
    index: int                  # from 0
    count: int
    run_dir: str
    parameters: int


@dataclass
class CellMeasuring:
    cell: str
    what: str                   # "memory reach", "gradient flow", ...


@dataclass
class CellDone:
    cell: str
    result: dict


@dataclass
class ComparisonDone:
    result: dict                # what ``--json`` prints


# ---- sizes --------------------------------------------------------------------------------
def matched_configs(cells: Sequence[str], model: GeneratorConfig, match: str,
                    vocab: int) -> Dict[str, GeneratorConfig]:
    """Each cell's model: ``units``: the same hidden size; ``params``: the hidden size whose
    parameter count is nearest the first cell's at ``model.hidden_size``."""
    if match not in ("units", "params"):
        raise StudioError(f"--match must be units or params, not {match!r}")
    configs = {c: model.replace(mode=c) for c in cells}
    if match == "params":
        target = parameter_count(configs[cells[0]], vocab)
        for c in cells[1:]:
            best = min(range(1, 4097), key=lambda h: abs(
                parameter_count(model.replace(mode=c, hidden_size=h), vocab) - target))
            configs[c] = model.replace(mode=c, hidden_size=best)
    return configs


def counted_structure(model) -> dict:
    """Gates and states counted from a built model: the recurrent weights' row blocks per unit
    (each block a gate but one, the candidate the gates mix in) and the states it carries."""
    hidden = model.config.hidden_size
    blocks = model.encoder.l0_h2h_weight.shape[0] // hidden
    states = len(model.begin_state(1))
    return {"gates": blocks - 1, "states": states,
            "state_names": list(CELLS[model.config.mode].states)[:states]}


# ---- the held-out measurements -----------------------------------------------------------
def _nll_bits(model, x: np.ndarray, states, ctx) -> tuple:
    """(bits of each next character (T-1, N), final states) for ids x (T, N): scores x[1:]."""
    with autograd.predict_mode():
        out = model(nd.array(x[:-1], ctx=ctx), *states)
        logp = nd.log_softmax(out[0], axis=-1)
        nll = -nd.pick(logp, nd.array(x[1:], ctx=ctx), axis=-1)
    return nll.asnumpy() / LN2, out[1:]


def _scored(ids: np.ndarray, warmup: int, chars: int):
    """The held-out places scored: characters [warmup, warmup + chars) (chars a multiple of
    the largest reach d), shrunk to fit a short text."""
    chars = min(chars, (len(ids) - 1 - warmup) // REACH_DS[-1] * REACH_DS[-1])
    if chars <= 0:
        warmup = max(0, len(ids) // 4)
        chars = (len(ids) - 1 - warmup) // REACH_DS[-1] * REACH_DS[-1]
    if chars <= 0:
        raise StudioError(f"the held-out text ({len(ids):,} characters) is too short to measure "
                          f"memory reach up to {REACH_DS[-1]} characters")
    return warmup, chars


def full_context_bits(model, ids: np.ndarray, ctx, warmup: int, chars: int,
                      rows: int = 16) -> float:
    """Mean bits per character of ids[warmup + 1 : warmup + chars + 1] with the state carried:
    ``rows`` side by side, each reading the ``warmup`` characters before its own first."""
    rows = max(1, min(rows, chars // REACH_DS[-1]))
    length = chars // rows
    starts = warmup + np.arange(rows) * length
    x = np.stack([ids[s - warmup:s + length + 1] for s in starts], axis=1)
    bits, _ = _nll_bits(model, x, model.begin_state(rows, ctx), ctx)
    return float(bits[warmup:].mean())


def memory_reach(model, ids: np.ndarray, ctx, ds: Sequence[int] = REACH_DS,
                 warmup: int = WARMUP, chars: int = EVAL_CHARS) -> dict:
    """{"full": bits, "by_d": {d: bits}, "reach": smallest d within REACH_BITS of full, or
    None}: the same held-out characters, the state reset every d characters."""
    warmup, chars = _scored(ids, warmup, chars)
    full = full_context_bits(model, ids, ctx, warmup, chars)
    by_d = {}
    for d in ds:
        # window w, from a fresh state, reads span[w d : (w+1) d] and is scored on the
        # character after each: every scored character sees 1 to d characters
        span = ids[warmup:warmup + chars + 1]
        x = np.stack([span[w * d:w * d + d + 1] for w in range(chars // d)], axis=1)
        bits, _ = _nll_bits(model, x, model.begin_state(x.shape[1], ctx), ctx)
        by_d[d] = float(bits.mean())
    reach = next((d for d in ds if by_d[d] - full <= REACH_BITS), None)
    return {"full": full, "by_d": by_d, "reach": reach}


def gradient_flow(model, ids: np.ndarray, ctx, ds: Sequence[int] = GRAD_DS,
                  windows: int = GRAD_WINDOWS, warmup: int = 256, seed: int = 0) -> Dict[int, float]:
    """{d: mean norm of d(loss at s + d) / d(state before s), relative to d = 0}."""
    depth = max(ds)
    rng = np.random.RandomState(seed)
    last = len(ids) - depth - 2
    if last <= warmup:
        raise StudioError(f"the held-out text ({len(ids):,} characters) is too short to measure "
                          f"the gradient {depth} characters back")
    starts = np.sort(rng.choice(np.arange(warmup, last), size=min(windows, last - warmup),
                                replace=False))
    # the state before each window: read its warm-up characters
    warm = np.stack([ids[s - warmup:s] for s in starts], axis=1)
    with autograd.predict_mode():
        states = model(nd.array(warm, ctx=ctx), *model.begin_state(len(starts), ctx))[1:]
    copies = len(ds)
    states = [nd.repeat(s, copies, axis=1) for s in states]        # window-major, then d
    x = np.repeat(np.stack([ids[s:s + depth + 2] for s in starts], axis=1), copies, axis=1)
    mask = np.zeros((depth + 1, x.shape[1]), np.float32)
    for j, d in enumerate(ds):
        mask[d, j::copies] = 1.0
    for s in states:
        s.attach_grad()
    with autograd.record():                     # dropout left out: the layer's output straight
        hidden, _ = model.encoder(model.embedding(nd.array(x[:-1], ctx=ctx)), list(states))
        logp = nd.log_softmax(model.decoder(hidden), axis=-1)
        nll = -nd.pick(logp, nd.array(x[1:], ctx=ctx), axis=-1)
        loss = (nll * nd.array(mask, ctx=ctx)).sum()
    loss.backward()
    squares = sum((s.grad ** 2).sum(axis=(0, 2)).asnumpy() for s in states)   # per copy
    norms = np.sqrt(squares).reshape(len(starts), copies).mean(axis=0)
    base = norms[list(ds).index(0)] if 0 in ds else norms[0]
    return {d: float(n / base) for d, n in zip(ds, norms)}


def bracket_closing(model, vocab, ids: np.ndarray, ctx, pairs=BRACKETS,
                    most: int = 200_000) -> Optional[dict]:
    """At each closer of the held-out text (of the pairs the vocabulary has), having read all
    before it: ``closer_probability``, the mean probability the model gives to a closer there
    (knowing a bracket is open), and ``right_type``, the share where the right closer is
    likelier than each wrong one (knowing which bracket: one in three by chance). None when the
    text has fewer than 20 closers."""
    closers = [vocab.encode(p[1])[0] for p in pairs]
    closers = [c for c in closers if c >= 0]
    ids = ids[:most]
    if not closers or np.isin(ids[1:], closers).sum() < 20:
        return None
    rows = 8
    length = (len(ids) - 1) // rows
    x = np.stack([ids[r * length:r * length + length + 1] for r in range(rows)], axis=1)
    with autograd.predict_mode():
        logp = nd.log_softmax(model(nd.array(x[:-1], ctx=ctx),
                                    *model.begin_state(rows, ctx))[0], axis=-1).asnumpy()
    t, r = np.nonzero(np.isin(x[1:], closers))      # logp[t, r] predicts x[t + 1, r]
    rows_p = np.exp(logp[t, r])
    want = x[t + 1, r]
    closing = rows_p[:, closers].sum(axis=1)
    right = [all(p[w] > p[c] for c in closers if c != w) for p, w in zip(rows_p, want)]
    return {"closer_probability": float(closing.mean()), "right_type": float(np.mean(right)),
            "closers": int(len(want))}


# ---- the comparison -----------------------------------------------------------------------
def heldout_ids(corpus: CorpusRef, tc: TrainConfig) -> tuple:
    """(the encoded text's vocabulary, the held-out ids): the validation split train uses."""
    encoded = encode_corpus(corpus.path, corpus.encoding)
    _, val = split_stream(encoded.ids, tc.val_fraction, tc.batch_size * tc.seq_len + 1)
    return encoded.vocab, np.asarray(val, dtype=np.int64)


def compare_cells(corpus: CorpusRef, run_dirs: Dict[str, Path], model: GeneratorConfig,
                  tc: TrainConfig, match: str = "units", group: Optional[str] = None,
                  should_stop: Callable[[], bool] = lambda: False,
                  measure: Optional[dict] = None) -> Iterator[object]:
    """Train and measure each cell of ``run_dirs`` (cell -> new run folder) in turn, yielding
    CellStarted, the training loop's own events, CellMeasuring, CellDone and last
    ComparisonDone. ``measure``: keyword overrides for the measurements (tests: small)."""
    cells = list(run_dirs)
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise StudioError(f"cells must be among {', '.join(CELLS)}, not {', '.join(unknown)}")
    if tc.minutes is None and tc.epochs is None:
        raise StudioError("a comparison needs a budget: minutes or epochs")
    if "rnn" in cells and tc.precision != "fp32":
        if tc.precision == "bf16":
            raise StudioError("a comparison with the plain RNN trains in fp32: the plain RNN "
                              "has no bf16 layer here (use --precision fp32 or auto)")
        tc = tc.replace(precision="fp32")       # auto: the same arithmetic for every cell
    taken = [Path(d).name for d in run_dirs.values() if Path(d).exists()]
    if taken:
        raise StudioError(f"a run called {taken[0]} already exists; give the comparison "
                          f"another name")
    measure = measure or {}
    vocab, heldout = heldout_ids(corpus, tc)
    configs = matched_configs(cells, model, match, len(vocab))
    group = group or Path(run_dirs[cells[0]]).name.rsplit("-", 1)[0]
    results = {}
    for index, cell in enumerate(cells):
        if should_stop():
            break
        run_dir = run_dirs[cell]
        yield CellStarted(cell, index, len(cells), str(run_dir),
                          parameter_count(configs[cell], len(vocab)))
        rates, curve, finished = [], {}, None
        began = time.perf_counter()
        for ev in train_generator(run_dir, corpus, configs[cell], tc, should_stop=should_stop):
            if isinstance(ev, Progress) and ev.step > tc.log_interval:   # past the warm-up
                rates.append(ev.items_per_s)
            elif isinstance(ev, Validated):
                curve[ev.step] = ev.val_loss / LN2
            elif isinstance(ev, Finished):
                finished = ev
            yield ev
        trained_s = time.perf_counter() - began
        if finished is None or finished.reason == "stopped":
            break
        net, _, meta = load_generator(str(run_dir), "last")
        ctx = mx.cpu()
        row = {"run": str(run_dir), "hidden_size": configs[cell].hidden_size,
               **counted_structure(net),
               "parameters": int(sum(p.data().size for p in net.collect_params().values())),
               "chars_per_s": float(np.median(rates)) if rates else
               finished.step * tc.batch_size * tc.seq_len / max(trained_s, 1e-9),
               "steps": finished.step, "train_s": round(trained_s, 1),
               "validation_bits": curve}
        yield CellMeasuring(cell, "memory reach")
        t0 = time.perf_counter()
        reach = memory_reach(net, heldout, ctx, **measure.get("reach", {}))
        yield CellMeasuring(cell, "gradient flow")
        flow = gradient_flow(net, heldout, ctx, **measure.get("gradient", {}))
        closing = bracket_closing(net, vocab, heldout, ctx)
        row.update({"heldout_bits_per_char": reach["full"], "memory_reach": reach["reach"],
                    "memory_reach_bits": {str(d): b for d, b in reach["by_d"].items()},
                    "gradient_flow": {str(d): g for d, g in flow.items()},
                    "bracket_closing": closing,
                    "measure_s": round(time.perf_counter() - t0, 1)})
        results[cell] = row
        _mark_group(run_dir, group, cells, cell)
        yield CellDone(cell, row)
    if len(results) == len(cells):
        at_equal_steps(results)
        yield ComparisonDone({"cells": results, "group": group, "match": match,
                              "corpus": corpus.name, "budget_minutes": tc.minutes,
                              "epochs": tc.epochs, "seed": tc.seed, "verdicts": verdicts(results),
                              "heldout_chars": len(heldout)})


def _mark_group(run_dir, group: str, cells: List[str], cell: str):
    """The run's record says which comparison it belongs to (the Models tab groups by it)."""
    run = RunFolder(run_dir)
    meta = run.read_meta()
    meta.group = {"name": group, "kind": "compare", "cells": cells, "cell": cell}
    run.write_meta(meta)


def at_equal_steps(results: Dict[str, dict]):
    """Each cell's training bits per character (the mean over the log interval ending there,
    from its run's history) at the last logged step every cell reached: how much each learned
    per step, beside what each learned in the time. Validation runs too seldom in a short
    budget to share a step, so the training loss stands in (each cell's own stream of the
    same training text)."""
    curves = {}
    for cell, row in results.items():
        history = RunFolder(row["run"]).read_meta().history
        curves[cell] = {h["step"]: h["train_loss"] / LN2 for h in history
                        if h.get("train_loss") is not None}
    common = set.intersection(*(set(c) for c in curves.values()))
    if not common:
        return
    step = max(common)
    for cell, row in results.items():
        row["equal_steps"] = {"step": step, "train_bits_per_char": curves[cell][step]}


# ---- the claims ---------------------------------------------------------------------------
def _verdict(ok: Optional[bool]) -> str:
    return {True: "holds", False: "does not hold", None: "not measured"}[ok]


def verdicts(r: Dict[str, dict]) -> List[dict]:
    """The classic table's claims, each with what was measured and a plain verdict."""
    out = []

    def claim(name, text, measured, ok):
        out.append({"claim": name, "text": text, "measured": measured, "verdict": _verdict(ok)})

    if "lstm" in r:
        claim("gates", "LSTM: 3 gates (forget, input, output)",
              f"LSTM has {r['lstm']['gates']} gates", r["lstm"]["gates"] == 3)
        claim("memory cell", "LSTM: a separate cell and hidden state",
              f"LSTM carries {r['lstm']['states']} states per layer ({', '.join(r['lstm']['state_names'])})",
              r["lstm"]["states"] == 2)
    if "gru" in r:
        claim("gates", "GRU: 2 gates (update, reset)", f"GRU has {r['gru']['gates']} gates",
              r["gru"]["gates"] == 2)
        claim("memory cell", "GRU: no cell, one hidden state",
              f"GRU carries {r['gru']['states']} state per layer", r["gru"]["states"] == 1)
    if "lstm" in r and "gru" in r:
        lstm, gru = r["lstm"], r["gru"]
        ratio = lstm["parameters"] / gru["parameters"]
        claim("parameters", "LSTM has more parameters than GRU",
              f"LSTM {lstm['parameters']:,}, GRU {gru['parameters']:,} ({ratio:.2f}x)",
              lstm["parameters"] > gru["parameters"])
        speed = gru["chars_per_s"] / lstm["chars_per_s"]
        claim("training time", "GRU trains faster than LSTM",
              f"GRU trained {speed:.2f}x as many characters per second as LSTM here", speed > 1)
        diff = gru["heldout_bits_per_char"] - lstm["heldout_bits_per_char"]
        claim("performance", "LSTM better where long-term memory is needed; GRU similar on many "
              "tasks", f"held-out bits per character at the budget: LSTM "
              f"{lstm['heldout_bits_per_char']:.3f}, GRU {gru['heldout_bits_per_char']:.3f} "
              f"({'GRU' if diff > 0 else 'LSTM'} worse by {abs(diff):.3f})", abs(diff) < 0.05 or diff > 0)
        g50 = (lstm["gradient_flow"].get("50"), gru["gradient_flow"].get("50"))
        reach = (lstm["memory_reach"], gru["memory_reach"])
        claim("ability to remember", "LSTM better at long-term dependencies; GRU also, perhaps "
              "slightly less", f"memory reach LSTM {_chars(reach[0])}, GRU {_chars(reach[1])}; "
              f"gradient at d=50 LSTM {_g(g50[0])}, GRU {_g(g50[1])}",
              _reach_value(reach[0]) > _reach_value(reach[1]) or
              _reach_value(reach[0]) == _reach_value(reach[1]) and (g50[0] or 0) >= (g50[1] or 0))
    if "rnn" in r:
        plain = r["rnn"]
        gated = [c for c in ("lstm", "gru") if c in r]
        if gated:
            weaker = all((plain["gradient_flow"].get("50") or 0) < (r[c]["gradient_flow"].get("50") or 0)
                         for c in gated)
            shorter = all(_reach_value(plain["memory_reach"]) <= _reach_value(r[c]["memory_reach"])
                          for c in gated)
            worse = all(plain["heldout_bits_per_char"] > r[c]["heldout_bits_per_char"] for c in gated)
            parts = ", ".join(f"{c.upper()} {_g(r[c]['gradient_flow'].get('50'))}" for c in gated)
            claim("vanishing gradient", "a plain RNN cannot keep long-range dependencies (its "
                  "gradient vanishes); gates fix it",
                  f"gradient at d=50: RNN {_g(plain['gradient_flow'].get('50'))}, {parts}; memory "
                  f"reach RNN {_chars(plain['memory_reach'])}; held-out bits RNN "
                  f"{plain['heldout_bits_per_char']:.3f}", weaker and shorter and worse)
    return out


def _reach_value(reach: Optional[int]) -> float:
    return math.inf if reach is None else reach


def _chars(reach: Optional[int]) -> str:
    return f">{REACH_DS[-1]} characters" if reach is None else f"{reach} characters"


def _g(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2g}"


def table(result: dict) -> str:
    """The comparison as a plain-text table: one column per cell, one row per measure, then
    the claims and their verdicts."""
    cells = list(result["cells"])
    rows = [("gates", lambda c: str(c["gates"])),
            ("states per layer", lambda c: f"{c['states']} ({', '.join(c['state_names'])})"),
            ("hidden units", lambda c: str(c["hidden_size"])),
            ("parameters", lambda c: f"{c['parameters']:,}"),
            ("training chars/s", lambda c: f"{c['chars_per_s']:,.0f}"),
            ("steps in the budget", lambda c: f"{c['steps']:,}"),
            ("held-out bits/char", lambda c: f"{c['heldout_bits_per_char']:.3f}")]
    first = result["cells"][cells[0]]
    if "equal_steps" in first:
        rows.append((f"train bits/char at step {first['equal_steps']['step']:,}",
                     lambda c: f"{c['equal_steps']['train_bits_per_char']:.3f}"))
    rows.append(("memory reach", lambda c: _chars(c["memory_reach"])))
    for d in ("1", "16", "128", "512"):
        rows.append((f"  bits/char, state reset every {d}",
                     lambda c, d=d: f"{c['memory_reach_bits'].get(d, float('nan')):.3f}"))
    for d in ("10", "50", "100", "200"):
        if d in first["gradient_flow"]:
            rows.append((f"gradient at d={d} (vs d=0)",
                         lambda c, d=d: _g(c["gradient_flow"].get(d))))
    if any(result["cells"][c].get("bracket_closing") is not None for c in cells):
        rows.append(("p(a closer) at closers", lambda c: "n/a" if not c.get("bracket_closing")
                     else f"{c['bracket_closing']['closer_probability']:.2f}"))
        rows.append(("right closer likeliest", lambda c: "n/a" if not c.get("bracket_closing")
                     else f"{c['bracket_closing']['right_type']:.0%}"))
    width = max(len(name) for name, _ in rows) + 2
    col = 16
    lines = [" " * width + "".join(CELLS[c].title.rjust(col) for c in cells)]
    for name, fmt in rows:
        lines.append(name.ljust(width) + "".join(fmt(result["cells"][c]).rjust(col) for c in cells))
    lines.append("")
    for v in result["verdicts"]:
        lines.append(f"{v['claim']}: {v['text']}. Measured: {v['measured']}: {v['verdict']}")
    return "\n".join(lines)
