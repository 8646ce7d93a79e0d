"""The data picker both training tabs use: built-in data sets and the user's own files, each
checked on the engine thread when picked (its facts and a preview), with the advice on it
(engine/advice.py) below. Train waits until the data was checked and found usable.

A kind's picker (TextPicker, LabeledPicker) says how to check its data and how to preview it.
"""
from typing import Callable, List, Optional, Tuple

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout)

import corpora

from desktop.widgets.common import add_builtin_corpora, select_or_add
from desktop.recent import add_recent
from desktop.tabs.training.advice_view import AdviceView

Opener = Tuple[str, str, Callable[[], str]]     # button label, tooltip, asks for a path ("": none)


class DataPicker(QGroupBox):
    checked = Signal()             # a check ended (``report`` holds its facts, or None: refused)

    def __init__(self, engine, job: str, title: str, tip: str, kind: str, builtin: str,
                 openers: List[Opener], parent=None):
        super().__init__(title, parent)
        self.engine, self.job, self.kind = engine, job, kind
        self.report: Optional[dict] = None
        self.refusal: Optional[str] = None
        self.source = QComboBox()
        self.source.setToolTip(tip)
        add_builtin_corpora(self.source, builtin)
        self.facts = QLabel("…")
        self.facts.setWordWrap(True)
        self.advice = AdviceView()
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        self.open_buttons = []
        for label, button_tip, ask in openers:
            button = QPushButton(label)
            button.setToolTip(button_tip)
            button.clicked.connect(lambda _=False, ask=ask: self._open(ask))
            row.addWidget(button)
            self.open_buttons.append(button)
        self.rows = QVBoxLayout(self)
        self.rows.addLayout(row)
        self.rows.addWidget(self.facts)
        self.rows.addWidget(self.advice)
        self.source.currentIndexChanged.connect(lambda _: self.source_changed())

    # ---- what a kind's picker says -------------------------------------------------------------
    def check_job(self, ref: str):
        """A job for the engine thread: reads ``ref`` and returns its report (a dict)."""
        raise NotImplementedError

    def show_report(self, report: dict):
        """Show a good check's preview."""

    def clear_preview(self):
        """Nothing to preview (the data was refused)."""

    # ---- picking -------------------------------------------------------------------------------
    def ref(self) -> Optional[str]:
        return self.source.currentData()

    def is_builtin(self) -> bool:
        return self.ref() in corpora.REGISTRY

    def _open(self, ask):
        path = ask()
        if path:
            self.add(path)

    def add(self, path: str, check: bool = True):
        """Select ``path`` (added to the list if new), remember it, and check it."""
        select_or_add(self.source, str(path))
        add_recent(self.kind, str(path))
        self.source_added(str(path))
        if check:
            self.check()

    def source_added(self, path: str):
        """A new file was chosen (before it is checked)."""

    def source_changed(self):
        self.check()

    def select(self, ref: str) -> bool:
        """Select ``ref`` without checking it (the caller does); False if it is not listed."""
        index = self.source.findData(ref)
        if index >= 0:
            self.source.blockSignals(True)
            self.source.setCurrentIndex(index)
            self.source.blockSignals(False)
        return index >= 0

    # ---- checking ------------------------------------------------------------------------------
    def check(self):
        ref = self.ref()
        if not ref:
            return
        self.report, self.refusal = None, None
        self.facts.setText("Reading…")
        self.checked.emit()                           # Train waits for the answer
        fn = self.check_job(ref)
        self.engine.submit(self.job, fn, streams=False, uses_runs=False,
                           on_done=lambda report, ref=ref: self._checked(ref, report),
                           on_error=lambda message, ref=ref: self._refused(ref, message))

    def _checked(self, ref, report: dict):
        if ref in corpora.REGISTRY:   # built by its first use: the list says it is ready now
            self.source.setItemText(self.source.findData(ref), corpora.listed_name(ref))
        if ref != self.ref():
            return                  # an answer about a source no longer chosen
        self.report = report
        self.show_report(report)
        self.checked.emit()

    def _refused(self, ref, message: str):
        if ref != self.ref():
            return
        self.report, self.refusal = None, message
        self.facts.setText("This data cannot be trained on.")
        self.clear_preview()
        self.checked.emit()

    @property
    def usable(self) -> bool:
        """Checked, not refused, and no advice that stops training."""
        return self.report is not None and not self.advice.blocks
