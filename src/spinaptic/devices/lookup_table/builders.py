"""Table builders: `table_from_ramps` (how physics-generated tables are made from conductance ramps, with
`ramp_polarity`) and `perturb_table` (device-to-device instances from R_P / TMR variation)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...config import ConfigError, check_nonnegative
from .table import LookupTable, LookupTableError


def ramp_polarity(n_up: int, n_down: int, n_cycles: int = 1) -> np.ndarray:
    """Pulse polarities (+1/-1) of ``n_cycles`` ramps of ``n_up`` potentiating then ``n_down`` depressing pulses."""
    one = np.concatenate([np.ones(n_up, dtype=np.int8), -np.ones(n_down, dtype=np.int8)])
    return np.tile(one, n_cycles)


def table_from_ramps(g: np.ndarray | Sequence[np.ndarray], polarity: np.ndarray | Sequence[np.ndarray], *,
                     n_bins: int = 501, n_cdf: int = 501, n_coarse: int | None = None,
                     g_range: tuple[float, float] | None = None, min_samples: int = 5, name: str = "",
                     source: str = "<ramps>") -> LookupTable:
    """One-instance table from conductance ramps: how paper 003 built its tables from 30 MuMax3 ramps.

    Args:
        g: conductance [S] before the first pulse and after each pulse: (..., P + 1), or a list of 1-D
            sequences (each of its own length).
        polarity: +1 (potentiating) / -1 (depressing) per pulse, broadcastable to (..., P) (or a list
            matching ``g``); 0 entries are skipped.
        n_bins, n_cdf: output grid (501 x 501 as CrossSim).
        n_coarse: number of conductance bins the steps are pooled in (default: about 25 steps per bin,
            between 4 and 64). Each coarse bin's Delta-G samples give its quantiles at the n_cdf points
            (linear interpolation between order statistics); bins with fewer than ``min_samples`` steps
            are filled by interpolation from their neighbours; the fine grid is interpolated linearly in G
            from the coarse bins' mean conductances (constant beyond the outermost ones).
        g_range: (G_min, G_max) of the output grid [S]; default the extremes of ``g``.
    """
    if isinstance(g, np.ndarray) and g.dtype != object:
        g_arr = np.asarray(g, dtype=np.float64)
        if g_arr.ndim < 1 or g_arr.shape[-1] < 2:
            raise LookupTableError(f"{source}: ramps need at least 2 conductances per sequence, got shape {g_arr.shape}")
        pol = np.broadcast_to(np.asarray(polarity), g_arr[..., :-1].shape)
        g0, dgs, pols = g_arr[..., :-1].ravel(), np.diff(g_arr, axis=-1).ravel(), pol.ravel()
        g_all = g_arr.ravel()
    else:
        seqs = [np.asarray(s, dtype=np.float64) for s in g]
        pl = [np.broadcast_to(np.asarray(p), (len(s) - 1,)) for s, p in zip(seqs, polarity)]
        if len(pl) != len(seqs):
            raise LookupTableError(f"{source}: {len(seqs)} ramps but {len(pl)} polarity sequences")
        g0 = np.concatenate([s[:-1] for s in seqs])
        dgs = np.concatenate([np.diff(s) for s in seqs])
        pols = np.concatenate(pl)
        g_all = np.concatenate(seqs)
    if not np.isfinite(g_all).all():
        raise LookupTableError(f"{source}: ramps contain NaN/inf conductances")
    lo, hi = g_range if g_range is not None else (float(g_all.min()), float(g_all.max()))
    if not hi > lo:
        raise LookupTableError(f"{source}: conductance range [{lo}, {hi}] is empty")
    fine = np.linspace(lo, hi, n_bins)
    cdf = np.linspace(0.0, 1.0, n_cdf)
    tables = []
    for sign in (1, -1):
        sel = pols == sign
        x, v = g0[sel], dgs[sel]
        if x.size < min_samples:
            raise LookupTableError(f"{source}: only {x.size} {'potentiating' if sign > 0 else 'depressing'} steps; "
                                   f"need at least {min_samples}")
        nc = n_coarse or int(np.clip(x.size // 25, 4, 64))
        edges = np.linspace(lo, hi, nc + 1)
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, nc - 1)
        centres, rows = [], []
        for b in range(nc):
            m = which == b
            if m.sum() >= min_samples:
                centres.append(float(x[m].mean()))
                rows.append(np.quantile(v[m], cdf))
        if not rows:
            raise LookupTableError(f"{source}: no conductance bin holds {min_samples} steps; lower n_coarse")
        centres_a = np.array(centres)
        rows_a = np.stack(rows, axis=1)  # (K, n_filled)
        # linear interpolation in G of every CDF row (monotone columns stay monotone: convex weights)
        pos = np.clip(np.searchsorted(centres_a, fine) - 1, 0, max(len(centres_a) - 2, 0))
        if len(centres_a) == 1:
            q = np.repeat(rows_a, n_bins, axis=1)
        else:
            w = np.clip((fine - centres_a[pos]) / (centres_a[pos + 1] - centres_a[pos]), 0.0, 1.0)
            q = rows_a[:, pos] * (1 - w) + rows_a[:, pos + 1] * w
        tables.append(q)
    return LookupTable(fine, cdf, tables[0], tables[1], name=name, source=source, check_sign=False)


def perturb_table(table: LookupTable, n_instances: int = 20, *, rp_sigma: float = 0.128, tmr_sigma: float = 0.069,
                  generator: torch.Generator | None = None, g_p: float | None = None, g_ap: float | None = None,
                  include_nominal: bool = True, name: str = "") -> LookupTable:
    """Device-to-device instances of a one-instance table by perturbing the MTJ (paper 003: normally
    distributed R_P, sigma 12.8 %, and TMR, sigma 6.9 %, from Xue et al. 2015 at 45 nm; 20 tables).

    The DW-MTJ conductance is G = f G_P + (1 - f) G_AP with f the parallel fraction set by the wall
    position, so a table maps affinely: f = (G - G_AP) / (G_P - G_AP) is kept and G' = G_AP' + f (G_P' - G_AP'),
    Delta-G' = Delta-G (G_P' - G_AP') / (G_P - G_AP), with G_P' = 1 / R_P', G_AP' = 1 / (R_P' (1 + TMR')).
    Nominal G_P / G_AP default to the table's highest / lowest bin. Instance 0 is the nominal table when
    ``include_nominal``.
    """
    if table.n_instances != 1:
        table = table.instance(0)
    check_nonnegative("rp_sigma", rp_sigma, unit="(relative sigma)")
    check_nonnegative("tmr_sigma", tmr_sigma, unit="(relative sigma)")
    gp = float(g_p if g_p is not None else table.g_max[0])
    gap = float(g_ap if g_ap is not None else table.g_min[0])
    if not gp > gap > 0:
        raise ConfigError(f"need G_P > G_AP > 0 [S], got {gp}, {gap}")
    rp, tmr = 1.0 / gp, gp / gap - 1.0
    z = torch.randn((n_instances, 2), generator=generator, dtype=torch.float64).numpy()
    if include_nominal:
        z[0] = 0.0
    rp_i = rp * np.clip(1 + rp_sigma * z[:, 0], 0.05, None)
    tmr_i = tmr * np.clip(1 + tmr_sigma * z[:, 1], 0.05, None)
    gp_i, gap_i = 1.0 / rp_i, 1.0 / (rp_i * (1.0 + tmr_i))
    scale = (gp_i - gap_i) / (gp - gap)
    gb = table.g_bins[0].astype(np.float64)
    g_bins = gap_i[:, None] + (gb[None] - gap) * scale[:, None]
    inc = table.dg_increasing[0].astype(np.float64)[None] * scale[:, None, None]
    dec = table.dg_decreasing[0].astype(np.float64)[None] * scale[:, None, None]
    return LookupTable(g_bins, table.cdf, inc, dec, name=name or f"{table.name} x{n_instances} (R_P, TMR varied)",
                       source=f"{table.source} (perturbed)")


def ideal_table(g_range: tuple[float, float] = (0.0, 1e-4), step: float = 1e-6, *, n_bins: int = 2, n_cdf: int = 2,
                name: str = "ideal numeric") -> LookupTable:
    """One-instance table of a noise-free, state-independent device: every pulse moves G by exactly +-``step``.

    With CrossSim's fractional update (`TileConfig.update_rule="fractional"`: one draw scaled to the requested
    fraction of a mean step) such a device realises every requested Delta-G exactly, up to clipping at the
    window and the state's float precision: the "ideal numeric" reference of paper 003 Fig. 5 run through the
    same tile and update code as the measured tables. Two bins and two CDF points suffice (constant columns).
    """
    lo, hi = float(g_range[0]), float(g_range[1])
    if not hi > lo:
        raise ConfigError(f"g_range must be (G_min, G_max) with G_min < G_max [S], got {g_range!r}")
    if not step > 0:
        raise ConfigError(f"step must be > 0 [S], got {step!r}")
    g = np.linspace(lo, hi, n_bins)
    cdf = np.linspace(0.0, 1.0, n_cdf)
    inc = np.full((n_cdf, n_bins), float(step))
    return LookupTable(g, cdf, inc, -inc, name=name, source="<ideal_table>")
