"""Configurations as frozen dataclasses, saved as JSON in each run folder: the one home of every
setting and its default.

A checkpoint rebuilds its own model from ``meta.json``'s ``config``, so every field that shapes
the model or its training lives here. Names follow gluon-nlp (``mode``, ``embed_size``, ...).
Each setting a person may choose carries its help text, its command-line flag, its range and its
label as field metadata (``setting``): the CLI's flags and help and the GUI's widgets, starting
values and tooltips are all made from these fields, and the ranges are checked here, once.
"""
import math
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import ClassVar, FrozenSet, Optional

from engine.errors import Setting, StudioError

# how gradients may be combined (the kvstore setting's choices; engine/training/distributed.py
# refuses any other)
KVSTORES = ("local", "device", "dist_sync", "dist_async")
PRECISIONS = ("auto", "fp32", "bf16")      # engine/generator/precision.py says what each does


def setting(default, help: str, *, flag: Optional[str] = None, label: Optional[str] = None,
            low=None, high=None, step=None, choices=None, advanced: bool = False,
            type=None, suggested=None):
    """A field a person chooses. ``help`` is the CLI's help and the GUI's tooltip (plain
    words); ``flag`` the CLI flag (default ``--name-with-dashes``); ``label`` the GUI's label;
    ``low``/``high`` the accepted range (checked on creation; the GUI's spin-box range);
    ``advanced`` puts it under the GUI's Advanced settings; ``type`` the value type where ``None`` is allowed,
    and ``suggested`` the GUI's starting value for such a setting."""
    return field(default=default, metadata=dict(help=help, flag=flag, label=label, low=low,
                                                high=high, step=step, choices=choices,
                                                advanced=advanced, type=type,
                                                suggested=suggested))


def settings_of(cls, offered: bool = False):
    """The chooseable fields of a config class (those made with ``setting``); with ``offered``
    only those its kind's commands and forms offer (all but the class's ``withheld``: a
    setting it inherits and has no use for, so a new kind says it in its own config)."""
    return [f for f in fields(cls) if "help" in f.metadata
            and not (offered and f.name in cls.withheld)]


def default_of(cls, name: str):
    f = next(f for f in fields(cls) if f.name == name)
    return f.default if f.default is not MISSING else f.default_factory()


def label_of(f) -> str:
    """The app's label of a config field: its ``label``, else its name in words."""
    return f.metadata["label"] or f.name.replace("_", " ").capitalize()


def value_type(f):
    return f.metadata.get("type") or type(f.default)


class _JSONConfig:
    # inherited settings this class's kind does not offer (its flags and form rows); the field
    # stays, with its default, in the saved record
    withheld: ClassVar[FrozenSet[str]] = frozenset()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        """Settings as a run saved them. The compatibility rule (ARCHITECTURE.md, "Runs saved by
        other versions"): a setting missing from the record takes its default (a version that
        adds a setting gives it the default that reproduces runs saved without it); a setting
        this version does not know means a newer version saved the run, and it is refused by
        name, never dropped (the model or the training it describes would silently change)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise StudioError(f"saved by a newer RNN Studio: its setting(s) {', '.join(unknown)} "
                              f"are not known to this version (update RNN Studio to open it)")
        return cls(**data)

    def replace(self, **changes):
        return replace(self, **changes)

    def _check_ranges(self):
        for f in settings_of(type(self)):
            m, value = f.metadata, getattr(self, f.name)
            # the command line's words: "hidden_size (--hidden)"; the app's: its label
            who = Setting(f.name, f.name + (f" ({m['flag']})" if m["flag"] else ""),
                          label_of(f))
            if value is None:
                continue
            if m["choices"] and value not in m["choices"]:
                shown = " or ".join(repr(c) for c in m["choices"])
                raise StudioError(who, f" must be {shown}, not {value!r}")
            if f.type in (int, "int") and (isinstance(value, bool) or not isinstance(value, int)):
                raise StudioError(who, f" must be a whole number, not {value!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                if m["low"] is not None and f.type not in (str, "str"):
                    raise StudioError(who, f" must be a number, not {value!r}")
                continue
            if not math.isfinite(value):         # nan passes every comparison below
                raise StudioError(who, f" must be a finite number, not {value}")
            if m["low"] is not None and value < m["low"]:
                raise StudioError(who, f" must be at least {m['low']}, not {value}")
            if m["high"] is not None and value > m["high"]:
                raise StudioError(who, f" must be at most {m['high']}, not {value}")


@dataclass(frozen=True)
class GeneratorConfig(_JSONConfig):
    """Shape of a character-level language model (CharRNN)."""
    vocab_size: int = 0          # number of distinct characters; set from the corpus
    mode: str = setting("lstm", "LSTM: the classic char-rnn cell. GRU: a little smaller and "
                        "faster. RNN: the plain (tanh) RNN, no gates: the baseline that shows "
                        "why gates exist", flag="--cell", label="Cell",
                        choices=("lstm", "gru", "rnn"))
    embed_size: int = setting(64, "Width of each character's embedding", flag="--embed",
                              label="Embedding", low=1, high=1024, step=4)
    hidden_size: int = setting(512, "Units per recurrent layer: bigger learns more, trains slower",
                               flag="--hidden", label="Hidden size", low=1, high=4096, step=16)
    num_layers: int = setting(2, "Stacked recurrent layers", flag="--layers", label="Layers",
                              low=1, high=8)
    dropout: float = setting(0.2, "Share of units dropped between layers while training (fights "
                             "overfitting)", label="Dropout", low=0.0, high=0.95, step=0.05)

    def __post_init__(self):
        self._check_ranges()


@dataclass(frozen=True)
class TrainConfig(_JSONConfig):
    """How to train: batching, optimiser, budgets and bookkeeping. The generator's defaults;
    ``SentimentTrainConfig`` has the sentiment model's."""
    default_epochs = 5.0         # with neither an epoch nor a time budget given
    withheld = frozenset({"test_fraction"})      # a generator tests on no split of its own

    seq_len: int = setting(100, "Characters per backpropagation window", label="Sequence length",
                           low=1, high=10000, step=10)
    batch_size: int = setting(64, "Sequences (or texts) trained on at once", flag="--batch",
                              label="Batch size", low=1, high=4096, step=8)
    lr: float = setting(2e-3, "Adam's learning rate after the warm-up", label="Learning rate",
                        low=1e-6, high=1.0, step=5e-4)
    lr_decay: float = setting(0.95, "The learning rate is multiplied by this after each epoch",
                              label="Learning-rate decay per epoch", low=0.0, high=1.0,
                              advanced=True)
    warmup_steps: int = setting(50, "Steps over which the learning rate rises from 0",
                                flag="--warmup", label="Warm-up steps", low=0, high=100000,
                                advanced=True)
    clip: float = setting(5.0, "Largest step the weights may take at once: bigger gradients "
                          "are scaled down to this size (their global norm)",
                          label="Gradient limit", low=1e-6, high=1e6, advanced=True)
    weight_decay: float = setting(0.0, "Pulls every weight a little toward zero at each step "
                                  "(an L2 penalty, Adam's wd); 0 = off", label="Weight shrinking",
                                  low=0.0, high=1.0, advanced=True)
    epochs: Optional[float] = setting(None, "Passes over the training data (default 5 for a "
                                      "generator, 10 for a sentiment model, unless a budget in "
                                      "minutes is given)", label="Epochs", low=0.01,
                                      high=100000, step=1, type=float)
    minutes: Optional[float] = setting(None, "Wall-clock budget in minutes", label="Minutes",
                                       low=0.01, high=1e6, step=1, type=float, suggested=10)
    # what it measured (the budgets where it pays and where it does not) is in README.md's
    # recipes table: help says what a setting does, and measured figures there go stale
    anneal: str = setting("none", "'cosine': with a time budget, the learning rate also follows "
                          "a cosine down to 5 % over it (it pays when the budget covers more "
                          "than one pass over the text)",
                          label="Learning-rate curve", choices=("none", "cosine"),
                          advanced=True)
    val_fraction: float = setting(0.05, "Share of the data held back to check the model on "
                                  "while it trains (validation)", label="Share held back to check",
                                  low=1e-6, high=0.5, advanced=True)
    test_fraction: float = setting(0.1, "Share of the data held back for the final test, never "
                                   "seen in training", label="Share held back to test",
                                   low=0.0, high=0.5, advanced=True)
    seed: int = setting(0, "Seeds the data order, the initial weights and dropout: same seed, "
                        "same run", label="Seed", low=0, high=2**31 - 1)
    log_interval: int = setting(20, "Steps between progress reports", label="Steps per report",
                                low=1, high=2**31 - 1, advanced=True)
    val_interval: int = setting(200, "Steps between validations and checkpoints (also at each "
                                "epoch's end)", label="Steps per check and save", low=1,
                                high=2**31 - 1, advanced=True)
    sample_length: int = setting(200, "Characters in the preview written after each "
                                 "validation", label="Preview length", low=0, high=100000,
                                 advanced=True)
    patience: int = setting(0, "Stop after this many validations without a better score "
                            "(0 = never)", label="Patience", low=0, high=10000, advanced=True)
    precision: str = setting("auto", "Arithmetic of the recurrent layer: auto (the default): "
                             "bf16 where this CPU has AVX512_BF16 or AMX and the oneDNN "
                             "library is built, else fp32; fp32; or bf16 (bfloat16: faster "
                             "where the CPU has it; the weights and the optimizer stay fp32, "
                             "and it learns as much per step)",
                             label="Precision", choices=PRECISIONS, advanced=True)
    ctx: str = setting("cpu", "Where to compute: cpu, gpu, gpu:N, or a list of GPUs such as "
                       "gpu:0,1 that share each batch")
    kvstore: str = setting("local", "How gradients are combined: local (one process), device "
                           "(summed on the GPUs), dist_sync or dist_async (several processes "
                           "or machines, started by 'rnn-studio launch')",
                           choices=KVSTORES)

    # what may change when a run is resumed: its budgets and where it computes; everything
    # that shapes the run is the run's own
    changeable_on_resume = ("epochs", "minutes", "ctx", "kvstore", "precision")

    def resumed_from(self, saved: dict) -> "TrainConfig":
        """The saved run's settings with this call's budgets, context and precision: those may
        change on resume; everything that shapes the run may not."""
        return type(self).from_dict(saved).replace(
            **{name: getattr(self, name) for name in self.changeable_on_resume})

    def __post_init__(self):
        if self.epochs is None and self.minutes is None:
            object.__setattr__(self, "epochs", self.default_epochs)
        self._check_ranges()


def _default(cls, name: str, value):
    """The field ``name`` of ``cls`` with another default (its help and range kept)."""
    base = next(f for f in fields(cls) if f.name == name)
    return field(default=value, metadata=base.metadata)


# The labeled data a new sentiment model learns from unless told otherwise (a built-in corpus,
# corpora/): all four rated domains, so the first model works on reviews, posts and news.
DEFAULT_SENTIMENT_DATA = "rated-sentences"


@dataclass(frozen=True)
class SentimentTrainConfig(TrainConfig):
    """How a sentiment model trains: smaller batches, a steeper decay, early stopping."""
    default_epochs = 10.0
    # a sentiment model trains on whole texts, checks once an epoch and writes no preview
    withheld = frozenset({"seq_len", "val_interval", "sample_length", "precision"})

    batch_size: int = _default(TrainConfig, "batch_size", 32)
    lr_decay: float = _default(TrainConfig, "lr_decay", 0.9)
    warmup_steps: int = _default(TrainConfig, "warmup_steps", 20)
    val_fraction: float = _default(TrainConfig, "val_fraction", 0.1)
    sample_length: int = _default(TrainConfig, "sample_length", 0)
    patience: int = _default(TrainConfig, "patience", 3)


@dataclass(frozen=True)
class SentimentData(_JSONConfig):
    """What the data decides about a sentiment model (set when a run starts, never chosen)."""
    vocab_size: int = 0          # words in the vocabulary (with <unk> and <pad>)
    num_classes: int = 2
    class_polarity: tuple = ()   # -1/+1 per class for the lexicon's vote (empty when the labels
                                 # are not a negative/positive pair)
    linear_texts: int = 0        # texts the linear half was fitted on (marks the unseen grams'
                                 # idf)
    unseen_gate: bool = False    # the vote's weight grows with the share of unseen grams (runs
                                 # saved before that feature have False)
    summed_valence: bool = False  # the reader's output layer also takes the text's summed
                                 # valence (L2: runs saved before it was measured useless, True)

    def __post_init__(self):
        object.__setattr__(self, "class_polarity", tuple(self.class_polarity))   # JSON: lists


@dataclass(frozen=True)
class SentimentConfig(_JSONConfig):
    """A word-level sentiment classifier (SentimentRNN): what a person chooses (the reader, the
    linear half, the lexicon, the text preprocessing), and ``data``, what the data decided."""
    mode: str = setting("gru", "LSTM or GRU; GRU is as accurate here and faster",
                        flag="--cell", label="Cell", choices=("lstm", "gru"))
    embed_size: int = setting(100, "Word embedding width", flag="--embed", label="Embedding",
                              low=1, high=1024, step=10)
    hidden_size: int = setting(64, "Units per direction (64 measured as good as 128 here)",
                               flag="--hidden", label="Hidden size", low=1, high=2048, step=16)
    num_layers: int = setting(1, "Stacked recurrent layers", flag="--layers", label="Layers",
                              low=1, high=8, advanced=True)
    bidirectional: bool = setting(False, "Also read each text backwards: half the speed, no "
                                  "ONNX export, and no more accurate in the mixture here",
                                  label="Read both ways", advanced=True)
    dropout: float = setting(0.4, "Share of the word vectors and of the reader's summary "
                             "dropped while training (fights overfitting)", label="Dropout",
                             low=0.0, high=0.95, step=0.05, advanced=True)
    lexicon: bool = setting(True, "Give the network each word's VADER valence (helps on words "
                            "the training data never had)", label="Use the VADER word list")
    word_vectors: str = setting("ppmi", "ppmi: word meanings worked out once from which words "
                                "appear together in the texts, then kept fixed; learned: "
                                "learned from scratch with the classifier",
                                label="Word meanings", choices=("ppmi", "learned"),
                                advanced=True)
    unlabeled: str = setting("auto", "Extra unlabeled text for the word vectors: a built-in "
                             "labeled corpus or a labeled file (its texts only); 'auto': "
                             "movie-reviews for the built-in movie sentences and snippets; "
                             "'' = none",
                             label="Extra text for word meanings", advanced=True)
    extra_train: str = setting("auto", "Extra labeled texts the linear half also learns from "
                               "(never validation or test); 'auto': movie-reviews for "
                               "movie-sentences and movie-snippets; '' = none",
                               label="Extra labeled texts", advanced=True)
    linear: bool = setting(True, "Mix in a second, simple classifier that weighs which words "
                           "and word pairs a text has (TF-IDF 1-2 grams, linear.py)",
                           label="Word-count classifier beside the reader", advanced=True)
    linear_buckets: int = 1_048_577  # its hashed gram table (ids 1..2^20; fewer collide more)
    linear_l2: float = 1e-4      # its L2 penalty
    lexicon_prior: float = setting(1.0, "How strongly the word-count classifier starts from "
                                   "the VADER lexicon's score of each word it knows, instead of "
                                   "from zero (0 = off)", label="Start from the lexicon's scores",
                                   low=0.0, high=100.0, advanced=True)
    mix: float = setting(0.3, "The reader's share of the verdict against the word-count "
                         "classifier's (1 = the reader only); 0.3 measured better than 0.5",
                         label="Reader's share of the verdict", low=0.0, high=1.0,
                         advanced=True)
    lexicon_weight: float = setting(0.0, "How much the VADER lexicon's own verdict counts beside "
                                    "the trained model on every text (0 = not at all). More "
                                    "holds up better on other kinds of text and costs accuracy "
                                    "on text like the training data", label="Lexicon vote",
                                    low=0.0, high=8.0, step=0.25, advanced=True)
    contrast_pairs: int = setting(0, "Add this many 'X but Y' sentences (labeled by Y) to the "
                                  "training texts, joined from short positive and negative "
                                  "training sentences (never validation or test ones); 0 = none",
                                  label="Contrast sentences added", low=0, high=100_000,
                                  advanced=True)
    unfamiliar_weight: float = setting(2.0, "Extra weight for the lexicon's verdict on text "
                                       "unlike the training data: times the share of the text's "
                                       "words and word pairs the training texts never had "
                                       "(0 = off)", label="Vote on unfamiliar text", low=0.0,
                                       high=16.0, step=0.5, advanced=True)
    ngram_buckets: int = setting(200_003, "Slots in the table of words and word pairs the "
                                 "reader also looks up (hashed 1-2 grams; 0 = off)",
                                 label="Word-pair table size", low=0, high=10_000_000,
                                 advanced=True)
    ngram_size: int = setting(16, "Numbers per entry of that word-pair table",
                              label="Word-pair vector width", low=1, high=1024, advanced=True)
    max_len: int = setting(400, "Words kept per text (longer texts are cut)",
                           label="Words read per text", low=1, high=100000, advanced=True)
    min_freq: int = setting(1, "Words seen fewer times in training become unknown",
                            label="Times a word must appear", low=1, high=1000, advanced=True)
    max_vocab: int = setting(30_000, "Most frequent words kept", label="Words in the vocabulary",
                             low=1, high=10_000_000, advanced=True)
    data: SentimentData = SentimentData()

    def __post_init__(self):
        if isinstance(self.data, dict):
            object.__setattr__(self, "data", SentimentData.from_dict(self.data))
        self._check_ranges()
        if self.linear and self.linear_buckets < 2:
            raise StudioError("linear_buckets must be at least 2")
        if self.ngram_buckets == 1:
            raise StudioError("ngram_buckets must be 0 (off) or at least 2")

    @classmethod
    def from_dict(cls, saved: dict) -> "SentimentConfig":
        """Also reads the flat records of runs saved before ``data`` was split out."""
        saved = dict(saved)
        facts = dict(saved.pop("data", {}))
        for key in ("vocab_size", "num_classes", "class_polarity", "linear_texts"):
            if key in saved:
                facts[key] = saved.pop(key)
        if "unseen_gate" not in facts:       # saved before the flag: the gate was on exactly
            facts["unseen_gate"] = facts.get("linear_texts", 0) > 0   # when texts were counted
        facts.setdefault("summed_valence", True)    # saved before L2 was dropped: it had it
        return super().from_dict(dict(saved, data=SentimentData.from_dict(facts)))

    def with_data(self, **facts) -> "SentimentConfig":
        return self.replace(data=self.data.replace(**facts))

    @property
    def lexicon_takes_sides(self) -> bool:
        """The lexicon is on and the labels are a negative/positive pair (``class_polarity``),
        so lexicon valence can speak for a class (the vote, the linear half's prior)."""
        return self.lexicon and len(self.data.class_polarity) == self.data.num_classes


@dataclass(frozen=True)
class SamplingConfig(_JSONConfig):
    """How text is drawn from a trained generator: one sample's settings (a grid of samples is a
    list of these). The CLI's sample flags, the GUI's sampling controls and every default come
    from these fields."""
    temperature: float = setting(0.8, "How adventurous the text is: 0 always takes the likeliest "
                                 "character, 1 draws as the model learned, higher is wilder",
                                 label="Temperature", low=0.0, high=10.0, step=0.05)
    top_k: int = setting(0, "Keep only the k likeliest characters (0 = off)", label="Top-k",
                         low=0, high=100_000)
    top_p: float = setting(1.0, "Keep the likeliest characters that together hold this much "
                           "probability (1 = off)", label="Top-p", low=0.001, high=1.0,
                           step=0.05)
    prime: str = setting("", "Text to start from (printed first)", label="Prime")
    length: int = setting(500, "Characters to generate", label="Length", low=0,
                          high=10_000_000, step=100)
    seed: Optional[int] = setting(None, "Same seed, same text (default: a new one each time)",
                                  label="Seed", low=0, high=2**31 - 1, type=int, suggested=1)
    candidates: int = setting(8, "When steering: continuations drawn at each line end, of which "
                              "the one likeliest to carry the chosen label is kept (1 = plain "
                              "sampling)", label="Strength", low=1, high=64)
    steer_at: str = setting("line", "When steering: where candidates are drawn and judged, at "
                            "each line end or at each sentence end", label="Steer at",
                            choices=("line", "sentence"))
    steer_method: str = setting("best-of", "When steering: 'best-of' keeps the best of the "
                                "candidate lines; 'fudge' reweights each character's "
                                "likeliest choices (as many as the strength) by the verdict "
                                "on the line so far (measured weaker: README)",
                                label="Steering method", choices=("best-of", "fudge"),
                                advanced=True)

    def __post_init__(self):
        self._check_ranges()

    @property
    def filters(self) -> dict:
        """top-k and top-p as the sampler takes them (None = off)."""
        return {"top_k": self.top_k or None, "top_p": self.top_p if self.top_p < 1.0 else None}
