"""The ``rnn-studio`` command: a thin layer that builds configs, calls the engine, renders events.

Every command exits non-zero with a one-line message (no traceback) on bad input.
"""
import argparse
import json
import os
import signal
import sys
import threading

from engine.cli.compare import add_compare_command
from engine.cli.inside import add_inside_commands
from engine.cli.kind_commands import KindCommands, commands_of
from engine.cli.settings import add_settings, given_settings, settings_from
from engine.config import DEFAULT_SENTIMENT_DATA, SamplingConfig  # no MXNet in these
from engine.errors import StudioError
from engine.kinds import kind_of


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ---- corpora ------------------------------------------------------------------------------------
def cmd_corpora(args):
    import corpora
    if args.action == "list":
        for c in corpora.list_corpora():
            state = f"built, {c['size']:,} bytes" if c["built"] else "not built"
            print(f"{c['name']:<16} {c['kind']:<8} {state:<24} {c['description']}")
    elif args.action == "build":
        names = sorted(corpora.REGISTRY) if args.name == "all" else [args.name]
        for name in names:
            path = corpora.build(name, force=args.force)
            info = corpora.built_info(name)
            print(f"{name}: {path} ({info['size']:,} bytes, sha256 {info['sha256'][:16]}…)")
    else:
        print(corpora.corpus_path(args.name, build_missing=False))


# ---- training rendering -------------------------------------------------------------------------
class StopFlag:
    """Set by the first stop signal (Ctrl-C, SIGTERM, SIGHUP: stop_signals.py): training stops
    at the next step, saves and exits; a second one aborts."""

    def __init__(self, then: str = "saving the checkpoint"):
        self.event = threading.Event()
        self.then = then                  # what stopping does, said when the signal comes

    def install(self):
        from engine.cli.stop_signals import STOP_SIGNALS, after_hangup, say, signal_name

        def handler(signum, frame):
            if self.event.is_set():
                raise KeyboardInterrupt
            self.event.set()
            say(f"\nstopping ({signal_name(signum)}): {self.then} (Ctrl-C again to abort)…")
            after_hangup(signum)
        for signum in STOP_SIGNALS:
            signal.signal(signum, handler)
        return self

    def __call__(self):
        return self.event.is_set()


def render_training(events, kind, quiet: bool = False):
    """Show training events: a tqdm bar (step, loss, val loss, rate, ETA) and samples, each loss
    in the unit the kind shows it in (bits per character for a generator, as in the app)."""
    from tqdm import tqdm

    from engine.events import Finished, Progress, SampleReady, Started, Validated

    def loss(nats: float, digits: int) -> str:
        return f"{kind.loss_shown(nats):.{digits}f}{kind.loss_short}"

    bar, last_val, finished = None, None, None
    for ev in events:
        if isinstance(ev, Started):
            facts = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in ev.info.items())
            print(f"run {ev.run_dir}: {ev.parameters:,} parameters; {facts}", file=sys.stderr)
            bar = tqdm(total=ev.total_steps, initial=ev.start_step, unit="step", disable=quiet,
                       dynamic_ncols=True, file=sys.stderr)
        elif isinstance(ev, Progress):
            bar.update(ev.step - bar.n)
            post = {"loss": loss(ev.train_loss, 3), f"{kind.speed_unit}/s": f"{ev.items_per_s:,.0f}"}
            post.update({k: f"{v:.3f}" for k, v in ev.metrics.items()})
            if last_val is not None:
                post["val"] = loss(last_val, 3)
            if ev.total_steps is None and ev.eta_s is not None:     # time budget: tqdm has no ETA
                post["eta"] = f"{int(ev.eta_s) // 60}:{int(ev.eta_s) % 60:02d}"
            bar.set_postfix(post, refresh=True)
        elif isinstance(ev, Validated):
            last_val = ev.val_loss
            extra = "".join(f" {k} {v:.3f}" for k, v in ev.metrics.items()
                            if not (kind.loss_in_bits and k == "bits_per_char"))  # said already
            bar.write(f"step {ev.step}: validation loss {loss(ev.val_loss, 4)}{extra}"
                      f"{' (best)' if ev.is_best else ''}")
        elif isinstance(ev, SampleReady):
            copied = "" if ev.copied_share is None else \
                f" ({ev.copied_share:.0%} of 20-character windows copied from the text)"
            bar.write(f"---- sample{copied} ----\n" + ev.text.strip("\n") + "\n----------------")
        elif isinstance(ev, Finished):
            finished = ev
    if bar is not None:
        bar.close()
    if finished is not None:
        best = f", best validation loss {loss(finished.best_val_loss, 4)}" \
            if finished.best_val_loss else ""
        print(f"{finished.reason} at step {finished.step} after {finished.elapsed_s:.0f}s{best}; "
              f"saved in {finished.run_dir}", file=sys.stderr)
    return finished


def train_through_plan(args, kind, source=None):
    """``<kind> train``: the settings from the flags, through the engine's one plan for a
    training (engine/training/plan.py: the run, the resume refusal, the recipe, the data
    reference), then the trainer's events rendered as progress."""
    from engine.training.plan import plan_training
    plan = plan_training(kind, args.out, settings_from(kind.model_config, args),
                         settings_from(kind.train_config, args, kind.name), resume=args.resume,
                         given=given_settings(args), source=source,
                         recipe=bool(getattr(args, "recipe", None)),
                         probe_progress=None if args.quiet else probe_progress)
    if plan.recipe is not None:
        print(f"recipe: {plan.recipe.describe()}", file=sys.stderr)
    return render_training(plan.events(StopFlag().install()), kind, args.quiet)


def probe_progress(done: int, total: int, name: str):
    """The recipe probe's progress, one line per candidate (engine/generator/speed_probe.py)."""
    if name:
        print(f"measuring this machine's training speed for the recipes ({done + 1}/{total}: "
              f"{name})", file=sys.stderr, flush=True)


# ---- generator ----------------------------------------------------------------------------------
def cmd_generator_recipe(args):
    """The recipe each budget picks here, from this machine's probed speeds (measured now when
    there are none, or with --again) and the candidates' curves."""
    from engine.config import TrainConfig
    from engine.generator import recipes, speed_probe
    # a budget is checked as training checks --minutes, before anything is measured
    budgets = [TrainConfig(minutes=m).minutes for m in args.minutes or recipes.BUDGETS]
    speeds = recipes.ensure_probed(None if args.json else probe_progress, again=args.again)
    cached = speed_probe.read_cache()
    picked = [recipes.recipe_for(m, args.text_chars, speeds) for m in budgets]
    if args.json:
        print(json.dumps({"machine": cached.get("key"), "measured": cached.get("when"),
                          "speeds": speeds,
                          "recipes": [{"minutes": r.minutes, "name": r.name, "model": r.model,
                                       "train": r.train, "precision": r.precision,
                                       "chars_per_s": r.chars_per_s, "steps": r.steps,
                                       "expected_bits": r.bits_per_char[1] or None,
                                       "extrapolated_from": r.extrapolated_from,
                                       "line": r.describe()} for r in picked]}))
        return
    key = cached.get("key") or {}
    print(f"this machine: {key.get('cpu')}, {key.get('threads')} threads, {key.get('precision')}"
          f" (measured {cached.get('when')})")
    for name, speed in sorted(speeds.items(), key=lambda item: -item[1]):
        print(f"  {name:<22} {speed:>9,.0f} chars/s")
    for recipe in picked:
        print(f"recipe: {recipe.describe()}")


def _generator_data(args):
    from engine.training.plan import DataSource
    import corpora
    if args.corpus:
        path, name = corpora.resolve_text_source(args.corpus)
        return DataSource(str(path), name, {"encoding": args.encoding})
    if not args.resume:
        raise_usage("generator train needs --corpus NAME|FILE")
    return None


def _generator_data_options(t):
    t.add_argument("--corpus", metavar="NAME|FILE", help="built-in corpus or a UTF-8 text file")
    t.add_argument("--encoding", default="utf-8", help="text encoding of --corpus FILE")


def cmd_generator_sample(args):
    from engine.training.device import parse_ctx
    from engine.generator.sampling.grid import AXES, make_grid, parse_values, sample_grid
    from engine.generator.load import load_generator
    from engine.generator.sampling.sample import Sampler
    from engine.generator.sampling.steer import Judge, parse_steer
    values = {name: parse_values(getattr(args, name), name)
              if isinstance(getattr(args, name), str) else [getattr(args, name)] for name in AXES}
    base = settings_from(SamplingConfig, args, prime=args.prime or "",
                         **{name: values[name][0] for name in AXES})
    cells = make_grid(base, values)
    steer_ref = parse_steer(args.steer) if args.steer else None
    ctx = parse_ctx(args.ctx)
    steer = Judge.load(*steer_ref, ctx=ctx) if steer_ref else None
    score = None
    if args.score:
        score = Judge(steer.predictor) if steer and args.score == steer_ref[0] \
            else Judge.load(args.score, ctx=ctx)
    model, vocab, _ = load_generator(args.run, args.checkpoint, ctx)
    sampler = Sampler(model, vocab, ctx)
    sampler.check_prime(base.prime)
    stop = StopFlag("keeping what was drawn").install()
    if len(cells) == 1 and not (args.json or steer or score):
        _stream_sample(sampler, base, stop, args.no_newline)
        return
    results = sample_grid(sampler, cells, steer, score, stop)
    for r in results:
        if args.json:
            print(json.dumps(r.to_dict()))
            continue
        verdict = r.sentiment
        mean = f"mean log-probability {r.mean_logprob:.3f}" if r.chars else "empty"
        badge = f"; {verdict['label']} {verdict['probability']:.2f}" \
            if verdict and verdict["label"] else ""
        print(f"=== {r.cell.label} ({mean}{badge}) ===")
        if verdict is None:
            print(base.prime + r.text)
        else:
            for line in verdict["lines"]:
                print(f"[{line['label']} {line['probability']:.2f}] {line['text']}")
        print()


LONG_SAMPLE = 10_000    # characters from which a streamed sample shows its progress (stderr)


def _stream_sample(sampler, config, stop, no_newline: bool):
    """One sample streamed to stdout as it is drawn (the prime first). A long one shows its
    progress on stderr; Ctrl+C (or SIGTERM) stops it, keeping what was drawn."""
    from tqdm import tqdm
    out = sys.stdout
    out.write(config.prime)
    progress = tqdm(total=config.length, unit="char", unit_scale=True, file=sys.stderr,
                    dynamic_ncols=True, mininterval=1.0, leave=False,
                    disable=config.length < LONG_SAMPLE)
    buffer, drawn = [], 0
    for ch in sampler.generate(prime=config.prime, length=config.length,
                               temperature=config.temperature, seed=config.seed,
                               should_stop=stop, **config.filters):
        buffer.append(ch.char)
        if len(buffer) >= 16 or ch.char == "\n":
            out.write("".join(buffer))
            out.flush()
            progress.update(len(buffer))
            drawn += len(buffer)
            buffer = []
    drawn += len(buffer)
    progress.close()
    out.write("".join(buffer) + ("" if no_newline else "\n"))
    out.flush()
    if stop() and drawn < config.length:
        print(f"stopped after {drawn:,} of {config.length:,} characters; what was drawn is "
              f"above", file=sys.stderr)


def cmd_generator_evaluate(args):
    from engine.training.device import parse_ctx
    from engine.generator.evaluate import evaluate_text
    from engine.generator.load import load_generator
    ctx = parse_ctx(args.ctx)
    model, vocab, _ = load_generator(args.run, args.checkpoint, ctx)
    result = evaluate_text(model, vocab, args.text, args.encoding, ctx)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['bits_per_char']:.4f} bits/char ({result['nats_per_char']:.4f} nats/char) "
              f"over {result['chars']:,} characters")
        if result["oov_chars"]:
            print(f"{result['oov_chars']:,} characters outside the model's vocabulary were not "
                  f"scored: {result['oov_examples']}")


# ---- sentiment ----------------------------------------------------------------------------------
def _sentiment_data(args):
    from engine.training.plan import DataSource
    import corpora
    if args.data or not args.resume:
        path, name = corpora.resolve_labeled_source(args.data or DEFAULT_SENTIMENT_DATA)
        return DataSource(str(path), name, {
            "sources": corpora.labeled_source_path,
            "leave_out": _column_value(args.leave_out) if args.leave_out else None,
            "merge_label_case": args.merge_label_case})
    if args.leave_out or args.merge_label_case:
        raise_usage("--leave-out and --merge-label-case are kept from the run's start; a "
                    "resumed run cannot change them")
    return None


def _sentiment_data_options(t):
    t.add_argument("--data", metavar="NAME|FILE|DIR", help="built-in labeled corpus, a CSV/TSV/"
                   "JSONL file with text and label, or a folder with a sub-folder per label "
                   f"(default: {DEFAULT_SENTIMENT_DATA}; a resumed run: its own data)")
    t.add_argument("--leave-out", metavar="COLUMN=VALUE", help="hold back every row whose "
                   "COLUMN is VALUE (e.g. domain=tweets, to test on a domain never trained on)")
    t.add_argument("--merge-label-case", action="store_true", help="labels that differ only "
                   "in case (positive, Positive) are one class, spelled as most rows spell it")


def _sentiment_after_training(args, finished):
    """The test split's scores, beside VADER's."""
    if finished is not None:
        from engine.storage.runs import RunFolder
        test = RunFolder(finished.run_dir).read_meta().test or {}
        if test:
            vader = test.get("vader")
            print(f"test split: accuracy {test['accuracy']:.3f}, macro F1 {test['macro_f1']:.3f} "
                  f"(n={test['n']})" + (f"; VADER accuracy {vader['accuracy']:.3f}, macro F1 "
                                        f"{vader['macro_f1']:.3f}" if vader else "") +
                  (f"; the reader alone {test['parts']['reader']:.3f}, the linear half alone "
                   f"{test['parts']['linear']:.3f}" if test.get("parts") else ""),
                  file=sys.stderr)


def _column_value(text: str):
    column, sep, value = text.partition("=")
    if not (sep and column.strip() and value.strip()):
        raise_usage(f"--leave-out takes COLUMN=VALUE (e.g. domain=tweets), not {text!r}")
    return column.strip().lower(), value.strip()


def cmd_sentiment_predict(args):
    from engine.training.device import parse_ctx
    from engine.sentiment.predict import (MOSTLY_UNKNOWN_BELOW, SentimentPredictor,
                                          unknown_words_note)
    predictor = SentimentPredictor.load(args.run, args.checkpoint, parse_ctx(args.ctx))
    if args.file:
        if not args.output:
            raise_usage("--file needs --output OUT.csv")
        from tqdm import tqdm
        bar = tqdm(unit="rows", disable=args.quiet, file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)
        done = predictor.classify_file(args.file, args.output, args.text_column,
                                       progress=progress)
        bar.close()
        unscored = (f"; {done.skipped:,} of the {done.total:,} rows had no text and are kept "
                    f"unscored" if done.skipped else "")
        unknown = (f"; {done.mostly_unknown:,} are mostly words this model never saw (column "
                   f"known_words below {MOSTLY_UNKNOWN_BELOW:.2f}): their labels mean little"
                   if done.mostly_unknown else "")
        print(f"classified {done.total - done.skipped:,} rows -> {args.output}{unscored}"
              f"{unknown}", file=sys.stderr)
        return
    if not args.texts:
        raise_usage("give TEXT... to classify, or --file IN.csv --output OUT.csv")
    empty = [i + 1 for i, t in enumerate(args.texts) if not t.strip()]
    if empty:       # as in files, where such rows are left unscored: nothing to classify
        raise StudioError(f"text {', '.join(map(str, empty))} of {len(args.texts)} is empty: "
                          f"nothing to classify")
    for n, text in enumerate(args.texts, 1):
        verdict = predictor.explain(text)
        if verdict.mostly_unknown:
            print(f"text {n}: {unknown_words_note(verdict.known_words)}", file=sys.stderr)
        if args.json:
            print(json.dumps({"text": text, **verdict.to_dict()}))
            continue
        probs = ", ".join(f"{lab} {p:.3f}" for lab, p in verdict.probabilities.items())
        words = " ".join(f"{w}({c:+.2f})" for w, c in verdict.words)
        print(f"{verdict.label}\t[{probs}]\t{words}")


def _sentiment_evaluate_contrast(args):
    """--contrast N: the run on "X but Y" sentences from rated sentences (issue 29 item 6)."""
    from engine.training.device import parse_ctx
    from engine.sentiment.evaluate import evaluate_contrast
    from engine.sentiment.predict import SentimentPredictor
    import corpora
    if args.contrast < 2:
        raise StudioError(f"--contrast {args.contrast}: give at least 2 sentences")
    path, _ = corpora.resolve_labeled_source(args.data or "rated-sentences")
    predictor = SentimentPredictor.load(args.run, args.checkpoint, parse_ctx(args.ctx))
    result = evaluate_contrast(predictor, path, n=args.contrast, seed=args.seed)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'':<24} {'accuracy':>9} {'macro F1':>9}   (n={result['n']:,}, seed {result['seed']})")
    for key, name in (("contrast", "X but Y (label of Y)"), ("first_clause", "X alone"),
                      ("second_clause", "Y alone")):
        print(f"{name:<24} {result[key]['accuracy']:>9.4f} {result[key]['macro_f1']:>9.4f}")


def cmd_sentiment_evaluate(args):
    from engine.training.device import parse_ctx
    from engine.sentiment.evaluate import evaluate_data
    from engine.sentiment.predict import SentimentPredictor
    import corpora
    if args.contrast is not None:
        return _sentiment_evaluate_contrast(args)
    if not args.data:
        raise StudioError("sentiment evaluate needs --data NAME|FILE (or --contrast)")
    path, _ = corpora.resolve_labeled_source(args.data)
    predictor = SentimentPredictor.load(args.run, args.checkpoint, parse_ctx(args.ctx))
    result = evaluate_data(predictor, path, by=args.by.strip().lower() if args.by else None)
    if args.json:
        print(json.dumps(result))
        return
    vader = result["vader"]
    print(f"{'':<10} {'accuracy':>9} {'macro F1':>9}")
    print(f"{'model':<10} {result['accuracy']:>9.4f} {result['macro_f1']:>9.4f}   (n={result['n']:,})")
    if vader:
        print(f"{'VADER':<10} {vader['accuracy']:>9.4f} {vader['macro_f1']:>9.4f}")
    print("confusion (rows: true, columns: predicted): " + ", ".join(result["labels"]))
    for label, row in zip(result["labels"], result["confusion"]):
        print(f"  {label:<12} " + " ".join(f"{v:>7}" for v in row))
    if "by" in result:
        width = max(len(args.by), *(len(v) for v in result["by"]))
        print(f"by {args.by}:\n  {'':<{width}} {'n':>7} {'accuracy':>9} {'macro F1':>9}"
              + (f" {'VADER acc.':>10}" if vader else ""))
        for value, part in result["by"].items():
            print(f"  {value:<{width}} {part['n']:>7,} {part['accuracy']:>9.4f} "
                  f"{part['macro_f1']:>9.4f}" + (f" {part['vader']['accuracy']:>10.4f}"
                                                 if part["vader"] else ""))


# ---- runs / export / bench ----------------------------------------------------------------------
def cmd_runs(args):
    from engine.storage.runs import delete_run, list_runs, rename_run
    if args.action == "list":
        runs = list_runs()
        if args.json:
            print(json.dumps(runs))
        for r in ([] if args.json else runs):
            if r["kind"] == "damaged":
                print(f"{r['name']:<24} damaged: {r['error']}")
            else:
                kind = kind_of(r["kind"])
                best = "-" if r.get("best_val_loss") is None else \
                    f"{kind.loss_shown(r['best_val_loss']):.4f}{kind.loss_short}"
                print(f"{r['name']:<24} {r['kind']:<10} corpus {r['corpus'] or '-':<18} "
                      f"steps {r['steps']:<7} best val {best}")
    elif args.action == "delete":
        delete_run(args.run)
        print(f"deleted {args.run}")
    elif args.action == "rename":
        print(rename_run(args.run, args.new_name))


def cmd_export(args):
    from engine.export.run import export_run
    out = export_run(args.run, args.out, args.format, args.force)
    print(f"exported {args.run} to {out}")


def cmd_bench(args):
    if args.workers:
        from engine.generator.bench_distributed import bench_workers
        result = bench_workers(args.workers, seconds=args.seconds, quick=args.quick)
    else:
        from engine.generator.bench import run_bench
        result = run_bench(quick=args.quick, seconds=args.seconds)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


def cmd_launch(args):
    from engine.cli.launch import Launch, free_port, host_plan, read_hosts
    command = args.train_command[1:] if args.train_command[:1] == ["--"] else args.train_command
    if args.hosts:
        print(host_plan(read_hosts(args.hosts), args.workers, args.servers, command,
                        args.port or 9091))
        return 0
    return Launch(args.workers, args.servers, command, connect_timeout=args.connect_timeout,
                  port=args.port or free_port(), threads=args.threads,
                  verbose=args.verbose, stall_timeout=args.stall_timeout).run()


def cmd_gui(args):
    try:
        from desktop.app import main as gui_main
    except ImportError as err:
        raise_usage(f"the desktop app is not available ({err}); use the subcommands, see --help")
    return gui_main()


# ---- parser -------------------------------------------------------------------------------------
class UsageError(Exception):
    pass


def raise_usage(message):
    raise UsageError(message)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _add_train_args(p):
    """What both train commands take besides their settings (those come from the configs)."""
    p.add_argument("--out", required=True, metavar="RUN", help="run name or folder to write")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_kind_commands(sub, kind):
    """``<kind>``'s group: its ``train`` command, made from the registry (the kind's configs
    give the flags, its KindCommands the data options), then the kind's other commands."""
    commands = commands_of(kind)
    if commands is None:
        return
    group = sub.add_parser(kind.name, help=commands.help)
    kind_sub = group.add_subparsers(dest="action", required=True, parser_class=_Parser)
    t = kind_sub.add_parser("train", help=commands.train_help)
    commands.add_data_options(t)
    _add_train_args(t)
    if kind.has_recipe_for():
        t.add_argument("--recipe", nargs="?", const="auto", choices=("auto",),
                       help="take the settings measured best for the --minutes budget on this "
                       "kind of machine (scaled down for a short text) for every setting not "
                       "given here")
    add_settings(t, kind.model_config)
    add_settings(t, kind.train_config, kind.name)
    t.set_defaults(func=cmd_train, train_kind=kind.name)
    commands.add_commands(kind_sub)


def cmd_train(args):
    from engine.kinds import kind_of
    kind = kind_of(args.train_kind)
    commands = commands_of(kind)
    finished = train_through_plan(args, kind, commands.data_source(args))
    commands.after_training(args, finished)


def _generator_commands(gsub):
    s = gsub.add_parser("sample", help="stream generated text to stdout")
    s.add_argument("run")
    add_settings(s, SamplingConfig, lists=("temperature", "seed", "top_k", "top_p"))
    s.add_argument("--json", action="store_true", help="one JSON object per sample: its "
                   "settings, text and mean log-probability")
    s.add_argument("--score", metavar="SENTIMENT_RUN", help="judge every sample and each of "
                   "its lines with this sentiment model")
    s.add_argument("--steer", metavar="SENTIMENT_RUN:LABEL", help="at each line end draw "
                   "--candidates continuations and keep the one this sentiment model finds "
                   "likeliest to carry LABEL")
    s.add_argument("--checkpoint", choices=("best", "last"), default="best")
    s.add_argument("--ctx", default="cpu")
    s.add_argument("--no-newline", action="store_true", help="no newline after the text")
    s.set_defaults(func=cmd_generator_sample)
    e = gsub.add_parser("evaluate", help="bits per character on a text")
    e.add_argument("run")
    e.add_argument("--text", required=True, metavar="FILE")
    e.add_argument("--encoding", default="utf-8")
    e.add_argument("--json", action="store_true")
    e.add_argument("--checkpoint", choices=("best", "last"), default="best")
    e.add_argument("--ctx", default="cpu")
    e.set_defaults(func=cmd_generator_evaluate)
    r = gsub.add_parser("recipe", help="the recipe each --minutes budget picks on this machine "
                        "(its training speed measured once, cached)")
    r.add_argument("--minutes", type=float, action="append", help="a budget (repeatable; "
                   "default: 2, 10, 30 and 60)")
    r.add_argument("--text-chars", type=_positive_int, metavar="N", help="fit the recipe to a "
                   "text of N characters")
    r.add_argument("--again", action="store_true", help="measure this machine again")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_generator_recipe)
    add_inside_commands(gsub, _positive_int)         # neurons, novelty (cli_inside.py)
    add_compare_command(gsub, StopFlag)              # compare (cli/compare.py)


def _sentiment_commands(ssub):
    pr = ssub.add_parser("predict", help="label texts (with per-word contributions) or a file")
    pr.add_argument("run")
    pr.add_argument("texts", nargs="*", metavar="TEXT")
    pr.add_argument("--file", metavar="IN.csv", help="CSV/TSV with a text column")
    pr.add_argument("--output", metavar="OUT.csv")
    pr.add_argument("--text-column", default="text")
    pr.add_argument("--json", action="store_true")
    pr.add_argument("--quiet", action="store_true")
    pr.add_argument("--checkpoint", choices=("best", "last"), default="best")
    pr.add_argument("--ctx", default="cpu")
    pr.set_defaults(func=cmd_sentiment_predict)
    ev = ssub.add_parser("evaluate", help="accuracy, macro F1 and confusion, beside VADER")
    ev.add_argument("run")
    ev.add_argument("--data", metavar="NAME|FILE", help="labeled data to score (with "
                    "--contrast: rated sentences to build from; default rated-sentences)")
    ev.add_argument("--contrast", type=int, nargs="?", const=600, metavar="N",
                    help="accuracy on N (600) 'X but Y' sentences labeled by Y, and on X and Y alone")
    ev.add_argument("--seed", type=int, default=0, help="with --contrast: which sentences")
    ev.add_argument("--by", metavar="COLUMN", help="also the accuracy per value of COLUMN "
                    "(e.g. domain)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--checkpoint", choices=("best", "last"), default="best")
    ev.add_argument("--ctx", default="cpu")
    ev.set_defaults(func=cmd_sentiment_evaluate)


GENERATOR_COMMANDS = KindCommands(
    "character-level text generator", "train (or --resume) a generator",
    _generator_data_options, _generator_data, add_commands=_generator_commands)
SENTIMENT_COMMANDS = KindCommands(
    "word-level sentiment classifier", "train (or --resume) a sentiment classifier",
    _sentiment_data_options, _sentiment_data, _sentiment_after_training, _sentiment_commands)


def build_parser():
    parser = _Parser(prog="rnn-studio", description="Train, sample, evaluate and export "
                     "character-level generators and sentiment classifiers. Run with no "
                     "arguments to open the desktop app.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("corpora", help="built-in corpora")
    csub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    csub.add_parser("list")
    b = csub.add_parser("build")
    b.add_argument("name", help="corpus name, or 'all'")
    b.add_argument("--force", action="store_true", help="rebuild even if built")
    csub.add_parser("path").add_argument("name")
    p.set_defaults(func=cmd_corpora)

    from engine.kinds import KINDS
    for kind in KINDS.values():                   # <kind> train, and the kind's own commands
        _add_kind_commands(sub, kind)

    r = sub.add_parser("runs", help="list, rename or delete trained models")
    rsub = r.add_subparsers(dest="action", required=True, parser_class=_Parser)
    rsub.add_parser("list").add_argument("--json", action="store_true")
    rsub.add_parser("delete").add_argument("run")
    rn = rsub.add_parser("rename")
    rn.add_argument("run")
    rn.add_argument("new_name")
    r.set_defaults(func=cmd_runs)

    x = sub.add_parser("export", help="write a deployable model folder")
    x.add_argument("run")
    x.add_argument("out")
    x.add_argument("--format", choices=("mxnet", "onnx", "web"), default="mxnet",
                   help="web: one self-contained HTML page that runs the generator offline")
    x.add_argument("--force", action="store_true", help="overwrite an export folder")
    x.set_defaults(func=cmd_export)

    bn = sub.add_parser("bench", help="throughput of the default models")
    bn.add_argument("--json", action="store_true")
    bn.add_argument("--quick", action="store_true", help="tiny models, a few seconds (smoke test)")
    bn.add_argument("--seconds", type=float, default=20.0, help="time per measurement")
    bn.add_argument("--workers", type=_positive_int, help="instead: training speed of one "
                    "worker and of N workers on this machine (through launch), the scaling and "
                    "what the gradient exchange costs per step")
    bn.set_defaults(func=cmd_bench)

    la = sub.add_parser("launch", help="train as several workers on MXNet's distributed "
                        "KVStore", description="Start a scheduler, servers and workers on this "
                        "machine (loopback), each worker running the train command after --; "
                        "with --hosts, print what each host must run instead.")
    la.add_argument("--workers", type=_positive_int, default=2)
    la.add_argument("--servers", type=_positive_int, default=1)
    la.add_argument("--hosts", metavar="FILE", help="one host per line: print each host's "
                    "command instead of starting anything here")
    la.add_argument("--port", type=_positive_int, help="the scheduler's port (default: a free "
                    "one; 9091 with --hosts)")
    la.add_argument("--threads", type=_positive_int, help="OMP threads per worker (default: "
                    "the cores shared out)")
    la.add_argument("--connect-timeout", type=float, default=60.0, help="seconds to wait for "
                    "every role to connect")
    la.add_argument("--stall-timeout", type=float, default=600.0, help="seconds without a "
                    "line from any worker after which the job is ended (a stopped or hung "
                    "worker holds the others); its last checkpoint is kept")
    la.add_argument("--verbose", action="store_true", help="also show ps-lite's own messages")
    la.add_argument("train_command", nargs=argparse.REMAINDER, metavar="-- TRAIN COMMAND")
    la.set_defaults(func=cmd_launch)

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.set_defaults(func=cmd_gui)
    return parser


def _show_warnings():
    """The engine's warnings (a damaged checkpoint fallen back from, skipped rows) as
    ``rnn-studio: warning: ...`` lines on stderr."""
    import logging
    log = logging.getLogger("rnn_studio")
    if not any(getattr(h, "rnn_studio_cli", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("rnn-studio: warning: %(message)s"))
        handler.rnn_studio_cli = True
        log.addHandler(handler)
        log.setLevel(logging.WARNING)


def main(argv=None):
    from engine.errors import StudioError
    argv = sys.argv[1:] if argv is None else argv
    _show_warnings()
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:
            # texts given after options (`sentiment predict RUN --json "text"`) are still texts
            if getattr(args, "texts", None) is None or any(e.startswith("-") for e in extra):
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            args.texts = list(args.texts) + extra
        if not getattr(args, "command", None):
            return cmd_gui(args) or 0
        return args.func(args) or 0
    except (StudioError, UsageError) as err:
        from engine.mxnet_failures import settled
        settled(err)                  # MXNet's kept errors drained: a quiet exit
        print(f"rnn-studio: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnn-studio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:
        from engine.mxnet_failures import settled
        err = settled(err)            # the native library's own error; MXNet's exit kept quiet
        from engine.storage.disk import describe, is_environment
        if is_environment(err):       # a full disk, a read-only folder: the user's situation
            print(f"rnn-studio: error: {describe(err)}", file=sys.stderr)
            return 2
        from engine.memory import as_out_of_memory
        if (memory := as_out_of_memory(err)) is not None:      # the machine's, not a bug
            print(f"rnn-studio: error: {memory}", file=sys.stderr)
            return 2
        # a bug, not bad input: one line, the trace in a file
        from engine.storage.crash_report import describe_unexpected
        command = " ".join(a for a in argv[:2] if not a.startswith("-")) or "rnn-studio"
        print(f"rnn-studio: error: {describe_unexpected(err, command, ' '.join(argv))}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
