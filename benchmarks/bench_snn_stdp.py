"""Issue 12's performance targets: paper 001's STDP spiking network, CPU time per MNIST image on one core.

Workload: 784 Poisson inputs -> 100 excitatory <-> 100 inhibitory neurons, the `diehl_cook()` configuration
(synapses `dw-continuous` with the calibrated response), 350 steps per image plus the 150-step rest, MNIST
train / test images.

1. compiled training: `STDPNetwork.train` (the compiled stretch `_kernels.train_images`), after a warm-up of
   ``--warmup`` images that compiles / loads the kernels;
2. inference: `STDPNetwork.responses` (`_kernels.infer`) with the network trained in (1);
3. the protocol path: `STDPNetwork(..., compiled=False)` (Python programs the devices at every STDP event);
4. the plain-torch loop `reference.TorchLoop` (dense tensor ops, one Python iteration per step, as BindsNET
   does it; ideal float synapses): ``train_image`` with learning, and without it for inference;
5. replicas: ``STDPNetwork(replicas=8)``, training and inference, per image and replica, on one numba thread
   here and on ``--replica-threads`` threads in a child process (its CPU and wall-clock time).

Times are CPU seconds (`time.process_time`) of the process with one torch thread and (1-4) one numba thread
(``NUMBA_NUM_THREADS=1`` is set before numba is imported). Each of ``--repeats`` (>= 5) runs re-times the same
workload on a fresh network with the same seed after its warm-up; medians are reported. The compiled figures
are compared with the torch loop measured in the same run. Anchors from the issue (measured on this machine by
the issue's author, not by this script; in the figures' notes and ``extra``, never a baseline): BindsNET 0.3.4
142 ms per training image and 104 ms per test image; targets <= 5 ms per training and <= 1.5 ms per test image.

Run: ``python benchmarks/bench_snn_stdp.py [--quick] [--repeats N] [--out PATH]``; writes
``benchmarks/results/bench_snn_stdp.json`` in the common schema (`_machine.write_result`: CPU model, threads
and load average beside the figures) and prints a Markdown table. ``--quick`` without ``--out`` writes to the
temporary folder, never over the committed file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

if __name__ == "__main__":  # the thread count must be fixed before numba (via spinaptic) is imported
    os.environ["NUMBA_NUM_THREADS"] = os.environ.get("_BENCH_SNN_NUMBA_THREADS", "1")

import numba  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import MIN_RUNS, compare, figure, write_result  # noqa: E402
from spinaptic.networks.snn import STDPNetwork, diehl_cook  # noqa: E402
from spinaptic.networks.snn.reference import TorchLoop  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "bench_snn_stdp.json"
N_EXC = 100
ANCHORS_MS = {"bindsnet_0_3_4_train": 142.0, "bindsnet_0_3_4_test": 104.0}
TARGETS_MS = {"train": 5.0, "test": 1.5}


def _data(split: str, n: int) -> tuple[torch.Tensor, str]:
    from spinaptic.data import load_mnist

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, _ = load_mnist(split, flatten=True, scale="unit", download=False, fallback_to_sample=True)
    src = f"MNIST {split}" if not caught else f"mnist-sample {split} (no MNIST copy found)"
    reps = -(-n // x.shape[0])
    return x.double().repeat(reps, 1)[:n].contiguous(), src


def _timed(fn) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of fn()."""
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def _summary(cpu: list[float], wall: list[float], n: int, per: int = 1) -> dict:
    """Median ms per image (and per replica with ``per``) over the runs."""
    k = 1e3 / (n * per)
    return {"ms_per_image": statistics.median(cpu) * k, "runs_ms": [s * k for s in cpu],
            "wall_ms_per_image": statistics.median(wall) * k, "wall_runs_ms": [s * k for s in wall], "images": n}


def _network(seed: int, replicas: int = 1, compiled: bool = True) -> STDPNetwork:
    return STDPNetwork(diehl_cook(N_EXC), replicas=replicas, generator=torch.Generator().manual_seed(seed),
                       compiled=compiled)


def _bench_compiled(x_tr, x_te, warm: int, n_tr: int, n_te: int, repeats: int, seed: int) -> tuple[dict, dict]:
    rows = []
    for k in range(repeats + 1):  # run 0: the warm-up run (compiles, loads the data into caches), not counted
        net = _network(seed)
        net.train(x_tr[:warm])
        s0, p0 = net.counters["exc_spikes"], net.counters["presentations"]
        c, w = _timed(lambda net=net: net.train(x_tr[warm:warm + n_tr]))
        out = {}
        ci, wi = _timed(lambda net=net, out=out: out.setdefault("r", net.responses(x_te[:n_te])))
        if k:
            rows.append((c, w, ci, wi, (net.counters["exc_spikes"] - s0) / n_tr,
                         (net.counters["presentations"] - p0) / n_tr, float(out["r"].sum()) / n_te))
    tr_c, tr_w, te_c, te_w, spikes, pres, te_spikes = (list(v) for v in zip(*rows, strict=True))
    train = _summary(tr_c, tr_w, n_tr) | {"exc_spikes_per_image": statistics.median(spikes),
                                          "presentations_per_image": statistics.median(pres), "warmup_images": warm}
    test = _summary(te_c, te_w, n_te) | {"exc_spikes_per_image": statistics.median(te_spikes)}
    return train, test


def _bench_protocol(x_tr, warm: int, n: int, repeats: int, seed: int) -> dict:
    rows = []
    for k in range(repeats + 1):
        net = _network(seed, compiled=False)
        assert not net.compiled_path()
        net.train(x_tr[:warm])
        s0 = net.counters["exc_spikes"]
        c, w = _timed(lambda net=net: net.train(x_tr[warm:warm + n]))
        if k:
            rows.append((c, w, (net.counters["exc_spikes"] - s0) / n))
    cs, ws, spikes = (list(v) for v in zip(*rows, strict=True))
    return _summary(cs, ws, n) | {"exc_spikes_per_image": statistics.median(spikes), "warmup_images": warm}


def _bench_torch(x_tr, x_te, warm: int, n: int, repeats: int, seed: int) -> tuple[dict, dict]:
    rows = []
    for k in range(repeats + 1):
        net = _network(seed)
        loop = TorchLoop(net.config, torch.from_numpy(net.w), torch.from_numpy(net.gain), net.theta())
        g = torch.Generator().manual_seed(seed + 1)
        for i in range(warm):
            loop.train_image(x_tr[i], g)
        acc = {"tr": 0.0, "te": 0.0}

        def train(loop=loop, g=g, acc=acc):
            for i in range(warm, warm + n):
                acc["tr"] += float(loop.train_image(x_tr[i], g).sum())

        def test(loop=loop, g=g, acc=acc):
            for i in range(n):
                acc["te"] += float(loop.train_image(x_te[i], g, learn=False).sum())

        c, w = _timed(train)
        ci, wi = _timed(test)
        if k:
            rows.append((c, w, ci, wi, acc["tr"] / n, acc["te"] / n))
    tr_c, tr_w, te_c, te_w, spikes, te_spikes = (list(v) for v in zip(*rows, strict=True))
    return (_summary(tr_c, tr_w, n) | {"exc_spikes_per_image_last_presentation": statistics.median(spikes),
                                       "warmup_images": warm},
            _summary(te_c, te_w, n) | {"exc_spikes_per_image": statistics.median(te_spikes)})


def _bench_replicas(x_tr, x_te, replicas: int, warm: int, n: int, repeats: int, seed: int) -> dict:
    rows = []
    for k in range(repeats + 1):
        net = _network(seed, replicas=replicas)
        net.train(x_tr[:warm])
        c, w = _timed(lambda net=net: net.train(x_tr[warm:warm + n]))
        ci, wi = _timed(lambda net=net: net.responses(x_te[:n]))
        if k:
            rows.append((c, w, ci, wi))
    tr_c, tr_w, te_c, te_w = (list(v) for v in zip(*rows, strict=True))
    return {"replicas": replicas, "numba_threads": numba.get_num_threads(), "warmup_images": warm,
            "train": _summary(tr_c, tr_w, n, replicas), "test": _summary(te_c, te_w, n, replicas)}


def _replicas_child(a: argparse.Namespace) -> dict:
    """(5) on ``a.replica_threads`` numba threads, in a child process (NUMBA_NUM_THREADS is fixed at import)."""
    args = [sys.executable, __file__, "--_child", "--replicas", str(a.replicas), "--replica-images",
            str(a.replica_images), "--repeats", str(a.repeats), "--seed", str(a.seed)]
    env = dict(os.environ, _BENCH_SNN_NUMBA_THREADS=str(a.replica_threads))
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(name: str, ms: float, runs: list[float], compiled: float | None, anchor: float | None,
         target: float | None) -> str:
    def f(v: float | None, fmt: str) -> str:
        return "" if v is None else format(v, fmt)

    return (f"| {name} | {ms:.3f} | {', '.join(f'{r:.3g}' for r in runs)} | {f(compiled and ms / compiled, '.1f')} "
            f"| {f(anchor and anchor / ms, '.1f')} | {f(target, 'g')} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer images (a smoke run)")
    ap.add_argument("--repeats", type=int, default=MIN_RUNS)
    ap.add_argument("--warmup", type=int, default=50, help="training images before every timed compiled run")
    ap.add_argument("--train-images", type=int, default=2000)
    ap.add_argument("--test-images", type=int, default=2000)
    ap.add_argument("--protocol-images", type=int, default=200)
    ap.add_argument("--torch-images", type=int, default=100, help="training and test images of the torch loop")
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--replica-images", type=int, default=200)
    ap.add_argument("--replica-threads", type=int, default=2,
                    help="numba threads of the replica run in a child process (<= 1: no child run)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None,
                    help=f"results file (default {RESULTS.name}; --quick: the temporary folder)")
    ap.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.train_images, a.test_images, a.protocol_images, a.torch_images, a.replica_images = 200, 200, 30, 10, 30
    torch.set_num_threads(1)
    if a._child:
        x_tr, _ = _data("train", 5 + a.replica_images)
        x_te, _ = _data("test", a.replica_images)
        print(json.dumps(_bench_replicas(x_tr, x_te, a.replicas, 5, a.replica_images, a.repeats, a.seed)))
        return
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    x_tr, src_tr = _data("train", a.warmup + max(a.train_images, a.protocol_images, a.replica_images, a.torch_images))
    x_te, src_te = _data("test", max(a.test_images, a.torch_images, a.replica_images))
    print(f"data: {src_tr}, {src_te}; numba threads {numba.get_num_threads()}, torch threads "
          f"{torch.get_num_threads()}; load average {load0[0]:.2f}", flush=True)

    train, test = _bench_compiled(x_tr, x_te, a.warmup, a.train_images, a.test_images, a.repeats, a.seed)
    print(f"compiled: train {train['ms_per_image']:.3f} ms/image, test {test['ms_per_image']:.3f} ms/image", flush=True)
    protocol = _bench_protocol(x_tr, 5, a.protocol_images, a.repeats, a.seed)
    print(f"protocol path: train {protocol['ms_per_image']:.2f} ms/image", flush=True)
    t_train, t_test = _bench_torch(x_tr, x_te, 2, a.torch_images, a.repeats, a.seed)
    print(f"torch loop: train {t_train['ms_per_image']:.1f} ms/image, test {t_test['ms_per_image']:.1f} ms/image",
          flush=True)
    reps = {"one_thread": _bench_replicas(x_tr, x_te, a.replicas, 5, a.replica_images, a.repeats, a.seed)}
    if a.replica_threads > 1:
        reps[f"{a.replica_threads}_threads_child"] = _replicas_child(a)
    for k, v in reps.items():
        print(f"replicas={a.replicas} ({k}): train {v['train']['ms_per_image']:.3f} CPU ms/image/replica "
              f"(wall {v['train']['wall_ms_per_image']:.3f}), test {v['test']['ms_per_image']:.3f} "
              f"(wall {v['test']['wall_ms_per_image']:.3f})", flush=True)

    ct, ce = train["ms_per_image"], test["ms_per_image"]
    bt, be = ANCHORS_MS["bindsnet_0_3_4_train"], ANCHORS_MS["bindsnet_0_3_4_test"]
    ratios = {
        "torch_loop_to_compiled_train": t_train["ms_per_image"] / ct,
        "torch_loop_to_compiled_test": t_test["ms_per_image"] / ce,
        "protocol_to_compiled_train": protocol["ms_per_image"] / ct,
        "bindsnet_anchor_to_compiled_train": bt / ct,
        "bindsnet_anchor_to_compiled_test": be / ce,
        "torch_loop_to_bindsnet_anchor_train": t_train["ms_per_image"] / bt,
        "torch_loop_to_bindsnet_anchor_test": t_test["ms_per_image"] / be,
        "compiled_to_target_train": ct / TARGETS_MS["train"],
        "compiled_to_target_test": ce / TARGETS_MS["test"],
    }
    anchor = "BindsNET 0.3.4 anchor {:g} ms (issue 12; not measured here)"
    unit = "CPU ms/image"

    def fig(key, label, summary, target=None, note="", wall=False):
        runs = summary["wall_runs_ms"] if wall else summary["runs_ms"]
        return figure(key, f"SNN STDP {label}", runs, "wall ms/image" if wall else unit, higher_is_better=False,
                      target=target, note=note)

    loop_tr = fig("torch_loop_train", "torch loop (TorchLoop) training", t_train, note=anchor.format(bt))
    loop_te = fig("torch_loop_test", "torch loop (TorchLoop) inference", t_test, note=anchor.format(be))
    figs = [compare(fig("compiled_train", "compiled training", train, TARGETS_MS["train"], anchor.format(bt)),
                    loop_tr),
            compare(fig("compiled_test", "compiled inference", test, TARGETS_MS["test"], anchor.format(be)),
                    loop_te),
            fig("protocol_train", "protocol-path training (compiled=False)", protocol),
            loop_tr, loop_te]
    for name, v in reps.items():
        th, r = v["numba_threads"], v["replicas"]
        for part, tgt in (("train", TARGETS_MS["train"]), ("test", TARGETS_MS["test"])):
            what = "training" if part == "train" else "inference"
            figs.append(fig(f"replicas{r}_{part}_{th}thr", f"replicas={r} {what}, per replica, {th} numba thr",
                            v[part], tgt))
            if name != "one_thread":
                figs.append(fig(f"replicas{r}_{part}_{th}thr_wall", f"replicas={r} {what}, per replica, {th} "
                                "numba thr, wall", v[part], wall=True))
    extra = {
        "data": [src_tr, src_te],
        "compiled_train": train,
        "compiled_test": test,
        "protocol_train": protocol,
        "torch_loop_train": t_train,
        "torch_loop_test": t_test,
        "replicas": reps,
        "ratios": ratios,
        "anchors_ms_per_image": ANCHORS_MS,
        "anchors_note": "from issue 12, measured on this machine by the issue's author; not measured here",
        "targets_ms_per_image": TARGETS_MS,
        "meets_target": {"train": ct <= TARGETS_MS["train"], "test": ce <= TARGETS_MS["test"]},
        "repeats": a.repeats,
        "quick": a.quick,
        "seed": a.seed,
        "total_seconds": time.perf_counter() - t_start,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "numba_threading_layer": numba.threading_layer(),
        "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
    }
    out = a.out or (Path(tempfile.gettempdir()) / "bench_snn_stdp.quick.json" if a.quick else RESULTS)
    workload = (f"paper 001 STDP network, 784 -> {N_EXC} exc <-> {N_EXC} inh, diehl_cook() (dw-continuous "
                "calibrated), 350 + 150 rest steps per image; CPU ms per image (time.process_time), 1 torch thread")
    write_result("bench_snn_stdp", workload, figs, load0, extra, out=out)

    print()
    print("| path | CPU ms / image | runs | x compiled | BindsNET anchor / this | target ms |")
    print("|---|---|---|---|---|---|")
    print(_row("compiled training", ct, train["runs_ms"], None, bt, TARGETS_MS["train"]))
    print(_row("compiled inference", ce, test["runs_ms"], None, be, TARGETS_MS["test"]))
    print(_row("protocol-path training", protocol["ms_per_image"], protocol["runs_ms"], ct, bt, None))
    print(_row("torch loop training", t_train["ms_per_image"], t_train["runs_ms"], ct, bt, None))
    print(_row("torch loop inference", t_test["ms_per_image"], t_test["runs_ms"], ce, be, None))
    for v in reps.values():
        th = v["numba_threads"]
        print(_row(f"replicas={v['replicas']} training, per replica ({th} thr)", v["train"]["ms_per_image"],
                   v["train"]["runs_ms"], ct, bt, TARGETS_MS["train"]))
        print(_row(f"replicas={v['replicas']} inference, per replica ({th} thr)", v["test"]["ms_per_image"],
                   v["test"]["runs_ms"], ce, be, TARGETS_MS["test"]))
    print(f"\nBindsNET 0.3.4 anchors (issue 12, not measured here): {bt:g} ms train, {be:g} ms test; "
          f"total {extra['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
