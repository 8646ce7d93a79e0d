"""Types and ranges of a run's record (meta.json, a generation's manifest), checked when it is
read: a hand-edited record of valid JSON but wrong values (hidden size ``"abc"``, step ``-1``,
an empty vocabulary, a path to ``/etc/passwd``) is refused in one line naming the file and the
field, instead of failing deep inside a load or, worse, being used.

Kept apart from run_meta.py's compatibility rules: these say what a readable record holds."""
import json
import math
import re
from pathlib import PurePosixPath, PureWindowsPath

from engine.errors import StudioError

_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_record(data: dict, where: str):
    """Raise a StudioError naming ``where`` and the field when ``data`` (a parsed record whose
    format is known) holds a value of the wrong type or out of range."""
    _whole(data.get("generation", 0), where, "generation")
    state = data.get("state") or {}
    for key in ("step", "stale"):
        if key in state:
            _whole(state[key], where, f"state.{key}")
    for key in ("epoch", "seconds"):
        if key in state:
            _number(state[key], where, f"state.{key}")
    for name, digest in (data.get("files") or {}).items():
        check_inside(name, where, "a name in files")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise StudioError(f"{where}: files.{name} is not a sha256 checksum ({digest!r})")
    for name, path in (data.get("paths") or {}).items():
        check_inside(path, where, f"paths.{name}")
    vocab_size = _checked_vocab(data.get("vocab"), where)
    _check_settings(data, where, vocab_size)


def check_inside(path, where: str, field: str):
    """A path in a record must be relative and stay inside the run folder (no ``..``, no
    absolute path, no drive): a record names the run's own files, never another run's or the
    system's."""
    if not isinstance(path, str) or not path:
        raise StudioError(f"{where}: {field} is not a file name ({path!r})")
    posix, windows = PurePosixPath(path), PureWindowsPath(path)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or path.startswith("\\"):
        raise StudioError(f"{where}: {field} is an absolute path ({path}); a run's record names "
                          f"only files inside its own folder")
    if ".." in posix.parts or ".." in windows.parts:
        raise StudioError(f"{where}: {field} points outside the run folder ({path}); a run's "
                          f"record names only files inside its own folder")


def _whole(value, where, field):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StudioError(f"{where}: {field} must be a whole number of at least 0, "
                          f"not {value!r}")


def _number(value, where, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value) or value < 0:
        raise StudioError(f"{where}: {field} must be a number of at least 0, not {value!r}")


def _checked_vocab(vocab, where):
    """The vocabulary's size (None when the record has none): a gluonnlp Vocab as JSON text."""
    if vocab is None:
        return None
    try:
        parsed = json.loads(vocab) if isinstance(vocab, str) else None
    except ValueError:
        parsed = None
    tokens = parsed.get("idx_to_token") if isinstance(parsed, dict) else None
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise StudioError(f"{where}: vocab is not a vocabulary (a JSON object with a non-empty "
                          f"idx_to_token list of strings)")
    return len(tokens)


def _check_settings(data, where, vocab_size):
    """config.model and config.train against the kind's settings (types and ranges), and the
    model's vocabulary size against the vocabulary saved with it."""
    from engine import kinds               # the registry imports the kinds' configs
    config = data.get("config") or {}
    try:
        kind = kinds.kind_of(data.get("kind"))
    except StudioError:
        return                             # a kind this version does not know: not ours to judge
    for part, cls in (("model", kind.model_config), ("train", kind.train_config)):
        settings = config.get(part)
        if settings is None:
            continue
        if not isinstance(settings, dict):
            raise StudioError(f"{where}: config.{part} is not a set of settings")
        known = {f for f in cls.__dataclass_fields__}
        try:
            cls.from_dict({k: v for k, v in settings.items() if k in known})
        except StudioError as err:
            raise StudioError(f"{where}: config.{part}: {err}") from None
        except (TypeError, ValueError) as err:
            raise StudioError(f"{where}: config.{part}: {err}") from None
    size = (config.get("model") or {}).get("vocab_size")
    if size is not None:
        _whole(size, where, "config.model.vocab_size")
        if size < 1:
            raise StudioError(f"{where}: config.model.vocab_size must be at least 1, not {size}")
        if vocab_size is not None and vocab_size != size:
            raise StudioError(f"{where}: vocab holds {vocab_size} tokens but "
                              f"config.model.vocab_size says {size}: the record was changed")
