"""RNN Studio's engine: models, training, sampling, checkpoints and export (no Qt here).

Importing the package sets MXNet/OpenMP defaults that must be in place before ``mxnet`` itself
is imported (later imports of mxnet see them). All are ``setdefault``: a user's own setting wins.

* ``OMP_NUM_THREADS`` = the core count: MXNet otherwise uses only half the cores for OpenMP.
* ``GOMP_SPINCOUNT=10000`` (unless ``OMP_WAIT_POLICY`` is set): a short spin before OpenMP
  threads sleep. Measured on the 2-core machine, default model: 6,000 chars/s with MXNet's
  defaults, 9,500 with ``OMP_WAIT_POLICY=PASSIVE``, 11,800 with the short spin (quiet machine).
  On a machine whose other cores are busy, ``OMP_WAIT_POLICY=PASSIVE`` measured faster.
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
