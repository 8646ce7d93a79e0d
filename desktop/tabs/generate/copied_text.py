"""Highlighting the copied parts of a generated text, and the novelty line under a sample.

``CopiedTextChecker(engine, view, line)`` checks the text shown in ``view`` (any
``QPlainTextEdit``, e.g. ``SampleView``) against the run's training text on the engine thread,
then highlights each span found there verbatim (extra selections: the view's own formatting,
such as the confidence shading, stays) with a tooltip saying where it comes from, and writes
"12 % of 20-character windows copied; longest 31 characters, from line 1,234" into ``line``.
``preview_line(ev)`` words the same for a training preview (``SampleReady``).
"""
from typing import List, Optional

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QToolTip

JOB = "novelty"
COPIED = QColor(120, 200, 120, 110)          # a translucent green, readable light or dark


def preview_line(ev) -> str:
    """The novelty of a training preview (``SampleReady``), or "" if it has none."""
    if getattr(ev, "copied_share", None) is None:
        return ""
    text = f"{ev.copied_share:.0%} of 20-character windows copied"
    if ev.longest_copy:
        text += f"; longest {ev.longest_copy:,} characters"
        if ev.longest_copy_line:
            text += f", from line {ev.longest_copy_line:,}"
    return text.replace("%", " %", 1)


def short_line(report) -> str:
    """The novelty of a text in a few words, for a line under a sample (``report.line()``, with
    where the longest copy comes from, is its tooltip)."""
    share = report.share()
    if share is None:
        return "Too short to check what was copied"
    text = f"Copied: {share:.0%}".replace("%", " %")
    return text + (f" (longest {report.longest.length:,} characters)" if report.longest else "")


class CopiedTextChecker(QObject):
    checked = Signal(object)            # the NoveltyReport
    failed = Signal(str)

    def __init__(self, engine, view: QPlainTextEdit, line: Optional[QLabel] = None,
                 parent=None):
        super().__init__(parent or view)
        self.engine, self.view, self.line = engine, view, line
        self.report = None
        self.highlight = True               # show the copied spans (the line is always said)
        self._checked_text = None
        self._selections = []
        view.viewport().installEventFilter(self)     # runs before the view's own tooltips

    def check(self, run_path: str, text: Optional[str] = None):
        """Check ``text`` (default: everything the view shows) against ``run_path``'s training
        text; the highlight follows when the engine thread is done."""
        text = self.view.toPlainText() if text is None else text
        self.clear()
        if not text.strip():
            return

        def job(should_stop):
            from engine.generator.sampling.novelty import check_run
            return check_run(run_path, text)
        if self.line is not None:
            self.line.setText("Checking what was copied from the training text…")
        self.engine.submit(JOB, job, streams=False, on_done=lambda r: self._show(r, text),
                           on_error=self._failed)

    def set_highlight(self, on: bool):
        """Show or hide the copied spans found (no new check)."""
        self.highlight = on
        self.view.setExtraSelections(self._selections if on else [])

    def clear(self):
        self.report, self._checked_text, self._selections = None, None, []
        self.view.setExtraSelections([])
        if self.line is not None:
            self.line.setText("")

    def copied_spans(self) -> List[tuple]:
        """(start, end) of each highlighted span, in the view's characters."""
        return [(s.start, s.end) for s in self.report.spans] if self.report else []

    def _show(self, report, text: str):
        if self.view.toPlainText() != text:
            return                          # the text changed meanwhile: the report is stale
        self.report, self._checked_text = report, text
        fmt = QTextCharFormat()
        fmt.setBackground(COPIED)
        selections = []
        for span in report.spans:
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(span.start)
            cursor.setPosition(span.end, QTextCursor.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor, selection.format = cursor, fmt
            selections.append(selection)
        self._selections = selections
        self.set_highlight(self.highlight)
        if self.line is not None:
            self.line.setText(short_line(report))
            self.line.setToolTip(f"{report.line()}. Of the sample, the share of its 20-character "
                                 f"stretches found word for word in the training text")
        self.checked.emit(report)

    def _failed(self, message: str):
        if self.line is not None:
            self.line.setText(message)
        self.failed.emit(message)

    def span_at(self, position: int):
        if self.report is None or self.view.toPlainText() != self._checked_text:
            return None
        return next((s for s in self.report.spans if s.start <= position < s.end), None)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.ToolTip and self.report is not None and self.highlight:
            span = self.span_at(self.view.cursorForPosition(event.pos()).position())
            if span is not None:
                QToolTip.showText(event.globalPos(), f"copied: {span.length:,} characters "
                                  f"found verbatim at line {span.line:,} of the training text",
                                  self.view)
                return True
        return super().eventFilter(watched, event)
