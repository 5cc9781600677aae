"""Throughput of the stochastic macrospin solver: fused numba kernel vs the eager torch Heun step.

Workload: 10^6 macrospins (the default disc of ``MacrospinParams``, alpha = 0.01) at T = 300 K with a
damping-like + field-like SOT current on, dt = 0.1 ps, float64 and float32. Reported: macrospin-steps per
second (median of several runs, measured through the public ``simulate`` API), steps per CPU-second of the
process (all threads; a load-independent measure of the work per step), the ratio to the eager torch
baseline, and the first-call time of the kernel in a fresh process with an empty numba cache (JIT compile) and
with a warm one (cache load).

Run: ``python benchmarks/bench_macrospin.py [--quick]``; writes ``benchmarks/results/macrospin.json``.
The machine is shared: timings are noisy, so medians are reported with the load average alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import torch

from spinaptic.physics.macrospin import MacrospinParams, simulate

RESULTS = Path(__file__).resolve().parent / "results" / "macrospin.json"
PARAMS = MacrospinParams(alpha=0.01, temperature_k=300.0, theta_sh=0.12, sot_fl_ratio=0.2, t_f_m=1e-9)
J_SOT = 5e11  # A/m^2
DT_S = 1e-13

_FIRST_CALL = r"""
import time, torch
t0 = time.perf_counter()
from spinaptic.physics.macrospin import MacrospinParams, simulate
t1 = time.perf_counter()
p = MacrospinParams(alpha=0.01, temperature_k=300.0, theta_sh=0.12, sot_fl_ratio=0.2, t_f_m=1e-9)
m0 = torch.tensor([0.0, 0.0, 1.0], dtype=torch.{dtype}).expand(64, 3)
simulate(m0, p, dt_s=1e-13, n_steps=10, j_sot=5e11, generator=torch.Generator().manual_seed(0), backend="numba")
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _throughput(
    backend: str, dtype: torch.dtype, n: int, n_steps: int, repeats: int
) -> tuple[list[float], list[float]]:
    """Macrospin-steps per wall-clock second and per CPU second (all threads) of ``repeats`` runs."""
    m0 = torch.tensor([0.0, 0.0, 1.0], dtype=dtype).expand(n, 3).contiguous()
    g = torch.Generator().manual_seed(0)
    simulate(m0, PARAMS, dt_s=DT_S, n_steps=1, j_sot=J_SOT, generator=g, backend=backend)  # warm-up / JIT
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        simulate(m0, PARAMS, dt_s=DT_S, n_steps=n_steps, j_sot=J_SOT, generator=g, backend=backend)
        wall.append(n * n_steps / (time.perf_counter() - t))
        cpu.append(n * n_steps / (time.process_time() - c))
    return wall, cpu


def _first_call(dtype: str, cache_dir: str) -> tuple[float, float]:
    """(import time, first-call time) [s] in a fresh interpreter with NUMBA_CACHE_DIR = cache_dir."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_CALL.format(dtype=dtype)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6, help="number of macrospins")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fused-steps", type=int, default=100, help="steps per fused-kernel run")
    ap.add_argument("--eager-steps", type=int, default=5, help="steps per eager-torch run")
    ap.add_argument("--quick", action="store_true", help="10^5 macrospins, 3 repeats, no compile timing")
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    if a.quick:
        a.n, a.repeats = 10**5, 3
    load0 = os.getloadavg()
    rows = []
    for dtype in (torch.float64, torch.float32):
        for backend, steps in (("numba", a.fused_steps), ("torch", a.eager_steps)):
            runs, cpu = _throughput(backend, dtype, a.n, steps, a.repeats)
            rows.append(
                {
                    "backend": "fused numba" if backend == "numba" else "eager torch",
                    "dtype": str(dtype).removeprefix("torch."),
                    "n_macrospins": a.n,
                    "steps_per_run": steps,
                    "median_steps_per_s": statistics.median(runs),
                    "runs_steps_per_s": runs,
                    "median_steps_per_cpu_s": statistics.median(cpu),
                }
            )
    ratios = {}
    for dt in ("float64", "float32"):
        fused = next(r for r in rows if r["dtype"] == dt and r["backend"] == "fused numba")
        eager = next(r for r in rows if r["dtype"] == dt and r["backend"] == "eager torch")
        ratios[dt] = fused["median_steps_per_s"] / eager["median_steps_per_s"]
    compile_s = {}
    if not a.quick:
        for dt in ("float64", "float32"):
            with tempfile.TemporaryDirectory() as d:
                _, cold = _first_call(dt, d)
                _, warm = _first_call(dt, d)
            compile_s[dt] = {"first_call_empty_cache_s": cold, "first_call_warm_cache_s": warm}
    result = {
        "benchmark": "macrospin sLLGS, T = 300 K, SOT on (DL + FL), dt = 0.1 ps",
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
            "torch_threads": torch.get_num_threads(),
            "loadavg_start": load0,
            "loadavg_end": os.getloadavg(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numba": numba.__version__,
        },
        "results": rows,
        "speedup_fused_over_eager": ratios,
        "compile": compile_s,
    }
    print(f"{'backend':<13}{'dtype':<9}{'median steps/s':>16}{'min':>11}{'max':>11}{'per CPU-s':>12}")
    for r in rows:
        v = r["runs_steps_per_s"]
        print(
            f"{r['backend']:<13}{r['dtype']:<9}{r['median_steps_per_s']:>16.3e}{min(v):>11.2e}{max(v):>11.2e}"
            f"{r['median_steps_per_cpu_s']:>12.2e}"
        )
    for dt, x in ratios.items():
        print(f"fused / eager ({dt}): {x:.1f}x")
    for dt, c in compile_s.items():
        print(
            f"first call ({dt}): {c['first_call_empty_cache_s']:.1f} s with an empty numba cache (JIT), "
            f"{c['first_call_warm_cache_s']:.2f} s with the cache"
        )
    print(f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {a.out}")
    return result


if __name__ == "__main__":
    main()
