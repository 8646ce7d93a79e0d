"""The fault and bad-input report: tests record what each case they ran ended in, and at the end
of a run of the whole suite conftest.py writes the table to an untracked file (so it is
produced, not typed, and a test run leaves the checkout clean): ``.pytest_cache/fault-table.md``,
or the path in ``RNN_STUDIO_FAULT_TABLE``.

The "lost" column is counted, not typed: a test whose cases could lose work (a run, a
checkpoint, a file) records each case through ``work_cases``, which counts a case as lost unless
its check that the work was kept passed. The table is written after a red run too (its header
says so), so a loss shows there as well as in the failing test. Classes whose cases have no work
at stake (bad input refused up front) show "-".

Each process that runs tests (one, or each pytest-xdist worker) appends to its own file in the
report folder; the table merges them all, so a class whose cases ran on two workers is counted
once, with every case."""
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path(os.environ.get("RNN_STUDIO_FAULT_REPORT", ROOT / ".home" / "fault-report"))
TABLE = Path(os.environ.get("RNN_STUDIO_FAULT_TABLE", ROOT / ".pytest_cache" / "fault-table.md"))


def record_outcomes(case: str, outcomes: dict, lost: dict | None = None):
    """Add ``outcomes`` ({case id: outcome}) to the report under the class ``case``; ``lost``
    ({case id: whether it lost work}) where the cases had work at stake."""
    REPORT.mkdir(parents=True, exist_ok=True)
    record = {"case": case, "outcomes": [str(v) for v in outcomes.values()],
              "lost": None if lost is None else sum(bool(v) for v in lost.values())}
    with open(REPORT / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


class WorkCases:
    """The cases of one class with work at stake: ``with cases.check(key): <assert kept>``
    counts the case lost unless the block ends without an exception."""

    def __init__(self):
        self.outcomes, self.lost = {}, {}

    @contextmanager
    def check(self, key):
        self.lost[key] = True
        self.outcomes.setdefault(key, "failed its check")
        yield
        self.lost[key] = False


@contextmanager
def work_cases(case: str):
    """Record the class's cases and their losses when the block ends, failing or not."""
    cases = WorkCases()
    try:
        yield cases
    finally:
        if cases.outcomes:
            record_outcomes(case, cases.outcomes, cases.lost)


def reset():
    if REPORT.is_file():          # the one-file report of earlier versions
        REPORT.unlink()
    shutil.rmtree(REPORT, ignore_errors=True)


def merged() -> dict:
    """{class: ([outcome, ...], lost count or None)} from every process's records."""
    classes = {}
    for path in sorted(REPORT.glob("*.jsonl")) if REPORT.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            outcomes, lost = classes.get(record["case"], ([], None))
            if record.get("lost") is not None:
                lost = (lost or 0) + record["lost"]
            classes[record["case"]] = (outcomes + record["outcomes"], lost)
    return classes


def table(classes: dict, passed: bool) -> str:
    verdict = "a green run" if passed else "A RED RUN"
    rows = [f"# Faults and bad input: what ran, and how it ended ({verdict})",
            "",
            "| fault or bad-input class | cases run | outcomes (count) | lost |",
            "|---|---|---|---|"]
    for case in sorted(classes):
        outcomes, lost = classes[case]
        counted = ", ".join(f"{o} ({outcomes.count(o)})" for o in sorted(set(outcomes)))
        rows.append(f"| {case} | {len(outcomes)} | {counted} | {'-' if lost is None else lost} |")
    return "\n".join(rows) + "\n"


def write_table(passed: bool) -> Path | None:
    """Write the table from the report, if anything was recorded; returns where."""
    classes = merged()
    if not classes:
        return None
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(table(classes, passed), encoding="utf-8")
    return TABLE
