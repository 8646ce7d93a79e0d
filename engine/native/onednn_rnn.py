"""The oneDNN RNN library (``libornn.so``, built by ``engine.native.build``) through ctypes.

Loaded with RTLD_LOCAL (ctypes' default on Linux), as MXNet loads libmxnet.so: the oneDNN 3.x it
links (libdnnl.so.3) and the oneDNN 2.x inside libmxnet.so never see each other's symbols, and the
library exports only its ``ornn_*`` C functions. Both use GNU OpenMP, but not the same copy where
the build could give the library its own (engine/native/build.py, ``PRIVATE_OPENMP``, says why:
the layer trains 1.5x faster beside MXNet with it on a 2-core AMX machine).
"""
import ctypes
import threading
from functools import lru_cache
from typing import Optional, Sequence

from engine.native import open_library
from engine.native.build import LIBRARY

_ERR = 1024
_f = ctypes.POINTER(ctypes.c_float)
_fpp = ctypes.POINTER(ctypes.c_void_p)


class NativeError(RuntimeError):
    """The library failed (its message says why)."""


# The library's last failure inside MXNet's custom operator: MXNet (1.9.1, retired upstream) runs
# the operator on a worker thread of its own and raises only a generic "Check failed: ...
# kCustomOpForward" in the thread that waits, so the operator keeps the real error here for the
# engine's error translation (failure_behind). One slot, not thread-local: it is written on
# MXNet's thread and read on the one that waited.
_failure_lock = threading.Lock()
_failure: Optional[NativeError] = None


def record_failure(err: NativeError):
    global _failure
    with _failure_lock:
        _failure = err


def failure_behind(err: BaseException) -> BaseException:
    """The library's own error where ``err`` is MXNet's generic custom-operator failure and the
    operator recorded one (taken: it explains one failure only); else ``err`` itself."""
    global _failure
    if type(err).__name__ != "MXNetError" or "CustomOp" not in str(err):
        return err
    with _failure_lock:
        native, _failure = _failure, None
    return native if native is not None else err


@lru_cache(maxsize=None)
def _load():
    """(library, None) or (None, why it is not there)."""
    lib, why = open_library(LIBRARY, "the oneDNN RNN library",
                            "`python -m engine.native.build` after pip install 'rnn-studio[bf16]'")
    if lib is None:
        return None, why
    vp, i, sz, cp = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p
    lib.ornn_create.restype = vp
    lib.ornn_create.argtypes = [i, i, i, i, i, i, i, i, i, cp, sz]
    lib.ornn_destroy.argtypes = [vp]
    lib.ornn_forward.argtypes = [vp, vp, vp, vp, _fpp, vp, vp, vp, cp, sz]
    lib.ornn_backward.argtypes = [vp, vp, vp, vp, _fpp, vp, vp, vp, vp, vp, vp, vp, vp, vp,
                                  _fpp, cp, sz]
    lib.ornn_bf16_supported.argtypes = [cp, sz]
    lib.ornn_info.argtypes = [cp, sz]
    lib.ornn_openmp.argtypes = [cp, sz]
    lib.ornn_matmul_gflops.restype = ctypes.c_double
    lib.ornn_matmul_gflops.argtypes = [i, i, i, i, ctypes.c_double, cp, sz]
    return lib, None


def unavailable_reason() -> Optional[str]:
    """None when the library is built and loads, else why not (one line)."""
    return _load()[1]


def library():
    lib, why = _load()
    if lib is None:
        raise NativeError(why)
    return lib


def info() -> str:
    """e.g. 'oneDNN 3.2.0 (cpu isa: avx2)'."""
    buf = ctypes.create_string_buffer(256)
    library().ornn_info(buf, len(buf))
    return buf.value.decode()


def openmp_runtime() -> str:
    """The file of the OpenMP runtime the library's oneDNN runs its threads on: the private copy
    (``.../libgomp-ornn.so.1``) or the libgomp.so.1 MXNet uses."""
    buf = ctypes.create_string_buffer(4096)
    library().ornn_openmp(buf, len(buf))
    return buf.value.decode()


def matmul_gflops(bf16: bool, m: int, n: int, k: int, seconds: float = 1.0) -> float:
    """GFLOP/s of oneDNN's matmul of (m x k) by (k x n) here, in bf16 or f32: the ceiling the
    RNN primitives' products can reach on this CPU."""
    err = ctypes.create_string_buffer(_ERR)
    rate = library().ornn_matmul_gflops(int(bf16), m, n, k, seconds, err, _ERR)
    if rate < 0:
        raise NativeError(err.value.decode())
    return rate


@lru_cache(maxsize=None)
def bf16_support() -> Optional[str]:
    """None when oneDNN builds bf16 LSTM and GRU training stacks on this CPU, else why not."""
    lib, why = _load()
    if lib is None:
        return why
    buf = ctypes.create_string_buffer(_ERR)
    if lib.ornn_bf16_supported(buf, _ERR):
        return None
    return f"oneDNN has no bf16 LSTM/GRU on this CPU ({buf.value.decode()}; {info()})"


def _pointers(addresses: Sequence[int]):
    return (ctypes.c_void_p * len(addresses))(*addresses)


class Stack:
    """One LSTM/GRU stack of fixed shapes in the library. Addresses are raw f32 data pointers.
    ``other_layouts`` (f32, for tests): the primitive's data in other layouts than the caller's,
    so the conversions that bf16 needs run in f32 too."""

    def __init__(self, mode: str, layers: int, input_size: int, hidden: int, steps: int,
                 batch: int, bf16: bool, training: bool, other_layouts: bool = False):
        lib, err = library(), ctypes.create_string_buffer(_ERR)
        self._lib = lib
        self._handle = lib.ornn_create(0 if mode == "lstm" else 1, layers, input_size, hidden,
                                       steps, batch, int(bf16), int(training),
                                       int(other_layouts), err, _ERR)
        if not self._handle:
            raise NativeError(err.value.decode())

    def _check(self, rc: int, err):
        if rc != 0:
            raise NativeError(err.value.decode())

    def forward(self, x, h0, c0, params, y, hT, cT):
        err = ctypes.create_string_buffer(_ERR)
        self._check(self._lib.ornn_forward(self._handle, x, h0, c0, _pointers(params), y, hT,
                                           cT, err, _ERR), err)

    def backward(self, x, h0, c0, params, y, hT, cT, dy, dhT, dcT, dx, dh0, dc0, dparams):
        err = ctypes.create_string_buffer(_ERR)
        self._check(self._lib.ornn_backward(self._handle, x, h0, c0, _pointers(params), y, hT,
                                            cT, dy, dhT, dcT, dx, dh0, dc0, _pointers(dparams),
                                            err, _ERR), err)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.ornn_destroy(handle)
