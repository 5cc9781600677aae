"""Paper 003, Fig. 5: the 784-300-10 MLP trained through notched DW-MTJ synapses on MNIST and Fashion-MNIST.

Every configuration trains `networks.mlp.DeviceMLP` (batch-1 SGD, the paper's schedule) on `arrays.tile` tiles
of `LookupTableDevice` synapses, with CrossSim's lookup-table update (``update_rule="fractional"``), from

* the genuine MuMax3 tables of paper 003 (``dwmtj-lookup-tables/``; 300 K: 20 instances, 400 K: one instance
  perturbed to 20 by `devices.lookup_table.perturb_table`, R_P 12.8 %, TMR 6.9 %), or
* our tables: 30 up/down ramps of the 1D domain-wall model of `physics.domain_wall` on paper 003's tracks
  (`experiments.dw_lookup_tables.simulate_ramps`, the shared calibration of `physics.dw_tracks`), on the genuine
  tables' conductance range, perturbed to 20 instances the same way, or
* an ideal table (`devices.lookup_table.builders.ideal_table`: every requested Delta-G realised exactly), the
  paper's "ideal numeric" reference through the same tile and update code.

**Configurations** are named ``<dataset>/<device>[/<levels>][+pc][@<lr>]``: dataset ``mnist`` or ``fashion``;
device ``numeric`` or ``{stt,sot}-{300,400}K`` (``-ours`` appended for our 1D-model tables); levels ``cont``
(continuous) or the number of notches N (G rounded to the nearest of N levels after every update); ``+pc``
periodic carry (two device pairs per weight); ``@`` a learning-rate family (``numeric``, ``continuous``,
``notched``, ``carry``: the config's ``lr_*`` fields) or a number. The default family follows the levels:
numeric, continuous, notched, or carry with ``+pc``. Fig. 5e's solid curves are ``fashion/{stt,sot}-300K/N@continuous``
("at the same learning rate"), its dashed STT curve ``fashion/stt-300K/N@notched`` ("a higher learning rate").

**Learning rates.** Paper 003 prints no alpha ("alpha is the initial learning rate", "increased" for notched
devices), so each family's alpha was chosen by the ``lr-search`` preset (seed 0): 4,000 Fashion-MNIST training
images x 2 epochs, accuracy on 2,000 further training images (held out; the test set is never used), grid 0.01,
0.03, 0.1, 0.3; the notched optimum sat at the grid's edge, so the notched configuration was rerun with
``--set configurations=fashion/stt-300K/32 --set lr_grid=0.6,1,3``. Validation accuracy [%] (`_dw_mlp_training_config.LR_SEARCH_RESULT`):

=======================  =====  =====  =====  =====  =====  =====  =====
alpha                    0.01   0.03   0.1    0.3    0.6    1      3
=======================  =====  =====  =====  =====  =====  =====  =====
fashion/numeric          76.05  77.95  77.50  73.95
fashion/stt-300K/cont    76.55  78.20  75.15  70.90
fashion/stt-300K/32      10.55  26.15  35.10  57.90  65.30  41.80  9.60
fashion/stt-300K/32+pc   13.45  61.75  76.75  71.85
=======================  =====  =====  =====  =====  =====  =====  =====

hence ``lr_numeric = lr_continuous = 0.03``, ``lr_notched = 0.6`` (20 x: most requested updates are far below
one of the 32 levels, w_max / 31 = 0.032 in weight), ``lr_carry = 0.1`` (the fine pair has 5 x the resolution).
Short runs favour large alphas; the schedule divides alpha by up to 5 over the 20 epochs of the paper.

**Physics in the loop** (``loop_n_train > 0``): a 784 x 10 softmax layer trained directly through the
``dw-notched`` device (the 1D model, pulse by pulse, stochastic rounding of pulse counts) beside the same layer
trained through the lookup table that device generates (30 ramps of the nominal device, perturbed to 20
instances, 32 levels), same initial weights, image order and learning rate.

Every configuration-seed is one resumable stage (``train/<configuration>/seed<k>``), and a running one is
checkpointed after every epoch (devices, counters and the generator), so a killed run resumes exactly.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..arrays.tile import TileConfig
from ..config import ConfigError
from ..devices import make_device
from ..devices.dw_synapse import DWSynapse, DWSynapseConfig
from ..devices.lookup_table import (
    LookupTable,
    LookupTableDevice,
    perturb_table,
    ramp_polarity,
    table_from_ramps,
)
from ..devices.lookup_table.builders import ideal_table
from ..networks.mlp import DeviceMLP, MLPConfig, float_mlp_weights
from ._dw_mlp_training_config import (
    LR_FAMILIES,
    PAPER_PULSES,
    DWMLPTrainingConfig,
    TrainSpec,
    fig5ab,
    fig5cd,
    fig5e,
    parse_configuration,
)
from ._dw_mlp_training_figures import draw_figures
from ._dw_mlp_training_targets import (
    DATASETS,
    N_TEST_FULL,
    N_TRAIN_FULL,
    TECHNOLOGIES,
    DWMLPTrainingTargets,
    Rows,
    notes_text,
)
from .base import Result, RunContext, checkpoint_key, chunked, experiment
from .checkpoint import CheckpointStore
from .comparison import Comparison, calibrated_row, check_row
from .dw_lookup_tables import (
    DWLookupTablesConfig,
    build_table,
    find_tables_dir,
    load_genuine,
    preset_params,
    simulate_ramps,
)


# ----------------------------------------------------------------------------------------- devices
def paper_pulse_energy(technology: str) -> float:
    """I^2 R_write t of paper 003's pulse on our model of the track [J] (`DWSynapse.programming_energy`)."""
    preset, amp, width = PAPER_PULSES[technology]
    return DWSynapse(DWSynapseConfig.preset(preset)).programming_energy(amp, width)


def device_ramps(device, n_ramps: int, n_pulses: int, generator: torch.Generator) -> np.ndarray:
    """Conductance [S] of ``n_ramps`` fresh devices before and after each pulse of an up/down ramp of ``n_pulses``
    nominal pulses per direction (the device's own `program_counts`), shape (n_ramps, 2 n_pulses + 1)."""
    state = device.init_state((n_ramps,), generator=generator)
    g = [device.conductance(state).clone()]
    for sign in ramp_polarity(n_pulses, n_pulses):
        state, _ = device.program_counts(state, torch.full((n_ramps,), int(sign), dtype=torch.int64), generator=generator)
        g.append(device.conductance(state).clone())
    return torch.stack(g, dim=1).to(torch.float64).numpy()


class TableStore:
    """The lookup tables of a run, built once: genuine, ours (1D-model ramps, cached as run stages) and ideal."""

    def __init__(self, cfg: DWMLPTrainingConfig, ctx: RunContext) -> None:
        self.cfg, self.ctx = cfg, ctx
        self.folder = find_tables_dir(DWLookupTablesConfig(tables_dir=cfg.tables_dir))
        self._tables: dict[tuple[str, str, int], LookupTable] = {}
        self._devices: dict[tuple, LookupTableDevice] = {}

    def _perturbed(self, tab: LookupTable, stream: str) -> LookupTable:
        if tab.n_instances > 1 or self.cfg.n_instances == 1:
            return tab
        return perturb_table(tab, self.cfg.n_instances, rp_sigma=self.cfg.rp_sigma, tmr_sigma=self.cfg.tmr_sigma,
                             generator=self.ctx.make_generator(stream), name=tab.name)

    def genuine(self, tech: str, temperature_k: int) -> LookupTable:
        key = ("genuine", tech, temperature_k)
        if key not in self._tables:
            tab = load_genuine(self.folder, tech, temperature_k) if self.folder is not None else None
            if tab is None:
                raise ConfigError(f"the genuine MuMax3 table {tech.upper()} {temperature_k} K of paper 003 was not found "
                                  f"(tables_dir = {self.cfg.tables_dir!r}, then dwmtj-lookup-tables/ under SPINAPTIC_DATA, "
                                  "the user cache and the system data folders); train the '-ours' configurations instead")
            self._tables[key] = self._perturbed(tab, f"d2d/genuine/{tech}/{temperature_k}")
        return self._tables[key]

    def g_range(self, tech: str) -> tuple[float, float]:
        """Conductance range of our tables: the genuine 300 K instance 0's, else the repack README's."""
        try:
            t = self.genuine(tech, 300)
            return float(t.g_min[0]), float(t.g_max[0])
        except ConfigError:
            return tuple(getattr(DWLookupTablesConfig(), f"{tech}_g_range_s"))

    def ours(self, tech: str, temperature_k: int) -> LookupTable:
        key = ("ours", tech, temperature_k)
        if key not in self._tables:
            n_pulses = DWLookupTablesConfig().n_pulses
            g = self.ctx.cached(f"ours-ramps/{tech}/{temperature_k}K", lambda: simulate_ramps(
                tech, preset_params(tech), float(temperature_k), self.cfg.our_ramps, n_pulses, self.g_range(tech),
                self.ctx.make_generator(f"ours-ramps/{tech}/{temperature_k}")))
            tab = build_table(np.asarray(g), n_pulses, f"1D model {tech.upper()} {temperature_k}K")
            self._tables[key] = self._perturbed(tab, f"d2d/ours/{tech}/{temperature_k}")
        return self._tables[key]

    def device(self, spec: TrainSpec) -> LookupTableDevice:
        """The (shared, stateless) device of a configuration: its table, notches and energy per pulse."""
        key = (spec.tables, spec.technology, spec.temperature_k, spec.n_levels)
        if key not in self._devices:
            if spec.tables == "numeric":
                self._devices[key] = LookupTableDevice(table=ideal_table())
            else:
                tab = (self.genuine if spec.tables == "genuine" else self.ours)(spec.technology, spec.temperature_k)
                self._devices[key] = LookupTableDevice(table=tab, n_levels=spec.n_levels,
                                                       energy_per_pulse_j=paper_pulse_energy(spec.technology))
        return self._devices[key]


def tile_config(cfg: DWMLPTrainingConfig, spec: TrainSpec) -> TileConfig:
    return TileConfig(device="lookup-table", update_rule="fractional", read_noise=False, w_max=cfg.w_max,
                      n_significance=2 if spec.carry else 1, significance_base=cfg.significance_base,
                      carry_every=cfg.carry_every, carry_threshold=cfg.carry_threshold)


# ----------------------------------------------------------------------------------------- training
def _after_epoch(key: str, epoch: int) -> None:
    """Called after every checkpointed epoch (a hook for the kill-and-resume test)."""


def _snapshot(model: DeviceMLP, generator: torch.Generator, extra: dict[str, Any]) -> dict[str, Any]:
    return {**extra, "generator": generator.get_state(), "model": model.state_dict()}


def _restore(model: DeviceMLP, generator: torch.Generator, snap: dict[str, Any]) -> None:
    generator.set_state(snap["generator"])
    model.load_state_dict(snap["model"])


def train_model(ctx: RunContext, key: str, label: str, build, data: tuple[torch.Tensor, ...], epochs: int, *,
                seed_index: int, chunk: int = 500, store: CheckpointStore | None = None) -> dict[str, Any]:
    """Train the model ``build(generator)`` returns on ``data`` = (x, y, x_eval, y_eval) for ``epochs``, as the
    resumable stage ``key`` of ``store`` (default: the run's checkpoints); checkpointed after every epoch in the
    run's own checkpoints. Returns the history and energy accounting."""
    epoch_stage = f"{key}/running"

    def compute() -> dict[str, Any]:
        x, y, xe, ye = data
        gen = ctx.make_generator(f"model/{key}")
        model = build(gen)
        init_energy = model.program_energy_j
        found, snap = ctx.checkpoints.load(epoch_stage)
        hist, train_read, eval_read, train_s = [], 0.0, 0.0, 0.0
        start = 0
        if found and 0 < int(snap["epoch"]) <= epochs:
            _restore(model, gen, snap)
            start, hist = int(snap["epoch"]), list(snap["history"])
            train_read, eval_read, train_s = float(snap["train_read_j"]), float(snap["eval_read_j"]), float(snap["train_s"])
            ctx.log(f"{label}: resumed after epoch {start} from {ctx.checkpoints.path(epoch_stage)}")
        n = x.shape[0]
        steps = [(ep, sl) for ep in range(start, epochs) for sl in chunked(n, chunk)]
        order = None
        t0 = 0.0
        for ep, sl in ctx.progress(steps, desc=f"{label} (seed {seed_index}, {epochs} epochs)"):
            if sl.start == 0:
                for t in model.tiles:  # the same weight cache whether or not the run resumed here
                    t.invalidate_weight_cache()
                order = torch.randperm(n, generator=ctx.make_generator(f"order/{seed_index}/{ep}"))
                t0 = time.perf_counter()
                r0 = model.read_energy_j
            model.train_epoch(x, y, ep, order=order[sl])
            if sl.stop == n:
                train_s += time.perf_counter() - t0
                train_read += model.read_energy_j - r0
                r1 = model.read_energy_j
                acc = 100.0 * model.accuracy(xe, ye)
                eval_read += model.read_energy_j - r1
                hist.append({"epoch": ep + 1, "lr": model.config.lr_at(ep), "accuracy": acc,
                             "program_energy_j": model.program_energy_j - init_energy})
                ctx.checkpoints.save(epoch_stage, _snapshot(model, gen, {
                    "epoch": ep + 1, "history": hist, "train_read_j": train_read, "eval_read_j": eval_read,
                    "train_s": train_s}))
                _after_epoch(key, ep)
        w = model.weights()
        w_max = [t.w_max for t in model.tiles]
        return {"history": hist, "samples": n * epochs, "train_s": train_s,
                "program_energy_j": model.program_energy_j - init_energy, "init_program_energy_j": init_energy,
                "read_energy_j": train_read, "eval_read_energy_j": eval_read, "eval_images": int(xe.shape[0]) * epochs,
                "n_carries": sum(t.n_carries for t in model.tiles),
                "w_abs_max": [float(v.abs().max()) for v in w],
                "clipped_fraction": [float((v.abs() >= 0.999 * m).to(torch.float64).mean()) for v, m in zip(w, w_max)]}

    out = (store or ctx.checkpoints).cached(key, compute)
    ctx.checkpoints.path(epoch_stage).unlink(missing_ok=True)
    return out


STORE_BLIND_FIELDS = ("configurations", "n_seeds", "seeds", "stage_store", "figures", "targets", "loop_dataset",
                      "loop_n_train", "loop_n_test", "loop_epochs", "loop_lr", "loop_w_max")
"""Config fields that choose what a run trains or reports, never how one configuration-seed trains: left out of
the shared stage store's key, so a one-configuration point of a sweep and the full run share its training."""


def stage_store(cfg: DWMLPTrainingConfig, ctx: RunContext) -> CheckpointStore | None:
    """The shared store of ``cfg.stage_store`` (None: the run's own checkpoints)."""
    if not cfg.stage_store:
        return None
    if cfg.stage_store == "auto":
        import platformdirs

        root = Path(platformdirs.user_cache_dir("spinaptic")) / "stages"
    else:
        root = Path(cfg.stage_store).expanduser()
    material = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in STORE_BLIND_FIELDS}
    return CheckpointStore(root / "dw-mlp-training", checkpoint_key("dw-mlp-training", material, ctx.seed, ctx.device),
                           resume=ctx.resume, device=ctx.device, log=ctx.log)


class Data:
    """The image sets of a run (loaded once per dataset)."""

    def __init__(self, cfg: DWMLPTrainingConfig) -> None:
        self.cfg = cfg
        self._sets: dict[str, tuple[torch.Tensor, ...]] = {}

    def get(self, ds: str, n_train: int | None = None, n_eval: int | None = None) -> tuple[torch.Tensor, ...]:
        from ..data import load_dataset

        cfg = self.cfg
        key = (ds, n_train, n_eval)
        if key not in self._sets:
            name = DATASETS[ds]
            x, y = load_dataset(name, "train", flatten=True, scale="unit", download=False)
            nt = n_train if n_train is not None else (cfg.n_train or N_TRAIN_FULL - cfg.n_validation)
            if cfg.n_validation and n_eval is None:
                xe, ye = x[-cfg.n_validation:], y[-cfg.n_validation:]
            else:
                xe, ye = load_dataset(name, "test", flatten=True, scale="unit", download=False)
                ne = n_eval if n_eval is not None else (cfg.n_test or N_TEST_FULL)
                xe, ye = xe[:ne], ye[:ne]
            self._sets[key] = (x[:nt].contiguous(), y[:nt].contiguous(), xe.contiguous(), ye.contiguous())
        return self._sets[key]


def train_spec(ctx: RunContext, cfg: DWMLPTrainingConfig, spec: TrainSpec, seed_index: int, tables: TableStore,
               data: Data, store: CheckpointStore | None = None) -> dict[str, Any]:
    xyz = data.get(spec.dataset)
    mlp = MLPConfig(sizes=(784, cfg.hidden, 10), lr=spec.lr(cfg), batch_size=cfg.batch_size)
    w0 = float_mlp_weights(mlp, ctx.make_generator(f"init/{seed_index}/{cfg.hidden}"))

    def build(gen: torch.Generator) -> DeviceMLP:
        return DeviceMLP(mlp, tile_config(cfg, spec), device=tables.device(spec), weights=w0, generator=gen)

    return train_model(ctx, f"train/{spec.key}/seed{seed_index}", spec.label, build, xyz, cfg.epochs,
                       seed_index=seed_index, store=store)


def physics_loop(ctx: RunContext, cfg: DWMLPTrainingConfig, data: Data) -> dict[str, Any]:
    """The 784 x 10 layer through the 1D model (``dw-notched``) and through the table that model generates."""
    xyz = data.get(cfg.loop_dataset, cfg.loop_n_train, cfg.loop_n_test)
    dw_dev = make_device("dw-notched")
    nominal = make_device("dw-notched", r_p_dtod=0.0, tmr_dtod=0.0)
    n_pulses = len(nominal.config.track.notch_positions_m) - 1
    g = ctx.cached("loop/ramps", lambda: device_ramps(nominal, cfg.our_ramps, n_pulses, ctx.make_generator("loop/ramps")))
    tab = perturb_table(table_from_ramps(np.asarray(g), ramp_polarity(n_pulses, n_pulses), name="1D model dw-notched"),
                        cfg.n_instances, rp_sigma=dw_dev.config.r_p_dtod, tmr_sigma=dw_dev.config.tmr_dtod,
                        generator=ctx.make_generator("loop/d2d"), name="table of the dw-notched device")
    table_dev = LookupTableDevice(table=tab, n_levels=n_pulses + 1,
                                  energy_per_pulse_j=dw_dev.programming_energy(dw_dev.config.nominal_amplitude,
                                                                                dw_dev.config.nominal_width_s))
    mlp = MLPConfig(sizes=(784, 10), lr=cfg.loop_lr, batch_size=cfg.batch_size)
    w0 = float_mlp_weights(mlp, ctx.make_generator("loop/init"))
    out = {}
    for name, dev in (("1D model in the loop", dw_dev), ("its lookup table", table_dev)):
        tc = TileConfig(device="lookup-table" if dev is table_dev else "dw-notched", update_rule="stochastic",
                        read_noise=False, w_max=cfg.loop_w_max)

        def build(gen, dev=dev, tc=tc):
            return DeviceMLP(mlp, tc, device=dev, weights=w0, generator=gen)

        out[name] = train_model(ctx, f"loop/{'dw' if dev is dw_dev else 'table'}", f"loop: {name}", build, xyz,
                                cfg.loop_epochs, seed_index=0)
    out["table_steps_uS"] = [abs(tab.mean_step("increasing")) * 1e6, abs(tab.mean_step("decreasing")) * 1e6]
    out["device_steps_uS"] = [dw_dev.mean_step(1) * 1e6, dw_dev.mean_step(-1) * 1e6]
    return out


# ----------------------------------------------------------------------------------------- summaries
def _stats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    curves = np.array([[h["accuracy"] for h in r["history"]] for r in runs])
    final, best = curves[:, -1], curves.max(axis=1)
    samples = sum(r["samples"] for r in runs)
    return {"curve": curves.mean(0).tolist(), "curve_std": curves.std(0).tolist() if len(runs) > 1 else [0.0] * curves.shape[1],
            "final": float(final.mean()), "final_std": float(final.std()) if len(runs) > 1 else 0.0,
            "best": float(best.mean()), "best_std": float(best.std()) if len(runs) > 1 else 0.0,
            "program_j_per_image": sum(r["program_energy_j"] for r in runs) / samples,
            "read_j_per_image": sum(r["read_energy_j"] for r in runs) / samples,
            "eval_read_j_per_image": sum(r["eval_read_energy_j"] for r in runs) / max(1, sum(r["eval_images"] for r in runs)),
            "w_abs_max": max(max(r["w_abs_max"]) for r in runs),
            "clipped_fraction": max(max(r["clipped_fraction"]) for r in runs),
            "n_carries": sum(r["n_carries"] for r in runs) / len(runs),
            "train_s": sum(r["train_s"] for r in runs), "samples": samples}


def _energy_cells(s: dict[str, Any], *, numeric: bool) -> dict[str, Any]:
    """Programming, training-read and inference-read energy per image [pJ] ("-" for the ideal table, which is no
    device: its conductance window is arbitrary)."""
    keys = (("program_pJ_per_image", "program_j_per_image"), ("read_pJ_per_image", "read_j_per_image"),
            ("inference_read_pJ_per_image", "eval_read_j_per_image"))
    return {k: "-" if numeric else round(s[v] * 1e12, 4) for k, v in keys}


# ----------------------------------------------------------------------------------------- the experiment
QUICK = DWMLPTrainingConfig(configurations=("fashion/stt-300K/cont", "fashion/stt-300K/32"), n_train=2000, n_test=2000,
                            epochs=1, n_seeds=1,
                            targets=DWMLPTrainingTargets(learn_floor_continuous=55.0, learn_floor_notched=15.0))
CPU = DWMLPTrainingConfig(  # 850k training samples: about 45 min at the ~300 samples/s (Fashion-MNIST, 2 threads,
    # compiled epoch) measured here, MNIST faster (fewer non-zero pixels)
    configurations=(*fig5ab(), "fashion/sot-300K/cont", "fashion/sot-300K/32+pc", "fashion/stt-400K/cont",
                    "fashion/sot-400K/cont", *fig5e(levels=(32, 256), high_lr=False), "fashion/stt-300K-ours/cont"),
    n_train=5000, epochs=10, n_seeds=1, loop_n_train=2000, loop_epochs=2)
PAPER = DWMLPTrainingConfig(
    configurations=(*fig5ab(), *fig5cd(), *fig5e(), *fig5ab(ours=True), *fig5cd(ours=True), *fig5e(ours=True)),
    loop_n_train=5000, loop_epochs=5, stage_store="auto")
PAPER_SWEEP = {"configurations": [(s.key,) for s in PAPER.specs()], "seeds": [(s,) for s in range(PAPER.n_seeds)],
               "loop_n_train": [0]}
"""The paper preset as a sweep, one configuration-seed per point (``spinaptic sweep dw-mlp-training --preset paper
--seeds 1``); every point keeps its training in the shared stage store, and ``spinaptic run dw-mlp-training
--preset paper`` then gathers them (and runs the physics-in-the-loop layer)."""
LR_SEARCH = DWMLPTrainingConfig(
    configurations=("fashion/numeric", "fashion/stt-300K/cont", "fashion/stt-300K/32", "fashion/stt-300K/32+pc"),
    n_train=4000, n_validation=2000, epochs=2, n_seeds=1, lr_grid=(0.01, 0.03, 0.1, 0.3))


@experiment(
    "dw-mlp-training",
    paper="003",
    title="MLP training on notched DW-MTJ synapses, MNIST and Fashion-MNIST (paper 003, Fig. 5)",
    config=DWMLPTrainingConfig,
    presets={"quick": QUICK, "cpu": CPU, "paper": PAPER, "lr-search": LR_SEARCH},
    sweeps={"paper": PAPER_SWEEP},
)
def run(cfg: DWMLPTrainingConfig, ctx: RunContext) -> Result:
    """A 784-300-10 MLP trained by batch-1 SGD through DW-MTJ lookup-table synapses (genuine MuMax3 tables and our
    1D-model tables): ideal numeric, continuous and notched levels, periodic carry, STT/SOT, 300/400 K, notch count,
    and a layer trained with the 1D model in the loop."""
    specs = cfg.specs()
    tables, data = TableStore(cfg, ctx), Data(cfg)
    store = stage_store(cfg, ctx)
    runs: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        runs[spec.key] = [train_spec(ctx, cfg, spec, s, tables, data, store) for s in cfg.seed_list]
    stats = {k: {**_stats(v), "spec": parse_configuration(k)} for k, v in runs.items()}
    loop = physics_loop(ctx, cfg, data) if cfg.loop_n_train and not cfg.lr_grid else None

    metrics: dict[str, Any] = {}
    comparisons: list[Comparison] = []
    res_tables: dict[str, list[dict[str, Any]]] = {}
    search: list[dict[str, Any]] = []
    lr_families = {f: getattr(cfg, f"lr_{f}") for f in LR_FAMILIES}
    if cfg.lr_grid:
        for s in stats.values():
            sp = s["spec"]
            search.append({"configuration": parse_configuration(sp.base).label, "lr": sp.lr_value,
                           "validation_accuracy": round(s["final"], 2), "best_epoch_accuracy": round(s["best"], 2)})
        res_tables["Learning-rate search (validation split, final epoch)"] = search
        for base in dict.fromkeys(r["configuration"] for r in search):
            rs = [r for r in search if r["configuration"] == base]
            b = max(rs, key=lambda r: r["validation_accuracy"])
            fam = parse_configuration(base).default_family
            metrics[f"best_lr/{base}"] = b["lr"]
            comparisons.append(calibrated_row(
                f"alpha of {base} (family {fam})", "best validation accuracy over " + ", ".join(f"{r['lr']:g}" for r in rs),
                b["lr"], note=f"{b['validation_accuracy']:.2f} % on {cfg.n_validation} held-out training images; the "
                              f"preset default is lr_{fam} = {lr_families[fam]:g}"))
    else:
        comparisons = Rows(cfg, stats, lambda name: parse_configuration(name).key).build()
        if loop is not None:
            a, b = (loop[n]["history"][-1]["accuracy"] for n in ("1D model in the loop", "its lookup table"))
            comparisons.append(check_row(
                f"Physics in the loop: 784 x 10 on {cfg.loop_n_train} {DATASETS[cfg.loop_dataset]} images x "
                f"{cfg.loop_epochs} epochs, 1D model - its table (final epoch)", 0.0, round(a - b, 2),
                abs(a - b) <= cfg.targets.loop_vs_table_max, unit="points",
                target=f"|.| <= {cfg.targets.loop_vs_table_max:g} points",
                note=f"1D model {a:.2f} %, table {b:.2f} %; mean steps (uS, +/-) device "
                     f"{loop['device_steps_uS'][0]:.1f}/{loop['device_steps_uS'][1]:.1f}, table "
                     f"{loop['table_steps_uS'][0]:.1f}/{loop['table_steps_uS'][1]:.1f}"))
            metrics["loop_dw_accuracy"], metrics["loop_table_accuracy"] = a, b
            metrics["loop_dw_program_j_per_image"] = loop["1D model in the loop"]["program_energy_j"] / loop["1D model in the loop"]["samples"]
            metrics["loop_table_program_j_per_image"] = loop["its lookup table"]["program_energy_j"] / loop["its lookup table"]["samples"]
    conf_rows, curve_rows = [], []
    for s in stats.values():
        sp = s["spec"]
        metrics[f"{sp.label}/final_accuracy"] = s["final"]
        metrics[f"{sp.label}/best_accuracy"] = s["best"]
        conf_rows.append({
            "configuration": sp.label, "tables": sp.tables, "levels": sp.n_levels or "cont", "carry": sp.carry,
            "alpha": sp.lr(cfg), "final_%": round(s["final"], 2), "final_std": round(s["final_std"], 2),
            "best_%": round(s["best"], 2), **_energy_cells(s, numeric=sp.tables == "numeric"),
            "max_abs_W": round(s["w_abs_max"], 3), "clipped_fraction": round(s["clipped_fraction"], 5),
            "carries": round(s["n_carries"])})
        curve_rows.append({"configuration": sp.label, **{f"e{i + 1}": round(v, 2) for i, v in enumerate(s["curve"])}})
    metrics["curves"] = {stats[k]["spec"].label: stats[k]["curve"] for k in stats}
    metrics["histories"] = {stats[k]["spec"].label: [r["history"] for r in runs[k]] for k in runs}
    res_tables["Configurations (mean over seeds; energies per training image)"] = conf_rows
    res_tables["Test accuracy per epoch (%, mean over seeds)"] = curve_rows
    if loop is not None:
        res_tables["Physics in the loop (784 x 10)"] = [
            {"model": n, "final_%": round(loop[n]["history"][-1]["accuracy"], 2),
             "program_pJ_per_image": round(loop[n]["program_energy_j"] / loop[n]["samples"] * 1e12, 4)}
            for n in ("1D model in the loop", "its lookup table")]

    # timings (this execution): samples/s, epoch times, the projected paper preset
    rates = {stats[k]["spec"].label: round(s["samples"] / s["train_s"], 1) for k, s in stats.items() if s["train_s"] > 0}
    ctx.timings["training_samples_per_s"] = rates
    ctx.timings["epoch_s"] = {stats[k]["spec"].label: round(s["train_s"] / (cfg.epochs * len(cfg.seed_list)), 2)
                              for k, s in stats.items()}
    if loop is not None:
        ctx.timings["loop_samples_per_s"] = {n: round(loop[n]["samples"] / loop[n]["train_s"], 1)
                                             for n in ("1D model in the loop", "its lookup table") if loop[n]["train_s"] > 0}
    dev_rates = [r for k, r in rates.items() if "numeric" not in k]
    if dev_rates:
        rate = float(np.mean(dev_rates))
        n_paper = len(PAPER.specs())
        samples = n_paper * PAPER.n_seeds * PAPER.epochs * N_TRAIN_FULL
        ctx.timings["paper_preset_projection"] = {
            "configurations": n_paper, "seeds": PAPER.n_seeds, "epochs": PAPER.epochs, "samples": samples,
            "samples_per_s_measured": round(rate, 1), "cpu_hours": round(samples / rate / 3600, 1),
            "hours_per_configuration_seed": round(PAPER.epochs * N_TRAIN_FULL / rate / 3600, 2)}
    if cfg.figures:
        draw_figures(ctx, cfg, stats, loop, search)
    energies = {k: paper_pulse_energy(k) for k in TECHNOLOGIES}
    notes = notes_text(cfg, lr_families, energies, full_protocol=cfg.full_protocol)
    return Result(metrics=metrics, comparisons=comparisons, tables=res_tables, notes="\n\n".join(notes))
