"""A sentiment model's scores on its held-back test split: accuracy and macro F1 beside its two
halves alone and the VADER word list, and the confusion matrix with its axes named."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QWidget)

PARTS = (("reader", "its reader alone (reads word by word)"),
         ("linear", "its word-count classifier alone"))


class EvaluationView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.scores = QLabel()
        self.scores.setTextFormat(Qt.RichText)
        self.scores.setWordWrap(True)
        self.scores.setToolTip("Scored on examples held back from training (the test split)")
        self.confusion = QTableWidget(0, 0)
        self.confusion.setToolTip("Rows: the actual label; columns: what the model predicted")
        self.confusion.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.confusion.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scores, 1)
        layout.addWidget(self.confusion, 1)

    def clear(self):
        self.scores.clear()
        self.confusion.setRowCount(0)
        self.confusion.setVisible(False)

    def show_run(self, run_dir):
        from engine.storage.runs import RunFolder
        meta = RunFolder(run_dir).read_meta()
        test, labels = meta.test, meta.labels or []
        if not test:
            self.clear()
            self.scores.setText("No test scores yet.")
            return
        rows = (f"<tr><td>this model</td><td>{test['accuracy']:.1%}</td>"
                f"<td>{test['macro_f1']:.3f}</td></tr>")
        for part, name in PARTS:
            if part in test.get("parts", {}):
                rows += f"<tr><td>{name}</td><td>{test['parts'][part]:.1%}</td><td></td></tr>"
        vader = test.get("vader")
        if vader:
            rows += (f"<tr><td>VADER (a word list, no training)</td><td>{vader['accuracy']:.1%}"
                     f"</td><td>{vader['macro_f1']:.3f}</td></tr>")
        self.scores.setText(f"<b>On {test['n']:,} held-back test examples</b>"
                            f"<table cellpadding=3><tr><th></th><th>accuracy</th>"
                            f"<th>macro F1</th></tr>{rows}</table>")
        self.confusion.setVisible(True)
        self.confusion.setRowCount(len(labels))
        self.confusion.setColumnCount(len(labels))
        self.confusion.setHorizontalHeaderLabels([f"predicted {lab}" for lab in labels])
        self.confusion.setVerticalHeaderLabels([f"actual {lab}" for lab in labels])
        for i, row in enumerate(test["confusion"]):
            for j, v in enumerate(row):
                item = QTableWidgetItem(str(v))
                item.setTextAlignment(Qt.AlignCenter)
                item.setToolTip(f"{v} test examples labeled {labels[i]} were predicted "
                                f"{labels[j]}")
                self.confusion.setItem(i, j, item)
        rows = self.confusion.verticalHeader()          # as tall as its rows, no empty band
        self.confusion.setFixedHeight(self.confusion.horizontalHeader().height() +
                                      rows.length() + 2 * self.confusion.frameWidth())
