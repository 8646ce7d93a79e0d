"""Shared fixtures: an isolated RNN_STUDIO_HOME, offscreen Qt, small synthetic texts."""
import json
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # several test processes share the cores: one OpenMP thread each (set before MXNet loads;
    # the command lines the tests start inherit it)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
# Built corpora (downloaded from the registry once) are shared between test runs through this
# folder; every other file the tests write goes to a fresh temporary home.
SHARED_CORPORA = Path(os.environ.get("RNN_STUDIO_TEST_CORPORA", ROOT / ".home" / "corpora"))


_PROBED = {}


def probed_cache() -> dict:
    """A recipe speed probe as this machine would cache it, with the curves' machine's speeds
    (engine/generator/speed_probe.py): a test home is a machine already measured, so that no
    test waits for a probe it does not test (tests/test_speed_probe.py measures for real)."""
    if not _PROBED:
        from engine.generator.recipes import reference_speeds
        from engine.generator.speed_probe import machine_key, probe_path
        _PROBED.update(key=machine_key(probe_path().precision), speeds=reference_speeds(),
                       when="(seeded by the tests)")
    return _PROBED


def _new_home(home):
    home.mkdir()
    if SHARED_CORPORA.is_dir():
        (home / "corpora").symlink_to(SHARED_CORPORA.resolve(), target_is_directory=True)
    from engine.generator.speed_probe import CACHE_NAME
    (home / "cache").mkdir()
    (home / "cache" / CACHE_NAME).write_text(json.dumps(probed_cache()), encoding="utf-8")
    return home


@pytest.fixture(autouse=True)
def studio_home(tmp_path, monkeypatch):
    home = _new_home(tmp_path / "home")
    monkeypatch.setenv("RNN_STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session", autouse=True)
def session_home(tmp_path_factory):
    """The home of what the session- and module-scoped fixtures write (models trained once and
    reused: they are made before any test's own home is set), never the user's."""
    patch = pytest.MonkeyPatch()
    home = _new_home(tmp_path_factory.mktemp("session") / "home")
    patch.setenv("RNN_STUDIO_HOME", str(home))
    yield home
    patch.undo()


def repeating_text(n_chars=6000):
    unit = "the quick brown fox jumps over the lazy dog.\n"
    return (unit * (n_chars // len(unit) + 1))[:n_chars]


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    """6,750 characters: 161 steps per epoch at batch 4 x sequence 10 (helpers.epochs)."""
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text(repeating_text(6750), encoding="utf-8")
    return path


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(repeating_text(), encoding="utf-8")
    return path


def run_cli(*args, env=None, timeout=300, fresh=False, crash=None):
    """Run ``python -m engine ARGS`` as a process of its own; returns a CompletedProcess.

    The process is forked from tests/cli_server.py, which has MXNet imported already (seconds
    saved per run, the same command otherwise); ``fresh``: a new interpreter from scratch, for
    what depends on a module imported for the first time. ``crash``: run it under
    tests/crash_at.py's counter ({"n", "folder", "count_file"})."""
    import subprocess
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    args = [str(a) for a in args]
    if fresh or not hasattr(os, "fork"):
        command = [sys.executable, "-m", "engine", *args]
        if crash:
            command = [sys.executable, str(ROOT / "tests" / "crash_at.py"), str(crash["n"]),
                       str(crash["folder"]), str(crash["count_file"]), "--", *args]
        return subprocess.run(command, capture_output=True, text=True, env=full_env,
                              timeout=timeout, cwd=str(ROOT))
    reply = _cli_server().run({"args": args, "env": full_env, "cwd": str(ROOT),
                               "timeout": timeout, "crash": crash and {
                                   k: str(v) if k != "n" else int(v) for k, v in crash.items()}})
    if reply["timed_out"]:
        raise subprocess.TimeoutExpired(["rnn-studio", *args], timeout, reply["stdout"],
                                        reply["stderr"])
    return subprocess.CompletedProcess(["rnn-studio", *args], reply["returncode"],
                                       reply["stdout"], reply["stderr"])


class _CliServer:
    """This test process's tests/cli_server.py, started on first use."""

    def __init__(self):
        import subprocess
        import threading
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "cli_server.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=env, cwd=str(ROOT))
        self.lock = threading.Lock()

    def run(self, request: dict) -> dict:
        import json
        with self.lock:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("tests/cli_server.py ended unexpectedly")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


_server = None


def _cli_server() -> _CliServer:
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = _CliServer()
    return _server


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
    if _server is not None:
        _server.close()
    if _reports(session.config):
        from .fault_report import write_table
        session.config._fault_table = write_table(passed=exitstatus == 0)


def pytest_terminal_summary(terminalreporter, config):
    where = getattr(config, "_fault_table", None)
    if where is not None:
        terminalreporter.write_line(f"fault table: {where}")
