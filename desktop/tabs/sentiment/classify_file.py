"""Classifying a whole CSV/TSV file with a sentiment model: the file is checked first (a wrong
file is refused before anyone is asked where to save), the text column picked, the output file
chosen; then every row is labeled on the engine thread, with a progress bar, and a dialog says
how many rows were classified, how many were left unscored (no text), how many are mostly words
the model never saw, and where the file went."""
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHeaderView,
                               QInputDialog, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout)

CLASSIFY, CHECK = "sentiment-classify", "sentiment-check-table"
LIKELY_TEXT_COLUMNS = ("comment", "comments", "review", "sentence", "message", "content", "body")


class FileClassifier:
    """The classify-a-file flow of an AnalysePanel (its engine, window, runs and progress bar)."""

    def __init__(self, panel):
        self.panel = panel
        self.dialog = None                      # the last results dialog
        self.target = None

    @property
    def busy(self) -> bool:
        return self.panel.engine.running(CLASSIFY)

    def choose_and_classify(self):
        src, _ = QFileDialog.getOpenFileName(self.panel, "A CSV/TSV file with a text column", "",
                                             "Tables (*.csv *.tsv);;All files (*)")
        if src:
            self.check_table(src)

    def check_table(self, src: str):
        from engine.sentiment.predict import table_header
        self.panel.engine.submit(
            CHECK, lambda should_stop: table_header(src), streams=False, uses_runs=False,
            on_done=lambda header: self._choose_column_and_output(src, header),
            on_error=lambda message: self.panel.window.show_error("Cannot classify", message))

    def _choose_column_and_output(self, src: str, header):
        column = self.choose_text_column(header)
        if not column:
            return
        dst, _ = QFileDialog.getSaveFileName(self.panel, "Save the labeled file",
                                             str(Path(src).with_suffix(".labeled.csv")),
                                             "CSV (*.csv)")
        if dst:
            self.classify(src, dst, column)

    def choose_text_column(self, header) -> str:
        """The column named "text", or the one the user picks (e.g. "comment")."""
        named = [h for h in header if h.strip().lower() == "text"]
        if named:
            return named[0]
        likely = next((i for i, h in enumerate(header)
                       if h.strip().lower() in LIKELY_TEXT_COLUMNS), 0)
        column, ok = QInputDialog.getItem(self.panel, "Which column holds the text?",
                                          "This file has no 'text' column. Classify the texts "
                                          "in column:", list(header), likely, False)
        return column if ok else ""

    def classify(self, src: str, dst: str, column: str = "text"):
        from desktop.tabs.sentiment.predictors import cached_predictor
        run_path = self.panel.runs.path()
        if not run_path:
            return

        def run(should_stop):
            return cached_predictor(run_path).classify_file_steps(src, dst, column,
                                                                  should_stop=should_stop)
        bar = self.panel.classify_progress
        bar.setValue(0)
        bar.setVisible(True)
        self.target = dst
        self.panel.engine.submit(CLASSIFY, run, on_event=self._rows,
                                 on_done=lambda _: bar.setVisible(False), on_error=self._failed)

    def _failed(self, message: str):
        self.panel.classify_progress.setVisible(False)
        self.panel.window.show_error("Cannot classify", message)

    def _rows(self, step):
        bar = self.panel.classify_progress
        bar.setRange(0, step.total)
        bar.setValue(step.done)
        if step.counts is not None:
            self.show_results(step, self.target)

    def show_results(self, step, dst: str):
        """The results: texts per predicted label, the rows classified and left unscored, and
        where the file went (with a button to open its folder)."""
        self.dialog = QDialog(self.panel)
        self.dialog.setWindowTitle("Classified")
        table = QTableWidget(len(step.counts), 3)
        table.setHorizontalHeaderLabels(["predicted label", "texts", "share"])
        scored = sum(step.counts.values())
        for i, (label, n) in enumerate(step.counts.items()):
            for j, value in enumerate((label, f"{n:,}", f"{n / max(1, scored):.1%}")):
                table.setItem(i, j, QTableWidgetItem(value))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        self.dialog.setMinimumWidth(460)
        unscored = step.skipped
        note = QLabel(f"{scored:,} of {step.total:,} rows classified" + (
            f"; {unscored:,} without text left unscored (kept, with empty label columns)"
            if unscored else "") + (
            f". {step.mostly_unknown:,} of them are mostly words this model never saw "
            f"(another language?): their labels mean little; the known_words column says "
            f"which" if step.mostly_unknown else "") + f". Saved to {dst}")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        open_folder = buttons.addButton("Open folder", QDialogButtonBox.ActionRole)
        open_folder.clicked.connect(lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(Path(dst).parent))))
        buttons.rejected.connect(self.dialog.reject)
        layout = QVBoxLayout(self.dialog)
        for w in (note, table, buttons):
            layout.addWidget(w)
        self.dialog.open()
        self.panel.window.statusBar().showMessage(
            f"Classified {scored:,} rows" + (f", {unscored:,} left unscored" if unscored else "")
            + (f", {step.mostly_unknown:,} mostly unknown words" if step.mostly_unknown else "")
            + f": saved {dst}", 10000)
