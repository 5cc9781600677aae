"""Throughput of the 1D domain-wall model: fused numba kernel vs the pure-torch eager path.

Workload (issue 15): 10^5 walls on paper 003's SOT track (32 notches, 27 uA on for half the steps), stochastic
Heun, float64, through the public ``DWModel.run``. Reported, each as the median of >= 5 runs measured in one
process: track-steps per second (one Heun step of one wall) of the fused kernel at 300 K (target 1.2e8) and at
0 K, the same per CPU second of this process (all threads; on a shared machine the wall-clock rate is our
share of the cores, and cores x the per-CPU-second rate is what an idle machine gives), the eager torch path
with the default intra-op threads and with one thread (fewer steps), the ratio of the fused kernel to the best
torch, the first call of a small run in a fresh process with an empty numba cache (JIT compile) and with a
warm one, and one paper-003 workload (a 64-pulse up/down ramp of 1000 SOT tracks at 300 K).

Run: ``python benchmarks/bench_domain_wall.py [--quick]``; writes ``benchmarks/results/domain_wall.json``.
``--quick`` (< 1 min: fewer steps, an 8-pulse ramp, no compile timing) writes to the temp folder instead and
never over the committed results.
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
from spinaptic.physics import domain_wall as dw  # noqa: E402

N_TRACKS = 100_000
CURRENT_A = 27e-6
TARGET = 1.2e8  # issue 15: track-steps/s, 10^5 tracks, 300 K, float64
COMMITTED = RESULTS / "domain_wall.json"

_FIRST_CALL = """
import time, torch
t0 = time.perf_counter()
from spinaptic.physics import domain_wall as dw
t = dw.liu2021_sot_track()
m = dw.DWModel(t)
q = torch.zeros(4, dtype=torch.float64)
m.run(q, m.init_phi((4,)), 1e-6, 10, temperature_k=300, generator=torch.Generator().manual_seed(0))
print(time.perf_counter() - t0)
"""


def first_call_seconds(cache_dir: str) -> float:
    """Seconds from import to the end of a 10-step call in a fresh interpreter (NUMBA_CACHE_DIR=cache_dir)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def throughput(model: dw.DWModel, q, phi, n_steps: int, temperature_k: float, backend: str,
               repeats: int) -> tuple[list[float], list[float]]:
    """(track-steps per wall-clock second, per CPU second of this process) of ``repeats`` runs (after a
    warm-up call), the current on for the first half of the steps."""
    g = torch.Generator().manual_seed(0)
    model.run(q[:8], phi[:8], CURRENT_A, 2, temperature_k=temperature_k, generator=g, backend=backend)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model.run(q, phi, CURRENT_A, n_steps, n_on=n_steps // 2, temperature_k=temperature_k, generator=g,
                  backend=backend)
        wall.append(q.shape[0] * n_steps / (time.perf_counter() - t0))
        cpu.append(q.shape[0] * n_steps / max(time.process_time() - c0, 1e-9))
    return wall, cpu


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=N_TRACKS, help="number of tracks")
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--fused-steps", type=int, default=400, help="steps per fused-kernel run")
    ap.add_argument("--eager-steps", type=int, default=10, help="steps per eager-torch run")
    ap.add_argument("--ramp-pulses", type=int, default=64, help="pulses of the paper-003 ramp workload")
    ap.add_argument("--quick", action="store_true",
                    help="100 fused steps, 4 eager steps, an 8-pulse ramp, no compile timing; "
                    "writes to the temp folder")
    ap.add_argument("--out", type=Path, default=None, help=f"results file (default {COMMITTED})")
    a = ap.parse_args(argv)
    if a.repeats < MIN_RUNS:
        ap.error(f"--repeats must be >= {MIN_RUNS} (medians of at least {MIN_RUNS} runs)")
    if a.quick:
        a.fused_steps, a.eager_steps, a.ramp_pulses = 100, 4, 8
        if a.out is None:
            a.out = Path(tempfile.gettempdir()) / "spinaptic_bench" / "domain_wall_quick.json"
        if a.out.resolve() == COMMITTED.resolve():
            ap.error("--quick never writes over the committed results file")
    out = a.out or COMMITTED
    load0 = os.getloadavg()

    track = dw.liu2021_sot_track()
    model = dw.DWModel(track)
    notches = torch.tensor(track.notch_positions_m, dtype=torch.float64)
    q = notches[torch.arange(a.n) % len(notches)].clone()
    phi = model.init_phi((a.n,))

    figs = []
    fused = {}
    for temp in (300.0, 0.0):
        wall, cpu = throughput(model, q, phi, a.fused_steps, temp, "numba", a.repeats)
        tag = f"{temp:g}K"
        fused[temp] = figure(f"fused_{tag}", f"DW fused numba, {tag}", wall, "track-steps/s",
                             higher_is_better=True, target=TARGET if temp == 300.0 else None)
        fused[f"{temp}_cpu"] = figure(f"fused_{tag}_per_cpu_s", f"DW fused numba, {tag}, per CPU-second", cpu,
                                      "track-steps/CPU-s", higher_is_better=True,
                                      note="all threads; x cores = the rate of an idle machine")
    n_threads = torch.get_num_threads()
    eager = []
    for threads in sorted({n_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        try:
            wall, _ = throughput(model, q, phi, a.eager_steps, 300.0, "torch", a.repeats)
        finally:
            torch.set_num_threads(n_threads)
        eager.append(figure(f"eager_300K_{threads}thread", f"DW eager torch, 300K, {threads} thread(s)", wall,
                            "track-steps/s", higher_is_better=True))
    best_torch = max(eager, key=lambda f: f["value"])
    figs += [compare(fused[300.0], best_torch), fused["300.0_cpu"], fused[0.0], fused["0.0_cpu"], *eager]

    # Paper 003 workload: 1000 SOT tracks x 64 pulses (0.5 ns x 27 uA + 8 ns relaxation) at 300 K.
    def ramp():
        dw.ramp(track, a.ramp_pulses, "updown", n_tracks=1000, temperature_k=300,
                generator=torch.Generator().manual_seed(1))

    dw.ramp(track, 2, "updown", n_tracks=8, temperature_k=300, generator=torch.Generator().manual_seed(1))
    runs = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        ramp()
        runs.append(time.perf_counter() - t0)
    figs.append(figure(f"ramp_sot_1000x{a.ramp_pulses}_300K",
                       f"DW paper-003 ramp, 1000 tracks x {a.ramp_pulses} pulses, 300K", runs, "s",
                       higher_is_better=False))

    if not a.quick:
        cold, warm = [], []
        for _ in range(MIN_RUNS):
            with tempfile.TemporaryDirectory() as d:
                cold.append(first_call_seconds(d))  # empty cache: JIT compile
                warm.append(first_call_seconds(d))  # same cache: load only
        figs.append(figure("first_call_cold", "DW first call, empty numba cache (JIT compile)", cold, "s",
                           higher_is_better=False, note="fresh process: import + compile + 10 steps"))
        figs.append(figure("first_call_warm", "DW first call, warm numba cache", warm, "s",
                           higher_is_better=False, note="fresh process: import + cache load + 10 steps"))

    from spinaptic.physics import _domain_wall_kernels as kern

    extra = {"n_tracks": a.n, "track": track.name, "dt_s": model.dt_s, "current_a": CURRENT_A,
             "fused_steps_per_run": a.fused_steps, "eager_steps_per_run": a.eager_steps,
             "current_on_steps": "first half of each run", "kernel_block": kern.BLOCK, "quick": a.quick}
    workload = (f"1D DW (q, phi) stochastic Heun, {a.n:.0e} tracks, {track.name} (32 notches), "
                f"T = 300 K / 0 K, float64, dt = {model.dt_s * 1e12:.3g} ps")
    write_result("domain_wall", workload, figs, load0, extra, out=out)
    return {"figures": figs}


if __name__ == "__main__":
    main()
