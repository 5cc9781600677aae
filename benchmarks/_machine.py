"""The record every benchmark writes: the machine beside its figures, medians of repeated runs, one schema.

The scripts run as ``python benchmarks/X.py``, so this folder is on ``sys.path``. Each writes
``results/<name>.json`` through `write_result`:

    {"benchmark": name, "workload": text, "machine": machine_record(),
     "figures": [{"key", "label", "value", "unit", "runs", "n_runs", "higher_is_better", "target",
                  "meets_target", "baseline", "ratio_to_baseline", "note"}, ...], "extra": {...}}

``value`` is the median of ``runs``; ``ratio_to_baseline`` compares with the figure named in ``baseline``,
measured in the same process. ``docs/make_perf_table.py`` turns the ``figures`` of every results file into
the README's performance table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MIN_RUNS = 5
"""Repeats behind every reported median (the issue-15 rule: at least 5)."""


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The vector-ISA flags of the CPU that matter to the compiled kernels (avx2, fma, avx512*)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return sorted(f for f in line.split(":", 1)[1].split() if f in ("avx2", "fma") or f.startswith("avx512"))
    except OSError:
        pass
    return []


def machine_record(load_start: tuple[float, float, float] | None = None) -> dict[str, Any]:
    """CPU model, ISA flags, cores, thread counts, load averages at start and now, and versions."""
    import numba
    import numpy
    import torch

    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "torch_threads": torch.get_num_threads(),
        "loadavg_start": list(load_start) if load_start is not None else None,
        "loadavg_end": list(os.getloadavg()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numba": numba.__version__,
        "numpy": numpy.__version__,
    }


def timed_runs(fn: Callable[[], Any], repeats: int = MIN_RUNS) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn`` (call it once beforehand to warm up)."""
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def figure(
    key: str,
    label: str,
    runs: list[float],
    unit: str,
    *,
    higher_is_better: bool,
    target: float | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One reported figure: the median of ``runs`` with its runs, unit and (optional) target."""
    value = statistics.median(runs)
    meets = None if target is None else (value >= target if higher_is_better else value <= target)
    return {
        "key": key, "label": label, "value": value, "unit": unit, "runs": list(runs), "n_runs": len(runs),
        "higher_is_better": higher_is_better, "target": target, "meets_target": meets,
        "baseline": None, "ratio_to_baseline": None, "note": note,
    }


def compare(fig: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Set ``fig``'s ratio to ``baseline`` (how many times better, measured in the same run)."""
    r = fig["value"] / baseline["value"] if fig["higher_is_better"] else baseline["value"] / fig["value"]
    fig["baseline"] = baseline["key"]
    fig["ratio_to_baseline"] = r
    return fig


def write_result(
    name: str, workload: str, figures: list[dict[str, Any]], load_start, extra: dict | None = None,
    out: Path | None = None,
) -> Path:
    """Write ``results/<name>.json`` (or ``out``) in the common schema and print its figures."""
    rec = {"benchmark": name, "workload": workload, "machine": machine_record(load_start), "figures": figures,
           "extra": extra or {}}
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rec, indent=2) + "\n")
    tmp.replace(path)
    m = rec["machine"]
    print(f"{name}: {workload}")
    for f in figures:
        ratio = f" ({f['ratio_to_baseline']:.1f}x {f['baseline']})" if f["ratio_to_baseline"] else ""
        tgt = "" if f["target"] is None else f"  target {f['target']:.3g}: {'met' if f['meets_target'] else 'MISSED'}"
        print(f"  {f['label']:<58} {f['value']:>11.4g} {f['unit']}{ratio}{tgt}  [median of {f['n_runs']}]")
    print(f"  {m['cpu']}, {m['cores']} cores, numba {m['numba_threads']} / torch {m['torch_threads']} threads, "
          f"load {m['loadavg_start']} -> {m['loadavg_end']}")
    print(f"wrote {path}")
    return path
