"""The validated lookup-table data class and its Delta-G statistics (paper 003 Fig. 3a / Table I).

A lookup table (paper 003, Liu et al. APL 118, 202405 (2021), Fig. 3a; the CrossSim "DG_LOOKUP" update
model) stores, for each conductance bin ``g_bins[d, j]`` and each cumulative probability ``cdf[k]``, the
per-pulse conductance change ``dg[d, k, j]``: the inverse CDF (quantile function) of Delta-G for a device in
that bin, separately for potentiating ("increasing") and depressing ("decreasing") pulses. ``d`` indexes
device instances: each device of an array picks one instance at `init_state` (device-to-device variation,
paper 003: 20 tables with perturbed R_P and TMR).

This module holds `LookupTable` (D instances, M bins, K CDF points) and `validate_table`; the exact
moments of its piecewise-linear quantile functions (`quantiles`, `table_statistics`), the cycle-to-cycle
variation (`cycle_to_cycle`) and the Delta-G density / CDF map on a grid (`density_map`, drawn by
`spinaptic.experiments.lookup_table_plots.plot_heatmap`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...config import ConfigError, check_choice, check_range

DIRECTIONS = ("increasing", "decreasing")


class LookupTableError(ConfigError):
    """A lookup table (file or arrays) is malformed; the message names the source, the array and the problem."""


# ------------------------------------------------------------------------------------------ data class
@dataclass(frozen=True, eq=False)
class LookupTable:
    """Probabilistic Delta-G tables of D device instances on M conductance bins and K CDF points.

    Attributes:
        g_bins: (D, M) conductance bin centres [S], strictly increasing along M.
        cdf: (K,) cumulative probabilities, strictly increasing from 0 to 1.
        dg_increasing: (D, K, M) per-pulse conductance change [S] of a potentiating pulse at probability
            ``cdf[k]`` for a device in bin ``g_bins[d, j]`` (an inverse CDF along K).
        dg_decreasing: (D, K, M) the same for a depressing pulse.
        name: label used in plots and summaries.
        source: where the table came from (file name), used in error messages.
        monotone_tol: largest tolerated decrease of a dg column along the CDF axis, as a fraction of the
            column's spread. The genuine MuMax3 tables of paper 003 have such small inversions in their
            edge bins (up to 0.32 of a column's spread); they are repaired by sorting (`monotone`), which
            keeps each column's set of equally probable quantiles. Larger inversions are refused.
        check_sign: refuse mean steps of the wrong sign (a mislabelled or swapped pair of files); off for
            tables built from simulated ramps (`table_from_ramps`), where a pinned wall's mean is noise.

    1-D ``g_bins`` (M,) and 2-D dg (K, M) are accepted as one instance. Arrays are kept as given
    (float32 or float64); validation runs at construction.
    """

    g_bins: np.ndarray
    cdf: np.ndarray
    dg_increasing: np.ndarray
    dg_decreasing: np.ndarray
    name: str = ""
    source: str = "<arrays>"
    monotone_tol: float = 0.5
    check_sign: bool = True

    def __post_init__(self) -> None:
        arrs = {}
        for key in ("g_bins", "cdf", "dg_increasing", "dg_decreasing"):
            a = getattr(self, key)
            try:
                a = np.asarray(a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a)
            except Exception as e:  # noqa: BLE001 - anything not array-like
                raise LookupTableError(f"{self.source}: array {key!r} is not numeric ({e})") from None
            if a.dtype.kind not in "fiu":
                raise LookupTableError(f"{self.source}: array {key!r} has dtype {a.dtype}; expected floating point")
            if a.dtype.kind != "f":
                a = a.astype(np.float64)
            arrs[key] = a
        if arrs["g_bins"].ndim == 1:
            arrs["g_bins"] = arrs["g_bins"][None]
        for key in ("dg_increasing", "dg_decreasing"):
            if arrs[key].ndim == 2:
                arrs[key] = arrs[key][None]
        for key, a in arrs.items():
            object.__setattr__(self, key, a)
        validate_table(self.g_bins, self.cdf, self.dg_increasing, self.dg_decreasing, source=self.source,
                       monotone_tol=self.monotone_tol, check_sign=self.check_sign)

    # shape ----------------------------------------------------------------------------------------
    @property
    def n_instances(self) -> int:
        """D, the number of device instances."""
        return int(self.g_bins.shape[0])

    @property
    def n_bins(self) -> int:
        """M, the number of conductance bins."""
        return int(self.g_bins.shape[1])

    @property
    def n_cdf(self) -> int:
        """K, the number of CDF points."""
        return int(self.cdf.shape[0])

    @property
    def g_min(self) -> np.ndarray:
        """(D,) lowest bin centre of each instance [S] (the clamp floor)."""
        return self.g_bins[:, 0].astype(np.float64)

    @property
    def g_max(self) -> np.ndarray:
        """(D,) highest bin centre of each instance [S] (the clamp ceiling)."""
        return self.g_bins[:, -1].astype(np.float64)

    def dg(self, direction: str) -> np.ndarray:
        """The (D, K, M) table of ``direction`` ("increasing" or "decreasing")."""
        check_choice("direction", direction, DIRECTIONS)
        return self.dg_increasing if direction == "increasing" else self.dg_decreasing

    # derived tables -------------------------------------------------------------------------------
    def instance(self, d: int | Sequence[int]) -> LookupTable:
        """A table holding only instance(s) ``d``."""
        idx = np.atleast_1d(np.asarray(d, dtype=np.int64))
        if idx.size == 0 or idx.min() < -self.n_instances or idx.max() >= self.n_instances:
            raise LookupTableError(f"{self.source}: instance {d!r} out of range [0, {self.n_instances - 1}]")
        return dataclasses.replace(self, g_bins=self.g_bins[idx], dg_increasing=self.dg_increasing[idx],
                                   dg_decreasing=self.dg_decreasing[idx])

    def monotone(self) -> LookupTable:
        """This table with every dg column sorted along the CDF axis (a proper inverse CDF)."""
        return dataclasses.replace(self, dg_increasing=np.sort(self.dg_increasing, axis=1),
                                   dg_decreasing=np.sort(self.dg_decreasing, axis=1), monotone_tol=0.0)

    def astype(self, dtype: Any) -> LookupTable:
        """A copy with all arrays cast to ``dtype`` (e.g. np.float32 for a compact file)."""
        return dataclasses.replace(self, g_bins=self.g_bins.astype(dtype), cdf=self.cdf.astype(dtype),
                                   dg_increasing=self.dg_increasing.astype(dtype),
                                   dg_decreasing=self.dg_decreasing.astype(dtype))

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (shape, range, mean steps) for result files."""
        return {"name": self.name, "source": self.source, "instances": self.n_instances, "bins": self.n_bins,
                "cdf_points": self.n_cdf, "g_min_s": float(self.g_min.mean()), "g_max_s": float(self.g_max.mean()),
                "mean_step_increasing_s": self.mean_step("increasing"),
                "mean_step_decreasing_s": self.mean_step("decreasing")}

    def mean_step(self, direction: str) -> float:
        """Mean per-pulse Delta-G [S] of ``direction`` over all bins and instances (signed)."""
        q = self.dg(direction)
        return float(np.mean([_column_means(q[d], self.cdf).mean() for d in range(self.n_instances)]))


def validate_table(g_bins: np.ndarray, cdf: np.ndarray, dg_increasing: np.ndarray, dg_decreasing: np.ndarray, *,
                   source: str = "<arrays>", monotone_tol: float = 0.5, check_sign: bool = True) -> None:
    """Raise `LookupTableError` unless the arrays form a valid table (see `LookupTable`).

    Checks: dimensions and consistent shapes (g_bins (D, M), cdf (K,), dg (D, K, M), M >= 2, K >= 2), finite
    values, g_bins strictly increasing per instance, cdf strictly increasing from 0 to 1 (within 1e-6),
    dg columns non-decreasing along the CDF axis up to ``monotone_tol`` of the column spread, and mean
    steps of the right sign (increasing >= 0 >= decreasing, within the larger of 0.1 % of the conductance
    range and a quarter of the mean step spread; a swapped pair is refused).
    """
    check_range("monotone_tol", monotone_tol, 0.0, 1.0)
    if g_bins.ndim != 2:
        raise LookupTableError(f"{source}: array 'g_bins' has {g_bins.ndim} dimensions (shape {g_bins.shape}); "
                               "expected (D, M) or (M,)")
    if cdf.ndim != 1:
        raise LookupTableError(f"{source}: array 'cdf' has shape {cdf.shape}; expected a vector (K,)")
    d, m = g_bins.shape
    k = cdf.shape[0]
    if m < 2 or k < 2 or d < 1:
        raise LookupTableError(f"{source}: need at least 2 conductance bins, 2 CDF points and 1 instance; "
                               f"got g_bins {g_bins.shape}, cdf {cdf.shape}")
    for key, a in (("dg_increasing", dg_increasing), ("dg_decreasing", dg_decreasing)):
        if a.shape != (d, k, m):
            raise LookupTableError(f"{source}: array {key!r} has shape {a.shape}; expected (D, K, M) = {(d, k, m)} "
                                   f"to match g_bins {g_bins.shape} and cdf {cdf.shape}")
    for key, a in (("g_bins", g_bins), ("cdf", cdf), ("dg_increasing", dg_increasing), ("dg_decreasing", dg_decreasing)):
        bad = ~np.isfinite(a)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise LookupTableError(f"{source}: array {key!r} contains {int(bad.sum())} NaN/inf value(s) "
                                   f"(first at index {first})")
    steps = np.diff(g_bins.astype(np.float64), axis=1)
    if (steps <= 0).any():
        inst, j = (int(i) for i in np.argwhere(steps <= 0)[0])
        raise LookupTableError(f"{source}: array 'g_bins' is not strictly increasing (instance {inst}, bins {j} and "
                               f"{j + 1}: {g_bins[inst, j]:.6g} S then {g_bins[inst, j + 1]:.6g} S)")
    c = cdf.astype(np.float64)
    if abs(c[0]) > 1e-6 or abs(c[-1] - 1.0) > 1e-6:
        raise LookupTableError(f"{source}: array 'cdf' must run from 0 to 1; got {c[0]:.6g} ... {c[-1]:.6g}")
    if (np.diff(c) <= 0).any():
        j = int(np.argwhere(np.diff(c) <= 0)[0, 0])
        raise LookupTableError(f"{source}: array 'cdf' is not monotonic (strictly increasing): cdf[{j}] = {c[j]:.6g}, "
                               f"cdf[{j + 1}] = {c[j + 1]:.6g}")
    for key, a in (("dg_increasing", dg_increasing), ("dg_decreasing", dg_decreasing)):
        for inst in range(d):
            q = a[inst].astype(np.float64)
            spread = q.max(axis=0) - q.min(axis=0)
            drop = (np.maximum.accumulate(q, axis=0) - q).max(axis=0)
            rel = np.where(spread > 0, drop / np.where(spread > 0, spread, 1.0), 0.0)
            if rel.max() > monotone_tol:
                j = int(rel.argmax())
                raise LookupTableError(
                    f"{source}: array {key!r} is not an inverse CDF: instance {inst}, bin {j} decreases along the CDF "
                    f"axis by {rel[j]:.2f} of its spread (tolerance {monotone_tol}); each column must be "
                    "non-decreasing in cumulative probability")
    if not check_sign:
        return
    # mean steps: a wrong sign beyond 0.1 % of the conductance range and beyond a quarter of the step spread
    # means a mislabelled table (a device that barely moves has a mean of either sign within its noise)
    mi, si = _column_moments(dg_increasing[0], c)
    md, sd = _column_moments(dg_decreasing[0], c)
    mean_inc, mean_dec = float(mi.mean()), float(md.mean())
    span = float((g_bins[:, -1].astype(np.float64) - g_bins[:, 0]).mean())
    tol = max(1e-3 * span, 0.25 * float(max(si.mean(), sd.mean())))
    if mean_inc < -tol and mean_dec > tol:
        raise LookupTableError(f"{source}: the increasing table has a negative mean step ({mean_inc:.4g} S) and the "
                               f"decreasing one a positive mean step ({mean_dec:.4g} S): the files look swapped")
    if mean_inc < -tol:
        raise LookupTableError(f"{source}: array 'dg_increasing' has a negative mean step ({mean_inc:.4g} S)")
    if mean_dec > tol:
        raise LookupTableError(f"{source}: array 'dg_decreasing' has a positive mean step ({mean_dec:.4g} S)")



# ------------------------------------------------------------------------------------------ statistics
def _column_means(q: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Mean of the piecewise-linear quantile function of each column of q (K, M): trapezoid over the CDF."""
    q = q.astype(np.float64)
    w = np.diff(cdf.astype(np.float64))
    return (0.5 * (q[1:] + q[:-1]) * w[:, None]).sum(axis=0)


def _column_moments(q: np.ndarray, cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and standard deviation of the piecewise-linear quantile function of each column (K, M)."""
    q = np.sort(q.astype(np.float64), axis=0)
    w = np.diff(cdf.astype(np.float64))[:, None]
    a, b = q[:-1], q[1:]
    mean = (0.5 * (a + b) * w).sum(axis=0)
    m2 = ((a * a + a * b + b * b) / 3.0 * w).sum(axis=0)
    return mean, np.sqrt(np.maximum(m2 - mean * mean, 0.0))


def quantiles(table: LookupTable, probabilities: Sequence[float], direction: str = "increasing") -> np.ndarray:
    """Delta-G [S] at the given cumulative probabilities, (P, D, M), from the monotone inverse CDF."""
    q = np.sort(table.dg(direction).astype(np.float64), axis=1)
    c = table.cdf.astype(np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    k = np.clip(np.searchsorted(c, p, side="right") - 1, 0, len(c) - 2)
    f = (p - c[k]) / (c[k + 1] - c[k])
    return q[:, k, :].transpose(1, 0, 2) * (1 - f)[:, None, None] + q[:, k + 1, :].transpose(1, 0, 2) * f[:, None, None]


def table_statistics(table: LookupTable) -> dict[str, np.ndarray]:
    """Mean and standard deviation of the per-pulse Delta-G [S] against G for both directions, each (D, M);
    plus the bins ``g_bins`` (D, M) and the 16th/84th percentiles ("p16_increasing", ...)."""
    out: dict[str, np.ndarray] = {"g_bins": table.g_bins.astype(np.float64)}
    for direction in DIRECTIONS:
        q = table.dg(direction)
        ms = [_column_moments(q[d], table.cdf) for d in range(table.n_instances)]
        out[f"mean_{direction}"] = np.stack([m for m, _ in ms])
        out[f"std_{direction}"] = np.stack([s for _, s in ms])
        pct = quantiles(table, (0.1587, 0.8413), direction)
        out[f"p16_{direction}"], out[f"p84_{direction}"] = pct[0], pct[1]
    return out


def cycle_to_cycle(table: LookupTable, stats: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Cycle-to-cycle variation: THE definition used by every experiment (tables, and ramps through
    `ramp_table_i_figures`).

    sigma(Delta-G | G) / (G_max - G_min): the standard deviation of the per-pulse update at a fixed conductance,
    normalised by the instance's conductance range, averaged over the conductance bins and instances; per
    direction and their mean ("c2c"), as fractions (0.0077 = 0.77 %). Relation to paper 003: its Table I says
    only that the parameters "are extracted as described in Ref. 12" (Sun & Yu 2019, NeuroSim), where the
    cycle-to-cycle variation is the sigma of the Gaussian noise on each update in units of the weight range; its
    Fig. 3b shades "two standard deviations at each position within a ramp". Conditioning on G (the lookup table's
    column) rather than on the pulse index keeps the state-dependence of the mean step out of the spread.
    Applied to the published MuMax3 tables this gives 0.56 % (STT) and 2.5 % (SOT) against Table I's 0.77 % and
    3.23 %: the paper worked from its raw 930 ramp points, which the smoothed tables do not fully retain."""
    st = stats or table_statistics(table)
    rng = (table.g_max - table.g_min)[:, None]
    inc = float((st["std_increasing"] / rng).mean())
    dec = float((st["std_decreasing"] / rng).mean())
    return {"c2c_increasing": inc, "c2c_decreasing": dec, "c2c": 0.5 * (inc + dec)}



def density_map(table: LookupTable, direction: str = "increasing", *, instance: int = 0, n_dg: int = 120,
                dg_range: tuple[float, float] | None = None, kind: str = "density") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(g_bins (M,), dg grid edges (n_dg + 1,), map (n_dg, M)): probability density [1/S] of Delta-G in each
    G bin ("density") or the CDF at the grid centres ("cdf"), for `plot_heatmap`."""
    check_choice("kind", kind, ("density", "cdf"))
    q = np.sort(table.dg(direction)[instance].astype(np.float64), axis=0)
    c = table.cdf.astype(np.float64)
    if dg_range is None:
        lo, hi = np.quantile(q, 0.002), np.quantile(q, 0.998)
        pad = 0.05 * (hi - lo) or 1e-9
        dg_range = (lo - pad, hi + pad)
    edges = np.linspace(dg_range[0], dg_range[1], n_dg + 1)
    pts = edges if kind == "density" else 0.5 * (edges[1:] + edges[:-1])
    cdf_at = np.empty((pts.shape[0], q.shape[1]))
    for j in range(q.shape[1]):
        col = q[:, j]
        if col[-1] - col[0] <= 0:  # deterministic step: a unit jump
            cdf_at[:, j] = (pts >= col[0]).astype(np.float64)
        else:
            # inverse of the piecewise-linear quantile function; ties broken by taking the highest CDF
            cdf_at[:, j] = np.interp(pts, col + np.arange(col.size) * 1e-30, c, left=0.0, right=1.0)
    if kind == "cdf":
        return table.g_bins[instance].astype(np.float64), edges, cdf_at
    return table.g_bins[instance].astype(np.float64), edges, np.diff(cdf_at, axis=0) / np.diff(edges)[:, None]
