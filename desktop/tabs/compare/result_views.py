"""What the Compare cells tab shows of a finished comparison: the table (one column per cell,
one row per measure), the claims with their verdicts, and the two pictures' series."""
import math
from typing import Dict, List, Tuple

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

FLOOR = -20             # log10 of a relative gradient: smaller (or 0, underflowed) drawn here

ROWS: List[Tuple[str, callable]] = [
    ("Gates", lambda c: str(c["gates"])),
    ("States per layer", lambda c: f"{c['states']} ({', '.join(c['state_names'])})"),
    ("Hidden units", lambda c: str(c["hidden_size"])),
    ("Parameters", lambda c: f"{c['parameters']:,}"),
    ("Training chars/s", lambda c: f"{c['chars_per_s']:,.0f}"),
    ("Steps in the budget", lambda c: f"{c['steps']:,}"),
    ("Held-out bits/char", lambda c: f"{c['heldout_bits_per_char']:.3f}"),
    ("Training bits/char at equal steps", lambda c: f"{c['equal_steps']['train_bits_per_char']:.3f}"
     f" (step {c['equal_steps']['step']:,})" if c.get("equal_steps") else "–"),
    ("Memory reach", lambda c: "over 512 chars" if c["memory_reach"] is None
     else f"{c['memory_reach']} chars"),
    ("Gradient at d=50", lambda c: f"{c['gradient_flow'].get('50', float('nan')):.2g}"),
    ("Gradient at d=200", lambda c: f"{c['gradient_flow'].get('200', float('nan')):.2g}"),
    ("Closer expected at closers", lambda c: f"{c['bracket_closing']['closer_probability']:.2f}"
     if c.get("bracket_closing") else "–"),
]
TITLES = {"lstm": "LSTM", "gru": "GRU", "rnn": "Plain RNN"}


class ResultTable(QTableWidget):
    """One column per cell as each is measured, one row per measure."""

    def __init__(self, parent=None):
        super().__init__(len(ROWS), 0, parent)
        self.setVerticalHeaderLabels([name for name, _ in ROWS])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.setToolTip("Measured on the held-out part of the text, from each cell's last "
                        "checkpoint: memory reach is the shortest context within 0.01 bits of "
                        "the full-context loss; the gradient is relative to d=0")
        self.cells: List[str] = []

    def clear_cells(self):
        self.cells = []
        self.setColumnCount(0)

    def show_cell(self, cell: str, row: Dict):
        if cell not in self.cells:
            self.cells.append(cell)
            self.setColumnCount(len(self.cells))
            self.setHorizontalHeaderLabels([TITLES[c] for c in self.cells])
        col = self.cells.index(cell)
        for r, (_, fmt) in enumerate(ROWS):
            try:
                text = fmt(row)
            except (KeyError, TypeError, ValueError):
                text = "–"
            self.setItem(r, col, QTableWidgetItem(text))


def verdict_html(result: Dict) -> str:
    lines = []
    for v in result.get("verdicts", []):
        colour = {"holds": "#2ca02c", "does not hold": "#d62728"}.get(v["verdict"], "#777")
        lines.append(f"<p><b>{v['claim'].capitalize()}</b>: {v['text']}.<br>Measured: "
                     f"{v['measured']}: <b style='color:{colour}'>{v['verdict']}</b></p>")
    return "".join(lines)


def reach_series(row: Dict) -> Tuple[List[float], List[float]]:
    """(log2 d, bits) of the memory-reach curve."""
    pairs = sorted((int(d), b) for d, b in row["memory_reach_bits"].items())
    return [math.log2(d) for d, _ in pairs], [b for _, b in pairs]


def gradient_series(row: Dict) -> Tuple[List[float], List[float]]:
    """(d, log10 of the gradient relative to d=0), underflows drawn at FLOOR."""
    pairs = sorted((int(d), g) for d, g in row["gradient_flow"].items())
    return [d for d, _ in pairs], [max(FLOOR, math.log10(g)) if g > 0 else FLOOR for _, g in pairs]
