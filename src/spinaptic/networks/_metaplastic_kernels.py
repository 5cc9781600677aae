"""Fused metaplastic-Adam update of paper 002's hidden weights: one pass over every replica's weights.

Per weight: Adam moments, the step, eq. 1's f_meta on the steps it damps, delta on the ones that grow |W_h|,
clipping to [-1, 1], rounding to the rule's levels (stochastic: a counter-based uniform per weight, so the
result does not depend on the thread count) and the forward weight (sign, or the level itself). One read and
one write of each array instead of the ~20 passes of an eager torch step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..rng._kernels import splitmix as _splitmix

_U = np.uint64


@njit(cache=True, error_model="numpy")
def _uniform(key, counter):  # pragma: no cover - compiled
    """A uniform in [0, 1) with 24 bits, from (key, counter) by one splitmix64 step."""
    _, z = _splitmix(_U(key) ^ (_U(counter) * _U(0xD1B54A32D192ED03)))
    return np.float32((z >> _U(40)) * (1.0 / 16777216.0))


@njit(cache=True, error_model="numpy")
def _interp(x, xs, fs, n):  # pragma: no cover - compiled
    """Piecewise-linear f(x) through the first ``n`` knots (xs ascending), constant beyond the ends."""
    if x <= xs[0]:
        return fs[0]
    for k in range(1, n):
        if x <= xs[k]:
            t = (x - xs[k - 1]) / (xs[k] - xs[k - 1])
            return fs[k - 1] + t * (fs[k] - fs[k - 1])
    return fs[n - 1]


@njit(parallel=True, cache=True, error_model="numpy")
def adam_meta_step(w, m, v, g, wf, rows_per_replica, slope, floor, delta, levels, stochastic, binarized, meta_all,
                   knot_x, knot_f, n_knots, lr_t, b1, b2, eps, weight_decay, key):  # pragma: no cover - compiled
    """Update w, m, v in place from the gradient g and write the forward weights wf; all arrays [R*out, in]
    float32. Per-replica rule arrays (length R): f_meta = slope (1 - |w|) + floor, or, where n_knots[r] > 0, the
    piecewise-linear function of |w| through knots (knot_x[r], knot_f[r]) [R, K]; delta, levels (0 = none),
    stochastic / binarized / meta_all flags (uint8)."""
    n_rows, n_in = w.shape
    key = _U(key)
    for i in prange(n_rows):
        r = i // rows_per_replica
        sl, fl, dl = slope[r], floor[r], delta[r]
        nl = levels[r]
        half = np.float32(0.5 * (nl - 1))
        sto, binz, alls = stochastic[r] != 0, binarized[r] != 0, meta_all[r] != 0
        nk = n_knots[r]
        kx, kf = knot_x[r], knot_f[r]
        base = _U(i) * _U(n_in)
        for j in range(n_in):
            wo = w[i, j]
            gg = g[i, j] + weight_decay * wo
            mm = b1 * m[i, j] + (np.float32(1.0) - b1) * gg
            vv = b2 * v[i, j] + (np.float32(1.0) - b2) * gg * gg
            m[i, j] = mm
            v[i, j] = vv
            step = lr_t * mm / (math.sqrt(vv) + eps)
            if nk > 0:
                fm = _interp(abs(wo), kx, kf, nk)
            else:
                fm = sl * (np.float32(1.0) - abs(wo)) + fl
            sgn = np.float32(1.0) if wo >= 0 else np.float32(-1.0)
            if sgn * step > 0:  # the step moves w toward 0 (|w| shrinks, the sign may flip)
                step = step * fm
            else:
                step = step * dl
                if alls:
                    step = step * fm
            wn = min(max(wo - step, np.float32(-1.0)), np.float32(1.0))
            if nl > 1:
                u = (wn + np.float32(1.0)) * half
                lo = math.floor(u)
                p = u - lo
                up = (_uniform(key, base + _U(j)) < p) if sto else (p >= 0.5)
                k = min(lo + (1.0 if up else 0.0), nl - 1.0)
                wn = np.float32(k / half - 1.0)
            w[i, j] = wn
            if binz:
                wf[i, j] = np.float32(1.0) if wn >= 0 else np.float32(-1.0)
            else:
                wf[i, j] = wn
