"""What a failure inside MXNet really was, and MXNet left quiet after it.

MXNet 1.9.1 (retired upstream) runs work asynchronously: one failed operator fails every operator
queued after it, and MXNet keeps those errors and raises them again at the next wait, and at
interpreter exit from its own atexit hook (a traceback on stderr after the one-line error). And
a failure of a Python custom operator (the oneDNN RNN layer) reaches the waiting thread only as
a generic "Check failed: ... kCustomOpForward": the layer records the native library's own error
(engine.native.onednn_rnn.record_failure) and ``settled`` puts it back."""
import sys

_MOST_KEPT = 64        # a bound on the errors kept, so the drain cannot loop forever


def settled(err: BaseException) -> BaseException:
    """After ``err`` ended some work: drain the errors MXNet still keeps, and return what
    failed: the native library's error where MXNet hid one behind its custom-op failure, else
    ``err``. Costs nothing where MXNet was never loaded."""
    mx = sys.modules.get("mxnet")
    if mx is None:
        return err
    for _ in range(_MOST_KEPT):
        try:
            mx.nd.waitall()      # raises (and forgets) one kept error per call
            break
        except mx.base.MXNetError:
            continue
    from engine.native.onednn_rnn import failure_behind
    return failure_behind(err)
