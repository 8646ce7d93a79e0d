"""The signals that ask running work to stop and keep what it did.

Ctrl-C (SIGINT); SIGTERM, which service managers (systemd), container runtimes (Docker),
batch schedulers (Slurm) and a shutdown send; SIGHUP, when the terminal closes. The CLI's
training and ``launch`` treat them alike: stop at the next step, save, say so; a second one
aborts.
"""
import os
import signal
import sys

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def say(message: str):
    """Print to stderr, unless the terminal is gone (a write to a hung-up one fails)."""
    try:
        print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def after_hangup(signum: int):
    """After SIGHUP from a terminal that closed, every write to it fails (EIO): what the work
    still prints goes to /dev/null instead, so that the checkpoint gets saved."""
    if signum != getattr(signal, "SIGHUP", None):
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            if os.isatty(stream.fileno()):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except (OSError, ValueError):
            pass
