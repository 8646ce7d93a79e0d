"""A list of the trained runs of one kind (to sample from, to analyse with), kept current."""
from typing import Optional

from PySide6.QtWidgets import QComboBox

from engine.kinds import Kind


class RunPicker(QComboBox):
    def __init__(self, kind: Kind, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.setToolTip(f"A trained {kind.called} (see the Models tab)")
        self.setMinimumContentsLength(12)
        self.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)

    def refresh(self, select: Optional[str] = None):
        """List the kind's runs again, keeping the chosen one (or choosing ``select``), quietly."""
        from engine.storage.runs import list_runs
        current = select or self.currentText()
        self.blockSignals(True)
        self.clear()
        for r in list_runs(kind=self.kind.name):
            self.addItem(r["name"], r["path"])
        if self.findText(current) >= 0:
            self.setCurrentIndex(self.findText(current))
        self.blockSignals(False)

    def path(self) -> Optional[str]:
        return self.currentData()
