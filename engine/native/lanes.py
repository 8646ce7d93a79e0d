"""The sampler's lanes kernel (``liblanes.so``, built from lanes.c by ``engine.native.build``)
through ctypes: ``y[l] = W x[l]`` for every lane ``l`` in one call, each output element one chain
of fused multiply-adds in a fixed order, so a lane's bits never depend on how many lanes there are
or where it sits (lanes.c says how).

The path (AVX2+FMA, or plain C where the CPU lacks them) is chosen once per process
(``PATH``). Both paths compute the same bits; tests/test_lanes_kernel.py checks it.
"""
import ctypes
from functools import lru_cache
from typing import Optional

import numpy as np

from engine.native import open_library
from engine.native.build import LANES_LIBRARY

PATHS = {0: "c", 1: "avx2+fma"}
BLOCK = 8           # output rows per packed block (lanes.c)


@lru_cache(maxsize=None)
def _load():
    """(library, None) or (None, why it is not there)."""
    lib, why = open_library(LANES_LIBRARY, "the sampling kernel",
                            "`python -m engine.native.build lanes`")
    if lib is None:
        return None, why
    vp, i = ctypes.c_void_p, ctypes.c_int
    lib.lanes_pack.argtypes = [vp, i, i, vp]
    lib.lanes_pack.restype = None
    lib.lanes_products.argtypes = [i, vp, i, i, vp, i, vp, i]
    lib.lanes_products.restype = i
    lib.lanes_best_path.restype = i
    return lib, None


def unavailable_reason() -> Optional[str]:
    """None when the kernel is built and loads, else why not (one line)."""
    return _load()[1]


def best_path() -> Optional[int]:
    """The path this process uses (the fastest the CPU runs), or None without the library."""
    lib = _load()[0]
    return None if lib is None else lib.lanes_best_path()


class PackedWeights:
    """A weight matrix (rows, k) packed once for the kernel: blocks of 8 rows, k-major."""

    def __init__(self, w: np.ndarray):
        w = np.ascontiguousarray(w, dtype=np.float32)
        self.rows, self.k = w.shape
        self.padded = -(-self.rows // BLOCK) * BLOCK
        self.data = np.empty(self.padded * self.k, dtype=np.float32)
        self._lib = _load()[0]
        self._path = self._lib.lanes_best_path()
        self._lib.lanes_pack(w.ctypes.data, self.rows, self.k, self.data.ctypes.data)

    def products(self, x: np.ndarray, path: Optional[int] = None) -> np.ndarray:
        """``x @ w.T`` (lanes, rows) for ``x`` (lanes, k), float32; ``path`` None = this
        process's path (another one only to compare paths)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.k:
            raise ValueError(f"x must be (lanes, {self.k}), not {x.shape}")
        out = np.empty((len(x), self.padded), dtype=np.float32)
        path = self._path if path is None else path
        if self._lib.lanes_products(path, self.data.ctypes.data, self.rows, self.k,
                                    x.ctypes.data, len(x), out.ctypes.data, self.padded) != 0:
            raise ValueError(f"the {PATHS.get(path, path)} path does not run on this CPU")
        return out[:, :self.rows] if self.padded != self.rows else out
