"""Looking inside a generator: recording its cells, and ranking them by a property, a selected
span and labels (engine/generator/inside/neurons.py, cell_ranking.py, text_properties.py; the CLI's
``generator neurons``)."""
import json

import mxnet as mx
import numpy as np
import pytest

from engine.cli.main import main
from engine.config import GeneratorConfig
from engine.generator.data import CharVocab
from engine.errors import StudioError
from engine.generator.inside import neurons
from engine.generator.inside.cell_ranking import (quantised_ranks, rank_by_labels, rank_by_properties,
                                           rank_by_selection)
from engine.generator.load import load_generator
from engine.generator.model import CharRNN
from engine.generator.sampling.stepper import NumpyStepper
from engine.generator.inside.text_properties import (SPEAKER, Property, bracket_depth, line_position,
                                              pattern_property)

from .inside_helpers import (isolated_span, open_or_closed_texts, planted_text, spans_in,
                             train_planted)


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    return train_planted(tmp_path_factory)


def random_model(mode, vocab_size, layers=2, hidden=24):
    model = CharRNN(GeneratorConfig(vocab_size=vocab_size, mode=mode, embed_size=8,
                                    hidden_size=hidden, num_layers=layers, dropout=0.0))
    model.initialize(mx.init.Xavier())
    return model


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn"])
def test_recording_matches_the_step_by_step_reference(mode, monkeypatch):
    text = planted_text(2400, seed=5)
    vocab = CharVocab.from_text(text)
    model = random_model(mode, len(vocab))
    calls = []
    real = neurons._fused
    monkeypatch.setattr(neurons, "_fused", lambda *a: calls.append(a[1].shape) or real(*a))
    # a two-character warm-up guesses each row's start badly: the rows must be run again
    monkeypatch.setattr(neurons, "WARMUP", 2)
    monkeypatch.setattr(neurons, "FUSED_STEPS", 37)         # each row's run in several calls
    rec = neurons.record(model, vocab, text, row_chars=150)
    assert len(rec) == 2400 and rec.kinds == (("c", "h") if mode == "lstm" else ("h",))
    rows = [shape[1] for shape in calls]
    assert rows[:2] == [15, 16] and len(calls) > 4          # warm-up, all rows, then re-runs
    stepper = NumpyStepper(model)
    stepper.reset(model.begin_state(1))
    worst = 0.0
    for t, token in enumerate(vocab.encode(text)):
        probs = stepper.step(int(token), 1.0)
        for layer, state in enumerate(stepper.states, 1):
            worst = max(worst, np.abs(state[0] - rec.states[f"h{layer}"][t]).max())
            if mode == "lstm":
                worst = max(worst, np.abs(state[1] - rec.states[f"c{layer}"][t]).max())
    assert worst < 1e-5, worst
    # the likeliest next characters are the model's own prediction after the last character
    likeliest = rec.next_chars(len(text) - 1)
    assert len(likeliest) == 3 and likeliest[0][0] == rec.chars[int(np.argmax(probs))]
    assert likeliest[0][1] == pytest.approx(probs.max(), abs=1e-5)


def test_recording_leaves_out_unknown_characters_and_refuses_huge_texts(monkeypatch):
    vocab = CharVocab.from_text("abc \n")
    model = random_model("lstm", len(vocab), layers=1)
    rec = neurons.record(model, vocab, "ab€c é")
    assert rec.text == "abc " and rec.removed == {"€": 1, "é": 1}
    assert "2 character(s)" in rec.removed_note()
    with pytest.raises(StudioError, match="empty"):
        neurons.record(model, vocab, "")
    monkeypatch.setattr(neurons, "MAX_CHARS", 10)
    with pytest.raises(StudioError, match="at most 10"):
        neurons.record(model, vocab, "abc " * 5)
    with pytest.raises(StudioError, match="layers 1 to 1"):
        rec.parse_cell("2:1")
    assert rec.parse_cell("1:24h").name == "1:24h" and rec.parse_cell("1:3").kind == "c"


def test_final_states_equal_the_recording_at_each_texts_end():
    vocab = CharVocab.from_text("abcd <>\n")
    model = random_model("lstm", len(vocab))
    texts = ["ab cd", "abcd <ab> cd\nab", "a", "dcba dcba"]
    finals, kept, _ = neurons.final_states(model, vocab, texts, batch=3)
    assert kept == [0, 1, 2, 3]
    for text, row in zip(texts, finals):
        rec = neurons.record(model, vocab, text)
        expected = np.concatenate([rec.states[f"{k}{layer}"][-1] for k, layer, _ in rec.blocks()])
        np.testing.assert_allclose(row, expected, atol=1e-5)


# ---- the properties and the scores --------------------------------------------------------
def test_text_properties():
    assert bracket_depth("a) (b [c] d) e").tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 1, 1, 1, 0, 0, 0]
    assert line_position("ab\ncd").tolist() == [0, 1, 2, 0, 1]
    play = "HAMLET:\nTo be, or not:\nFirst Citizen:\nBefore we proceed\n"
    speaker = pattern_property("speaker", SPEAKER, play).values
    assert "".join(c for c, s in zip(play, speaker) if s) == "HAMLET:First Citizen:"
    with pytest.raises(StudioError, match="not a valid regular expression"):
        pattern_property("bad", "(unclosed", "text")


def test_auc_from_quantised_ranks_equals_counting_pairs():
    rng = np.random.RandomState(0)
    values = np.round(rng.randn(300, 5), 1)              # many ties
    mask = rng.rand(300) < 0.3
    ranks = quantised_ranks(values)
    for col in range(5):
        inside, outside = values[mask, col], values[~mask, col]
        wins = (inside[:, None] > outside[None, :]).mean() + \
            0.5 * (inside[:, None] == outside[None, :]).mean()
        n_in = mask.sum()
        auc = (ranks[mask, col].sum() - n_in * (n_in + 1) / 2) / (n_in * (~mask).sum())
        assert auc == pytest.approx(wins, abs=1e-12)


# ---- the planted property -----------------------------------------------------------------
@pytest.fixture(scope="module")
def planted_recording(planted_run):
    model, vocab, _ = load_generator(str(planted_run[0]))
    probe = planted_text(3000, seed=1)
    return model, vocab, neurons.record(model, vocab, probe)


def test_a_cell_tracks_the_planted_property_and_ranks_first(planted_recording):
    _, _, rec = planted_recording
    angle = pattern_property("angle", r"<[^>]*>", rec.text)
    shuffled = Property("shuffled", "at random", np.random.RandomState(0).permutation(angle.values))
    planted, control = rank_by_properties(rec, [angle, shuffled], top=64)
    assert planted.cells[0].strength > 0.95, planted.cells[:3]
    assert control.cells[0].strength < 0.3, control.cells[:3]     # 64 cells x chance: small
    inside = rec.display(planted.cells[0].cell)[angle.values].mean()
    outside = rec.display(planted.cells[0].cell)[~angle.values].mean()
    assert (inside > outside) == planted.cells[0].higher


def test_selecting_one_span_finds_the_others(planted_recording):
    _, _, rec = planted_recording
    start, end = isolated_span(rec.text)
    result = rank_by_selection(rec, start, end - 1)         # from "<" to the last letter
    best = result.ranking.cells[0]
    assert best.score == 1.0 and len(result.used) == 3
    angle = pattern_property("angle", r"<[^>]*>", rec.text)
    tracks = {c.cell: c.strength for c in rank_by_properties(rec, [angle], top=10**6)[0].cells}
    assert all(tracks[c.cell] > 0.9 for c in result.used)
    spans = spans_in(rec.text)
    found = result.matches
    assert sum(m.selected for m in found) == 1
    hits = sum(any(m.start < b and m.end > a for m in found) for a, b in spans)
    right = sum(any(m.start < b and m.end > a for a, b in spans) for m in found)
    assert hits >= 0.9 * len(spans) and right >= 0.9 * len(found), (hits, len(spans), len(found))


def test_label_ranking_finds_the_planted_cue(planted_recording):
    model, vocab, rec = planted_recording
    texts, labels = open_or_closed_texts(200)
    finals, kept, _ = neurons.final_states(model, vocab, texts)
    ranking = rank_by_labels(rec.cells(), finals, labels)
    best = ranking.cells[0]
    assert best.strength > 0.95 and "'open'" in best.detail, ranking.cells[:3]
    angle = pattern_property("angle", r"<[^>]*>", rec.text)
    tracks = {c.cell: c.strength for c in rank_by_properties(rec, [angle], top=10**6)[0].cells}
    assert tracks[best.cell] > 0.9                 # the cue is read by the "inside <>" cells
    shuffled = list(np.random.RandomState(0).permutation(labels))
    assert rank_by_labels(rec.cells(), finals, shuffled).cells[0].strength < 0.5


# ---- the command line ---------------------------------------------------------------------
def test_neurons_cli_json_and_plain_rendering(planted_run, tmp_path, capsys):
    run, _ = planted_run
    probe = tmp_path / "probe.txt"
    probe.write_text(planted_text(1500, seed=2), encoding="utf-8")
    start, end = isolated_span(probe.read_text())
    assert main(["generator", "neurons", str(run), "--text", str(probe), "--property",
                 "angle=<[^>]*>", "--select", f"{start}:{end - 1}", "--top", "3", "--cell",
                 "1:1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chars"] == 1500 and out["model"] == {"mode": "lstm", "layers": 1, "hidden": 32}
    by = {r["by"]: r for r in out["properties"]}
    assert set(by) == {"quotes", "brackets", "line position", "line start", "speaker",
                       "uppercase", "whitespace", "vowel", "angle"}
    assert by["quotes"]["note"] == "never holds in this text" and not by["quotes"]["cells"]
    assert by["angle"]["cells"][0]["strength"] > 0.95 and len(by["angle"]["cells"]) == 3
    assert len(out["selection"]["matches"]) > 5 and len(out["selection"]["matched_cells"]) == 3
    assert out["cell"]["cell"] == "1:1c" and len(out["cell"]["values"]) == 1500

    best = by["angle"]["cells"][0]["cell"]
    assert main(["generator", "neurons", str(run), "--text", str(probe), "--cell", best]) == 0
    shown = capsys.readouterr().out
    assert f"cell {best}:" in shown and "\x1b[" not in shown       # not a terminal: markers
    rendering = shown.split(f"cell {best}:\n", 1)[1]
    inner = "[" if by["angle"]["cells"][0]["higher"] else "{"
    assert f"{inner}<" in rendering and rendering.count(inner) >= 5


@pytest.mark.parametrize("args, message", [
    (["--select", "30:10"], "START < END"),
    (["--select", "abc"], "START:END"),
    (["--cell", "3:1"], "layers 1 to 1"),
    (["--cell", "x"], "LAYER:INDEX"),
    (["--property", "bad=(x"], "not a valid regular expression"),
    (["--property", "nameonly"], "NAME=REGEX"),
])
def test_neurons_cli_refuses_bad_input_in_one_line(planted_run, tmp_path, capsys, args, message):
    probe = tmp_path / "probe.txt"
    probe.write_text(planted_text(200, seed=2), encoding="utf-8")
    assert main(["generator", "neurons", str(planted_run[0]), "--text", str(probe), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_neurons_cli_ranks_a_labeled_file(planted_run, tmp_path, capsys):
    from .sentiment_helpers import write_csv
    texts, labels = open_or_closed_texts(60)
    data = write_csv(tmp_path / "labeled.csv", list(zip(texts, labels)))
    assert main(["generator", "neurons", str(planted_run[0]), "--labels", str(data), "--top",
                 "2", "--max-texts", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["labels"]
    assert out["cells"][0]["strength"] > 0.9 and len(out["cells"]) == 2
    assert "a random 40 of the file's 60" in out["note"]
