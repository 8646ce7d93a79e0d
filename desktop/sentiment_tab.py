"""The Sentiment tab: pick labeled data, train a classifier, see how good it is (beside VADER),
analyse text as it is typed with each word coloured by its contribution, classify whole files."""
import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGroupBox,
                               QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
                               QPlainTextEdit, QProgressBar, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

import corpora
from engine.config import DEFAULT_SENTIMENT_DATA, SentimentConfig, SentimentTrainConfig
from engine.events import Finished, Started

from .common import (plain_words, select_or_add, settings_column, settle_run_name,
                     side_by_side)
from .settings_form import SettingsForm
from .settings import restore_widgets, save_widgets, settings
from .widgets.contributions import ContributionView
from .widgets.training_panel import TrainingPanel

TRAIN, PREVIEW, ANALYSE, CLASSIFY, CHECK = ("sent-train", "sent-preview", "sent-analyse",
                                           "sent-classify", "sent-check")
_PREDICTORS = {}          # run path -> (meta mtime, predictor); touched only on the engine thread


def cached_predictor(run_path: str):
    from engine.sentiment.predict import SentimentPredictor
    stamp = os.path.getmtime(Path(run_path) / "meta.json")
    hit = _PREDICTORS.get(run_path)
    if hit is None or hit[0] != stamp:
        hit = (stamp, SentimentPredictor.load(run_path))
        _PREDICTORS[run_path] = hit
    return hit[1]


class SentimentTab(QWidget):
    runs_changed = Signal()

    def __init__(self, engine, window, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.last_verdict = None
        self._build()
        restore_widgets("sentiment", self._persisted())
        last = settings().value("sentiment/data", "") or DEFAULT_SENTIMENT_DATA
        if last and last not in corpora.REGISTRY and Path(last).exists():
            self.add_source(last, preview=False)
        elif last and self.data.findData(last) >= 0:
            self.data.setCurrentIndex(self.data.findData(last))
        self.refresh_runs()
        engine.jobs_changed.connect(self._update_buttons)
        self._update_buttons()
        self.load_preview()

    def _build(self):
        data_box = QGroupBox("Labeled data")
        self.data = QComboBox()
        self.data.setToolTip("A built-in set of rated sentences (rated-sentences: films, product "
                             "reviews, tweets and news, the default), a CSV/TSV/JSONL file with "
                             "text and label columns, or a folder with a sub-folder of .txt files "
                             "per label")
        for entry in corpora.REGISTRY.values():
            if entry.kind == "labeled":
                self.data.addItem(f"{entry.name} (built-in)", entry.name)
        self.open_file = QPushButton("File…")
        self.open_folder = QPushButton("Folder…")
        self.balance = QLabel("…")
        self.balance.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["text", "label"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.setMaximumHeight(160)
        dv = QVBoxLayout(data_box)
        row = QHBoxLayout()
        row.addWidget(self.data, 1)
        row.addWidget(self.open_file)
        row.addWidget(self.open_folder)
        dv.addLayout(row)
        dv.addWidget(self.balance)
        dv.addWidget(self.table)

        model_box = QGroupBox("Model and training")
        self.form = SettingsForm([(SentimentConfig, None), (SentimentTrainConfig, "sentiment")],
                                 skip=("minutes", "ctx", "kvstore"))
        for vote in ("lexicon_weight", "unfamiliar_weight"):   # the votes need the lexicon
            self.form["lexicon"].toggled.connect(self.form[vote].setEnabled)
        self.run_name = QLineEdit("my-sentiment")
        self.run_name.setToolTip("The model's name in the Models tab (letters, digits, . _ -)")
        self.run_name.textChanged.connect(lambda _: self._update_buttons())
        self.data_ok = False                # Train waits until the data is known to be good
        self.form.add_row("Run name", self.run_name)
        QVBoxLayout(model_box).addWidget(self.form)
        self.panel = TrainingPanel("Loss", "sentences", metric="accuracy")
        self.panel.status.setText("Pick labeled data and press Train.")
        scroll = settings_column(data_box, model_box, self.panel.buttons)

        train_panel = QWidget()
        tv = QVBoxLayout(train_panel)
        self.evaluation = QLabel()
        self.evaluation.setTextFormat(Qt.RichText)
        self.confusion = QTableWidget(0, 0)
        self.confusion.setMaximumHeight(120)
        tv.addWidget(self.panel, 1)
        ev = QHBoxLayout()
        ev.addWidget(self.evaluation, 1)
        ev.addWidget(self.confusion, 1)
        tv.addLayout(ev)

        analyse_box = QGroupBox("Analyse text")
        av = QVBoxLayout(analyse_box)
        self.run = QComboBox()
        self.run.setToolTip("A trained sentiment model (see the Models tab)")
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Type or paste a review; the verdict follows as you type.")
        self.text.setMaximumHeight(90)
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.RichText)
        self.words = ContributionView()
        self.classify_button = QPushButton("Classify a file…")
        self.classify_progress = QProgressBar()
        self.classify_progress.setVisible(False)      # shown only while a file is classified
        r = QHBoxLayout()
        r.addWidget(QLabel("Model"))
        r.addWidget(self.run, 1)
        r.addWidget(self.classify_button)
        r.addWidget(self.classify_progress)
        av.addLayout(r)
        av.addWidget(self.text)
        av.addWidget(self.verdict)
        av.addWidget(self.words, 1)

        right = QSplitter(Qt.Vertical)
        right.addWidget(train_panel)
        right.addWidget(analyse_box)
        right.setSizes([430, 370])
        QVBoxLayout(self).addWidget(side_by_side(scroll, right))

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(300)
        self.debounce.timeout.connect(self.analyse)
        self.text.textChanged.connect(self.debounce.start)
        self.run.currentIndexChanged.connect(lambda _: self.debounce.start())
        self.data.currentIndexChanged.connect(lambda _: self.load_preview())
        self.open_file.clicked.connect(self.choose_file)
        self.open_folder.clicked.connect(self.choose_folder)
        self.panel.train_clicked.connect(lambda: self.start_training(False))
        self.panel.resume_clicked.connect(lambda: self.start_training(True))
        self.panel.stop_clicked.connect(lambda: self.engine.stop(TRAIN))
        self.classify_button.clicked.connect(self.choose_and_classify)

    def _persisted(self):
        """Every setting the tab offers: the form's (one per config field) and the run name."""
        return {**self.form.widgets, "run_name": self.run_name}

    def save_settings(self):
        save_widgets("sentiment", self._persisted())
        settings().setValue("sentiment/data", self.data.currentData() or "")
        settings().setValue("sentiment/run", self.run.currentText())

    # ---- data ----------------------------------------------------------------------------------
    def choose_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open labeled data", "",
                                              "Labeled data (*.csv *.tsv *.jsonl);;All files (*)")
        if path:
            self.add_source(path)

    def choose_folder(self):
        path = QFileDialog.getExistingDirectory(self, "A folder with one sub-folder per label")
        if path:
            self.add_source(path)

    def add_source(self, path: str, preview: bool = True):
        select_or_add(self.data, path)
        if preview:
            self.load_preview()

    def load_preview(self):
        ref = self.data.currentData()
        if not ref:
            return
        self.balance.setText("Reading…")
        self.data_ok = False
        self._update_buttons()

        def run(should_stop):
            from engine.sentiment.labeled import read_labeled
            path, name = corpora.resolve_labeled_source(ref)
            data = read_labeled(path)
            counts = {c: data.labels.count(c) for c in data.classes}
            return {"name": name, "n": len(data), "counts": counts,
                    "rows": list(zip(data.texts[:40], data.labels[:40]))}
        self.engine.submit(PREVIEW, run, on_done=self._show_preview,
                           on_error=self._preview_refused, streams=False, uses_runs=False)

    def _preview_refused(self, message: str):
        self.data_ok = False
        self._update_buttons()
        self.balance.setText(f"<span style='color:#d73a49'>{plain_words(message)}</span>")
        self.table.setRowCount(0)

    def _show_preview(self, result):
        self.data_ok = len(result["counts"]) >= 2
        self._update_buttons()
        counts = ", ".join(f"{label}: {n:,}" for label, n in result["counts"].items())
        warn = ""
        if len(result["counts"]) < 2:
            warn = " <span style='color:#d9822b'>Only one label: a classifier needs two.</span>"
        elif max(result["counts"].values()) > 4 * min(result["counts"].values()):
            warn = " <span style='color:#d9822b'>Unbalanced labels.</span>"
        self.balance.setText(f"<b>{result['name']}</b>: {result['n']:,} examples ({counts}).{warn}")
        self.table.setRowCount(len(result["rows"]))
        for i, (text, label) in enumerate(result["rows"]):
            self.table.setItem(i, 0, QTableWidgetItem(text[:300]))
            self.table.setItem(i, 1, QTableWidgetItem(label))

    # ---- training ------------------------------------------------------------------------------
    def start_training(self, resume: bool):
        if self.engine.running(TRAIN):
            return
        resume = settle_run_name(self, resume)
        if resume is None:
            return
        from engine.errors import StudioError
        from engine.runs import resolve_run
        from engine.sentiment.train import DataRef, train_sentiment
        try:
            run_dir = resolve_run(self.run_name.text().strip(), must_exist=resume, allow_path=False)
            model = SentimentConfig(**self.form.values(SentimentConfig))
            train = SentimentTrainConfig(**self.form.values(SentimentTrainConfig))
        except StudioError as err:
            self.window.show_error("Cannot train", str(err))
            return
        ref = self.data.currentData()
        self.save_settings()

        def run(should_stop):
            data = None
            if not resume:
                path, name = corpora.resolve_labeled_source(ref)
                data = DataRef(str(path), name, corpora.labeled_source_path)
            return train_sentiment(run_dir, data, model, train, resume=resume,
                                   should_stop=should_stop)
        self.evaluation.clear()
        self.confusion.setRowCount(0)
        self.panel.starting("Reading and tokenizing the data, fitting the linear half…")
        self.engine.submit(TRAIN, run, on_event=self._on_training_event,
                           on_error=self._training_failed)

    def _on_training_event(self, ev):
        self.panel.display(ev)
        if isinstance(ev, Started):
            i = ev.info
            self.panel.status.setText(f"{ev.parameters:,} parameters; {i['train']:,} training, "
                                      f"{i['val']:,} validation, {i['test']:,} test examples; "
                                      f"vocabulary {i['vocab']:,}. Training…")
        elif isinstance(ev, Finished):
            self.panel.status.setText(f"{ev.reason.capitalize()} at step {ev.step:,}. Saved.")
            self.show_evaluation(ev.run_dir)
            self.runs_changed.emit()
            self.refresh_runs(select=Path(ev.run_dir).name)

    def _training_failed(self, message: str):
        self.panel.failed()
        self.window.show_error("Training failed", message)

    def show_evaluation(self, run_dir):
        from engine.runs import RunFolder
        meta = RunFolder(run_dir).read_meta()
        test, labels = meta.test, meta.labels or []
        if not test:
            self.evaluation.setText("No test scores yet.")
            return
        vader = test.get("vader")
        rows = f"<tr><td>this model</td><td>{test['accuracy']:.1%}</td><td>{test['macro_f1']:.3f}</td></tr>"
        for part, name in (("reader", "its recurrent reader alone"),
                           ("linear", "its TF-IDF linear half alone")):
            if part in test.get("parts", {}):
                rows += f"<tr><td>{name}</td><td>{test['parts'][part]:.1%}</td><td></td></tr>"
        if vader:
            rows += (f"<tr><td>VADER (lexicon)</td><td>{vader['accuracy']:.1%}</td>"
                     f"<td>{vader['macro_f1']:.3f}</td></tr>")
        self.evaluation.setText(f"<b>Held-back test split</b> ({test['n']:,} examples)"
                                f"<table cellpadding=4><tr><th></th><th>accuracy</th>"
                                f"<th>macro F1</th></tr>{rows}</table>")
        matrix = test["confusion"]
        self.confusion.setRowCount(len(labels))
        self.confusion.setColumnCount(len(labels))
        self.confusion.setHorizontalHeaderLabels([f"→ {lab}" for lab in labels])
        self.confusion.setVerticalHeaderLabels(labels)
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                item = QTableWidgetItem(str(v))
                item.setTextAlignment(Qt.AlignCenter)
                self.confusion.setItem(i, j, item)
        self.confusion.setToolTip("rows: true label, columns: predicted")

    # ---- analysing -----------------------------------------------------------------------------
    def refresh_runs(self, select: str = None):
        current = select or self.run.currentText() or settings().value("sentiment/run", "")
        self.run.blockSignals(True)
        self.run.clear()
        from engine.runs import list_runs
        for r in list_runs(kind="sentiment"):
            self.run.addItem(r["name"], r["path"])
        if self.run.findText(current) >= 0:
            self.run.setCurrentIndex(self.run.findText(current))
        self.run.blockSignals(False)
        self.text.setPlaceholderText(
            "Type or paste a review; the verdict follows as you type." if self.run.count() else
            "No sentiment model yet: pick labeled data on the left and press Train; then type "
            "a review here to see its verdict word by word.")
        self._update_buttons()

    def select_run(self, name: str):
        """Show a trained model: its curves, its test scores, ready to analyse or resume."""
        from engine.runs import RunFolder
        self.refresh_runs(select=name)
        self.run_name.setText(name)
        if self.run.currentData():
            self.panel.reset(f"{name}: loaded.")
            self.panel.load_history(RunFolder(self.run.currentData()).read_meta().history)
            self.show_evaluation(self.run.currentData())

    def analyse(self):
        text, run_path = self.text.toPlainText().strip(), self.run.currentData()
        if not text or not run_path:
            self.verdict.clear()
            self.words.show_words([])
            return
        if self.engine.running(ANALYSE) or self.engine.running(TRAIN):
            self.debounce.start()          # try again when the engine is free
            return
        self.engine.submit(ANALYSE, lambda should_stop: cached_predictor(run_path).explain(text),
                           on_done=self._show_verdict, streams=False,
                           on_error=lambda message: self.verdict.setText(
                               f"<span style='color:#d73a49'>{message}</span>"))

    def _show_verdict(self, verdict):
        self.last_verdict = verdict
        probs = "  ".join(f"{label} {p:.1%}" for label, p in verdict.probabilities.items())
        self.verdict.setText(f"<span style='font-size: 15pt'><b>{verdict.label}</b></span>"
                             f"&nbsp;&nbsp;{probs}")
        self.words.show_words(verdict.words, verdict.toward or verdict.label)

    def choose_and_classify(self):
        src, _ = QFileDialog.getOpenFileName(self, "A CSV/TSV file with a text column", "",
                                             "Tables (*.csv *.tsv);;All files (*)")
        if src:
            self.check_table(src)

    def check_table(self, src: str):
        """Read the file's header first: a wrong file is refused before anyone is asked where
        to save; then the text column is picked, then the output file."""
        from engine.sentiment.predict import table_header
        self.engine.submit(CHECK, lambda should_stop: table_header(src), streams=False,
                           uses_runs=False,
                           on_done=lambda header: self._choose_column_and_output(src, header),
                           on_error=lambda message: self.window.show_error("Cannot classify",
                                                                           message))

    def _choose_column_and_output(self, src: str, header):
        column = self.choose_text_column(header)
        if not column:
            return
        dst, _ = QFileDialog.getSaveFileName(self, "Save the labeled file",
                                             str(Path(src).with_suffix(".labeled.csv")),
                                             "CSV (*.csv)")
        if dst:
            self.classify(src, dst, column)

    def choose_text_column(self, header) -> str:
        """The column named "text", or the one the user picks (e.g. "comment")."""
        named = [h for h in header if h.strip().lower() == "text"]
        if named:
            return named[0]
        likely = next((i for i, h in enumerate(header) if h.strip().lower() in (
            "comment", "comments", "review", "sentence", "message", "content", "body")), 0)
        column, ok = QInputDialog.getItem(self, "Which column holds the text?",
                                          "This file has no 'text' column. Classify the texts "
                                          "in column:", list(header), likely, False)
        return column if ok else ""

    def classify(self, src: str, dst: str, column: str = "text"):
        run_path = self.run.currentData()
        if not run_path:
            return

        def run(should_stop):
            return cached_predictor(run_path).classify_file_steps(src, dst, column,
                                                                  should_stop=should_stop)
        self.classify_progress.setValue(0)
        self.classify_progress.setVisible(True)
        self.engine.submit(CLASSIFY, run, on_event=self._classified_rows,
                           on_done=lambda _: self.classify_progress.setVisible(False),
                           on_error=self._classify_failed)
        self._classify_target = dst

    def _classify_failed(self, message: str):
        self.classify_progress.setVisible(False)
        self.window.show_error("Cannot classify", message)

    def _classified_rows(self, step):
        self.classify_progress.setRange(0, step.total)
        self.classify_progress.setValue(step.done)
        if step.counts is not None:
            self.show_classified(step, self._classify_target)

    def show_classified(self, step, dst: str):
        """The results: texts per predicted label, and where the file went."""
        self.classified = QDialog(self)
        self.classified.setWindowTitle("Classified")
        table = QTableWidget(len(step.counts), 3)
        table.setHorizontalHeaderLabels(["predicted label", "texts", "share"])
        scored = max(1, sum(step.counts.values()))
        for i, (label, n) in enumerate(step.counts.items()):
            for j, value in enumerate((label, f"{n:,}", f"{n / scored:.1%}")):
                table.setItem(i, j, QTableWidgetItem(value))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        note = QLabel(f"{step.total:,} rows classified and saved to {dst}" + (
            f"; {step.skipped:,} without text left unscored" if step.skipped else "") + ".")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.classified.reject)
        layout = QVBoxLayout(self.classified)
        for w in (note, table, buttons):
            layout.addWidget(w)
        self.classified.open()
        self.window.statusBar().showMessage(f"Saved {dst}", 8000)

    def _update_buttons(self, *_):
        from engine.runs import run_exists
        training = self.engine.running(TRAIN)
        self.panel.set_buttons(training, can_train=self.data_ok,
                               can_resume=run_exists(self.run_name.text().strip()))
        self.classify_button.setEnabled(self.run.count() > 0 and not self.engine.running(CLASSIFY))
