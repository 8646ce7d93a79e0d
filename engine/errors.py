"""The one exception type the CLI and the GUI show to people as a plain message.

A message may name a setting the person can change ("try a lower learning rate"). Such a
message is built from parts: plain strings and ``Setting`` references (made with
``engine.wording.setting(name)``). Each face words a setting its own way: the command line
names its flag (``--lr``), the app the label it shows (``"Learning rate"``). ``str(error)`` is
the command line's wording; ``error.worded(lambda s: ...)`` any other.
"""
from dataclasses import dataclass
from typing import Callable, Tuple, Union


@dataclass(frozen=True)
class Setting:
    """A setting named in a message: a config field (``lr``) or a command's own option
    (``resume``, ``out``, ``encoding``, ``format``), with the names each face knows it by."""
    name: str
    flag: str          # the command line's: --lr
    label: str         # the app's: Learning rate

    def __str__(self) -> str:
        return self.flag


class CommandLineOnly(str):
    """Words only the command line shows (advice about a flag the app has no control for);
    the app leaves them out."""


Part = Union[str, Setting]


class StudioError(Exception):
    """A problem with the user's input or files, worded for the user (no traceback needed)."""

    def __init__(self, *parts: Part):
        self.parts: Tuple[Part, ...] = parts
        super().__init__("".join(str(p) for p in parts))

    @property
    def settings(self) -> Tuple[Setting, ...]:
        """The settings this message is about (to point at, or to word)."""
        return tuple(p for p in self.parts if isinstance(p, Setting))

    def worded(self, name_of: Callable[[Setting], str]) -> str:
        """The message with each setting named by ``name_of`` (a face's own wording), without
        the command line's own words."""
        return "".join(name_of(p) if isinstance(p, Setting) else str(p) for p in self.parts
                       if not isinstance(p, CommandLineOnly))
