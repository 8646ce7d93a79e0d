"""Building the recipe curves (engine/generator/recipe_curves.json, read by recipes.py): how much a
training step of each candidate setting buys, on held-out text.

A budget in minutes buys a number of training steps that depends on the machine and on how busy
it is; what a step buys does not (a seeded run takes the same steps whatever the load or the
thread count). So the two are measured apart:

* ``curve`` (here, once, for the project): one long run per candidate on a training text,
  checkpointed every ``--every`` steps; after each checkpoint its parameters are loaded
  (``load_generator``) and scored on a held-out text (``evaluate_text``): bits per character by
  step, in ``WORK/curves/NAME.jsonl``. Runs resume: ``curve`` again with more ``--steps``
  trains the same run on.
* the speed (on every user's machine): engine/generator/speed_probe.py.
* ``export`` writes the curves, with each candidate's settings and its probed speed on the
  machine that measured the curves (the stand-in before a machine's own probe ran), to
  ``recipe_curves.json``; ``table`` prints what each budget would pick at given speeds.

With the built-in corpus and one play held out (``python -m corpora.holdout macbeth DIR``)::

    OMP_NUM_THREADS=1 python -m engine.generator.recipe_build curve lstm256-d0-lr4e-3 \\
        --train DIR/train.txt --heldout DIR/heldout.txt --work WORK --steps 4000 --every 200
    python -m engine.generator.recipe_build export --work WORK --measured-on "..."
    python -m engine.generator.recipe_build table [--threads 1]
"""
import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Tuple

from engine.config import GeneratorConfig, TrainConfig
from engine.generator.data import BPTTStream, encode_corpus, split_stream
from engine.events import Saved, Validated

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
    # for fast machines (bf16): wider and deeper models that a budget there can feed
    "lstm768-d0": ({"hidden_size": 768, "dropout": 0.0}, {}),
    "lstm768-d0-lr4e-3": ({"hidden_size": 768, "dropout": 0.0}, {"lr": 4e-3}),
    "gru768-d0": ({"mode": "gru", "hidden_size": 768, "dropout": 0.0}, {}),
    # item 4's question: does a bf16 machine's larger batch buy as much per character?
    "lstm512-d0-b128-lr4e-3": ({"dropout": 0.0}, {"batch_size": 128, "lr": 4e-3}),
    # the plain (tanh) RNN: the baseline without gates (fp32 only: precision.path_for_cell)
    "rnn512-d0": ({"mode": "rnn", "dropout": 0.0}, {}),
}
# name -> TrainConfig fields a candidate takes instead under the cosine (budgets of
# recipes.COSINE_FROM_MINUTES and more), where a ten-minute run measured them better than its
# curve's. The curves are run at a constant rate; a cosine shrinks the late steps anyway, so a
# larger rate pays in the early ones: ten minutes of the 2x768 reached, on held-out Macbeth,
# 1.997 bits per character at lr 4e-3 against 2.034 at its curve's 2e-3 on the Xeon with AMX
# (bf16, ~1,500 steps), and 2.133 against 2.212 on the EPYC with AVX512_BF16 (~570 steps)
# (README, "Ten minutes and more, held out").
UNDER_THE_COSINE: Dict[str, dict] = {
    "lstm768-d0": {"lr": 4e-3},
}
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


# ---- export and table ---------------------------------------------------------------------------
def export(work: Path, measured_on: str, out: Path, seconds: float):
    """``recipe_curves.json`` from WORK's curves (candidates without one are left out), each
    with its speed probed on this machine (the curves' machine) as the stand-in speed."""
    from engine.generator.speed_probe import measure
    from engine.storage.atomic import atomic_write_json
    found = {}
    for name in sorted(CANDIDATES):
        points = read_curve(work, name)
        if len(points) < 2:
            continue
        model, train = CANDIDATES[name]
        speed = measure(model, train, seconds)
        print(f"{name}: curve to step {points[-1]['step']}, {speed:,.0f} chars/s here", flush=True)
        found[name] = {"model": model, "train": train, "reference_speed": round(speed),
                       "curve": [[p["step"], round(p["heldout_bits"], 4)] for p in points]}
        if name in UNDER_THE_COSINE:
            found[name]["cosine_train"] = UNDER_THE_COSINE[name]
    atomic_write_json(out, {"measured_on": measured_on, "candidates": found})


def print_table(speeds: Dict[str, float], here: bool):
    """Per budget, what each candidate's curve reaches at the steps its speed buys, best first."""
    from engine.generator.recipes import (BUDGETS, MEASURED_CHARS, curve_at, curves, pick,
                                          steps_bought)
    print("| budget | candidate | chars/s | steps | held-out bits/char |")
    print("|---|---|---|---|---|")
    for minutes in BUDGETS:
        rows = []
        for name, c in curves().items():
            steps = steps_bought(minutes, speeds[name], TrainConfig(**c["train"]), MEASURED_CHARS)
            bits, past = curve_at(c["curve"], steps)
            rows.append((bits, name, steps, past))
        for bits, name, steps, past in sorted(rows):
            note = f" (extrapolated past {past})" if past else ""
            print(f"| {minutes} | {name} | {speeds[name]:,.0f} | {steps:,} | {bits:.3f}{note} |")
        print(f"recipe: {pick(minutes, speeds, here).describe()}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m engine.generator.recipe_build",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("curve", help="train one candidate, scoring the held-out text per checkpoint")
    c.add_argument("candidate", choices=sorted(CANDIDATES))
    c.add_argument("--train", required=True)
    c.add_argument("--heldout", required=True)
    c.add_argument("--steps", type=int, required=True)
    c.add_argument("--every", type=int, default=100, help="steps between checkpoints")
    e = sub.add_parser("export", help="write recipe_curves.json from the measured curves")
    e.add_argument("--measured-on", required=True, help="the held-out text and the machine")
    e.add_argument("--out", type=Path, default=Path(__file__).with_name("recipe_curves.json"))
    e.add_argument("--seconds", type=float, default=5.0, help="probe seconds per candidate")
    t = sub.add_parser("table", help="what each budget picks with this machine's probe")
    t.add_argument("--again", action="store_true", help="probe again")
    for p in (c, e):
        p.add_argument("--work", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.command == "curve":
        curve(args.candidate, args.train, args.heldout, args.work, args.steps, args.every)
    elif args.command == "export":
        export(args.work, args.measured_on, args.out, args.seconds)
    else:
        from engine.generator.recipes import ensure_probed
        print_table(ensure_probed(again=args.again), True)


if __name__ == "__main__":
    main()
