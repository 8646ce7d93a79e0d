"""How long a training will take, said before it starts: the size of the data over a training
speed measured on this project's 2-core development machine, scaled by how much work each model
does per item. An estimate to plan with (within about a factor of two on a machine like it,
busy or not), not a promise; the progress bar then follows the real run.

Where the numbers come from:
  * generator: the default model (2x512 LSTM, batch 64 x 100) trains ~4,200 chars/s on the
    2-core AMD EPYC machine, quiet (README, "Speed": 3,860-4,560; 423 steps in a 10-minute run),
    1.5 s a step; the recipes' smaller model (2x256) trained 2.8-3.0x faster than the default
    (1,258-1,300 steps in 10 minutes) where its weights per character are 3.8x fewer (README,
    "A recipe per time budget"): so a step is a fixed 0.1 s plus a part that
    grows with the weights used per character times the characters per step;
  * sentiment: ``sentiment train`` on rated-sentences (19,459 examples) with the defaults,
    measured here while the machine was shared (load 12-20 on 2 cores): 112-137 s before the
    first step (reading, tokenizing, word vectors, the word-count classifier), and epochs of
    47-62 s at first (validation included; 340 examples a second), later 73-102 s as the load
    grew; the issue that asked for estimates saw 55 s an epoch.
"""
from dataclasses import dataclass
from typing import Optional

from engine.config import GeneratorConfig, SentimentConfig, TrainConfig
from engine.generator.cells import parameter_count

# generator: seconds per step = STEP_S + chars per step x weights per char / WEIGHT_RATE
GENERATOR_STEP_S = 0.1
GENERATOR_WEIGHT_RATE = 1.5e10        # weight-uses per second (a multiply-add forward and back)
GENERATOR_PREPARE_S = 2.0             # building the model, and reading and encoding a text:
GENERATOR_PREPARE_S_PER_CHAR = 1e-6   # Shakespeare's 4.8 M characters took 9 s to encode here
                                      # at load 22, 4 s when cached; ~1/3 of that when quiet
# sentiment, the default model; other sizes scale with their reader's weights per word
SENTIMENT_PREPARE_S = 8.0             # the lexicon, the model; then per example:
SENTIMENT_PREPARE_S_PER_EXAMPLE = 0.006
SENTIMENT_EXAMPLES_PER_S = 340.0
SENTIMENT_REFERENCE = SentimentConfig()


@dataclass(frozen=True)
class Estimate:
    prepare_s: float            # before the first step (reading the data, building the model)
    epoch_s: float              # one pass over the training data, its validation included

    def seconds(self, epochs: float) -> float:
        return self.prepare_s + epochs * self.epoch_s

    def epochs_in(self, minutes: float) -> float:
        """Passes over the data that a time budget (which starts after preparing) allows."""
        return minutes * 60 / max(self.epoch_s, 1e-9)

    def describe(self, epochs: Optional[float], minutes: Optional[float],
                 early_stopping: bool = False) -> str:
        if minutes is not None:
            return (f"About {self.epochs_in(minutes):.1f} passes over the data in {minutes:g} "
                    f"minutes (one pass: about {_clock(self.epoch_s)}; getting ready first: "
                    f"about {_clock(self.prepare_s)}).")
        most = "At most about" if early_stopping else "About"
        return (f"{most} {_clock(self.seconds(epochs or 0))} ({epochs:g} passes of about "
                f"{_clock(self.epoch_s)}, after {_clock(self.prepare_s)} getting ready)" +
                ("; it stops sooner once validation stops improving." if early_stopping else "."))


def _clock(seconds: float) -> str:
    seconds = int(round(max(0.0, seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def weights_per_char(model: GeneratorConfig, vocab: int) -> int:
    """The weights a character goes through (the embedding is a lookup, not counted)."""
    return parameter_count(model, vocab) - vocab * model.embed_size


def generator_estimate(chars: int, vocab: int, model: GeneratorConfig,
                       train: TrainConfig) -> Estimate:
    per_step = train.batch_size * train.seq_len
    step_s = GENERATOR_STEP_S + per_step * weights_per_char(model, vocab) / GENERATOR_WEIGHT_RATE
    train_chars = chars * (1 - train.val_fraction)
    return Estimate(GENERATOR_PREPARE_S + chars * GENERATOR_PREPARE_S_PER_CHAR,
                    train_chars / per_step * step_s)


def _reader_weights(model: SentimentConfig) -> int:
    gates = 4 if model.mode == "lstm" else 3
    H, E = model.hidden_size, model.embed_size
    directions = 2 if model.bidirectional else 1
    return directions * sum(gates * H * ((E if layer == 0 else H * directions) + H)
                            for layer in range(model.num_layers))


def sentiment_estimate(examples: int, model: SentimentConfig, train: TrainConfig) -> Estimate:
    # half of an epoch's time measured grows with the reader's size, half does not (batching,
    # the word-pair table, the word-count classifier's share, validation)
    scale = 0.5 + 0.5 * _reader_weights(model) / _reader_weights(SENTIMENT_REFERENCE)
    trained = examples * (1 - train.val_fraction - getattr(train, "test_fraction", 0.0))
    return Estimate(SENTIMENT_PREPARE_S + examples * SENTIMENT_PREPARE_S_PER_EXAMPLE,
                    trained / SENTIMENT_EXAMPLES_PER_S * scale)
