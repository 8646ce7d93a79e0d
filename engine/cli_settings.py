"""Command-line flags made from the config dataclasses' fields (engine/config.py), so that every
default and help text is written once, where the setting lives."""
import argparse
from typing import Iterable

from .config import default_of, settings_of, value_type
from .wording import flag_of


def _help(f, default) -> str:
    text = f.metadata["help"]
    if default is True:
        text = f"turn off: {text[0].lower()}{text[1:]}"
    elif default is not False and default is not None:
        text = f"{text} (default {default})"
    return text.replace("%", "%%")


def add_settings(parser: argparse.ArgumentParser, cls, kind: str = None,
                 skip: Iterable[str] = ()):
    """One flag per chooseable field of ``cls`` (those offered for ``kind``), with the class's
    default and help. Values land under the field's name."""
    for f in settings_of(cls, kind):
        if f.name in skip:
            continue
        default = default_of(cls, f.name)
        kwargs = dict(dest=f.name, help=_help(f, default))
        if isinstance(default, bool):
            kwargs.update(action="store_false" if default else "store_true", default=default)
        else:
            kwargs.update(type=value_type(f), default=default,
                          metavar=flag_of(f).lstrip("-").replace("-", "_").upper())
            if f.metadata["choices"]:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag_of(f), **kwargs)


def settings_from(cls, args: argparse.Namespace, kind: str = None, **overrides):
    """An instance of ``cls`` from the parsed flags (fields without a flag keep their default)."""
    values = {f.name: getattr(args, f.name) for f in settings_of(cls, kind)
              if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)
