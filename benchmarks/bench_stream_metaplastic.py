"""Issue 13's performance target: paper 002's stream-metaplastic network, wall time per training step.

Workload: the paper preset's stream batch, 20 replicas (linear, linear-asym, trapezoid and the 32-level float
linear synapse, 5 seeds each) of the 784-512-512-10 binarized network, minibatch 100 of Fashion-MNIST images
per replica: forward (batched matmuls, batch norms, sign), backward, and the metaplastic-Adam update of all
three weight layers.

1. fused: `MetaplasticBNN` with the numba kernel `_metaplastic_kernels.adam_meta_step` (the default on CPU);
2. eager: the same network with ``compiled=False``, the torch twin of the update (the same rule in ~20 tensor
   passes per layer) — the baseline as good as plain torch allows: in place where it can, no Python loop over
   replicas or weights.

Each of ``--repeats`` runs times ``--steps`` steps after ``--warmup`` steps on a fresh network with the same
seed; medians are reported, with the projected time of the paper preset's stream half (60 subsets x 30 epochs x
10 steps). Torch and numba use ``--threads`` threads (default: all cores). The machine is shared: the CPU model,
thread count and load average are stored beside every figure.

Run: ``python benchmarks/bench_stream_metaplastic.py [--quick] [--repeats N]``; writes
``benchmarks/results/bench_stream_metaplastic.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from _machine import cpu_model
from spinaptic.experiments.stream_metaplastic import rule_from_name
from spinaptic.networks.metaplastic import BNNConfig, MetaplasticBNN

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
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    seeds, steps, repeats = (1, 4, 2) if a.quick else (5, a.steps, a.repeats)
    if a.threads:
        torch.set_num_threads(a.threads)
        import numba

        numba.set_num_threads(a.threads)
    x, y = _data(2000)
    load0 = os.getloadavg()
    res = {}
    for name, compiled in (("fused", True), ("eager", False)):
        runs = [_time_steps(compiled, seeds, a.warmup, steps, x, y) for _ in range(repeats)]
        res[name] = {"ms_per_step": statistics.median(runs) * 1e3, "runs_ms": [round(r * 1e3, 2) for r in runs]}
    ratio = res["eager"]["ms_per_step"] / res["fused"]["ms_per_step"]
    doc = {"benchmark": "stream-metaplastic train step", "date": datetime.now(UTC).isoformat(timespec="seconds"),
           "cpu": cpu_model(), "threads": torch.get_num_threads(), "load_before": load0,
           "load_after": os.getloadavg(), "replicas": len(RULE_NAMES) * seeds, "steps": steps, "repeats": repeats,
           "quick": a.quick, "torch": torch.__version__, "results": res, "eager_over_fused": ratio,
           "projected_paper_stream_min": {k: v["ms_per_step"] * PAPER_STREAM_STEPS / 6e4 for k, v in res.items()}}
    if not a.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(doc, indent=1))
    print(f"| path | ms / step ({doc['replicas']} replicas) | runs | projected stream half (min) |")
    print("|---|---|---|---|")
    for k, v in res.items():
        print(f"| {k} | {v['ms_per_step']:.1f} | {v['runs_ms']} | {doc['projected_paper_stream_min'][k]:.0f} |")
    print(f"eager / fused = {ratio:.1f}x; {doc['cpu']}, {doc['threads']} threads, load {load0[0]:.2f} -> "
          f"{doc['load_after'][0]:.2f}")


if __name__ == "__main__":
    main()
