"""Small helpers shared by the tabs: formatting and form rows with tooltips."""
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox


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


def set_placeholder(edit, text: str):
    """Set a text box's placeholder and repaint it: Qt (6.11) does not, so an empty state
    ("No model yet…") stayed on screen after the first model was trained."""
    if edit.placeholderText() != text:
        edit.setPlaceholderText(text)
        edit.viewport().update()


def write_text(path: str, text: str):
    """Write ``text`` to ``path`` (UTF-8): None if saved, else why not (e.g. "Is a directory")."""
    from pathlib import Path
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        return err.strerror or str(err)
    return None


def save_text(window, path: str, text: str) -> bool:
    """Write ``text`` to ``path`` (UTF-8); a failure is said in a dialog. True if saved."""
    problem = write_text(path, text)
    if problem is not None:
        window.show_error("Cannot save", f"{path}: {problem}")
    return problem is None


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
    from engine.storage.runs import run_exists
    stem, n = name, 2
    while run_exists(f"{stem}-{n}"):
        n += 1
    return f"{stem}-{n}"


def settle_run_name(tab, resume: bool):
    """Before a new training: if the tab's run name is taken, ask what to do. Returns whether to
    resume (True/False), or None when nothing should start (cancelled, or a new name was
    proposed in the name field)."""
    from engine.errors import StudioError
    from engine.storage.runs import delete_run, run_exists
    name = tab.run_name.text().strip()
    if resume or not run_exists(name):
        return resume
    choice = ask_about_existing_run(tab, name)
    if choice == "overwrite":
        try:
            delete_run(name)
        except StudioError as err:           # being trained elsewhere, say
            tab.window.show_error("Cannot overwrite", err)
            return None
        tab.window.runs_changed()
        return False
    if choice == "rename":
        tab.run_name.setText(free_name(name))
        tab.run_name.setFocus()
        tab.run_name.selectAll()
    return True if choice == "resume" else None


def add_builtin_corpora(combo, kind: str):
    """Add each built-in corpus of ``kind`` to ``combo`` (its data: the corpus name), saying
    which is built here already and which will be built (from installed packages, offline) on
    first use."""
    import corpora
    for entry in corpora.REGISTRY.values():
        if entry.kind == kind:
            combo.addItem(corpora.listed_name(entry.name), entry.name)
