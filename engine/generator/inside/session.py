"""What the GUI's Look inside view asks of the engine, for one run: a loaded generator, the
texts to look at (a slice of its training text, a fresh sample, any text), the recording and
its rankings. Every method runs MXNet, so the GUI calls them only inside engine-thread jobs;
what they return (numpy arrays, dataclasses of floats and strings) any thread may read."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

from engine.storage.runs import RunFolder, resolve_run
from engine.generator.inside.cell_ranking import Ranking, rank_by_properties, record_and_rank
from engine.generator.load import load_generator
from engine.generator.inside.neurons import Recording
from engine.generator.sampling.sample import Sampler
from engine.generator.inside.text_properties import parse_property
from engine.generator.training_text import training_slice


@dataclass
class Look:
    recording: Recording
    rankings: List[Ranking]         # one per built-in property, then the extra ones


class InsideSession:
    def __init__(self, run_ref: str, which: str = "best"):
        self.run = RunFolder(resolve_run(run_ref))
        self.model, self.vocab, self.meta = load_generator(str(self.run.path), which)
        self.name = self.run.name

    def training_slice(self, start: int, length: int) -> str:
        return training_slice(self.meta, self.vocab, start, length, f"run {self.name}")

    def sample(self, length: int, temperature: float = 0.8, seed: Optional[int] = None) -> str:
        return Sampler(self.model, self.vocab).sample_text(length=length,
                                                           temperature=temperature, seed=seed)

    def look(self, text: str, extra: Sequence[str] = (), top: int = 20,
             should_stop: Callable[[], bool] = lambda: False) -> Optional[Look]:
        found = record_and_rank(self.model, self.vocab, text, extra, top,
                                should_stop=should_stop)
        return Look(*found) if found else None

    @staticmethod
    def rank_pattern(recording: Recording, spec: str, top: int = 20) -> Ranking:
        """The ranking for one ``NAME=REGEX`` property (numpy only: no model needed)."""
        return rank_by_properties(recording, [parse_property(spec, recording.text)], top)[0]
