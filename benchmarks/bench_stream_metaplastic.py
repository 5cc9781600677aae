"""Issue 13's performance target: paper 002's stream-metaplastic network, wall time per training step.

Workload: the paper preset's stream batch, 20 replicas (linear, linear-asym, trapezoid and the 32-level float
linear synapse, 5 seeds each) of the 784-512-512-10 binarized network, minibatch 100 of Fashion-MNIST images
per replica: forward (batched matmuls, batch norms, sign), backward, and the metaplastic-Adam update of all
three weight layers.

1. fused: `MetaplasticBNN` with the numba kernel `_metaplastic_kernels.adam_meta_step` (the default on CPU);
2. eager: the same network with ``compiled=False``, the torch twin of the update (the same rule in ~20 tensor
   passes per layer) — the baseline as good as plain torch allows: in place where it can, no Python loop over
   replicas or weights.

Each of ``--repeats`` (>= 5) runs times ``--steps`` steps after ``--warmup`` steps on a fresh network with the
same seed; medians are reported (the fused one against the eager one measured in the same run), with the
projected time of the paper preset's stream half (60 subsets x 30 epochs x 10 steps). Torch and numba use
``--threads`` threads (default: all cores). The machine is shared: the CPU model, thread counts and load
average are stored beside every figure (`_machine.write_result`, the common schema).

Run: ``python benchmarks/bench_stream_metaplastic.py [--quick] [--repeats N] [--out PATH]``; writes
``benchmarks/results/bench_stream_metaplastic.json`` and prints a Markdown table. ``--quick`` (1 seed per rule,
4 steps, 2 repeats) writes only to ``--out`` if given, never over the committed file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import MIN_RUNS, compare, figure, write_result  # noqa: E402
from spinaptic.experiments.stream_metaplastic import rule_from_name  # noqa: E402
from spinaptic.networks.metaplastic import BNNConfig, MetaplasticBNN  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "bench_stream_metaplastic.json"
RULE_NAMES = ("linear", "linear-asym", "trapezoid", "linear-32-float")
PAPER_STREAM_STEPS = 60 * 30 * 10  # subsets x epochs x minibatches of 100 per 1,000-image subset


def _data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    from spinaptic.data import load_dataset

    try:
        x, y = load_dataset("fashion-mnist", "train", flatten=True, scale="unit", subset=n)
    except Exception:  # noqa: BLE001 - no Fashion-MNIST copy: random images of the same shape time the same
        g = torch.Generator().manual_seed(0)
        x, y = torch.rand((n, 784), generator=g), torch.randint(0, 10, (n,), generator=g)
    return x.float(), y


def _time_steps(compiled: bool, seeds: int, warmup: int, steps: int, x, y) -> float:
    """Wall seconds per step of ``steps`` steps after ``warmup`` ones."""
    rules = [rule_from_name(r) for r in RULE_NAMES for _ in range(seeds)]
    net = MetaplasticBNN(BNNConfig(), rules, generator=torch.Generator().manual_seed(0), compiled=compiled)
    R, B = len(rules), net.config.batch_size
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, x.shape[0], (warmup + steps, R, B), generator=g)
    for s in range(warmup):
        net.train_step(x[idx[s]], y[idx[s]])
    t0 = time.perf_counter()
    for s in range(warmup, warmup + steps):
        net.train_step(x[idx[s]], y[idx[s]])
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 seed per rule, few steps, 2 repeats")
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None,
                    help=f"results file (default {RESULTS.name}; --quick: nothing written without --out)")
    a = ap.parse_args()
    seeds, steps, repeats = (1, 4, 2) if a.quick else (5, a.steps, a.repeats)
    if a.threads:
        torch.set_num_threads(a.threads)
        import numba

        numba.set_num_threads(a.threads)
    x, y = _data(2000)
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    runs = {name: [_time_steps(compiled, seeds, a.warmup, steps, x, y) * 1e3 for _ in range(repeats)]
            for name, compiled in (("fused", True), ("eager", False))}
    replicas = len(RULE_NAMES) * seeds
    eager = figure("eager_ms_per_step", f"stream-metaplastic train step, eager torch, {replicas} replicas",
                   runs["eager"], "ms/step", higher_is_better=False)
    fused = compare(figure("fused_ms_per_step", f"stream-metaplastic train step, fused numba, {replicas} replicas",
                           runs["fused"], "ms/step", higher_is_better=False), eager)
    figs = [fused, eager]
    res = {k: {"ms_per_step": statistics.median(v), "runs_ms": v} for k, v in runs.items()}
    projected = {k: v["ms_per_step"] * PAPER_STREAM_STEPS / 6e4 for k, v in res.items()}
    extra = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "replicas": replicas,
             "rules": list(RULE_NAMES), "seeds_per_rule": seeds, "steps": steps, "warmup_steps": a.warmup,
             "repeats": repeats, "quick": a.quick, "results": res, "eager_over_fused": fused["ratio_to_baseline"],
             "paper_stream_steps": PAPER_STREAM_STEPS, "projected_paper_stream_min": projected,
             "total_seconds": time.perf_counter() - t_start}
    out = a.out or (None if a.quick else RESULTS)
    if out is not None:
        write_result("bench_stream_metaplastic", f"paper 002 stream batch: {replicas} replicas of the 784-512-512-10 "
                     "BNN, minibatch 100 Fashion-MNIST, forward + backward + metaplastic-Adam update; wall ms per step",
                     figs, load0, extra, out=out)
    print(f"| path | ms / step ({replicas} replicas) | runs | projected stream half (min) |")
    print("|---|---|---|---|")
    for k, v in res.items():
        print(f"| {k} | {v['ms_per_step']:.1f} | {[round(r, 2) for r in v['runs_ms']]} | {projected[k]:.0f} |")
    print(f"eager / fused = {fused['ratio_to_baseline']:.1f}x; {torch.get_num_threads()} torch threads, "
          f"load {load0[0]:.2f} -> {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
