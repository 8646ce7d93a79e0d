"""``rnn-studio launch``: start a distributed training job (MXNet's parameter-server KVStore).

On this machine it starts one scheduler, ``servers`` servers and ``workers`` workers as
processes on the loopback interface, with the ``DMLC_*`` variables ps-lite reads; each worker
runs the given train command with ``--kvstore dist_sync`` (added when missing). Their output
comes through line by line, prefixed with the role and its number (a worker's number is its
KVStore rank + 1 once it says its rank through a pipe of its own: training/rank_channel.py).
The launcher

- times out with a message naming the roles that never connected (a known way such launches
  hang: one process missing and every other waits for it forever);
- stops every process (each by its own process group, never by name) when one fails, and on
  Ctrl-C, SIGTERM or SIGHUP first asks the workers to stop (they agree on a step and save),
  then, on a second one, kills;
- exits with the workers' status.

With a hosts file it prints what each host must run instead (see the README, "Beyond one
machine"): scheduler and servers on the first hosts, workers spread over all.
"""
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import List, Optional, TextIO

from engine.errors import StudioError
from engine.cli.stop_signals import STOP_SIGNALS, after_hangup, say, signal_name
from engine.training import rank_channel
from engine.kinds import names as kind_names

CONNECTED = re.compile(r"(is connected to others|the scheduler is connected to)")
PS_LITE_LINE = re.compile(r"ps-lite/src/")     # ps-lite's own log lines (PS_VERBOSE=1)
KVSTORE_FLAG = "--kvstore"


@dataclass(frozen=True)
class _Rank:
    """A worker's KVStore rank, as it told it through its rank pipe."""
    rank: int


@dataclass
class Role:
    name: str                        # "scheduler", "server 1", "worker 2"
    kind: str                        # the DMLC_ROLE
    command: List[str]
    process: Optional[subprocess.Popen] = None
    connected: bool = False
    last_output: float = 0.0         # when it last printed a line (time.time())
    said_stopped: bool = False       # its being stopped (SIGSTOP) was reported


def is_stopped(process: subprocess.Popen) -> bool:
    """Whether ``process`` is stopped (SIGSTOP, Ctrl-Z): state T in /proc (Linux; elsewhere
    the stall timeout alone finds it)."""
    try:
        with open(f"/proc/{process.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except (OSError, IndexError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_command(train_command: List[str]) -> List[str]:
    """The train command as each worker runs it: ``rnn-studio`` dropped, ``--kvstore
    dist_sync`` added unless a dist kvstore is given."""
    command = list(train_command)
    if command and os.path.basename(command[0]) in ("rnn-studio", "rnn_studio"):
        command = command[1:]
    if len(command) < 2 or command[1] != "train" or command[0] not in kind_names():
        raise StudioError("launch runs a train command: rnn-studio launch --workers N -- "
                          + " (or ".join(f"{k} train ..." for k in kind_names())
                          + ")" * (len(kind_names()) - 1))
    if KVSTORE_FLAG in command:
        given = command[command.index(KVSTORE_FLAG) + 1:][:1]
        if not given or not given[0].startswith("dist_"):
            raise StudioError(f"launch needs --kvstore dist_sync or dist_async, not "
                              f"{' '.join(given) or 'nothing'}")
    else:
        command += [KVSTORE_FLAG, "dist_sync"]
    return command


def job_environment(workers: int, servers: int, host: str, port: int,
                    threads: Optional[int]) -> dict:
    env = {"DMLC_PS_ROOT_URI": host, "DMLC_PS_ROOT_PORT": str(port),
           "DMLC_NUM_WORKER": str(workers), "DMLC_NUM_SERVER": str(servers),
           "PS_VERBOSE": "1"}            # ps-lite then says when each node connected
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


class Launch:
    """One job on this machine: start, relay output, watch, stop."""

    def __init__(self, workers: int, servers: int, train_command: List[str],
                 connect_timeout: float = 60.0, port: Optional[int] = None,
                 threads: Optional[int] = None, out: TextIO = sys.stdout,
                 verbose: bool = False, program: Optional[List[str]] = None,
                 stall_timeout: float = 600.0):
        if workers < 1 or servers < 1:
            raise StudioError("launch needs at least one worker and one server")
        self.port = port or free_port()
        if threads is None and "OMP_NUM_THREADS" not in os.environ:
            threads = max(1, (os.cpu_count() or 1) // workers)    # the cores shared out
        self.env = dict(os.environ, DMLC_NODE_HOST="127.0.0.1", **job_environment(
            workers, servers, "127.0.0.1", self.port, threads))
        python = [sys.executable]
        serve = python + ["-c", "import mxnet"]     # with DMLC_ROLE set, importing MXNet serves
        self.roles = [Role("scheduler", "scheduler", serve)]
        self.roles += [Role(f"server {i + 1}", "server", serve) for i in range(servers)]
        # ``program``: what runs the train command (the tests' worker reports its parameters)
        work = (program or python + ["-m", "engine"]) + worker_command(train_command)
        self.roles += [Role(f"worker {i + 1}", "worker", work) for i in range(workers)]
        self.connect_timeout, self.out, self.verbose = connect_timeout, out, verbose
        self.stall_timeout = stall_timeout
        self.lines: "queue.Queue" = queue.Queue()
        self.width = max(len(r.name) for r in self.roles)

    def run(self) -> int:
        """Start everything, relay the output, and return the workers' exit status."""
        previous = {s: signal.signal(s, self._interrupt) for s in STOP_SIGNALS} \
            if _main_thread() else {}
        self.interrupts = 0
        try:
            for role in self.roles:
                self._start(role)
            return self._watch()
        finally:
            self.stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _start(self, role: Role):
        env = dict(self.env, DMLC_ROLE=role.kind)
        rank_pipe = os.pipe() if role.kind == "worker" else None
        if rank_pipe:
            env[rank_channel.ENV] = str(rank_pipe[1])
        try:
            role.process = subprocess.Popen(
                role.command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, pass_fds=rank_pipe[1:] if rank_pipe else (),
                start_new_session=True)                  # its own group: stopped alone
        finally:
            if rank_pipe:
                os.close(rank_pipe[1])                   # the worker holds the write end
        threading.Thread(target=self._read, args=(role,), daemon=True).start()
        if rank_pipe:
            threading.Thread(target=self._read_rank, args=(role, rank_pipe[0]),
                             daemon=True).start()

    def _read_rank(self, role: Role, fd: int):
        rank = rank_channel.read_rank(fd)
        if rank is not None:
            self.lines.put((role, _Rank(rank)))

    def _read(self, role: Role):
        buffer = b""
        for chunk in iter(lambda: role.process.stdout.read1(4096), b""):
            buffer += chunk
            *complete, buffer = re.split(rb"[\r\n]", buffer)
            for line in complete:
                self.lines.put((role, line.decode("utf-8", "replace")))
        if buffer:
            self.lines.put((role, buffer.decode("utf-8", "replace")))

    def _show(self, role: Role, line):
        role.last_output = time.time()
        if isinstance(line, _Rank):    # named by launch order until the KVStore gives it a rank
            role.name = f"worker {line.rank + 1}"
            return
        if CONNECTED.search(line):
            role.connected = True
        if not line.strip() or (PS_LITE_LINE.search(line) and not self.verbose):
            return
        print(f"[{role.name:<{self.width}}] {line}", file=self.out, flush=True)

    def _drain(self, wait: float):
        try:
            role, line = self.lines.get(timeout=wait)
            self._show(role, line)
            while True:
                self._show(*self.lines.get_nowait())
        except queue.Empty:
            pass

    def _watch(self) -> int:
        started = time.time()
        workers = [r for r in self.roles if r.kind == "worker"]
        while True:
            self._drain(0.2)
            failed = [r for r in self.roles if r.process.poll() not in (None, 0)]
            if failed and not self.interrupts:
                self._drain(0.5)
                names = ", ".join(f"{r.name} (exit {r.process.returncode})" for r in failed)
                self._say(f"{names} failed: stopping the others")
                return next((r.process.returncode for r in failed if r.kind == "worker"), 1) or 1
            if all(r.process.poll() is not None for r in workers):
                self._drain(0.5)
                codes = [r.process.returncode for r in workers]
                return next((c for c in codes if c != 0), 0)
            missing = [r.name for r in self.roles if not r.connected]
            if missing and time.time() - started > self.connect_timeout:
                self._say(f"timed out after {self.connect_timeout:g} s: {', '.join(missing)} "
                          f"never connected to the scheduler at 127.0.0.1:{self.port}")
                return 1
            if self._stalled(workers, started):
                return 1

    def _stalled(self, workers: List[Role], started: float) -> bool:
        """A worker that makes no progress holds every other one (they wait for it at each
        step): say so at once where it is stopped, and end the job once no worker has printed
        anything for the stall timeout (what they learned is in the last checkpoint)."""
        now = time.time()
        for role in workers:
            if not role.said_stopped and role.process.poll() is None and \
                    is_stopped(role.process):
                role.said_stopped = True
                self._say(f"{role.name} is stopped (SIGSTOP or Ctrl-Z?) and the others wait for "
                          f"it: continue it (kill -CONT {role.process.pid}), or the job ends "
                          f"after {self.stall_timeout:g} s without progress")
        quiet_since = max(max(r.last_output for r in workers), started)
        if now - quiet_since < self.stall_timeout:
            return False
        self._say(f"no worker made progress for {self.stall_timeout:g} s: ending the job (what "
                  f"was learned is in the run's last checkpoint; resume it with --resume)")
        return True

    def _say(self, message: str):
        say(f"rnn-studio launch: {message}")

    def _interrupt(self, signum, frame):
        """Ctrl-C, SIGTERM or SIGHUP: the workers are asked to stop (they save); a second one
        kills all."""
        self.interrupts += 1
        if self.interrupts == 1:
            self._say(f"stopping ({signal_name(signum)}): the workers finish their step and "
                      f"save (Ctrl-C again to kill)")
            after_hangup(signum)
            for role in self.roles:
                if role.kind == "worker" and role.process and role.process.poll() is None:
                    os.killpg(role.process.pid, signal.SIGINT)
        else:
            self.stop_all()

    def stop_all(self, grace: float = 15.0):
        """Let the scheduler and servers finish (they exit once every worker has left), then
        end whatever is still running: SIGTERM, then SIGKILL, each by its own process group."""
        deadline = time.time() + grace
        for role in self.roles:
            if role.process is None:
                continue
            if role.kind == "worker" and role.process.poll() is None:
                os.killpg(role.process.pid, signal.SIGTERM)
        for role in self.roles:
            if role.process is None:
                continue
            try:
                role.process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                _end(role.process)


def _end(process: subprocess.Popen):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=5)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def host_plan(hosts: List[str], workers: int, servers: int, train_command: List[str],
              port: int) -> str:
    """What each host must run for a job over ``hosts`` (the first runs the scheduler; servers
    and workers go round the list), as shell lines to paste or run over ssh."""
    if not hosts:
        raise StudioError("the hosts file names no hosts (one host name or address per line)")
    root = hosts[0]
    common = job_environment(workers, servers, root, port, None)
    work = " ".join(["rnn-studio"] + [shlex.quote(a) for a in worker_command(train_command)])
    lines = [f"# {workers} worker(s) and {servers} server(s) over {len(hosts)} host(s); the "
             f"scheduler listens on {root}:{port}. Each host needs RNN Studio installed, the "
             f"data at the same path, and (to resume) the run folder shared with rank 0's host.",
             "# Run each line on its host; set DMLC_INTERFACE to the network interface "
             "(e.g. eth0) if the host has several."]
    env = " ".join(f"{k}={v}" for k, v in common.items() if k != "PS_VERBOSE")
    serve = "python -c 'import mxnet'"
    lines.append(f"{root}: DMLC_ROLE=scheduler DMLC_NODE_HOST={root} {env} {serve}")
    for i in range(servers):
        host = hosts[i % len(hosts)]
        lines.append(f"{host}: DMLC_ROLE=server DMLC_NODE_HOST={host} {env} {serve}")
    for i in range(workers):
        host = hosts[i % len(hosts)]
        lines.append(f"{host}: DMLC_ROLE=worker DMLC_NODE_HOST={host} {env} {work}")
    return "\n".join(lines)


def read_hosts(path) -> List[str]:
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as err:
        raise StudioError(f"{path}: cannot read the hosts file ({err.strerror})") from None
    return [line.split("#")[0].strip() for line in text.splitlines()
            if line.split("#")[0].strip()]
