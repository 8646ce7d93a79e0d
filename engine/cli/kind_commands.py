"""What the command line knows of a model kind beyond its configs: each kind names one
``KindCommands`` in the registry (engine/kinds.py, ``where["command_line"]``). The ``<kind>
train`` command is made the same way for every kind (its flags from the kind's configs, a
``--recipe`` where the kind has recipes per budget, training through engine/training/plan.py);
a kind says only what its group is called, which options its data takes and how they make a
``DataSource``, what it says after a training, and which other commands it has."""
from dataclasses import dataclass
from typing import Callable, Optional


def _nothing(*_):
    return None


@dataclass(frozen=True)
class KindCommands:
    help: str                                   # the group's: "character-level text generator"
    train_help: str                             # its train command's
    add_data_options: Callable                  # (train parser) -> None: --corpus, --encoding
    data_source: Callable                       # (args) -> training.plan.DataSource or None
    after_training: Callable = _nothing         # (args, Finished or None): what else to say
    add_commands: Callable = _nothing           # (the group's subparsers): sample, predict, ...


def commands_of(kind) -> Optional[KindCommands]:
    """The kind's command-line face (None: a kind without one has no commands)."""
    return kind.get("command_line") if "command_line" in kind.where else None
