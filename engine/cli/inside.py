"""``rnn-studio generator neurons`` and ``generator novelty``: looking inside a generator from the
command line, and a text coloured by one cell in the terminal."""
import json
import os
import sys
import time

from engine.errors import StudioError
from engine.generator.inside.cell_colours import value_rgb

MARK_AT = 0.5               # plain output brackets values beyond this (on the -1..1 scale)


# ---- reading the text ---------------------------------------------------------------------
def read_input(path: str, encoding: str = "utf-8") -> str:
    """A file's text (checked like every text the engine reads), or standard input for ``-``."""
    if path == "-":
        text = sys.stdin.read()
        if not text:
            raise StudioError("nothing on standard input")
        return text
    from engine.text import read_text
    return read_text(path, encoding)


# ---- colouring ----------------------------------------------------------------------------
def colour_mode(stream=None) -> str:
    """"truecolor", "256" or "plain": colours only for a terminal that has them (and never
    with NO_COLOR set)."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or not getattr(stream, "isatty", lambda: False)():
        return "plain"
    if os.environ.get("TERM", "dumb") == "dumb":
        return "plain"
    return "truecolor" if os.environ.get("COLORTERM") in ("truecolor", "24bit") else "256"


def _ansi_background(rgb: tuple, mode: str) -> str:
    if mode == "truecolor":
        return "\x1b[48;2;{};{};{}m\x1b[38;2;0;0;0m".format(*rgb)
    r, g, b = (int(round(c / 255 * 5)) for c in rgb)
    return f"\x1b[48;5;{16 + 36 * r + 6 * g + b}m\x1b[38;5;16m"


def render(text: str, values, mode: str) -> str:
    """``text`` with each character coloured by its value (-1..1); in plain mode, ``[...]``
    around runs above +MARK_AT and ``{...}`` around runs below -MARK_AT."""
    out = []
    if mode == "plain":
        state = 0
        for ch, v in zip(text, values):
            now = 1 if v > MARK_AT else (-1 if v < -MARK_AT else 0)
            if now != state:
                out.append({1: "]", -1: "}", 0: ""}[state] + {1: "[", -1: "{", 0: ""}[now])
                state = now
            out.append(ch)
        out.append({1: "]", -1: "}", 0: ""}[state])
        return "".join(out)
    reset, last = "\x1b[0m", None
    for ch, v in zip(text, values):
        if ch == "\n":                      # no colour bleeding to the line's end
            out.append(reset + "\n")
            last = None
            continue
        code = _ansi_background(value_rgb(v), mode)
        if code != last:
            out.append(code)
            last = code
        out.append(ch)
    out.append(reset)
    return "".join(out)


def legend(mode: str) -> str:
    if mode == "plain":
        return f"[...] above +{MARK_AT}, {{...}} below -{MARK_AT} (the cell's value, -1 to 1)"
    steps = [-1.0, -0.5, 0.0, 0.5, 1.0]
    return "".join(_ansi_background(value_rgb(v), mode) + f" {v:+.1f} " for v in steps) + \
        "\x1b[0m (the cell's value)"


# ---- generator neurons --------------------------------------------------------------------
def cmd_generator_neurons(args):
    from engine.training.device import parse_ctx
    from engine.generator.load import load_generator
    if not args.text and not args.labels:
        raise StudioError("give --text FILE (or -) to look inside, and/or --labels CSV")
    if (args.select or args.cell or args.property) and not args.text:
        raise StudioError("--select, --cell and --property need --text")
    ctx = parse_ctx(args.ctx)
    model, vocab, _ = load_generator(args.run, args.checkpoint, ctx)
    result = {}
    if args.text:
        result.update(_look_at_text(model, vocab, args, ctx))
    if args.labels:
        result["labels"] = _rank_labels(model, vocab, args, ctx)
    if args.json:
        print(json.dumps(result))


def _look_at_text(model, vocab, args, ctx) -> dict:
    from engine.generator.inside.cell_ranking import parse_span, rank_by_selection, record_and_rank
    text = read_input(args.text, args.encoding)
    started = time.perf_counter()
    rec, rankings = record_and_rank(model, vocab, text, args.property or (), args.top, ctx)
    seconds = time.perf_counter() - started
    if rec.removed:
        print(f"rnn-studio: note: {rec.removed_note()} (offsets count without them)",
              file=sys.stderr)
    result = {"chars": len(rec), "seconds": round(seconds, 2),
              "model": {"mode": rec.mode, "layers": rec.layers, "hidden": rec.hidden},
              "removed": rec.removed, "properties": [r.to_dict() for r in rankings]}
    selection = cell = None
    if args.select:
        selection = rank_by_selection(rec, *parse_span(args.select, len(rec)), top=args.top)
        result["selection"] = selection.to_dict()
    if args.cell:
        cell = rec.parse_cell(args.cell)
        result["cell"] = {**cell.to_dict(), "values": [round(float(v), 4)
                                                       for v in rec.values(cell)]}
    if not args.json:
        print(f"read {len(rec):,} characters ({rec.layers} x {rec.hidden} {rec.mode.upper()}; "
              f"cells LAYER:INDEX, c = cell state, h = output) in {seconds:.1f} s")
        for ranking in rankings:
            _print_ranking(ranking)
        if selection is not None:
            _print_selection(selection)
        if cell is not None:
            mode = colour_mode()
            print(f"\ncell {cell.name}:")
            print(render(rec.text, rec.display(cell), mode))
            print(legend(mode))
    return result


def _print_ranking(ranking):
    print(f"\n{ranking.by}: {ranking.description}" + (f" ({ranking.note})" if ranking.note
                                                      else ""))
    for k, cell in enumerate(ranking.cells, 1):
        print(f"  {k:>2}. {cell.cell.name:<9} {ranking.summary(cell)}")


def _print_selection(selection):
    _print_ranking(selection.ranking)
    used = ", ".join(c.cell.name for c in selection.used)
    others = [m for m in selection.matches if not m.selected]
    if not used:
        print("no cell switches on across the selection and off around it")
        return
    print(f"\nwhere {used} switch on together: {len(others):,} other place(s)")
    for m in others[:20]:
        shown = m.text if len(m.text) <= 60 else m.text[:57] + "..."
        print(f"  {m.start:>8,}-{m.end:<8,} {shown!r}")
    if len(others) > 20:
        print(f"  ... and {len(others) - 20:,} more (--json lists them all)")


def _rank_labels(model, vocab, args, ctx) -> dict:
    import corpora
    from engine.generator.inside.cell_ranking import rank_labeled_texts
    from engine.sentiment.labeled import read_labeled
    path, _ = corpora.resolve_labeled_source(args.labels)
    ranking = rank_labeled_texts(model, vocab, read_labeled(path), args.max_texts, args.top, ctx)
    if not args.json:
        _print_ranking(ranking)
    return ranking.to_dict()


# ---- generator novelty --------------------------------------------------------------------
def cmd_generator_novelty(args):
    from engine.generator.sampling.novelty import check_run
    source = args.text or args.source
    if not source:
        raise StudioError("give the text to check: --text FILE, or - for standard input")
    report = check_run(args.run, read_input(source, args.encoding), min_span=args.min_span)
    if args.json:
        print(json.dumps(report.to_dict()))
        return
    print(f"{report.chars:,} characters checked against the training text "
          f"({report.corpus or 'unnamed'})")
    for k, w in report.windows.items():
        share = "-" if w["share"] is None else f"{w['share']:.1%}"
        print(f"  {k:>2}-character windows copied: {share:>6} ({w['copied']:,} of "
              f"{w['windows']:,})")
    if report.longest:
        s = report.longest
        print(f"longest copied span: {s.length:,} characters ({s.start:,}-{s.end:,}), found at "
              f"character {s.corpus_offset:,} (line {s.line:,}) of the training text:\n"
              f"  {s.text!r}")
    print(f"copied spans of {report.min_span}+ characters: {len(report.spans):,}")
    for s in report.spans[:20]:
        shown = s.text if len(s.text) <= 60 else s.text[:57] + "..."
        print(f"  {s.start:>6,}-{s.end:<6,} line {s.line:<8,} {shown!r}")
    if len(report.spans) > 20:
        print(f"  ... and {len(report.spans) - 20:,} more (--json lists them all)")


# ---- the parser ---------------------------------------------------------------------------
def add_inside_commands(gsub, positive_int):
    """``generator neurons`` and ``generator novelty`` on the ``generator`` subparsers."""
    n = gsub.add_parser("neurons", help="which cells track what: rank a generator's cells by "
                        "properties of a text, a selected span, or labels",
                        description="Record every cell over a text and rank them by how well "
                        "they track properties (quotes, brackets, line position, speakers' "
                        "names, ...; AUC, or Spearman's rho for line position), by a selected "
                        "span (cells on across it and off around it), or by the labels of a "
                        "labeled file (cells read at the end of each text).")
    n.add_argument("run")
    n.add_argument("--text", metavar="FILE", help="the text to look at (- for standard input)")
    n.add_argument("--property", action="append", metavar="NAME=REGEX", help="also rank by "
                   "this: a character is in it when a match of REGEX covers it (repeatable)")
    n.add_argument("--labels", metavar="CSV", help="a labeled file (or built-in labeled "
                   "corpus): which cell, read at the end of a text, best separates the labels")
    n.add_argument("--max-texts", type=positive_int, default=500, help="of --labels, read at "
                   "most this many texts (a seeded random choice; default 500)")
    n.add_argument("--select", metavar="START:END", help="rank by this span of the text "
                   "(character offsets, END exclusive) and list where the same cells switch on")
    n.add_argument("--top", type=positive_int, default=10, help="cells listed per ranking")
    n.add_argument("--cell", metavar="LAYER:INDEX", help="show the text coloured by this cell "
                   "(both from 1; an LSTM's cell state c, or add h for its output: 2:37h)")
    n.add_argument("--encoding", default="utf-8")
    n.add_argument("--json", action="store_true", help="one JSON object on stdout")
    n.add_argument("--checkpoint", choices=("best", "last"), default="best")
    n.add_argument("--ctx", default="cpu")
    n.set_defaults(func=cmd_generator_neurons)
    v = gsub.add_parser("novelty", help="how much of a text is copied from the run's training "
                        "text", description="The share of the text's 10-, 20- and 40-character "
                        "windows found verbatim in the run's training text, the longest copied "
                        "span and where it is, and every copied span.")
    v.add_argument("run")
    v.add_argument("source", nargs="?", metavar="-", help="- reads the text from standard input")
    v.add_argument("--text", metavar="FILE", help="the text to check (- for standard input)")
    v.add_argument("--min-span", type=positive_int, default=20, help="list copied spans at "
                   "least this long (default 20)")
    v.add_argument("--encoding", default="utf-8")
    v.add_argument("--json", action="store_true", help="one JSON object on stdout")
    v.set_defaults(func=cmd_generator_novelty)
