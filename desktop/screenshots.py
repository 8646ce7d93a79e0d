"""Regenerate the README's screenshots: ``python -m desktop.screenshots OUT_DIR [--generator RUN]
[--sentiment RUN]``.

Opens the real window offscreen at 1280x720 (the smallest screen it is made for) over the
current ``RNN_STUDIO_HOME``, trains a small generator and a small sentiment model through the GUI
unless the runs named exist (default ``screenshot-bard`` and ``screenshot-sentiment``), then,
as a user would: generates one sample judged by the sentiment model, a grid of samples steered
toward its second label, looks inside the generator on a slice of its training text, analyses a
sentence, and saves one PNG per view of the whole window with ``grab()``, in 256 colours to
keep them small.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app, window, seconds=1800):
    import time
    end = time.time() + seconds
    while window.engine.busy and time.time() < end:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(20):
        app.processEvents()


def save(window, path: Path):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    # 256 colours without dithering: flat areas stay flat, so the PNG stays small
    image = window.grab().toImage().convertToFormat(
        QImage.Format_Indexed8, Qt.ThresholdDither | Qt.AvoidDither | Qt.ThresholdAlphaDither)
    image.save(str(path), "PNG", 0)             # 0: the most compressed


def train_missing(app, window, have, generator: str, sentiment: str):
    """Train the runs the pictures need through the GUI, unless they exist."""
    gen, sent = window.generate, window.sentiment
    if generator not in have:
        gen.picker.source.setCurrentIndex(gen.picker.source.findData("shakespeare"))
        gen.settings.preset.setCurrentText("Quick try")
        gen.run_name.setText(generator)
        _wait(app, window)
        gen.start_training(resume=False)
        _wait(app, window)
    if sentiment not in have:
        sent.picker.source.setCurrentIndex(sent.picker.source.findData("movie-sentences"))
        sent.settings.set_values({"epochs": 6})
        sent.run_name.setText(sentiment)
        _wait(app, window)
        sent.start_training(resume=False)
        _wait(app, window)


def shoot_generate(app, window, out_dir: Path, generator: str, sentiment: str):
    """One sample, shaded and judged; then a grid steered toward the sentiment's last label."""
    gen = window.generate
    gen.select_run(generator)
    sampling = gen.sampling
    sampling.prime.setText("ROMEO:")
    sampling.settings.preset.setCurrentText("Balanced")
    sampling.settings.widgets["length"].setValue(600)
    sampling.confidence.setChecked(True)
    choice = sampling.sentiment
    choice.judge.setCurrentIndex(choice.judge.findText(sentiment))
    choice.label.setCurrentIndex(0)                  # judged, not steered
    window.tabs.setCurrentWidget(gen)
    sampling.generate()
    _wait(app, window)
    save(window, out_dir / "generate.png")

    sampling.views.setCurrentWidget(sampling.grid)   # takes the column
    sampling.settings.widgets["length"].setValue(240)
    sampling.grid.axes.temperatures.setText("0.5, 0.8, 1.3")
    sampling.grid.axes.seeds.setText("1, 2")
    choice.label.setCurrentIndex(choice.label.count() - 1)
    sampling.generate()
    _wait(app, window)
    sampling.grid.area.verticalScrollBar().setValue(0)
    save(window, out_dir / "grid.png")
    sampling.views.setCurrentWidget(sampling.one)
    sampling.give_room(False)


def shoot_look_inside(app, window, out_dir: Path, generator: str):
    """A slice of the plays' held-out end, the cells ranked by speaker names."""
    from PySide6.QtCore import Qt
    look = window.look_inside
    window.tabs.setCurrentWidget(look)
    look.choose_run(generator)
    look.source.setCurrentIndex(0)
    look.start.setValue(4_600_000)
    look.length.setValue(3000)
    look.record()
    _wait(app, window)
    if look.look is None:
        sys.exit(f"recording failed: {look.status.text()}")
    look.rank_by.setCurrentIndex(max(0, look.rank_by.findData("speaker")))
    listed = look.cells.findItems("2:439c", Qt.MatchExactly, 0)     # bard10's speaker cell
    if listed:
        look.cells.setCurrentItem(listed[0])
    _wait(app, window)
    save(window, out_dir / "look-inside.png")


def main(argv=None):
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default="desktop/screenshots")
    parser.add_argument("--generator", default="screenshot-bard")
    parser.add_argument("--sentiment", default="screenshot-sentiment")
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    # the shots show the defaults, whatever this user's own saved settings are
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, tempfile.mkdtemp(prefix="rnn-studio-shots-"))

    from desktop.app import MainWindow
    from engine.storage.runs import list_runs
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setStyle("Fusion")
    window = MainWindow()
    window.confirm_close = False
    window.resize(1280, 720)
    window.show()
    have = {r["name"] for r in list_runs()}
    if not have:                    # a first start: the Models tab says what to do first
        window.tabs.setCurrentWidget(window.models)
        _wait(app, window)
        save(window, out_dir / "models-empty.png")
    train_missing(app, window, have, args.generator, args.sentiment)
    shoot_generate(app, window, out_dir, args.generator, args.sentiment)
    shoot_look_inside(app, window, out_dir, args.generator)

    sent = window.sentiment
    sent.select_run(args.sentiment)
    sent.analysis.text.setPlainText("A gripping story, though the ending was not good and the "
                                    "lead actor looked bored.")
    sent.analysis.analyse()
    _wait(app, window)
    window.tabs.setCurrentWidget(sent)
    _wait(app, window)
    save(window, out_dir / "sentiment.png")

    window.models.refresh()
    window.models.table.selectAll()
    window.tabs.setCurrentWidget(window.models)
    _wait(app, window)
    save(window, out_dir / "models.png")
    window.close()
    print(f"saved screenshots in {out_dir}")


if __name__ == "__main__":
    main()
