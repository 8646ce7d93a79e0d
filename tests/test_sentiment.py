"""The sentiment classifier: data formats, split, learning, contributions, files, export, errors."""
import json
import subprocess
import sys

import numpy as np
import pytest

import corpora
from engine.errors import StudioError
from engine.events import Progress, Validated
from engine.export.run import export_run
from engine.storage.runs import RunFolder
from engine.sentiment.features import to_batch
from engine.sentiment.labeled import read_labeled, require_classes
from engine.sentiment.lexicon import token_valence
from engine.sentiment.predict import SentimentPredictor
from engine.sentiment.split import normalised, stratified_split

from .conftest import run_cli
from .sentiment_helpers import (NEGATIVE, POSITIVE, TINY_SENTIMENT, synthetic_rows, tiny_sentiment_train,
                                train_sentiment_run, write_csv)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sentiment")
    data = write_csv(folder / "data.csv", synthetic_rows())
    events = train_sentiment_run(folder / "run", data)
    return folder / "run", data, events


def test_tiny_model_separates_synthetic_vocabulary(trained_run):
    run, _, events = trained_run
    losses = [e.train_loss for e in events if isinstance(e, Progress)]
    vals = [e.metrics["accuracy"] for e in events if isinstance(e, Validated)]
    assert losses[-1] < losses[0] / 4
    assert vals[-1] == 1.0
    meta = RunFolder(run).read_meta()
    assert meta.test["accuracy"] == 1.0 and meta.test["n"] == 24
    parts = meta.test["parts"]                     # each half learnt it alone (chance: 0.5)
    assert parts["linear"] == 1.0 and parts["reader"] >= 0.9, parts
    assert meta.labels == ["neg", "pos"]
    assert meta.test["confusion"] == [[12, 0], [0, 12]]
    assert {"last.params", "best.params", "trainer.states", "split.json"} <= set(meta.files)


def test_contributions_point_at_the_deciding_word(trained_run):
    predictor = SentimentPredictor.load(str(trained_run[0]))
    for word, label in ((POSITIVE[0], "pos"), (NEGATIVE[1], "neg")):
        verdict = predictor.explain(f"the plot was quite {word} and the actor a story")
        assert verdict.label == label
        assert abs(sum(verdict.probabilities.values()) - 1) < 1e-5
        # contributions point toward the positive label: a word's colour is its own direction
        assert verdict.toward == "pos"
        pick = max if label == "pos" else min
        top = pick(verdict.words, key=lambda wc: wc[1])
        assert top[0] == word, verdict.words


def test_classify_file_keeps_every_row_and_column(trained_run, tmp_path):
    predictor = SentimentPredictor.load(str(trained_run[0]))
    rows = [(str(i), t, "x") for i, (t, _) in enumerate(synthetic_rows(50, seed=3))]
    rows.append(("50", "", "empty text is kept too, unscored"))
    src = write_csv(tmp_path / "in.csv", rows, header=("id", "text", "note"))
    done = predictor.classify_file(src, tmp_path / "out.csv")
    out = list(__import__("csv").reader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert (done.total, done.skipped) == (51, 1)
    assert out[0] == ["id", "text", "note", "predicted_label", "p_neg", "p_pos", "known_words"]
    assert [r[:3] for r in out[1:]] == [list(r) for r in rows]
    expected = ["pos" if any(w in r[1].split() for w in POSITIVE) else "neg" for r in rows[:50]]
    assert [r[3] for r in out[1:51]] == expected and out[51][3:] == ["", "", "", ""]
    assert {r[6] for r in out[1:51]} == {"1.00"} and done.mostly_unknown == 0


FOREIGN = ["Le film était vraiment magnifique, je l'ai adoré du début à la fin.",
           "Une histoire ennuyeuse et des acteurs sans talent.",
           "这部电影非常好看，我很喜欢。",
           "剧情无聊，演员也很差。"]


def test_text_in_another_language_is_flagged_per_row_and_in_the_summary(trained_run, tmp_path):
    """Finding 5 (issue 29): French and Chinese rows of a classified file, through the real
    CLI, get their share of known words in a ``known_words`` column and are counted in the
    summary; a typed text says so too; English rows of the model's own words are not
    flagged."""
    run = trained_run[0]
    english = [t for t, _ in synthetic_rows(6, seed=5)]
    src = write_csv(tmp_path / "mixed.csv", [(t,) for t in english + FOREIGN], header=("text",))
    proc = run_cli("sentiment", "predict", run, "--file", src, "--output", tmp_path / "out.csv",
                   "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = list(__import__("csv").reader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert out[0][-1] == "known_words"
    known = [float(r[-1]) for r in out[1:]]
    assert known[:6] == [1.0] * 6 and all(k < 0.5 for k in known[6:]), known
    assert known[6] > 0          # "film" is one of the model's words
    assert "4 are mostly words this model never saw" in proc.stderr, proc.stderr
    assert "data row(s) 7, 8, 9, 10" in proc.stderr
    proc = run_cli("sentiment", "predict", run, "--json", english[0], FOREIGN[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    verdicts = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [v["mostly_unknown"] for v in verdicts] == [False, True]
    assert verdicts[0]["known_words"] == 1.0 and verdicts[1]["known_words"] == 0.0
    assert "text 2: only 0% of its words are known to this model" in proc.stderr
    assert "text 1:" not in proc.stderr


def test_every_data_format_loads_the_same_rows(tmp_path):
    rows = synthetic_rows(20)
    csv_rows = read_labeled(write_csv(tmp_path / "d.csv", rows))
    tsv_rows = read_labeled(write_csv(tmp_path / "d.tsv", rows, delimiter="\t"))
    with open(tmp_path / "d.jsonl", "w") as f:
        for t, lab in rows:
            f.write(json.dumps({"text": t, "label": lab}) + "\n")
    jsonl_rows = read_labeled(tmp_path / "d.jsonl")
    for i, (t, lab) in enumerate(rows):
        sub = tmp_path / "folder" / lab
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:03d}.txt").write_text(t)
    folder_rows = read_labeled(tmp_path / "folder")
    expected = sorted(rows)
    for data in (csv_rows, tsv_rows, jsonl_rows, folder_rows):
        assert sorted(zip(data.texts, data.labels)) == expected


def test_split_is_stratified_and_stable():
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    one = stratified_split(labels, 0.1, 0.2, seed=4)
    assert one == stratified_split(labels, 0.1, 0.2, seed=4)
    assert one != stratified_split(labels, 0.1, 0.2, seed=5)
    assert sorted(one["train"] + one["val"] + one["test"]) == list(range(100))
    assert [labels[i] for i in one["test"]].count("a") == 10
    assert {labels[i] for i in one["val"]} == {"a", "b", "c"}


def test_split_never_leaks_a_sentence_and_keeps_each_domain_in_proportion():
    """Copies of a sentence (in another case, spacing or punctuation) land on one side only;
    label and domain strata are split in proportion; data without copies splits as before."""
    rng = np.random.RandomState(0)
    texts, labels, domains = [], [], []
    for i in range(400):
        domain = ["films", "posts"][i % 2]
        label = ["neg", "pos"][(i // 2) % 2]
        text = f"sentence {i} about {domain}"
        for copy in range(1 + (i % 3 == 0)):             # a third of them twice, reworded
            texts.append(text.upper() + " !" if copy else text)
            labels.append(label)
            domains.append(domain)
    order = rng.permutation(len(texts))
    texts, labels, domains = ([x[i] for i in order] for x in (texts, labels, domains))
    split = stratified_split(labels, 0.1, 0.2, seed=3, texts=texts, strata=domains)
    assert sorted(sum(split.values(), [])) == list(range(len(texts)))
    sides = {}
    for part, idx in split.items():
        for i in idx:
            sides.setdefault(normalised(texts[i]), set()).add(part)
    assert all(len(s) == 1 for s in sides.values()), "a sentence on two sides"
    units = {(d, lab): {normalised(t) for t, dd, ll in zip(texts, domains, labels)
                        if (dd, ll) == (d, lab)} for d in ("films", "posts") for lab in ("neg", "pos")}
    for (d, lab), unit_texts in units.items():            # 20 % of each stratum's sentences
        in_test = {normalised(texts[i]) for i in split["test"]
                   if (domains[i], labels[i]) == (d, lab)}
        assert len(in_test) == round(len(unit_texts) * 0.2), (d, lab)
    plain = ["a"] * 50 + ["b"] * 30
    unique = [f"text {i}" for i in range(80)]
    assert (stratified_split(plain, 0.1, 0.2, 4, texts=unique)
            == stratified_split(plain, 0.1, 0.2, 4))


def test_a_run_on_rated_sentences_never_tests_on_a_sentence_it_trained_on(tmp_path):
    """The real corpus: movie snippets repeat across the sets and short phrases across
    domains; the run's split keeps every normalised sentence on one side."""
    rated = corpora.build("rated-sentences")
    data = read_labeled(rated)
    split = stratified_split(data.labels, 0.1, 0.2, 0, texts=data.texts,
                             strata=data.column("domain"))
    keys = {part: {normalised(data.texts[i]) for i in idx} for part, idx in split.items()}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["val"]
    assert not keys["val"] & keys["test"]
    assert len(keys["train"]) + len(keys["val"]) + len(keys["test"]) < len(data)  # there were copies
    domains = data.column("domain")
    for domain in set(domains):
        share = sum(domains[i] == domain for i in split["test"]) / domains.count(domain)
        assert abs(share - 0.2) < 0.01, (domain, share)


@pytest.mark.parametrize("content, message", [
    ("words,label\nhello,pos\n", "must name 'text' and 'label'"),
    ("text,label\n,pos\n,neg\n", "no examples found (every one of its 2 rows has an empty"),
    ("text,label\n" + "good one,pos\n" * 10, "only one class"),
    ("text,label\n" + "good one,pos\n" * 10 + "bad one,neg\n", "too few examples"),
    ("text,label\ngood,pos,extra\n", "line 2 has 3 fields"),
])
def test_bad_data_gets_a_specific_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(StudioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        require_classes(read_labeled(path), 5)


def test_rows_without_text_or_label_are_skipped_and_counted_everywhere(trained_run, tmp_path,
                                                                      caplog):
    from engine.sentiment.evaluate import evaluate_data
    rows = synthetic_rows(40, seed=5)
    rows[3], rows[17] = ("", "pos"), ("fine words", "")
    path = write_csv(tmp_path / "gaps.csv", rows)
    data = read_labeled(path)
    assert len(data) == 38 and data.skipped == [5, 19]
    assert "skipped 2 row(s) with an empty text or no label (line(s)/item(s) 5, 19)" in caplog.text
    result = evaluate_data(SentimentPredictor.load(str(trained_run[0])), path)
    assert result["n"] == 38 and result["skipped"] == 2
    cli = run_cli("sentiment", "evaluate", trained_run[0], "--data", path, "--json")
    assert cli.returncode == 0 and json.loads(cli.stdout)["skipped"] == 2
    assert "rnn-studio: warning:" in cli.stderr and "skipped 2 row(s)" in cli.stderr


def test_undecodable_and_binary_data(tmp_path):
    (tmp_path / "latin.csv").write_bytes("text,label\ncaf\xe9,pos\n".encode("latin-1"))
    with pytest.raises(StudioError, match="not valid utf-8.*line 2"):
        read_labeled(tmp_path / "latin.csv")
    (tmp_path / "x.jsonl").write_text('{"text": "a", "label": "b"}\nnot json\n')
    with pytest.raises(StudioError, match="line 2 is not JSON"):
        read_labeled(tmp_path / "x.jsonl")


def test_a_run_saved_with_the_dropped_summed_valence_still_loads(tmp_path):
    """Runs saved before the summed-valence feature (L2) was dropped have it in their output
    layer and no ``summed_valence`` in their record: they load with it, and predict as before."""
    data = write_csv(tmp_path / "d.csv", synthetic_rows(80))
    old = TINY_SENTIMENT.with_data(summed_valence=True)
    train_sentiment_run(tmp_path / "old", data, old, tiny_sentiment_train(epochs=1))
    texts = ["the plot was zorbly", "a blech story"]
    before = SentimentPredictor.load(str(tmp_path / "old")).probabilities(texts)
    meta_path = tmp_path / "old" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["config"]["model"]["data"]["summed_valence"]       # as an older version wrote it
    meta_path.write_text(json.dumps(meta))
    after = SentimentPredictor.load(str(tmp_path / "old"))
    assert after.model.config.data.summed_valence
    assert np.array_equal(before, after.probabilities(texts))
    new = train_sentiment_run(tmp_path / "new", data, TINY_SENTIMENT, tiny_sentiment_train(epochs=1))
    assert new and not SentimentPredictor.load(str(tmp_path / "new")).model.config.data.summed_valence


def test_auto_helper_data_is_what_measured_better_for_each_built_in_corpus():
    from engine.config import SentimentConfig
    from engine.sentiment.train import resolve_helper_data
    for name, helpers in (("movie-snippets", ("movie-reviews", "movie-reviews")),
                          ("movie-sentences", ("movie-reviews", "movie-reviews")),
                          ("rated-sentences", ("", "")), ("my.csv", ("", ""))):
        config = resolve_helper_data(SentimentConfig(), name)
        assert (config.unlabeled, config.extra_train) == helpers, name
    chosen = resolve_helper_data(SentimentConfig(unlabeled="tweets", extra_train=""),
                                 "movie-snippets")
    assert (chosen.unlabeled, chosen.extra_train) == ("tweets", "")


def test_resume_continues_from_the_checkpoint(tmp_path):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(100))
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 7
    first = train_sentiment_run(tmp_path / "run", data, config=tiny_sentiment_train(epochs=3),
                                should_stop=stop)
    assert first[-1].reason == "stopped" and first[-1].step == 7
    split = (tmp_path / "run" / "split.json").read_text()
    train_sentiment_run(tmp_path / "run", None, config=tiny_sentiment_train(epochs=3), resume=True)
    meta = RunFolder(tmp_path / "run").read_meta()
    assert meta.state["epoch"] == 3 and (tmp_path / "run" / "split.json").read_text() == split


def test_lexicon_valence_flips_after_negation():
    v = token_valence(["good", "not", "good", "movie"])
    assert v[0] > 0.3 and v[2] < 0 and v[3] == 0


PLAIN_MXNET = r"""
import json, sys, numpy as np, mxnet as mx
out = sys.argv[1]
meta = json.load(open(out + "/meta.json"))
net = mx.gluon.SymbolBlock.imports(out + "/model-symbol.json", meta["input_names"],
                                   out + "/model-0000.params")
inputs = [mx.nd.array(np.load(f"{out}/in{i}.npy")) for i in range(len(meta["input_names"]))]
np.save(out + "/y.npy", net(*inputs).asnumpy())
assert "engine" not in sys.modules
"""


def test_export_reproduces_engine_outputs_in_fresh_process(trained_run, tmp_path):
    import mxnet as mx
    run = trained_run[0]
    out = export_run(str(run), tmp_path / "export")
    predictor = SentimentPredictor.load(str(run))
    examples = predictor.featurizer.examples(["the film was zorbly", "a blech story , quite blech"])
    batch = to_batch(examples, mx.cpu()).model_inputs(predictor.model.config.linear)
    for i, a in enumerate(batch):
        np.save(out / f"in{i}.npy", a.asnumpy())
    expected = predictor.model(*batch).asnumpy()
    proc = subprocess.run([sys.executable, "-c", PLAIN_MXNET, str(out)], capture_output=True,
                          text=True, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(np.load(out / "y.npy"), expected, atol=1e-5)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["labels"] == ["neg", "pos"] and meta["vocab"]["<unk>"] == 0


def test_cli_train_predict_evaluate(tmp_path):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(120))
    run = tmp_path / "cli-run"
    proc = run_cli("sentiment", "train", "--data", data, "--out", run, "--epochs", "6", "--hidden",
                   "16", "--embed", "16", "--ngram-buckets", "1009", "--lr", "0.01", "--batch", "16",
                   "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "test split: accuracy" in proc.stderr
    proc = run_cli("sentiment", "predict", run, "--json", "quite zorbly", "blech , blech")
    verdicts = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [v["label"] for v in verdicts] == ["pos", "neg"]
    assert [w["word"] for w in verdicts[0]["words"]] == ["quite", "zorbly"]
    proc = run_cli("sentiment", "evaluate", run, "--data", data, "--json")
    result = json.loads(proc.stdout)
    assert set(result) >= {"accuracy", "macro_f1", "n", "confusion"} and result["n"] == 120
    assert result["accuracy"] > 0.9
    # VADER knows none of the made-up words: it calls every text neutral (-> positive)
    assert result["vader"]["confusion"] == [[0, 60], [0, 60]]
    bad = run_cli("sentiment", "evaluate", run, "--data", write_csv(tmp_path / "o.csv",
                                                                    [("x", "other")] * 3))
    assert bad.returncode == 2 and "labels 'other' are not ones this model knows" in bad.stderr


def test_a_domain_held_out_and_accuracy_by_domain(tmp_path):
    """--leave-out domain=posts trains on the films only (and a resume keeps it so);
    evaluate --by domain then scores each domain apart, beside VADER."""
    rows = [(text, label, "films" if i % 3 else "posts")
            for i, (text, label) in enumerate(synthetic_rows(180))]
    data = write_csv(tmp_path / "d.csv", rows, header=("text", "label", "domain"))
    run = tmp_path / "r"
    tiny = ["--hidden", "8", "--embed", "8", "--ngram-buckets", "101", "--batch", "16",
            "--lr", "0.01", "--quiet"]
    proc = run_cli("sentiment", "train", "--data", data, "--out", run, "--epochs", "2",
                   "--leave-out", "domain=posts", *tiny)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = RunFolder(run).read_meta()
    films = sum(1 for r in rows if r[2] == "films")
    assert meta.corpus["leave_out"] == ["domain", "posts"] and meta.corpus["size"] == films
    split = json.loads((run / "split.json").read_text())
    assert split["n"] == films and split["stratified_by"] == ["label", "domain"]
    proc = run_cli("sentiment", "train", "--out", run, "--resume", "--epochs", "3", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert RunFolder(run).read_meta().corpus["size"] == films
    proc = run_cli("sentiment", "evaluate", run, "--data", data, "--by", "domain", "--json")
    result = json.loads(proc.stdout)
    assert {k: v["n"] for k, v in result["by"].items()} == {"films": films,
                                                            "posts": len(rows) - films}
    assert all(0 <= v["accuracy"] <= 1 and "accuracy" in v["vader"] for v in result["by"].values())
    weighted = sum(v["accuracy"] * v["n"] for v in result["by"].values()) / result["n"]
    assert weighted == pytest.approx(result["accuracy"])
    table = run_cli("sentiment", "evaluate", run, "--data", data, "--by", "domain").stdout
    assert "by domain:" in table and "posts" in table and "VADER acc." in table
    for args, message in ((["--leave-out", "domain=tweets"], "no row has domain = 'tweets'"),
                          (["--leave-out", "mood=sad"], "no column 'mood' (other columns: 'domain')"),
                          (["--leave-out", "domain"], "--leave-out takes COLUMN=VALUE")):
        bad = run_cli("sentiment", "train", "--data", data, "--out", tmp_path / "x", *args, *tiny)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
    bad = run_cli("sentiment", "evaluate", run, "--data", data, "--by", "mood")
    assert bad.returncode == 2 and "no column 'mood'" in bad.stderr


def test_built_in_movie_corpora():
    sentences = read_labeled(corpora.build("movie-sentences"))
    assert len(sentences) == 4000
    assert require_classes(sentences, 5) == {"negative": 2000, "positive": 2000}
    reviews = read_labeled(corpora.build("movie-reviews"))
    assert len(reviews) == 1500 and set(reviews.labels) == {"negative", "positive"}
    assert np.mean([len(t.split()) for t in reviews.texts]) > 500
    assert not sentences.texts[0].startswith("\ufeff")


def test_built_in_other_domain_corpora():
    """Human-rated sentences from other domains: near-neutral ones dropped, the sign decides."""
    import csv
    sizes = {"amazon-snippets": 2985, "tweets": 3432, "nyt-snippets": 2970}
    for name, size in sizes.items():
        path = corpora.build(name)
        data = read_labeled(path)
        assert len(data) == size and set(data.labels) == {"negative", "positive"}
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                rating = float(row["rating"])
                assert abs(rating) >= 0.5 and (rating > 0) == (row["label"] == "positive")
        # HTML entities are decoded: people see "&", not "&amp;"
        assert not any("&amp;" in t or "&quot;" in t for t in data.texts), name
    assert any("&" in t for t in read_labeled(corpora.build("tweets")).texts)


def test_built_in_rated_sentences_with_their_domains():
    """All of the VADER paper's clearly rated sentences: the 10,605 movie snippets (the 4,000
    movie-sentences are among them) and the three other domains, with a domain column."""
    import csv
    movies = read_labeled(corpora.build("movie-snippets"))
    assert len(movies) == 10072 and set(movies.labels) == {"negative", "positive"}
    rated = corpora.build("rated-sentences")
    with open(rated, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    domains = {d: sum(r["domain"] == d for r in rows) for d in {r["domain"] for r in rows}}
    assert domains == {"movie-snippets": 10072, "amazon-snippets": 2985, "tweets": 3432,
                       "nyt-snippets": 2970}
    assert len(read_labeled(rated)) == 19459
    import re

    def norm(text):                      # movie-sentences is lower-cased and tokenized
        return re.sub(r"[^a-z0-9]+", "", text.lower())
    sentences = {norm(t) for t in read_labeled(corpora.build("movie-sentences")).texts}
    inside = sentences & {norm(r["text"]) for r in rows}
    assert len(inside) > 3000, len(inside)       # the 4,000 are (nearly all) inside


@pytest.mark.slow
def test_default_model_trains_on_all_rated_sentences(tmp_path):
    """The 19,459 rated sentences with the default settings: the reader's pooling once died
    here after about 80 steps on AVX-512 CPUs (oneDNN reorder); now a whole epoch trains."""
    proc = run_cli("sentiment", "train", "--out", tmp_path / "r",       # the default data
                   "--epochs", "1", "--quiet", timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert RunFolder(tmp_path / "r").read_meta().corpus["name"] == "rated-sentences"
    test = RunFolder(tmp_path / "r").read_meta().test
    assert test["n"] > 1900 and test["accuracy"] > 0.7


def _vote_and_valence(model, examples):
    """The lexicon vote's positive-minus-negative log-odds in ``model``'s output (the output less
    the two halves' mixture) and each example's summed valence x 4 (VADER's scale)."""
    import mxnet as mx
    from mxnet import autograd
    batch = to_batch(examples, mx.cpu())
    with autograd.predict_mode():
        out = model(*batch.model_inputs(model.config.linear)).asnumpy()
        reader = mx.nd.log_softmax(model.reader(*batch.reader_inputs())).asnumpy()
        linear = mx.nd.log_softmax(model.linear(*batch.linear_inputs())).asnumpy()
    vote = out - (model.config.mix * reader + (1 - model.config.mix) * linear)
    return vote[:, 1] - vote[:, 0], np.array([4 * e.valence.sum() for e in examples])


def test_lexicon_vote_adds_its_compound_score_to_the_log_odds():
    import mxnet as mx
    from engine.config import SentimentConfig
    from engine.sentiment.features import Featurizer, build_vocab
    from engine.sentiment.lexicon import class_polarity
    from engine.sentiment.model import build_sentiment_model
    assert class_polarity(["negative", "positive"]) == (-1.0, 1.0)
    assert class_polarity(["pos", "neg"]) == (1.0, -1.0)
    assert class_polarity(["sports", "politics"]) == () and class_polarity(["0", "1", "2"]) == ()
    texts = ["a great , wonderful film", "not good , a dreadful bore", "the plot"]
    vocab = build_vocab([t.split() for t in texts], 1, 100)
    config = SentimentConfig(embed_size=8, hidden_size=6, ngram_size=4, ngram_buckets=101,
                             linear_buckets=101, lexicon_weight=2.0).with_data(
        vocab_size=len(vocab), class_polarity=(-1.0, 1.0))
    model = build_sentiment_model(config, mx.cpu())
    examples = Featurizer.for_config(vocab, config).examples(texts)
    vote, total = _vote_and_valence(model, examples)
    np.testing.assert_allclose(vote, 2.0 * total / np.sqrt(total ** 2 + 15), rtol=1e-4, atol=1e-5)
    assert total[0] > 0 > total[1] and total[2] == 0
    three = SentimentConfig().with_data(vocab_size=len(vocab), num_classes=3, class_polarity=())
    assert not build_sentiment_model(three, mx.cpu()).lexicon_votes


def test_the_vote_grows_with_the_share_of_grams_the_training_texts_never_had():
    import mxnet as mx
    from engine.config import SentimentConfig
    from engine.sentiment.features import Featurizer, build_vocab, gram_hashes
    from engine.sentiment.linear import fit_linear
    from engine.sentiment.model import build_sentiment_model
    train = ["a great film", "a dull film", "great acting", "dull acting"]
    texts = ["a great film", "a great , wonderful film", "awful , awful mess", "a dull film"]
    vocab = build_vocab([t.split() for t in texts], 1, 100)
    config = SentimentConfig(embed_size=8, hidden_size=6, ngram_size=4, ngram_buckets=101,
                             linear_buckets=100_003, lexicon_weight=0.5,
                             unfamiliar_weight=3.0).with_data(
        vocab_size=len(vocab), linear_texts=len(train), class_polarity=(-1.0, 1.0),
        unseen_gate=True)
    model = build_sentiment_model(config, mx.cpu())
    featurizer = Featurizer.for_config(vocab, config)
    fit_linear(model.linear, [e.linear_grams for e in featurizer.examples(train)], [1, 0, 1, 0],
               1e-4, mx.cpu(), iterations=5)
    seen = {g for t in train for g in gram_hashes(t.split())}
    unseen = np.array([np.mean([g not in seen for g in gram_hashes(t.split())]) for t in texts])
    assert unseen[0] == 0 and unseen[2] == 1 and 0 < unseen[1] < 1
    vote, total = _vote_and_valence(model, featurizer.examples(texts))
    np.testing.assert_allclose(vote, (0.5 + 3.0 * unseen) * total / np.sqrt(total ** 2 + 15),
                               rtol=1e-4, atol=1e-5)
    assert total[2] < 0
    # a run saved before the gate existed: its flat record has no unseen_gate and no texts
    flat = {k: v for k, v in config.to_dict().items() if k != "data"}
    flat.update(vocab_size=len(vocab), class_polarity=[-1.0, 1.0], num_classes=2)
    old_run = build_sentiment_model(SentimentConfig.from_dict(flat), mx.cpu())
    assert not old_run.gates_vote and old_run.lexicon_votes
    flat["linear_texts"] = len(train)          # saved with the gate, before the explicit flag
    assert build_sentiment_model(SentimentConfig.from_dict(flat), mx.cpu()).gates_vote


def test_lexicon_prior_gives_words_the_data_never_had_their_valence():
    import mxnet as mx
    from engine.sentiment.features import bucket_ids, gram_hashes
    from engine.sentiment.lexicon import load_lexicon
    from engine.sentiment.linear import NgramLinear, fit_linear, lexicon_prior
    buckets = 100_003
    texts = ["plinky film", "plinky story", "grumbo film", "grumbo story", "wonderful film"]
    labels = [1, 1, 0, 0, 0]             # the data says "wonderful" is negative, once
    grams = [bucket_ids(gram_hashes(t.split()), buckets) for t in texts]
    prior = lexicon_prior(load_lexicon(), buckets, (-1.0, 1.0), 1.0)
    assert np.count_nonzero(prior.any(axis=1)) > 7000        # every one-word lexicon entry

    def log_odds(use_prior, words):
        block = NgramLinear(buckets, 2)
        block.initialize()
        fit_linear(block, grams, labels, 1e-2, mx.cpu(), iterations=200,
                   prior=prior if use_prior else None)
        ids = [bucket_ids(gram_hashes([w]), buckets) for w in words]
        scores = block(mx.nd.array(np.stack(ids)), mx.nd.ones(len(words))).asnumpy()
        return scores[:, 1] - scores[:, 0]
    words = ["delightful", "horrible", "wonderful", "plinky"]
    plain, lexical = log_odds(False, words), log_odds(True, words)
    np.testing.assert_allclose(plain[:2], plain[0])          # unseen words: only the bias
    assert lexical[0] > plain[0] + 0.3 and lexical[1] < plain[1] - 0.3
    assert lexical[2] < plain[2] + 0.5 and plain[2] < 0      # the data still has its say
    assert lexical[3] > 1 and plain[3] > 1


def test_ppmi_vectors_put_words_of_like_contexts_together():
    from engine.sentiment.word_vectors import ppmi_svd_vectors
    rng = np.random.RandomState(0)
    texts = []
    for _ in range(400):
        texts.append(["i", "feed", "my", rng.choice(["cat", "dog"]), "and", "pet", "it"])
        texts.append(["we", "drive", "the", rng.choice(["car", "truck"]), "on", "the", "road"])
    words = ["<unk>", "<pad>", "cat", "dog", "car", "truck", "never-seen"]
    v = ppmi_svd_vectors(texts, words, dim=4, seed=0)
    assert v.shape == (7, 4) and not v[6].any() and not v[0].any()
    assert v[2] @ v[3] > 0.9 and v[4] @ v[5] > 0.9
    assert v[2] @ v[4] < 0.5


def test_a_sentiment_run_is_not_a_generator(trained_run):
    from engine.generator.load import load_generator
    with pytest.raises(StudioError, match="is a sentiment run, not a generator run"):
        load_generator(str(trained_run[0]))


def test_onnx_export_of_a_one_directional_model_matches(tmp_path):
    import mxnet as mx
    ort = pytest.importorskip("onnxruntime")
    from .sentiment_helpers import TINY_SENTIMENT
    data = write_csv(tmp_path / "d.csv", synthetic_rows(100))
    train_sentiment_run(tmp_path / "run", data, model=TINY_SENTIMENT.replace(bidirectional=False),
                        config=tiny_sentiment_train(epochs=1))
    out = export_run(str(tmp_path / "run"), tmp_path / "export", fmt="onnx")
    meta = json.loads((out / "meta.json").read_text())
    predictor = SentimentPredictor.load(str(tmp_path / "run"))
    assert predictor.model.gates_vote          # the exported graph holds the unseen-gram vote too
    examples = predictor.featurizer.examples(["the film was zorbly and quite a story , blech"])
    inputs = [a.asnumpy() for a in to_batch(examples, mx.cpu()).model_inputs(
        predictor.model.config.linear)]
    expected = predictor.model(*[mx.nd.array(a) for a in inputs]).asnumpy()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(out / "model.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    feeds = dict(zip([i.name for i in session.get_inputs()], inputs))
    got = session.run(meta["onnx"]["output_names"], feeds)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    train_sentiment_run(tmp_path / "both-ways", data, config=tiny_sentiment_train(epochs=1),
                        model=TINY_SENTIMENT.replace(bidirectional=True, mode="lstm"))
    with pytest.raises(StudioError, match="no SequenceReverse"):
        export_run(str(tmp_path / "both-ways"), tmp_path / "export-onnx", fmt="onnx")
    from engine.sentiment.predict import SentimentPredictor as Loaded    # the LSTM reads both ways
    both = Loaded.load(str(tmp_path / "both-ways")).model.reader
    assert both.config.bidirectional and hasattr(both, "backward_rnn")


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_changes_a_texts_scores(bidirectional):
    """Batched beside a longer text, a short text's padding must not reach its pooled features
    (mean, max, the valence sum, the n-gram bag, the backward reader) or the linear half."""
    import mxnet as mx
    from mxnet import autograd
    from engine.config import SentimentConfig
    from engine.sentiment.features import Featurizer, build_vocab
    from engine.sentiment.model import build_sentiment_model
    texts = ["not a good film", "a long , boring , dreadful film that is not good at all " * 3]
    tokens = [t.split() for t in texts]
    vocab = build_vocab(tokens, 1, 100)
    config = SentimentConfig(embed_size=8, hidden_size=6, ngram_size=4, ngram_buckets=101,
                             linear_buckets=101, bidirectional=bidirectional).with_data(
        vocab_size=len(vocab))
    model = build_sentiment_model(config, mx.cpu())
    weights = model.linear.weight.weight
    weights.set_data(mx.nd.random.normal(0, 1, weights.shape))
    examples = Featurizer.for_config(vocab, config).examples(texts)
    assert examples[0].valence.any()                          # "good", negated
    with autograd.predict_mode():
        alone = model(*to_batch(examples[:1], mx.cpu()).model_inputs(True)).asnumpy()
        beside = model(*to_batch(examples, mx.cpu()).model_inputs(True)).asnumpy()
    np.testing.assert_allclose(beside[0], alone[0], rtol=1e-5, atol=1e-6)


def test_linear_half_learns_and_fits_the_same_in_sparse_blocks(monkeypatch):
    import mxnet as mx
    from engine.sentiment import linear
    rng = np.random.RandomState(0)
    labels = [i % 2 for i in range(60)]
    grams = [np.unique(np.concatenate([rng.randint(10, 90, 6), [1 + y]])) for y in labels]
    lengths = mx.nd.array([len(g) for g in grams])
    padded = mx.nd.array([np.pad(g, (0, 8 - len(g))) for g in grams])

    def fit():
        block = linear.NgramLinear(97, 2)
        block.initialize()
        loss = linear.fit_linear(block, grams, labels, 1e-4, mx.cpu(), iterations=100)
        return block, loss
    whole, loss = fit()
    assert loss < 0.05
    assert (whole(padded, lengths).asnumpy().argmax(1) == labels).all()
    assert whole.idf.weight.grad_req == "null" and whole.idf.weight.data()[1, 0] < 2.0
    monkeypatch.setattr(linear, "MAX_SPARSE_ELEMENTS", 97 * 7)     # 7-row blocks, as for 2^20
    blocks, _ = fit()
    np.testing.assert_allclose(blocks.weight.weight.data().asnumpy(),
                               whole.weight.weight.data().asnumpy(), atol=1e-5)


def test_extra_labeled_data_teaches_the_linear_half_only(tmp_path):
    from .sentiment_helpers import TINY_SENTIMENT
    data = write_csv(tmp_path / "d.csv", synthetic_rows(100))
    extra = write_csv(tmp_path / "extra.csv", [("plinky , indeed", "pos"),
                                               ("grumbo , indeed", "neg")] * 20)
    model = TINY_SENTIMENT.replace(extra_train=str(extra))
    train_sentiment_run(tmp_path / "run", data, model=model, config=tiny_sentiment_train(epochs=1))
    predictor = SentimentPredictor.load(str(tmp_path / "run"))
    meta = RunFolder(tmp_path / "run").read_meta()
    assert meta.split["train"] == 80              # the reader trains on the data's split only,
    assert "plinky" in meta.vocab                 # knowing the extra words' frozen vectors
    vectors = predictor.model.reader.embedding.weight.data().asnumpy()
    assert np.abs(vectors[predictor.featurizer.vocab["plinky"]]).sum() > 0
    examples = predictor.featurizer.examples(["plinky", "grumbo"])
    from engine.sentiment.scoring import predict_probs
    linear = predict_probs(predictor.model, examples, predictor.ctx, part="linear")
    assert list(linear.argmax(1)) == [1, 0], linear          # the linear half learnt the extra words
    with pytest.raises(StudioError, match="extra labeled data is the data itself"):
        train_sentiment_run(tmp_path / "run2", data, model=TINY_SENTIMENT.replace(extra_train=str(data)))
    other = write_csv(tmp_path / "other.csv", [("x", "meh"), ("y", "pos")])
    with pytest.raises(StudioError, match=r"labels 'meh' are not among"):
        train_sentiment_run(tmp_path / "run3", data, model=TINY_SENTIMENT.replace(extra_train=str(other)))


@pytest.mark.parametrize("mode,bidirectional", [("gru", False), ("lstm", False), ("gru", True)])
def test_the_reader_trains_on_every_batch_shape(mode, bidirectional):
    """oneDNN picks kernels and memory layouts by CPU and by shape: the 4-d global max pooling
    that the reader once used failed in backward on AVX-512 CPUs for hidden 16 / 32 with one
    text of 17 or 63 words. Small and odd sizes, every one a real forward and backward pass."""
    import itertools
    import mxnet as mx
    from mxnet import autograd, nd
    from engine.config import SentimentConfig
    from engine.sentiment.model import build_sentiment_model
    failed = []
    for hidden in (1, 7, 16, 32, 48):
        config = SentimentConfig(mode=mode, hidden_size=hidden, embed_size=5,
                                 bidirectional=bidirectional, linear=False, ngram_buckets=11,
                                 ngram_size=3).with_data(vocab_size=30, num_classes=3)
        reader = build_sentiment_model(config, mx.cpu()).reader
        for n, t in itertools.product((1, 2, 3, 5), (1, 2, 7, 16, 17, 63)):
            ids = nd.array(np.random.RandomState(n * t).randint(2, 30, (n, t)))
            lengths = nd.array([max(1, t - i) for i in range(n)])
            inputs = (ids, nd.ones((n, t)) * 0.1, lengths, nd.ones((n, 2)), nd.full((n,), 2))
            try:
                with autograd.record():
                    loss = reader(*inputs).sum()
                loss.backward()
                grad = reader.forward_rnn.collect_params()
                assert all(np.isfinite(p.grad().asnumpy()).all() for p in grad.values())
            except mx.base.MXNetError as err:
                failed.append((hidden, n, t, str(err).splitlines()[0][:80]))
    assert not failed, failed
