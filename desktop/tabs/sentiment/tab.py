"""The Sentiment tab: pick labeled data, train a classifier, see how good it is (beside VADER),
analyse text as it is typed with each word coloured by its contribution, classify whole files.
What every training tab has comes from TrainingTab; this adds the labeled-data picker, its
advice and estimate, the test scores under the charts, and the analyse area."""
import corpora
from engine.events import Started
from engine.kinds import SENTIMENT

from desktop.tabs.sentiment.analyse_panel import AnalysePanel
from desktop.tabs.training.tab import TrainingTab
from desktop.tabs.sentiment.evaluation_view import EvaluationView
from desktop.tabs.sentiment.labeled_picker import LabeledPicker


class SentimentTab(TrainingTab):
    kind, group, metric = SENTIMENT, "sentiment", "accuracy"
    title = "Sentiment"                       # its tab's title in the main window

    def __init__(self, engine, window, parent=None):
        super().__init__(engine, window, "my-sentiment", parent)
        form = self.settings.form
        for vote in ("lexicon_weight", "unfamiliar_weight"):   # the votes need the lexicon
            form["lexicon"].toggled.connect(form[vote].setEnabled)
        self.analysis.update_buttons()
        self.show_last_run("Pick labeled data and press Train.")

    def make_picker(self):
        return LabeledPicker(self.engine, f"{self.group}-check")

    def below_chart(self):
        self.evaluation = EvaluationView()
        return self.evaluation

    def use_area(self):
        self.analysis = AnalysePanel(self.engine, self.window, self.runs)
        return self.analysis

    # ---- the data ------------------------------------------------------------------------------
    def describe_data(self, report: dict) -> str:
        counts = ", ".join(f"{label}: {n:,}" for label, n in report["counts"].items())
        return f"<b>{report['name']}</b>: {report['n']:,} examples ({counts})."

    def advice(self, report: dict):
        from engine.sentiment.inspect import advice
        return advice(report["counts"])

    def estimate(self, report: dict):
        from engine.estimate import sentiment_estimate
        return sentiment_estimate(report["n"], self.settings.model_config(),
                                  self.settings.train_config())

    # ---- training ------------------------------------------------------------------------------
    def data_maker(self, ref: str):
        def make():
            from engine.sentiment.train import DataRef
            path, name = corpora.resolve_labeled_source(ref)
            return DataRef(str(path), name, corpora.labeled_source_path)
        return make

    def clear_own(self):
        self.evaluation.clear()

    def preparing(self) -> str:
        return "Reading the data and getting the model ready (word meanings, word counts)…"

    def started(self, ev: Started) -> str:
        i = ev.info
        return (f"{ev.parameters:,} parameters; {i['train']:,} training, {i['val']:,} "
                f"validation, {i['test']:,} test examples; {i['vocab']:,} words known. "
                f"Training…")

    def run_loaded(self, run_dir: str):
        self.evaluation.show_run(run_dir)
        self.analysis.update_buttons()
        self.analysis.debounce.start()

    def update_buttons(self, *_):
        super().update_buttons()
        if hasattr(self, "analysis"):
            self.analysis.update_buttons()
