"""What the machine can do to a file operation (a full disk, a read-only folder, a name too
long, no permission), told apart from bugs and worded for people.

These are the user's situation, not RNN Studio's fault: the CLI exits 2 with one line, the app
shows the line, and nothing asks for a bug report.

MXNet writes its files (parameters, NDArrays, a symbol) through its own C++ streams, which
report a full disk as ``MXNetError: FileStream.Write incomplete`` instead of an ``OSError``, and
which ignore a failure of the final flush: a file whose last buffered block did not fit is left
truncated without any error (seen on a real full tmpfs). ``mxnet_write`` turns both into the
``OSError`` the rest of the engine handles.
"""
import errno
import os
from pathlib import Path
from typing import Callable, Optional

# errors that describe the machine or the user's files, not a bug
ENVIRONMENT = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
               errno.ENAMETOOLONG, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP,
               errno.EFBIG, errno.EMFILE, errno.ENFILE, errno.EIO, errno.EEXIST, errno.ENOTEMPTY,
               errno.EXDEV, errno.EBUSY, errno.ETXTBSY}
_NEARLY_FULL = 1 << 20          # a failed write with less free space than this: the disk is full


def is_environment(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in ENVIRONMENT


def reason(err: OSError) -> str:
    """``no space left on device``: the error's words, as the middle of a sentence."""
    words = err.strerror or str(err)
    if words[1:2].isupper():      # a name (MXNet ...), not a capital to lower
        return words
    return words[:1].lower() + words[1:]


def describe(err: OSError) -> str:
    """One line: the file and what the machine said (``/x/y: read-only file system``)."""
    names = " -> ".join(str(n) for n in (err.filename, err.filename2) if n is not None)
    return f"{names}: {reason(err)}" if names else reason(err)


def free_bytes(folder) -> Optional[int]:
    """Space left to write in ``folder`` (as this user: root may use the reserved blocks)."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):     # no statvfs on Windows
        return None
    blocks = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
    return blocks * st.f_frsize


def mxnet_write(write: Callable[[], None], path, check: Optional[Callable[[], None]] = None):
    """Run ``write()``, an MXNet call that writes ``path``, and verify what it wrote by reading it
    back with ``check()`` (default: ``nd.load``). A failed or incomplete write raises
    ``OSError``: ENOSPC when the disk is (nearly) full, else EIO with MXNet's own words; one for
    want of memory raises engine.memory.OutOfMemory."""
    import mxnet as mx
    path = Path(path)
    try:
        write()
        (check or (lambda: mx.nd.load(str(path))))()
    except mx.base.MXNetError as err:
        from engine.memory import as_out_of_memory
        if (memory := as_out_of_memory(err)) is not None:   # MXNet's buffer for the file
            raise memory from None                         # (seen under prlimit --as)
        free = free_bytes(path.parent)
        if free is not None and free < _NEARLY_FULL:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        said = lines[-1] if lines else type(err).__name__     # MXNet's message is its last line
        raise OSError(errno.EIO, f"MXNet could not write the file ({said[:200]})",
                      str(path)) from None
