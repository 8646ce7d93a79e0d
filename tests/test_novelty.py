"""Copied or new (engine/generator/sampling/novelty.py, ``generator novelty``): the suffix-array index of
a run's training text, and how much of a text it finds there."""
import io
import json
import shutil

import numpy as np
import pytest

from engine.cli.main import main
from engine.generator.data import CharVocab, encoded_cache_path
from engine.errors import StudioError
from engine.events import SampleReady
from engine.generator.sampling import novelty
from engine.generator.sampling.novelty import CorpusIndex, build_suffix_array, check_run, index_path
from engine.storage.runs import RunFolder

from .helpers import tiny_train, train
from .inside_helpers import planted_text, train_planted


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    return train_planted(tmp_path_factory)


def naive_longest(text: str, pattern: str) -> int:
    n = 0
    while n < len(pattern) and pattern[:n + 1] in text:
        n += 1
    return n


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_longest_matches_equal_brute_force(dtype):
    rng = np.random.RandomState(1)
    alphabet = "abc" if dtype == np.uint8 else "ab\u4e00"       # ids above 255 below
    for _ in range(20):
        text = "".join(rng.choice(list(alphabet), rng.randint(1, 60)))
        offset = 0 if dtype == np.uint8 else 300
        ids = np.array([alphabet.index(c) + offset for c in text], dtype)
        index = CorpusIndex(ids, build_suffix_array(ids))
        assert index.looks_sound()
        sample = "".join(rng.choice(list(alphabet + "x"), 25))       # "x" is never in the text
        codes = np.array([alphabet.index(c) + offset if c in alphabet else -1 for c in sample])
        lengths, places = novelty.matching_lengths(index, codes)
        for i in range(len(sample)):
            expected = naive_longest(text, sample[i:].split("x")[0])
            assert lengths[i] == expected, (text, sample, i)
            assert text[places[i]:places[i] + expected] == sample[i:i + expected]


def test_a_verbatim_slice_is_all_copied_and_found_where_it_is(planted_run, monkeypatch):
    run, text_file = planted_run
    monkeypatch.setenv("RNN_STUDIO_HOME", str(text_file.parent / "home"))
    text = text_file.read_text(encoding="utf-8")
    piece = text[7000:7500]
    report = check_run(str(run), piece)
    assert [report.windows[k]["share"] for k in (10, 20, 40)] == [1.0, 1.0, 1.0]
    assert report.windows[20] == {"windows": 481, "copied": 481, "share": 1.0}
    longest = report.longest
    assert (longest.start, longest.end, longest.text) == (0, 500, piece)
    assert longest.corpus_offset == 7000 and longest.line == text[:7000].count("\n") + 1
    assert len(report.spans) == 1 and report.spans[0].corpus_offset == 7000
    assert report.line() == f"100 % of 20-character windows copied; longest 500 characters, " \
                            f"from line {longest.line:,}"

    shuffled = "".join(np.random.RandomState(0).permutation(list(piece)))
    report = check_run(str(run), shuffled)
    assert report.windows[10]["share"] < 0.02 and report.windows[20]["share"] == 0.0
    assert report.spans == [] and report.longest.length < 10

    mixed = "<<" + piece[:60] + "\u20ac" + shuffled[:40]     # a character the model lacks
    report = check_run(str(run), mixed)
    assert report.left_out == 1 and report.longest.text == piece[:60]
    assert report.longest.start == 2 and report.spans[0].corpus_offset == 7000


def test_the_index_is_built_once_beside_the_encoded_text(planted_run, monkeypatch, caplog):
    run, text_file = planted_run
    monkeypatch.setenv("RNN_STUDIO_HOME", str(text_file.parent / "home"))
    check_run(str(run), "cab bad ")
    vocab = CharVocab.from_json(RunFolder(run).read_meta().vocab)
    encoded = encoded_cache_path(RunFolder(run).read_meta().corpus["sha256"], vocab)
    path = index_path(encoded)
    assert path.parent == encoded.parent and path.name.endswith(".sa.npy") and path.exists()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]
    built = path.stat().st_mtime_ns

    def no_rebuilding(ids):
        raise AssertionError("rebuilt")
    monkeypatch.setattr(novelty, "build_suffix_array", no_rebuilding)
    check_run(str(run), "cab bad ")
    assert path.stat().st_mtime_ns == built
    monkeypatch.undo()
    monkeypatch.setenv("RNN_STUDIO_HOME", str(text_file.parent / "home"))
    suffixes = np.load(path)
    np.save(path, suffixes[::-1].copy())             # damaged: same size, wrong order
    assert check_run(str(run), text_file.read_text()[:300]).windows[20]["share"] == 1.0
    assert "damaged" in caplog.text
    np.testing.assert_array_equal(np.load(path), suffixes)


@pytest.fixture
def small_run(tmp_path, text_file):
    """A run on a 6,000-character text, with 40-character previews."""
    events = train(tmp_path / "small", text_file,
                   train_config=tiny_train(epochs=6, lr=2e-2, sample_length=40))
    return tmp_path / "small", text_file, events


def test_previews_carry_their_novelty_and_a_gone_or_changed_text_is_named(small_run, capsys):
    run, text_file, events = small_run
    previews = [e for e in events if isinstance(e, SampleReady)]
    assert previews and all(0.0 <= e.copied_share <= 1.0 for e in previews)
    assert all(e.longest_copy >= 0 for e in previews)
    # the model learns the repeated sentence by heart, and the previews show it
    assert previews[0].copied_share < 0.5 < previews[-1].copied_share, previews
    assert previews[-1].longest_copy > 20 and previews[-1].longest_copy_line >= 1

    assert main(["generator", "novelty", str(run), "--text", str(text_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["windows"]["40"]["share"] == 1.0

    moved = text_file.with_name("moved.txt")
    shutil.move(text_file, moved)
    assert main(["generator", "novelty", str(run), "--text", str(moved)]) == 2
    err = capsys.readouterr().err
    assert "is gone" in err and str(text_file) in err and len(err.strip().splitlines()) == 1
    moved.rename(text_file)
    with open(text_file, "a", encoding="utf-8") as f:
        f.write("one more line\n")
    with pytest.raises(StudioError, match="has changed since it was trained"):
        check_run(str(run), "the quick")


def test_novelty_cli_reads_standard_input(planted_run, monkeypatch, capsys):
    run, text_file = planted_run
    monkeypatch.setenv("RNN_STUDIO_HOME", str(text_file.parent / "home"))
    text = text_file.read_text(encoding="utf-8")
    sample = planted_text(300, seed=9) + text[100:160]
    monkeypatch.setattr("sys.stdin", io.StringIO(sample))
    assert main(["generator", "novelty", str(run), "-"]) == 0
    out = capsys.readouterr().out
    assert "360 characters checked" in out and "longest copied span" in out
    assert "copied spans of 20+ characters" in out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["generator", "novelty", str(run), "-"]) == 2
