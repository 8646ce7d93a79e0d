"""How a launched worker tells ``rnn-studio launch`` its KVStore rank: a pipe, not its output.

``launch`` starts every worker with the write end of a pipe of its own, named by
``RNN_STUDIO_RANK_FD``; once the worker's KVStore says its rank, ``Cluster`` writes the rank
there (one line, a number) and closes it. The launcher then names that worker's lines by rank
(``worker 1`` is rank 0) instead of by the order it was started in. A worker started any other
way (by hand, from a hosts plan) has no such pipe and writes nothing.
"""
import os
from typing import Optional

ENV = "RNN_STUDIO_RANK_FD"


def announce_rank(rank: int):
    """Write ``rank`` to the launcher's pipe, if this process was given one."""
    fd = os.environ.pop(ENV, None)         # taken once: child processes do not inherit it
    if not (fd and fd.isdigit()):
        return
    try:
        os.write(int(fd), f"{rank}\n".encode())
        os.close(int(fd))
    except OSError:                        # the launcher is gone: nobody to tell
        pass


def read_rank(fd: int) -> Optional[int]:
    """The rank a worker wrote to the read end ``fd`` (None if it ended without one)."""
    data = b""
    try:
        while chunk := os.read(fd, 64):
            data += chunk
    finally:
        os.close(fd)
    text = data.decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
