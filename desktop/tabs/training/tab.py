"""What both training tabs are: a data picker, the training settings, Train / Resume / Stop with
what Resume will do, the training panel, and a list of trained runs to use. A tab of a kind
(GenerateTab, SentimentTab) adds only what is its own: how its data is checked and trained on,
what the advice and the estimate say, and the area where its models are used.

Layout, to fit a 1280x720 screen: on the left the data and settings scroll, with the buttons
always in view below them; on the right the training charts above the kind's own area.
"""
import itertools
from pathlib import Path
from typing import List, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget

from engine.advice import Advice
from engine.events import Finished, Started
from engine.kinds import Kind

from desktop.widgets.common import free_name, settle_run_name
from desktop.settings import has_saved, restore_widgets, save_widgets
from desktop.tabs.training.resume_choice import ResumeChoice
from desktop.tabs.training.settings_changed import applied_note, ask_about_changed_settings
from desktop.widgets.run_picker import RunPicker
from desktop.tabs.training.training_panel import TrainingPanel
from desktop.tabs.training.training_settings import STARTING_PRESET, TrainingSettings

LEFT_WIDTH = 390


class TrainingTab(QWidget):
    runs_changed = Signal()
    kind: Kind
    group: str                       # its QSettings group: "generate", "sentiment"
    metric: Optional[str] = None     # a second chart (the sentiment model's accuracy)
    _applied = ""                    # the settings a resume changed, said in the status line

    def __init__(self, engine, window, run_name: str, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.TRAIN, self.CHECK = f"{self.group}-train", f"{self.group}-check"
        self.setAcceptDrops(True)
        self.picker = self.make_picker()
        self.settings = TrainingSettings(self.kind, run_name)
        self.panel = TrainingPanel(self.kind, self.metric)
        self.resume = ResumeChoice()
        self.runs = RunPicker(self.kind)
        self._build()
        restore_widgets(self.group, self.persisted())
        if not has_saved(self.group, self.settings.persisted()):
            self.settings.apply_preset(STARTING_PRESET)     # a first start: the measured recipe
        self.settings.match_preset()
        self.picker.checked.connect(self.refresh_data)
        self.settings.changed.connect(self.refresh_data)
        self.settings.run_name.textChanged.connect(lambda _: self.refresh_data())
        self.picker.advice.fix_requested.connect(self.settings.set_values)
        self.panel.train_clicked.connect(lambda: self.start_training(resume=False))
        self.panel.resume_clicked.connect(lambda: self.start_training(resume=True))
        self.panel.stop_clicked.connect(self.stop_training)
        engine.jobs_changed.connect(self.update_buttons)
        self.restore_data()
        self.refresh_runs()
        self.probe_recipes()

    def probe_recipes(self):
        """The presets stand on this computer's training speed: the first time (or after the
        CPU, the threads or the libraries changed) it is measured on the engine thread, a few
        seconds per model, and the presets are picked again (engine/generator/recipes.py)."""
        probe = self.kind.recipe_probe()
        if probe is None or not probe.needed():
            return
        self.engine.submit(f"{self.group}-probe", lambda should_stop: itertools.takewhile(
                               lambda _: not should_stop(), probe.steps()),
                           on_event=lambda step: self.settings.measuring(*step[:2]),
                           on_done=lambda _: self.settings.refresh_recipes(),
                           on_error=lambda message: self.settings.expectation.setText(
                               f"The presets could not be picked for this computer: {message}"),
                           uses_runs=False)

    def _build(self):
        column = QWidget()
        inner = QVBoxLayout(column)
        inner.addWidget(self.picker)
        inner.addWidget(self.settings)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(column)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(scroll, 1)
        lv.addWidget(self.panel.buttons)          # always in view, however small the window
        lv.addWidget(self.resume)
        # as wide as the settings need (nothing cut off under the scroll bar), no wider
        width = max(LEFT_WIDTH, column.minimumSizeHint().width() +
                    scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth())
        left.setMinimumWidth(width)
        left.setMaximumWidth(width + 220)
        self.training_area = training = QWidget()
        tv = QVBoxLayout(training)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addWidget(self.panel, 1)
        tv.addWidget(self.below_chart())
        right = QSplitter(Qt.Vertical)
        right.addWidget(training)
        right.addWidget(self.use_area())
        right.setSizes([400, 300])
        right.setChildrenCollapsible(False)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        QVBoxLayout(self).addWidget(split)

    # ---- what a kind's tab says ----------------------------------------------------------------
    def make_picker(self):
        raise NotImplementedError

    def below_chart(self) -> QWidget:
        """What shows under the training charts (a live sample, the test scores)."""
        raise NotImplementedError

    def use_area(self) -> QWidget:
        """Where a trained model is used (generate text, analyse text); holds ``self.runs``."""
        raise NotImplementedError

    def describe_data(self, report: dict) -> str:
        raise NotImplementedError

    def advice(self, report: dict) -> List[Advice]:
        return []

    def estimate(self, report: dict):
        """An engine.estimate.Estimate for these data and settings (None: no estimate)."""
        return None

    def data_maker(self, ref: str):
        """A function that makes the kind's data reference for its trainer from ``ref``; it
        runs on the engine thread (finding a built-in corpus may build it), so it takes what
        it needs from the widgets now."""
        raise NotImplementedError

    def clear_own(self):
        """A training starts: clear what the kind shows of the last one."""

    def show_training(self, visible: bool):
        """Show the charts above the use area, or hide them to give it the whole column."""
        self.training_area.setVisible(visible)

    def preparing(self) -> str:
        return "Reading the data…"

    def started(self, ev: Started) -> str:
        return "Training…"

    def finished(self, ev: Finished) -> str:
        return f"{ev.reason.capitalize()} at step {ev.step:,}. Saved."

    def run_loaded(self, run_dir: str):
        """A run was loaded or finished training: show what is its own."""

    # ---- data and settings ---------------------------------------------------------------------
    def restore_data(self):
        self.picker.restore(self.group)

    def refresh_data(self, *_):
        """The data's facts, the advice and the estimate, for the settings as they are now."""
        from engine.errors import StudioError
        report = self.picker.report
        advice, estimate = [], None
        if self.picker.refusal:
            advice = [Advice(self.picker.refusal, blocks=True)]
        elif report is not None:
            try:
                advice, estimate = self.advice(report), self.estimate(report)
            except StudioError as err:          # settings the engine refuses
                advice = [Advice(str(err), blocks=True)]
            self.picker.facts.setText(self.describe_data(report))
        self.picker.advice.show_advice(advice)
        budget = self.settings.budget()
        self.settings.estimate.setText(estimate.describe(
            budget["epochs"], budget["minutes"], self.early_stopping()) if estimate else "")
        self.show_resume()
        self.update_buttons()

    def early_stopping(self) -> bool:
        return bool(self.settings.form.values(self.kind.train_config).get("patience"))

    def show_resume(self):
        self.resume.show_run(self.run_name.text().strip(), self.kind.name, self.picker.ref(),
                             self.picker.refusal is not None, self.settings.budget())

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.picker.add(url.toLocalFile())
                break

    # ---- training ------------------------------------------------------------------------------
    @property
    def run_name(self):
        return self.settings.run_name

    def start_training(self, resume: bool):
        """Train or Resume, through the engine's plan (engine/training/plan.py), as the command
        line does: a resumed run keeps the settings it began with, so a form that differs from
        them is asked about (settings_changed.py); the budget and the other settings that may
        change on resume are applied and said in the status line."""
        if self.engine.running(self.TRAIN):
            return
        resume = settle_run_name(self, resume)
        if resume is None:
            return
        from engine.errors import StudioError
        from engine.training.plan import SettingsChanged
        try:
            try:
                plan = self._plan(resume)
            except SettingsChanged as refused:
                choice = ask_about_changed_settings(self, self.run_name.text().strip(), refused)
                if choice == "new" and not self.picker.usable:
                    self.window.show_error("Cannot start a new run", "A new run needs data: "
                                           "choose the data to train on above first.")
                    return
                if choice == "new":
                    self.run_name.setText(free_name(self.run_name.text().strip()))
                    self.start_training(resume=False)
                    return
                if choice != "resume":
                    return
                plan = self._plan(resume, keep_run_settings=True)
        except StudioError as err:
            self.window.show_error("Cannot train", err)
            return
        self.save_settings()
        make_data = None if resume else self.data_maker(self.picker.ref())

        def fn(should_stop):               # a resumed run trains on its own data
            if make_data:
                plan.data = make_data()
            return plan.events(should_stop)
        self.clear_own()
        self.show_training(True)
        self._applied = applied_note(plan.applied)
        self.panel.starting(self.preparing() + self._applied, plan.prior_seconds,
                            plan.train.minutes * 60 if plan.train.minutes is not None else None)
        self.engine.submit(self.TRAIN, fn, on_event=self._on_training_event,
                           on_error=self._training_failed)

    def _plan(self, resume: bool, keep_run_settings: bool = False):
        """The plan for the form's settings: every setting on it counts as given."""
        from engine.training.plan import plan_training
        if resume:
            self.show_resume()
        model, train = self.settings.model_config(), self.settings.train_config()
        given = set(self.settings.form.values(self.kind.model_config)) | \
            set(self.settings.form.values(self.kind.train_config)) | set(self.settings.budget())
        return plan_training(self.kind, self.run_name.text().strip(), model, train,
                             resume=resume, given=given, allow_path=False,
                             keep_run_settings=keep_run_settings,
                             resume_budget=(self.resume.rest_chosen(), self.settings.budget())
                             if resume else None)

    def stop_training(self):
        if self.engine.running(self.TRAIN):
            self.engine.stop(self.TRAIN)
            self.panel.stopping()

    def _on_training_event(self, ev):
        self.panel.display(ev)
        if isinstance(ev, Started):
            if ev.start_step:                        # resumed: draw what it learned before
                self.load_history(ev.run_dir)
            if not self.panel.is_stopping:
                self.panel.status.setText(self.started(ev) + self._applied)
        elif isinstance(ev, Finished):
            self.panel.status.setText(self.finished(ev) + self._applied)
            self.runs_changed.emit()
            self.refresh_runs(select=Path(ev.run_dir).name)
            self.run_loaded(ev.run_dir)
        self.on_training_event(ev)

    def on_training_event(self, ev):
        """A kind's own use of the training events (a live sample)."""

    def _training_failed(self, message: str):
        self.panel.failed()
        self.window.show_error("Training failed", message)

    def load_history(self, run_dir):
        from engine.errors import StudioError
        from engine.storage.runs import RunFolder
        try:
            self.panel.load_history(RunFolder(run_dir).read_meta().history)
        except StudioError:
            return

    # ---- runs ----------------------------------------------------------------------------------
    def refresh_runs(self, select: str = None):
        self.runs.refresh(select)
        self.show_resume()
        self.update_buttons()

    def show_last_run(self, idle_message: str):
        """At start: the run named in the settings, if there is one of this kind (its curves,
        its own results), else ``idle_message``."""
        name = self.run_name.text().strip()
        self.panel.status.setText(idle_message)
        path = self.resume.run_path(name, self.kind.name)
        if path:
            self.panel.status.setText(f"{name}, as it was last saved. Resume continues it; "
                                      f"Train starts a new model.")
            self.load_history(path)
            self.run_loaded(path)

    def select_run(self, name: str):
        """Show a trained model: its curves, ready to use or resume."""
        self.refresh_runs(select=name)
        self.run_name.setText(name)
        if self.runs.path():
            self.panel.reset(f"{name}: loaded.")
            self.load_history(self.runs.path())
            self.run_loaded(self.runs.path())

    def update_buttons(self, *_):
        from engine.storage.runs import run_exists
        training = self.engine.running(self.TRAIN)
        self.panel.set_buttons(training, can_train=self.picker.usable,
                               can_resume=run_exists(self.run_name.text().strip()))

    # ---- settings ------------------------------------------------------------------------------
    def persisted(self) -> dict:
        """Every setting the tab offers (the form's, one per config field, and the rest)."""
        return self.settings.persisted()

    def save_settings(self):
        from desktop.settings import settings
        save_widgets(self.group, self.persisted())
        self.picker.save(self.group)
        settings().setValue(f"{self.group}/run", self.runs.currentText())
