"""Recipes per time budget (engine/generator/recipes.py): the pick by budget and by text size, ``generator
train --recipe`` filling in only the settings a person did not type, and recipes (and the build
script's candidates) that make valid configs."""
import pytest

from engine.cli.main import build_parser, main
from engine.cli.settings import given_settings, settings_from
from engine.config import GeneratorConfig, TrainConfig, settings_of
from engine.generator.train import build_model
from engine.generator.recipes import RECIPES, parameters, recipe_for
from engine.generator.recipe_build import CANDIDATES, bits_at, configs, speed_twin, steps_in
from engine.storage.runs import RunFolder

from .conftest import repeating_text

BY_BUDGET = sorted(RECIPES, key=lambda r: r.minutes)
SHAKESPEARE_CHARS = 4_800_000      # the built-in corpus the table was measured on


def test_recipe_for_takes_the_largest_budget_that_fits():
    assert len({r.minutes for r in RECIPES}) == len(RECIPES) >= 2
    for recipe, larger in zip(BY_BUDGET, BY_BUDGET[1:] + [None]):
        assert recipe_for(recipe.minutes) is recipe
        between = (recipe.minutes + larger.minutes) / 2 if larger else recipe.minutes * 10
        assert recipe_for(between) is recipe
    assert recipe_for(BY_BUDGET[0].minutes / 4) is BY_BUDGET[0]


def test_a_long_text_gets_the_measured_recipe_and_a_short_one_a_smaller_model():
    recipe = recipe_for(10)
    assert recipe_for(10, SHAKESPEARE_CHARS) is recipe
    short = recipe_for(10, 40_000)
    assert short.minutes == recipe.minutes
    assert parameters(short.model) <= 40_000 < parameters(recipe.model)
    assert short.model["hidden_size"] < recipe.model.get("hidden_size", 512)
    assert short.model["dropout"] > 0                  # it sees its text many times over
    assert short.bits_per_char == (0.0, 0.0) and "not measured" in short.describe()
    assert recipe_for(10, 2_000_000).model["hidden_size"] >= short.model["hidden_size"]


@pytest.mark.parametrize("model", [{}, {"mode": "gru", "num_layers": 3, "hidden_size": 96,
                                        "embed_size": 20}])
def test_parameters_counts_what_the_model_really_has(model):
    config = GeneratorConfig(vocab_size=65, **model)
    net = build_model(config, None)
    real = sum(p.data().size for p in net.collect_params().values())
    assert parameters(model, vocab=65) == real


def test_every_recipe_and_candidate_makes_valid_configs():
    chooseable = {f.name for cls in (GeneratorConfig, TrainConfig) for f in settings_of(cls)}
    for recipe in RECIPES:
        assert set(recipe.model) | set(recipe.train) <= chooseable    # the GUI shows them all
        GeneratorConfig(**recipe.model)
        TrainConfig(**recipe.train, minutes=recipe.minutes)
        assert recipe.describe().startswith(f"{recipe.minutes:g} minutes: ")
    for name in CANDIDATES:
        configs(name)


def _parse(*flags):
    args = build_parser().parse_args(["generator", "train", "--out", "r", *flags])
    return args, settings_from(GeneratorConfig, args), settings_from(TrainConfig, args, "generator")


def test_only_the_flags_typed_count_as_given_even_at_their_default_values():
    args, _, _ = _parse("--hidden", "128", "--dropout", "0.2", "--lr=0.01", "--minutes", "10")
    assert given_settings(args) == {"hidden_size", "dropout", "lr", "minutes"}
    args, _, _ = _parse("--hid", "64")                  # argparse's abbreviations count too
    assert given_settings(args) == {"hidden_size"}
    assert given_settings(_parse()[0]) == set()


def test_on_off_flags_still_switch_and_count_as_given():
    parse = build_parser().parse_args
    args = parse(["sentiment", "train", "--out", "r", "--no-lexicon", "--bidirectional"])
    assert (args.lexicon, args.bidirectional) == (False, True)
    assert given_settings(args) == {"lexicon", "bidirectional"}
    args = parse(["sentiment", "train", "--out", "r"])
    assert (args.lexicon, args.bidirectional, given_settings(args)) == (True, False, set())


def test_a_recipe_fills_in_only_what_was_not_given():
    recipe = recipe_for(10)
    args, model, train = _parse("--minutes", "10", "--dropout", "0.2", "--seq-len", "77")
    model, train = recipe.configs(model, train, keep=given_settings(args))
    assert model.dropout == 0.2 and train.seq_len == 77 and train.minutes == 10
    for name, value in {**recipe.model, **recipe.train}.items():
        if name not in ("dropout", "seq_len"):
            assert getattr(model if name in recipe.model else train, name) == value


def test_generator_train_with_recipe_trains_with_the_filled_in_settings(tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text(repeating_text(20_000), encoding="utf-8")
    code = main(["generator", "train", "--corpus", str(text), "--out", str(tmp_path / "run"),
                 "--minutes", "0.02", "--recipe", "--layers", "1", "--embed", "8", "--batch", "4",
                 "--seq-len", "16", "--quiet"])
    assert code == 0
    expected = recipe_for(0.02, 20_000)
    assert "recipe: " + expected.describe() in capsys.readouterr().err
    meta = RunFolder(tmp_path / "run").read_meta()
    model, train = meta.model_settings, meta.train_settings
    assert (model["num_layers"], model["embed_size"], train["batch_size"],
            train["seq_len"]) == (1, 8, 4, 16)              # typed: kept
    for name in ("hidden_size", "mode", "dropout"):
        assert model[name] == GeneratorConfig(**expected.model).__getattribute__(name)
    for name in ("lr",):
        assert train[name] == TrainConfig(**expected.train).__getattribute__(name)


@pytest.mark.parametrize("flags, said", [(["--minutes", "5", "--resume"], "resumed run"),
                                         (["--epochs", "1"], "needs --minutes")])
def test_recipe_refuses_a_resume_and_a_run_without_minutes(tmp_path, capsys, flags, said):
    text = tmp_path / "text.txt"
    text.write_text(repeating_text(), encoding="utf-8")
    assert main(["generator", "train", "--corpus", str(text), "--out", str(tmp_path / "run"),
                 "--recipe", *flags]) == 2
    assert said in capsys.readouterr().err


def test_the_build_script_counts_validations_in_the_budget_and_interpolates_its_curve():
    # 600 s at 100 steps/s: 60,000 steps without validations; with one of 1 s (100 steps' time)
    # every 1,000 steps, 54 of them fit beside 54,600 steps
    assert steps_in(10, chars_per_s=6400 * 100, chars_per_step=6400, val_seconds=0,
                    val_interval=1000) == 60_000
    assert abs(steps_in(10, 640_000, 6400, 1, 1000) - 54_600) <= 1
    points = [{"step": 100, "heldout_bits": 3.0}, {"step": 200, "heldout_bits": 2.0}]
    assert bits_at(points, 150) == pytest.approx(2.5)
    assert bits_at(points, 250) is None


def test_a_candidate_that_differs_only_in_its_learning_rate_takes_its_twins_speed():
    assert speed_twin("lstm512-d0-lr4e-3", {"lstm512-d0": {}}) == "lstm512-d0"
    assert speed_twin("lstm512-d0-lr4e-3", {"lstm512": {}}) is None      # dropout costs time
    assert speed_twin("lstm512", {"lstm512": {}}) == "lstm512"
