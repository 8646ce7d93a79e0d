"""The Sentiment tab's data picker: built-in rated sentences, or a labeled file or folder."""
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHeaderView, QTableWidget, QTableWidgetItem

import corpora
from engine.config import DEFAULT_SENTIMENT_DATA

from desktop.settings import settings
from desktop.tabs.training.data_picker import DataPicker


class LabeledPicker(DataPicker):
    def __init__(self, engine, job: str, parent=None):
        super().__init__(engine, job, "Labeled data",
                         "A built-in set of rated sentences (rated-sentences: films, product "
                         "reviews, tweets and news, the default), a CSV/TSV/JSONL file with text "
                         "and label columns, or a folder with a sub-folder of .txt files per "
                         "label", kind="sentiment", builtin="labeled",
                         openers=[("File…", "A CSV, TSV or JSON Lines file with text and label "
                                   "columns", self.ask_file),
                                  ("Folder…", "A folder with one sub-folder of .txt files per "
                                   "label", self.ask_folder)], parent=parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["text", "label"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.setMaximumHeight(130)
        self.table.setToolTip("The first examples")
        self.rows.addWidget(self.table)

    def ask_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open labeled data", "",
                                              "Labeled data (*.csv *.tsv *.jsonl);;All files (*)")
        return path

    def ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "A folder with one sub-folder per label")

    def check_job(self, ref: str):
        def run(should_stop):
            from engine.sentiment.inspect import data_report
            path, name = corpora.resolve_labeled_source(ref)
            return dict(data_report(path), name=name)
        return run

    def show_report(self, report: dict):
        self.table.setRowCount(len(report["rows"]))
        for i, (text, label) in enumerate(report["rows"]):
            self.table.setItem(i, 0, QTableWidgetItem(text[:300]))
            self.table.setItem(i, 1, QTableWidgetItem(label))

    def clear_preview(self):
        self.table.setRowCount(0)

    def save(self, group: str):
        settings().setValue(f"{group}/data", self.ref() or "")

    def restore(self, group: str):
        last = settings().value(f"{group}/data", "") or DEFAULT_SENTIMENT_DATA
        if last not in corpora.REGISTRY and Path(last).exists():
            self.add(last, check=False)
        else:
            self.select(last)
        self.check()
