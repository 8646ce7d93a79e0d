"""Contrast sentences ("X but Y", labeled by Y) and `sentiment evaluate --contrast` (issue 29.6)."""
import json

import pytest

from engine.sentiment.contrast import build_contrast, clause_pool, usable_clauses

from .conftest import run_cli
from .sentiment_helpers import NEGATIVE, POSITIVE, synthetic_rows, train_sentiment_run, write_csv


def rated(n=400, seed=0):
    """(text, label, rating) rows from the synthetic sentences, labels spelled as the corpus does,
    plus long, inner-"but" and weakly rated rows that must be left out."""
    rows = [(text.capitalize(), "positive" if lab == "pos" else "negative",
             2.0 if lab == "pos" else -2.0) for text, lab in synthetic_rows(n, seed)]
    rows += [("the film was quite good but long", "positive", 2.5),
             (" ".join(["plot"] * 13) + " zorbly", "positive", 2.5),
             ("the film was a scene", "positive", 0.2)]
    return rows


def test_builder_is_deterministic_and_labels_follow_the_clause_after_but():
    rows = rated()
    one, two = build_contrast(rows, n=60, seed=3), build_contrast(rows, n=60, seed=3)
    assert one == two
    assert build_contrast(rows, n=60, seed=4).texts != one.texts
    clause_label = {c.rstrip(".").casefold(): lab for c, lab in zip(one.first + one.second,
                                                                   one.first_labels + one.second_labels)}
    for text, label, first_label in zip(one.texts, one.labels, one.first_labels):
        first, second = text.rstrip(".").split(" but ")
        assert second[0].islower()                      # lowercase-first after "but"
        assert clause_label[second.casefold()] == label != first_label
        assert len(first.split()) <= 12 and len(second.split()) <= 12
    assert one.labels.count("positive") == one.labels.count("negative") == 30
    for text in one.first + one.second:                  # the long, "but" and weak rows stay out
        assert " but " not in text and "plot plot" not in text and text != "The film was a scene."


def test_augmentation_pool_shares_no_clause_with_the_test_pool():
    rows = rated(2000)
    test = usable_clauses(rows, pool="test")
    train = usable_clauses(rows, pool="train")
    test_all = {c.casefold() for side in test.values() for c in side}
    train_all = {c.casefold() for side in train.values() for c in side}
    assert test_all and train_all and not test_all & train_all
    assert all(clause_pool(c) == "test" for c in test_all)
    built = build_contrast(rows, n=200, pool="train")
    assert not {c.rstrip(".").casefold() for c in built.first + built.second} & test_all


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contrast")
    rows = [(t, "positive" if lab == "pos" else "negative") for t, lab in synthetic_rows()]
    train_sentiment_run(folder / "run", write_csv(folder / "data.csv", rows))
    data = write_csv(folder / "rated.csv", rated(), header=("text", "label", "rating"))
    return folder, data


def test_cli_contrast_json_has_the_new_keys(tiny_run):
    folder, data = tiny_run
    done = run_cli("sentiment", "evaluate", folder / "run", "--contrast", "40", "--data", data,
                   "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["n"] == 40 and result["seed"] == 0
    for key in ("contrast", "first_clause", "second_clause"):
        assert result[key]["n"] == 40 and 0.0 <= result[key]["accuracy"] <= 1.0
    # the made-up words are learnt, so each clause alone is read right
    assert result["first_clause"]["accuracy"] >= 0.9 and result["second_clause"]["accuracy"] >= 0.9
    assert any(w in result["examples"][0]["text"] for w in POSITIVE + NEGATIVE)
    text = run_cli("sentiment", "evaluate", folder / "run", "--contrast", "40", "--data", data)
    assert text.returncode == 0 and "X but Y" in text.stdout


def test_cli_contrast_refuses_a_file_without_ratings_and_a_non_sentiment_run(tiny_run, tmp_path):
    folder, _ = tiny_run
    done = run_cli("sentiment", "evaluate", folder / "run", "--contrast", "--data", folder / "data.csv")
    assert done.returncode == 2 and "rating" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "empty").mkdir()
    done = run_cli("sentiment", "evaluate", tmp_path / "empty", "--contrast", "--data",
                   folder / "data.csv")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


def test_contrast_pairs_setting_adds_training_sentences_only(tmp_path):
    from engine.events import Started
    from .sentiment_helpers import TINY_SENTIMENT
    rows = [(t, "positive" if lab == "pos" else "negative") for t, lab in synthetic_rows()]
    data = write_csv(tmp_path / "data.csv", rows)
    plain = train_sentiment_run(tmp_path / "plain", data)
    more = train_sentiment_run(tmp_path / "more", data,
                               model=TINY_SENTIMENT.__class__(**{**TINY_SENTIMENT.__dict__,
                                                                  "contrast_pairs": 50}))
    info = [e.info for e in (plain[0], more[0]) if isinstance(e, Started)]
    assert info[1]["train"] == info[0]["train"] + 50
    assert info[1]["val"] == info[0]["val"] and info[1]["test"] == info[0]["test"]
