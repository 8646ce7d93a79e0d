"""Shared fixtures: an isolated RNN_STUDIO_HOME, offscreen Qt, small synthetic texts."""
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
# Built corpora (downloaded from the registry once) are shared between test runs through this
# folder; every other file the tests write goes to a fresh temporary home.
SHARED_CORPORA = Path(os.environ.get("RNN_STUDIO_TEST_CORPORA", ROOT / ".home" / "corpora"))


@pytest.fixture(autouse=True)
def studio_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    if SHARED_CORPORA.is_dir():
        (home / "corpora").symlink_to(SHARED_CORPORA.resolve(), target_is_directory=True)
    monkeypatch.setenv("RNN_STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def session_home(tmp_path_factory):
    """A home for session-scoped fixtures (models trained once and reused)."""
    return tmp_path_factory.mktemp("session-home")


def repeating_text(n_chars=6000):
    unit = "the quick brown fox jumps over the lazy dog.\n"
    return (unit * (n_chars // len(unit) + 1))[:n_chars]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(repeating_text(), encoding="utf-8")
    return path


def run_cli(*args, env=None, timeout=300):
    """Run ``python -m engine`` in a subprocess; returns CompletedProcess."""
    import subprocess
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=str(ROOT))


def _reports(config) -> bool:
    """Whether this process keeps the fault report: a run of the whole suite (not of a few
    files or ``-k`` tests, which would write a partial table), and not a pytest-xdist worker
    (the workers record; the process that started them merges and writes)."""
    whole = not config.option.keyword and all(
        (Path(config.invocation_params.dir) / a).resolve() == ROOT / "tests"
        for a in config.args)
    return whole and not hasattr(config, "workerinput")


def pytest_sessionstart(session):
    """The default run starts the fault report afresh; the slow run (after it, in CI) adds to it."""
    from .fault_report import reset
    if _reports(session.config) and "slow" not in (
            session.config.option.markexpr or "").replace("not slow", ""):
        reset()


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _reports(session.config):
        from .fault_report import write_table
        write_table()
