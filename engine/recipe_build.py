"""Building the recipe table (engine/recipe.py): which generator settings spend a time budget best.

A budget in minutes buys a number of training steps that depends on the machine and on how busy
it is; what a step buys does not (a seeded run takes the same steps whatever the load or the
thread count). So each candidate is measured in two separate parts:

* ``curve``: one long run per candidate on a training text, checkpointed every ``--every``
  steps; after each checkpoint its parameters are loaded (``load_generator``) and scored on a
  held-out text (``evaluate_text``). Load-proof: the curve is bits per character by step.
* ``speed``: short runs (``--seconds`` each) at a quiet moment, interleaved with the default
  settings so that a busy moment shows in both: training chars/s and the seconds one validation
  with its checkpoint takes (a time budget pays for those too).
* ``table``: a candidate's quality at B minutes is its curve at the steps B minutes buy at its
  speed; per budget, the best candidate. Prints the README's table and ``RECIPES``.

With the built-in corpus and one play held out (``python -m corpora.holdout macbeth DIR``)::

    python -m engine.recipe_build curve lstm512-d0 --train DIR/train.txt --heldout DIR/heldout.txt \\
        --work WORK --steps 1200
    python -m engine.recipe_build speed --train DIR/train.txt --work WORK --seconds 30
    python -m engine.recipe_build table --work WORK

Runs resume: ``curve`` again with more ``--steps`` trains the same run on.
"""
import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .config import GeneratorConfig, TrainConfig
from .data import BPTTStream, encode_corpus, split_stream
from .events import Progress, Saved, Validated

# name -> (GeneratorConfig fields, TrainConfig fields) that differ from the defaults
CANDIDATES: Dict[str, Tuple[dict, dict]] = {
    "lstm512": ({}, {}),                                          # today's default
    "lstm512-d0": ({"dropout": 0.0}, {}),
    "lstm512-d0-lr4e-3": ({"dropout": 0.0}, {"lr": 4e-3}),
    "lstm512-d0-b32": ({"dropout": 0.0}, {"batch_size": 32}),
    "lstm512-d0-s50": ({"dropout": 0.0}, {"seq_len": 50}),
    "lstm256-d0-lr4e-3": ({"hidden_size": 256, "dropout": 0.0}, {"lr": 4e-3}),
    "gru512-d0": ({"mode": "gru", "dropout": 0.0}, {}),
    "lstm1x768-d0": ({"num_layers": 1, "hidden_size": 768, "dropout": 0.0}, {}),
    "lstm3x512-d0": ({"num_layers": 3, "dropout": 0.0}, {}),
}
DEFAULT = "lstm512"
BUDGETS = (2, 10, 30)                        # minutes
CURVE_VAL_FRACTION = 0.005                   # the curve runs' own validation: small, as the
                                             # held-out text is what they are judged on


def configs(name: str, **train_changes) -> Tuple[GeneratorConfig, TrainConfig]:
    model, train = CANDIDATES[name]
    return GeneratorConfig(**model), TrainConfig(**dict(train, **train_changes))


def steps_per_epoch(path: str, tc: TrainConfig) -> int:
    """The training stream's batches per epoch, as the generator's task cuts it."""
    ids = encode_corpus(path).ids
    train_ids, _ = split_stream(ids, tc.val_fraction, tc.batch_size * tc.seq_len + 1)
    return BPTTStream(train_ids, tc.batch_size, tc.seq_len).num_batches


# ---- curve --------------------------------------------------------------------------------------
def curve(name: str, train_path: str, heldout_path: str, work: Path, steps: int, every: int):
    """Train candidate ``name`` to ``steps`` (on from where its run stopped), scoring the held-out
    text after every checkpoint; appends {step, epoch, heldout_bits, val_bits} lines to
    ``WORK/curves/NAME.jsonl``."""
    from .generator.evaluate import evaluate_text
    from .generator.load import load_generator
    from .generator.train import CorpusRef, train_generator

    run_dir = work / "runs" / name
    out = work / "curves" / f"{name}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    resume = (run_dir / "meta.json").exists()
    mc, tc = configs(name, val_fraction=CURVE_VAL_FRACTION, val_interval=every,
                     sample_length=0, log_interval=10)
    per_epoch = steps_per_epoch(train_path, tc)
    tc = tc.replace(epochs=(steps - 0.5) / per_epoch)          # exactly ``steps`` steps
    done = {json.loads(line)["step"] for line in out.read_text().splitlines()} if out.exists() else set()
    val_bits = None
    events = train_generator(run_dir, CorpusRef(train_path, "train"), mc, tc, resume=resume)
    for event in events:
        if isinstance(event, Validated):
            val_bits = event.metrics.get("bits_per_char")
        if isinstance(event, Saved) and event.step not in done:
            model, vocab, meta = load_generator(str(run_dir), "last")
            scored = evaluate_text(model, vocab, heldout_path)
            row = {"step": event.step, "epoch": event.step / per_epoch,
                   "heldout_bits": scored["bits_per_char"], "val_bits": val_bits,
                   "oov_chars": scored["oov_chars"], "when": time.strftime("%H:%M:%S")}
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(dict(row, candidate=name)), flush=True)
            done.add(event.step)


def read_curve(work: Path, name: str) -> List[dict]:
    path = work / "curves" / f"{name}.jsonl"
    if not path.exists():
        return []
    rows = {r["step"]: r for r in map(json.loads, path.read_text().splitlines())}
    return [rows[s] for s in sorted(rows)]


def bits_at(points: List[dict], step: float) -> Optional[float]:
    """The held-out bits per character at ``step``, linear between measured checkpoints (None
    past the last one: not extrapolated)."""
    for a, b in zip(points, points[1:]):
        if a["step"] <= step <= b["step"]:
            share = (step - a["step"]) / (b["step"] - a["step"])
            return a["heldout_bits"] + share * (b["heldout_bits"] - a["heldout_bits"])
    return None


# ---- speed --------------------------------------------------------------------------------------
def speed_once(name: str, train_path: str, work: Path, seconds: float) -> dict:
    """One short run with the candidate's real settings (validation included): training chars/s
    (after the first log interval, which pays for building the model) and the seconds its
    closing validation with its checkpoint took."""
    import shutil

    from .generator.train import CorpusRef, train_generator

    run_dir = work / "speed" / name
    shutil.rmtree(run_dir, ignore_errors=True)
    mc, tc = configs(name, minutes=seconds / 60, epochs=None, log_interval=5,
                     val_interval=10 ** 9, sample_length=0)
    rates, last, validation = [], None, None
    for event in train_generator(run_dir, CorpusRef(train_path, "train"), mc, tc):
        now = time.time()
        if isinstance(event, Progress):
            rates.append(event.items_per_s)
            last = now
        elif isinstance(event, Validated) and last is not None:
            validation = now - last
    shutil.rmtree(run_dir, ignore_errors=True)
    chars_per_s = statistics.median(rates[1:]) if len(rates) > 1 else None
    return {"chars_per_s": chars_per_s, "val_seconds": validation,
            "chars_per_step": tc.batch_size * tc.seq_len}


def speed(names: List[str], train_path: str, work: Path, seconds: float, rounds: int):
    """Each candidate right after the default, ``rounds`` times; appends one JSON line per pair
    to ``WORK/speed.jsonl`` (with the load average, to pick the quiet rounds)."""
    import os
    out = work / "speed.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(rounds):
        for name in names:
            load = os.getloadavg()[0]
            base = speed_once(DEFAULT, train_path, work, seconds)
            cand = base if name == DEFAULT else speed_once(name, train_path, work, seconds)
            row = {"candidate": name, "load1": load, "default": base, "measured": cand,
                   "threads": os.environ.get("OMP_NUM_THREADS"), "when": time.strftime("%H:%M:%S")}
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


def speeds(work: Path) -> Dict[str, dict]:
    """Per candidate: its chars/s relative to the default's (median over its pairs), the
    default's best chars/s of all rounds (the quiet machine), and the validation seconds
    scaled alike."""
    path = work / "speed.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    best_default = max((r["default"]["chars_per_s"] for r in rows), default=None)
    best_default_val = min((r["default"]["val_seconds"] for r in rows
                            if r["default"]["val_seconds"]), default=None)
    result = {}
    for name in {r["candidate"] for r in rows}:
        mine = [r for r in rows if r["candidate"] == name]
        ratio = statistics.median(r["measured"]["chars_per_s"] / r["default"]["chars_per_s"]
                                  for r in mine)
        val_ratio = statistics.median(r["measured"]["val_seconds"] / r["default"]["val_seconds"]
                                      for r in mine)
        result[name] = {"chars_per_s": best_default * ratio, "ratio": ratio,
                        "val_seconds": best_default_val * val_ratio,
                        "chars_per_step": mine[0]["measured"]["chars_per_step"], "pairs": len(mine)}
    return result


# ---- table --------------------------------------------------------------------------------------
def steps_in(minutes: float, chars_per_s: float, chars_per_step: int, val_seconds: float,
             val_interval: int) -> int:
    """Training steps a ``--minutes`` run gets: steps at the measured rate, and a validation
    with its checkpoint every ``val_interval`` steps, all inside the budget."""
    step_seconds = chars_per_step / chars_per_s
    budget, step = minutes * 60, 0
    while budget >= step_seconds:
        budget -= step_seconds
        step += 1
        if step % val_interval == 0:
            budget -= val_seconds
    return step


def table(work: Path) -> List[dict]:
    """Per budget and candidate: steps bought and held-out bits per character reached."""
    rows = []
    for name, sp in sorted(speeds(work).items()):
        mc, tc = configs(name)
        points = read_curve(work, name)
        for minutes in BUDGETS:
            steps = steps_in(minutes, sp["chars_per_s"], sp["chars_per_step"], sp["val_seconds"],
                             tc.val_interval)
            rows.append({"minutes": minutes, "candidate": name, "steps": steps,
                         "chars_per_s": sp["chars_per_s"], "bits": bits_at(points, steps),
                         "measured_to": points[-1]["step"] if points else 0})
    return rows


def print_table(work: Path):
    rows = table(work)
    print("| budget | candidate | chars/s | steps | held-out bits/char |")
    print("|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["minutes"], r["bits"] or math.inf)):
        bits = f"{r['bits']:.3f}" if r["bits"] is not None else f"(curve ends at {r['measured_to']})"
        print(f"| {r['minutes']} | {r['candidate']} | {r['chars_per_s']:,.0f} | {r['steps']} | {bits} |")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m engine.recipe_build",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("curve", help="train one candidate, scoring the held-out text per checkpoint")
    c.add_argument("candidate", choices=sorted(CANDIDATES))
    c.add_argument("--heldout", required=True)
    c.add_argument("--steps", type=int, required=True)
    c.add_argument("--every", type=int, default=100, help="steps between checkpoints")
    s = sub.add_parser("speed", help="short speed runs, each after the default's")
    s.add_argument("candidates", nargs="*", help="default: all")
    s.add_argument("--seconds", type=float, default=30)
    s.add_argument("--rounds", type=int, default=1)
    t = sub.add_parser("table", help="the best candidate per budget")
    for p in (c, s):
        p.add_argument("--train", required=True)
    for p in (c, s, t):
        p.add_argument("--work", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.command == "curve":
        curve(args.candidate, args.train, args.heldout, args.work, args.steps, args.every)
    elif args.command == "speed":
        speed(args.candidates or list(CANDIDATES), args.train, args.work, args.seconds, args.rounds)
    else:
        print_table(args.work)


if __name__ == "__main__":
    main()
