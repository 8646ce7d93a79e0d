"""Many samples at once: a stream drawn beside others is bit for bit the stream drawn alone;
grids, scoring and steering by a sentiment model, through the engine and the CLI."""
import json

import mxnet as mx
import numpy as np
import pytest

from engine.config import SamplingConfig
from engine.generator.data import CharVocab
from engine.errors import StudioError
from engine.generator.sampling.grid import make_grid, parse_values, sample_grid
from engine.generator.model import CharRNN
from engine.generator.sampling.sample import SampledChar, Sampler
from engine.generator.sampling.stepper import MXNetStepper, NumpyStepper
from engine.generator.sampling.steer import Judge, at_boundary, ended, parse_steer, steered

from .conftest import run_cli
from .helpers import TINY, tiny_train, train
from .sentiment_helpers import synthetic_rows, train_sentiment_run, write_csv

TEXT = "the quick brown fox jumps over the lazy dog.\nA LAZY DOG, a quick fox!\n"

# streams that differ in every setting: primes of different lengths, greedy, top-k, top-p,
# no seed, different lengths
STREAMS = [SamplingConfig(prime="the ", temperature=1.0, seed=7, length=50),
           SamplingConfig(prime="", temperature=0.0, length=40),
           SamplingConfig(prime="A LAZY", temperature=1.4, top_k=5, seed=1, length=50),
           SamplingConfig(prime="fox", temperature=0.6, top_p=0.8, seed=2, length=33),
           SamplingConfig(prime="the ", temperature=1.0, seed=8, length=50),
           SamplingConfig(prime="q", temperature=2.5, top_k=3, top_p=0.9, seed=3, length=47),
           SamplingConfig(prime="the ", temperature=1.0, seed=7, length=50)]


def random_sampler(mode, hidden, layers, stepper):
    vocab = CharVocab.from_text(TEXT)
    model = CharRNN(TINY.replace(vocab_size=len(vocab), mode=mode, hidden_size=hidden,
                                 num_layers=layers, embed_size=5))
    model.initialize(mx.init.Xavier(magnitude=6), ctx=mx.cpu())    # peaky, not uniform
    model.hybridize(static_alloc=True)
    sampler = Sampler(model, vocab)
    if stepper == "mxnet":                  # the GPU's stepper, run here on the CPU
        sampler.stepper = MXNetStepper(model, mx.cpu())
    elif stepper == "matvec":               # the CPU's stepper without the lanes kernel
        sampler.stepper = NumpyStepper(model, kernel=False)
    return sampler


def drawn(sampler, configs):
    """Every stream's characters with the bits of their probabilities."""
    out = [[] for _ in configs]
    for chars in sampler.generate_many(configs):
        for ch in chars:
            out[ch.stream].append((ch.char, ch.prob, ch.logprob, ch.alternatives))
    return out


@pytest.mark.parametrize("stepper", ["numpy", "matvec", "mxnet"])
@pytest.mark.parametrize("mode,hidden,layers", [("lstm", 24, 2), ("gru", 13, 2), ("lstm", 7, 1),
                                               ("rnn", 11, 2)])
def test_a_stream_beside_others_is_exactly_the_stream_alone(mode, hidden, layers, stepper):
    sampler = random_sampler(mode, hidden, layers, stepper)
    together = drawn(sampler, STREAMS)
    for i, config in enumerate(STREAMS):
        if config.seed is None:
            continue
        alone = drawn(sampler, [config])[0]
        assert alone == together[i], (i, "".join(c for c, *_ in alone),
                                      "".join(c for c, *_ in together[i]))
        assert len(alone) == config.length
        # the one-stream API is the same stream
        assert sampler.sample_text(prime=config.prime, length=config.length,
                                   temperature=config.temperature, seed=config.seed,
                                   **config.filters) == "".join(c for c, *_ in alone)
    # in other company and another order, still the same
    again = drawn(sampler, [STREAMS[5], STREAMS[0], STREAMS[2]] * 3)
    assert again[1] == together[0] and again[0] == together[5] and again[8] == together[2]
    assert together[0] == together[6] and together[0] != together[4]
    texts = ["".join(c for c, *_ in t) for t in together]
    assert len(set(texts)) >= 5


def test_the_gpu_stepper_runs_uniform_blocks_and_matches_the_numpy_one():
    sampler = random_sampler("lstm", 24, 2, "mxnet")
    assert sampler.stepper.width >= 1 and sampler.stepper._rows_agree(sampler.stepper.width)
    numpy_sampler = Sampler(sampler.model, sampler.vocab)
    assert isinstance(numpy_sampler.stepper, NumpyStepper)
    greedy = SamplingConfig(prime="the ", temperature=0, length=40)
    a, b = drawn(sampler, [greedy])[0], drawn(numpy_sampler, [greedy])[0]
    np.testing.assert_allclose([p for _, p, *_ in a], [p for _, p, *_ in b], atol=1e-5)


def test_grid_cells_lists_and_their_errors():
    cells = make_grid(SamplingConfig(length=5), {"temperature": [0.5, 1.1], "seed": [1, 2, 3]})
    assert [(c.row, c.col) for c in cells[:3]] == [(0, 0), (0, 1), (1, 0)]
    assert cells[3].label == "temperature 1.1, seed 2" and cells[3].config.seed == 2
    assert parse_values("0.5, 0.8,1.1", "temperature") == [0.5, 0.8, 1.1]
    for text, name, message in (("0.5,,1", "temperature", "list of values"),
                                ("1,x", "seed", "whole numbers"), ("2,2", "seed", "twice")):
        with pytest.raises(StudioError, match=message):
            parse_values(text, name)
    with pytest.raises(StudioError, match="at least 0.0"):
        make_grid(SamplingConfig(), {"temperature": [0.5, -1.0]})
    with pytest.raises(StudioError, match="at most 64"):
        make_grid(SamplingConfig(), {"temperature": list(range(9)), "seed": list(range(9))})
    with pytest.raises(StudioError, match="SENTIMENT_RUN:LABEL"):
        parse_steer("just-a-run")
    assert parse_steer("/a/b:c:positive") == ("/a/b:c", "positive")


# ---- a planted case: lines that are clearly positive or negative ---------------------------
@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A tiny generator and a tiny classifier, both trained on the same labeled lines."""
    root = tmp_path_factory.mktemp("planted")
    rows = synthetic_rows(400, seed=1)
    (root / "lines.txt").write_text("".join(text + "\n" for text, _ in rows), encoding="utf-8")
    train(root / "gen", root / "lines.txt", model=TINY.replace(hidden_size=64),
          train_config=tiny_train(epochs=6, seq_len=40, batch_size=16, val_interval=100))
    train_sentiment_run(root / "sent", write_csv(root / "lines.csv", rows))
    from engine.generator.load import load_generator
    model, vocab, _ = load_generator(str(root / "gen"))
    return Sampler(model, vocab), Judge.load(str(root / "sent")), root


def share(judge, texts, label):
    lines = [line for t in texts for line in t.split("\n") if line.strip()]
    verdicts = judge.verdicts(lines)
    return sum(v.label == label for v in verdicts) / len(lines), len(lines)


def test_one_candidate_steering_is_plain_sampling(planted):
    sampler, judge, _ = planted
    configs = [SamplingConfig(temperature=t, seed=s, length=150, candidates=1)
               for t in (0.7, 1.2) for s in (1, 2)]
    plain = drawn(sampler, configs)
    steer = Judge(judge.predictor, "pos")
    out = [[] for _ in configs]
    for chars in steered(sampler, configs, steer):
        for ch in chars:
            out[ch.stream].append((ch.char, ch.prob, ch.logprob, ch.alternatives))
    assert out == plain


def test_steering_toward_a_label_raises_its_share(planted):
    sampler, judge, _ = planted
    configs = [SamplingConfig(temperature=1.0, seed=s, length=300, candidates=6)
               for s in range(4)]
    plain = sampler.sample_texts([c.replace(candidates=1) for c in configs])
    pos, n = share(judge, plain, "pos")
    assert n >= 20 and 0.2 < pos < 0.8, pos          # the generator writes both kinds
    for label in ("pos", "neg"):
        results = sample_grid(sampler, make_grid(configs[0], {"seed": [0, 1, 2, 3]}),
                              steer=Judge(judge.predictor, label))
        steered_share, _ = share(judge, [r.text for r in results], label)
        plain_share = pos if label == "pos" else 1 - pos
        assert steered_share > plain_share + 0.25, (label, plain_share, steered_share)


def test_steering_chooses_among_candidates_that_end_their_line():
    """A candidate cut off by the length left is not a line: the judge chooses among those that
    ended theirs, and among all only where none did (a steered sample on an AMX machine came out
    as one 120-character line: the cut candidate, with more words, looked the most positive)."""
    def chars(text):
        return [SampledChar(c, 1.0, ()) for c in text]
    lines = at_boundary([SamplingConfig(steer_at="line")])
    texts = [chars("a great great film"), chars("bad\n"), chars("fine\n")]
    assert ended([0, 1, 2], texts, 0, lines) == [1, 2]
    assert ended([0], texts, 0, lines) == [0]
    sentences = at_boundary([SamplingConfig(steer_at="sentence")])
    assert ended([0, 1, 2], [chars("so good"), chars("no. "), chars("yes!")], 0, sentences) == [2]


def test_a_judge_refuses_a_wrong_run_kind_and_an_unknown_label(planted):
    _, judge, root = planted
    with pytest.raises(StudioError, match="no label 'happy'; its labels are neg, pos"):
        Judge(judge.predictor, "happy")
    with pytest.raises(StudioError, match="is a generator run, not a sentiment run"):
        Judge.load(str(root / "gen"))


@pytest.mark.slow
def test_cli_grid_json_score_steer_and_errors(planted):
    _, _, root = planted
    gen, sent = str(root / "gen"), str(root / "sent")
    one = run_cli("generator", "sample", gen, "--length", "60", "--seed", "4", "--temperature",
                  "1.2")
    assert one.returncode == 0, one.stderr
    proc = run_cli("generator", "sample", gen, "--length", "60", "--temperature", "0.5,1.2",
                   "--seed", "4,5", "--json", "--score", sent)
    assert proc.returncode == 0, proc.stderr
    cells = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(c["temperature"], c["seed"]) for c in cells] == [(0.5, 4), (1.2, 4), (0.5, 5),
                                                              (1.2, 5)]
    assert cells[1]["text"] == one.stdout[:-1]      # the cell is the single sample
    for c in cells:
        assert len(c["text"]) == 60 and c["mean_logprob"] < 0
        assert c["sentiment"]["label"] in ("pos", "neg") and c["sentiment"]["lines"]
        assert all(0.5 <= ln["probability"] <= 1 for ln in c["sentiment"]["lines"])
    plain = run_cli("generator", "sample", gen, "--length", "80", "--temperature", "0.5,1.2")
    assert plain.returncode == 0 and plain.stdout.count("=== temperature") == 2
    k1 = run_cli("generator", "sample", gen, "--length", "60", "--seed", "4", "--temperature",
                 "1.2", "--steer", f"{sent}:pos", "--candidates", "1", "--json")
    assert k1.returncode == 0 and json.loads(k1.stdout)["text"] == one.stdout[:-1]
    for args, message in ((["--steer", f"{sent}:happy"], "no label 'happy'; its labels are"),
                          (["--score", gen], "is a generator run, not a sentiment run"),
                          (["--temperature", "0.5,x"], "not a comma-separated list"),
                          (["--steer", sent], "SENTIMENT_RUN:LABEL")):
        proc = run_cli("generator", "sample", gen, "--length", "5", *args)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_fudge_style_steering_reweights_the_draws_and_keeps_the_length(planted):
    """The compared alternative; it measured no better than plain sampling on this planted case
    (a word-level classifier says nothing until a word is complete: README)."""
    sampler, judge, _ = planted
    base = SamplingConfig(temperature=1.0, length=200, candidates=6, steer_method="fudge")
    results = sample_grid(sampler, make_grid(base, {"seed": [0, 1, 2]}),
                          steer=Judge(judge.predictor, "pos"))
    assert [r.chars for r in results] == [200] * 3
    plain = sampler.sample_texts([base.replace(seed=s) for s in range(3)])
    assert [r.text for r in results] != plain
    again = sample_grid(sampler, make_grid(base, {"seed": [0, 1, 2]}),
                        steer=Judge(judge.predictor, "pos"))
    assert [r.text for r in again] == [r.text for r in results]


def test_write_tab_suggestions_steer_from_the_state_at_the_cursor(planted):
    """Steered suggestions start from the state after a document (not from a prime), through
    steer.py's one steering: they differ from plain ones and lean toward the chosen label."""
    from engine.generator.writing import WritingState
    sampler, judge, root = planted
    state = WritingState(sampler)
    state.move_to((root / "lines.txt").read_text(encoding="utf-8")[:600])
    for label in ("pos", "neg"):
        steer = Judge(judge.predictor, label)
        plain, leaned = [], []
        for seed in range(4):
            kwargs = dict(count=3, length=120, end="line", temperature=1.0, seed=seed * 10)
            plain += [s.text for s in state.suggest(**kwargs)]
            leaned += [s.text for s in state.suggest(**kwargs, judge=steer, candidates=6)]
        assert leaned != plain
        assert all(t and "\n" not in t.lstrip("\n") for t in leaned)    # each ends at a line end
        before, after = (float(np.mean(steer.target_probs(t))) for t in (plain, leaned))
        assert after > before + 0.15, (label, before, after)
    # with one candidate, steering from the state is plain drawing, draw for draw
    one = state.suggest(count=3, length=120, end="line", seed=5, judge=Judge(judge.predictor, "pos"),
                        candidates=1)
    assert [s.text for s in one] == [s.text for s in state.suggest(count=3, length=120,
                                                                    end="line", seed=5)]
