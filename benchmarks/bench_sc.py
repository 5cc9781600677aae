"""Bit-exact SC inference of 784-128-10 at 1024 bits: packed numba kernel vs the NumPy +/-1 GEMM baseline.

Reports, as medians of several runs measured in one go: the packed path on all 10,000 MNIST test images
(stream generation included, for the ideal-RNG and the paper's reuse source; kernel alone), bit-operations
per second (XNOR + count per input bit: N L (785 x 128 + 129 x 10)), the JIT compile time of a cold cache
(separate process), the torch GEMM path and the NumPy baseline (timed on a subset and scaled linearly when
the full run would take too long), and the ratio. Writes results/sc.json.
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

import numpy as np
import torch

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here))

from sc_numpy_baseline import sc_numpy_baseline  # noqa: E402
from spinaptic.devices import bitstream as bs  # noqa: E402
from spinaptic.networks import stochastic_computing as sc  # noqa: E402

N_IMAGES = int(os.environ.get("SC_BENCH_IMAGES", 10000))
LENGTH = 1024
REPEATS = int(os.environ.get("SC_BENCH_REPEATS", 3))
BASELINE_IMAGES = int(os.environ.get("SC_BENCH_BASELINE_IMAGES", 500))
GEMM_IMAGES = int(os.environ.get("SC_BENCH_GEMM_IMAGES", 500))


def _images():
    try:
        from spinaptic.data import load_dataset

        x, _ = load_dataset("mnist", "test", flatten=True, scale="unit", download=False)
        src = "MNIST test"
    except Exception:  # noqa: BLE001 - fall back to synthetic pixels when no MNIST copy is around
        g = torch.Generator().manual_seed(0)
        x = (torch.rand(10000, 784, generator=g) > 0.8).float() * torch.rand(10000, 784, generator=g)
        src = "synthetic"
    reps = -(-N_IMAGES // x.shape[0])
    return x.repeat(reps, 1)[:N_IMAGES].to(torch.float32), src


def _net(length):
    g = torch.Generator().manual_seed(1)
    w1 = (torch.rand(128, 784, generator=g) * 2 - 1) * 0.3
    w2 = (torch.rand(10, 128, generator=g) * 2 - 1) * 0.5
    return sc.SCNetwork(w1, torch.zeros(128), w2, torch.zeros(10),
                        sc.SCConfig(length=length, btanh_s=4.0, batch_images=1000))


def _median(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts


def _compile_time() -> float:
    """Cold-cache JIT compile time of every SC kernel, in a fresh process with an empty numba cache."""
    code = (
        "import time, torch; t0 = time.perf_counter();"
        "from spinaptic.devices import bitstream as bs;"
        "from spinaptic.networks import stochastic_computing as sc;"
        "g = torch.Generator().manual_seed(0);"
        "net = sc.SCNetwork(torch.zeros(4, 70), torch.zeros(4), torch.zeros(2, 4), torch.zeros(2), sc.SCConfig(length=70));"
        "t1 = time.perf_counter();"
        "net.run(torch.zeros(3, 70), source=bs.IdealSource(), generator=g);"
        "bs.ReuseSource(bs.ReuseConfig(mtj_streams=False)).encode(torch.zeros(3), 70, generator=g);"
        "print(time.perf_counter() - t1)"
    )
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    x01, img_src = _images()
    x = x01  # pixels in [0, 1] as bipolar values (paper 004)
    net = _net(LENGTH)
    k1 = net.hidden_states
    n = x.shape[0]
    bitops = n * LENGTH * ((784 + 1) * 128 + (128 + 1) * 10)
    g = torch.Generator().manual_seed(2)

    # warm-up (compiles from the cache) and a bit-for-bit cross-check of the two exact paths
    small = x[:16]
    w1s, w2s = net.weight_streams(bs.IdealSource(), LENGTH, g)
    xs = net.input_streams(small, bs.IdealSource(), LENGTH, g)
    kw = dict(length=LENGTH, hidden_states=k1, output_states=net.output_states)
    a = sc.sc_forward(xs, w1s, w2s, path="packed", **kw)
    b = sc.sc_forward(xs, w1s, w2s, path="gemm", **kw)
    paths_agree = all(torch.equal(getattr(a, f), getattr(b, f)) for f in ("sums", "hidden_ones", "hidden_state"))

    results: dict = {}
    for name, src in (("ideal", bs.IdealSource()),
                      ("reuse", bs.ReuseSource(bs.ReuseConfig(mtj_streams=False), seed=3))):
        if name == "reuse":
            src.bank("input", 1024), src.bank("layer1", 1024), src.bank("layer2", 1024)  # built once (measured)
        net.run(x[:8], source=src, generator=g)
        med, ts = _median(lambda src=src: net.run(x, source=src, generator=g), REPEATS)
        results[f"packed_{name}_s"] = med
        results[f"packed_{name}_runs_s"] = ts
        print(f"packed path, {name} streams: {n} images x {LENGTH} bits in {med:.2f} s (median of {ts})", flush=True)

    # kernel alone: streams generated beforehand for one batch of 1000 images, scaled to n
    nb = min(1000, n)
    xs = net.input_streams(x[:nb], bs.IdealSource(), LENGTH, g)
    w1s, w2s = net.weight_streams(bs.IdealSource(), LENGTH, g)
    med_k, ts_k = _median(lambda: sc.sc_forward(xs, w1s, w2s, path="packed", **kw), REPEATS)
    results["kernel_only_s_per_10k"] = med_k * 10000 / nb
    print(f"kernel alone: {med_k:.2f} s per {nb} images -> {results['kernel_only_s_per_10k']:.2f} s per 10k", flush=True)

    # torch +/-1 GEMM path (same API, other exact path), on a subset
    ng = min(GEMM_IMAGES, n)
    gemm_net = sc.SCNetwork(net.w1aug[:, :-1], net.w1aug[:, -1], net.w2aug[:, :-1], net.w2aug[:, -1],
                            sc.SCConfig(length=LENGTH, btanh_s=4.0, batch_images=ng, path="gemm"))
    med_g, ts_g = _median(lambda: gemm_net.run(x[:ng], source=bs.IdealSource(), generator=g), max(1, REPEATS - 1))
    results["torch_gemm_path_s_per_10k"] = med_g * 10000 / ng

    # NumPy baseline on a subset, scaled linearly
    nbase = min(BASELINE_IMAGES, n)
    rng = np.random.default_rng(0)
    w1a, w2a = net.w1aug.numpy(), net.w2aug.numpy()
    xn = x[:nbase].numpy()
    med_b, ts_b = _median(lambda: sc_numpy_baseline(xn, w1a, w2a, LENGTH, k1, rng=rng), REPEATS)
    base_10k = med_b * 10000 / nbase
    print(f"NumPy baseline: {med_b:.2f} s per {nbase} images -> {base_10k:.1f} s per 10k (median of {ts_b})", flush=True)

    compile_s = _compile_time()
    per10k = results["packed_ideal_s"] * 10000 / n
    doc = {
        "benchmark": "sc",
        "what": f"bit-exact SC inference, 784-128-10, {LENGTH}-bit streams, Btanh K = {k1}, decode by counting",
        "images": n,
        "image_source": img_src,
        "length": LENGTH,
        "bit_operations": bitops,
        "packed_seconds_ideal_streams": results["packed_ideal_s"],
        "packed_seconds_reuse_streams": results["packed_reuse_s"],
        "packed_seconds_per_10k_ideal": per10k,
        "packed_runs_ideal_s": results["packed_ideal_runs_s"],
        "packed_runs_reuse_s": results["packed_reuse_runs_s"],
        "kernel_only_seconds_per_10k": results["kernel_only_s_per_10k"],
        "bit_ops_per_second_ideal": bitops / results["packed_ideal_s"],
        "bit_ops_per_second_reuse": bitops / results["packed_reuse_s"],
        "bit_ops_per_second_kernel_only": bitops / n * 10000 / results["kernel_only_s_per_10k"],
        "torch_gemm_path_seconds_per_10k": results["torch_gemm_path_s_per_10k"],
        "torch_gemm_images_timed": ng,
        "numpy_baseline_seconds_per_10k": base_10k,
        "numpy_baseline_images_timed": nbase,
        "numpy_baseline_runs_s": ts_b,
        "numpy_baseline_note": f"timed on {nbase} images and scaled linearly to 10,000",
        "speedup_vs_numpy_baseline_ideal": base_10k / per10k,
        "speedup_vs_numpy_baseline_reuse": base_10k / (results["packed_reuse_s"] * 10000 / n),
        "jit_compile_seconds_cold_cache": compile_s,
        "paths_agree_bit_for_bit": paths_agree,
        "target_seconds": 15.0,
        "meets_target": per10k <= 15.0,
        "repeats": REPEATS,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_1min": os.getloadavg()[0]},
    }
    print(f"\n{'packed, ideal streams':<34}{per10k:8.2f} s / 10k   {doc['bit_ops_per_second_ideal']:.3g} bit-op/s")
    print(f"{'packed, reuse streams':<34}{doc['packed_seconds_reuse_streams'] * 10000 / n:8.2f} s / 10k   "
          f"{doc['bit_ops_per_second_reuse']:.3g} bit-op/s")
    print(f"{'kernel alone':<34}{doc['kernel_only_seconds_per_10k']:8.2f} s / 10k")
    print(f"{'torch GEMM path':<34}{doc['torch_gemm_path_seconds_per_10k']:8.2f} s / 10k")
    print(f"{'NumPy +/-1 GEMM baseline':<34}{base_10k:8.2f} s / 10k")
    print(f"speed-up vs baseline: {doc['speedup_vs_numpy_baseline_ideal']:.1f}x (ideal), "
          f"{doc['speedup_vs_numpy_baseline_reuse']:.1f}x (reuse); cold JIT compile {compile_s:.1f} s; "
          f"paths agree: {paths_agree}")
    out = here / "results" / "sc.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
