"""Compiled form of `DWSynapse`'s calibrated response, for networks whose whole loop is compiled.

`program_column` does what ``DWSynapse.apply`` with ``response="calibrated"`` does for one pulse per device
(`DWSynapse.current_for_displacement_fraction` for the requested change, the table's displacement, the clip
to the track, eq. 6's conductance and the pulse energy), with the same interpolation formula as ``np.interp``,
so both paths give the same numbers (tested). It applies to straight tracks (conductance linear in q).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def interp(x, xs, ys):  # pragma: no cover - compiled
    """``np.interp(x, xs, ys)`` for a scalar x (xs ascending; end values outside)."""
    n = xs.shape[0]
    if x <= xs[0]:
        return ys[0]
    if x >= xs[n - 1]:
        return ys[n - 1]
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    slope = (ys[lo + 1] - ys[lo]) / (xs[lo + 1] - xs[lo])
    return slope * (x - xs[lo]) + ys[lo]


@njit(cache=True)
def program_column(q, g_p, g_ap, dw, w_out, kp, fwd_i, fwd_d, inv_d, inv_i):  # pragma: no cover - compiled
    """Move the walls ``q`` [m] of one column by the requested weight changes ``dw`` (fraction of the track),
    one pulse each, in place; write the read weights (G - g_lo) / (g_hi - g_lo) to ``w_out``. ``kp`` = (L [m],
    write resistance [Ohm], effective pulse time [s], G_DW [S], supply [V], width [s], g_lo [S], g_hi [S],
    track width w0 [m], width slope; the area fraction is `DWSynapse.fraction`'s formula).
    Returns (dissipated energy [J], supply energy [J], pulses with a non-zero current)."""
    length, r_write, t_eff, g_dw, supply_v, width, g_lo, g_hi = kp[0], kp[1], kp[2], kp[3], kp[4], kp[5], kp[6], kp[7]
    w0, s = kp[8], kp[9]
    area = w0 * length + 0.5 * s * length * length
    energy = 0.0
    supply = 0.0
    n = 0
    for i in range(q.shape[0]):
        if dw[i] == 0.0:
            continue
        cur = interp(dw[i] * length, inv_d, inv_i)
        x = q[i] + interp(cur, fwd_i, fwd_d)
        x = min(max(x, 0.0), length)
        q[i] = x
        f = min(max((w0 * x + 0.5 * s * x * x) / area, 0.0), 1.0)
        g = f * g_p[i] + (1.0 - f) * g_ap[i] + g_dw
        w_out[i] = (g - g_lo) / (g_hi - g_lo)
        energy += cur * cur * r_write * t_eff
        supply += abs(cur) * supply_v * width
        n += cur != 0.0
    return energy, supply, n
