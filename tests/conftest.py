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


def pytest_configure(config):
    """The controller (or the only process) makes the directory of the session's shared quick runs
    (tests/_quick_runs.py); pytest-xdist workers inherit it through the environment."""
    if not os.environ.get("PYTEST_XDIST_WORKER") and "SPINAPTIC_TEST_QUICK_DIR" not in os.environ:
        import tempfile

        os.environ["SPINAPTIC_TEST_QUICK_DIR"] = tempfile.mkdtemp(prefix="spinaptic-quick-runs-")
        config._spinaptic_quick_dir = os.environ["SPINAPTIC_TEST_QUICK_DIR"]


def pytest_unconfigure(config):
    path = getattr(config, "_spinaptic_quick_dir", None)
    if path:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop("SPINAPTIC_TEST_QUICK_DIR", None)
