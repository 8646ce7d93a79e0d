"""The training tabs' shared parts, driven through the Generate tab with tiny models trained for
real through the engine thread: training, stopping, resuming, presets, advice, units, charts."""
import json
import math
import time

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from .conftest import repeating_text, run_cli  # noqa: E402
from engine.storage.runs import RunFolder  # noqa: E402
from .gui_helpers import (WAIT_MS, answer_dialog, make_runs,  # noqa: E402,F401
                          set_tiny_generator, train_and_wait, wait_idle, _window)


def test_generate_tab_trains_stays_responsive_and_samples_like_the_cli(qtbot, window, text_file):
    tab = window.generate
    set_tiny_generator(tab, text_file)
    wait_idle(qtbot, window)
    assert "6,000 characters" in tab.picker.facts.text()

    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    tab.panel.train_button.click()
    assert window.engine.running(tab.TRAIN) and not tab.panel.train_button.isEnabled()
    wait_idle(qtbot, window)
    timer.stop()
    assert window.last_error is None
    assert tab.panel.status.text().startswith("Completed"), tab.panel.status.text()
    assert tab.panel.chart.points("train") > 5 and tab.panel.chart.points("validation") >= 1
    assert tab.live_sample.toPlainText()
    # the event loop kept running while the model trained (the window never froze)
    # (typically the longest pause is 50-70 ms; on a busy 2-core machine one tick in a hundred
    # may be late by a few more, which is not a freeze, while any work on the GUI thread would
    # stop the ticks for the whole training)
    pauses = sorted(gaps[2:])
    assert len(gaps) > 20 and pauses[-1] < 0.25, pauses[-5:]
    assert sum(p >= 0.1 for p in pauses) <= max(1, len(pauses) // 100), pauses[-5:]

    sampling = tab.sampling
    assert tab.runs.currentText() == "gui-gen"
    sampling.prime.setText("the ")
    sampling.settings.widgets["length"].setValue(60)
    sampling.settings.seed.setValue(5)
    sampling.settings.temperature.setValue(80)
    sampling.confidence.setChecked(True)
    assert sampling.confidence_legend.isVisible() and "unsure" in sampling.confidence_legend.text()
    sampling.generate_button.click()
    wait_idle(qtbot, window)
    gui_text = sampling.output.toPlainText()
    cli = run_cli("generator", "sample", "gui-gen", "--prime", "the ", "--length", "60", "--seed",
                  "5", "--temperature", "0.8")
    assert cli.returncode == 0, cli.stderr
    assert gui_text == cli.stdout[:-1] and len(gui_text) == 64
    prob, alternatives = sampling.output.info_at(4)
    assert 0 < prob <= 1 and len(alternatives) == 3
    assert window.models.table.rowCount() == 1


def test_stop_says_so_at_once_keeps_what_was_learned_and_resume_continues(qtbot, window,
                                                                           text_file, studio_home):
    """Finding 4: Stop answers at once ("Stopping…", Stop disabled), then saves."""
    from desktop.tabs.training.training_panel import STOPPING
    tab = window.generate
    set_tiny_generator(tab, text_file, "stoppable", epochs=500)
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    qtbot.waitUntil(lambda: tab.panel.chart.points("validation") >= 1, timeout=WAIT_MS)
    QTest.keyClick(window, Qt.Key_Escape)                       # Esc, as a user would
    assert tab.panel.status.text() == STOPPING
    assert not tab.panel.stop_button.isEnabled() and not tab.panel.train_button.isEnabled()
    qtbot.wait(300)                       # progress reports may still arrive: the line stays
    assert tab.panel.status.text() == STOPPING or tab.panel.status.text().startswith("Stopped")
    wait_idle(qtbot, window)
    assert tab.panel.status.text().startswith("Stopped"), tab.panel.status.text()
    assert tab.panel.train_button.isEnabled() and tab.panel.resume_button.isEnabled()
    meta = json.loads((studio_home / "runs" / "stoppable" / "meta.json").read_text())
    step = meta["state"]["step"]
    assert step >= 20 and "best.params" in meta["files"]
    tab.panel.resume_button.click()
    qtbot.waitUntil(lambda: tab.panel.chart.points("train") > step // 5 + 2, timeout=WAIT_MS)
    window.close()                       # closing while training stops and saves
    assert not window.engine.busy
    later = json.loads((studio_home / "runs" / "stoppable" / "meta.json").read_text())
    assert later["state"]["step"] > step


def test_train_and_resume_are_offered_only_when_they_can_work(qtbot, window, tmp_path,
                                                            text_file):
    tab = window.generate
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    tab.picker.add(str(empty))
    wait_idle(qtbot, window)
    assert "cannot be trained on" in tab.picker.facts.text()
    assert not tab.panel.train_button.isEnabled()
    set_tiny_generator(tab, text_file, "fresh", epochs=1)
    wait_idle(qtbot, window)
    assert tab.panel.train_button.isEnabled() and not tab.panel.resume_button.isEnabled()
    assert not tab.resume.isVisible()
    train_and_wait(qtbot, window, tab)
    assert tab.panel.resume_button.isEnabled() and tab.resume.isVisible()
    tab.run_name.setText("no-such-run")
    assert not tab.panel.resume_button.isEnabled() and not tab.resume.isVisible()
    sentiment = window.sentiment
    bad = tmp_path / "one-class.csv"
    bad.write_text("text,label\n" + "fine,pos\n" * 20)
    sentiment.picker.add(str(bad))
    wait_idle(qtbot, window)
    assert not sentiment.panel.train_button.isEnabled()
    assert "Only one label" in sentiment.picker.advice.text()


def test_a_minutes_budget_fills_the_progress_bar_and_it_stops_at_the_end(qtbot, window,
                                                                        text_file):
    tab = window.generate
    set_tiny_generator(tab, text_file, "timed")
    tab.settings.set_values({"minutes": 0.08, "log_interval": 1})    # 4.8 seconds
    wait_idle(qtbot, window)
    seen = []
    tab.panel.progress.valueChanged.connect(seen.append)
    train_and_wait(qtbot, window, tab)
    assert tab.panel.status.text().startswith("Time budget"), tab.panel.status.text()
    assert tab.panel.progress.value() == tab.panel.progress.maximum()
    assert len(set(seen)) > 3 and seen == sorted(seen)       # real progress, never backwards
    assert tab.panel.progress.minimum() < tab.panel.progress.maximum()   # not a "busy" bar


def test_resume_says_what_it_will_do_and_can_train_the_rest_of_the_budget(qtbot, window, tmp_path,
                                                                          text_file, studio_home):
    """Finding 7: Resume says which run, how far, on which data, and offers the rest of the
    budget (the bar continues from where it was) or the budget set above."""
    tab = window.generate
    set_tiny_generator(tab, text_file, "budgeted")
    tab.settings.set_values({"minutes": 0.12, "sample_length": 0})        # 7.2 seconds
    wait_idle(qtbot, window)
    tab.panel.train_button.click()
    qtbot.waitUntil(lambda: tab.panel.progress.value() > 150, timeout=WAIT_MS)
    tab.panel.stop_button.click()
    wait_idle(qtbot, window)
    spent = json.loads((studio_home / "runs" / "budgeted" / "meta.json").read_text())["state"][
        "seconds"]
    assert 0 < spent < 7.2
    note = tab.resume.note.text()
    assert "Resume continues budgeted" in note and "on its own data, test" in note or \
        "on its own data" in note, note
    assert "minutes trained of a 0.12-minute budget" in note
    assert tab.resume.length.currentIndex() == 0 and "left" in tab.resume.length.currentText()
    # a file that is refused: Train waits, Resume still works and says it uses the run's text
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    tab.picker.add(str(binary))
    wait_idle(qtbot, window)
    assert not tab.panel.train_button.isEnabled() and tab.panel.resume_button.isEnabled()
    assert "not the one chosen above (which was refused)" in tab.resume.note.text()
    first = []
    tab.panel.progress.valueChanged.connect(lambda v: first.append(v) if not first and v else None)
    tab.panel.resume_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None, window.last_error
    assert tab.panel.status.text().startswith("Time budget"), tab.panel.status.text()
    # the bar went on from the share already spent, not from 0 %
    assert first and first[0] >= int(1000 * spent / 7.2) - 30, (first[:3], spent)
    total = json.loads((studio_home / "runs" / "budgeted" / "meta.json").read_text())["state"][
        "seconds"]
    assert 6.5 < total < 10, total                       # the rest, not another 7.2 seconds
    assert "(used up)" in tab.resume.length.itemText(0)
    assert tab.resume.length.currentIndex() == 1         # only "the budget set above" is left


def test_a_preset_sets_everything_it_describes_and_says_what_it_was_measured_on(qtbot, window):
    """Finding 6: Quick try resets a custom batch size; its promise is a range, with where it
    was measured; the presets come from engine/generator/recipes.py."""
    from engine.generator.recipes import recipes
    settings = window.generate.settings
    batch = settings.form["batch_size"]
    batch.setFocus()
    batch.lineEdit().selectAll()
    QTest.keyClicks(batch, "8")
    QTest.keyClick(batch, Qt.Key_Tab)
    assert batch.value() == 8 and settings.preset.currentText() == "Custom"
    quick = next(r for r in recipes() if r.name == "Quick try")
    settings.preset.setFocus()
    QTest.keyClicks(settings.preset, "Q")                    # the combo by keyboard
    assert settings.preset.currentText() == "Quick try"
    assert batch.value() == 64                                # what it was measured with
    for key, value in {**quick.model, **quick.train}.items():
        assert settings.form.values(settings.kind.model_config).get(key, value) == value
    assert settings.by_minutes.isChecked() and settings.minutes.value() == quick.minutes
    assert settings.expectation.text() == quick.describe()
    low, high = quick.bits_per_char
    said = f"{low:.2f}-{high:.2f}" if round(low, 2) != round(high, 2) else f"~{high:.2f}"
    assert said in settings.expectation.text() and quick.measured_on in \
        settings.expectation.text()
    settings.form["clip"].setValue(1.0)                       # an Advanced setting changed
    assert settings.preset.currentText() == "Custom"


def test_advice_follows_the_settings_says_if_it_blocks_and_offers_the_fix(qtbot, window,
                                                                           tmp_path):
    """Finding 2: the warnings quote the settings as they are now, say whether training can
    start, and a button applies the fix they name."""
    tab = window.generate
    text = tmp_path / "short.txt"
    text.write_text(repeating_text(52_000), encoding="utf-8")
    tab.picker.add(str(text))
    wait_idle(qtbot, window)
    from engine.generator.cells import parameter_count
    advice = tab.picker.advice
    assert "batch of 64 x 100" in advice.text()
    assert tab.panel.train_button.isEnabled() and not advice.blocks    # it trains, with caveats
    assert [b.text() for b in advice.buttons] == ["Use batch 16", "Use hidden size 128"]
    tab.settings.form["hidden_size"].setValue(256)             # the numbers follow at once
    now = parameter_count(tab.settings.model_config(), tab.picker.report["vocab"])
    assert f"({now:,} parameters)" in advice.text() and f"{now:,} parameters" in \
        tab.picker.facts.text()
    before = tab.picker.facts.text()
    advice.buttons[1].click()
    assert tab.settings.form["hidden_size"].value() == 128
    assert tab.picker.facts.text() != before and "parameters" in tab.picker.facts.text()
    assert "overfit" not in advice.text()                     # the warning followed
    advice.buttons[0].click()
    assert tab.settings.form["batch_size"].value() == 16 and not advice.text().count("batch 64")
    tab.settings.form["batch_size"].setValue(64)
    tab.settings.form["seq_len"].setValue(500)                # now too short to train at all
    assert advice.blocks and not tab.panel.train_button.isEnabled()
    assert advice.labels[0].text().startswith("Cannot train: Too short")
    advice.buttons[0].click()                                  # its fix makes it trainable
    assert tab.panel.train_button.isEnabled() and not advice.blocks
    # finding 29.4: ten bytes with the default model: one verdict, not also "it will overfit"
    tiny = tmp_path / "ten.txt"
    tiny.write_text("ten bytes.", encoding="utf-8")
    tab.settings.form["hidden_size"].setValue(512)
    tab.picker.add(str(tiny))
    wait_idle(qtbot, window)
    assert advice.blocks and len(advice.labels) == 1, advice.text()
    assert advice.labels[0].text().startswith("Cannot train: Too short")


def test_a_generator_speaks_bits_per_character_everywhere(qtbot, window, text_file, studio_home):
    """Finding 5: the chart, the status line and the results all say bits per character."""
    tab = window.generate
    set_tiny_generator(tab, text_file, "units", epochs=1)
    statuses = []
    tab.panel.status.setText = (lambda original: lambda text: (statuses.append(text),
                                                               original(text)))(
        tab.panel.status.setText)
    train_and_wait(qtbot, window, tab)
    assert "bits per character" in tab.panel.chart.plot.plotItem.titleLabel.text
    progress = [s for s in statuses if s.startswith("step ")]
    assert progress and all(" bits/char" in s for s in progress)
    meta = json.loads((studio_home / "runs" / "units" / "meta.json").read_text())
    last_train = [h for h in meta["history"] if h.get("train_loss") is not None][-1]
    ys = tab.panel.chart._data["train"][1]
    assert ys[-1] == pytest.approx(last_train["train_loss"] / math.log(2))
    assert "bits per character" in tab.panel.status.text()
    assert "nats" not in tab.panel.status.text()


def test_charts_keep_sensible_axes_with_one_point_and_when_emptied(qtbot):
    """Finding 9: one point, or none, never gives absurd axes."""
    from desktop.widgets.loss_chart import LossChart
    chart = LossChart("Accuracy", x_label="epoch", y_label="accuracy", y_bounds=(0.0, 1.0))
    qtbot.addWidget(chart)
    chart.show()
    chart.add_point("validation", 1.0, 0.62, dashed=True)
    (x0, x1), (y0, y1) = chart.ranges()
    assert x0 == 0 and 1.0 < x1 <= 1.5 and 0.5 < y0 < 0.62 < y1 < 0.75
    chart.add_point("validation", 2.0, 0.99, dashed=True)
    (_, _), (y0, y1) = chart.ranges()
    assert y1 <= 1.0 and y0 < 0.62
    chart.clear()
    assert chart.ranges() == ((0.0, 1.0), (0.0, 1.0))


def test_the_progress_bar_says_working_then_stops_when_work_stops(qtbot):
    from desktop.tabs.training.training_panel import TrainingPanel
    from engine.events import Finished, Progress, Started
    from engine.kinds import GENERATOR
    panel = TrainingPanel(GENERATOR)
    qtbot.addWidget(panel)
    panel.starting("Reading…")
    assert panel.progress.maximum() == 0                     # "working", before steps are known
    panel.failed()
    assert panel.progress.maximum() > 0 and panel.progress.value() == 0    # stopped, not busy
    panel.starting("Reading…")
    panel.display(Started("run", None, 0, 10))
    panel.display(Progress(5, 0, 2.0, 1e-3, 100.0, 30.0, 90.0, None))        # a minutes budget
    assert panel.progress.value() == panel.progress.maximum() // 4
    panel.display(Finished(9, "time budget", "run", 1.0, 120.0))
    assert panel.progress.value() == panel.progress.maximum()
    panel.starting("Reading…", prior_seconds=60.0)           # resumed for the rest of a budget
    panel.display(Started("run", None, 10, 10))
    panel.display(Progress(12, 0, 2.0, 1e-3, 100.0, 30.0, 30.0, None))
    assert panel.progress.value() == panel.progress.maximum() * 3 // 4


def test_a_time_budget_bar_moves_by_the_clock_and_says_when_time_is_up(qtbot):
    """Progress reports can be minutes apart on a busy machine: the bar of a minutes budget
    follows the clock, then holds at 99 % while the engine makes its last check and saves."""
    from desktop.tabs.training.training_panel import TIME_UP, TrainingPanel
    from engine.events import Finished, Started
    from engine.kinds import GENERATOR
    panel = TrainingPanel(GENERATOR)
    qtbot.addWidget(panel)
    panel.starting("Reading…", budget_s=1.5)
    panel.display(Started("run", None, 0, 10))
    qtbot.waitUntil(lambda: 200 < panel.progress.value() < 990, timeout=3000)
    qtbot.waitUntil(lambda: panel.status.text() == TIME_UP, timeout=5000)
    assert panel.progress.value() == 990
    panel.display(Finished(9, "time budget", "run", 1.0, 2.0))
    assert panel.progress.value() == 1000 and not panel.clock.isActive()


def test_a_notepad_utf16_text_is_read_and_trains_in_the_app(qtbot, window, tmp_path):
    """Finding 29.1 in the app: the data picker takes a UTF-16 file (as Notepad saves it), shows
    its encoding and its text, and training from it completes."""
    text = tmp_path / "notepad.txt"
    text.write_bytes(repeating_text().replace("\n", "\r\n").encode("utf-16"))
    tab = window.generate
    set_tiny_generator(tab, text, "gui-utf16", epochs=1.0)
    wait_idle(qtbot, window)
    assert tab.picker.encoding.currentText() == "utf-16"
    assert tab.picker.preview.toPlainText().startswith("the quick brown fox")
    assert "binary" not in tab.picker.facts.text()
    tab.panel.train_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None
    assert tab.panel.status.text().startswith("Completed"), tab.panel.status.text()


def test_the_builtin_list_says_which_texts_are_ready_and_which_are_built_on_first_use(
        qtbot, studio_home, request):
    """Finding 29.9: the built-in list named corpora without saying which exist yet. A home
    whose corpora folder holds only Shakespeare: Shakespeare is listed as ready, the planted
    brackets as built when first used; choosing them builds them and the list says so."""
    import shutil
    from .conftest import SHARED_CORPORA
    corpora_dir = studio_home / "corpora"
    corpora_dir.unlink()                                  # the shared folder: a folder of its own
    corpora_dir.mkdir()
    for name in ("shakespeare.txt", "shakespeare.json"):
        shutil.copy(SHARED_CORPORA / name, corpora_dir / name)
    window = request.getfixturevalue("window")            # opened on this home
    source = window.generate.picker.source
    texts = {source.itemData(i): source.itemText(i) for i in range(source.count())}
    assert texts["shakespeare"] == "shakespeare (built-in, ready)"
    assert texts["planted-brackets"] == "planted-brackets (built-in, built on first use)"
    source.setCurrentIndex(source.findData("planted-brackets"))
    wait_idle(qtbot, window)
    assert window.generate.picker.report is not None
    assert source.currentText() == "planted-brackets (built-in, ready)"
    assert (corpora_dir / "planted-brackets.txt").is_file()


# ---- Resume with settings that differ from the run's (engine/training/plan.py) ----------------
def _form_as_run(tab, meta, epochs=0.05):
    """The form set to the run's own settings, then the budget set above."""
    tab.settings.set_values({**meta.model_settings, **{
        k: v for k, v in meta.train_settings.items() if k not in ("epochs", "minutes")}})
    tab.settings.set_values({"epochs": epochs})


@pytest.mark.parametrize("answer", ["resume", "new", "cancel"])
def test_resume_with_changed_settings_asks_naming_each_with_both_values(qtbot, window,
                                                                        studio_home, text_file,
                                                                        answer):
    """Issue 25: Resume with a form that differs from the run says which settings and both
    values; "Resume with the run's settings" trains on with the run's, "Start a new run with
    mine" trains a new run with the form's, Cancel trains nothing; the budget that may change
    is applied and said in the status line."""
    from desktop.tabs.training.settings_changed import NEW_RUN_WITH_MINE, RESUME_WITH_THE_RUNS
    from PySide6.QtWidgets import QMessageBox
    make_runs(studio_home, text_file, "kept")
    record = RunFolder(studio_home / "runs" / "kept")
    meta = record.read_meta()
    tab = window.generate
    tab.picker.add(str(text_file))
    tab.run_name.setText("kept")
    _form_as_run(tab, meta)
    tab.settings.set_values({"hidden_size": 24, "lr": 0.05})
    wait_idle(qtbot, window)
    assert tab.panel.resume_button.isEnabled()
    seen = answer_dialog(qtbot, {"resume": RESUME_WITH_THE_RUNS, "new": NEW_RUN_WITH_MINE,
                                 "cancel": QMessageBox.Cancel}[answer])
    tab.panel.resume_button.click()
    wait_idle(qtbot, window)
    assert window.last_error is None, window.last_error
    assert len(seen) == 1 and '"Hidden size": yours 24, the run\'s 16' in seen[0], seen
    assert '"Learning rate": yours 0.05, the run\'s ' in seen[0] and "Epochs" not in seen[0]
    after = record.read_meta()
    if answer == "resume":
        assert after.step > meta.step
        assert after.model_settings == meta.model_settings
        assert after.train_settings["lr"] == meta.train_settings["lr"]
        status = tab.panel.status.text()
        # so many more passes from where it stopped (a little past 0.05): the budget set above
        assert "Changed on resume: \"Epochs\": yours 0.1" in status, status
    else:
        assert after.step == meta.step                                  # not trained on
    new = studio_home / "runs" / "kept-2"
    assert new.exists() == (answer == "new")
    if answer == "new":
        mine = RunFolder(new).read_meta()
        assert mine.model_settings["hidden_size"] == 24 and mine.train_settings["lr"] == 0.05
        assert tab.run_name.text() == "kept-2"


def test_resume_with_the_runs_own_settings_asks_nothing(qtbot, window, studio_home, text_file):
    make_runs(studio_home, text_file, "same")
    record = RunFolder(studio_home / "runs" / "same")
    meta = record.read_meta()
    tab = window.generate
    tab.run_name.setText("same")
    _form_as_run(tab, meta)
    wait_idle(qtbot, window)
    tab.panel.resume_button.click()                  # a dialog would block here: none opens
    wait_idle(qtbot, window)
    assert window.last_error is None, window.last_error
    assert record.read_meta().step > meta.step


def test_a_sentiment_run_trained_in_the_app_resumes_without_asking(qtbot, window, tmp_path,
                                                                   studio_home):
    """The form as it trained compares equal to the run's saved settings (no dialog), and the
    budget set above is applied and said."""
    from .gui_helpers import set_tiny_sentiment
    from .sentiment_helpers import synthetic_rows, write_csv
    tab = window.sentiment
    set_tiny_sentiment(tab, write_csv(tmp_path / "reviews.csv", synthetic_rows(120)), epochs=1)
    train_and_wait(qtbot, window, tab)
    record = RunFolder(studio_home / "runs" / "gui-sent")
    step = record.read_meta().step
    wait_idle(qtbot, window)
    tab.panel.resume_button.click()                  # a dialog would block here: none opens
    wait_idle(qtbot, window)
    assert window.last_error is None, window.last_error
    assert record.read_meta().step > step
    assert "Changed on resume: \"Epochs\": yours 2" in tab.panel.status.text()
