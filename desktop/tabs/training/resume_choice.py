"""What Resume will do, said before it is pressed: which run it continues, how far that run got,
that it continues on the run's own data (whatever is chosen above), and for how long: the rest
of the run's budget, or the budget set above."""
from typing import Optional

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.widgets.common import duration

REST, MORE = 0, 1


def _epoch(meta) -> float:
    """How many passes over its data the run has made."""
    return float(meta.state.get("epoch", 0.0))


class ResumeChoice(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.meta = None
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.length = QComboBox()
        self.length.addItems(["the rest of its budget", "the budget set above"])
        self.length.setToolTip("How long Resume trains: what is left of the budget the run "
                               "started with, or the budget set above, from where it stopped")
        label = QLabel("Resume for")
        label.setToolTip(self.length.toolTip())
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(label)
        row.addWidget(self.length, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addLayout(row)
        self.setVisible(False)

    @staticmethod
    def run_meta(name: str, kind: str):
        """The record of the run called ``name`` if it is one of ``kind`` (else None)."""
        from engine.errors import StudioError
        from engine.storage.runs import RunFolder, resolve_run, run_exists
        if not run_exists(name):
            return None
        try:
            return RunFolder(resolve_run(name, allow_path=False)).read_meta(kind=kind)
        except StudioError:
            return None

    def run_path(self, name: str, kind: str) -> Optional[str]:
        from engine.storage.runs import resolve_run
        return str(resolve_run(name, allow_path=False)) if self.run_meta(name, kind) else None

    def show_run(self, name: str, kind: str, chosen: Optional[str], refused: bool,
                 budget: Optional[dict] = None):
        """Describe the run called ``name`` (nothing, if there is no such run of ``kind``);
        ``chosen``: the data chosen above (``refused`` when it was); ``budget``: the minutes or
        epochs set above, for the "budget set above" entry."""
        meta = self.meta = self.run_meta(name, kind)
        data_note = ""
        if meta is not None and chosen not in (None, meta.corpus.get("name"),
                                               meta.corpus.get("path")):
            data_note = ", not the one chosen above" + (" (which was refused)" if refused else "")
        self.setVisible(meta is not None)
        if meta is None:
            return
        saved = meta.train_settings
        rest = self._rest(meta)
        done = (f"{meta.seconds / 60:.1f} minutes trained of a {saved['minutes']:g}-minute "
                f"budget" if saved.get("minutes") else
                f"{_epoch(meta):.1f} of {saved.get('epochs') or 0:g} passes")
        self.note.setText(f"Resume continues {name} (step {meta.step:,}, {done}) on its own "
                          f"data, {meta.corpus.get('name', '?')}{data_note}.")
        self.length.model().item(REST).setEnabled(rest is not None)
        self.length.setItemText(REST, "the rest of its budget" + (
            f" ({rest})" if rest else " (used up)"))
        if budget:
            more = (f"{budget['minutes']:g} more minutes" if budget.get("minutes") else
                    f"{budget.get('epochs') or 0:g} more passes")
            self.length.setItemText(MORE, f"the budget set above ({more})")
        if rest is None and self.length.currentIndex() == REST:
            self.length.setCurrentIndex(MORE)

    @staticmethod
    def _rest(meta) -> Optional[str]:
        from engine.training.plan import budget_left
        left = budget_left(meta)
        if left is None:
            return None
        what, amount = left
        return f"{duration(amount)} left" if what == "seconds" else f"{amount:.1f} passes left"

    def rest_chosen(self) -> bool:
        """Whether Resume trains for the rest of the run's own budget (else the budget set
        above, from where the run stopped: engine/training/plan.py ``resumed_budget``)."""
        return self.length.currentIndex() == REST
