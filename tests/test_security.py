"""Nothing RNN Studio saves or loads is pickle, and loading a run or an export runs no code from it:
every file that a training, a save and an export write is JSON, text, MXNet's NDArray format (or
ONNX's protobuf), and loading them with pickle forbidden works."""
import json
import pickle
import pickletools
from pathlib import Path

import pytest

from engine.export.run import export_run
from engine.generator.load import load_generator
from engine.sentiment.predict import SentimentPredictor

from .fault_report import record_outcomes
from .helpers import tiny_train, train
from .sentiment_helpers import synthetic_rows, train_sentiment_run, write_csv

NDARRAY_MAGIC = (0x112).to_bytes(8, "little")       # MXNet's NDArray list file header


def is_pickle(raw: bytes) -> bool:
    """Whether ``raw`` is one whole pickle, of any protocol: protocol 0 is printable ASCII, so
    decoding as UTF-8 alone would call it text."""
    try:
        ops = list(pickletools.genops(raw))
    except Exception:
        return False
    return bool(ops) and ops[-1][0].name == "STOP" and ops[-1][2] == len(raw.rstrip()) - 1


def kind_of(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(NDARRAY_MAGIC):
        return "MXNet NDArray"
    if is_pickle(raw):
        return "pickle"
    if path.suffix == ".onnx":
        return "ONNX protobuf"
    text = raw.decode("utf-8")                       # anything else must be text
    if path.suffix == ".json":
        json.loads(text)
        return "JSON"
    return "text"


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_of_any_protocol_is_told_from_text(tmp_path, protocol):
    """Protocol 0 is printable ASCII (valid UTF-8): the check above must still call it pickle."""
    path = tmp_path / "vocab.txt"
    path.write_bytes(pickle.dumps({"chars": list("abc"), "size": 3}, protocol=protocol))
    assert kind_of(path) == "pickle"
    for text in ("hello\n", '{"a": 1}\n', "(lp0\nI1\na. not a pickle\n", "# README\n\n.\n"):
        path.write_text(text)
        assert kind_of(path) != "pickle", text


@pytest.fixture
def no_pickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    class RefusingUnpickler(pickle.Unpickler):       # still a class: libraries subclass it
        load = refuse
    for name, value in (("load", refuse), ("loads", refuse), ("Unpickler", RefusingUnpickler)):
        monkeypatch.setattr(pickle, name, value)


def test_runs_and_exports_hold_no_pickle_and_load_without_it(tmp_path, text_file, studio_home,
                                                             no_pickle):
    train(studio_home / "runs" / "gen", text_file, train_config=tiny_train(epochs=1))
    data = write_csv(tmp_path / "data.csv", synthetic_rows(60))
    train_sentiment_run(studio_home / "runs" / "sent", data)
    export_run("gen", tmp_path / "gen-export")
    export_run("sent", tmp_path / "sent-export")
    load_generator("gen")
    SentimentPredictor.load("sent").explain("zorbly film")
    kinds = {}
    for folder in (studio_home / "runs", tmp_path / "gen-export", tmp_path / "sent-export"):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".lock"):
            kinds[str(path.relative_to(tmp_path))] = kind_of(path)
    exported = {k: v for k, v in kinds.items() if "-export" in k}
    assert "pickle" not in kinds.values(), kinds
    assert set(exported.values()) <= {"JSON", "text", "MXNet NDArray"}
    assert {"MXNet NDArray", "JSON"} <= set(kinds.values())
    for path in tmp_path.rglob("*.params"):
        assert b"\x80\x04\x95" not in path.read_bytes()[:64]     # no pickle protocol 4 frame
    record_outcomes("every file a run and an export wrote: JSON, text or NDArray, no pickle",
                    kinds)
