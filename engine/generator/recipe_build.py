"""Building the recipe table (engine/generator/recipes.py): which generator settings spend a time budget best.

A budget in minutes buys a number of training steps that depends on the machine and on how busy
it is; what a step buys does not (a seeded run takes the same steps whatever the load or the
thread count). So each candidate is measured in two separate parts:

* ``curve``: one long run per candidate on a training text, checkpointed every ``--every``
  steps; after each checkpoint its parameters are loaded (``load_generator``) and scored on a
  held-out text (``evaluate_text``). Load-proof: the curve is bits per character by step.
* ``speed``: short runs (``--steps`` each), each candidate's right after the default's, timed
  in CPU seconds with one thread (what the work costs whatever else runs): the candidate's speed
  relative to the default's, and the time a validation with its checkpoint takes (a time budget
  pays for those too). ``table`` turns these into chars/s on the quiet machine with the
  default's speed measured there (two threads, ``--default-speed``).
* ``table``: a candidate's quality at B minutes is its curve at the steps B minutes buy at its
  speed; per budget, the best candidate. Prints the README's table and ``RECIPES``.

With the built-in corpus and one play held out (``python -m corpora.holdout macbeth DIR``)::

    python -m engine.generator.recipe_build curve lstm512-d0 \\
        --train DIR/train.txt --heldout DIR/heldout.txt \\
        --work WORK --steps 1200
    OMP_NUM_THREADS=1 python -m engine.generator.recipe_build speed --train DIR/train.txt --work WORK
    python -m engine.generator.recipe_build table --work WORK

Runs resume: ``curve`` again with more ``--steps`` trains the same run on.
"""
import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from engine.config import GeneratorConfig, TrainConfig
from engine.generator.data import BPTTStream, encode_corpus, split_stream
from engine.events import Progress, Saved, Validated

# name -> (GeneratorConfig fields, TrainConfig fields) that differ from the defaults
CANDIDATES: Dict[str, Tuple[dict, dict]] = {
    "lstm512": ({}, {}),                                          # today's default
    "lstm512-d0": ({"dropout": 0.0}, {}),
    "lstm512-d0-lr4e-3": ({"dropout": 0.0}, {"lr": 4e-3}),
    "lstm512-d0-b32": ({"dropout": 0.0}, {"batch_size": 32}),
    "lstm512-d0-b32-lr4e-3": ({"dropout": 0.0}, {"batch_size": 32, "lr": 4e-3}),
    "gru512-d0-b32-lr4e-3": ({"mode": "gru", "dropout": 0.0}, {"batch_size": 32, "lr": 4e-3}),
    "lstm512-d0-s50": ({"dropout": 0.0}, {"seq_len": 50}),
    "lstm256-d0-lr4e-3": ({"hidden_size": 256, "dropout": 0.0}, {"lr": 4e-3}),
    "gru512-d0": ({"mode": "gru", "dropout": 0.0}, {}),
    "gru512-d0-lr4e-3": ({"mode": "gru", "dropout": 0.0}, {"lr": 4e-3}),
    "lstm1x768-d0": ({"num_layers": 1, "hidden_size": 768, "dropout": 0.0}, {}),
    "lstm3x512-d0": ({"num_layers": 3, "dropout": 0.0}, {}),
    # the plain (tanh) RNN: the baseline without gates (fp32 only: precision.path_for_cell)
    "rnn512-d0": ({"mode": "rnn", "dropout": 0.0}, {}),
}
DEFAULT = "lstm512"
BUDGETS = (2, 10, 30)                        # minutes
CURVE_VAL_FRACTION = 0.005                   # the curve runs' own validation: small, as the
                                             # held-out text is what they are judged on


SPEED_FREE = ("lr", "lr_decay", "warmup_steps", "clip", "weight_decay")   # no effect on speed


def speed_twin(name: str, measured) -> Optional[str]:
    """``name`` itself if its speed was measured, else a measured candidate that differs from
    it only in settings that cost no time (the learning rate, ...)."""
    if name in measured:
        return name

    def shape(n):
        model, train = CANDIDATES[n]
        return model, {k: v for k, v in train.items() if k not in SPEED_FREE}
    return next((m for m in sorted(measured) if shape(m) == shape(name)), None)


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
    from engine.generator.evaluate import evaluate_text
    from engine.generator.load import load_generator
    from engine.generator.train import CorpusRef, train_generator

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
def speed_once(name: str, train_path: str, work: Path, steps: int, validate: bool) -> dict:
    """``steps`` training steps with the candidate's settings: chars per second of the clock
    and per CPU second, by log interval after the first (which pays for building the model);
    with ``validate``, also the clock and CPU seconds of a validation with its checkpoint.

    With one thread (``OMP_NUM_THREADS=1``) the CPU seconds are what the work costs whatever
    else runs: the measure that survives a busy machine."""
    import shutil

    from engine.generator.train import CorpusRef, train_generator

    run_dir = work / "speed" / name
    shutil.rmtree(run_dir, ignore_errors=True)
    mc, tc = configs(name, log_interval=3, val_interval=10 ** 9, sample_length=0)
    # the loop validates after its last step: without ``validate`` the run is stopped first
    last = steps if validate else steps + tc.log_interval
    tc = tc.replace(epochs=max(0.01, (last - 0.5) / steps_per_epoch(train_path, tc)))
    chars_per_step = tc.batch_size * tc.seq_len
    wall, cpu, marks, measured = [], [], None, {"chars_per_step": chars_per_step}
    done = [0]
    events = train_generator(run_dir, CorpusRef(train_path, "train"), mc, tc,
                             should_stop=lambda: not validate and done[0] >= steps)
    for event in events:
        now = (time.time(), time.process_time())
        if isinstance(event, Progress):
            done[0] = event.step
            if marks is not None:
                chars = (event.step - marks[2]) * chars_per_step
                wall.append(chars / (now[0] - marks[0]))
                cpu.append(chars / (now[1] - marks[1]))
            marks = (*now, event.step)
        elif isinstance(event, Validated):
            measured.update(val_seconds=now[0] - marks[0], val_cpu_seconds=now[1] - marks[1])
    shutil.rmtree(run_dir, ignore_errors=True)
    return dict(measured, chars_per_s=statistics.median(wall),
                chars_per_cpu_s=statistics.median(cpu))


def speed(names: List[str], train_path: str, work: Path, steps: int, rounds: int):
    """Each candidate right after the default, ``rounds`` times (the default's first run also
    times a validation: it costs as much as a hundred batches); appends one JSON line per pair
    to ``WORK/speed.jsonl``, with the load average."""
    import os
    out = work / "speed.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    for round in range(rounds):
        for i, name in enumerate(names):
            load = os.getloadavg()[0]
            base = speed_once(DEFAULT, train_path, work, steps, validate=round == i == 0)
            cand = base if name == DEFAULT else speed_once(name, train_path, work, steps, False)
            row = {"candidate": name, "load1": load, "default": base, "measured": cand,
                   "threads": os.environ.get("OMP_NUM_THREADS"), "when": time.strftime("%H:%M:%S")}
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


def speeds(work: Path, default_chars_per_s: float) -> Dict[str, dict]:
    """Per candidate: its speed relative to the default's (the median over its pairs, by CPU
    seconds), times ``default_chars_per_s``, the default's speed on the quiet machine. The
    seconds a validation takes: the default's, measured in CPU seconds and turned into the
    quiet machine's by the same speed-up as training, then scaled by the candidate's speed (a
    validation is a hundred batches: the same forward work per character as training's, so it
    scales with the candidate's speed and its batch's characters)."""
    path = work / "speed.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    rows = [r for r in rows if r["threads"] == "1"]         # CPU seconds mean work done
    if not rows:
        return {}
    speedup = default_chars_per_s / statistics.median(r["default"]["chars_per_cpu_s"] for r in rows)
    default_val = statistics.median(r["default"]["val_cpu_seconds"] for r in rows
                                    if "val_cpu_seconds" in r["default"]) / speedup
    result = {}
    for name in {r["candidate"] for r in rows}:
        mine = [r for r in rows if r["candidate"] == name]
        ratio = statistics.median(r["measured"]["chars_per_cpu_s"] / r["default"]["chars_per_cpu_s"]
                                  for r in mine)
        result[name] = {"chars_per_s": default_chars_per_s * ratio, "ratio": ratio,
                        "val_seconds": default_val / ratio * mine[0]["measured"]["chars_per_step"]
                        / mine[0]["default"]["chars_per_step"],
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


def table(work: Path, default_chars_per_s: float) -> List[dict]:
    """Per budget and candidate: steps bought and held-out bits per character reached."""
    rows, measured = [], speeds(work, default_chars_per_s)
    for name in sorted(CANDIDATES):
        twin = speed_twin(name, measured)
        if twin is None:
            continue
        sp = measured[twin]
        _, tc = configs(name)
        points = read_curve(work, name)
        for minutes in BUDGETS:
            steps = steps_in(minutes, sp["chars_per_s"], sp["chars_per_step"], sp["val_seconds"],
                             tc.val_interval)
            rows.append({"minutes": minutes, "candidate": name, "steps": steps,
                         "chars_per_s": sp["chars_per_s"], "bits": bits_at(points, steps),
                         "measured_to": points[-1]["step"] if points else 0})
    return rows


def print_table(work: Path, default_chars_per_s: float):
    rows = table(work, default_chars_per_s)
    print("| budget | candidate | chars/s | steps | held-out bits/char |")
    print("|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["minutes"], r["bits"] or math.inf)):
        bits = f"{r['bits']:.3f}" if r["bits"] is not None else f"(curve ends at {r['measured_to']})"
        print(f"| {r['minutes']} | {r['candidate']} | {r['chars_per_s']:,.0f} | {r['steps']} | {bits} |")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m engine.generator.recipe_build",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("curve", help="train one candidate, scoring the held-out text per checkpoint")
    c.add_argument("candidate", choices=sorted(CANDIDATES))
    c.add_argument("--heldout", required=True)
    c.add_argument("--steps", type=int, required=True)
    c.add_argument("--every", type=int, default=100, help="steps between checkpoints")
    s = sub.add_parser("speed", help="short speed runs, each after the default's")
    s.add_argument("candidates", nargs="*", help="default: all")
    s.add_argument("--steps", type=int, default=15)
    s.add_argument("--rounds", type=int, default=1)
    t = sub.add_parser("table", help="the best candidate per budget")
    t.add_argument("--default-speed", type=float, required=True, metavar="CHARS_PER_S",
                   help="the default settings' training chars/s on this machine when quiet "
                   "(two threads)")
    for p in (c, s):
        p.add_argument("--train", required=True)
    for p in (c, s, t):
        p.add_argument("--work", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.command == "curve":
        curve(args.candidate, args.train, args.heldout, args.work, args.steps, args.every)
    elif args.command == "speed":
        speed(args.candidates or list(CANDIDATES), args.train, args.work, args.steps, args.rounds)
    else:
        print_table(args.work, args.default_speed)


if __name__ == "__main__":
    main()
