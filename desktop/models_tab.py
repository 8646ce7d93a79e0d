"""The Models tab: every run in the runs folder, its details and loss curve, and what can be done
with it: load it into the other tabs, rename, delete, export, open its folder."""
import datetime
import json
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout,
                               QHeaderView, QInputDialog, QMessageBox, QPlainTextEdit, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .widgets.loss_chart import LossChart

EXPORT = "models-export"
COLUMNS = ["name", "kind", "corpus", "size", "best", "steps", "saved"]


def _size(n) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _best_text(meta) -> str:
    best = meta.get("best") or {}
    if meta.get("kind") == "sentiment" and best.get("accuracy") is not None:
        return f"val acc {best['accuracy']:.1%}"
    if best.get("bits_per_char") is not None:
        return f"{best['bits_per_char']:.3f} bits/char"
    return "–"


class ModelsTab(QWidget):
    load_requested = Signal(str, str)          # kind, run name

    def __init__(self, engine, window, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.runs = []
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
        self.chart = LossChart("Validation loss", x_label="epoch")
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
        for i, r in enumerate(self.runs):
            meta = self._meta(r)
            saved = r.get("saved_at")
            values = [r["name"], r.get("kind", "?"), r.get("corpus") or "–",
                      _size(r.get("size_bytes", 0)), _best_text(meta) if meta else r.get("error", ""),
                      str(r.get("steps", "")),
                      datetime.datetime.fromtimestamp(saved).strftime("%Y-%m-%d %H:%M") if saved else ""]
            for j, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setData(Qt.UserRole, r["name"])
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(True)
        self.table.clearSelection()
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).text() in selected:
                self.table.selectRow(i)
        self.table.blockSignals(False)
        self.show_selected()          # the details never describe a run that is gone

    def _meta(self, run) -> dict:
        if run.get("kind") == "damaged":
            return {}
        try:
            return json.loads((Path(run["path"]) / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

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
            self.details.clear()
            return
        for name in names:
            meta = self._meta(self._run(name) or {})
            points = [(h["epoch"], h["val_loss"]) for h in meta.get("history", [])
                      if h.get("val_loss") is not None]
            if points:
                self.chart.set_series(name, *zip(*points))
        run = self._run(names[0])
        meta = self._meta(run)
        if not meta:
            self.details.setPlainText(run.get("error", "damaged run"))
            return
        lines = [f"{run['name']} ({meta['kind']})", f"folder: {run['path']}",
                 f"corpus: {json.dumps(meta.get('corpus', {}).get('name'))}",
                 "model: " + json.dumps(meta["config"]["model"]),
                 "training: " + json.dumps({k: v for k, v in meta["config"]["train"].items()
                                            if v is not None}),
                 "best: " + json.dumps(meta.get("best")),
                 f"steps: {meta.get('state', {}).get('step')}, trained "
                 f"{meta.get('state', {}).get('seconds', 0) / 60:.1f} min",
                 "versions: " + json.dumps(meta.get("versions"))]
        if meta.get("test"):
            t = meta["test"]
            lines.append(f"test: accuracy {t['accuracy']:.3f}, macro F1 {t['macro_f1']:.3f} (n={t['n']})"
                         + (f"; VADER {t['vader']['accuracy']:.3f}" if t.get("vader") else ""))
        if meta.get("sample"):
            lines += ["", "last sample:", meta["sample"]]
        if len(names) > 1:
            lines = [f"{len(names)} runs overlaid: {', '.join(names)}", ""] + lines
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
        if self.engine.busy:
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
        has = bool(self.selected_names())
        for key in ("load", "rename", "delete", "export", "open"):
            self.buttons[key].setEnabled(has)
