"""First-run cost of every experiment's quick preset: a fresh install (empty numba cache) vs a cached one.

For each experiment, ``spinaptic run NAME --preset quick`` runs in a fresh interpreter with ``NUMBA_CACHE_DIR``
set to an empty folder (every kernel is compiled: what a new user waits for) and then again with the cache
that run left (kernels loaded), each into a new output folder. Reported per experiment: the medians of both
over the repeats and their ratio, against the issue-15 target ratio <= 2.

Run: ``python benchmarks/bench_first_run.py [--repeats N] [--only NAME ...]``; writes
``benchmarks/results/first_run.json``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import MIN_RUNS, RESULTS, compare, figure, write_result  # noqa: E402

TARGET_RATIO = 2.0


def _experiments() -> list[str]:
    from spinaptic.experiments import experiments

    return sorted(experiments())


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(name: str, cache: str, out: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all its threads) of one quick run in a fresh interpreter with
    NUMBA_CACHE_DIR = cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    t, c = time.perf_counter(), _cpu_children()
    subprocess.run([sys.executable, "-m", "spinaptic.cli", "run", name, "--preset", "quick", "--out", out, "--quiet"],
                   env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t, _cpu_children() - c


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--only", nargs="*", help="experiments to time (default: all)")
    ap.add_argument("--out", type=Path, default=RESULTS / "first_run.json")
    a = ap.parse_args(argv)
    load0 = os.getloadavg()
    figs = []
    for name in a.only or _experiments():
        cold, warm, cold_cpu, warm_cpu = [], [], [], []
        for _ in range(a.repeats):
            with tempfile.TemporaryDirectory() as d:
                for walls, cpus, sub in ((cold, cold_cpu, "a"), (warm, warm_cpu, "b")):
                    w_s, c_s = _run(name, os.path.join(d, "cache"), os.path.join(d, sub))
                    walls.append(w_s)
                    cpus.append(c_s)
            print(f"{name}: cold {cold[-1]:.1f} s ({cold_cpu[-1]:.1f} CPU s), warm {warm[-1]:.1f} s "
                  f"({warm_cpu[-1]:.1f} CPU s)", flush=True)
        w = figure(f"{name}_warm", f"{name} quick, cached kernels", warm, "s", higher_is_better=False)
        c = figure(f"{name}_cold", f"{name} quick, empty numba cache", cold, "s", higher_is_better=False)
        ratio = [x / y for x, y in zip(cold, warm, strict=True)]
        r = figure(f"{name}_ratio", f"{name} quick, first run / cached run (wall)", ratio, "x",
                   higher_is_better=False, target=TARGET_RATIO)
        cpu_ratio = [x / y for x, y in zip(cold_cpu, warm_cpu, strict=True)]
        rc = figure(f"{name}_cpu_ratio", f"{name} quick, first run / cached run (CPU seconds)", cpu_ratio, "x",
                    higher_is_better=False, note="CPU time of all threads: less sensitive to other load")
        figs += [compare(w, c), c, r, rc]
    write_result("first_run", "spinaptic run NAME --preset quick, fresh interpreter; empty vs warm numba cache",
                 figs, load0, out=a.out)


if __name__ == "__main__":
    main()
