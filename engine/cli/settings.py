"""Command-line flags made from the config dataclasses' fields (engine/config.py), so that every
default and help text is written once, where the setting lives."""
import argparse
from typing import Iterable

from engine.config import default_of, settings_of, value_type
from engine.wording import flag_of

GIVEN = "given_settings"      # the parsed namespace's set of the settings typed on the command line


class _Setting(argparse.Action):
    """Stores a setting's flag like argparse's ``store`` (``store_true``/``store_false`` for an
    on/off setting) and notes in ``GIVEN`` that the person typed it, so that a later step
    (``--recipe``) fills in only the settings left at their defaults."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)
        setattr(namespace, GIVEN, set(getattr(namespace, GIVEN, ())) | {self.dest})


def _help(f, default) -> str:
    text = f.metadata["help"]
    if default is True:
        text = f"turn off: {text[0].lower()}{text[1:]}"
    elif default is not False and default is not None and default != "":
        text = f"{text} (default {default})"
    return text.replace("%", "%%")


def add_settings(parser: argparse.ArgumentParser, cls, kind: str = None,
                 skip: Iterable[str] = (), lists: Iterable[str] = ()):
    """One flag per chooseable field of ``cls`` (those offered for ``kind``), with the class's
    default and help. Values land under the field's name; a field in ``lists`` takes a
    comma-separated list, left as text for the command to parse."""
    for f in settings_of(cls, offered=kind is not None):
        if f.name in skip:
            continue
        default = default_of(cls, f.name)
        kwargs = dict(dest=f.name, help=_help(f, default), action=_Setting)
        if f.name in lists:
            kwargs.update(default=default, metavar="V[,V...]",
                          help=kwargs["help"] + "; a comma-separated list draws one sample per "
                          "value")
        elif isinstance(default, bool):
            kwargs.update(nargs=0, const=not default, default=default)
        else:
            kwargs.update(type=value_type(f), default=default,
                          metavar=flag_of(f).lstrip("-").replace("-", "_").upper())
            if f.metadata["choices"]:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag_of(f), **kwargs)
    parser.set_defaults(**{GIVEN: set()})


def given_settings(args: argparse.Namespace) -> set:
    """The names of the settings typed on the command line (whatever their value)."""
    return set(getattr(args, GIVEN, ()))


def settings_from(cls, args: argparse.Namespace, kind: str = None, **overrides):
    """An instance of ``cls`` from the parsed flags (fields without a flag keep their default)."""
    values = {f.name: getattr(args, f.name)
              for f in settings_of(cls, offered=kind is not None) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)

