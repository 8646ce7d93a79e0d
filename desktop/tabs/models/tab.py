"""The Models tab: every run in the runs folder, newest first, sortable by any column; details
of one run, or of several side by side with their curves overlaid on a chosen axis; and what can
be done with a run: load it into its tab, rename, delete, export, open its folder."""
import datetime
from typing import Optional

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout,
                               QHeaderView, QInputDialog, QLabel, QMessageBox, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout, QWidget)

from engine.kinds import KINDS
from engine.storage.run_meta import RunMeta

from desktop.tabs.models.run_export import RunExporter
from desktop.tabs.models.run_summary import (X_AXES, chart_series, group_label, headline,
                                             side_by_side, summary)
from desktop.widgets.loss_chart import SHARE_BOUNDS, LossChart

COLUMNS = ["name", "kind", "data", "size", "score", "steps", "saved", "group"]
SAVED = COLUMNS.index("saved")
EMPTY = ("No models yet. Train one in the Generate tab (a text generator) or the Sentiment tab "
         "(a sentiment classifier); it appears here, where you can load, rename, export or "
         "delete it.")


def _size(n) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class SortItem(QTableWidgetItem):
    """A cell that sorts by its value (a number, a time), not by its text."""

    def __init__(self, text: str, key):
        super().__init__(text)
        self.key = key

    def __lt__(self, other):
        if isinstance(other, SortItem) and type(self.key) is type(other.key):
            return self.key < other.key
        return super().__lt__(other)


class ModelsTab(QWidget):
    load_requested = Signal(str, str)          # kind, run name

    def __init__(self, engine, window, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.runs, self.metas = [], {}
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        header.setSortIndicator(SAVED, Qt.DescendingOrder)       # newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.setToolTip("Click a heading to sort; select several runs (Ctrl or Shift) to "
                              "compare them")
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.chart = LossChart("Validation", x_label="passes over the data")
        self.x_axis = QComboBox()
        for key, (label, _) in X_AXES.items():
            self.x_axis.addItem(label, key)
        self.x_axis.setToolTip("What the comparison's horizontal axis counts: passes mean little "
                               "across data of very different size; time or items seen compare "
                               "fairly")
        self.buttons = {}
        row = QHBoxLayout()
        for key, label, tip in (("refresh", "Refresh", "Read the runs folder again"),
                                ("load", "Load", "Open the run in its tab, to use or resume"),
                                ("rename", "Rename…", "Give the run another name"),
                                ("delete", "Delete…", "Delete the run and its files (asks)"),
                                ("export", "Export…", "Write files to use the model without "
                                 "RNN Studio: into the folder you pick if it is empty, else "
                                 "into a new folder NAME-export in it"),
                                ("open", "Open folder", "Show the run's folder")):
            self.buttons[key] = QPushButton(label)
            self.buttons[key].setToolTip(tip)
            row.addWidget(self.buttons[key])
        self.exporter = RunExporter(self)
        self.export_format = self.exporter.format
        fmt = QLabel("Format")
        fmt.setToolTip(self.export_format.toolTip())
        row.insertWidget(5, fmt)
        row.insertWidget(6, self.export_format)
        row.addStretch(1)
        axis_label = QLabel("Compare over")
        axis_label.setToolTip(self.x_axis.toolTip())
        row.addWidget(axis_label)
        row.addWidget(self.x_axis)
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
        self.x_axis.currentIndexChanged.connect(lambda _: self.show_selected())
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
        from engine.storage.runs import list_runs
        selected = set(self.selected_names())
        self.runs = list_runs()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.runs))
        self.metas = {r["name"]: self._meta(r) for r in self.runs}
        for i, r in enumerate(self.runs):
            meta = self.metas[r["name"]]
            score, detail = headline(meta) if meta else (r.get("error", ""), "")
            saved = r.get("saved_at") or 0.0
            kind = KINDS[r["kind"]].called if r.get("kind") in KINDS else r.get("kind", "?")
            cells = [(r["name"], r["name"].lower()), (kind, kind), (r.get("corpus") or "–", None),
                     (_size(r.get("size_bytes", 0)), r.get("size_bytes", 0)), (score, None),
                     (f"{r.get('steps', 0):,}", r.get("steps", 0)),
                     (datetime.datetime.fromtimestamp(saved).strftime("%Y-%m-%d %H:%M")
                      if saved else "", saved),
                     # the runs of one comparison share a group: sorting by it keeps them together
                     (group_label(meta) if meta else "", None)]
            for j, (text, key) in enumerate(cells):
                item = SortItem(text, key) if key is not None else QTableWidgetItem(text)
                item.setData(Qt.UserRole, r["name"])
                if j == COLUMNS.index("score") and detail:
                    item.setToolTip(detail)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        self.table.sortItems(header.sortIndicatorSection(), header.sortIndicatorOrder())
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
        from engine.storage.runs import RunFolder
        if run.get("kind") not in KINDS:
            return None
        try:
            return RunFolder(run["path"]).read_meta()
        except StudioError:
            return None

    def names_in_order(self):
        return [self.table.item(i, 0).text() for i in range(self.table.rowCount())]

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
        x_axis = self.x_axis.currentData()
        axis = chart_series(meta, x_axis)[0]
        self.chart.set_labels(axis.capitalize(), axis, x_label=self.x_axis.currentText(),
                              y_bounds=SHARE_BOUNDS if KINDS[meta.kind].higher_is_better
                              else (0.0, None))
        for name in same_kind:
            points = chart_series(self.metas[name], x_axis)[1]
            if points:
                self.chart.set_series(name, *zip(*points), stable_colour=True)
        if len(names) == 1:
            self.details.setPlainText("\n".join(summary(run["name"], meta,
                                                        run.get("size_bytes"))))
            return
        left_out = [n for n in names if n not in same_kind]
        head = (f"{len(same_kind)} {KINDS[meta.kind].called}s compared" if len(same_kind) > 1
                else f"The chart shows {same_kind[0]}")
        head += f" (not {', '.join(left_out)}: another kind of model)" if left_out else ""
        table = side_by_side([(n, self.metas[n], self._run(n).get("size_bytes"))
                              for n in names if self.metas.get(n)])
        self.details.setHtml(f"<p>{head}</p>{table}")

    # ---- actions -------------------------------------------------------------------------------
    def load_selected(self):
        names = self.selected_names()
        if names:
            run = self._run(names[0])
            if run and run.get("kind") in KINDS:
                self.load_requested.emit(run["kind"], run["name"])

    def rename_selected(self):
        from engine.errors import StudioError
        from engine.storage.runs import rename_run
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
            self.window.show_error("Cannot rename", err)
            return
        self.window.runs_changed()
        self.select(new)

    def delete_selected(self):
        """Delete the selected runs, after asking (No is the default answer)."""
        from engine.errors import StudioError
        from engine.storage.runs import delete_run
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
            self.window.show_error("Cannot delete", err)
        self.window.runs_changed()

    def choose_export_folder(self):
        self.exporter.choose_folder()

    def export(self, name: str, out, fmt: str = "mxnet"):
        self.exporter.export(name, out, fmt)

    @property
    def exported(self):
        return self.exporter.dialog

    @property
    def last_export(self):
        return self.exporter.last

    def open_folder(self):
        names = self.selected_names()
        if names:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._run(names[0])["path"])))

    def _update_buttons(self):
        names = self.selected_names()
        for key in ("load", "rename", "delete", "export", "open"):
            self.buttons[key].setEnabled(bool(names))
        self.exporter.offer_formats(self.metas.get(names[0]) if names else None)
