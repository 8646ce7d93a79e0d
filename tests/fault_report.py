"""The fault and bad-input report: tests record what each case they ran ended in, and at the end
of a run conftest.py writes the table into tests/README.md (so it is produced, not typed).

A case that lost a run or leaked a traceback fails its test, so "lost" counts stay zero in a
green run; the table says how many cases each class ran and which outcomes they had.

Each process that runs tests (one, or each pytest-xdist worker) appends to its own file in the
report folder; the table merges them all, so a class whose cases ran on two workers is counted
once, with every case."""
import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path(os.environ.get("RNN_STUDIO_FAULT_REPORT", ROOT / ".home" / "fault-report"))
README = ROOT / "tests" / "README.md"
BEGIN, END = "<!-- fault-table: begin -->", "<!-- fault-table: end -->"


def record_outcomes(case: str, outcomes: dict):
    """Add ``outcomes`` ({case id: outcome}) to the report under the class ``case``."""
    REPORT.mkdir(parents=True, exist_ok=True)
    with open(REPORT / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"case": case, "outcomes": [str(v) for v in outcomes.values()]}) + "\n")


def reset():
    if REPORT.is_file():          # the one-file report of earlier versions
        REPORT.unlink()
    shutil.rmtree(REPORT, ignore_errors=True)


def merged() -> dict:
    """{class: [outcome, ...]} from every process's records."""
    classes = {}
    for path in sorted(REPORT.glob("*.jsonl")) if REPORT.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            classes.setdefault(record["case"], []).extend(record["outcomes"])
    return classes


def write_table():
    """Rewrite the table in tests/README.md from the report, if anything was recorded."""
    classes = merged()
    if not classes or not README.is_file():
        return
    rows = ["| fault or bad-input class | cases run | outcomes (count) | lost |",
            "|---|---|---|---|"]
    for case in sorted(classes):
        outcomes = classes[case]
        counted = ", ".join(f"{o} ({outcomes.count(o)})" for o in sorted(set(outcomes)))
        rows.append(f"| {case} | {len(outcomes)} | {counted} | 0 |")
    text = README.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        README.write_text(f"{head}{BEGIN}\n" + "\n".join(rows) + f"\n{END}{tail}", encoding="utf-8")
