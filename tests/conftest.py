"""Test-session settings: one CPU thread per pytest-xdist worker so that two workers share two cores cleanly."""

import os

import matplotlib

matplotlib.use("Agg")

if os.environ.get("PYTEST_XDIST_WORKER"):
    import numba
    import torch

    torch.set_num_threads(1)
    numba.set_num_threads(1)
