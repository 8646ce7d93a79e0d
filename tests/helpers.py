"""Small helpers shared by the tests: tiny configs and a one-call trainer."""
from engine.config import GeneratorConfig, TrainConfig
from engine.events import Finished
from engine.generator.train import CorpusRef, train_generator

TINY = GeneratorConfig(mode="lstm", embed_size=8, hidden_size=32, num_layers=1, dropout=0.0)


def tiny_train(**overrides):
    base = dict(seq_len=20, batch_size=8, lr=1e-2, epochs=2, log_interval=5, val_interval=20,
                sample_length=20, warmup_steps=5, val_fraction=0.1)
    base.update(overrides)
    return TrainConfig(**base)


def train(run_dir, text_path, model=TINY, train_config=None, resume=False, should_stop=lambda: False):
    events = list(train_generator(run_dir, CorpusRef(str(text_path), "test") if text_path else None,
                                  model, train_config or tiny_train(), resume=resume,
                                  should_stop=should_stop))
    assert isinstance(events[-1], Finished)
    return events


# tests/conftest.py's ``text`` fixture (6,750 characters) at batch 4 x sequence 10: the epochs
# that end at a given step
STEPS_PER_EPOCH = 161


def epochs(steps: int) -> str:
    return f"{steps / STEPS_PER_EPOCH - 1e-6:.7f}"
