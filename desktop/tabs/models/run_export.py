"""Exporting a run from the Models tab: the format (ONNX offered only where the converter can
take the model, the reason as its tooltip), where the files go (an empty folder as it is, any
other with a new NAME-export folder in it), and a dialog that says where they went."""
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QComboBox, QFileDialog, QMessageBox

from engine.wording import in_app_words

EXPORT = "models-export"


def export_target(folder: Path, name: str) -> Path:
    """Where an export into ``folder`` goes: the folder itself when it is empty (or holds an
    earlier export of the files an export writes), else a new folder ``NAME-export`` in it."""
    from engine.export.folder import EXPORT_FILES
    if not folder.exists() or not {p.name for p in folder.iterdir()} - EXPORT_FILES:
        return folder
    target, n = folder / f"{name}-export", 2
    while target.exists() and any(target.iterdir()):
        target, n = folder / f"{name}-export-{n}", n + 1
    return target


class RunExporter:
    """The export flow of a ModelsTab (its engine, window and selection)."""

    def __init__(self, tab):
        self.tab = tab
        self.last = None                  # the folder of the last export
        self.dialog = None                # the last "Exported" dialog
        self.format = QComboBox()
        self.format.addItems(["mxnet", "onnx", "web"])
        self.format.setToolTip("MXNet symbol + params (always), ONNX where the converter "
                               "supports the model, or (a text generator) one web page that "
                               "writes in any browser, offline")

    def choose_folder(self):
        names = self.tab.selected_names()
        if not names:
            return
        # a window title is one short line (a long one is cut off mid-sentence); where the
        # files go (an empty folder as it is, else a new NAME-export in it) is said in the
        # Export button's tooltip and, with the folder, when the export is done
        folder = QFileDialog.getExistingDirectory(self.tab, self.folder_title(names[0]))
        if folder:
            self.export(names[0], export_target(Path(folder), names[0]),
                        self.format.currentText())

    @staticmethod
    def folder_title(name: str) -> str:
        return f"Export {name} into a folder"

    def export(self, name: str, out, fmt: str = "mxnet"):
        from engine.export.run import export_run
        self.tab.engine.submit(
            EXPORT, lambda should_stop: str(export_run(name, out, fmt)), streams=False,
            on_done=lambda folder: self._done(name, folder),
            on_error=lambda message: self.tab.window.show_error("Export failed", message))

    def _done(self, name: str, folder: str):
        """Say where the files went, with a button to open the folder."""
        self.last = folder
        files = sorted(p.name for p in Path(folder).iterdir())
        self.tab.window.statusBar().showMessage(f"Exported {name} to {folder}", 10000)
        self.dialog = QMessageBox(QMessageBox.Information, "Exported",
                                  f"{name} was exported to\n{folder}\n\n({', '.join(files)}; "
                                  f"its README.md says how to use them.)",
                                  QMessageBox.Close, self.tab)
        opener = self.dialog.addButton("Open folder", QMessageBox.ActionRole)
        opener.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(folder)))
        self.dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.dialog.open()

    def offer_formats(self, meta):
        """ONNX is offered only for runs the converter can take; the reason is its tooltip."""
        from engine.export.run import onnx_refusal
        refusal = onnx_refusal(meta) if meta is not None else None
        item = self.format.model().item(self.format.findText("onnx"))
        item.setEnabled(refusal is None)
        item.setToolTip(in_app_words(refusal) if refusal else "ONNX, for onnxruntime and others")
        if refusal and self.format.currentText() == "onnx":
            self.format.setCurrentText("mxnet")
        web = self.format.model().item(self.format.findText("web"))
        generator = meta is None or meta.kind == "generator"
        web.setEnabled(generator)
        web.setToolTip("One self-contained HTML page that runs the generator in a browser, "
                       "offline" if generator else "Only a text generator runs as a web page")
        if not generator and self.format.currentText() == "web":
            self.format.setCurrentText("mxnet")
