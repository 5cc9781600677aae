"""Throughput of the stochastic macrospin solver: fused numba kernel vs the eager torch Heun step.

Workload (issue 15): 10^6 macrospins (the default disc of ``MacrospinParams``, alpha = 0.01) at T = 300 K with
a damping-like + field-like SOT current on, dt = 0.1 ps, float64 and float32, through the public ``simulate``.
Reported, each as the median of >= 5 runs measured in one process: macrospin-steps per second of the fused
kernel and of the eager torch baseline (torch's own RNG and ops, all threads; the best torch can do without
fusing the step), their ratio, steps per CPU-second (all threads; less sensitive to a loaded machine), and the
first call of a quick run in a fresh process with an empty numba cache (JIT compile) and with a warm one.

Run: ``python benchmarks/bench_macrospin.py [--quick] [--out PATH]``; writes ``benchmarks/results/macrospin.json``
(``--quick``: a smoke run into the temporary folder).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import MIN_RUNS, RESULTS, compare, figure, write_result  # noqa: E402
from spinaptic.physics.macrospin import MacrospinParams, simulate  # noqa: E402

PARAMS = MacrospinParams(alpha=0.01, temperature_k=300.0, theta_sh=0.12, sot_fl_ratio=0.2, t_f_m=1e-9)
J_SOT = 5e11  # A/m^2
DT_S = 1e-13
TARGET_F64 = 1.5e8  # issue 15: macrospin-steps/s, 10^6 spins, 300 K, SOT, float64

_FIRST_CALL = r"""
import time, torch
t0 = time.perf_counter()
from spinaptic.physics.macrospin import MacrospinParams, simulate
p = MacrospinParams(alpha=0.01, temperature_k=300.0, theta_sh=0.12, sot_fl_ratio=0.2, t_f_m=1e-9)
m0 = torch.tensor([0.0, 0.0, 1.0], dtype=torch.{dtype}).expand(64, 3)
simulate(m0, p, dt_s=1e-13, n_steps=10, j_sot=5e11, generator=torch.Generator().manual_seed(0), backend="numba")
print(time.perf_counter() - t0)
"""


def _throughput(backend: str, dtype: torch.dtype, n: int, n_steps: int, repeats: int):
    """Macrospin-steps per wall-clock second and per CPU second (all threads) of ``repeats`` runs."""
    m0 = torch.tensor([0.0, 0.0, 1.0], dtype=dtype).expand(n, 3).contiguous()
    g = torch.Generator().manual_seed(0)
    simulate(m0, PARAMS, dt_s=DT_S, n_steps=2, j_sot=J_SOT, generator=g, backend=backend)  # warm-up / JIT
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        simulate(m0, PARAMS, dt_s=DT_S, n_steps=n_steps, j_sot=J_SOT, generator=g, backend=backend)
        wall.append(n * n_steps / (time.perf_counter() - t))
        cpu.append(n * n_steps / (time.process_time() - c))
    return wall, cpu


def _first_call(dtype: str, cache_dir: str) -> float:
    """Seconds from import to the end of a 10-step call in a fresh interpreter with NUMBA_CACHE_DIR = cache_dir."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL.format(dtype=dtype)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[-1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6, help="number of macrospins")
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--fused-steps", type=int, default=100, help="steps per fused-kernel run")
    ap.add_argument("--eager-steps", type=int, default=5, help="steps per eager-torch run")
    ap.add_argument("--quick", action="store_true", help="10^5 macrospins, no compile timing, written to the temporary folder")
    ap.add_argument("--out", type=Path, default=None,
                    help="results file (default results/macrospin.json; --quick: the temporary folder)")
    a = ap.parse_args(argv)
    if a.quick:
        a.n = 10**5
    if a.out is None:
        a.out = Path(tempfile.gettempdir()) / "macrospin_quick.json" if a.quick else RESULTS / "macrospin.json"
    load0 = os.getloadavg()
    figs = []
    for dtype in (torch.float64, torch.float32):
        dt = str(dtype).removeprefix("torch.")
        fw, fc = _throughput("numba", dtype, a.n, a.fused_steps, a.repeats)
        ew, _ = _throughput("torch", dtype, a.n, a.eager_steps, a.repeats)
        fused = figure(f"fused_{dt}", f"macrospin fused numba, {dt}", fw, "steps/s", higher_is_better=True,
                       target=TARGET_F64 if dt == "float64" else None)
        eager = figure(f"eager_{dt}", f"macrospin eager torch, {dt}", ew, "steps/s", higher_is_better=True)
        figs += [compare(fused, eager), eager,
                 figure(f"fused_{dt}_per_cpu_s", f"macrospin fused numba, {dt}, per CPU-second", fc,
                        "steps/CPU-s", higher_is_better=True)]
    extra = {"n_macrospins": a.n, "fused_steps_per_run": a.fused_steps, "eager_steps_per_run": a.eager_steps,
             "params": "alpha 0.01, 300 K, theta_SH 0.12, FL/DL 0.2, t_F 1 nm, J_SOT 5e11 A/m^2, dt 0.1 ps"}
    if not a.quick:
        for dt in ("float64",):
            cold, warm = [], []
            for _ in range(MIN_RUNS):
                with tempfile.TemporaryDirectory() as d:
                    cold.append(_first_call(dt, d))
                    warm.append(_first_call(dt, d))
            figs.append(figure(f"first_call_cold_{dt}", "macrospin first call, empty numba cache", cold, "s",
                               higher_is_better=False))
            figs.append(figure(f"first_call_warm_{dt}", "macrospin first call, warm numba cache", warm, "s",
                               higher_is_better=False))
    write_result("macrospin", f"sLLGS, {a.n:.0e} macrospins, T = 300 K, SOT (DL + FL), dt = 0.1 ps", figs, load0,
                 extra, out=a.out)
    return {"figures": figs}


if __name__ == "__main__":
    main()
