"""Configurations of the dw-mlp-training experiment (paper 003, Fig. 5): the naming scheme of trained
configurations (`parse_configuration`, `TrainSpec`), the figure groups (`fig5ab`, `fig5cd`, `fig5e`), the
learning-rate families and the experiment's config dataclass. See `experiments.dw_mlp_training`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError, _record, check_choice, check_int, check_positive, check_range
from ._dw_mlp_training_targets import (
    DATASETS,
    N_TEST_FULL,
    N_TRAIN_FULL,
    TECHNOLOGIES,
    TEMPERATURES_K,
    DWMLPTrainingTargets,
)

LR_FAMILIES = ("numeric", "continuous", "notched", "carry")
PAPER_PULSES = {"stt": ("liu2021-stt", 50e-6, 1e-9), "sot": ("liu2021-sot", 27e-6, 0.5e-9)}
"""Paper 003's programming pulse per technology: "1 ns for STT devices (0.5 ns for SOT) ... 50 uA for STT (27 uA
for SOT)", with the track preset whose write path gives its energy."""

LR_SEARCH_RESULT: dict[str, dict[float, float]] = {
    "fashion/numeric": {0.01: 76.05, 0.03: 77.95, 0.1: 77.50, 0.3: 73.95},
    "fashion/stt-300K/cont": {0.01: 76.55, 0.03: 78.20, 0.1: 75.15, 0.3: 70.90},
    "fashion/stt-300K/32": {0.01: 10.55, 0.03: 26.15, 0.1: 35.10, 0.3: 57.90, 0.6: 65.30, 1.0: 41.80, 3.0: 9.60},
    "fashion/stt-300K/32+pc": {0.01: 13.45, 0.03: 61.75, 0.1: 76.75, 0.3: 71.85},
}
"""Validation accuracy [%] (final of 2 epochs on 4,000 Fashion-MNIST images, seed 0) per configuration and alpha:
the learning-rate search that fixed the ``lr_*`` defaults (module docstring)."""


# ----------------------------------------------------------------------------------------- configurations
@dataclass(frozen=True)
class TrainSpec:
    """One parsed configuration (see the module docstring for the naming)."""

    dataset: str
    tables: str  # "numeric", "genuine" or "ours"
    technology: str = ""
    temperature_k: int = 0
    n_levels: int = 0
    carry: bool = False
    lr_family: str = ""
    lr_value: float | None = None

    @property
    def default_family(self) -> str:
        if self.tables == "numeric":
            return "numeric"
        if self.n_levels == 0:
            return "continuous"
        return "carry" if self.carry else "notched"

    @property
    def family(self) -> str:
        return self.lr_family or ("" if self.lr_value is not None else self.default_family)

    @property
    def device_name(self) -> str:
        if self.tables == "numeric":
            return "numeric"
        return f"{self.technology}-{self.temperature_k}K" + ("-ours" if self.tables == "ours" else "")

    @property
    def base(self) -> str:
        """The name without the learning rate."""
        if self.tables == "numeric":
            return f"{self.dataset}/numeric"
        lv = "cont" if self.n_levels == 0 else str(self.n_levels)
        return f"{self.dataset}/{self.device_name}/{lv}" + ("+pc" if self.carry else "")

    @property
    def key(self) -> str:
        """Canonical name, with the learning rate always explicit (stage names, deduplication)."""
        return f"{self.base}@{self.family if self.family else f'{self.lr_value:g}'}"

    @property
    def label(self) -> str:
        """Display name: the learning rate only when it is not the default family."""
        return self.base if self.family == self.default_family else self.key

    def lr(self, cfg: DWMLPTrainingConfig) -> float:
        return float(self.lr_value) if self.lr_value is not None else float(getattr(cfg, f"lr_{self.family}"))

    def with_lr(self, lr: float) -> TrainSpec:
        from dataclasses import replace

        return replace(self, lr_family="", lr_value=float(lr))


def parse_configuration(name: str) -> TrainSpec:
    """`TrainSpec` of a configuration name; ConfigError with the grammar otherwise."""
    grammar = ("configurations are '<dataset>/<device>[/<levels>][+pc][@<lr>]' with dataset mnist|fashion, device "
               "numeric or {stt,sot}-{300,400}K[-ours], levels cont or a notch count >= 2, lr a family "
               f"({', '.join(LR_FAMILIES)}) or a number, e.g. 'fashion/stt-300K/32+pc'")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"empty configuration name; {grammar}")
    text, _, lr = name.strip().partition("@")
    family, lr_value = "", None
    if lr:
        if lr in LR_FAMILIES:
            family = lr
        else:
            try:
                lr_value = float(lr)
            except ValueError:
                raise ConfigError(f"configuration {name!r}: learning rate {lr!r} is not a family or a number; {grammar}") from None
            if not (math.isfinite(lr_value) and lr_value > 0):
                raise ConfigError(f"configuration {name!r}: learning rate must be > 0")
    parts = text.split("/")
    if parts[0] not in DATASETS:
        raise ConfigError(f"configuration {name!r}: unknown dataset {parts[0]!r}; {grammar}")
    if len(parts) == 2 and parts[1] == "numeric":
        return TrainSpec(parts[0], "numeric", lr_family=family, lr_value=lr_value)
    if len(parts) != 3:
        raise ConfigError(f"configuration {name!r}: {grammar}")
    dev, levels = parts[1], parts[2]
    carry = levels.endswith("+pc")
    levels = levels.removesuffix("+pc")
    tables = "genuine"
    if dev.endswith("-ours"):
        tables, dev = "ours", dev.removesuffix("-ours")
    tech, _, temp = dev.partition("-")
    if tech not in TECHNOLOGIES or temp not in {f"{t}K" for t in TEMPERATURES_K}:
        raise ConfigError(f"configuration {name!r}: unknown device {parts[1]!r}; {grammar}")
    if levels == "cont":
        n_levels = 0
    else:
        try:
            n_levels = int(levels)
        except ValueError:
            raise ConfigError(f"configuration {name!r}: levels {levels!r} are neither 'cont' nor a notch count") from None
        check_int(f"configuration {name!r}: notches", n_levels, 2, 1 << 16)
    return TrainSpec(parts[0], tables, tech, int(temp[:-1]), n_levels, carry, family, lr_value)


def fig5ab(datasets=("mnist", "fashion"), ours: bool = False) -> tuple[str, ...]:
    """Figs. 5a / 5b: ideal numeric, STT 300 K continuous, 32 notches, 32 notches with periodic carry."""
    sfx = "-ours" if ours else ""
    out = []
    for ds in datasets:
        if not ours:
            out.append(f"{ds}/numeric")
        out += [f"{ds}/stt-300K{sfx}/cont", f"{ds}/stt-300K{sfx}/32", f"{ds}/stt-300K{sfx}/32+pc"]
    return tuple(out)


def fig5cd(temperatures=TEMPERATURES_K, technologies=TECHNOLOGIES, ours: bool = False) -> tuple[str, ...]:
    """Figs. 5c / 5d (Fashion-MNIST): STT and SOT at 300 K and 400 K, continuous and 32 notches with carry."""
    sfx = "-ours" if ours else ""
    return tuple(f"fashion/{k}-{t}K{sfx}/{lv}" for lv in ("cont", "32+pc") for k in technologies for t in temperatures)


def fig5e(levels=(8, 16, 32, 64, 128, 256, 512, 1024), high_lr: bool = True, ours: bool = False) -> tuple[str, ...]:
    """Fig. 5e (Fashion-MNIST, 300 K, no carry): STT and SOT at the same (continuous) alpha, STT at the notched one."""
    sfx = "-ours" if ours else ""
    out = [f"fashion/{k}-300K{sfx}/{n}@continuous" for n in levels for k in TECHNOLOGIES]
    if high_lr:
        out += [f"fashion/stt-300K{sfx}/{n}@notched" for n in levels]
    return tuple(out)


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, str):
        return tuple(v.strip() for v in x.split(",") if v.strip())
    return tuple(x)


@dataclass(frozen=True)
class DWMLPTrainingConfig:
    """Attributes:
    configurations: the trained configurations, named as the module docstring says (e.g. ``fashion/stt-300K/32+pc``,
        ``mnist/numeric``, ``fashion/sot-300K/64@continuous``); duplicates (one canonical name) are trained once.
    n_train: training images, the first n of the training split (0 = all 60,000, the paper's).
    n_test: test images the accuracy is measured on after every epoch (0 = all 10,000, the paper's).
    n_validation: > 0: hold out the last n training images and measure on them instead of the test set (the
        learning-rate search; n_train + n_validation <= 60,000).
    epochs: training epochs (paper: 20); the schedule divides alpha by 2, 3, 4, 5 from epochs 4, 6, 9, 11.
    n_seeds: independent seeds per configuration (paper: 3): initial weights, image order, device draws.
    seeds: which of the n_seeds seed indices this run trains (empty = all): one configuration-seed per run is how a
        sweep splits the paper preset (``spinaptic sweep dw-mlp-training --preset paper``).
    stage_store: where finished configuration-seed trainings are kept: "" = this run's checkpoints; a directory
        (or "auto" = the user cache) shared between runs, keyed by everything that determines a training (the
        config without the fields that only choose what to train or report, the run seed, device and code), so
        a sweep's points and the full run that gathers them share one result per configuration-seed.
    hidden: hidden neurons (paper: 300; smaller only for tests).
    batch_size: images per programmed update (paper: 1; > 1 is a documented deviation).
    w_max: weight of a full conductance window on every layer (weights clip at +-w_max; not in the paper).
    lr_numeric, lr_continuous, lr_notched, lr_carry: initial learning rate alpha of each family (module
        docstring; from the lr-search preset, paper 003 prints none).
    lr_grid: > 0 values: the learning-rate search: every configuration is trained at each of these alphas
        instead of its family's, measured on the validation split (needs n_validation > 0).
    significance_base, carry_every, carry_threshold: periodic carry (``+pc``): significance ratio of the two
        device pairs, updates between carries, fraction of a pair's range that triggers a carry (`TileConfig`).
    n_instances, rp_sigma, tmr_sigma: device-to-device instances made from a one-instance table (400 K, ours)
        and their R_P / TMR relative sigmas (paper 003: 20, 12.8 %, 6.9 %).
    tables_dir: folder of the genuine tables ("" = ``dwmtj-lookup-tables/`` under the data roots).
    our_ramps: ramps of the 1D model per table of ours (paper 003: 30).
    loop_dataset, loop_n_train, loop_n_test, loop_epochs, loop_lr, loop_w_max: physics in the loop (784 x 10
        layer through the 1D model vs through its table); loop_n_train = 0 skips it.
    figures: draw the figures.
    targets: pass criteria (`DWMLPTrainingTargets`).
    """

    configurations: tuple[str, ...] = fig5ab()
    n_train: int = 0
    n_test: int = 0
    n_validation: int = 0
    epochs: int = 20
    n_seeds: int = 3
    seeds: tuple[int, ...] = ()
    stage_store: str = ""
    hidden: int = 300
    batch_size: int = 1
    w_max: float = 1.0
    lr_numeric: float = 0.03
    lr_continuous: float = 0.03
    lr_notched: float = 0.6
    lr_carry: float = 0.1
    lr_grid: tuple[float, ...] = ()
    significance_base: float = 4.0
    carry_every: int = 10
    carry_threshold: float = 0.5
    n_instances: int = 20
    rp_sigma: float = 0.128
    tmr_sigma: float = 0.069
    tables_dir: str = ""
    our_ramps: int = 30
    loop_dataset: str = "mnist"
    loop_n_train: int = 0
    loop_n_test: int = 2000
    loop_epochs: int = 2
    loop_lr: float = 0.01
    loop_w_max: float = 1.0
    figures: bool = True
    targets: DWMLPTrainingTargets = DWMLPTrainingTargets()

    def __post_init__(self) -> None:
        confs = _as_tuple(self.configurations)
        object.__setattr__(self, "configurations", confs)
        object.__setattr__(self, "lr_grid", tuple(float(v) for v in _as_tuple(self.lr_grid)))
        object.__setattr__(self, "seeds", tuple(int(v) for v in _as_tuple(self.seeds)))
        _record("seeds", "seed indices in [0, n_seeds), or empty (all)")
        _record("stage_store", "'' (this run), 'auto' (user cache) or a directory")
        # ranges of the free-form fields, as `spinaptic describe` shows them (the checks below enforce them)
        _record("configurations", "names '<dataset>/<device>[/<levels>][+pc][@<lr>]' (module docstring)")
        _record("lr_grid", "values > 0, or empty (no search); a search needs n_validation > 0")
        _record("tables_dir", "a folder, or '' = dwmtj-lookup-tables/ under the data roots")
        if not confs and not self.loop_n_train:
            raise ConfigError("configurations is empty and the physics-in-the-loop layer is off: nothing to train")
        for c in confs:
            parse_configuration(c)
        check_int("n_train (0 = all 60000)", self.n_train, 0, N_TRAIN_FULL)
        check_int("n_test (0 = all 10000)", self.n_test, 0, N_TEST_FULL)
        check_int("n_validation", self.n_validation, 0, N_TRAIN_FULL - 1)
        if (self.n_train or N_TRAIN_FULL) + self.n_validation > N_TRAIN_FULL:
            raise ConfigError(f"n_train + n_validation = {(self.n_train or N_TRAIN_FULL) + self.n_validation} exceeds the "
                              f"{N_TRAIN_FULL} training images (validation images are held out of the training split)")
        if self.lr_grid and not self.n_validation:
            raise ConfigError("lr_grid (the learning-rate search) needs n_validation > 0: alpha is chosen on held-out "
                              "training images, never on the test set")
        for v in self.lr_grid:
            check_positive("lr_grid", v)
        check_int("epochs", self.epochs, 1, 1000)
        check_int("n_seeds", self.n_seeds, 1, 100)
        for v in self.seeds:
            check_int(f"seeds (seed indices, n_seeds = {self.n_seeds})", v, 0, self.n_seeds - 1)
        check_int("hidden", self.hidden, 1, 100_000)
        check_int("batch_size", self.batch_size, 1, 60000)
        check_positive("w_max (weight of a full conductance window)", self.w_max)
        for f in LR_FAMILIES:
            check_positive(f"lr_{f}", getattr(self, f"lr_{f}"))
        check_range("significance_base", self.significance_base, 1.0, 1e6, lo_open=True)
        check_int("carry_every", self.carry_every, 1, 10**9)
        check_range("carry_threshold", self.carry_threshold, 0.0, 1.0, lo_open=True)
        check_int("n_instances", self.n_instances, 1, 10_000)
        check_range("rp_sigma", self.rp_sigma, 0.0, 1.0, unit="(relative sigma)")
        check_range("tmr_sigma", self.tmr_sigma, 0.0, 1.0, unit="(relative sigma)")
        check_int("our_ramps", self.our_ramps, 2, 100_000)
        check_choice("loop_dataset", self.loop_dataset, tuple(DATASETS))
        check_int("loop_n_train", self.loop_n_train, 0, N_TRAIN_FULL)
        check_int("loop_n_test", self.loop_n_test, 1, N_TEST_FULL)
        check_int("loop_epochs", self.loop_epochs, 1, 1000)
        check_positive("loop_lr", self.loop_lr)
        check_positive("loop_w_max", self.loop_w_max)

    def specs(self) -> list[TrainSpec]:
        """The configurations parsed, deduplicated in order (times every alpha of lr_grid in a search)."""
        out: dict[str, TrainSpec] = {}
        for c in self.configurations:
            s = parse_configuration(c)
            for t in ([s.with_lr(v) for v in self.lr_grid] if self.lr_grid else [s]):
                out.setdefault(t.key, t)
        return list(out.values())

    @property
    def seed_list(self) -> tuple[int, ...]:
        """The seed indices this run trains (``seeds``, default all of ``n_seeds``), duplicates removed."""
        return tuple(dict.fromkeys(self.seeds)) if self.seeds else tuple(range(self.n_seeds))

    @property
    def full_protocol(self) -> bool:
        """The paper's protocol: all 60,000 training images, >= 20 epochs, the full test set, batch size 1."""
        return not self.n_train and not self.n_test and not self.n_validation and self.epochs >= 20 and self.batch_size == 1


__all__ = ["DWMLPTrainingConfig", "TrainSpec", "fig5ab", "fig5cd", "fig5e", "parse_configuration"]
