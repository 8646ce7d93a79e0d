"""Build the optional native libraries into ``lib/`` beside this file:
``python -m engine.native.build [lanes|onednn]`` (both when not told); ``make setup`` runs it, and
so does the package build (``pip install .``: setup.py's build step writes them into the package).

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
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "onednn_rnn.cpp"
LIBRARY = HERE / "lib" / "libornn.so"   # a folder that is no package: not taken for a module
LANES_SOURCE = HERE / "lanes.c"
LANES_LIBRARY = HERE / "lib" / "liblanes.so"
# only the C functions are exported: nothing of oneDNN 3.x's C++ beside libmxnet.so's oneDNN 2.x
EXPORTS = "{ global: ornn_*; local: *; };\n"


def onednn_dirs():
    """(include dir, lib dir) of the oneDNN wheels, or None: in this Python's environment (a venv
    where ``rnn-studio[bf16]`` is installed), else where pip put the wheels themselves, which in
    pip's isolated build environment (``pip install .``, the wheels as build requirements) is a
    temporary prefix that is not ``sys.prefix``."""
    prefix = Path(sys.prefix)
    if _has_onednn(prefix / "include", prefix / "lib"):
        return prefix / "include", prefix / "lib"
    header = _wheel_file("onednn-devel-cpu-gomp", "oneapi/dnnl/dnnl.hpp")
    library = _wheel_file("onednn-cpu-gomp", "libdnnl.so.3")
    if header is not None and library is not None:
        include, lib = header.parent.parent.parent, library.parent
        if _has_onednn(include, lib):
            return include, lib
    return None


def _has_onednn(include: Path, lib: Path) -> bool:
    return (include / "oneapi" / "dnnl" / "dnnl.hpp").is_file() and (lib / "libdnnl.so.3").exists()


def _wheel_file(distribution: str, tail: str):
    """Where the installed ``distribution`` put its file whose path ends with ``tail``, or None."""
    try:
        files = metadata.distribution(distribution).files or ()
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.as_posix().endswith(tail):
            return Path(file.locate()).resolve()
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


def build_lanes(compiler: str = "gcc", target: Path = LANES_LIBRARY) -> Path:
    """``liblanes.so`` (into ``target``). -ffp-contract=off: the compiler fuses no multiply-add on
    its own, so every product is exactly the chain of fma() lanes.c writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [compiler, "-O2", "-std=c11", "-shared", "-fPIC", "-fvisibility=hidden",
           "-ffp-contract=off", str(LANES_SOURCE), "-lm",
           "-o", str(target.with_suffix(".so.tmp"))]
    return _compile(cmd, compiler, target)


# Where an installed libornn.so finds libdnnl.so.3 at run time. The pinned onednn-cpu-gomp wheel
# puts it in <prefix>/lib, and an installed libornn.so sits in
# <prefix>/lib/python3.X/site-packages/engine/native/lib: five levels up from $ORIGIN.
INSTALLED_RPATH = "$ORIGIN/../../../../.."


def build(compiler: str = "g++", target: Path = LIBRARY) -> Path:
    dirs = onednn_dirs()
    if dirs is None:
        raise RuntimeError(f"oneDNN's headers or libdnnl.so.3 are not in {sys.prefix} "
                           f"(pip install 'rnn-studio[bf16]' installs them)")
    include, lib = dirs
    # the wheels' own lib folder (gone after an isolated build), this environment's, and the
    # installed layout's: the first that holds libdnnl.so.3 at run time wins
    rpaths = [str(lib), str(Path(sys.prefix) / "lib"), INSTALLED_RPATH]
    version_script = target.parent / "exports.map"
    target.parent.mkdir(parents=True, exist_ok=True)
    version_script.write_text(EXPORTS)
    cmd = [compiler, "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
           f"-I{include}", str(SOURCE), f"-L{lib}", "-ldnnl",
           *(f"-Wl,-rpath,{path}" for path in dict.fromkeys(rpaths)),
           f"-Wl,--version-script={version_script}", "-o", str(target.with_suffix(".so.tmp"))]
    try:
        return _compile(cmd, compiler, target)
    finally:
        version_script.unlink(missing_ok=True)


# what each library is for, and what works without it
LIBRARIES = {"lanes": (build_lanes, "sampling kernel not built (sampling runs on numpy, one "
                                    "matrix-vector product per stream)"),
             "onednn": (build, "oneDNN RNN library not built (bf16 training unavailable; "
                               "fp32 works)")}


def build_all(folder: Path = LIBRARY.parent, names=(), say=print):
    """Build the named libraries (all when none are named) into ``folder``; one that cannot be
    built says why (``say``) and the rest go on: both are optional. Returns the built paths."""
    built = []
    for name in list(names) or list(LIBRARIES):
        make, without = LIBRARIES[name]
        target = folder / (LANES_LIBRARY if name == "lanes" else LIBRARY).name
        try:
            built.append(make(target=target))
            say(f"built {built[-1]}")
        except RuntimeError as err:
            say(f"{without}: {err}")
    return built


def main(names=()) -> int:
    unknown = [name for name in names if name not in LIBRARIES]
    if unknown:
        print(f"unknown library {unknown[0]!r}; choose from {', '.join(LIBRARIES)}")
        return 2
    build_all(names=names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
