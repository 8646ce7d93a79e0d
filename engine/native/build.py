"""Build the optional native libraries into ``lib/`` beside this file:
``python -m engine.native.build [lanes|onednn]`` (both when not told); ``make setup`` runs it.

``liblanes.so`` (``lanes.c``): the sampler's matrix products for many streams at once, with each
stream's bits fixed (lanes.py). Plain C, no dependencies: only a C compiler (``gcc``). Without it
sampling runs on numpy, one matrix-vector product per stream.

``libornn.so`` (``onednn_rnn.cpp``): the oneDNN RNN library for bf16 training.

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
LANES_SOURCE = HERE / "lanes.c"
LANES_LIBRARY = HERE / "lib" / "liblanes.so"
# only the C functions are exported: nothing of oneDNN 3.x's C++ beside libmxnet.so's oneDNN 2.x
EXPORTS = "{ global: ornn_*; local: *; };\n"


def onednn_dirs():
    """(include dir, lib dir) of the oneDNN wheels in this Python's environment, or None."""
    prefix = Path(sys.prefix)
    include, lib = prefix / "include", prefix / "lib"
    if (include / "oneapi" / "dnnl" / "dnnl.hpp").is_file() and (lib / "libdnnl.so.3").exists():
        return include, lib
    return None


def _compile(cmd, compiler: str, target: Path):
    """Run ``cmd`` (which writes ``target``.tmp), then move the result into place."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(f"no compiler ({compiler}) found") from None
    if done.returncode != 0:
        raise RuntimeError(f"{compiler} failed:\n{done.stderr.strip()[-2000:]}")
    target.with_suffix(".so.tmp").replace(target)
    return target


def build_lanes(compiler: str = "gcc") -> Path:
    """``liblanes.so``. -ffp-contract=off: the compiler fuses no multiply-add on its own, so every
    product is exactly the chain of fma() lanes.c writes."""
    LANES_LIBRARY.parent.mkdir(exist_ok=True)
    cmd = [compiler, "-O2", "-std=c11", "-shared", "-fPIC", "-fvisibility=hidden",
           "-ffp-contract=off", str(LANES_SOURCE), "-lm",
           "-o", str(LANES_LIBRARY.with_suffix(".so.tmp"))]
    return _compile(cmd, compiler, LANES_LIBRARY)


def build(compiler: str = "g++") -> Path:
    dirs = onednn_dirs()
    if dirs is None:
        raise RuntimeError(f"oneDNN's headers or libdnnl.so.3 are not in {sys.prefix} "
                           f"(pip install 'rnn-studio[bf16]' installs them)")
    include, lib = dirs
    version_script = HERE / "exports.map"
    version_script.write_text(EXPORTS)
    LIBRARY.parent.mkdir(exist_ok=True)
    cmd = [compiler, "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
           f"-I{include}", str(SOURCE), f"-L{lib}", "-ldnnl", f"-Wl,-rpath,{lib}",
           f"-Wl,--version-script={version_script}", "-o", str(LIBRARY.with_suffix(".so.tmp"))]
    try:
        return _compile(cmd, compiler, LIBRARY)
    finally:
        version_script.unlink(missing_ok=True)


# what each library is for, and what works without it
LIBRARIES = {"lanes": (build_lanes, "sampling kernel not built (sampling runs on numpy, one "
                                    "matrix-vector product per stream)"),
             "onednn": (build, "oneDNN RNN library not built (bf16 training unavailable; "
                               "fp32 works)")}


def main(names=()) -> int:
    """Build the named libraries (all when none are named); one that cannot be built says why
    and the rest go on: both are optional."""
    names = list(names) or list(LIBRARIES)
    for name in names:
        if name not in LIBRARIES:
            print(f"unknown library {name!r}; choose from {', '.join(LIBRARIES)}")
            return 2
        make, without = LIBRARIES[name]
        try:
            print(f"built {make()}")
        except RuntimeError as err:
            print(f"{without}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
