"""Unexpected errors (bugs, not bad input) as one readable line plus a report file.

A StudioError is worded for people; anything else is a bug. Neither the CLI nor the GUI shows a
traceback: they show one line that names the operation and where the full report went
(``RNN_STUDIO_HOME/logs``), so the report can be attached to a bug without scaring anyone.
"""
import datetime
import os
import platform
import sys
import traceback
from pathlib import Path
from typing import Optional

from engine.storage.paths import studio_home


def write_crash_report(err: BaseException, operation: str, settings: str = "") -> Optional[Path]:
    """Write the traceback of ``err`` with what was being done; returns the file (None if even
    that failed: a full disk must not turn one error into two)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        folder = studio_home() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{stamp}-{os.getpid()}.txt"
        from engine import __version__
        lines = [f"operation: {operation}", f"settings: {settings}",
                 f"rnn-studio {__version__}, Python {sys.version.split()[0]}, "
                 f"{platform.platform()}", ""]
        lines += traceback.format_exception(type(err), err, err.__traceback__)
        path.write_text("\n".join(line.rstrip("\n") for line in lines) + "\n", encoding="utf-8")
        return path
    except OSError:
        return None


def describe_unexpected(err: BaseException, operation: str, settings: str = "") -> str:
    """One line for people: what failed, the error, and where the report is. An error of the
    machine (a full disk, a read-only folder: disk.py) is no bug: its line, and no report."""
    from engine.storage.disk import describe, is_environment
    if is_environment(err):
        return f"{operation}: {describe(err)}"
    report = write_crash_report(err, operation, settings)
    detail = "".join(traceback.format_exception_only(type(err), err)).strip().splitlines()
    where = f"; the full report is in {report}" if report else ""
    return (f"unexpected failure in {operation}"
            f"{f' ({settings})' if settings else ''}: {detail[-1] if detail else type(err).__name__}"
            f"{where}")
