"""How the settings a message names are called on each face (see ``errors.StudioError``).

A config field's flag and label come from its ``setting(...)`` metadata (engine/config.py); the
few options that are no config field (a command's ``--out``, ``--resume``, ...) are listed here.
"""
from dataclasses import fields

from engine.config import SamplingConfig, label_of
from engine.errors import Setting, StudioError
from engine.kinds import KINDS

# options of the commands that are not config fields: name -> (flag, the app's label for it)
OPTIONS = {
    "resume": ("--resume", "Resume"),
    "out": ("--out", "Run name"),
    "encoding": ("--encoding", "Encoding"),
    "format": ("--format", "Format"),
    "property": ("--property", "Your own property"),     # the Look inside view's NAME=REGEX
}


def _configs():
    """Every config class a message may name a setting of: each registered kind's two (read
    now, so a kind registered later is included) and the sampling settings."""
    for kind in KINDS.values():
        yield from (kind.model_config, kind.train_config)
    yield SamplingConfig


def flag_of(f) -> str:
    """``--hidden`` for hidden_size (its metadata), ``--no-lexicon`` for a setting that is on by
    default, else the field's name with dashes."""
    if f.metadata["flag"]:
        return f.metadata["flag"]
    name = f.name.replace("_", "-")
    return f"--no-{name}" if f.default is True else f"--{name}"


def setting(name: str) -> Setting:
    """The setting ``name`` (a config field or one of ``OPTIONS``), to name in a StudioError."""
    if name in OPTIONS:
        return Setting(name, *OPTIONS[name])
    for cls in _configs():
        for f in fields(cls):
            if f.name == name and "help" in f.metadata:
                return Setting(name, flag_of(f), label_of(f))
    raise KeyError(f"no setting called {name!r}")


def in_app_words(error) -> str:
    """A message as the app says it: settings by the labels on screen, in quotes, and the
    first letter a capital (the engine's messages may start with a path or a lower case)."""
    if isinstance(error, StudioError):
        text = error.worded(lambda s: f'"{s.label}"')
    else:
        text = str(error)
    return text[:1].upper() + text[1:]
