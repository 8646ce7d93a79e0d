"""RNN Studio's engine: models, training, sampling, checkpoints and export (no Qt here).

Importing the package sets two MXNet/OpenMP defaults that must be in place before
``mxnet`` itself is imported (later imports of mxnet see them):

* ``OMP_WAIT_POLICY=PASSIVE``: with two OpenMP threads on a busy machine MXNet stalls
  3-5x (threads spin while the other core is taken); passive waiting removes that.
* ``MXNET_USE_MKLDNN_RNN=1``: the oneDNN fused RNN is 4-10x faster than MXNet's own.

Both are ``setdefault``: a user's own setting wins.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
os.environ.setdefault("MXNET_USE_MKLDNN_RNN", "1")
# MXNet 1.9.1 prints a warning per hybridized block about a Python 3 pickle default; silence it.
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

__version__ = "0.1.0"
