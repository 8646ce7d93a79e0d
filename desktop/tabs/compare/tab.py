"""The Compare cells tab: choose a text, the cells and a budget; watch the cells train one after
another (their validation curves overlaid), then read the table of the classic claims and two
pictures: memory reach (loss against the context allowed) and gradient flow (the vanishing
gradient, on a log scale). The work is engine/generator/compare.py's, on the engine thread; each
cell's run lands in the Models tab, grouped under the comparison's name."""
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

import corpora

from desktop.tabs.compare.result_views import (FLOOR, TITLES, ResultTable, gradient_series,
                                               reach_series, verdict_html)
from desktop.widgets.common import add_builtin_corpora, dspin, select_or_add, spin
from desktop.widgets.loss_chart import LossChart

JOB = "compare-train"        # "-train": the window counts it as training (asks before quitting)


class CompareTab(QWidget):
    runs_changed = Signal()

    def __init__(self, engine, window=None, parent=None):
        super().__init__(parent)
        self.engine, self.window = engine, window
        self.result = None
        self.current = None
        # ---- the choices -------------------------------------------------------------------
        self.text = QComboBox()
        self.text.setToolTip("The text every cell trains on (the same split and seed)")
        add_builtin_corpora(self.text, "text")
        self.open_text = QPushButton("Open…")
        self.open_text.setToolTip("Compare on a text file of your own")
        self.open_text.clicked.connect(lambda _=False: self._choose_file())
        self.cell_boxes = {}
        cells_row = QHBoxLayout()
        for cell, tip in (("lstm", "LSTM: forget, input and output gates, a separate cell state"),
                          ("gru", "GRU: update and reset gates, one hidden state"),
                          ("rnn", "Plain RNN: no gates (tanh): the baseline that shows why "
                                  "gates exist")):
            box = QCheckBox(TITLES[cell])
            box.setChecked(True)
            box.setToolTip(tip)
            self.cell_boxes[cell] = box
            cells_row.addWidget(box)
        self.match = QComboBox()
        self.match.addItem("Equal hidden units", "units")
        self.match.addItem("Equal parameters", "params")
        self.match.setToolTip("Equal parameters: each cell gets the hidden size giving the first "
                              "cell's parameter count")
        self.hidden = spin(8, 2048, 512, "Hidden units of each recurrent layer (of the first "
                           "cell, when parameters are matched)", step=16)
        self.layers = spin(1, 4, 2, "Stacked recurrent layers")
        self.minutes = dspin(0.05, 120.0, 2.0, "Training time for each cell; the "
                             "measurements after it take about a minute more for the default "
                             "model", 0.5, 2)
        self.name = QLineEdit("compare")
        self.name.setToolTip("The comparison's name: its models are NAME-lstm, NAME-gru, "
                             "NAME-rnn in the Models tab")
        self.start = QPushButton("Compare")
        self.start.setToolTip("Train the chosen cells one after another, then measure them")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop after saving what the cell in training has learned")
        self.stop.setEnabled(False)
        self.status = QLabel("Choose a text, the cells and a budget.")
        self.status.setWordWrap(True)
        text_row = QHBoxLayout()
        text_row.addWidget(self.text, 1)
        text_row.addWidget(self.open_text)
        form = QFormLayout()
        form.addRow("Text", text_row)
        form.addRow("Cells", cells_row)
        form.addRow("Sizes", self.match)
        form.addRow("Hidden size", self.hidden)
        form.addRow("Layers", self.layers)
        form.addRow("Minutes per cell", self.minutes)
        form.addRow("Name", self.name)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start)
        buttons.addWidget(self.stop)
        choices = QGroupBox("Compare cells")
        side = QVBoxLayout(choices)
        side.addLayout(form)
        side.addLayout(buttons)
        side.addWidget(self.status)
        self.verdicts = QTextBrowser()
        self.verdicts.setToolTip("Each claim of the classic LSTM/GRU table beside what was "
                                 "measured here")
        side.addWidget(self.verdicts, 1)
        choices.setFixedWidth(360)
        # ---- what it shows -----------------------------------------------------------------
        self.curves = LossChart("Validation while training", x_label="step",
                                y_label="bits per character")
        self.table = ResultTable()
        self.reach = LossChart("Memory reach", x_label="log2 of the characters seen (state "
                               "reset every d)", y_label="held-out bits/char")
        self.gradient = LossChart("Gradient flow", x_label="distance d (characters)",
                                  y_label="log10 gradient vs d=0", y_bounds=(FLOOR - 1, 0.5))
        pictures = QGridLayout()
        pictures.addWidget(self.curves, 0, 0)
        pictures.addWidget(self.table, 0, 1)
        pictures.addWidget(self.reach, 1, 0)
        pictures.addWidget(self.gradient, 1, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(choices)
        layout.addLayout(pictures, 1)
        self.start.clicked.connect(lambda _=False: self.compare())
        self.stop.clicked.connect(lambda _=False: self.engine.stop(JOB))

    def _choose_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "A text to compare the cells on")
        if path:
            select_or_add(self.text, path)

    def chosen_cells(self):
        return [c for c, box in self.cell_boxes.items() if box.isChecked()]

    # ---- running -------------------------------------------------------------------------------
    def compare(self):
        cells, name, ref = self.chosen_cells(), self.name.text().strip(), self.text.currentData()
        if not cells:
            self.status.setText("Choose at least one cell.")
            return
        if not name:
            self.status.setText("Give the comparison a Name.")
            return
        minutes, match = float(self.minutes.value()), self.match.currentData()
        hidden, layers = int(self.hidden.value()), int(self.layers.value())

        def job(should_stop):
            from engine.config import GeneratorConfig, TrainConfig
            from engine.generator.compare import compare_cells
            from engine.generator.train import CorpusRef
            from engine.storage.runs import resolve_run
            path, shown = corpora.resolve_text_source(ref)
            runs = {c: resolve_run(f"{name}-{c}", must_exist=False, allow_path=False)
                    for c in cells}
            model = GeneratorConfig(hidden_size=hidden, num_layers=layers)
            train = TrainConfig(epochs=None, minutes=minutes)
            return compare_cells(CorpusRef(str(path), shown), runs, model, train, match=match,
                                 group=name, should_stop=should_stop)
        self.result = None
        for chart in (self.curves, self.reach, self.gradient):
            chart.clear()
        self.table.clear_cells()
        self.verdicts.clear()
        self.start.setEnabled(False)
        self.stop.setEnabled(True)
        self.status.setText("Starting…")
        self.engine.submit(JOB, job, on_event=self.on_event, on_done=lambda _: self._ended(),
                           on_error=self._failed)

    def on_event(self, ev):
        from engine.events import Finished, Progress, Validated
        from engine.generator.compare import CellDone, CellMeasuring, CellStarted, ComparisonDone
        if isinstance(ev, CellStarted):
            self.current = ev.cell
            self.status.setText(f"Training {TITLES[ev.cell]} ({ev.index + 1} of {ev.count}, "
                                f"{ev.parameters:,} parameters)…")
        elif isinstance(ev, Progress):
            self.status.setText(f"Training {TITLES[self.current]}: step {ev.step:,}, "
                                f"{ev.items_per_s:,.0f} characters/s")
        elif isinstance(ev, Validated):
            bits = ev.metrics.get("bits_per_char", ev.val_loss)
            self.curves.add_point(TITLES[self.current], ev.step, bits)
        elif isinstance(ev, Finished):
            self.runs_changed.emit()
        elif isinstance(ev, CellMeasuring):
            self.status.setText(f"Measuring {TITLES[ev.cell]}: {ev.what}…")
        elif isinstance(ev, CellDone):
            self.show_cell(ev.cell, ev.result)
            self.runs_changed.emit()
        elif isinstance(ev, ComparisonDone):
            self.show_result(ev.result)

    def show_cell(self, cell: str, row: dict):
        self.table.show_cell(cell, row)
        self.reach.set_series(TITLES[cell], *reach_series(row))
        self.gradient.set_series(TITLES[cell], *gradient_series(row))

    def show_result(self, result: dict):
        self.result = result
        for cell, row in result["cells"].items():
            self.table.show_cell(cell, row)
        self.verdicts.setHtml(verdict_html(result))

    def _ended(self):
        self.start.setEnabled(True)
        self.stop.setEnabled(False)
        self.status.setText("Done: the table, the claims and the pictures are below; the "
                            "models are in the Models tab." if self.result else
                            "Stopped: the cells trained so far are kept in the Models tab.")

    def _failed(self, message: str):
        self.start.setEnabled(True)
        self.stop.setEnabled(False)
        self.status.setText(message)
