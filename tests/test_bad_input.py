"""Bad input, generated rather than hand-picked (hypothesis): every reader either loads what was
written or raises the project's own error with a message; nothing else ever escapes."""
import csv
import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.generator.data import CharVocab
from engine.errors import StudioError
from engine.sentiment.labeled import read_labeled
from engine.text import inspect_text_file

from .conftest import run_cli
from .fault_report import record_outcomes

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# text that people paste: combining marks, right-to-left scripts, emoji, controls, NUL
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=200) | st.sampled_from([
    "e\u0301\u0302 combining", "שלום עולם مرحبا", "😀👍🏽 family 👨‍👩‍👧", "a\x00b", "\ufeffbom",
    "tab\there", "quote \" and, comma", "line\nbreak", "cr\rreturn", "x" * 20000])
OUTCOMES = {}


def outcome(case: str, fn):
    """Call ``fn``; the project's own error counts as a clear error, anything else fails."""
    try:
        fn()
        result = "loaded"
    except StudioError as err:
        assert str(err).strip() and "Traceback" not in str(err)
        result = "clear error"
    OUTCOMES.setdefault(case, []).append(result)
    return result


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    for case, results in OUTCOMES.items():
        record_outcomes(case, {i: r for i, r in enumerate(results)})


def normalised(text: str) -> str:
    """What the text reader gives back: newlines normalised, no byte-order mark at the start."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@SETTINGS
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".csv", ".tsv", ".jsonl"]))
def test_random_bytes_load_or_get_a_clear_error(tmp_path, data, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    outcome("random bytes as a text file", lambda: inspect_text_file(path))
    outcome(f"random bytes as labeled data ({suffix})", lambda: read_labeled(path))


@SETTINGS
@given(rows=st.lists(st.tuples(ANY_TEXT, st.sampled_from(["pos", "neg", " pos ", "", "ünï"])),
                     min_size=1, max_size=30),
       fmt=st.sampled_from(["csv", "tsv", "jsonl", "folder"]))
def test_random_unicode_labeled_data_loads_what_was_written(tmp_path, rows, fmt):
    target = tmp_path / f"data-{fmt}"
    if fmt == "folder":
        shutil.rmtree(target, ignore_errors=True)      # hypothesis reuses tmp_path: no files
        for i, (text, label) in enumerate(rows):      # of an earlier example
            sub = target / (label.strip() or "blank")
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"{i:04d}.txt").write_text(text, encoding="utf-8")
        rows = [(t, label.strip() or "blank") for t, label in rows]
    elif fmt == "jsonl":
        target = target.with_suffix(".jsonl")
        target.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows),
                          encoding="utf-8")
    else:
        target = target.with_suffix(f".{fmt}")
        with open(target, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter="\t" if fmt == "tsv" else ",")
            writer.writerow(["text", "label"])
            writer.writerows(rows)
    loaded = {}

    def load():
        loaded["data"] = read_labeled(target)
    result = outcome(f"random Unicode labeled data ({fmt})", load)
    # JSON escapes carriage returns; in CSV/TSV/text files the reader normalises newlines
    same = (lambda t: t) if fmt == "jsonl" else normalised
    kept = [(same(t), lab.strip()) for t, lab in rows if t.strip() and lab.strip()]
    if fmt == "folder":
        kept = [(normalised(t).lstrip("\ufeff"), lab) for t, lab in kept]
    if result == "loaded":
        data = loaded["data"]
        got = sorted(zip(data.texts, data.labels))
        assert got == sorted(kept) or fmt == "folder" and len(got) == len(kept)
    else:              # refused only for a reason the user can act on: nothing to learn from,
        # or control characters that make the file look binary (NUL, or many others)
        controls = sum(ch < " " and ch not in "\t\n\r" for t, _ in rows for ch in t)
        assert not kept or controls or fmt == "folder"


@SETTINGS
@given(lines=st.lists(st.one_of(
    st.lists(st.text(max_size=30), min_size=0, max_size=6).map(lambda cells: ",".join(cells)),
    st.just('"unclosed, quote'), st.just("a,b,c,d,e,f,g"), st.just(""), st.just("x" * 70000)),
    max_size=20))
def test_ragged_and_broken_csv_gets_a_clear_error(tmp_path, lines):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\n" + "\n".join(lines), encoding="utf-8")
    outcome("ragged CSV rows, stray quotes, huge lines", lambda: read_labeled(path))


@SETTINGS
@given(text=st.text(min_size=1, max_size=300))
def test_vocabulary_encodes_and_decodes_any_text(text):
    vocab = CharVocab.from_text(text.encode("utf-8", "replace").decode("utf-8"))
    clean = text.encode("utf-8", "replace").decode("utf-8")
    assert vocab.decode(vocab.encode(clean)) == clean
    assert CharVocab.from_json(vocab.to_json()).chars == vocab.chars
    outcome("any Unicode through the character vocabulary", lambda: vocab.encode(text))


def test_lone_surrogates_in_json_lines_are_a_clear_error(tmp_path):
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"text": "bad \\ud800 half", "label": "pos"}\n'
                    '{"text": "fine", "label": "neg"}\n', encoding="utf-8")
    with pytest.raises(StudioError, match="line 1.*not valid Unicode"):
        read_labeled(path)


@pytest.fixture(scope="module")
def sentiment_run(tmp_path_factory):
    from .sentiment_helpers import synthetic_rows, train_sentiment_run, write_csv
    folder = tmp_path_factory.mktemp("sentiment-run")
    train_sentiment_run(folder / "run", write_csv(folder / "d.csv", synthetic_rows(60)))
    return folder / "run"


@pytest.mark.parametrize("seed", range(6))
def test_random_files_through_the_cli_exit_2_with_one_line(tmp_path, seed, sentiment_run):
    import random
    rng = random.Random(seed)
    blobs = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))),
             "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(500)).encode("utf-8"),
             b"text,label\n" + b"\xff\xfe" * 10, b""]
    blob = blobs[seed % len(blobs)]
    suffix = [".csv", ".txt", ".jsonl", ".tsv"][seed % 4]
    path = tmp_path / f"random{suffix}"
    path.write_bytes(blob)
    for args in (["generator", "train", "--corpus", path, "--out", tmp_path / "g", "--hidden", "8",
                  "--embed", "4", "--layers", "1", "--seq-len", "5", "--batch", "2", "--epochs",
                  "0.01", "--quiet"],
                 ["sentiment", "train", "--data", path, "--out", tmp_path / "s", "--epochs", "1",
                  "--quiet"]):
        proc = run_cli(*args)
        assert proc.returncode in (0, 2), proc.stderr
        if proc.returncode == 2:
            errors = [line for line in proc.stderr.splitlines() if "error" in line]
            assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
        OUTCOMES.setdefault("random files given to the CLI's train commands", []).append(
            "clear error" if proc.returncode == 2 else "loaded")
    for args in (["sentiment", "evaluate", sentiment_run, "--data", path],
                 ["sentiment", "predict", sentiment_run, "--file", path, "--output",
                  tmp_path / "out.csv"]):
        proc = run_cli(*args)
        assert proc.returncode in (0, 2), proc.stderr
        assert "Traceback" not in proc.stderr and (
            proc.returncode == 0 or len([line for line in proc.stderr.splitlines() if "error" in line]) == 1)
        OUTCOMES.setdefault("random files given to sentiment evaluate and predict --file",
                            []).append("clear error" if proc.returncode == 2 else "loaded")


def test_odd_run_names_are_refused(tmp_path, studio_home):
    """A run *name* (the GUI's only way, the CLI's usual one) never leaves the runs folder; the
    CLI also takes paths, but never trains into a folder that holds something else."""
    from engine.storage.runs import resolve_run
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not a run")
    (studio_home / "runs").mkdir(exist_ok=True)
    (studio_home / "runs" / "link").symlink_to(outside, target_is_directory=True)
    for name in ("../x", "..", ".hidden", "a b", "x" * 200, "con\x00", "/", str(outside), "~/x"):
        with pytest.raises(StudioError):
            resolve_run(name, must_exist=False, allow_path=False)
        OUTCOMES.setdefault("run names that escape the runs folder", []).append("clear error")
    with pytest.raises(StudioError, match="link.*outside the runs folder"):
        resolve_run("link", must_exist=False)
    for out in ("link", str(outside)):
        proc = run_cli("generator", "train", "--corpus", "shakespeare", "--out", out,
                       "--epochs", "0.01")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        OUTCOMES.setdefault("run names that escape the runs folder", []).append("clear error")
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_odd_characters_in_prime_text_sentiment_input_and_paths(tmp_path, text_file):
    from .helpers import train
    odd = tmp_path / "odd näme ☃ (1).txt"
    odd.write_text(text_file.read_text(), encoding="utf-8")
    train(tmp_path / "run ☃", odd)
    cases = {
        "prime with an emoji": (["generator", "sample", tmp_path / "run ☃", "--prime", "😀x"],
                                2, "never seen: '😀'"),
        "prime with undecodable bytes": (["generator", "sample", tmp_path / "run ☃", "--prime",
                                          "ab\udc80"], 2, "never seen"),
        "empty prime": (["generator", "sample", tmp_path / "run ☃", "--prime", "", "--length",
                         "5"], 0, ""),
        "empty corpus file": (["generator", "train", "--corpus", tmp_path / "empty.txt", "--out",
                               tmp_path / "e"], 2, "the file is empty"),
    }
    (tmp_path / "empty.txt").write_bytes(b"")
    for case, (args, code, message) in cases.items():
        proc = run_cli(*args)
        assert proc.returncode == code and message in proc.stderr, (case, proc.stderr)
        assert "Traceback" not in proc.stderr
        OUTCOMES.setdefault("odd characters and empty input", []).append(
            "clear error" if code else "loaded")


def test_empty_sentiment_input_is_refused_like_empty_rows(tmp_path):
    from .sentiment_helpers import synthetic_rows, train_sentiment_run, write_csv
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    train_sentiment_run(tmp_path / "run", data)
    proc = run_cli("sentiment", "predict", tmp_path / "run", "fine zorbly", "  ")
    assert proc.returncode == 2 and "text 2 of 2 is empty" in proc.stderr
    proc = run_cli("sentiment", "predict", tmp_path / "run", "😀 naïve ☃ שלום", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["label"] in ("pos", "neg")
    OUTCOMES.setdefault("odd characters and empty input", []).extend(["clear error", "loaded"])


@pytest.mark.slow
def test_a_1_gb_text_is_read_in_bounded_memory(tmp_path):
    """The text reader (the checks and the character count a corpus gets before training)
    streams: a 1 GiB file is read in a fresh process whose peak memory stays under the bound the
    README states (measured: ~16 MB above the process's start)."""
    import subprocess
    import sys
    from .conftest import ROOT
    big = tmp_path / "big.txt"
    line = ("The quick brown fox jumps over the lazy dog, naïvely. " * 16 + "\n").encode()
    block = line * (4 * 1024 * 1024 // len(line))
    with open(big, "wb") as f:
        while f.tell() < 1 << 30:
            f.write(block)
    script = ("import resource, sys; sys.path.insert(0, sys.argv[1])\n"
              "from engine.generator.inspect import corpus_report\n"
              "start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "report = corpus_report(sys.argv[2])\n"
              "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "print(report['chars'], (peak - start) // 1024)")
    out = subprocess.run([sys.executable, "-c", script, str(ROOT), str(big)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    chars, grew_mb = map(int, out.stdout.split())
    assert chars > 1_000_000_000 and grew_mb < 64, grew_mb
    OUTCOMES.setdefault("a 1 GiB text file, read in bounded memory", []).append(
        f"loaded, +{grew_mb} MB")
