"""The package build also builds engine/native's two optional libraries (pyproject.toml holds the
metadata; this file only adds that step).

``pip install .`` runs ``build_py`` below, which compiles ``liblanes.so`` (the sampler's kernel,
needs only gcc) and ``libornn.so`` (bf16 training, against the pinned oneDNN wheels that
pyproject.toml lists as build requirements) into the package's ``engine/native/lib``. Where a
compiler or the wheels are missing, it prints the same words as ``python -m engine.native.build``
and the install still succeeds: sampling then runs on numpy and training in fp32.
"""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent


def _native_build():
    """engine/native/build.py, loaded by path: importing the ``engine`` package would pull in
    what the build environment lacks (it needs only the standard library)."""
    spec = importlib.util.spec_from_file_location("_rnn_studio_native_build",
                                                  HERE / "engine" / "native" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithNative(build_py):
    """build_py, then the native libraries beside the copied package (in the source tree for an
    editable install, whose package is the source tree)."""

    def run(self):
        super().run()
        native = _native_build()
        folder = (native.LIBRARY.parent if self.editable_mode
                  else Path(self.build_lib) / "engine" / "native" / "lib")
        native.build_all(folder, say=lambda line: print(f"rnn-studio native: {line}", flush=True))


class NativeDistribution(Distribution):
    """The wheel holds compiled libraries: tag it for this platform, not as pure Python."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithNative}, distclass=NativeDistribution)
