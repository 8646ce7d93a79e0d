"""A fork server for the tests' command-line runs.

Every ``python -m engine`` first spends seconds importing MXNet and gluonnlp; the suite runs the
command line some 150 times. This server imports those once (and nothing of RNN Studio beyond
``engine/__init__``, which a real run imports first too), then forks a child per command: the
child takes the command's environment and folder, points its stdin, stdout and stderr at
/dev/null and two files, runs ``engine.cli.main.main`` as ``python -m engine`` does, and exits with
its status. Each command is still a process of its own, with its own exit status and output,
killed for real when it crashes or runs out of time; only the imports are shared. (MXNet
supports fork: it stops and restarts its engine threads around one; the server runs no MXNet
operation itself.)

Protocol: one JSON line per command on stdin ({"args", "env", "cwd", "timeout", "crash"}), one
JSON line per result on stdout ({"returncode", "stdout", "stderr", "timed_out"}). ``crash``
({"n", "folder", "count_file"}) runs the command under tests/crash_at.py's file-operation
counter.
"""
import json
import os
import signal
import sys
import tempfile
import time


def run_child(request: dict, out_path: str, err_path: str):
    """In the forked child: become the command, run it, exit with its status."""
    os.setpgid(0, 0)                       # its own group: a timeout ends all it started
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, path in ((1, out_path), (2, err_path)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = sys.__stdout__            # the server pointed it at stderr (serve)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["rnn-studio", *request["args"]]
    finish = lambda: None                  # noqa: E731
    if request.get("crash"):
        from tests.crash_at import install
        crash = request["crash"]
        finish = install(crash["n"], crash["folder"], crash["count_file"])
    code = 1
    try:
        from engine.cli.main import main
        code = main(request["args"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        finish()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code or 0)


def wait(pid: int, timeout: float):
    """(exit status as subprocess reports it, timed out?)"""
    deadline = time.time() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.time() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status), True
        time.sleep(0.02)


def serve():
    import engine  # noqa: F401  (its environment defaults come before MXNet, as in a real run)
    import gluonnlp  # noqa: F401
    import mxnet  # noqa: F401
    folder = tempfile.mkdtemp(prefix="rnn-studio-cli-server-")
    replies = sys.stdout
    sys.stdout = sys.stderr                # nothing but replies on the protocol's stream
    for line in sys.stdin:
        request = json.loads(line)
        out_path, err_path = os.path.join(folder, "out"), os.path.join(folder, "err")
        pid = os.fork()
        if pid == 0:
            run_child(request, out_path, err_path)
        code, timed_out = wait(pid, request["timeout"])
        reply = {"returncode": code, "timed_out": timed_out}
        for name, path in (("stdout", out_path), ("stderr", err_path)):
            with open(path, encoding="utf-8", errors="replace") as f:
                reply[name] = f.read()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
