"""The Look inside view's right side: what ranks the cells (a property of the text, your own
NAME=REGEX, or your selection), the cells ranked by it with what each tracks, and the other
places where the cells of a selection switch on together."""
from typing import List

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from engine.generator.inside.cell_ranking import Ranking, SelectionRanking
from engine.wording import setting

MEASURES = {   # what each score means, in plain words (a student's, not a statistician's)
    "AUC": "how well the cell tells the characters where the property holds from the others: "
           "1.00 means it is always higher there, 0.00 always lower (as telling, the other way "
           "round), 0.50 that it is no guide at all (the measure is called AUC).",
    "Spearman": "how closely the cell rises and falls with it: 1.00 means in step, -1.00 "
                "exactly opposite, 0.00 not related (Spearman's rank correlation).",
    "Youden's J": "how cleanly the cell is on across your selection and off around it: 1.00 "
                  "means on across all of it and off everywhere around it, 0.00 no more on "
                  "inside than outside (the measure is called Youden's J).",
}
KINDS = {"c": "memory", "h": "output"}


def cell_words(cell) -> str:
    """A cell as people say it: "layer 2, cell 210 (memory)" for the engine's "2:210c"."""
    return f"layer {cell.layer}, cell {cell.index} ({KINDS.get(cell.kind, cell.kind)})"


def rank_label(ranking: Ranking) -> str:
    return ranking.by if ranking.cells else f"{ranking.by} (not in this text)"


class CellList(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rank_by = QComboBox()
        self.rank_by.setToolTip("The property (or your selection in the text) that ranks the "
                                "cells")
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText("NAME=REGEX, then Enter")
        self.pattern.setToolTip("Rank by your own property: a character is in it when a match "
                                "of the regular expression covers it, e.g. stage=\\[[^]]*\\]")
        own = QLabel(setting("property").label + ":")
        own.setToolTip(self.pattern.toolTip())
        own.setBuddy(self.pattern)
        self.cells = QTreeWidget()
        self.cells.setHeaderLabels(["Cell", "Score", "What it tracks"])
        self.cells.setRootIsDecorated(False)
        self.cells.setColumnWidth(0, 172)
        self.cells.setColumnWidth(1, 60)
        self.cells.setToolTip("Click a cell to colour the text by it. A cell's memory is what "
                              "it carries from character to character; its output is what it "
                              "passes on")
        self.ranking_note = QLabel()
        self.ranking_note.setWordWrap(True)
        self.matches_title = QLabel("Select a span in the text to find where else its cells "
                                    "switch on.")
        self.matches_title.setWordWrap(True)
        self.matches = QListWidget()
        self.matches.setToolTip("Click a place to show it in the text")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Rank the cells by:"), self.rank_by, own, self.pattern,
                  self.ranking_note):
            column.addWidget(w)
        column.addWidget(self.cells, 2)
        column.addWidget(self.matches_title)
        column.addWidget(self.matches, 1)

    def list_rankings(self, rankings):
        """Offer these rankings (quietly: nothing is shown yet)."""
        self.rank_by.blockSignals(True)
        self.rank_by.clear()
        for ranking in rankings:
            self.rank_by.addItem(rank_label(ranking), ranking.by)
        self.rank_by.blockSignals(False)
        self.matches.clear()

    def offer(self, text: str, by: str, quietly: bool = False):
        """Choose ranking ``by`` in the list, adding it (as ``text``) if new."""
        index = self.rank_by.findData(by)
        if index < 0:
            self.rank_by.addItem(text, by)
            index = self.rank_by.count() - 1
        self.rank_by.blockSignals(quietly)
        self.rank_by.setCurrentIndex(index)
        self.rank_by.blockSignals(False)

    def show_ranking(self, ranking: Ranking):
        """List the ranked cells; the best becomes the current item (which colours the text)."""
        self.cells.blockSignals(True)
        self.cells.clear()
        for rc in ranking.cells:
            item = QTreeWidgetItem([cell_words(rc.cell), f"{rc.score:.2f}", ranking.meaning(rc)])
            item.setData(0, Qt.UserRole, rc.cell)
            item.setToolTip(2, ranking.summary(rc))
            self.cells.addTopLevelItem(item)
        self.cells.blockSignals(False)
        self.ranking_note.setText(f"<b>{ranking.by}</b>: {ranking.description}"
                                  + (f" ({ranking.note})" if ranking.note else "")
                                  + f"<br>Score: {MEASURES.get(ranking.measure, ranking.measure)}")
        if ranking.cells:
            self.cells.setCurrentItem(self.cells.topLevelItem(0))

    def show_matches(self, selection: SelectionRanking):
        self.matches.clear()
        others = [m for m in selection.matches if not m.selected]
        used = "; ".join(cell_words(c.cell) for c in selection.used)
        self.matches_title.setText(
            f"Where {used} switch on together: {len(others):,} other place(s)" if used else
            "No cell is on across the selection and off around it.")
        for m in others:
            shown = m.text if len(m.text) <= 50 else m.text[:47] + "…"
            item = QListWidgetItem(f"{m.start:,}–{m.end:,}: {shown!r}")
            item.setData(Qt.UserRole, (m.start, m.end))
            self.matches.addItem(item)

    def ranked_cells(self) -> List[str]:
        """The cells listed now, best first (their engine names, e.g. "2:210c")."""
        return [self.cells.topLevelItem(i).data(0, Qt.UserRole).name
                for i in range(self.cells.topLevelItemCount())]
