"""Running out of memory, told apart from bugs: the user's situation (a model or batch too big
for this machine), worded with what to shrink.

MXNet (retired upstream, 1.9.1) reports a failed allocation as ``MXNetError: Failed to allocate
CPU Memory`` (its pooled storage manager), and oneDNN's as ``could not create a primitive`` when
the address space is nearly used up (both seen under ``prlimit --as``); Python's own is
``MemoryError``. None of them is an OSError, so disk.py's check does not see them. The bf16
oneDNN layer's library says ``could not create a memory object (status 1)`` (1 is oneDNN's
``dnnl_out_of_memory``), seen under ``prlimit --as=1500000000`` on a 3x1024 model, as a
``NativeError`` once engine.mxnet_failures.settled has taken it from behind MXNet's custom-op
error.

Under an address-space limit (``ulimit -v``, ``prlimit --as``) an allocation can fail anywhere:
in MXNet's pool, in oneDNN, in a thread MXNet starts (and one that fails inside MXNet's own
worker threads aborts the process, with no chance to say anything). ``require_room`` therefore
refuses a training before its model is built when what it will surely allocate does not fit in
what the limit leaves: nothing is allocated, nothing lost, and the words are the same."""
import resource
from typing import Optional

from engine.errors import StudioError
from engine.wording import setting

_MXNET_WORDS = ("failed to allocate", "could not create a primitive", "std::bad_alloc",
                "out of memory", "cannot allocate memory", "could not create a memory object",
                "(status 1)")


class OutOfMemory(StudioError):
    """Memory ran out: the machine's situation, worded with what to shrink. Its own type so a
    save that fails for it can clean up as after a failed write (engine/storage/runs.py)."""


def as_out_of_memory(err: BaseException) -> Optional[OutOfMemory]:
    """The one-line error for people when ``err`` means memory ran out; None otherwise."""
    if isinstance(err, MemoryError):
        said = "no memory left"
    else:
        import mxnet as mx
        from engine.native.onednn_rnn import NativeError
        if not isinstance(err, (mx.base.MXNetError, NativeError)):
            return None
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        said = next((line for line in lines
                     if any(w in line.lower() for w in _MXNET_WORDS)), None)
        if said is None:
            return None
        said = said.split("Error: ", 1)[-1][:120]
    return _out_of_memory(said)


def _out_of_memory(said: str) -> OutOfMemory:
    return OutOfMemory(f"out of memory ({said}): the model and its batches do not fit in this "
                       f"machine's memory; shrink ", setting("hidden_size"), ", ",
                       setting("num_layers"), ", ", setting("batch_size"), " or ",
                       setting("seq_len"), " (or close other programs) and try again")


# What training allocates for certain, per weight: the weight, its gradient and Adam's two
# moment estimates, all float32. And at least this much more for the first step (its batches,
# MXNet's and oneDNN's buffers): a one-layer 32-wide generator's first step grew the address
# space by 48-335 MB here (AMX Xeon, one and two threads), so 32 MB is below any of them.
BYTES_PER_WEIGHT = 16
FIRST_STEP_BYTES = 32 << 20


def address_space_left(status: str = "/proc/self/status") -> Optional[int]:
    """Bytes this process may still map under its address-space limit (RLIMIT_AS); None where
    there is no limit or it cannot be read."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    try:
        for line in open(status, encoding="ascii", errors="replace"):
            if line.startswith("VmSize:"):
                return max(0, limit - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        return None
    return None


def require_room(weights: int) -> None:
    """Refuse (OutOfMemory) a training of a model of ``weights`` trainable weights that cannot
    fit under this process's address-space limit, before anything of it is allocated. Only a
    limit is checked: physical memory is shared and moves, and the kernel's own accounting
    decides there; the figure is a floor, so a refusal is never wrong."""
    left = address_space_left()
    needed = weights * BYTES_PER_WEIGHT + FIRST_STEP_BYTES
    if left is not None and needed > left:
        raise _out_of_memory(f"training {weights:,} weights needs at least {_gb(needed)}; this "
                             f"process's address-space limit (ulimit -v) leaves {_gb(left)}")


def _gb(count: int) -> str:
    return f"{count / 2 ** 30:.2f} GB"
