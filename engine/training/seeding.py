"""Seeding every random source the engine uses."""
import random

import mxnet as mx
import numpy as np


def seed_everything(seed: int):
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    mx.random.seed(seed % (2 ** 31))


def seed_step(seed: int, step: int):
    """Re-seed MXNet's generator for one training step.

    MXNet cannot save its random generator's state, so dropout masks are made a function of
    (seed, step): a run resumed at step s draws exactly the masks the uninterrupted run drew.
    """
    mx.random.seed((seed * 1_000_003 + step) % (2 ** 31))
