"""The Generate tab's data picker: a built-in text or a text file, in its own encoding."""
import json

from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit

import corpora

from desktop.settings import settings
from desktop.tabs.training.data_picker import DataPicker

ENCODINGS = ["utf-8", "cp1252", "latin-1", "utf-16"]


class TextPicker(DataPicker):
    def __init__(self, engine, job: str, parent=None):
        super().__init__(engine, job, "Text to learn from",
                         "A built-in text, or a UTF-8 text file (drop one on this tab)",
                         kind="generator", builtin="text",
                         openers=[("Open file…", "Open a plain-text file (Ctrl+O)", self.ask_file)],
                         parent=parent)
        self.encoding = QComboBox()
        self.encoding.addItems(ENCODINGS)
        tip = ("How the file's characters are stored. It is guessed when you open a file (most "
               "are UTF-8); each text keeps its own.")
        self.encoding.setToolTip(tip)
        self._encodings = {}    # source -> encoding, guessed when a file is added or chosen
        label = QLabel("Encoding")
        label.setToolTip(tip)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.encoding)
        row.addStretch(1)
        self.rows.insertLayout(1, row)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setMaximumHeight(90)
        self.preview.setToolTip("The start of the text")
        self.rows.addWidget(self.preview)
        self.encoding.currentIndexChanged.connect(lambda _: self._encoding_chosen())

    def ask_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open a text file", "",
                                              "Text files (*.txt *.md);;All files (*)")
        return path

    def check_job(self, ref: str):
        encoding = self.encoding.currentText()

        def run(should_stop):
            from engine.generator.inspect import corpus_report
            path, name = corpora.resolve_text_source(ref)
            return dict(corpus_report(path, encoding), name=name)
        return run

    def show_report(self, report: dict):
        self.preview.setPlainText(report["preview"])

    def clear_preview(self):
        self.preview.clear()

    # ---- each text its own encoding ------------------------------------------------------------
    def source_added(self, path: str):
        from engine.text import guess_encoding
        if path not in self._encodings:
            self._encodings[path] = guess_encoding(path)
        self._show_encoding()

    def source_changed(self):
        self._show_encoding()
        self.check()

    def _show_encoding(self):
        """Show the current source's own encoding: a built-in corpus is always UTF-8, a file
        keeps the one guessed for it or chosen for it (never the previous text's)."""
        ref = self.ref()
        self.encoding.blockSignals(True)
        self.encoding.setCurrentText("utf-8" if self.is_builtin() else
                                     self._encodings.get(ref, "utf-8"))
        self.encoding.blockSignals(False)
        self.encoding.setEnabled(not self.is_builtin())

    def _encoding_chosen(self):
        if self.ref() and not self.is_builtin():
            self._encodings[self.ref()] = self.encoding.currentText()
        self.check()

    def save(self, group: str):
        s = settings()
        s.setValue(f"{group}/corpus", self.ref() or "")
        s.setValue(f"{group}/encodings", json.dumps(self._encodings))

    def restore(self, group: str):
        from pathlib import Path
        try:
            saved = json.loads(settings().value(f"{group}/encodings", "{}") or "{}")
            self._encodings = {str(k): str(v) for k, v in saved.items() if str(v) in ENCODINGS}
        except (TypeError, ValueError, AttributeError):
            self._encodings = {}
        last = settings().value(f"{group}/corpus", "")
        if last and last not in corpora.REGISTRY and Path(last).is_file():
            self.add(last, check=False)
        elif last:
            self.select(last)
        self._show_encoding()
        self.check()
