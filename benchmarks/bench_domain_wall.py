"""Throughput of the 1D domain-wall model: fused numba kernel vs the pure-torch eager path.

Measures track-steps per second (one Heun step of one wall) for 10^5 tracks of paper 003's SOT track (32
notches, thermal field at 300 K and at 0 K), medians of several runs; the eager torch path with the default
intra-op threads and with one thread; the JIT compile time of the kernel (fresh process, empty cache) and the
load time from numba's cache; and one paper-003 workload (a 64-pulse ramp of 1000 SOT tracks at 300 K).
Writes ``results/domain_wall.json``. Target: >= 5e7 track-steps/s for the fused kernel. The rate per CPU second
of this process is reported too: on a shared machine (load average in the JSON) the wall-clock rate is our share
of the cores, and cores x the per-CPU-second rate is what an idle machine gives.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from spinaptic.physics import domain_wall as dw

HERE = Path(__file__).resolve().parent
N_TRACKS = 100_000
TARGET = 5e7

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
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def throughput(model: dw.DWModel, q, phi, n_steps: int, temperature_k: float, backend: str,
               repeats: int) -> tuple[list[float], list[float]]:
    """(track-steps per wall-clock second, per CPU second of this process) for each repeat."""
    g = torch.Generator().manual_seed(0)
    rates, cpu_rates = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model.run(q, phi, 27e-6, n_steps, n_on=n_steps // 2, temperature_k=temperature_k, generator=g, backend=backend)
        rates.append(q.shape[0] * n_steps / (time.perf_counter() - t0))
        cpu_rates.append(q.shape[0] * n_steps / max(time.process_time() - c0, 1e-9))
    return rates, cpu_rates


def main() -> dict:
    track = dw.liu2021_sot_track()
    model = dw.DWModel(track)
    notches = torch.tensor(track.notch_positions_m, dtype=torch.float64)
    q = notches[torch.arange(N_TRACKS) % len(notches)].clone()
    phi = model.init_phi((N_TRACKS,))
    model.run(q[:8], phi[:8], 27e-6, 4, temperature_k=300, generator=torch.Generator())  # load / compile

    with tempfile.TemporaryDirectory() as tmp:
        compile_s = first_call_seconds(tmp)  # empty cache: JIT compile
        cached_s = first_call_seconds(tmp)  # same cache: load only
    res: dict = {
        "benchmark": "domain_wall",
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                    "load_average_1min": os.getloadavg()[0], "torch_threads": torch.get_num_threads()},
        "n_tracks": N_TRACKS,
        "track": track.name,
        "dt_s": model.dt_s,
        "numba_first_call_compile_s": round(compile_s, 2),
        "numba_first_call_cached_s": round(cached_s, 2),
    }
    for temp in (300.0, 0.0):
        rates, cpu = throughput(model, q, phi, 400, temp, "numba", 5)
        res[f"numba_track_steps_per_s_T{temp:g}"] = statistics.median(rates)
        res[f"numba_track_steps_per_cpu_s_T{temp:g}"] = statistics.median(cpu)
    n_threads = torch.get_num_threads()
    for threads in sorted({n_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        rates, _ = throughput(model, q, phi, 10, 300.0, "torch", 3)
        res[f"torch_eager_track_steps_per_s_T300_{threads}thread"] = statistics.median(rates)
    torch.set_num_threads(n_threads)
    best_torch = max(v for k, v in res.items() if k.startswith("torch_eager"))
    res["speedup_numba_vs_best_torch_eager_T300"] = res["numba_track_steps_per_s_T300"] / best_torch
    res["target_track_steps_per_s"] = TARGET
    res["meets_target"] = res["numba_track_steps_per_s_T300"] >= TARGET

    # Paper 003 workload: 1000 SOT tracks x 64 pulses (0.5 ns x 27 uA + 8 ns relaxation) at 300 K.
    t0 = time.perf_counter()
    dw.ramp(track, 64, "updown", n_tracks=1000, temperature_k=300, generator=torch.Generator().manual_seed(1))
    res["ramp_sot_1000x64_300K_s"] = round(time.perf_counter() - t0, 2)

    out = HERE / "results" / "domain_wall.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{'quantity':<48} value")
    for k, v in res.items():
        if k != "machine":
            print(f"{k:<48} {v:.4g}" if isinstance(v, float) else f"{k:<48} {v}")
    print(f"machine: {res['machine']}")
    return res


if __name__ == "__main__":
    main()
