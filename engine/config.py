"""Configurations as frozen dataclasses, saved as JSON in each run folder.

A checkpoint rebuilds its own model from ``meta.json``'s ``config``, so every field that shapes
the model or its training lives here. Names follow gluon-nlp (``mode``, ``embed_size``, ...).
"""
from dataclasses import asdict, dataclass, fields, replace
from typing import Optional

from .errors import StudioError


class _JSONConfig:
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise StudioError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True)
class GeneratorConfig(_JSONConfig):
    """Shape of a character-level language model (CharRNN)."""
    vocab_size: int = 0          # number of distinct characters; set from the corpus
    mode: str = "lstm"           # recurrent cell: "lstm" or "gru"
    embed_size: int = 64         # character embedding width
    hidden_size: int = 512       # units per recurrent layer
    num_layers: int = 2          # stacked recurrent layers
    dropout: float = 0.2         # dropout between layers and before the output layer

    def __post_init__(self):
        if self.mode not in ("lstm", "gru"):
            raise StudioError(f"cell must be 'lstm' or 'gru', not {self.mode!r}")
        for name in ("embed_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise StudioError(f"{name} must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise StudioError("dropout must be in [0, 1)")


@dataclass(frozen=True)
class TrainConfig(_JSONConfig):
    """How to train: batching, optimiser, budgets and bookkeeping. Shared by both model kinds."""
    seq_len: int = 100           # BPTT length (generator) / unused by sentiment
    batch_size: int = 64         # sequences per batch
    lr: float = 2e-3             # Adam learning rate after warm-up
    lr_decay: float = 0.95       # learning rate multiplied by this once per epoch
    warmup_steps: int = 50       # linear warm-up from 0 to lr
    clip: float = 5.0            # global gradient-norm clip
    weight_decay: float = 0.0    # L2 penalty (Adam's wd)
    epochs: Optional[float] = None   # passes over the training data (None: only the time budget)
    minutes: Optional[float] = None  # wall-clock budget (None: only the epoch budget)
    anneal: str = "none"         # "cosine": with a time budget, the learning rate also follows a
                                 # cosine down to 5 % over it (measured worse on 10 minutes of
                                 # Shakespeare, 2.31 vs 2.24 bits/char: so not the default)
    val_fraction: float = 0.05   # share of the data held back for validation
    test_fraction: float = 0.1   # sentiment: share held back for the final test (stratified)
    seed: int = 0                # seeds data order, initialisation and dropout
    log_interval: int = 20       # steps between Progress events (and device syncs)
    val_interval: int = 200      # steps between validations + checkpoints (also at each epoch end)
    sample_length: int = 200     # characters in the preview sample at each validation
    patience: int = 0            # sentiment: stop after this many validations without gain (0 = off)
    ctx: str = "cpu"             # "cpu" or "gpu" / "gpu:N"

    def resumed_from(self, saved: dict) -> "TrainConfig":
        """The saved run's settings with this call's budgets and context: those may change on
        resume; everything that shapes the run may not."""
        return TrainConfig.from_dict(saved).replace(epochs=self.epochs, minutes=self.minutes,
                                                    ctx=self.ctx)

    def __post_init__(self):
        if self.epochs is None and self.minutes is None:
            object.__setattr__(self, "epochs", 5.0)
        for name in ("seq_len", "batch_size", "log_interval", "val_interval"):
            if getattr(self, name) < 1:
                raise StudioError(f"{name} must be at least 1")
        if self.lr <= 0:
            raise StudioError("learning rate must be positive")
        if not 0.0 < self.val_fraction < 0.5:
            raise StudioError("val_fraction must be between 0 and 0.5")
        if self.epochs is not None and self.epochs <= 0:
            raise StudioError("epochs must be positive")
        if self.minutes is not None and self.minutes <= 0:
            raise StudioError("minutes must be positive")
        if self.anneal not in ("none", "cosine"):
            raise StudioError(f"anneal must be 'none' or 'cosine', not {self.anneal!r}")


@dataclass(frozen=True)
class SentimentConfig(_JSONConfig):
    """Shape of a word-level sentiment classifier (SentimentRNN) and its text preprocessing."""
    vocab_size: int = 0          # words in the vocabulary (with <unk> and <pad>); set from the data
    num_classes: int = 2         # set from the data
    mode: str = "gru"            # recurrent cell: "lstm" or "gru" (GRU: as accurate here, faster)
    embed_size: int = 100        # word embedding width
    hidden_size: int = 64        # units per direction (64 measured as good as 128 here)
    num_layers: int = 1          # stacked recurrent layers
    bidirectional: bool = False  # also read each text backwards (padding-safe, see model.py):
                                 # half the speed, no better in the mixture here (README)
    dropout: float = 0.4         # on embeddings and on the pooled features
    lexicon: bool = True         # feed each word's VADER valence (negation-aware) to the network
    word_vectors: str = "ppmi"   # "ppmi": frozen vectors from unlabeled text (see word_vectors.py);
                                 # "learned": trained from scratch with the classifier
    unlabeled: str = ""          # extra unlabeled text for the vectors: a built-in labeled corpus
                                 # or a labeled file (its texts only); "" = the training texts alone
    linear: bool = True          # mix in a TF-IDF word 1-2 gram linear classifier (linear.py)
    linear_buckets: int = 1_048_577  # its hashed gram table (ids 1..2^20; fewer collide more)
    linear_l2: float = 1e-4      # its L2 penalty
    lexicon_prior: float = 1.0   # pulls its weights for lexicon words toward their valence instead
                                 # of toward zero, with the lexicon on (0 = off; linear.py)
    mix: float = 0.3             # the recurrent reader's weight against the linear half
                                 # (1 = reader only); 0.3 measured better than 0.5 (README)
    lexicon_weight: float = 0.0  # the lexicon's own vote in the mixture on every text: log-odds
                                 # per unit of its VADER-style compound score (0 = off; more =
                                 # steadier on other domains, less accurate on the training one)
    unfamiliar_weight: float = 2.0  # added to the vote's weight per unit of the share of the
                                 # text's 1-2 grams the training texts never had, so text unlike
                                 # the training data leans on the lexicon (0 = off; README)
    linear_texts: int = 0        # texts the linear half was fitted on; set from the data (it marks
                                 # the unseen grams' idf)
    class_polarity: tuple = ()   # -1/+1 per class for the lexicon's vote; set from the labels
                                 # (empty when they are not a negative/positive pair)
    extra_train: str = ""        # extra labeled texts the linear half also learns from (never
                                 # validation or test): a built-in labeled corpus or a labeled file
    ngram_buckets: int = 200_003 # hashed word 1-2 gram table for the linear branch (0 = off)
    ngram_size: int = 16         # width of the n-gram branch's vectors
    max_len: int = 400           # words kept per text (longer texts are cut)
    min_freq: int = 1            # words seen fewer times in training become <unk>
    max_vocab: int = 30_000      # most frequent words kept

    def __post_init__(self):
        if self.mode not in ("lstm", "gru"):
            raise StudioError(f"cell must be 'lstm' or 'gru', not {self.mode!r}")
        for name in ("embed_size", "hidden_size", "num_layers", "max_len", "min_freq", "max_vocab"):
            if getattr(self, name) < 1:
                raise StudioError(f"{name} must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise StudioError("dropout must be in [0, 1)")
        if self.word_vectors not in ("ppmi", "learned"):
            raise StudioError(f"word vectors must be 'ppmi' or 'learned', not {self.word_vectors!r}")
        if self.linear and self.linear_buckets < 2:
            raise StudioError("linear_buckets must be at least 2")
        if not 0.0 <= self.mix <= 1.0:
            raise StudioError("mix must be in [0, 1]")
        if self.lexicon_weight < 0:
            raise StudioError("lexicon_weight must be 0 (off) or positive")
        if self.unfamiliar_weight < 0:
            raise StudioError("unfamiliar_weight must be 0 (off) or positive")
        if self.lexicon_prior < 0:
            raise StudioError("lexicon_prior must be 0 (off) or positive")
        object.__setattr__(self, "class_polarity", tuple(self.class_polarity))   # JSON gives lists
        if self.ngram_buckets < 0 or self.ngram_buckets == 1:
            raise StudioError("ngram_buckets must be 0 (off) or at least 2")

    @property
    def lexicon_takes_sides(self) -> bool:
        """The lexicon is on and the labels are a negative/positive pair (``class_polarity``),
        so lexicon valence can speak for a class (the vote, the linear half's prior)."""
        return self.lexicon and len(self.class_polarity) == self.num_classes
