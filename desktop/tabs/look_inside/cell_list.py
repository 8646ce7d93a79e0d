"""The Look inside view's right side: what ranks the cells (a property of the text, your own
NAME=REGEX, or your selection), the cells ranked by it with what each tracks, and the other
places where the cells of a selection switch on together."""
from typing import List

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from engine.generator.inside.cell_ranking import Ranking, SelectionRanking
from engine.wording import setting

MEASURES = {   # what each score means, for people
    "AUC": "AUC, the chance that the cell is higher where the property holds than where it does "
           "not (0.5: no relation; 1 or 0: perfect).",
    "Spearman": "Spearman's rho, the rank correlation of the cell with it (0: none, ±1: perfect).",
    "Youden's J": "Youden's J, the share of the selection the cell is on across minus the share "
                  "around it it is on too (1: on across it, off around it).",
}


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
        self.cells.setColumnWidth(0, 70)
        self.cells.setColumnWidth(1, 60)
        self.cells.setToolTip("Click a cell to colour the text by it")
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
            item = QTreeWidgetItem([rc.cell.name, f"{rc.score:.2f}", ranking.meaning(rc)])
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
        used = ", ".join(c.cell.name for c in selection.used)
        self.matches_title.setText(
            f"Where {used} switch on together: {len(others):,} other place(s)" if used else
            "No cell is on across the selection and off around it.")
        for m in others:
            shown = m.text if len(m.text) <= 50 else m.text[:47] + "…"
            item = QListWidgetItem(f"{m.start:,}–{m.end:,}: {shown!r}")
            item.setData(Qt.UserRole, (m.start, m.end))
            self.matches.addItem(item)

    def ranked_cells(self) -> List[str]:
        """The cells listed now, best first (their names)."""
        return [self.cells.topLevelItem(i).text(0) for i in range(self.cells.topLevelItemCount())]
