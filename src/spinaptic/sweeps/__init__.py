"""Parameter sweeps: an experiment at every combination of config values x seeds, each point an ordinary run.

``run_sweep("switching-probability", {"n_trials": [200, 400], "targets.mc_max_sigma": [3, 5]}, seeds=3,
out_dir="runs/sweep")`` runs 12 points, each a `run_experiment` directory under ``points/<id>/`` (reused when
finished, resumed from its checkpoints when interrupted), on a local process pool or Ray, and writes
``sweep.json``, ``points.csv``, ``results.csv`` (+ ``.parquet``), ``plots/`` and ``summary.md``. The command
line is ``spinaptic sweep`` (`spinaptic.sweeps.cli`). Loaded lazily, so the CLI stays light to import.
"""

__all__ = ["plan_sweep", "run_sweep"]


def __getattr__(name: str):
    if name == "run_sweep":
        from .engine import run_sweep

        return run_sweep
    if name == "plan_sweep":
        from .spec import plan_sweep

        return plan_sweep
    raise AttributeError(f"module 'spinaptic.sweeps' has no attribute {name!r}")
