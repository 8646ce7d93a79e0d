"""The model kinds listed once, engine messages worded per face, and the advice on data and
settings: checked against what the engine really does."""
import subprocess
import sys

import pytest

from engine.advice import largest_power_of_two
from engine.config import GeneratorConfig
from engine.errors import StudioError
from engine.generator.inspect import advice
from engine.wording import in_app_words, setting

from .conftest import ROOT
from .helpers import TINY, tiny_train, train


def test_importing_the_kinds_stays_light():
    code = ("import sys, engine.kinds as k; k.KINDS['generator'].format_score(2.0); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mxnet', 'gluonnlp')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_kind_not_in_the_list_is_refused_by_export_and_launch(tmp_path):
    from engine.export.run import export_run
    from engine.kinds import KINDS
    from engine.cli.launch import worker_command
    from engine.storage.run_meta import RunMeta
    from engine.storage.runs import RunFolder
    assert worker_command(["generator", "train"])[-2:] == ["--kvstore", "dist_sync"]
    for kind in KINDS:
        assert worker_command([kind, "train", "--out", "x"])[0] == kind
    with pytest.raises(StudioError, match="generator train ... \\(or sentiment train ...\\)"):
        worker_command(["poem", "train"])
    run = RunFolder(tmp_path / "poem")
    run.path.mkdir()
    with run.writing():
        run.write_meta(RunMeta("poem", {"model": {}, "train": {}}))
    with pytest.raises(StudioError, match="unknown kind of model 'poem'"):
        export_run(str(run.path), tmp_path / "out")


def test_a_message_names_its_setting_by_flag_on_the_command_line_and_by_label_in_the_app(
        tmp_path):
    from engine.storage.runs import RunFolder
    run = RunFolder(tmp_path / "taken")
    run.path.mkdir()
    (run.path / "meta.json").write_text("{}")
    with pytest.raises(StudioError) as caught:
        run.require_new()
    err = caught.value
    assert [s.name for s in err.settings] == ["resume", "out"]
    assert str(err).endswith("continue it with --resume, or choose another --out")
    assert in_app_words(err).endswith('continue it with "Resume", or choose another "Run name"')
    assert setting("hidden_size").flag == "--hidden" and setting("lexicon").flag == "--no-lexicon"
    assert setting("ngram_buckets").label == "Word-pair table size"
    assert in_app_words(StudioError("no run named x")) == "No run named x"


def test_the_messages_an_app_user_can_meet_keep_the_command_lines_words():
    """Range checks, bf16 this CPU lacks, the Look inside view's own property, a grid's lists
    and labels differing in case: the command line words them as before, the app by labels."""
    from engine.config import GeneratorConfig, SamplingConfig
    from engine.errors import CommandLineOnly
    from engine.generator.sampling.grid import parse_values
    from engine.generator.inside.text_properties import parse_property
    from engine.generator.precision import training_path
    said = {}
    for name, make in (("range", lambda: GeneratorConfig(hidden_size=99999)),
                       ("sampling", lambda: SamplingConfig(temperature=20)),
                       ("bf16", lambda: training_path("bf16", flags=["avx2"])),
                       ("property", lambda: parse_property("upper", "ABC")),
                       ("list", lambda: parse_values("1,,2", "top_k"))):
        with pytest.raises(StudioError) as caught:
            make()
        said[name] = (str(caught.value), in_app_words(caught.value))
    assert said["range"] == ("hidden_size (--hidden) must be at most 4096, not 99999",
                             '"Hidden size" must be at most 4096, not 99999')
    assert said["sampling"][1] == '"Temperature" must be at most 10.0, not 20'
    assert said["bf16"][0].startswith("--precision bf16: bf16 needs a CPU with AVX512_BF16")
    assert said["bf16"][0].endswith("; use --precision fp32 or auto")
    assert said["bf16"][1].startswith('"Precision" bf16: ')
    assert said["property"] == ("--property takes NAME=REGEX (e.g. 'stage=\\[[^]]*\\]'), not "
                                "'upper'", '"Your own property" takes NAME=REGEX (e.g. '
                                "'stage=\\[[^]]*\\]'), not 'upper'")
    assert said["list"] == ("--top-k: '1,,2' is not a comma-separated list of values",
                            "\"Top-k\": '1,,2' is not a comma-separated list of values")
    cased = StudioError("write each one way", CommandLineOnly(", or pass --merge-label-case"))
    assert str(cased).endswith("or pass --merge-label-case")
    assert in_app_words(cased) == "Write each one way"
    assert all("--" not in app for _, app in said.values())


def test_the_advice_says_what_the_engine_does_and_its_fix_works(tmp_path):
    text = tmp_path / "six.txt"
    text.write_text(("the quick brown fox jumps over the lazy dog.\n" * 140)[:6000])
    # batch 64 x 100 needs 6,401 characters for each part: the engine refuses, as advised
    blocked = advice(6000, 30, TINY, tiny_train(batch_size=64, seq_len=100, val_fraction=0.05))
    assert blocked[0].blocks and blocked[0].fix == {"batch_size": 16}
    with pytest.raises(StudioError, match="too short"):
        train(tmp_path / "refused", text, TINY, tiny_train(batch_size=64, seq_len=100,
                                                           val_fraction=0.05, epochs=0.05))
    events = train(tmp_path / "fixed", text, TINY, tiny_train(batch_size=16, seq_len=100,
                                                              val_fraction=0.05, epochs=0.05))
    assert events[-1].step > 0
    # batch 64 x 20: trains, but validation grows past 5 %: the fix keeps it at 5 %
    caveat = advice(6000, 30, TINY, tiny_train(batch_size=64, seq_len=20, val_fraction=0.05))
    assert not caveat[0].blocks and caveat[0].fix == {"batch_size": 8}
    assert "21% of the text instead of 5%" in caveat[0].text
    started = train(tmp_path / "eight", text, TINY, tiny_train(batch_size=8, seq_len=20,
                                                               val_fraction=0.05, epochs=0.05))[0]
    assert started.info["val_chars"] == 300                      # 5 % of 6,000
    assert not [a for a in advice(6000, 30, TINY, tiny_train(batch_size=8, seq_len=20,
                                                             val_fraction=0.05)) if a.fix]
    from engine.generator.cells import parameter_count
    big = advice(6000, 30, GeneratorConfig(), tiny_train(batch_size=8, seq_len=20))
    hidden = next(a.fix["hidden_size"] for a in big if "overfit" in a.text)
    fits = [parameter_count(GeneratorConfig(hidden_size=h), 30) <= 60_000
            for h in (hidden, 2 * hidden)]
    assert fits == [True, False]                # the largest that fits under 10 per character
    assert largest_power_of_two(0.5) == 0 and largest_power_of_two(25.9) == 16


def test_a_text_too_short_to_train_gets_one_verdict():
    """Finding 29.4: a 10-byte text with the default model used to get a red "Cannot train"
    and, beneath it, an orange "Trains, but ... it will overfit". Only what blocks is said."""
    said = advice(10, 8, GeneratorConfig(), tiny_train(batch_size=64, seq_len=100))
    assert [a.blocks for a in said] == [True] and "Too short" in said[0].text
    # the same model on a text long enough to train: the overfit caveat is said in its turn
    said = advice(60_000, 8, GeneratorConfig(), tiny_train(batch_size=8, seq_len=20))
    assert any("overfit" in a.text for a in said) and not any(a.blocks for a in said)


def test_sentiment_advice_blocks_only_what_training_refuses():
    from engine.sentiment.inspect import advice as data_advice
    assert data_advice({"pos": 20})[0].blocks
    assert data_advice({"pos": 20, "neg": 3})[0].blocks
    unbalanced = data_advice({"pos": 100, "neg": 10})
    assert not unbalanced[0].blocks and "neg" in unbalanced[0].text
    assert data_advice({"pos": 20, "neg": 15}) == []
