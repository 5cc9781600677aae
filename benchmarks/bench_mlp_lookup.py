"""Issue 10's training target: paper 003's MLP trained through probabilistic lookup tables, batch size 1.

Workload: the 784(+1) x 300, 300(+1) x 10 MLP of paper 003 (sigmoid hidden layer, softmax + cross-entropy,
batch size 1, SGD lr 0.1) on MNIST train images (pixels in [0, 1]; about 19 % are non-zero).

1. ideal float baselines: (a) ``nn.Linear`` layers, autograd, ``torch.optim.SGD`` per sample, on 2 and on 1
   torch threads; (b) the same network as a hand-written loop of tensor ops (no autograd, no optimiser
   object: the fastest float step torch gives on this machine, the fair baseline of (3));
2. analog, user path: both layers `spinaptic.nn.AnalogLinear` on a `LookupTableDevice` built from paper
   003's genuine STT DW-MTJ 300 K tables (``dwmtj_stt_300K.npz``: 20 perturbed instances, one drawn per
   device), autograd, `spinaptic.nn.DeviceSGD`, read noise off;
3. analog, training loop: `spinaptic.networks.mlp.DeviceMLP` on the same device (what the paper-003
   experiment runs), the same update and read;
   each for two update rules: "fractional" (CrossSim's lookup-table update that paper 003 used: one table
   draw for every device whose weight gets a non-zero Delta-W) and "stochastic" (pulse counts by
   stochastic rounding, one draw per pulse: far fewer draws). Reported against (1b) and the 2,000
   samples/s target, with the devices drawn per sample;
4. inference: `AnalogLinear` (784 -> 300, read noise off and on) vs ``nn.Linear`` at batch 1 and batch 1000,
   samples/s and the per-sample overhead of the analog layer.

Timings are medians of ``--repeats`` (>= 5) runs over a fixed number of samples (after a warm-up that compiles
the numba kernels); with the analog step far below the target a short cProfile (top 10 by own time) is stored.
Ratios compare with baselines measured in the same run: training with the hand-written float loop (1b),
inference with ``nn.Linear``. Anchors from the issue (measured on this machine by the issue's author, not by
this script; in ``extra`` and a figure's note, never a baseline): CrossSim v2.0 1.4 samples/s (20 instances),
aihwkit 1.2.0 ConstantStep 820 samples/s, a fused table-draw prototype 1,100 samples/s, ideal float 10,000
samples/s.

Run: ``python benchmarks/bench_mlp_lookup.py [--quick] [--threads N] [--out PATH]``; writes
``benchmarks/results/bench_mlp_lookup.json`` in the common schema (`_machine.write_result`: CPU model, threads
and load average beside the figures; the full detail under ``extra``, read by ``report_mlp_lookup.py``).
``--quick`` without ``--out`` writes to the temporary folder, never over the committed file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numba
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import MIN_RUNS, compare, figure, write_result  # noqa: E402
from spinaptic.arrays.tile import TileConfig  # noqa: E402
from spinaptic.devices.lookup_table import LookupTable, LookupTableDevice, load_npz  # noqa: E402
from spinaptic.networks.mlp import DeviceMLP, MLPConfig  # noqa: E402
from spinaptic.nn import AnalogLayerConfig, AnalogLinear, DeviceSGD  # noqa: E402

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
        return self.l2(torch.sigmoid(self.l1(x)))  # logits; the loss applies the softmax


def _float_mlp(seed: int = 0) -> MLP:
    torch.manual_seed(seed)
    return MLP(nn.Linear(784, 300), nn.Linear(300, 10))


def _tile_config(rule: str, read_noise: bool = False) -> TileConfig:
    return TileConfig(device="lookup-table", read_noise=read_noise, update_rule=rule)


def _analog_mlp(device: LookupTableDevice, rule: str, seed: int = 0) -> MLP:
    ref = _float_mlp(seed)
    cfg = AnalogLayerConfig(_tile_config(rule))
    g = torch.Generator().manual_seed(seed + 1)
    layers = [AnalogLinear(r.in_features, r.out_features, True, cfg, weight=r.weight.detach(),
                           bias_init=r.bias.detach(), device=device, generator=g) for r in (ref.l1, ref.l2)]
    return MLP(*layers)


def _train(model: MLP, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """Batch-size-1 SGD over all rows of x; returns the wall-clock seconds."""
    ce = nn.functional.cross_entropy
    t0 = time.perf_counter()
    for i in range(x.shape[0]):
        opt.zero_grad(set_to_none=True)
        ce(model(x[i:i + 1]), y[i:i + 1]).backward()
        opt.step()
    return time.perf_counter() - t0


def _train_manual_float(w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """The same network and step as a hand-written loop (weights [out, in + 1] with the bias column)."""
    t0 = time.perf_counter()
    for i in range(x.shape[0]):
        xi = x[i]
        h = torch.sigmoid(torch.addmv(w1[:, -1], w1[:, :-1], xi))
        p = torch.softmax(torch.addmv(w2[:, -1], w2[:, :-1], h), 0)
        p[y[i]] -= 1.0
        d1 = (w2[:, :-1].T @ p) * h * (1.0 - h)
        w2[:, :-1].addr_(p, h, alpha=-LR)
        w2[:, -1].add_(p, alpha=-LR)
        w1[:, :-1].addr_(d1, xi, alpha=-LR)
        w1[:, -1].add_(d1, alpha=-LR)
    return time.perf_counter() - t0


def _train_loop(mlp: DeviceMLP, x: torch.Tensor, y: torch.Tensor) -> float:
    t0 = time.perf_counter()
    for i in range(x.shape[0]):
        mlp.train_step(x[i:i + 1], y[i:i + 1], LR)
    return time.perf_counter() - t0


def _median_rate(fn, n: int, repeats: int) -> tuple[float, list[float]]:
    """Median samples/s of ``repeats`` calls of ``fn`` (each returning its seconds for n samples), and the runs."""
    rates = [n / fn() for _ in range(repeats)]
    return statistics.median(rates), rates


def _r(runs: list[float]) -> list[float]:
    return [round(v, 1) for v in runs]


def _drawn_devices(tiles, step, n: int) -> float:
    """Mean devices per sample whose conductance changed (got a table draw that moved it), over n steps of
    ``step(i)`` (a separate pass: the bookkeeping is not timed)."""
    changed = 0
    for i in range(n):
        before = [t.state["g"].clone() for t in tiles]
        step(i)
        changed += sum(int((t.state["g"] != b).sum()) for t, b in zip(tiles, before, strict=True))
    return changed / n


def _profile(fn, top: int = 10) -> list[str]:
    pr = cProfile.Profile()
    pr.enable()
    fn()
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
    ap.add_argument("--threads", type=int, default=2, help="numba threads of the device kernels (default 2)")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch threads of the analog runs and the manual float loop (default 1: faster for "
                         "batch-1 tensor ops on this machine; the autograd float baseline is also timed on 2)")
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--float-samples", type=int, default=3000)
    ap.add_argument("--analog-samples", type=int, default=1000)
    ap.add_argument("--infer-samples", type=int, default=2000, help="batch-1 inference samples (batch 1000: 10x)")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"results file (default {RESULTS.name}; --quick: the temporary folder)")
    a = ap.parse_args()
    if a.quick:
        a.float_samples, a.analog_samples, a.infer_samples, a.no_profile = 500, 200, 500, True
    numba.set_num_threads(min(a.threads, numba.config.NUMBA_NUM_THREADS))
    load0 = os.getloadavg()
    t_start = time.perf_counter()

    warm = 100
    n_data = max(warm + a.float_samples, warm + a.analog_samples, a.infer_samples * 10)
    x, y, src = _data(n_data)
    nonzero = float((x != 0).float().mean())
    print(f"data: {src}, {n_data} rows, {nonzero:.1%} non-zero pixels; numba threads {numba.get_num_threads()}",
          flush=True)
    xf, yf = x[warm:warm + a.float_samples], y[warm:warm + a.float_samples]
    xa, ya = x[warm:warm + a.analog_samples], y[warm:warm + a.analog_samples]

    # 1. ideal float baselines
    floats: dict = {}
    for threads in (2, 1):
        torch.set_num_threads(threads)
        fm = _float_mlp()
        fopt = torch.optim.SGD(fm.parameters(), lr=LR)
        _train(fm, fopt, x[:warm], y[:warm])
        r, runs = _median_rate(lambda fm=fm, fopt=fopt: _train(fm, fopt, xf, yf), a.float_samples, a.repeats)
        floats[f"autograd_{threads}_threads"] = {"samples_per_s": r, "runs": runs, "torch_threads": threads}
        print(f"ideal float, autograd + SGD, {threads} torch threads: {r:9.1f} samples/s  runs {_r(runs)}", flush=True)
    torch.set_num_threads(a.torch_threads)
    ref = _float_mlp()
    w1 = torch.cat([ref.l1.weight.detach(), ref.l1.bias.detach()[:, None]], 1).clone()
    w2 = torch.cat([ref.l2.weight.detach(), ref.l2.bias.detach()[:, None]], 1).clone()
    _train_manual_float(w1, w2, x[:warm], y[:warm])
    r, runs = _median_rate(lambda: _train_manual_float(w1, w2, xf, yf), a.float_samples, a.repeats)
    floats["manual_loop"] = {"samples_per_s": r, "runs": runs, "torch_threads": a.torch_threads}
    float_best = max(v["samples_per_s"] for v in floats.values())
    print(f"ideal float, hand-written loop, {a.torch_threads} torch thread(s): {r:9.1f} samples/s  runs {_r(runs)}",
          flush=True)

    # 2./3. analog on the genuine 20-instance lookup tables
    t0 = time.perf_counter()
    table, loader = _load_table(_table_path())
    dev = LookupTableDevice(table=table)
    build_s = time.perf_counter() - t0
    analog: dict = {}
    prof: dict = {}
    for rule in ("fractional", "stochastic"):
        # user path: AnalogLinear + autograd + DeviceSGD
        am = _analog_mlp(dev, rule)
        aopt = DeviceSGD(am.parameters(), lr=LR, generator=torch.Generator().manual_seed(7))
        t0 = time.perf_counter()
        _train(am, aopt, x[:warm], y[:warm])  # numba kernels load / compile here
        warm_s = time.perf_counter() - t0
        r_nn, runs_nn = _median_rate(lambda am=am, aopt=aopt: _train(am, aopt, xa, ya), a.analog_samples, a.repeats)
        def nn_step(i, am=am, aopt=aopt):
            aopt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(am(x[i:i + 1]), y[i:i + 1]).backward()
            aopt.step()

        drawn_nn = _drawn_devices([am.l1.tile, am.l2.tile], nn_step, 50)
        # training loop: networks.mlp.DeviceMLP
        ws = [torch.cat([m.weight.detach(), m.bias.detach()[:, None]], 1).double() for m in (ref.l1, ref.l2)]
        mlp = DeviceMLP(MLPConfig(lr=LR), _tile_config(rule), device=dev, weights=ws,
                        generator=torch.Generator().manual_seed(1))
        _train_loop(mlp, x[:warm], y[:warm])
        r_loop, runs_loop = _median_rate(lambda mlp=mlp: _train_loop(mlp, xa, ya), a.analog_samples, a.repeats)
        drawn_loop = _drawn_devices(mlp.tiles, lambda i, mlp=mlp: mlp.train_step(x[i:i + 1], y[i:i + 1], LR), 50)
        # the compiled epoch (DeviceMLP.train_epoch: networks.mlp_compiled), what the experiments run
        assert mlp.compiled_path()
        seq = torch.arange(a.analog_samples)
        mlp.train_epoch(x[:warm], y[:warm], 0, order=torch.arange(warm))  # compiles / loads the kernel
        r_ep, runs_ep = _median_rate(lambda mlp=mlp, seq=seq: mlp.train_epoch(xa, ya, 0, order=seq), a.analog_samples,
                                     a.repeats)
        analog[rule] = {
            "nn_path_samples_per_s": r_nn, "nn_path_runs": runs_nn, "nn_path_warmup_seconds": warm_s,
            "loop_samples_per_s": r_loop, "loop_runs": runs_loop,
            "compiled_epoch_samples_per_s": r_ep, "compiled_epoch_runs": runs_ep,
            "compiled_epoch_to_target": r_ep / TARGET_SAMPLES_PER_S,
            "compiled_epoch_to_best_float": r_ep / float_best,
            "compiled_epoch_seconds_60k": 60000 / r_ep,
            "devices_drawn_per_sample": drawn_loop, "devices_drawn_per_sample_nn_path": drawn_nn,
            "loop_to_target": r_loop / TARGET_SAMPLES_PER_S, "loop_to_best_float": r_loop / float_best,
            "nn_path_to_target": r_nn / TARGET_SAMPLES_PER_S, "nn_path_to_best_float": r_nn / float_best,
            "loop_epoch_seconds_60k": 60000 / r_loop,
        }
        print(f"analog, rule {rule!r}: DeviceMLP compiled epoch {r_ep:8.1f} samples/s runs {_r(runs_ep)} "
              f"({r_ep / TARGET_SAMPLES_PER_S:.2f} of target)", flush=True)
        print(f"analog, rule {rule!r}: DeviceMLP loop {r_loop:8.1f} samples/s runs {_r(runs_loop)} "
              f"({r_loop / TARGET_SAMPLES_PER_S:.2f} of target); AnalogLinear + DeviceSGD {r_nn:8.1f} samples/s "
              f"runs {_r(runs_nn)}; {drawn_loop:.0f} devices drawn per sample", flush=True)
        if not a.no_profile:
            prof[rule] = _profile(lambda mlp=mlp: _train_loop(mlp, xa[:300], ya[:300]))

    # 4. inference: AnalogLinear vs nn.Linear (first layer, 784 -> 300)
    lin = nn.Linear(784, 300)
    g = torch.Generator().manual_seed(3)
    ana = {rn: AnalogLinear(784, 300, True, AnalogLayerConfig(_tile_config("stochastic", rn)),
                            weight=lin.weight.detach(), bias_init=lin.bias.detach(), device=dev, generator=g).eval()
           for rn in (False, True)}
    infer: dict = {}
    for batch, n in ((1, a.infer_samples), (1000, a.infer_samples * 10)):
        xi = x[:n]
        lin_rate, lin_runs = _inference(lin, xi, batch, a.repeats)
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

    best_rule = analog["fractional"]["compiled_epoch_samples_per_s"]
    figs = _figures(floats, analog, infer, a.torch_threads)
    extra = {
        "data": src,
        "nonzero_pixel_fraction": nonzero,
        "table": table.describe(),
        "table_loader": loader,
        "analog_build_seconds": build_s,
        "float": floats,
        "float_best_samples_per_s": float_best,
        "analog": analog,
        "target_samples_per_s": TARGET_SAMPLES_PER_S,
        "meets_target": {rule: v["compiled_epoch_samples_per_s"] >= TARGET_SAMPLES_PER_S for rule, v in analog.items()},
        "anchors_samples_per_s": ANCHORS,
        "anchors_note": "from issue 10, measured on this machine by the issue's author; not measured here",
        "ratio_fractional_compiled_epoch_to_anchors": {k: best_rule / v for k, v in ANCHORS.items()},
        "ratio_stochastic_compiled_epoch_to_anchors": {
            k: analog["stochastic"]["compiled_epoch_samples_per_s"] / v for k, v in ANCHORS.items()},
        "inference_784x300": infer,
        "profile_top10_tottime": prof,
        "repeats": a.repeats,
        "quick": a.quick,
        "total_seconds": time.perf_counter() - t_start,
    }
    out = a.out or (Path(tempfile.gettempdir()) / "bench_mlp_lookup.quick.json" if a.quick else RESULTS)
    write_result("bench_mlp_lookup", "paper 003 MLP 785x300, 301x10, sigmoid + softmax cross-entropy, batch size 1, "
                 "SGD lr 0.1; analog: the genuine STT DW-MTJ 300 K lookup tables (20 instances), read noise off",
                 figs, load0, extra, out=out)
    print(f"total {extra['total_seconds']:.0f} s")


def _figures(floats: dict, analog: dict, infer: dict, torch_threads: int) -> list[dict]:
    """The headline figures: training samples/s against the hand-written float loop and the target, and
    inference samples/s against ``nn.Linear``."""
    anchors = "; ".join(f"{k} {v:g}/s" for k, v in ANCHORS.items())
    base = figure("float_manual_loop", f"ideal float, hand-written loop, {torch_threads} torch thr",
                  floats["manual_loop"]["runs"], "samples/s", higher_is_better=True)
    figs = [figure(f"float_autograd_{t}_threads", f"ideal float, nn.Linear + autograd + SGD, {t} torch thr",
                   floats[f"autograd_{t}_threads"]["runs"], "samples/s", higher_is_better=True) for t in (2, 1)]
    figs.append(base)
    paths = (("compiled_epoch", "DeviceMLP.train_epoch (compiled)", "compiled_epoch_runs"),
             ("loop", "DeviceMLP.train_step per sample", "loop_runs"),
             ("nn_path", "AnalogLinear + DeviceSGD", "nn_path_runs"))
    for rule, v in analog.items():
        for key, label, runs in paths:
            note = f"issue-10 anchors, not measured here: {anchors}" if key == "compiled_epoch" else ""
            f = figure(f"{key}_{rule}", f"lookup table, rule {rule}, {label}", v[runs], "samples/s",
                       higher_is_better=True, target=TARGET_SAMPLES_PER_S, note=note)
            figs.append(compare(f, base))
    for b, row in infer.items():
        bs = b.removeprefix("batch_")
        lin = figure(f"infer_{b}_nn_linear", f"inference 784->300, batch {bs}, nn.Linear", row["nn_linear_runs"],
                     "samples/s", higher_is_better=True)
        figs.append(lin)
        for tag in ("read_noise_off", "read_noise_on"):
            figs.append(compare(figure(f"infer_{b}_analog_{tag}", f"inference 784->300, batch {bs}, AnalogLinear, "
                                       f"{tag.replace('_', ' ')}", row[f"analog_{tag}_runs"], "samples/s",
                                       higher_is_better=True), lin))
    return figs


if __name__ == "__main__":
    main()
