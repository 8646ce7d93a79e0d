"""Build the optional oneDNN RNN library (``onednn_rnn.cpp``) into ``lib/`` beside this file:
``python -m engine.native.build``; ``make setup`` runs it.

It compiles against the oneDNN of the pinned ``onednn-cpu-gomp`` / ``onednn-devel-cpu-gomp``
wheels (headers in ``<venv>/include``, ``libdnnl.so.3`` in ``<venv>/lib``; GNU OpenMP, the
runtime libmxnet.so uses too). The library is optional: when it cannot be built, this says why
and exits 0; training then runs in fp32 on MXNet's fused layer, and ``--precision bf16`` says
that the library is missing.
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "onednn_rnn.cpp"
LIBRARY = HERE / "lib" / "libornn.so"   # a folder that is no package: not taken for a module
# only the C functions are exported: nothing of oneDNN 3.x's C++ beside libmxnet.so's oneDNN 2.x
EXPORTS = "{ global: ornn_*; local: *; };\n"


def onednn_dirs():
    """(include dir, lib dir) of the oneDNN wheels in this Python's environment, or None."""
    prefix = Path(sys.prefix)
    include, lib = prefix / "include", prefix / "lib"
    if (include / "oneapi" / "dnnl" / "dnnl.hpp").is_file() and (lib / "libdnnl.so.3").exists():
        return include, lib
    return None


def build(compiler: str = "g++") -> Path:
    dirs = onednn_dirs()
    if dirs is None:
        raise RuntimeError(f"oneDNN's headers or libdnnl.so.3 are not in {sys.prefix} "
                           f"(pip install 'rnn-studio[bf16]' installs them)")
    include, lib = dirs
    version_script = HERE / "exports.map"
    version_script.write_text(EXPORTS)
    LIBRARY.parent.mkdir(exist_ok=True)
    tmp = LIBRARY.with_suffix(".so.tmp")
    cmd = [compiler, "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
           f"-I{include}", str(SOURCE), f"-L{lib}", "-ldnnl", f"-Wl,-rpath,{lib}",
           f"-Wl,--version-script={version_script}", "-o", str(tmp)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(f"no C++ compiler ({compiler}) found") from None
    finally:
        version_script.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"{compiler} failed:\n{done.stderr.strip()[-2000:]}")
    tmp.replace(LIBRARY)
    return LIBRARY


def main() -> int:
    try:
        path = build()
    except RuntimeError as err:
        print(f"oneDNN RNN library not built (bf16 training unavailable; fp32 works): {err}")
        return 0
    print(f"built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
