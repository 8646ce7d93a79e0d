"""Optional compiled parts (see build.py): the oneDNN RNN library and the sampler's lanes kernel."""
import ctypes
from pathlib import Path


def open_library(path: Path, what: str, how_to_build: str):
    """(the library, None) or (None, why it is not there), loaded with RTLD_LOCAL (ctypes'
    default on Linux): its symbols stay its own."""
    if not path.is_file():
        return None, f"{what} is not built (run `make setup`, or {how_to_build})"
    try:
        return ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL), None
    except OSError as err:
        return None, f"{what} does not load: {err}"
