"""Test support: run the ``rnn-studio`` command line and kill the process for real (SIGKILL: no
clean-up, no ``finally``, no flushing) right after its N-th file operation inside a folder.

    python tests/crash_at.py N FOLDER COUNT_FILE -- <rnn-studio arguments>

The operations counted are the ones that change what a folder holds: creating a file or a
folder, replacing, renaming or removing one. N = 0 never kills; the number of operations seen is
written to COUNT_FILE when the process exits, so a test can first count, then crash at each.
(tests/cli_server.py runs the same in a forked child, with ``install``.)
"""
import os
import signal
import sys


def install(n: int, folder: str, count_file: str):
    """Count (and at the ``n``-th, SIGKILL this process after) every file operation inside
    ``folder``; returns a function that writes the count to ``count_file``."""
    folder = os.path.realpath(folder)
    count = 0

    def inside(path, dir_fd=None) -> bool:
        if dir_fd is not None:             # shutil.rmtree works relative to open folders
            return True
        path = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        return os.path.realpath(os.path.dirname(os.path.abspath(path))).startswith(folder)

    def counted(fn, creates_only=False):
        def wrapper(path, *args, **kwargs):
            result = fn(path, *args, **kwargs)
            if creates_only and not (args and args[0] & os.O_CREAT):
                return result
            if inside(path, kwargs.get("dir_fd")):
                nonlocal count
                count += 1
                if count == n:
                    os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapper

    for name in ("replace", "rename", "unlink", "remove", "rmdir", "mkdir"):
        setattr(os, name, counted(getattr(os, name)))
    os.open = counted(os.open, creates_only=True)

    def write_count():
        with open(count_file, "w") as f:
            f.write(str(count))
    return write_count


def main():
    n, folder, count_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    cli_args = sys.argv[sys.argv.index("--") + 1:]
    import atexit
    atexit.register(install(n, folder, count_file))
    from engine.cli.main import main as cli_main
    sys.exit(cli_main(cli_args))


if __name__ == "__main__":
    main()
