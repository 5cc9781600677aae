"""Issue 10's training target: paper 003's MLP trained through probabilistic lookup tables, batch size 1.

Workload: the 784(+1) x 300, 300(+1) x 10 sigmoid MLP of paper 003 (MSE to one-hot targets, batch size 1) on
MNIST train images (pixels in [0, 1]; about 18 % are non-zero).

1. ideal float baseline: the same MLP of ``nn.Linear`` layers, plain ``torch.optim.SGD`` step per sample;
2. analog: both layers `spinaptic.nn.AnalogLinear` on a `LookupTableDevice` built from paper 003's genuine
   STT DW-MTJ 300 K tables (``dwmtj_stt_300K.npz``: 20 perturbed instances, one drawn per device), trained by
   `spinaptic.nn.DeviceSGD` (stochastic pulse rounding, one table draw per pulse of every device with a
   non-zero pulse count), read noise off. Reported against (1) and the 2,000 samples/s target, together with
   how many devices are pulsed per sample;
3. inference: `AnalogLinear` (784 -> 300, read noise off and on) vs ``nn.Linear`` at batch 1 and batch 1000,
   samples/s and the per-sample overhead of the analog layer.

Timings are medians of ``--repeats`` runs over a fixed number of samples (after a warm-up that compiles the
numba kernels); with the analog step far below the target a short cProfile (top 10 by own time) is stored.
Anchors from the issue (measured on this machine): CrossSim v2.0 1.4 samples/s (20 instances), aihwkit 1.2.0
ConstantStep 820 samples/s, a fused table-draw prototype 1,100 samples/s, ideal float 10,000 samples/s.

Run: ``python benchmarks/bench_mlp_lookup.py [--quick] [--threads N]``; writes
``benchmarks/results/bench_mlp_lookup.json``. The machine is shared: the load average is stored alongside.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import time
import warnings
from pathlib import Path

import numba
import torch
from torch import nn

from spinaptic.arrays.tile import TileConfig
from spinaptic.devices.lookup_table import LookupTable, LookupTableDevice, load_npz
from spinaptic.nn import AnalogLayerConfig, AnalogLinear, DeviceSGD

RESULTS = Path(__file__).resolve().parent / "results" / "bench_mlp_lookup.json"
TABLE = "dwmtj-lookup-tables/dwmtj_stt_300K.npz"
TARGET_SAMPLES_PER_S = 2000.0
ANCHORS = {"crosssim_v2_20_instances": 1.4, "crosssim_v2_one_table": 37.0, "aihwkit_1_2_constant_step": 820.0,
           "fused_prototype": 1100.0, "ideal_float_issue": 10000.0}
LR = 0.1


def _data(n: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    from spinaptic.data import load_dataset

    try:
        x, y = load_dataset("mnist", "train", flatten=True, scale="unit", download=False)
        src = "MNIST train"
    except Exception:  # noqa: BLE001 - no full MNIST copy around: the embedded sample
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = load_dataset("mnist-sample", "train", flatten=True, scale="unit")
        src = "mnist-sample"
    reps = -(-n // x.shape[0])
    return x.repeat(reps, 1)[:n].contiguous(), y.repeat(reps)[:n].contiguous(), src


def _table_path() -> Path:
    root = Path(os.environ.get("SPINAPTIC_DATA", "/work/shared/data"))
    return root / TABLE


def _load_table(path: Path) -> tuple[LookupTable, str]:
    """`load_npz`, or (only if the library's reader cannot be imported) the same arrays through numpy."""
    try:
        return load_npz(path), "load_npz"
    except ImportError:
        import numpy as np

        with np.load(path) as z:
            arrs = {k: z[k] for k in ("g_bins", "cdf", "dg_increasing", "dg_decreasing")}
        return LookupTable(**arrs, name=path.stem, source=str(path)), "numpy (load_npz import failed)"


class MLP(nn.Module):
    def __init__(self, l1: nn.Module, l2: nn.Module) -> None:
        super().__init__()
        self.l1, self.l2 = l1, l2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.l2(torch.sigmoid(self.l1(x))))


def _float_mlp(seed: int = 0) -> MLP:
    torch.manual_seed(seed)
    return MLP(nn.Linear(784, 300), nn.Linear(300, 10))


def _analog_mlp(device: LookupTableDevice, seed: int = 0) -> MLP:
    ref = _float_mlp(seed)
    cfg = AnalogLayerConfig(TileConfig(device="lookup-table", read_noise=False))
    g = torch.Generator().manual_seed(seed + 1)
    layers = [AnalogLinear(r.in_features, r.out_features, True, cfg, weight=r.weight.detach(),
                           bias_init=r.bias.detach(), device=device, generator=g) for r in (ref.l1, ref.l2)]
    return MLP(*layers)


def _train(model: MLP, opt: torch.optim.Optimizer, x: torch.Tensor, t: torch.Tensor) -> float:
    """Batch-size-1 SGD over all rows of x; returns the wall-clock seconds."""
    t0 = time.perf_counter()
    for i in range(x.shape[0]):
        opt.zero_grad(set_to_none=True)
        loss = ((model(x[i:i + 1]) - t[i:i + 1]) ** 2).sum() * 0.5
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def _median_rate(fn, n: int, repeats: int) -> tuple[float, list[float]]:
    ts = [fn() for _ in range(repeats)]
    return n / statistics.median(ts), [round(n / s, 2) for s in ts]


def _pulsed_devices(model: MLP, opt: torch.optim.Optimizer, x: torch.Tensor, t: torch.Tensor) -> dict:
    """Mean devices per sample whose conductance changed (i.e. got >= 1 table draw), and requested non-zero
    Delta-W per sample, over the rows of x (a separate pass: the bookkeeping is not timed)."""
    changed = requested = 0
    for i in range(x.shape[0]):
        before = [m.tile.state["g"].clone() for m in (model.l1, model.l2)]
        opt.zero_grad(set_to_none=True)
        loss = ((model(x[i:i + 1]) - t[i:i + 1]) ** 2).sum() * 0.5
        loss.backward()
        requested += sum(int((m.analog_weight.grad != 0).sum()) for m in (model.l1, model.l2))
        opt.step()
        changed += sum(int((m.tile.state["g"] != b).sum()) for m, b in zip((model.l1, model.l2), before, strict=True))
    n = x.shape[0]
    total = 2 * (784 * 300 + 300 * 10)
    return {"devices_total": total, "nonzero_grad_weights_per_sample": requested / n,
            "devices_pulsed_per_sample": changed / n, "pulsed_fraction_of_devices": changed / n / total}


def _profile(model: MLP, opt: torch.optim.Optimizer, x: torch.Tensor, t: torch.Tensor, top: int = 10) -> list[str]:
    pr = cProfile.Profile()
    pr.enable()
    _train(model, opt, x, t)
    pr.disable()
    s = io.StringIO()
    st = pstats.Stats(pr, stream=s)
    st.sort_stats("tottime").print_stats(top)
    lines = [ln.rstrip() for ln in s.getvalue().splitlines()]
    start = next((k for k, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return [ln for ln in lines[start:] if ln.strip()][: top + 1]


def _inference(layer: nn.Module, x: torch.Tensor, batch: int, repeats: int) -> tuple[float, list[float]]:
    n = x.shape[0]

    def run() -> float:
        t0 = time.perf_counter()
        with torch.no_grad():
            for i in range(0, n, batch):
                layer(x[i:i + batch])
        return time.perf_counter() - t0

    run()
    return _median_rate(run, n, repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples and no profile (a smoke run)")
    ap.add_argument("--threads", type=int, default=2, help="torch and numba threads (default 2)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--float-samples", type=int, default=2000)
    ap.add_argument("--analog-samples", type=int, default=500)
    ap.add_argument("--infer-samples", type=int, default=2000, help="batch-1 inference samples (batch 1000: 10x)")
    ap.add_argument("--profile-samples", type=int, default=200)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    if a.quick:
        a.float_samples, a.analog_samples, a.infer_samples, a.profile_samples = 500, 200, 500, 0
    torch.set_num_threads(a.threads)
    numba.set_num_threads(min(a.threads, numba.config.NUMBA_NUM_THREADS))
    load0 = os.getloadavg()
    t_start = time.perf_counter()

    warm = 50
    n_data = max(4 * warm + a.float_samples, warm + a.analog_samples + a.profile_samples, a.infer_samples * 10)
    x, y, src = _data(n_data)
    t = torch.nn.functional.one_hot(y, 10).to(torch.float32)
    nonzero = float((x != 0).float().mean())
    print(f"data: {src}, {n_data} rows, {nonzero:.1%} non-zero pixels; threads {a.threads}", flush=True)

    # 1. ideal float baseline
    fm = _float_mlp()
    fopt = torch.optim.SGD(fm.parameters(), lr=LR)
    _train(fm, fopt, x[:4 * warm], t[:4 * warm])
    xf, tf = x[warm:warm + a.float_samples], t[warm:warm + a.float_samples]
    float_rate, float_runs = _median_rate(lambda: _train(fm, fopt, xf, tf), a.float_samples, a.repeats)
    print(f"ideal float SGD step:       {float_rate:9.1f} samples/s  runs {float_runs}", flush=True)
    torch.set_num_threads(1)  # context: on a loaded 2-core machine two torch threads can be slower than one
    float_rate_1t, float_runs_1t = _median_rate(lambda: _train(fm, fopt, xf, tf), a.float_samples, a.repeats)
    torch.set_num_threads(a.threads)
    print(f"  same on 1 torch thread:   {float_rate_1t:9.1f} samples/s  runs {float_runs_1t}", flush=True)

    # 2. analog MLP on the genuine 20-instance lookup tables
    t0 = time.perf_counter()
    table, loader = _load_table(_table_path())
    dev = LookupTableDevice(table=table)
    am = _analog_mlp(dev)
    build_s = time.perf_counter() - t0
    aopt = DeviceSGD(am.parameters(), lr=LR, generator=torch.Generator().manual_seed(7))
    t0 = time.perf_counter()
    _train(am, aopt, x[:warm], t[:warm])  # numba kernels load / compile here
    warm_s = time.perf_counter() - t0
    xa, ta = x[warm:warm + a.analog_samples], t[warm:warm + a.analog_samples]
    analog_rate, analog_runs = _median_rate(lambda: _train(am, aopt, xa, ta), a.analog_samples, a.repeats)
    print(f"analog lookup-table step:   {analog_rate:9.1f} samples/s  runs {analog_runs}  "
          f"({analog_rate / TARGET_SAMPLES_PER_S:.3f} of target, {analog_rate / float_rate:.4f} of float)", flush=True)
    pulses = _pulsed_devices(am, aopt, x[warm:warm + 100], t[warm:warm + 100])
    print(f"  per sample: {pulses['nonzero_grad_weights_per_sample']:.0f} weights with non-zero gradient, "
          f"{pulses['devices_pulsed_per_sample']:.0f} devices pulsed", flush=True)
    prof: list[str] = []
    if not a.no_profile and a.profile_samples > 0 and analog_rate < 0.5 * TARGET_SAMPLES_PER_S:
        n0 = warm + a.analog_samples
        prof = _profile(am, aopt, x[n0:n0 + a.profile_samples], t[n0:n0 + a.profile_samples])
        print("cProfile of the analog step (top 10 by own time):\n  " + "\n  ".join(prof), flush=True)

    # 3. inference: AnalogLinear vs nn.Linear (first layer, 784 -> 300)
    ref = nn.Linear(784, 300)
    g = torch.Generator().manual_seed(3)
    ana = {rn: AnalogLinear(784, 300, True, AnalogLayerConfig(TileConfig(device="lookup-table", read_noise=rn)),
                            weight=ref.weight.detach(), bias_init=ref.bias.detach(), device=dev, generator=g).eval()
           for rn in (False, True)}
    infer: dict = {}
    for batch, n in ((1, a.infer_samples), (1000, a.infer_samples * 10)):
        xi = x[:n]
        lin_rate, lin_runs = _inference(ref, xi, batch, a.repeats)
        row = {"samples": n, "nn_linear_samples_per_s": lin_rate, "nn_linear_runs": lin_runs}
        for rn, layer in ana.items():
            tag = "read_noise_on" if rn else "read_noise_off"
            r, runs = _inference(layer, xi, batch, a.repeats)
            row[f"analog_{tag}_samples_per_s"] = r
            row[f"analog_{tag}_runs"] = runs
            row[f"analog_{tag}_overhead_us_per_sample"] = (1.0 / r - 1.0 / lin_rate) * 1e6
            row[f"analog_{tag}_slowdown"] = lin_rate / r
        infer[f"batch_{batch}"] = row
        print(f"inference batch {batch:4d}: nn.Linear {lin_rate:10.0f}/s, AnalogLinear {row['analog_read_noise_off_samples_per_s']:10.0f}/s "
              f"(noise on {row['analog_read_noise_on_samples_per_s']:10.0f}/s), overhead "
              f"{row['analog_read_noise_off_overhead_us_per_sample']:.1f} us/sample "
              f"({row['analog_read_noise_on_overhead_us_per_sample']:.1f} with noise)", flush=True)

    doc = {
        "benchmark": "mlp_lookup",
        "what": "paper 003 MLP 785x300, 301x10, sigmoid, MSE, batch size 1, SGD lr 0.1; analog: AnalogLinear on "
                "the genuine STT DW-MTJ 300 K lookup tables (20 instances), DeviceSGD stochastic rounding, read noise off",
        "data": src,
        "nonzero_pixel_fraction": nonzero,
        "table": table.describe(),
        "table_loader": loader,
        "ideal_float_samples_per_s": float_rate,
        "ideal_float_runs": float_runs,
        "ideal_float_samples_timed": a.float_samples,
        "ideal_float_1thread_samples_per_s": float_rate_1t,
        "ideal_float_1thread_runs": float_runs_1t,
        "analog_lookup_samples_per_s": analog_rate,
        "analog_lookup_runs": analog_runs,
        "analog_lookup_samples_timed": a.analog_samples,
        "analog_build_seconds": build_s,
        "analog_warmup_seconds": warm_s,
        "analog_epoch_seconds_60k": 60000 / analog_rate,
        "ratio_analog_to_float": analog_rate / float_rate,
        "ratio_analog_to_target": analog_rate / TARGET_SAMPLES_PER_S,
        "ratio_float_to_target": float_rate / TARGET_SAMPLES_PER_S,
        "target_samples_per_s": TARGET_SAMPLES_PER_S,
        "meets_target": analog_rate >= TARGET_SAMPLES_PER_S,
        "pulses": pulses,
        "anchors_samples_per_s": ANCHORS,
        "ratio_analog_to_anchors": {k: analog_rate / v for k, v in ANCHORS.items()},
        "inference_784x300": infer,
        "profile_top10_tottime": prof,
        "repeats": a.repeats,
        "quick": a.quick,
        "total_seconds": time.perf_counter() - t_start,
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numba": numba.__version__,
            "torch_threads": torch.get_num_threads(),
            "numba_threads": numba.get_num_threads(),
            "loadavg_start": load0,
            "loadavg_end": os.getloadavg(),
        },
    }
    a.out.parent.mkdir(exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"load average {load0[0]:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"total {doc['total_seconds']:.0f} s; wrote {a.out}")


if __name__ == "__main__":
    main()
