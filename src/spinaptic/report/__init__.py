"""One static report of every reproduction: ``spinaptic report RUN_OR_SWEEP_DIRS... --out report/``.

Reads run directories (``result.json`` and figures, written by `spinaptic.experiments.run_experiment`) and sweep
directories (``sweep.json``, ``results.csv``, ``plots/*.png``) and writes ``index.html`` (self-contained: inline
CSS, figures copied into ``figures/``, no external assets, works from ``file://``) and the same content as
``report.md``. Paper rows are shown apart from self-checks, reference and calibrated rows so that nothing that is
not a reproduction reads as one; every run carries the command that reproduces it. `write_gallery` regenerates
the README's figure gallery from the same runs instead of a hand-copied one.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"ReportError": "collect", "build_report": "render", "write_gallery": "gallery"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import on first use, so that ``spinaptic report --help`` (importing `spinaptic.report.cli`) stays light."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
