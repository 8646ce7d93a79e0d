"""The engine never imports Qt: the CLI and exported models work without a GUI toolkit."""
import subprocess
import sys

from .conftest import ROOT

CHECK = """
import importlib, pkgutil, sys
import engine, corpora
for package in (engine, corpora):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):        # that one runs the command
            importlib.import_module(info.name)
qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "pyqtgraph", "desktop")))
print(qt)
sys.exit(1 if qt else 0)
"""


def test_engine_and_corpora_never_import_qt():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
