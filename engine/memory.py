"""Running out of memory, told apart from bugs: the user's situation (a model or batch too big
for this machine), worded with what to shrink.

MXNet (retired upstream, 1.9.1) reports a failed allocation as ``MXNetError: Failed to allocate
CPU Memory`` (its pooled storage manager), and oneDNN's as ``could not create a primitive`` when
the address space is nearly used up (both seen under ``prlimit --as``); Python's own is
``MemoryError``. None of them is an OSError, so disk.py's check does not see them. The bf16
oneDNN layer's library says ``could not create a memory object (status 1)`` (1 is oneDNN's
``dnnl_out_of_memory``), seen under ``prlimit --as=1500000000`` on a 3x1024 model, as a
``NativeError`` once engine.mxnet_failures.settled has taken it from behind MXNet's custom-op
error."""
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
    return OutOfMemory(f"out of memory ({said}): the model and its batches do not fit in this "
                       f"machine's memory; shrink ", setting("hidden_size"), ", ",
                       setting("num_layers"), ", ", setting("batch_size"), " or ",
                       setting("seq_len"), " (or close other programs) and try again")
