"""Simple properties of a text, one value per character, for finding the cells that track them.

Each property says, for every character, whether it holds there (inside quotes, say) or, for
``line position``, a number. A regular expression makes a property too: a character is in it
when a match covers it (``--property name=REGEX``).
"""
import re
from dataclasses import dataclass
from typing import List

import numpy as np

from engine.errors import StudioError
from engine.wording import setting

# A speaker's line in the built-in Shakespeare: "HAMLET:", "First Citizen:" (every word
# capitalised, so a verse line that ends with a colon is not one).
SPEAKER = r"(?m)^[A-Z][A-Za-z'.-]*(?: [A-Z][A-Za-z'.-]*)*:$"
QUOTED = r'"[^"]*"|\u201c[^\u201d]*\u201d'
_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Property:
    name: str
    description: str          # where it holds, for people: "higher inside double quotes"
    values: np.ndarray        # bool per character, or float per character when numeric

    @property
    def numeric(self) -> bool:
        return self.values.dtype != np.bool_

    def share(self) -> float:
        """Of the characters, the share where a yes/no property holds."""
        return float(self.values.mean()) if len(self.values) else 0.0


def pattern_property(name: str, pattern: str, text: str, description: str = "") -> Property:
    """Characters covered by a match of ``pattern`` (an empty match covers nothing)."""
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise StudioError(f"property {name}: {pattern!r} is not a valid regular expression "
                          f"({err})") from None
    edges = np.zeros(len(text) + 1, np.int32)
    for match in regex.finditer(text):
        edges[match.start()] += 1
        edges[match.end()] -= 1
    covered = np.cumsum(edges[:-1]) > 0
    return Property(name, description or f"where {pattern} matches", covered)


def parse_property(spec: str, text: str) -> Property:
    """``NAME=REGEX`` from the command line."""
    name, sep, pattern = spec.partition("=")
    if not (sep and name.strip() and pattern):
        raise StudioError(setting("property"), f" takes NAME=REGEX (e.g. 'stage=\\[[^]]*\\]'), "
                          f"not {spec!r}")
    return pattern_property(name.strip(), pattern, text)


def bracket_depth(text: str) -> np.ndarray:
    """How many brackets or parentheses are open at each character (never below zero)."""
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    step = np.zeros(len(text), np.int64)
    for ch in _OPEN:
        step[codes == ord(ch)] = 1
    for ch in _CLOSE:
        step[codes == ord(ch)] = -1
    # a running sum that stops at zero: a stray closer must not make later text "inside"
    depth = np.cumsum(step)
    return depth - np.minimum.accumulate(np.minimum(depth, 0))


def line_position(text: str) -> np.ndarray:
    """The character's column: 0 for the first character of a line (a line break is the last
    character of its line)."""
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    index = np.arange(len(text))
    breaks = np.where(codes == 10, index, -1)
    line_start = np.maximum.accumulate(np.r_[-1, breaks[:-1]]) + 1 if len(text) else index
    return (index - line_start).astype(np.float64)


def builtin_properties(text: str) -> List[Property]:
    """The properties every look inside ranks by."""
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    column = line_position(text)

    def chars_where(test) -> np.ndarray:
        return np.array([test(c) for c in text], bool) if text else np.zeros(0, bool)
    return [
        pattern_property("quotes", QUOTED, text, "inside double quotes"),
        Property("brackets", "inside brackets or parentheses", bracket_depth(text) > 0),
        Property("line position", "the position in the line", column),
        Property("line start", "on a line's first character", column == 0),
        pattern_property("speaker", SPEAKER, text, "on a speaker's name line (NAME:)"),
        Property("uppercase", "on uppercase letters", chars_where(str.isupper)),
        Property("whitespace", "on spaces, tabs and line breaks", chars_where(str.isspace)),
        Property("vowel", "on vowels (a, e, i, o, u)", np.isin(codes, [ord(c) for c in "aeiouAEIOU"])),
    ]
