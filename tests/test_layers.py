"""The import graph keeps its floors, without circles.

    desktop/, engine/cli/, engine/__main__.py       the faces (the app, the command line)
    corpora/                                        built-in corpora (uses engine's basics)
    engine/ (all the rest)                          models, training, runs, export: no Qt,
                                                    no corpora, no faces

Imports inside functions count too (they were where the floors used to leak)."""
import ast
import subprocess
import sys

from .conftest import ROOT

FACES = ("engine.__main__",)
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


def module_graph() -> dict:
    """{module: the project's modules it imports anywhere in its code}."""
    paths = {}
    for package in ("engine", "corpora", "desktop"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in paths.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = here[:len(here) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def floor(module: str) -> int:
    if module.startswith(("desktop", "engine.cli")) or module in FACES:
        return 2
    return 1 if module.startswith("corpora") else 0


def test_imports_never_go_up_a_floor():
    upward = [(m, d) for m, deps in module_graph().items() for d in deps if floor(d) > floor(m)]
    assert not upward, upward


def test_no_import_circles():
    graph = module_graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                circles.append(sorted(group))
    for module in graph:
        if module not in index:
            visit(module)
    assert not circles, circles


def test_engine_and_corpora_never_import_qt():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
