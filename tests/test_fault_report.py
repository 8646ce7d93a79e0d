"""The fault table counts losses (a failed check of kept work is one lost case) and is written
outside the tracked files, so a test run leaves the checkout clean."""
import subprocess

import pytest

from . import fault_report
from .conftest import ROOT


@pytest.fixture
def report(tmp_path, monkeypatch):
    monkeypatch.setattr(fault_report, "REPORT", tmp_path / "report")
    monkeypatch.setattr(fault_report, "TABLE", tmp_path / "table.md")
    return fault_report


def test_a_case_whose_check_fails_is_counted_lost(report):
    with pytest.raises(AssertionError):
        with report.work_cases("kills") as cases:
            for k, kept in enumerate([True, False, True]):
                with cases.check(k):
                    cases.outcomes[k] = "resumed" if kept else "gone"
                    assert kept
    with report.work_cases("kills") as cases:        # a second process's share of the class
        with cases.check(0):
            cases.outcomes[0] = "resumed"
    report.record_outcomes("random bytes", {0: "clear error"})
    table = report.write_table(passed=False).read_text()
    assert "| kills | 3 | gone (1), resumed (2) | 1 |" in table
    assert "| random bytes | 1 | clear error (1) | - |" in table
    assert "A RED RUN" in table


def test_the_table_is_written_where_git_ignores_it():
    default = ROOT / ".pytest_cache" / "fault-table.md"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(default)], cwd=ROOT)
    assert ignored.returncode == 0
    assert "fault-table: begin" not in (ROOT / "tests" / "README.md").read_text()
