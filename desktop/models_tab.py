"""The Models tab: every run in the runs folder, its details and loss curve, and what can be done
with it: load it into the other tabs, rename, delete, export, open its folder."""
import datetime
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout,
                               QHeaderView, QInputDialog, QMessageBox, QPlainTextEdit, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine.run_meta import RunMeta

from .common import plain_words
from .run_summary import chart_series, headline, summary
from .widgets.loss_chart import LossChart

EXPORT = "models-export"
COLUMNS = ["name", "kind", "corpus", "size", "score", "steps", "saved"]
EMPTY = ("No models yet. Train one in the Generate tab (a text generator) or the Sentiment tab "
         "(a sentiment classifier); it appears here, where you can load, rename, export or "
         "delete it.")


def _size(n) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class ModelsTab(QWidget):
    load_requested = Signal(str, str)          # kind, run name

    def __init__(self, engine, window, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.runs, self.metas = [], {}
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.setToolTip("Select several runs to overlay their loss curves")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.chart = LossChart("Validation", x_label="epoch")
        self.buttons = {}
        row = QHBoxLayout()
        for key, label in (("refresh", "Refresh"), ("load", "Load"), ("rename", "Rename…"),
                           ("delete", "Delete…"), ("export", "Export…"), ("open", "Open folder")):
            self.buttons[key] = QPushButton(label)
            row.addWidget(self.buttons[key])
        self.export_format = QComboBox()
        self.export_format.addItems(["mxnet", "onnx"])
        self.export_format.setToolTip("MXNet symbol + params (always), or ONNX where the "
                                      "converter supports the model")
        row.insertWidget(5, self.export_format)
        row.addStretch(1)
        bottom = QSplitter(Qt.Horizontal)
        bottom.addWidget(self.details)
        bottom.addWidget(self.chart)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(split)

        self.table.itemSelectionChanged.connect(self.show_selected)
        self.table.doubleClicked.connect(lambda _: self.load_selected())
        # clicked(bool) would hand its `checked` flag to the first parameter of a slot that has
        # one (it once switched off Delete's confirmation): connect through lambdas that pass
        # nothing, so no button can fill in a slot's argument
        for key, slot in (("refresh", self.refresh), ("load", self.load_selected),
                          ("rename", self.rename_selected), ("delete", self.delete_selected),
                          ("export", self.choose_export_folder), ("open", self.open_folder)):
            self.buttons[key].clicked.connect(lambda _checked=False, slot=slot: slot())
        self.refresh()

    # ---- listing -------------------------------------------------------------------------------
    def refresh(self):
        from engine.runs import list_runs
        selected = set(self.selected_names())
        self.runs = list_runs()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.runs))
        self.metas = {r["name"]: self._meta(r) for r in self.runs}
        for i, r in enumerate(self.runs):
            meta = self.metas[r["name"]]
            score, detail = headline(meta) if meta else (r.get("error", ""), "")
            saved = r.get("saved_at")
            values = [r["name"], r.get("kind", "?"), r.get("corpus") or "–",
                      _size(r.get("size_bytes", 0)), score, str(r.get("steps", "")),
                      datetime.datetime.fromtimestamp(saved).strftime("%Y-%m-%d %H:%M") if saved else ""]
            for j, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setData(Qt.UserRole, r["name"])
                if j == COLUMNS.index("score") and detail:
                    item.setToolTip(detail)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(True)
        self.table.clearSelection()
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).text() in selected:
                self.table.selectRow(i)
        self.table.blockSignals(False)
        self.show_selected()          # the details never describe a run that is gone

    def _meta(self, run) -> Optional[RunMeta]:
        """The run's checked record (None for a damaged run: its error is shown instead)."""
        from engine.errors import StudioError
        from engine.runs import RunFolder
        if run.get("kind") == "damaged":
            return None
        try:
            return RunFolder(run["path"]).read_meta()
        except StudioError:
            return None

    def selected_names(self):
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self.table.item(r, 0).text() for r in rows]

    def select(self, name: str):
        """Select exactly the run called ``name`` (nothing, if there is none)."""
        self.table.clearSelection()
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).text() == name:
                self.table.selectRow(i)

    def _run(self, name):
        return next((r for r in self.runs if r["name"] == name), None)

    def show_selected(self):
        names = self.selected_names()
        self.chart.clear()
        self._update_buttons()
        if not names:
            self.details.setPlainText(EMPTY if not self.runs else "Select a model to see it.")
            return
        run, meta = self._run(names[0]), self.metas.get(names[0])
        if meta is None:
            self.details.setPlainText((run or {}).get("error", "damaged run"))
            return
        # one kind on one axis, each run in a colour of its own whatever else is selected
        same_kind = [n for n in names if self.metas.get(n) and self.metas[n].kind == meta.kind]
        axis = chart_series(meta)[0]
        self.chart.set_labels(axis.capitalize(), axis)
        for name in same_kind:
            points = chart_series(self.metas[name])[1]
            if points:
                self.chart.set_series(name, *zip(*points), stable_colour=True)
        lines = summary(run["name"], meta, run.get("size_bytes"))
        if len(names) > 1:
            left_out = [n for n in names if n not in same_kind]
            head = (f"{len(same_kind)} {meta.kind} runs overlaid: {', '.join(same_kind)}"
                    if len(same_kind) > 1 else f"The chart shows {same_kind[0]}")
            lines = [head + (f" (not {', '.join(left_out)}: another kind of model)"
                             if left_out else ""), ""] + lines
        self.details.setPlainText("\n".join(lines))

    # ---- actions -------------------------------------------------------------------------------
    def load_selected(self):
        names = self.selected_names()
        if names:
            run = self._run(names[0])
            if run and run.get("kind") in ("generator", "sentiment"):
                self.load_requested.emit(run["kind"], run["name"])

    def rename_selected(self):
        from engine.errors import StudioError
        from engine.runs import rename_run
        names = self.selected_names()
        if not names:
            return
        old = names[0]
        new, ok = QInputDialog.getText(self, "Rename", f"New name for {old}:", text=old)
        new = new.strip()
        if not ok or not new or new == old:
            return
        try:
            rename_run(old, new)
        except (StudioError, OSError) as err:
            # the run keeps its name and stays the one selected: selecting the taken name would
            # make the next Delete… remove the other run
            self.window.runs_changed()
            self.select(old)
            self.window.show_error("Cannot rename", str(err))
            return
        self.window.runs_changed()
        self.select(new)

    def delete_selected(self):
        """Delete the selected runs, after asking (No is the default answer)."""
        from engine.errors import StudioError
        from engine.runs import delete_run
        names = self.selected_names()
        if not names:
            return
        if self.engine.busy_with_runs:
            self.window.show_error("Busy", "Wait for the current job to finish (or stop it) "
                                   "before deleting runs.")
            return
        what = names[0] if len(names) == 1 else f"these {len(names)} models ({', '.join(names)})"
        box = QMessageBox(QMessageBox.Warning, "Delete",
                          f"Delete {what} and all of its files? This cannot be undone.",
                          QMessageBox.Yes | QMessageBox.No, self)
        box.setDefaultButton(QMessageBox.No)
        if box.exec() != QMessageBox.Yes:
            return
        try:
            for name in names:
                delete_run(name)
        except (StudioError, OSError) as err:
            self.window.show_error("Cannot delete", str(err))
        self.window.runs_changed()

    def choose_export_folder(self):
        names = self.selected_names()
        if not names:
            return
        folder = QFileDialog.getExistingDirectory(self, "Export into this (empty) folder")
        if folder:
            self.export(names[0], Path(folder) / f"{names[0]}-export", self.export_format.currentText())

    def export(self, name: str, out, fmt: str = "mxnet"):
        from engine.export import export_run
        self.engine.submit(EXPORT, lambda should_stop: str(export_run(name, out, fmt)),
                           on_done=self._exported, streams=False,
                           on_error=lambda message: self.window.show_error("Export failed",
                                                                           message))

    def open_folder(self):
        names = self.selected_names()
        if names:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._run(names[0])["path"])))

    def _exported(self, folder: str):
        self.window.statusBar().showMessage(f"Exported to {folder}", 10000)
        self.last_export = folder

    def _update_buttons(self):
        names = self.selected_names()
        for key in ("load", "rename", "delete", "export", "open"):
            self.buttons[key].setEnabled(bool(names))
        self._offer_formats(self.metas.get(names[0]) if names else None)

    def _offer_formats(self, meta):
        """ONNX is offered only for runs the converter can take; the reason is its tooltip."""
        from engine.export import onnx_refusal
        refusal = onnx_refusal(meta) if meta is not None else None
        item = self.export_format.model().item(self.export_format.findText("onnx"))
        item.setEnabled(refusal is None)
        item.setToolTip(plain_words(refusal) if refusal else "ONNX, for onnxruntime and others")
        if refusal and self.export_format.currentText() == "onnx":
            self.export_format.setCurrentText("mxnet")
