"""RNN Studio's engine: models, training, sampling, checkpoints and export (no Qt here).

Importing the package sets MXNet/OpenMP defaults that must be in place before ``mxnet`` itself
is imported (later imports of mxnet see them). All are ``setdefault``: a user's own setting wins.

* ``OMP_NUM_THREADS`` = the core count: MXNet otherwise uses only half the cores for OpenMP.
* ``GOMP_SPINCOUNT=10000`` (unless ``OMP_WAIT_POLICY`` is set): a short spin before OpenMP
  threads sleep. It measured fastest of the three (the README's "Speed": 4,420 chars/s,
  against 2,340 with ``OMP_WAIT_POLICY=PASSIVE`` and 2,320 with one thread).
* ``MXNET_USE_MKLDNN_RNN=1``: the oneDNN fused RNN is 4-10x faster than MXNet's own.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
os.environ.setdefault("MXNET_USE_MKLDNN_RNN", "1")
# MXNet 1.9.1 prints a warning per hybridized block about a Python 3 pickle default; silence it.
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

__version__ = "0.1.0"
