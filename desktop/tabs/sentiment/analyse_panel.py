"""The Sentiment tab's area for using a model: analyse text as it is typed, each word coloured
by its contribution, and classify whole files (classify_file.py)."""
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QVBoxLayout)

from desktop.tabs.sentiment.classify_file import FileClassifier
from desktop.widgets.common import set_placeholder
from desktop.tabs.sentiment.predictors import cached_predictor
from desktop.tabs.sentiment.contributions import ContributionView

ANALYSE = "sentiment-analyse"
UNSURE_BELOW = 0.6           # a verdict less likely than this is shown as unsure


def verdict_html(verdict) -> str:
    """The verdict in words: the label in bold when the model is sure enough, "unsure" (and
    which way it leans) when the labels are near even, and a warning under it when most of
    the text's words are unknown to the model (its probabilities then look surer than they
    are)."""
    probs = "  ".join(f"{label} {p:.1%}" for label, p in verdict.probabilities.items())
    top = verdict.probabilities[verdict.label]
    if top < UNSURE_BELOW:
        head = (f"<span style='font-size: 15pt'>unsure</span>&nbsp; (leaning {verdict.label}: "
                f"the labels are near even)")
    else:
        head = f"<span style='font-size: 15pt'><b>{verdict.label}</b></span>"
    html = f"{head}&nbsp;&nbsp;{probs}"
    if verdict.mostly_unknown:
        from engine.sentiment.predict import unknown_words_note
        html += (f"<br><span style='color:#b35900'>Careful: "
                 f"{unknown_words_note(verdict.known_words)}.</span>")
    return html


class AnalysePanel(QGroupBox):
    def __init__(self, engine, window, runs, parent=None):
        super().__init__("Analyse text", parent)
        self.engine, self.window, self.runs = engine, window, runs
        self.last_verdict = None
        self.text = QPlainTextEdit()
        self.text.setMaximumHeight(80)
        self.text.setToolTip("Type or paste a text; the verdict follows as you type")
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.RichText)
        self.words = ContributionView()
        self.words.setToolTip("Green words push toward the verdict's label, red words away")
        self.classify_button = QPushButton("Classify a file…")
        self.classify_button.setToolTip("Label every text of a CSV or TSV file, saved as a new "
                                        "file")
        self.classify_progress = QProgressBar()
        self.classify_progress.setVisible(False)      # shown only while a file is classified
        self.classifier = FileClassifier(self)
        model = QLabel("Model")
        model.setToolTip(runs.toolTip())
        row = QHBoxLayout()
        row.addWidget(model)
        row.addWidget(runs, 1)
        row.addWidget(self.classify_button)
        row.addWidget(self.classify_progress)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.text)
        layout.addWidget(self.verdict)
        layout.addWidget(self.words, 1)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(300)
        self.debounce.timeout.connect(self.analyse)
        self.text.textChanged.connect(self.debounce.start)
        runs.currentIndexChanged.connect(lambda _: self.debounce.start())
        self.classify_button.clicked.connect(self.classifier.choose_and_classify)
        engine.jobs_changed.connect(self.update_buttons)

    def analyse(self):
        text, run_path = self.text.toPlainText().strip(), self.runs.path()
        if not text or not run_path:
            self.verdict.clear()
            self.words.show_words([])
            return
        if self.engine.running(ANALYSE) or self.engine.training:
            self.debounce.start()          # try again when the engine is free
            return
        self.engine.submit(ANALYSE, lambda should_stop: cached_predictor(run_path).explain(text),
                           on_done=self._show_verdict, streams=False,
                           on_error=lambda message: self.verdict.setText(
                               f"<span style='color:#d73a49'>{message}</span>"))

    def _show_verdict(self, verdict):
        self.last_verdict = verdict
        self.verdict.setText(verdict_html(verdict))
        self.words.show_words(verdict.words, verdict.toward or verdict.label)

    def update_buttons(self, *_):
        self.classify_button.setEnabled(self.runs.count() > 0 and not self.classifier.busy)
        set_placeholder(
            self.text, "Type or paste a review; the verdict follows as you type." if self.runs.count() else
            "No sentiment model yet: pick labeled data on the left and press Train; then type "
            "a review here to see its verdict word by word.")
