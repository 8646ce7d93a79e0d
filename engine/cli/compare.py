"""``rnn-studio generator compare``: the cells trained one after another on the same text, split,
seed and budget, then the table of the classic claims (engine/generator/compare.py)."""
import json
import sys

from engine.cli.settings import add_settings, given_settings, settings_from
from engine.config import GeneratorConfig, TrainConfig
from engine.errors import StudioError

DEFAULT_MINUTES = 10.0      # per cell, as the table asks, when no budget is given


def add_compare_command(gsub, stop_flag):
    c = gsub.add_parser("compare", help="train LSTM, GRU and the plain RNN on the same text "
                        "and budget, then measure the classic claims (speed, loss, memory "
                        "reach, gradient flow)")
    c.add_argument("--corpus", required=True, metavar="NAME|FILE",
                   help="built-in corpus (e.g. shakespeare, planted-brackets) or a text file")
    c.add_argument("--encoding", default="utf-8")
    c.add_argument("--out", required=True, metavar="NAME", help="the comparison's name: its "
                   "runs are NAME-lstm, NAME-gru, NAME-rnn")
    c.add_argument("--cells", default="lstm,gru,rnn", help="the cells to compare, in order "
                   "(comma-separated; default all three)")
    c.add_argument("--match", choices=("units", "params"), default="units", help="units: the "
                   "same hidden size; params: hidden sizes giving the first cell's parameters")
    c.add_argument("--json", action="store_true", help="print the result as one JSON object")
    c.add_argument("--quiet", action="store_true", help="no progress")
    add_settings(c, GeneratorConfig, skip=("mode",))
    add_settings(c, TrainConfig, "generator")
    c.set_defaults(func=lambda args: cmd_generator_compare(args, stop_flag))


def cmd_generator_compare(args, stop_flag):
    import corpora
    from engine.events import Finished, Progress, Validated
    from engine.generator.compare import (CellDone, CellMeasuring, CellStarted, ComparisonDone,
                                          compare_cells, table)
    from engine.generator.train import CorpusRef
    from engine.storage.runs import resolve_run
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    if len(set(cells)) != len(cells):
        raise StudioError(f"--cells names a cell twice: {args.cells}")
    path, name = corpora.resolve_text_source(args.corpus)
    model = settings_from(GeneratorConfig, args)
    train = settings_from(TrainConfig, args, "generator")
    given = given_settings(args)
    if "epochs" not in given:           # a time budget alone: the minutes bound every cell
        train = train.replace(epochs=None, minutes=train.minutes if "minutes" in given
                              else DEFAULT_MINUTES)
    run_dirs = {c: resolve_run(f"{args.out}-{c}", must_exist=False) for c in cells}
    events = compare_cells(CorpusRef(str(path), name, args.encoding), run_dirs, model, train,
                           match=args.match, group=args.out, should_stop=stop_flag().install())
    say = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, file=sys.stderr, **k))
    result, current = None, None
    for ev in events:
        if isinstance(ev, CellStarted):
            current = ev.cell
            say(f"cell {ev.index + 1}/{ev.count}: {ev.cell} ({ev.parameters:,} parameters), "
                f"run {ev.run_dir}")
        elif isinstance(ev, Progress):
            say(f"\r  {current} step {ev.step:,}: loss {ev.train_loss:.3f}, "
                f"{ev.items_per_s:,.0f} chars/s", end="")
        elif isinstance(ev, Validated):
            say(f"\r  {current} step {ev.step:,}: validation {ev.metrics.get('bits_per_char', 0):.3f} "
                "bits/char")
        elif isinstance(ev, Finished):
            say(f"\r  {current}: {ev.reason} at step {ev.step:,} after {ev.elapsed_s:.0f} s")
        elif isinstance(ev, CellMeasuring):
            say(f"  {ev.cell}: measuring {ev.what}")
        elif isinstance(ev, CellDone):
            say(f"  {ev.cell}: held-out {ev.result['heldout_bits_per_char']:.3f} bits/char "
                f"(measured in {ev.result['measure_s']:.0f} s)")
        elif isinstance(ev, ComparisonDone):
            result = ev.result
    if result is None:
        raise StudioError("stopped before every cell was trained and measured; the runs "
                          "trained so far are kept")
    print(json.dumps(result, indent=2) if args.json else table(result))
