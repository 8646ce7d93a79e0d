"""Small helpers shared by the tabs: formatting and form rows with tooltips."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDoubleSpinBox, QScrollArea, QSpinBox,
                               QSplitter, QVBoxLayout, QWidget)


def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    w = QSpinBox()
    w.setRange(low, high)
    w.setValue(value)
    w.setSingleStep(step)
    w.setToolTip(tip)
    return w


def dspin(low: float, high: float, value: float, tip: str, step: float, decimals: int) -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setRange(low, high)
    w.setDecimals(decimals)
    w.setSingleStep(step)
    w.setValue(value)
    w.setToolTip(tip)
    return w


def duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def settings_column(*items) -> QScrollArea:
    """The left-hand column of a training tab: group boxes and button rows, scrolling."""
    column = QWidget()
    layout = QVBoxLayout(column)
    for item in items:
        if isinstance(item, QWidget):
            layout.addWidget(item)
        else:
            layout.addLayout(item)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(column)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(column.sizeHint().width() + 24)
    return scroll


def side_by_side(left: QWidget, right: QWidget) -> QSplitter:
    split = QSplitter(Qt.Horizontal)
    split.addWidget(left)
    split.addWidget(right)
    split.setSizes([380, 820])
    return split


def select_or_add(combo, path: str):
    """Select the entry for ``path`` in a combo box of sources, adding it first if new,
    without emitting currentIndexChanged (the caller decides what follows)."""
    from pathlib import Path
    index = combo.findData(str(path))
    if index < 0:
        combo.addItem(Path(path).name, str(path))
        index = combo.count() - 1
    combo.blockSignals(True)
    combo.setCurrentIndex(index)
    combo.blockSignals(False)


# The engine words its messages for the command line; the app says the same in its own terms.
_CLI_TO_GUI = [
    ("pass --resume to continue it, or choose another --out",
     "press Resume to continue it, or choose another run name"),
    ("or pass its encoding (e.g. --encoding cp1252 or latin-1)",
     "or choose its encoding (e.g. cp1252 or latin-1) under Encoding"),
    ("Use --format mxnet, or train without --bidirectional.",
     'Export it as MXNet instead, or train without "Read both ways".'),
    ("Use --format mxnet.", "Export it as MXNet instead."),
    ("use --format mxnet", "export it as MXNet instead"),
    ("pass a larger --epochs (or --minutes) to train on",
     "give it a larger budget (more epochs or minutes) to train on"),
    ("try a lower --lr", "try a lower learning rate"),
]


def plain_words(message: str) -> str:
    """An engine message in the app's words (no command-line flags)."""
    for cli, gui in _CLI_TO_GUI:
        message = message.replace(cli, gui)
    return message


def ask_about_existing_run(parent, name: str) -> str:
    """A run called ``name`` exists: "resume", "overwrite" (asked twice: it deletes), "rename"
    or "" (cancelled)."""
    from PySide6.QtWidgets import QMessageBox
    box = QMessageBox(QMessageBox.Question, "A model with this name exists",
                      f"There is already a model called {name!r}. Continue training it, replace "
                      f"it with a new one, or give the new one another name?",
                      QMessageBox.Cancel, parent)
    buttons = {box.addButton(label, role): key for label, role, key in (
        ("Resume it", QMessageBox.AcceptRole, "resume"),
        ("Overwrite…", QMessageBox.DestructiveRole, "overwrite"),
        ("New name", QMessageBox.ActionRole, "rename"))}
    box.exec()
    choice = buttons.get(box.clickedButton(), "")
    if choice == "overwrite":
        sure = QMessageBox(QMessageBox.Warning, "Overwrite",
                           f"Delete the model {name!r} and all of its files, then train a new one? "
                           f"This cannot be undone.", QMessageBox.Yes | QMessageBox.No, parent)
        sure.setDefaultButton(QMessageBox.No)
        if sure.exec() != QMessageBox.Yes:
            return ""
    return choice


def free_name(name: str) -> str:
    """``name-2``, ``name-3``, ... : the first that names no run."""
    from engine.runs import run_exists
    stem, n = name, 2
    while run_exists(f"{stem}-{n}"):
        n += 1
    return f"{stem}-{n}"


def settle_run_name(tab, resume: bool):
    """Before a new training: if the tab's run name is taken, ask what to do. Returns whether to
    resume (True/False), or None when nothing should start (cancelled, or a new name was
    proposed in the name field)."""
    from engine.errors import StudioError
    from engine.runs import delete_run, run_exists
    name = tab.run_name.text().strip()
    if resume or not run_exists(name):
        return resume
    choice = ask_about_existing_run(tab, name)
    if choice == "overwrite":
        try:
            delete_run(name)
        except StudioError as err:           # being trained elsewhere, say
            tab.window.show_error("Cannot overwrite", str(err))
            return None
        tab.window.runs_changed()
        return False
    if choice == "rename":
        tab.run_name.setText(free_name(name))
        tab.run_name.setFocus()
        tab.run_name.selectAll()
    return True if choice == "resume" else None
