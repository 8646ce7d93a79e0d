"""Resume was pressed with settings that differ from the run's own (engine/training/plan.py's
``SettingsChanged``): a dialog names each setting by its label on the form, with both values,
and asks whether to resume with the run's settings or to start a new run with the form's."""
from engine.training.plan import SettingsChanged

RESUME_WITH_THE_RUNS = "Resume with the run's settings"
NEW_RUN_WITH_MINE = "Start a new run with mine"


def ask_about_changed_settings(parent, name: str, refused: SettingsChanged) -> str:
    """"resume" (with the run's settings), "new" (a new run with the form's) or "" (cancelled)."""
    from PySide6.QtWidgets import QMessageBox
    lines = "\n".join(f"• {change.app_words()}" for change in refused.changes)
    box = QMessageBox(QMessageBox.Question, "Resume keeps the run's settings",
                      f"{name} keeps the settings it began with, and these differ from yours:\n"
                      f"{lines}\n\nResume it with its own settings, or start a new run with "
                      f"yours?", QMessageBox.Cancel, parent)
    buttons = {box.addButton(label, role): key for label, role, key in (
        (RESUME_WITH_THE_RUNS, QMessageBox.AcceptRole, "resume"),
        (NEW_RUN_WITH_MINE, QMessageBox.ActionRole, "new"))}
    box.exec()
    return buttons.get(box.clickedButton(), "")


def applied_note(applied) -> str:
    """The changeable settings a resume applies, for the status line ("" when none)."""
    if not applied:
        return ""
    return " Changed on resume: " + "; ".join(change.app_words() for change in applied) + "."
