"""One fresh quick-preset run per experiment for the whole test session, shared by every test that inspects it.

Several test modules check an experiment's quick run (its numbers, figures, resume) and the run engine's
reproducibility test runs every quick preset twice; each of those runs costs up to 80 s of the suite. Here the
first caller runs ``run_experiment(name, preset="quick", seed=7, threads=1)`` into a directory shared by the
pytest-xdist workers of this session (made and removed by tests/conftest.py), the others wait on a file lock and read the
``result.json`` it wrote. The reproducibility test compares that run with a second fresh one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path

from spinaptic.experiments import run_experiment

SEED = 7


def _root() -> Path:
    root = Path(os.environ.get("SPINAPTIC_TEST_QUICK_DIR") or Path(tempfile.gettempdir()) / f"spinaptic-quick-{os.getpid()}")
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def locked(name: str):
    """Hold ``name``'s lock: while one worker runs the quick preset the others wait (also for a test that
    reruns into the shared directory)."""
    with open(_root() / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def quick_run(name: str) -> tuple[Path, dict]:
    """(output directory, result document as written to result.json) of ``name``'s quick preset at seed 7 on
    one thread, run once per session."""
    out = _root() / name
    with locked(name):
        if not (out / "result.json").exists():
            run_experiment(name, preset="quick", seed=SEED, out_dir=out, quiet=True, threads=1)
        return out, json.loads((out / "result.json").read_text())
