"""Recipes per time budget (engine/generator/recipes.py): the pick by budget and by text size, ``generator
train --recipe`` filling in only the settings a person did not type, and recipes (and the build
script's candidates) that make valid configs."""
import pytest

from engine.cli.main import build_parser, main
from engine.cli.settings import given_settings, settings_from
from engine.config import GeneratorConfig, TrainConfig, settings_of
from engine.generator.train import build_model
from engine.generator.recipes import (BUDGETS, curve_at, curves, parameters, pick, recipe_for,
                                      recipes, reference_speeds, steps_bought)
from engine.generator.recipe_build import CANDIDATES, UNDER_THE_COSINE, configs
from engine.storage.runs import RunFolder

from .conftest import repeating_text

SHAKESPEARE_CHARS = 4_800_000      # the built-in corpus the curves were measured on


def test_there_is_a_recipe_per_budget_named_for_the_app():
    assert [r.minutes for r in recipes()] == list(BUDGETS) == [2, 10, 30, 60]
    assert [r.name for r in recipes()] == list(BUDGETS.values())
    assert recipe_for(5).name == "Quick try" and recipe_for(45).name == "Better"
    assert recipe_for(1).name == "Quick try" and recipe_for(600).name == "Best"


def test_a_long_text_gets_the_picked_recipe_and_a_short_one_a_smaller_model():
    recipe = recipe_for(10)
    assert recipe_for(10, SHAKESPEARE_CHARS).model == recipe.model
    short = recipe_for(10, 40_000)
    assert short.minutes == recipe.minutes
    assert parameters(short.model) <= 40_000 < parameters(recipe.model)
    assert short.model["hidden_size"] < recipe.model.get("hidden_size", 512)
    assert short.model["dropout"] > 0                  # it sees its text many times over
    assert short.bits_per_char == (0.0, 0.0) and "not measured" in short.describe()
    assert recipe_for(10, 2_000_000).model.get("hidden_size", 512) >= short.model["hidden_size"]


@pytest.mark.parametrize("model", [{}, {"mode": "gru", "num_layers": 3, "hidden_size": 96,
                                        "embed_size": 20}])
def test_parameters_counts_what_the_model_really_has(model):
    config = GeneratorConfig(vocab_size=65, **model)
    net = build_model(config, None)
    real = sum(p.data().size for p in net.collect_params().values())
    assert parameters(model, vocab=65) == real


def test_every_recipe_and_candidate_makes_valid_configs():
    chooseable = {f.name for cls in (GeneratorConfig, TrainConfig) for f in settings_of(cls)}
    for recipe in recipes():
        assert set(recipe.model) | set(recipe.train) <= chooseable    # the GUI shows them all
        GeneratorConfig(**recipe.model)
        TrainConfig(**recipe.train, minutes=recipe.minutes)
        assert recipe.describe().startswith(f"{recipe.minutes:g} minutes: ")
    for name in CANDIDATES:
        configs(name)
    for name, c in curves().items():                 # the shipped curves: the build's candidates
        assert (c["model"], c["train"]) == CANDIDATES[name]
        assert c.get("cosine_train") == UNDER_THE_COSINE.get(name)
        TrainConfig(**c.get("cosine_train", {}))
        steps = [p[0] for p in c["curve"]]
        assert steps == sorted(steps) and len(steps) >= 2 and c["reference_speed"] > 0


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


def test_a_budget_pays_for_its_validations_and_a_curve_is_read_between_and_past_its_points():
    # 600 s at 100 steps/s: 60,000 steps without validations; with a validation taking 1 s
    # (100 steps' time) every 1,000 steps, 54 of them fit beside 54,600 steps
    fast = 6400 * 100
    train = TrainConfig(val_interval=1000, val_fraction=1e-6)
    assert abs(steps_bought(10, fast, train, 1000) - 60_000) <= 1   # validations of no time
    chars = int(fast / 0.05 * 3)                      # a third of a training character each
    assert abs(steps_bought(10, fast, train.replace(val_fraction=0.05), chars) - 54_600) <= 1
    points = [[100, 3.0], [200, 2.0], [400, 1.8], [800, 1.6]]
    assert curve_at(points, 150) == (pytest.approx(2.5), None)
    assert curve_at(points, 50) == (3.0, None)
    bits, past = curve_at(points, 1600)
    assert past == 800 and bits == pytest.approx((2.0 + 1.8 + 1.6) / 3)   # no gain assumed
    assert curve_at(points, 1_000_000) == curve_at(points, 1600)


def _scaled(factor):
    return {name: speed * factor for name, speed in reference_speeds().items()}


def test_a_slower_machine_gets_a_model_no_larger_and_a_fast_one_no_smaller():
    """The probe's numbers injected: the same curves, speeds a tenth and ten times the curves'
    machine's. Every budget: the slow machine's model is at most the fast one's size, and
    somewhere strictly smaller; the fast machine expects lower bits."""
    smaller_somewhere = False
    for minutes in BUDGETS:
        slow, fast = pick(minutes, _scaled(0.1)), pick(minutes, _scaled(10))
        assert parameters(slow.model) <= parameters(fast.model), minutes
        smaller_somewhere |= parameters(slow.model) < parameters(fast.model)
        assert fast.bits_per_char[1] <= slow.bits_per_char[1]
        assert fast.steps > 0 and slow.steps > 0
    assert smaller_somewhere


def test_a_fast_machine_on_a_text_near_the_curves_own_takes_a_measured_candidate_that_fits():
    """A model too large for the text is passed over for the best measured one that fits (not
    narrowed into a shape no curve measured); on a text as long as the curves' own, the largest
    candidates fit as measured."""
    fast = _scaled(10)
    for minutes in (10, 30, 60):
        largest = pick(minutes, fast)
        assert parameters(largest.model) > 4_000_000, minutes      # the fast machine's own pick
        assert pick(minutes, fast, text_chars=4_725_838).model == largest.model
        near = pick(minutes, fast, text_chars=4_000_000)
        # a candidate as measured, but for the dropout a text seen more often than its own keeps
        shape = {k: v for k, v in near.model.items() if k != "dropout"}
        assert parameters(near.model) <= 4_000_000 and shape in [
            {k: v for k, v in c["model"].items() if k != "dropout"} for c in curves().values()]


def test_the_pick_is_the_lowest_curve_at_the_steps_each_speed_buys():
    speeds = reference_speeds()
    for minutes in BUDGETS:
        picked = pick(minutes, speeds)
        reached = {}
        for name, c in curves().items():
            train = dict(c["train"], **({"anneal": "cosine"} if minutes >= 10 else {}))
            steps = steps_bought(minutes, speeds[name], TrainConfig(**train), 4_725_838)
            reached[name] = curve_at(c["curve"], steps)[0]
        best = min(reached, key=reached.get)
        assert picked.model == curves()[best]["model"]
        assert picked.bits_per_char[1] == pytest.approx(reached[best], abs=0.005)


def test_a_budget_with_the_cosine_trains_a_candidate_at_its_cosine_learning_rate():
    """The 2x768's curve was run at lr 2e-3; under the cosine (budgets of 10 minutes and more)
    it trains at the 4e-3 that ten minutes measured better, and a 2-minute budget (no cosine)
    keeps the curve's rate. Speeds of the Xeon with AMX, where ten minutes pick the 2x768."""
    amx = {"gru512-d0-lr4e-3": 22_647, "lstm256-d0-lr4e-3": 96_921, "lstm3x512-d0": 24_944,
           "lstm512-d0-b128-lr4e-3": 45_833, "lstm512-d0-lr4e-3": 38_291, "lstm768-d0": 18_918}
    assert set(amx) == set(curves())
    ten = pick(10, amx)
    assert ten.model == curves()["lstm768-d0"]["model"]
    assert ten.train == {"lr": 4e-3, "anneal": "cosine"}
    assert TrainConfig(**ten.train).lr == 4e-3
    only_the_768 = {"lstm768-d0": 18_918}
    short = pick(2, only_the_768)
    assert short.model == ten.model and "lr" not in short.train and "anneal" not in short.train
    for name, c in curves().items():                 # the others keep their curve's rate
        if "cosine_train" not in c:
            assert pick(10, {name: 10_000}).train == dict(c["train"], anneal="cosine")


def test_the_recipe_line_names_precision_speed_steps_and_an_extrapolation():
    from engine.generator.speed_probe import probe_path
    recipe = pick(60, _scaled(10))
    line = recipe.describe()
    assert f", {probe_path().precision}, " in line
    assert f"{recipe.chars_per_s:,.0f} chars/s measured here" in line
    assert f"after ~{recipe.steps:,} steps" in line
    assert recipe.extrapolated_from and f"measured to step {recipe.extrapolated_from:,} only" in line
    stand_in = pick(10, reference_speeds(), speed_here=False).describe()
    assert "this one is measured when training starts" in stand_in
