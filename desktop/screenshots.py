"""Regenerate the README's screenshots: ``python -m desktop.screenshots OUT_DIR``.

Opens the real window offscreen at 1280x720 (the smallest screen it is made for) over the
current ``RNN_STUDIO_HOME``, trains a small generator and a small sentiment model through the GUI
(unless runs named ``screenshot-*`` exist), samples, analyses a sentence, and saves one PNG per
tab of the whole window with ``grab()``, in 256 colours to keep them small.
"""
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


def main(out: str):
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    # the shots show the defaults, whatever this user's own saved settings are
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, tempfile.mkdtemp(prefix="rnn-studio-shots-"))

    from desktop.app import MainWindow
    from engine.runs import list_runs
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setStyle("Fusion")
    window = MainWindow()
    window.confirm_close = False
    window.resize(1280, 720)
    window.show()
    have = {r["name"] for r in list_runs()}
    gen, sent = window.generate, window.sentiment
    if not have:                    # a first start: the Models tab says what to do first
        window.tabs.setCurrentWidget(window.models)
        _wait(app, window)
        save(window, out_dir / "models-empty.png")
    if "screenshot-bard" not in have:
        gen.picker.source.setCurrentIndex(gen.picker.source.findData("shakespeare"))
        gen.settings.preset.setCurrentText("Quick try")
        gen.run_name.setText("screenshot-bard")
        _wait(app, window)
        gen.start_training(resume=False)
        _wait(app, window)
    gen.select_run("screenshot-bard")
    sampling = gen.sampling
    sampling.prime.setText("ROMEO:")
    sampling.length.setValue(600)
    sampling.confidence.setChecked(True)
    sampling.preset.setCurrentText("Balanced")
    sampling.generate()
    _wait(app, window)
    window.tabs.setCurrentWidget(gen)
    _wait(app, window)
    save(window, out_dir / "generate.png")

    if "screenshot-sentiment" not in have:
        sent.picker.source.setCurrentIndex(sent.picker.source.findData("movie-sentences"))
        sent.settings.set_values({"epochs": 6})
        sent.run_name.setText("screenshot-sentiment")
        _wait(app, window)
        sent.start_training(resume=False)
        _wait(app, window)
    sent.select_run("screenshot-sentiment")
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
    main(sys.argv[1] if len(sys.argv) > 1 else "desktop/screenshots")
