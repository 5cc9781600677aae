"""Paper 003 Table I figures of a lookup table or of raw ramps: the NeuroSim nonlinearity label
(`nonlinearity`, `nonlinearity_label`, `fit_nonlinearity_a`) and `table_i_figures` / `ramp_table_i_figures`
(with the cycle-to-cycle variation of `table.cycle_to_cycle`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...config import check_choice
from .builders import table_from_ramps
from .sampler import TableSampler
from .table import DIRECTIONS, LookupTable, cycle_to_cycle, table_statistics

NEUROSIM_NL_PER_DEVIATION = 10.1015
"""NeuroSim's nonlinearity label per unit of the largest deviation of the normalised pulse response from a
straight line (see `nonlinearity_label`)."""


def _response_pos(x: np.ndarray, a: float) -> np.ndarray:
    return np.expm1(-x / a) / np.expm1(-1.0 / a)


def nonlinear_response(x: np.ndarray, a: float) -> np.ndarray:
    """NeuroSim's normalised weight-update curve y(x) = (1 - e^(-x/A)) / (1 - e^(-1/A)) on x in [0, 1].

    A > 0: concave (fast then saturating, the usual potentiation); A < 0: convex, evaluated stably as
    1 - y(1 - x; |A|). x is the pulse number over the total, y the conductance over its range.
    """
    x = np.asarray(x, dtype=np.float64)
    if a == 0 or not math.isfinite(a):
        raise ValueError(f"A must be finite and non-zero, got {a}")
    return _response_pos(x, a) if a > 0 else 1.0 - _response_pos(1.0 - x, -a)


def nonlinearity_label(a: float) -> float:
    """NeuroSim's nonlinearity label of a curve with parameter A (Chen et al., NeuroSim+ IEDM 2017; the
    "+0.07/-0.15" figures of paper 003 Table I via Sun & Yu 2019).

    The label is 10.1015 times the largest deviation of the normalised curve from the straight line,
    with the sign of A: this reproduces NeuroSim's tabulated label-to-A correspondence (0.01 <-> A = 126.27,
    1.5 <-> 0.8252, 9 <-> 0.0228, in units of the pulse range) to its 4 printed digits over the whole
    tabulated range 0.01-9. |label| saturates at 10.1 for a step-like response. 0 for a straight line.
    """
    if not math.isfinite(a) or abs(a) > 1e8:
        return 0.0
    x = np.linspace(0.0, 1.0, 4001)
    dev = np.abs(nonlinear_response(x, a) - x).max()
    return math.copysign(NEUROSIM_NL_PER_DEVIATION * float(dev), a)


def fit_nonlinearity_a(y: np.ndarray, x: np.ndarray | None = None) -> float:
    """Least-squares A of `nonlinear_response` to a normalised curve ``y`` (y[0] = 0, y[-1] = 1) at ``x``
    (default: evenly spaced on [0, 1]); |A| searched on a log grid 1e-3..1e6, then refined by golden section.
    Returns +inf when the straight line (A -> inf) fits best."""
    y = np.asarray(y, dtype=np.float64)
    x = np.linspace(0.0, 1.0, y.shape[0]) if x is None else np.asarray(x, dtype=np.float64)

    def sse(s: float, la: float) -> float:
        return float(((nonlinear_response(x, s * math.exp(la)) - y) ** 2).sum())

    grid = np.linspace(math.log(1e-3), math.log(1e6), 181)
    best = (math.inf, 1.0, grid[0])
    for s in (1.0, -1.0):
        vals = [sse(s, la) for la in grid]
        i = int(np.argmin(vals))
        if vals[i] < best[0]:
            best = (vals[i], s, grid[i])
    _, s, la = best
    lo, hi = la - (grid[1] - grid[0]), la + (grid[1] - grid[0])
    gr = (math.sqrt(5) - 1) / 2
    c, d = hi - gr * (hi - lo), lo + gr * (hi - lo)
    fc, fd = sse(s, c), sse(s, d)
    for _ in range(60):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - gr * (hi - lo)
            fc = sse(s, c)
        else:
            lo, c, fc = c, d, fd
            d = lo + gr * (hi - lo)
            fd = sse(s, d)
    la = 0.5 * (lo + hi)
    if la >= grid[-1] - 1e-9 and sse(s, la) >= float(((x - y) ** 2).sum()) - 1e-15:
        return math.inf
    return s * math.exp(la)


def mean_pulse_response(table: LookupTable, direction: str, n_pulses: int, *, instance: int = 0,
                        n_traj: int = 4000, generator: torch.Generator | None = None,
                        g_start: float | None = None) -> np.ndarray:
    """Mean conductance [S] after 0..n_pulses identical pulses, over ``n_traj`` Monte-Carlo devices sampled
    from the table (with clamping), starting at G_min (potentiation) or G_max (depression) of ``instance``."""
    check_choice("direction", direction, DIRECTIONS)
    t = table.instance(instance)
    s = TableSampler(t, dtype=torch.float64)
    start = g_start if g_start is not None else float(t.g_min[0] if direction == "increasing" else t.g_max[0])
    g = torch.full((n_traj,), start, dtype=torch.float64)
    inst = torch.zeros(n_traj, dtype=torch.int64)
    dec = torch.full((n_traj,), direction == "decreasing")
    out = [float(g.mean())]
    for _ in range(n_pulses):
        g = torch.minimum(torch.maximum(g + s.sample(g, inst, dec, generator), s.g_lo[inst]), s.g_hi[inst])
        out.append(float(g.mean()))
    return np.array(out)


def nonlinearity(table: LookupTable, *, instance: int = 0, n_pulses: int | None = None, n_traj: int = 4000,
                 generator: torch.Generator | None = None, stats: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Paper 003 Table I nonlinearity (+/-) of one table instance, the way NeuroSim fits device data (Table I:
    "The nonlinearity parameter is defined as in Ref. 12"); the one definition every experiment uses.

    The mean potentiation curve (``n_traj`` Monte-Carlo devices from G_min, ``n_pulses`` pulses, clamped at
    G_max) and the mean depression curve (from G_max) are normalised to their own end points and fitted
    with `nonlinear_response` (depression in the potentiation frame: x counted from the G_min end), and the
    fitted A's are turned into labels with `nonlinearity_label`. ``n_pulses`` defaults to the number of mean
    steps that spans the range, round((G_max - G_min) / |mean step|), per direction: the pulse count of a
    full ramp. Returns nl_plus, nl_minus, a_plus, a_minus, the pulse counts and the two mean curves.
    """
    st = stats or table_statistics(table)
    rng = float(table.g_max[instance] - table.g_min[instance])
    res: dict[str, Any] = {}
    for direction, sign in (("increasing", "plus"), ("decreasing", "minus")):
        step = abs(float(st[f"mean_{direction}"][instance].mean()))
        if n_pulses:
            p = int(n_pulses)
        else:
            p = max(2, int(round(rng / step))) if step > 0 else 2
        curve = mean_pulse_response(table, direction, p, instance=instance, n_traj=n_traj, generator=generator)
        if direction == "increasing":
            y = (curve - curve[0]) / (curve[-1] - curve[0])
        else:
            y = ((curve - curve[-1]) / (curve[0] - curve[-1]))[::-1]
        a = fit_nonlinearity_a(y)
        res[f"a_{sign}"] = a
        res[f"nl_{sign}"] = nonlinearity_label(a)
        res[f"n_pulses_{sign}"] = p
        res[f"curve_{direction}"] = curve
    return res


def table_i_figures(table: LookupTable, *, n_traj: int = 4000, generator: torch.Generator | None = None,
                    instances: Sequence[int] | None = None) -> dict[str, Any]:
    """Paper 003 Table I figures of a table: nonlinearity +/- (NeuroSim label; mean over ``instances``,
    default instance 0 only) and cycle-to-cycle variation [%] (all instances), plus mean step and spread."""
    st = table_statistics(table)
    inst = list(instances) if instances is not None else [0]
    nls = [nonlinearity(table, instance=i, n_traj=n_traj, generator=generator, stats=st) for i in inst]
    c2c = cycle_to_cycle(table, st)
    return {
        "nl_plus": float(np.mean([r["nl_plus"] for r in nls])),
        "nl_minus": float(np.mean([r["nl_minus"] for r in nls])),
        "c2c_percent": 100.0 * c2c["c2c"],
        "c2c_increasing_percent": 100.0 * c2c["c2c_increasing"],
        "c2c_decreasing_percent": 100.0 * c2c["c2c_decreasing"],
        "mean_step_increasing_s": float(st["mean_increasing"].mean()),
        "mean_step_decreasing_s": float(st["mean_decreasing"].mean()),
        "std_step_increasing_s": float(st["std_increasing"].mean()),
        "std_step_decreasing_s": float(st["std_decreasing"].mean()),
        "g_min_s": float(table.g_min.mean()),
        "g_max_s": float(table.g_max.mean()),
        "n_pulses_plus": nls[0]["n_pulses_plus"],
        "n_pulses_minus": nls[0]["n_pulses_minus"],
        "curves": {k: nls[0][k] for k in ("curve_increasing", "curve_decreasing")},
    }


def ramp_table_i_figures(g: np.ndarray, polarity: np.ndarray, *, n_traj: int = 4000,
                         generator: torch.Generator | None = None, name: str = "ramps") -> dict[str, Any]:
    """Table I figures of raw ramps (conductance, or any quantity linear in it such as the wall's area fraction),
    (n_ramps, P + 1) with ``polarity`` (P,): the ramps are binned into a table with `table_from_ramps` (as paper
    003 built its tables from 30 MuMax3 ramps) and `table_i_figures` is applied, so a ramp experiment and a
    table experiment report the same quantity by the same definition (`cycle_to_cycle`, `nonlinearity`)."""
    return table_i_figures(table_from_ramps(g, polarity, name=name, source=name), n_traj=n_traj, generator=generator)
