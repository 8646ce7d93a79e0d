"""Cells compared (engine/generator/compare.py): the plain RNN's gradient fades where the LSTM's
does not, a model that closes planted brackets reaches further back, and a comparison leaves one
grouped run per cell with the result scripts read."""
import json
import subprocess
import sys

import pytest

from corpora.planted import planted_text
from engine.config import GeneratorConfig, TrainConfig
from engine.errors import StudioError
from engine.generator.compare import ComparisonDone, compare_cells, matched_configs
from engine.generator.cells import parameter_count
from engine.generator.train import CorpusRef
from engine.storage.runs import RunFolder

TINY = GeneratorConfig(embed_size=8, hidden_size=32, num_layers=1, dropout=0.0)
SMALL_MEASURES = {"reach": {"warmup": 256, "chars": 4096}, "gradient": {"windows": 8}}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """LSTM and plain RNN on a planted-bracket text of one-letter words, brackets closing 10-30
    characters later: the same budget (epochs), split and seed."""
    root = tmp_path_factory.mktemp("compare")
    text = root / "planted.txt"
    text.write_text(planted_text(60_000, seed=1, words=("a", "b"), shortest=10,
                                 longest=30))
    tc = TrainConfig(seq_len=60, batch_size=16, lr=2e-2, epochs=15, val_interval=50,
                     log_interval=10, sample_length=0, warmup_steps=5, val_fraction=0.1)
    events = list(compare_cells(CorpusRef(str(text), "planted"),
                                {c: root / f"cmp-{c}" for c in ("lstm", "rnn")}, TINY, tc,
                                group="cmp", measure=SMALL_MEASURES))
    assert isinstance(events[-1], ComparisonDone)
    return events[-1].result


@pytest.mark.slow
def test_the_plain_rnns_gradient_at_50_is_far_weaker_than_the_lstms(compared):
    lstm, plain = compared["cells"]["lstm"], compared["cells"]["rnn"]
    assert lstm["gradient_flow"]["0"] == plain["gradient_flow"]["0"] == 1.0
    assert plain["gradient_flow"]["50"] < 0.01 * lstm["gradient_flow"]["50"], (
        plain["gradient_flow"], lstm["gradient_flow"])
    # it fades with distance: d = 200 is weaker than d = 2 for both
    for cell in (lstm, plain):
        assert cell["gradient_flow"]["200"] < cell["gradient_flow"]["2"]


@pytest.mark.slow
def test_the_model_that_closes_the_brackets_reaches_further_back(compared):
    lstm, plain = compared["cells"]["lstm"], compared["cells"]["rnn"]
    # it knows that a bracket is open: at the closers it expects one twice as much
    assert (lstm["bracket_closing"]["closer_probability"]
            > 2 * plain["bracket_closing"]["closer_probability"]), (
        lstm["bracket_closing"], plain["bracket_closing"])
    reach = {c: r["memory_reach"] or 1024 for c, r in compared["cells"].items()}
    assert reach["lstm"] > reach["rnn"], compared["cells"]
    # what it remembers is worth bits: cut to 16 characters of context, the LSTM loses more
    cost = {c: r["memory_reach_bits"]["16"] - r["heldout_bits_per_char"]
            for c, r in compared["cells"].items()}
    assert cost["lstm"] > cost["rnn"]


@pytest.mark.slow
def test_a_comparison_leaves_one_grouped_run_per_cell_and_a_result_scripts_can_read(compared):
    assert set(compared["cells"]) == {"lstm", "rnn"}
    for cell, row in compared["cells"].items():
        for key in ("parameters", "chars_per_s", "steps", "heldout_bits_per_char",
                    "memory_reach", "gradient_flow"):
            assert key in row
        assert all(isinstance(d, str) for d in row["gradient_flow"])
        meta = RunFolder(row["run"]).read_meta()
        assert meta.group == {"name": "cmp", "kind": "compare", "cells": ["lstm", "rnn"],
                              "cell": cell}
        assert meta.config["model"]["mode"] == cell
    assert compared["cells"]["lstm"]["gates"] == 3 and compared["cells"]["rnn"]["gates"] == 0
    assert compared["cells"]["lstm"]["states"] == 2 and compared["cells"]["rnn"]["states"] == 1
    json.dumps(compared)                                    # plain JSON throughout
    claims = {v["claim"]: v["verdict"] for v in compared["verdicts"]}
    assert claims["vanishing gradient"] == "holds"


def test_params_matching_gives_each_cell_the_first_cells_parameter_count():
    configs = matched_configs(["lstm", "gru", "rnn"], TINY.replace(hidden_size=128), "params", 60)
    target = parameter_count(configs["lstm"], 60)
    assert configs["lstm"].hidden_size == 128
    assert configs["rnn"].hidden_size > configs["gru"].hidden_size > 128
    for cell in ("gru", "rnn"):
        assert abs(parameter_count(configs[cell], 60) - target) / target < 0.01
    units = matched_configs(["lstm", "rnn"], TINY, "units", 60)
    assert units["rnn"].hidden_size == units["lstm"].hidden_size == TINY.hidden_size


def test_bad_comparisons_are_refused_before_any_training(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text(planted_text(5000))
    tc = TrainConfig(epochs=1)
    with pytest.raises(StudioError, match="cells must be among lstm, gru, rnn"):
        list(compare_cells(CorpusRef(str(text), "t"), {"elman": tmp_path / "x"}, TINY, tc))
    with pytest.raises(StudioError, match="plain RNN has no bf16 layer"):
        list(compare_cells(CorpusRef(str(text), "t"), {"rnn": tmp_path / "x"}, TINY,
                           tc.replace(precision="bf16")))
    assert not (tmp_path / "x").exists()
    proc = subprocess.run([sys.executable, "-m", "engine", "generator", "compare", "--corpus",
                           str(text), "--out", "c", "--cells", "lstm,lstm"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "names a cell twice" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_command_prints_one_json_object_scripts_can_rely_on(tmp_path, studio_home):
    text = tmp_path / "t.txt"
    text.write_text(planted_text(40_000, seed=3))
    proc = subprocess.run([sys.executable, "-m", "engine", "generator", "compare", "--corpus",
                           str(text), "--out", "cli", "--cells", "rnn,gru", "--hidden", "16",
                           "--layers", "1", "--embed", "8", "--epochs", "0.5", "--batch", "8",
                           "--seq-len", "50", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert list(result["cells"]) == ["rnn", "gru"]
    for cell, row in result["cells"].items():
        assert isinstance(row["parameters"], int) and row["parameters"] > 0
        assert row["chars_per_s"] > 0 and row["steps"] > 0
        assert 0 < row["heldout_bits_per_char"] < 8
        assert row["memory_reach"] is None or row["memory_reach"] in (1, 2, 4, 8, 16, 32, 64,
                                                                      128, 256, 512)
        assert set(row["gradient_flow"]) >= {"0", "50", "200"}
        assert (studio_home / "runs" / f"cli-{cell}" / "meta.json").exists()
    assert "cell 1/2: rnn" in proc.stderr and "cell 2/2: gru" in proc.stderr
