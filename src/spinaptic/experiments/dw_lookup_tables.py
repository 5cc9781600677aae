"""Paper 003, Fig. 3a and Table I: DW-MTJ lookup tables from 1D domain-wall ramps vs the MuMax3 tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ConfigError, check_int, check_nonnegative, check_positive
from ..data import search_roots
from ..devices.dw_synapse import mtj_conductances_for_range, position_conductance
from ..devices.lookup_table import (
    LookupTable,
    LookupTableError,
    TableSampler,
    load_crosssim_dir,
    load_npz,
    perturb_table,
    ramp_polarity,
    save_npz,
    table_from_ramps,
    table_i_figures,
    table_statistics,
)
from ..physics import domain_wall as dw
from ..physics.constants import thermal_energy
from ..physics.dw_tracks import (
    LIU_CURRENT_SCALE,
    LIU_SOT_NOTCH,
    LIU_STT_NOTCH,
    drive_cross_section_m2,
    liu2021_current_scale,
)
from ..physics.mtj import tmr_from_conductances
from ..rng import draw_key
from ._dw_lookup_tables_targets import (
    GENUINE_SOURCE,
    PAPER_TABLE_I,
    TABLE_I_QUOTE,
    DWLookupTablesTargets,
    notes_text,
)
from .base import Result, RunContext, experiment
from .comparison import Comparison, calibrated_row, paper_row, reference_row
from .lookup_table_plots import plot_heatmap

KINDS = ("stt", "sot")


@dataclass(frozen=True)
class DWLookupTablesConfig:
    """Attributes:
    tables_dir: folder with the genuine MuMax3 tables of paper 003 (``dwmtj_{stt,sot}_{0,300,400}K.npz`` or a
        CrossSim ``DWMTJ_{STT,SOT}/{T}K/`` tree); "" = ``dwmtj-lookup-tables/`` under ``$SPINAPTIC_DATA``, the
        user cache or the system data folders. Missing: the comparison is skipped ("not-comparable").
    temperatures_k: temperatures [K] of our tables (paper: 0, 300, 400 K). Table I is at 300 K.
    n_ramps: up/down ramps per table (paper 003: 30 ramps, 930 points per direction).
    n_pulses: pulses per ramp direction (32 notches: 31 one-level steps end to end).
    n_instances: device-to-device instances of the 300 K tables (paper: 20), with relative sigmas
        ``rp_sigma`` of R_P (12.8 %) and ``tmr_sigma`` of the TMR (6.9 %, paper 003 from Xue et al. 2015).
    stt_notch_depth_j, stt_notch_width_m, stt_current_scale: the 1D model's free parameters for the STT
        track (notch depth V0 [J], sech^2 range [m], multiplier of the paper's 50 uA pulse = nominal/effective
        current cross-section); defaults are the shared paper-003 calibration of `physics.dw_tracks`
        (`LIU_STT_NOTCH`, `LIU_CURRENT_SCALE`: the result of the paper preset's grid search, seed 0), the same
        tracks the dw-dynamics experiment runs, so the quick preset uses the fitted values without refitting.
    sot_notch_depth_j, sot_notch_width_m, sot_current_scale: the same for the SOT track (27 uA pulse).
    calibrate: replace the six parameters by a grid search against the genuine 300 K tables before generating
        the tables (needs the genuine tables): the track presets' notch depth and range (`physics.dw_tracks`) and
        the paper's pulse current, each multiplied by every one of ``calib_factors``.
    calib_ramps: ramps per calibration point.
    calib_factors: factors tried on each of notch depth, notch range and current.
    stt_g_range_s, sot_g_range_s: conductance [S] of the wall at the first and last notch when the genuine
        tables are absent (from the repack README: STT 68-145 uS, SOT 64-161 uS); with them, the genuine
        300 K instance-0 range is used (paper 003 gives no RA or TMR).
    n_traj: Monte-Carlo devices of the nonlinearity fit.
    save_tables: write our tables as NPZ into ``<out>/tables/`` (inputs of the training experiments).
    figures: draw the PNG figures (off only to keep tests fast).
    targets: pass criteria (`DWLookupTablesTargets`).
    """

    tables_dir: str = ""
    temperatures_k: tuple[float, ...] = (0.0, 300.0, 400.0)
    n_ramps: int = 30
    n_pulses: int = 31
    n_instances: int = 20
    rp_sigma: float = 0.128
    tmr_sigma: float = 0.069
    stt_notch_depth_j: float = LIU_STT_NOTCH["notch_depth_j"]
    stt_notch_width_m: float = LIU_STT_NOTCH["notch_width_m"]
    stt_current_scale: float = LIU_CURRENT_SCALE["liu2021-stt"]
    sot_notch_depth_j: float = LIU_SOT_NOTCH["notch_depth_j"]
    sot_notch_width_m: float = LIU_SOT_NOTCH["notch_width_m"]
    sot_current_scale: float = LIU_CURRENT_SCALE["liu2021-sot"]
    calibrate: bool = False
    calib_ramps: int = 16
    calib_factors: tuple[float, ...] = (0.8, 1.0, 1.25)
    stt_g_range_s: tuple[float, float] = (67.96e-6, 144.86e-6)
    sot_g_range_s: tuple[float, float] = (64.06e-6, 160.53e-6)
    n_traj: int = 4000
    save_tables: bool = True
    figures: bool = True
    targets: DWLookupTablesTargets = DWLookupTablesTargets()

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperatures_k", tuple(float(t) for t in _as_tuple(self.temperatures_k)))
        object.__setattr__(self, "calib_factors", tuple(float(t) for t in _as_tuple(self.calib_factors)))
        if not self.temperatures_k:
            raise ConfigError("temperatures_k must list at least one temperature [K]")
        for t in self.temperatures_k:
            check_nonnegative("temperatures_k", t, unit="K")
        check_int("n_ramps", self.n_ramps, 2, 100_000)
        check_int("n_pulses", self.n_pulses, 2, 10_000)
        check_int("n_instances", self.n_instances, 1, 10_000)
        check_nonnegative("rp_sigma", self.rp_sigma, unit="(relative sigma)")
        check_nonnegative("tmr_sigma", self.tmr_sigma, unit="(relative sigma)")
        for k in KINDS:
            check_positive(f"{k}_notch_depth_j", getattr(self, f"{k}_notch_depth_j"), unit="J")
            check_positive(f"{k}_notch_width_m", getattr(self, f"{k}_notch_width_m"), unit="m")
            check_positive(f"{k}_current_scale", getattr(self, f"{k}_current_scale"))
            lo, hi = getattr(self, f"{k}_g_range_s")
            if not 0 < lo < hi:
                raise ConfigError(f"{k}_g_range_s must be (G_lo, G_hi) with 0 < G_lo < G_hi [S], got {(lo, hi)}")
        check_int("calib_ramps", self.calib_ramps, 2, 100_000)
        for f in self.calib_factors:
            check_positive("calib_factors", f)
        check_int("n_traj", self.n_traj, 10, 10**7)


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, str):
        return tuple(float(v) for v in x.replace("(", "").replace(")", "").split(",") if v.strip())
    if isinstance(x, int | float):
        return (x,)
    return tuple(x)


# ----------------------------------------------------------------------------------------- genuine tables
def find_tables_dir(cfg: DWLookupTablesConfig) -> Path | None:
    """The folder holding the genuine tables, or None: ``tables_dir`` itself, then ``dwmtj-lookup-tables/`` (or the
    root itself) under every data root of `spinaptic.data.search_roots` (SPINAPTIC_DATA, user cache, system)."""
    cands: list[Path] = [Path(cfg.tables_dir).expanduser()] if cfg.tables_dir else []
    for _, root in search_roots():
        cands += [root / "dwmtj-lookup-tables", root]
    for c in cands:
        if (c / "dwmtj_stt_300K.npz").exists() or (c / "DWMTJ_STT" / "300K").is_dir() \
                or (c / "lookup_tables" / "DWMTJ_STT" / "300K").is_dir():
            return c
    return None


def load_genuine(folder: Path, kind: str, temperature_k: float) -> LookupTable | None:
    """The genuine table of ``kind`` at ``temperature_k`` from ``folder`` (NPZ repack or CrossSim tree), or None."""
    t = f"{int(round(temperature_k))}K"
    npz = folder / f"dwmtj_{kind}_{t}.npz"
    if npz.exists():
        return load_npz(npz, name=f"MuMax3 {kind.upper()} {t}")
    for sub in (folder / f"DWMTJ_{kind.upper()}" / t, folder / "lookup_tables" / f"DWMTJ_{kind.upper()}" / t):
        if sub.is_dir():
            return load_crosssim_dir(sub, name=f"MuMax3 {kind.upper()} {t}")
    return None


# ----------------------------------------------------------------------------------------- our tables
@dataclass(frozen=True)
class DWParams:
    """The 1D model's free parameters for one track type."""

    notch_depth_j: float
    notch_width_m: float
    current_scale: float


def _params(cfg: DWLookupTablesConfig, kind: str) -> DWParams:
    return DWParams(getattr(cfg, f"{kind}_notch_depth_j"), getattr(cfg, f"{kind}_notch_width_m"),
                    getattr(cfg, f"{kind}_current_scale"))


def preset_params(kind: str) -> DWParams:
    """The shared paper-003 calibration of the track presets (`physics.dw_tracks`: notch and current scale): the
    defaults and the grid search's starting point."""
    t = dw.liu2021_stt_track() if kind == "stt" else dw.liu2021_sot_track()
    return DWParams(t.notch_depth_j, t.notch_width_m, liu2021_current_scale(t))


def make_track(kind: str, p: DWParams) -> dw.DWTrack:
    """Paper 003's STT / SOT track (32 notches) with the given notch parameters."""
    base = dw.liu2021_stt_track if kind == "stt" else dw.liu2021_sot_track
    return base(notch_depth_j=p.notch_depth_j, notch_width_m=p.notch_width_m)


def simulate_ramps(kind: str, p: DWParams, temperature_k: float, n_ramps: int, n_pulses: int,
                   g_range: tuple[float, float], generator: torch.Generator) -> np.ndarray:
    """Conductance [S] of ``n_ramps`` independent walls after each pulse of an up/down ramp, (n_ramps, 2 n_pulses + 1).

    The paper's pulse train (STT 1 ns x 50 uA, SOT 0.5 ns x 27 uA, times ``current_scale``, 4 ns relaxation),
    starting at the first notch; positions are converted to G with the junction that reads ``g_range`` [S] at the
    first / last notch (`devices.dw_synapse.mtj_conductances_for_range`)."""
    track = make_track(kind, p)
    q = dw.ramp(track, 2 * n_pulses, "updown", dw.calibrated_pulse(track, p.current_scale), n_tracks=n_ramps,
                temperature_k=temperature_k, generator=generator)
    g_p, g_ap = mtj_conductances_for_range(track, g_range)
    return position_conductance(track, q.T, g_p, g_ap).numpy()


def build_table(g: np.ndarray, n_pulses: int, name: str) -> LookupTable:
    """Our table from simulated ramps (`table_from_ramps`, 501 x 501 as CrossSim)."""
    return table_from_ramps(g, ramp_polarity(n_pulses, n_pulses), name=name, source=name)


def step_summary(table: LookupTable) -> np.ndarray:
    """[mean+, -mean-, std+, std-] [S] of the per-pulse Delta-G of instance 0, averaged over the bins."""
    st = table_statistics(table.instance(0))
    return np.array([st["mean_increasing"].mean(), -st["mean_decreasing"].mean(),
                     st["std_increasing"].mean(), st["std_decreasing"].mean()])


def calibration_loss(ours: np.ndarray, target: np.ndarray) -> float:
    """Squared relative misfits of the mean steps (weight 2: the mean step sets a network's effective learning
    rate) and of the step spreads (weight 1: where the 1D model is least faithful), both directions."""
    e = (ours / target - 1.0) ** 2
    return float(2.0 * e[:2].sum() + e[2:].sum())


def calibrate(kind: str, start: DWParams, factors: tuple[float, ...], target: np.ndarray, g_range: tuple[float, float],
              n_ramps: int, n_pulses: int, generator: torch.Generator) -> tuple[DWParams, list[dict[str, Any]]]:
    """Grid search of notch depth, notch width and current scale (each times ``factors``) at 300 K minimising
    `calibration_loss` against the genuine table's `step_summary` ``target`` (our ramps use the same conductance
    map, so steps compare in siemens). Returns the best parameters and all grid rows."""
    rows: list[dict[str, Any]] = []
    best, best_loss = start, math.inf
    seed = int(draw_key(generator))
    for fd in factors:
        for fw in factors:
            for fc in factors:
                p = DWParams(start.notch_depth_j * fd, start.notch_width_m * fw, start.current_scale * fc)
                g = simulate_ramps(kind, p, 300.0, n_ramps, n_pulses, g_range, torch.Generator().manual_seed(seed))
                ours = step_summary(build_table(g, n_pulses, "calibration"))
                loss = calibration_loss(ours, target)
                rows.append({"device": kind.upper(), "notch_depth_J": p.notch_depth_j, "notch_width_nm": p.notch_width_m * 1e9,
                             "current_scale": p.current_scale, "mean_step_uS": round(float(ours[:2].mean()) * 1e6, 3),
                             "std_step_uS": round(float(ours[2:].mean()) * 1e6, 3), "loss": round(loss, 4)})
                if loss < best_loss:
                    best, best_loss = p, loss
    return best, rows


# ----------------------------------------------------------------------------------------- the experiment
@experiment(
    "dw-lookup-tables",
    paper="003",
    title="DW-MTJ Delta-G lookup tables: 1D domain-wall model vs MuMax3 (paper 003, Fig. 3a, Table I)",
    config=DWLookupTablesConfig,
    presets={
        "quick": DWLookupTablesConfig(temperatures_k=(300.0,), n_traj=2000),
        # the shared calibration of physics.dw_tracks (the one dw-dynamics runs); `--set calibrate=true` redoes the
        # grid search around it (a run-local refit, which then no longer matches the other experiments' tracks)
        "paper": DWLookupTablesConfig(calib_ramps=60),
    },
)
def run(cfg: DWLookupTablesConfig, ctx: RunContext) -> Result:
    """Lookup tables of STT and SOT DW-MTJ synapses from 30 simulated ramps, their Table I figures and the
    comparison with (and calibration to) the genuine MuMax3 tables of paper 003."""
    import matplotlib.pyplot as plt

    metrics: dict[str, Any] = {}
    comparisons: list[Comparison] = []
    tables_out: dict[str, list[dict[str, Any]]] = {}
    notes: list[str] = []
    temps = sorted(set(cfg.temperatures_k) | {300.0})

    # (1) genuine tables ------------------------------------------------------------------------------
    folder = find_tables_dir(cfg)
    genuine: dict[tuple[str, float], LookupTable] = {}
    if folder is None:
        notes.append("The genuine MuMax3 tables were not found (set `--set tables_dir=...` or `$SPINAPTIC_DATA` to a "
                     "folder holding `dwmtj-lookup-tables/`): the comparison with micromagnetics and the "
                     "calibration are skipped.")
    else:
        for kind in KINDS:
            for t in temps:
                try:
                    tab = load_genuine(folder, kind, t)
                except LookupTableError as e:
                    notes.append(f"Genuine table {kind.upper()} {t:g} K refused: {e}")
                    tab = None
                if tab is not None:
                    genuine[(kind, t)] = tab
        metrics["genuine_tables_dir"] = str(folder)
    fig_rows: list[dict[str, Any]] = []
    gen_fig: dict[str, dict[str, Any]] = {}
    for (kind, t), tab in sorted(genuine.items()):
        f = table_i_figures(tab, n_traj=cfg.n_traj, generator=ctx.make_generator(f"nl-genuine-{kind}-{t}"))
        gen_fig[f"{kind}-{t:g}"] = f
        fig_rows.append(_row("MuMax3 (genuine)", kind, t, tab, f))
        if t == 300.0 and tab.n_instances > 1:
            rp, tmr = 1.0 / tab.g_max, tmr_from_conductances(tab.g_max, tab.g_min)
            metrics[f"genuine_{kind}_implied_rp_rel_sigma"] = float(rp.std(ddof=1) / rp.mean())
            metrics[f"genuine_{kind}_implied_tmr_rel_sigma"] = float(tmr.std(ddof=1) / tmr.mean())

    # (2) calibration ---------------------------------------------------------------------------------
    params = {k: _params(cfg, k) for k in KINDS}
    g_ranges = {}
    for kind in KINDS:
        g300 = genuine.get((kind, 300.0))
        g_ranges[kind] = ((float(g300.g_min[0]), float(g300.g_max[0])) if g300 is not None
                          else tuple(getattr(cfg, f"{kind}_g_range_s")))
    fit_to = {k: step_summary(genuine[(k, 300.0)]) for k in KINDS if (k, 300.0) in genuine}
    if cfg.calibrate:
        if len(fit_to) < 2:
            notes.append("Calibration asked for but the genuine 300 K tables are missing: configured parameters used.")
        else:
            calib_rows: list[dict[str, Any]] = []
            for kind in KINDS:
                best, rows = ctx.cached(f"calibration-{kind}", lambda kind=kind: calibrate(
                    kind, preset_params(kind), cfg.calib_factors, fit_to[kind], g_ranges[kind], cfg.calib_ramps, cfg.n_pulses,
                    ctx.make_generator(f"calibration-{kind}")))
                params[kind] = best
                calib_rows += rows
            tables_out["Calibration grid (300 K, instance 0, bin-averaged per-pulse steps)"] = calib_rows
    for kind in KINDS:
        p = params[kind]
        track = make_track(kind, p)
        g_p, g_ap = mtj_conductances_for_range(track, g_ranges[kind])
        metrics[f"{kind}_notch_depth_J"] = p.notch_depth_j
        metrics[f"{kind}_notch_depth_kBT300"] = p.notch_depth_j / thermal_energy(300.0)
        metrics[f"{kind}_notch_width_nm"] = p.notch_width_m * 1e9
        metrics[f"{kind}_current_scale"] = p.current_scale
        metrics[f"{kind}_pulse_current_uA"] = dw.calibrated_pulse(track, p.current_scale).amplitude_a * 1e6
        metrics[f"{kind}_effective_cross_section_nm2"] = drive_cross_section_m2(track) * 1e18 / p.current_scale
        metrics[f"{kind}_mtj_r_p_ohm"] = 1.0 / g_p
        metrics[f"{kind}_mtj_tmr"] = tmr_from_conductances(g_p, g_ap)

    # (3) our tables ----------------------------------------------------------------------------------
    ours: dict[tuple[str, float], LookupTable] = {}
    ramps: dict[tuple[str, float], np.ndarray] = {}
    for kind in KINDS:
        for t in ctx.progress(temps, desc=f"{kind} ramps"):
            g = ctx.cached(f"ramps-{kind}-{t:g}K", lambda kind=kind, t=t: simulate_ramps(
                kind, params[kind], t, cfg.n_ramps, cfg.n_pulses, g_ranges[kind], ctx.make_generator(f"ramps-{kind}-{t}")))
            ramps[(kind, t)] = g
            tab = build_table(g, cfg.n_pulses, f"1D model {kind.upper()} {t:g}K")
            if t == 300.0 and cfg.n_instances > 1:
                tab = perturb_table(tab, cfg.n_instances, rp_sigma=cfg.rp_sigma, tmr_sigma=cfg.tmr_sigma,
                                    generator=ctx.make_generator(f"d2d-{kind}"), name=tab.name)
            ours[(kind, t)] = tab
            if cfg.save_tables:
                save_npz(tab.astype(np.float32), ctx.out_dir / "tables" / f"dwmtj_{kind}_{t:g}K_1d-model.npz")
    our_fig: dict[str, dict[str, Any]] = {}
    for (kind, t), tab in sorted(ours.items()):
        f = table_i_figures(tab, n_traj=cfg.n_traj, generator=ctx.make_generator(f"nl-ours-{kind}-{t}"))
        our_fig[f"{kind}-{t:g}"] = f
        fig_rows.append(_row("1D model (ours)", kind, t, tab, f))
    tables_out["Table I figures and step statistics"] = fig_rows

    # (4) comparisons ---------------------------------------------------------------------------------
    tg = cfg.targets
    paper_protocol = cfg.n_pulses == 31  # 32 notches end to end, as the paper's ramps
    off_protocol = f"ramps of {cfg.n_pulses} pulses per direction, the paper's run the 32 notches end to end (31)"

    def judged(row: Comparison) -> Comparison:
        if not paper_protocol and row.verdict in ("pass", "short"):
            row.verdict, row.note = "not-comparable", off_protocol
        return row

    for kind in KINDS:
        paper = PAPER_TABLE_I[kind]
        o = our_fig[f"{kind}-300"]
        gkey = f"{kind}-300"
        K = kind.upper()
        src = f"paper 003 Table I ({K}, 300 K)"
        if gkey in gen_fig:  # the definition applied to the paper's own tables: how far the extraction itself is
            gf = gen_fig[gkey]
            comparisons.append(paper_row(
                f"{K} Table I nonlinearity +/- by our extraction, applied to the genuine MuMax3 tables",
                f"+{paper['nl_plus']:.2f}/{paper['nl_minus']:.2f}", f"{gf['nl_plus']:+.2f}/{gf['nl_minus']:+.2f}", None,
                source=src, quote=TABLE_I_QUOTE[kind],
                note="tests the definition (NeuroSim label of the mean pulse response), not the model: its gap sets "
                     "the nonlinearity tolerance of the model rows"))
            comparisons.append(paper_row(
                f"{K} Table I cycle-to-cycle by our definition, applied to the genuine MuMax3 tables",
                f"{paper['c2c_percent']}%", round(gf["c2c_percent"], 3), None, unit="%", source=src,
                quote=TABLE_I_QUOTE[kind],
                note=f"{gf['c2c_percent'] / paper['c2c_percent']:.2f} x Table I: the paper worked from its raw 930 "
                     "ramp points, the published tables are smoothed; sets the c2c tolerance of the model rows"))
        for sign in ("plus", "minus"):
            pv, ov = paper[f"nl_{sign}"], o[f"nl_{sign}"]
            comparisons.append(judged(paper_row(
                f"{K} nonlinearity {'+' if sign == 'plus' else '-'} (1D model, 300 K, {cfg.n_ramps} ramps)",
                f"{pv:+.2f}", round(ov, 3), abs(ov - pv) <= tg.nl_abs_tol, source=src, quote=TABLE_I_QUOTE[kind],
                target=f"within +/-{tg.nl_abs_tol:g}", gap=f"ours {ov:+.2f} vs Table I {pv:+.2f}")))
        c = o["c2c_percent"]
        comparisons.append(judged(paper_row(
            f"{K} cycle-to-cycle variation (1D model, 300 K, {cfg.n_ramps} ramps)", f"{paper['c2c_percent']}%",
            round(c, 3), 1 / tg.c2c_factor <= c / paper["c2c_percent"] <= tg.c2c_factor, unit="%", source=src,
            quote=TABLE_I_QUOTE[kind], target=f"within x{tg.c2c_factor:g} either way",
            gap=f"ours {c / paper['c2c_percent']:.2f} x Table I",
            note="definition: `devices.lookup_table.cycle_to_cycle`, the same as dw-dynamics")))
        if (kind, 300.0) in genuine:
            ov, gv = step_summary(ours[(kind, 300.0)]) * 1e6, step_summary(genuine[(kind, 300.0)]) * 1e6
            m_o, m_g = float(ov[:2].mean()), float(gv[:2].mean())
            s_o, s_g = float(ov[2:].mean()), float(gv[2:].mean())
            comparisons.append(calibrated_row(
                f"{K} mean step (300 K, instance 0, both directions)", round(m_g, 3), round(m_o, 3), unit="uS",
                source=GENUINE_SOURCE,
                note=f"notch depth, range and current scale fitted to it ({'in this run' if cfg.calibrate else 'shared calibration of physics.dw_tracks'}); ours {m_o / m_g:.2f} x MuMax3"))
            r = s_o / s_g
            comparisons.append(judged(reference_row(
                f"{K} step spread sigma(Delta-G) vs MuMax3 (300 K, instance 0, both directions, {cfg.n_ramps} ramps)",
                round(s_g, 3), round(s_o, 3), 1 / tg.spread_factor <= r <= tg.spread_factor, unit="uS",
                source=GENUINE_SOURCE, target=f"within x{tg.spread_factor:g} either way",
                gap=f"ours {r:.2f} x MuMax3" + ("" if kind == "stt" else
                    ": the rigid 1D SOT wall hops bimodally (stays pinned, or coasts ~Delta phi / alpha over several "
                    "notches after the pulse, near the DMI saturation velocity); with the mean step matched the spread "
                    "stays 1.5-1.7 x for notch ranges 20-40 nm, depths and pulse rise/fall 0-0.2 ns, so it is a limit "
                    "of the (q, phi) model (no wall tilt or internal modes), not of the calibration"),
                note="the spread enters the calibration loss with weight 1, but cannot be set apart from the mean")))
        else:
            comparisons.append(Comparison(f"{K} steps vs MuMax3", "genuine tables", "-", verdict="not-comparable",
                                          note="genuine tables not found", kind="reference", source=GENUINE_SOURCE))
    for kind in KINDS:  # other temperatures: predictions of the 300 K-calibrated model
        pitch_g = (g_ranges[kind][1] - g_ranges[kind][0]) / (len(make_track(kind, params[kind]).notch_positions_m) - 1)
        for t in temps:
            if t == 300.0 or (kind, t) not in genuine:
                continue
            ov, gv = step_summary(ours[(kind, t)]), step_summary(genuine[(kind, t)])
            comparisons.append(reference_row(
                f"{kind.upper()} {t:g} K mean step / spread (instance 0) vs MuMax3", f"{gv[:2].mean() * 1e6:.2f} / {gv[2:].mean() * 1e6:.2f}",
                f"{ov[:2].mean() * 1e6:.2f} / {ov[2:].mean() * 1e6:.2f}", None, unit="uS", source=GENUINE_SOURCE,
                note=f"{ov[:2].mean() / pitch_g:.2f} vs {gv[:2].mean() / pitch_g:.2f} notch pitches per pulse; "
                     "prediction of the model calibrated at 300 K, shown without a verdict"))
    sot, stt = our_fig["sot-300"], our_fig["stt-300"]
    ratio = sot["c2c_percent"] / stt["c2c_percent"]
    comparisons.append(judged(paper_row(
        "SOT more stochastic than STT (cycle-to-cycle ratio, 1D model, 300 K)",
        "significantly more pronounced in SOT (Table I: 3.23 % vs 0.77 %)", round(ratio, 2),
        ratio >= tg.sot_over_stt_min, source="paper 003 text, Fig. 3(a), Table I",
        quote="this is significantly more pronounced in the SOT devices", target=f">= {tg.sot_over_stt_min:g}")))
    for kind in KINDS:
        key = f"genuine_{kind}_implied_rp_rel_sigma"
        if key in metrics:
            comparisons.append(paper_row(
                f"{kind.upper()} genuine instances: implied R_P / TMR spread", "12.8 % / 6.9 %",
                f"{100 * metrics[key]:.1f} % / {100 * metrics[f'genuine_{kind}_implied_tmr_rel_sigma']:.1f} %", None,
                source="paper 003 text (device-to-device variation)",
                quote="the MTJ parallel resistance R_p (12.8%) and the tunnel magnetoresistance ratio TMR (6.9%)",
                note="R_P = 1/G_max, TMR = G_max/G_min - 1 of the 20 published instances (a check of the data "
                     "against the text; our own instances draw the paper's sigmas, an input)"))
    for k, f in our_fig.items():
        for q in ("nl_plus", "nl_minus", "c2c_percent", "mean_step_increasing_s", "std_step_increasing_s"):
            metrics[f"ours_{k}K_{q}"] = f[q]
    for k, f in gen_fig.items():
        for q in ("nl_plus", "nl_minus", "c2c_percent", "mean_step_increasing_s", "std_step_increasing_s"):
            metrics[f"genuine_{k}K_{q}"] = f[q]

    # (5) figures -------------------------------------------------------------------------------------
    if cfg.figures:
        _fig_heatmaps(ctx, plt, ours, genuine, "cdf")
        _fig_heatmaps(ctx, plt, ours, genuine, "density")
        _fig_steps(ctx, plt, ours, genuine)
        _fig_ramps(ctx, plt, ramps, ours, genuine, our_fig, gen_fig, cfg)
        if len(temps) > 1:
            _fig_temperature(ctx, plt, our_fig, gen_fig, temps)

    notes += notes_text(params, metrics, calibrated_here=cfg.calibrate and len(fit_to) == 2,
                        n_instances=cfg.n_instances, rp_sigma=cfg.rp_sigma, tmr_sigma=cfg.tmr_sigma,
                        save_tables=cfg.save_tables)
    return Result(metrics=metrics, comparisons=comparisons, tables=tables_out, notes="\n\n".join(notes))


def _row(source: str, kind: str, t: float, tab: LookupTable, f: dict[str, Any]) -> dict[str, Any]:
    return {"source": source, "device": kind.upper(), "T_K": t, "instances": tab.n_instances,
            "G_range_uS": f"{f['g_min_s'] * 1e6:.1f}-{f['g_max_s'] * 1e6:.1f}",
            "mean_step_uS": round(0.5 * (f["mean_step_increasing_s"] - f["mean_step_decreasing_s"]) * 1e6, 3),
            "std_step_uS": round(0.5 * (f["std_step_increasing_s"] + f["std_step_decreasing_s"]) * 1e6, 3),
            "NL_plus": round(f["nl_plus"], 3), "NL_minus": round(f["nl_minus"], 3),
            "C2C_percent": round(f["c2c_percent"], 3), "pulses_end_to_end": f["n_pulses_plus"]}


def _fig_heatmaps(ctx: RunContext, plt, ours, genuine, kind_: str = "cdf") -> None:
    cols = [(k, d) for k in KINDS for d in ("increasing", "decreasing")]
    rows = [("1D model", ours)] + ([("MuMax3", genuine)] if genuine else [])
    fig, axes = plt.subplots(len(rows), 4, figsize=(17, 3.4 * len(rows)), squeeze=False)
    for c, (kind, d) in enumerate(cols):
        tabs = [src.get((kind, 300.0)) for _, src in rows]
        qs = [np.quantile(t.dg(d)[0], (0.002, 0.998)) for t in tabs if t is not None]
        lo, hi = min(q[0] for q in qs), max(q[1] for q in qs)
        pad = 0.05 * (hi - lo)
        for r, (label, _) in enumerate(rows):
            t = tabs[r]
            if t is None:
                axes[r, c].set_axis_off()
                continue
            plot_heatmap(t, d, ax=axes[r, c], dg_range=(lo - pad, hi + pad), kind=kind_, n_dg=160 if kind_ == "cdf" else 80,
                         title=f"{label} {kind.upper()} 300 K, {d}")
    what = "CDF (colour) as paper 003 Fig. 3a" if kind_ == "cdf" else "probability density"
    fig.suptitle(f"Per-pulse Delta-G against G: {what}; instance 0", fontsize=11)
    fig.tight_layout()
    ctx.save_figure(fig, "heatmaps_300K.png" if kind_ == "cdf" else "heatmaps_density_300K.png")


def _fig_steps(ctx: RunContext, plt, ours, genuine) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, kind in zip(axes, KINDS):
        for (label, src), color in ((("1D model", ours), "C0"), (("MuMax3", genuine), "C3")):
            t = src.get((kind, 300.0))
            if t is None:
                continue
            st = table_statistics(t.instance(0))
            g = st["g_bins"][0] * 1e6
            for d, ls in (("increasing", "-"), ("decreasing", "--")):
                m, s = st[f"mean_{d}"][0] * 1e6, st[f"std_{d}"][0] * 1e6
                ax.plot(g, m, ls, color=color, label=f"{label}, {d}")
                ax.fill_between(g, m - s, m + s, color=color, alpha=0.15, lw=0)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("conductance G (uS)")
        ax.set_ylabel(r"mean $\Delta G$ per pulse $\pm$ 1 sigma (uS)")
        ax.set_title(f"{kind.upper()} 300 K")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    ctx.save_figure(fig, "mean_step_and_spread.png")


def _fig_ramps(ctx: RunContext, plt, ramps, ours, genuine, our_fig, gen_fig, cfg) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    for c, kind in enumerate(KINDS):
        ax = axes[0, c]
        g = ramps[(kind, 300.0)]
        for i in range(min(6, g.shape[0])):
            ax.plot(g[i] * 1e6, lw=0.9, alpha=0.8)
        ax.plot(g.mean(axis=0) * 1e6, "k", lw=2, label=f"mean of {g.shape[0]} ramps")
        t = genuine.get((kind, 300.0))
        if t is not None:  # the same ramp sampled from the genuine table
            s = TableSampler(t.instance(0), dtype=torch.float64)
            n = 2000
            x = torch.full((n,), float(t.g_min[0]), dtype=torch.float64)
            inst = torch.zeros(n, dtype=torch.int64)
            path = [x.mean().item()]
            gen = ctx.make_generator(f"ramp-genuine-{kind}")
            for sign in ramp_polarity(cfg.n_pulses, cfg.n_pulses):
                x = s.step(x, inst, torch.full((n,), int(sign)), gen)
                path.append(x.mean().item())
            ax.plot(np.array(path) * 1e6, color="C3", lw=2, ls="--", label="mean, sampled from MuMax3 table")
        ax.set_xlabel("pulse number")
        ax.set_ylabel("G (uS)")
        ax.set_title(f"{kind.upper()} 300 K: 1D-model up/down ramps")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        ax = axes[1, c]
        for label, figs, color in (("1D model", our_fig, "C0"), ("MuMax3", gen_fig, "C3")):
            f = figs.get(f"{kind}-300")
            if f is None:
                continue
            for d, ls in (("increasing", "-"), ("decreasing", "--")):
                cv = f["curves"][f"curve_{d}"]
                x = np.linspace(0, 1, cv.size)
                y = (cv - cv.min()) / (cv.max() - cv.min())
                ax.plot(x, y, ls, color=color, label=f"{label} {d} (NL {f['nl_plus' if d == 'increasing' else 'nl_minus']:+.2f})")
        ax.plot([0, 1], [0, 1], ":", color="gray")
        ax.plot([0, 1], [1, 0], ":", color="gray")
        ax.set_xlabel("pulse number / pulses end to end")
        ax.set_ylabel("normalised mean G")
        ax.set_title(f"{kind.upper()} 300 K: mean pulse response (nonlinearity fit)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    ctx.save_figure(fig, "ramps_and_pulse_response.png")


def _fig_temperature(ctx: RunContext, plt, our_fig, gen_fig, temps) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for kind, color in zip(KINDS, ("C0", "C1")):
        for label, figs, mk in (("1D model", our_fig, "o-"), ("MuMax3", gen_fig, "s--")):
            ts = [t for t in temps if f"{kind}-{t:g}" in figs]
            if not ts:
                continue
            axes[0].plot(ts, [figs[f"{kind}-{t:g}"]["c2c_percent"] for t in ts], mk, color=color, label=f"{label} {kind.upper()}")
            axes[1].plot(ts, [abs(figs[f"{kind}-{t:g}"]["mean_step_increasing_s"]) * 1e6 for t in ts], mk, color=color,
                         label=f"{label} {kind.upper()}")
    axes[0].set_ylabel("cycle-to-cycle variation (%)")
    axes[1].set_ylabel("mean potentiating step (uS)")
    for ax in axes:
        ax.set_xlabel("temperature (K)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    ctx.save_figure(fig, "temperature.png")
