"""Test-session settings: one CPU thread per pytest-xdist worker so that two workers share two cores cleanly,
and derandomized Hypothesis everywhere so that CI is deterministic."""

import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")
settings.register_profile("spinaptic", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "spinaptic"))

if os.environ.get("PYTEST_XDIST_WORKER"):
    import numba
    import torch

    torch.set_num_threads(1)
    numba.set_num_threads(1)
