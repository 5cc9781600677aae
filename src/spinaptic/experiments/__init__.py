"""Experiments: one module per reproduction (presets + wiring + figures + comparison with the paper).

Modules register themselves with `base.experiment`; `base.experiments()` discovers them, so adding an
experiment never touches a shared file.
"""

from .base import Comparison, Result, RunContext, experiment, experiments, get_experiment, run_experiment

__all__ = ["Comparison", "Result", "RunContext", "experiment", "experiments", "get_experiment", "run_experiment"]
