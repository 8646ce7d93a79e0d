"""``meta.json`` as one typed record: what a run folder says about its model (RunMeta).

Everything that reads or writes a run's record goes through ``RunMeta``: the engine, the CLI and
the tabs read attributes, never dicts indexed by string. Keys that this version does not know
(written by a newer one, say) are kept in ``other`` and written back as they were.
"""
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Dict, List, Optional

from engine.errors import StudioError
from engine.storage.record_checks import check_record

FORMAT = "rnn-studio/2"
READABLE = ("rnn-studio/1", FORMAT)


@dataclass
class RunMeta:
    kind: str                                    # "generator" or "sentiment" (or a new kind)
    config: dict                                 # {"model": {...}, "train": {...}} as saved
    files: Dict[str, str] = field(default_factory=dict)   # file -> sha256, current checkpoint
    paths: Dict[str, str] = field(default_factory=dict)   # file -> its path in the run folder
    generation: int = 0                          # the current checkpoint's generation folder
    format: str = FORMAT
    vocab: Optional[str] = None                  # the vocabulary (gluonnlp Vocab JSON)
    labels: Optional[List[str]] = None           # sentiment: the classes, in output order
    corpus: dict = field(default_factory=dict)   # name, path, sha256, size (+ encoding, counts)
    split: Optional[dict] = None                 # sentiment: examples per split
    history: List[dict] = field(default_factory=list)   # progress and validation points
    best: Optional[dict] = None                  # the best validation: step, val_loss, metrics
    state: dict = field(default_factory=dict)    # step, epoch, seconds, stale, optimizer
    test: Optional[dict] = None                  # sentiment: the held-back test split's scores
    sample: Optional[str] = None                 # generator: the last preview sample
    versions: dict = field(default_factory=dict)  # engine, mxnet and gluonnlp versions
    saved_at: Optional[float] = None             # time.time() of the last save
    group: Optional[dict] = None                 # runs trained together (generator compare):
                                                 # name, kind, cells, this run's cell
    other: dict = field(default_factory=dict)    # keys this version does not know, kept

    @classmethod
    def from_json(cls, data: dict, where: str = "meta.json") -> "RunMeta":
        """Check and read a parsed meta.json (``where`` names it in errors)."""
        if not isinstance(data, dict) or data.get("format") not in READABLE:
            found = data.get("format") if isinstance(data, dict) else None
            if isinstance(found, str) and found.startswith("rnn-studio/"):
                raise StudioError(f"{where}: saved by a newer RNN Studio (format {found}); "
                                  f"this one reads {', '.join(READABLE)}")
            raise StudioError(f"{where}: unknown format {found!r} (expected {FORMAT})")
        for key, kind in (("kind", str), ("config", dict), ("files", dict), ("paths", dict),
                          ("state", dict), ("history", list), ("corpus", dict)):
            if key in data and not isinstance(data[key], kind) or key in (
                    "kind", "config", "files") and key not in data:
                raise StudioError(f"{where}: corrupted (no valid {key!r} entry)")
        check_record(data, where)
        known = {f.name for f in fields(cls)} - {"other"}
        return cls(**{k: v for k, v in data.items() if k in known},
                   other={k: v for k, v in data.items() if k not in known})

    def to_json(self) -> dict:
        data = asdict(self)
        other = data.pop("other")
        return {**data, **other}

    def replace(self, **changes) -> "RunMeta":
        return replace(self, **changes)

    @property
    def step(self) -> int:
        """Training steps taken (0 before the first checkpoint)."""
        return int(self.state.get("step", 0))

    @property
    def seconds(self) -> float:
        """Training time, summed over every session of the run."""
        return float(self.state.get("seconds", 0.0))

    @property
    def model_settings(self) -> dict:
        """The model's config as saved (for ``GeneratorConfig/SentimentConfig.from_dict``)."""
        return self._config_part("model")

    @property
    def train_settings(self) -> dict:
        return self._config_part("train")

    def _config_part(self, part: str) -> dict:
        if not isinstance(self.config.get(part), dict):
            raise StudioError(f"meta.json: corrupted (no {part} settings in its config)")
        return self.config[part]
