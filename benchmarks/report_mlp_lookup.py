"""Markdown table of `bench_mlp_lookup.py`'s results file (so notes quote the file, not typed numbers).

Run: ``python benchmarks/report_mlp_lookup.py [results.json ...]``; several files (repeated benchmark runs)
are summarised by their median, with the spread of the runs. Reads the common schema (detail under ``extra``,
machine under ``machine``) and the older flat files (``results/bench_mlp_lookup_run*.json``) alike. The
README's performance table (``docs/make_perf_table.py``) shows one file's ``figures``; this report adds the
spread over repeated files, the devices drawn per sample and the inference overheads.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "results" / "bench_mlp_lookup.json"


def _fmt(vals: list[float]) -> str:
    med = statistics.median(vals)
    return f"{med:,.0f}" if len(vals) == 1 else f"{med:,.0f} ({min(vals):,.0f}-{max(vals):,.0f})"


def _load(path: Path) -> dict:
    """The file's detail with its machine record: ``extra`` of the common schema, or an older flat file."""
    d = json.loads(path.read_text())
    return {**d["extra"], "machine": d["machine"]} if "figures" in d else d


def main(paths: list[Path]) -> None:
    docs = [_load(p) for p in paths]
    loads = [f"{d['machine']['loadavg_start'][0]:.2f}->{d['machine']['loadavg_end'][0]:.2f}" for d in docs]
    print(f"{len(docs)} run(s) of bench_mlp_lookup.py; numba threads {docs[0]['machine']['numba_threads']}, "
          f"torch threads {docs[0]['machine']['torch_threads']}; load average (1 min) {', '.join(loads)}; "
          f"{docs[0]['data']}; values: median of the runs' medians (min-max over runs)\n")
    rows = [("ideal float, nn.Linear + autograd + SGD, 2 torch threads", [d["float"]["autograd_2_threads"]["samples_per_s"] for d in docs]),
            ("ideal float, nn.Linear + autograd + SGD, 1 torch thread", [d["float"]["autograd_1_threads"]["samples_per_s"] for d in docs]),
            ("ideal float, hand-written loop (baseline)", [d["float"]["manual_loop"]["samples_per_s"] for d in docs])]
    for rule in ("fractional", "stochastic"):
        rows.append((f"lookup table, rule {rule}, DeviceMLP.train_epoch (compiled loop)",
                     [d["analog"][rule]["compiled_epoch_samples_per_s"] for d in docs]))
        rows.append((f"lookup table, rule {rule}, DeviceMLP.train_step per sample", [d["analog"][rule]["loop_samples_per_s"] for d in docs]))
        rows.append((f"lookup table, rule {rule}, AnalogLinear + DeviceSGD", [d["analog"][rule]["nn_path_samples_per_s"] for d in docs]))
    print("| training step, batch 1 | samples/s | ratio to the float baseline | ratio to the 2,000/s target |")
    print("|---|---|---|---|")
    base = statistics.median(d["float"]["manual_loop"]["samples_per_s"] for d in docs)
    for name, vals in rows:
        med = statistics.median(vals)
        print(f"| {name} | {_fmt(vals)} | {med / base:.2f} | {med / docs[0]['target_samples_per_s']:.2f} |")
    drawn = {r: statistics.median(d["analog"][r]["devices_drawn_per_sample"] for d in docs) for r in ("fractional", "stochastic")}
    print(f"\nDevices whose conductance changed per sample (of {2 * (785 * 300 + 301 * 10):,}): "
          + ", ".join(f"{r} {v:,.0f}" for r, v in drawn.items()))
    print("\n| inference, 784 -> 300 | nn.Linear samples/s | AnalogLinear, read noise off | overhead us/sample | read noise on | overhead us/sample |")
    print("|---|---|---|---|---|---|")
    for b in ("batch_1", "batch_1000"):
        r = [d["inference_784x300"][b] for d in docs]
        print(f"| {b.replace('_', ' ')} | {_fmt([x['nn_linear_samples_per_s'] for x in r])} "
              f"| {_fmt([x['analog_read_noise_off_samples_per_s'] for x in r])} "
              f"| {statistics.median(x['analog_read_noise_off_overhead_us_per_sample'] for x in r):.1f} "
              f"| {_fmt([x['analog_read_noise_on_samples_per_s'] for x in r])} "
              f"| {statistics.median(x['analog_read_noise_on_overhead_us_per_sample'] for x in r):.1f} |")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [DEFAULT])
