"""Bit-exact SC inference of 784-128-10 at 1024 bits: packed numba kernel vs the fair NumPy +/-1 GEMM baseline.

Workload (issue 15): 10,000 MNIST test images x 1,024-bit streams through 784-128-10 (Btanh K = 356, decode by
counting, weight streams fresh per batch of 1,000 images), bit-exact, stream generation included. Reported, each
as the median of >= 5 runs measured in one process (the common schema of ``_machine.py``):

* the packed path on all images, stream generation included, for the ideal-RNG source and the paper's reuse
  source (its banks built once beforehand), wall-clock and CPU seconds (all threads) - target <= 1.5 s;
* its parts: the kernel alone and the stream generation alone (one batch of 1,000 images, scaled);
* the fair NumPy baseline (`sc_numpy_baseline`: float32 buffers filled in place, BLAS GEMMs; timed on a subset
  and scaled linearly; at 1 and at the default number of OpenBLAS threads, the faster reported), the earlier
  naive NumPy baseline (subset, scaled) and the torch GEMM path (subset, scaled);
* ratios: packed / fair NumPy, fair / naive NumPy, torch GEMM / fair NumPy.

XNOR + popcount words: N L (13 x 128 + 3 x 10) = 1.73e10 per 10,000 images; bit operations (XNOR + count per
input bit): N L (785 x 128 + 129 x 10) = 1.04e12. Run ``python benchmarks/bench_sc.py [--quick]``; the full run
writes ``benchmarks/results/sc.json``, ``--quick`` (1,000 images, small subsets, < 60 s) a file in the temp folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here))

from _machine import MIN_RUNS, RESULTS, compare, figure, write_result  # noqa: E402
from sc_numpy_baseline import blas_threads, sc_numpy_baseline, sc_numpy_baseline_naive  # noqa: E402
from spinaptic.devices import bitstream as bs  # noqa: E402
from spinaptic.networks import stochastic_computing as sc  # noqa: E402

LENGTH = 1024
TARGET_S = 1.5  # issue 15: 10,000 images x 1,024 bits, bit-exact, incl. stream generation
BATCH = 1000  # images per weight-stream draw of the packed path (SCConfig.batch_images)
BASELINE_BATCH = 250  # images per weight-bit draw of the NumPy baselines (their default, as before)


def _images(n):
    try:
        from spinaptic.data import load_dataset

        x, _ = load_dataset("mnist", "test", flatten=True, scale="unit", download=False)
        src = "MNIST test"
    except Exception:  # noqa: BLE001 - fall back to synthetic pixels when no MNIST copy is around
        g = torch.Generator().manual_seed(0)
        x = (torch.rand(10000, 784, generator=g) > 0.8).float() * torch.rand(10000, 784, generator=g)
        src = "synthetic"
    reps = -(-n // x.shape[0])
    return x.repeat(reps, 1)[:n].to(torch.float32), src


def _net(length, path="auto", batch=BATCH):
    g = torch.Generator().manual_seed(1)
    w1 = (torch.rand(128, 784, generator=g) * 2 - 1) * 0.3
    w2 = (torch.rand(10, 128, generator=g) * 2 - 1) * 0.5
    return sc.SCNetwork(w1, torch.zeros(128), w2, torch.zeros(10),
                        sc.SCConfig(length=length, btanh_s=4.0, batch_images=batch, path=path))


def _runs(fn, repeats, scale=1.0):
    """Wall and CPU seconds (all threads, ``time.process_time``) of ``repeats`` calls, times ``scale``."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * scale)
        cpu.append((time.process_time() - c) * scale)
    return wall, cpu


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


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--numpy-images", type=int, default=500, help="images the fair NumPy baseline is timed on")
    ap.add_argument("--naive-images", type=int, default=250, help="images the naive NumPy baseline is timed on")
    ap.add_argument("--gemm-images", type=int, default=200, help="images the torch GEMM path is timed on")
    ap.add_argument("--quick", action="store_true", help="1,000 images, small subsets, no compile timing (< 60 s)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.quick:
        a.images, a.numpy_images, a.naive_images, a.gemm_images = 1000, 50, 25, 25
    out = a.out or (Path(tempfile.gettempdir()) / "spinaptic_bench_sc_quick.json" if a.quick else RESULTS / "sc.json")
    load0 = os.getloadavg()
    n, reps = a.images, a.repeats
    per10k = 10000 / n
    x, img_src = _images(n)
    net = _net(LENGTH)
    k1, k2 = net.hidden_states, net.output_states
    g = torch.Generator().manual_seed(2)
    kw = dict(length=LENGTH, hidden_states=k1, output_states=k2)

    # warm-up (compiles, or loads from the cache) and a bit-for-bit cross-check of the two exact paths
    w1s, w2s = net.weight_streams(bs.IdealSource(), LENGTH, g)
    xs = net.input_streams(x[:16], bs.IdealSource(), LENGTH, g)
    pa = sc.sc_forward(xs, w1s, w2s, path="packed", **kw)
    pb = sc.sc_forward(xs, w1s, w2s, path="gemm", **kw)
    paths_agree = all(torch.equal(getattr(pa, f), getattr(pb, f)) for f in ("sums", "hidden_ones", "hidden_state"))

    figs, extra = {}, {}
    for name, src in (("ideal", bs.IdealSource()),
                      ("reuse", bs.ReuseSource(bs.ReuseConfig(mtj_streams=False), seed=3))):
        if name == "reuse":
            for role in ("input", "layer1", "layer2"):
                src.bank(role, LENGTH)  # the measured banks: built once, outside the timing
        net.run(x[:8], source=src, generator=g)
        wall, cpu = _runs(lambda src=src: net.run(x, source=src, generator=g), reps, per10k)
        lbl = f"SC 784-128-10, {n:,} images x {LENGTH} bits, packed, {name} streams incl. generation"
        note = "" if n == 10000 else f"timed on {n:,} images, scaled to 10,000"
        figs[f"packed_{name}"] = figure(f"packed_{name}_s", lbl + " (per 10k)", wall, "s", higher_is_better=False,
                                        target=TARGET_S, note=note)
        figs[f"packed_{name}_cpu"] = figure(f"packed_{name}_cpu_s", lbl + ", CPU-s all threads (per 10k)", cpu,
                                            "CPU-s", higher_is_better=False, note=note)

    # the parts: kernel alone and stream generation alone, on one batch, scaled to 10,000 images
    nb = min(BATCH, n)
    xb = x[:nb]
    xs = net.input_streams(xb, bs.IdealSource(), LENGTH, g)
    w1s, w2s = net.weight_streams(bs.IdealSource(), LENGTH, g)
    sc.sc_forward(xs, w1s, w2s, path="packed", **kw)
    wall, _ = _runs(lambda: sc.sc_forward(xs, w1s, w2s, path="packed", **kw), reps, 10000 / nb)
    figs["kernel"] = figure("kernel_only_s", "SC packed kernel alone (streams given), per 10k images", wall, "s",
                            higher_is_better=False, note=f"one batch of {nb} images, scaled to 10,000")

    def streams():
        net.weight_streams(bs.IdealSource(), LENGTH, g)
        net.input_streams(xb, bs.IdealSource(), LENGTH, g)

    wall, _ = _runs(streams, reps, 10000 / nb)
    figs["streams"] = figure("streams_ideal_s", "SC ideal stream generation alone (inputs + weights), per 10k",
                             wall, "s", higher_is_better=False,
                             note=f"one batch of {nb} images (weights drawn once per batch), scaled to 10,000")

    # torch +/-1 GEMM path (same API, the other exact path), on a subset
    ng = min(a.gemm_images, n)
    gemm_net = _net(LENGTH, path="gemm", batch=ng)
    gemm_net.run(x[:8], source=bs.IdealSource(), generator=g)
    wall, _ = _runs(lambda: gemm_net.run(x[:ng], source=bs.IdealSource(), generator=g), reps, 10000 / ng)
    figs["gemm"] = figure("torch_gemm_s", "SC torch +/-1 GEMM path incl. ideal streams, per 10k images", wall, "s",
                          higher_is_better=False, note=f"timed on {ng} images (one batch), scaled to 10,000")

    # NumPy baselines on subsets, scaled linearly: the fair one at 1 and at the default OpenBLAS threads
    w1a, w2a = net.w1aug.numpy(), net.w2aug.numpy()
    nn = min(a.numpy_images, n)
    xn = x[:nn].numpy()
    rng = np.random.default_rng(0)
    default_threads = blas_threads()
    fair = {}
    for th in sorted({1, default_threads} - {0}) or [0]:
        if th:
            blas_threads(th)

        def fair_run():
            return sc_numpy_baseline(xn, w1a, w2a, LENGTH, k1, rng=rng, batch=BASELINE_BATCH)

        fair_run()
        fair[th] = _runs(fair_run, reps, 10000 / nn)[0]
    best = min(fair, key=lambda th: float(np.median(fair[th])))
    if best:
        blas_threads(best)
    extra["numpy_fair_s_per_10k_by_blas_threads"] = {str(k): float(np.median(v)) for k, v in fair.items()}
    figs["numpy_fair"] = figure(
        "numpy_fair_s", "SC fair NumPy +/-1 GEMM baseline (float32 in place), per 10k images", fair[best], "s",
        higher_is_better=False, note=f"timed on {nn} images (weight bits per {BASELINE_BATCH} images), scaled "
        f"linearly to 10,000; OpenBLAS threads {best} (faster of {sorted(fair)})")
    na = min(a.naive_images, n)
    xa = x[:na].numpy()
    wall, _ = _runs(lambda: sc_numpy_baseline_naive(xa, w1a, w2a, LENGTH, k1, rng=rng, batch=BASELINE_BATCH),
                    reps, 10000 / na)
    figs["numpy_naive"] = figure(
        "numpy_naive_s", "SC naive NumPy baseline (float64 draws, np.where), per 10k images", wall, "s",
        higher_is_better=False, note=f"timed on {na} images, scaled linearly to 10,000; OpenBLAS threads {best}")
    if default_threads:
        blas_threads(default_threads)

    compare(figs["packed_ideal"], figs["numpy_fair"])
    compare(figs["packed_reuse"], figs["numpy_fair"])
    compare(figs["kernel"], figs["numpy_fair"])
    compare(figs["numpy_fair"], figs["numpy_naive"])
    compare(figs["gemm"], figs["numpy_fair"])

    words = 10000 * LENGTH * (13 * 128 + 3 * 10)
    bitops = 10000 * LENGTH * ((784 + 1) * 128 + (128 + 1) * 10)
    extra.update({
        "images": n, "image_source": img_src, "length": LENGTH, "hidden_states": k1, "output_states": k2,
        "batch_images": BATCH, "numpy_baseline_batch": BASELINE_BATCH,
        "xnor_popcount_words_per_10k": words, "bit_operations_per_10k": bitops,
        "popcount_words_per_s_kernel_only": words / figs["kernel"]["value"],
        "bit_ops_per_second_packed_ideal": bitops / figs["packed_ideal"]["value"],
        "paths_agree_bit_for_bit": paths_agree,
        "numpy_blas_threads_default": default_threads,
    })
    if not a.quick:
        extra["jit_compile_seconds_cold_cache_single_run"] = _compile_time()
    order = ("packed_ideal", "packed_reuse", "packed_ideal_cpu", "packed_reuse_cpu", "kernel", "streams",
             "numpy_fair", "numpy_naive", "gemm")
    write_result("sc", f"bit-exact SC inference, 784-128-10, {LENGTH}-bit streams, Btanh K = {k1}, decode by "
                 f"counting, {n:,} {img_src} images", [figs[k] for k in order], load0, extra, out=out)
    return {"figures": [figs[k] for k in order], "extra": extra}


if __name__ == "__main__":
    main()
