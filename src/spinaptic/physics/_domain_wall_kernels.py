"""Fused numba CPU kernel of the 1D (q, phi) domain-wall model (see `domain_wall` for the equations).

One call advances every track by ``n_steps`` Heun steps: a ``prange`` over blocks of tracks, the time loop
inside, each step as short passes over the block (thermal draws, predictor, corrector) so that independent
tracks overlap in flight. The thermal field comes from `spinaptic.rng`: track ``i`` owns stream ``i`` of the
key, and step ``k`` takes its normal pair ``k`` (Box-Muller of words 2k, 2k + 1) as the two Gaussian field
components. The result therefore does not depend on the number of threads. The same
Gaussians enter both Heun stages (Stratonovich; the noise is additive up to the width-dependent scale).

Parameter vector ``p`` (float64), in this order (indices are the P_* constants):
Q, gamma0*Delta, gamma0, alpha, beta, 1/(1+alpha^2), Delta, H_K, H_DM, sot field per ampere (signed
coefficient of cos(phi) in Omega_A), u per ampere, H_z, sigma_th (thermal field per step at the reference
width), L, table spacing, dt. A per-track applied easy-axis field (``hz_tr``, A/m) adds to H_z: it enters
Omega_A like H_z, i.e. as the Zeeman pressure 2 mu0 Ms H per wall area (H > 0 moves a Q = +1 wall to +x).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..rng._kernels import normal_pair, sincos, stream_start

P_Q, P_GD, P_G, P_ALPHA, P_BETA, P_INV, P_DELTA, P_HK, P_HDM, P_SOT, P_U, P_HZ, P_SIG, P_L, P_H, P_DT = range(16)
N_PARAMS = 16

_HALF_PI = 0.5 * math.pi


@njit(cache=True, inline="always")
def _rhs(q, ph, cur, xa, xb, hpin, jsc, nsc, n, tapered, inv_h, Q, gd, g, alpha, c_u, c_phi, inv, hk, hdm2, sot,
         u_a, hz, sig, L, inv_a, inv_d):
    """(dq/dt, dphi/dt) of the 1D model at one track (tables linearly interpolated at q).

    At an end of the free layer, pushed outward, the wall is held (dq/dt = 0) and phi follows the constrained
    equation dphi/dt = -Q gamma Om_B / alpha - u / (alpha Delta) (no precession against a hard end).
    """
    s = q * inv_h
    k = int(math.floor(s))
    if k < 0:
        k = 0
    elif k > n - 2:
        k = n - 2
    f = s - k
    if f < 0.0:
        f = 0.0
    elif f > 1.0:
        f = 1.0
    hp = hpin[k] + f * (hpin[k + 1] - hpin[k])
    if tapered:
        js = jsc[k] + f * (jsc[k + 1] - jsc[k])
        ns = nsc[k] + f * (nsc[k + 1] - nsc[k])
    else:
        js = 1.0
        ns = 1.0
    sn, cs = sincos(ph)
    drive = cur * js
    u = u_a * drive
    sg = sig * ns
    om_a = hz + Q * hp + sot * drive * cs + sg * xa
    om_b = -Q * hk * sn * cs - hdm2 * sn + sg * xb
    dq = (Q * gd * (alpha * om_a + om_b) + c_u * u) * inv
    dp = (Q * g * (om_a - alpha * om_b) + c_phi * u) * inv
    # Branch-free (bitwise on the comparisons) so that the track loop stays vectorised.
    held = ((q <= 0.0) & (dq < 0.0)) | ((q >= L) & (dq > 0.0))
    dp_held = -(Q * g * om_b + u * inv_d) * inv_a
    dp = dp_held if held else dp
    dq = 0.0 if held else dq
    return dq, dp


@njit(cache=True, inline="always")
def _envelope(k, n_on, n_rise, n_fall):
    if k >= n_on:
        return 0.0
    e = 1.0
    if n_rise > 0:
        r = (k + 0.5) / n_rise
        if r < e:
            e = r
    if n_fall > 0:
        r = (n_on - k - 0.5) / n_fall
        if r < e:
            e = r
    return e


BLOCK = 64
"""Tracks advanced together by one thread: independent dependency chains the CPU can overlap (and SIMD lanes)."""


@njit(cache=True, parallel=True)
def integrate(q, ph, amp, hz_tr, n_on, n_steps, n_rise, n_fall, p, hpin, jsc, nsc, seed, thermal, rec_every, rec):
    """Advance ``q``, ``ph`` (float64 [N], in place) by ``n_steps`` Heun steps of length p[P_DT].

    amp: drive current [A] per track; hz_tr: applied easy-axis field [A/m] per track (added to p[P_HZ]); n_on: steps with the current on per track (int64 [N]); n_rise / n_fall:
    linear ramp steps at the two ends of each pulse; seed: uint64; thermal: add the thermal field;
    rec_every > 0: store q every rec_every steps into rec[(k+1)//rec_every - 1, i].
    Tracks are processed in blocks of `BLOCK`: time loop outside, track loop inside.
    """
    n_tr = q.shape[0]
    n = hpin.shape[0]
    tapered = False
    for j in range(n):
        if jsc[j] != 1.0 or nsc[j] != 1.0:
            tapered = True
    Q = p[P_Q]
    gd = p[P_GD]
    g = p[P_G]
    alpha = p[P_ALPHA]
    beta = p[P_BETA]
    inv = p[P_INV]
    c_u = 1.0 + alpha * beta
    c_phi = (beta - alpha) / p[P_DELTA]
    hk = p[P_HK]
    hdm2 = _HALF_PI * p[P_HDM]
    sot = p[P_SOT]
    u_a = p[P_U]
    hz = p[P_HZ]
    sig = p[P_SIG]
    L = p[P_L]
    inv_h = 1.0 / p[P_H]
    inv_a = 1.0 / alpha
    inv_d = 1.0 / p[P_DELTA]
    dt = p[P_DT]
    half_dt = 0.5 * dt
    n_blocks = (n_tr + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        i0 = b * BLOCK
        nb = min(BLOCK, n_tr - i0)
        qb = np.empty(BLOCK)
        pb = np.empty(BLOCK)
        ab = np.empty(BLOCK)
        hb = np.empty(BLOCK)
        onb = np.empty(BLOCK, dtype=np.int64)
        xa = np.zeros(BLOCK)
        xb = np.zeros(BLOCK)
        st = np.empty(BLOCK, dtype=np.uint64)
        cb = np.zeros(BLOCK)
        d1q = np.zeros(BLOCK)
        d1p = np.zeros(BLOCK)
        for j in range(nb):
            qb[j] = q[i0 + j]
            pb[j] = ph[i0 + j]
            ab[j] = amp[i0 + j]
            hb[j] = hz + hz_tr[i0 + j]
            onb[j] = n_on[i0 + j]
            st[j] = stream_start(np.uint64(seed), i0 + j)
        rc = 0
        for k in range(n_steps):
            if thermal:
                for j in range(nb):  # normal pair k of the track's stream (words 2k, 2k + 1)
                    xa[j], xb[j] = normal_pair(st[j], k)
            for j in range(nb):  # Heun predictor: a short pass, so independent tracks overlap in flight
                cur = ab[j] * _envelope(k, onb[j], n_rise, n_fall)
                cb[j] = cur
                dq1, dp1 = _rhs(qb[j], pb[j], cur, xa[j], xb[j], hpin, jsc, nsc, n, tapered, inv_h, Q, gd, g, alpha,
                                c_u, c_phi, inv, hk, hdm2, sot, u_a, hb[j], sig, L, inv_a, inv_d)
                d1q[j] = dq1
                d1p[j] = dp1
            for j in range(nb):  # Heun corrector
                qi = qb[j]
                pi_ = pb[j]
                dq1 = d1q[j]
                dp1 = d1p[j]
                dq2, dp2 = _rhs(qi + dt * dq1, pi_ + dt * dp1, cb[j], xa[j], xb[j], hpin, jsc, nsc, n, tapered, inv_h,
                                Q, gd, g, alpha, c_u, c_phi, inv, hk, hdm2, sot, u_a, hb[j], sig, L, inv_a, inv_d)
                qi = qi + half_dt * (dq1 + dq2)
                qb[j] = min(max(qi, 0.0), L)
                pb[j] = pi_ + half_dt * (dp1 + dp2)
            if rec_every > 0:
                rc += 1
                if rc == rec_every:
                    r_idx = (k + 1) // rec_every - 1
                    for j in range(nb):
                        rec[r_idx, i0 + j] = qb[j]
                    rc = 0
        for j in range(nb):
            q[i0 + j] = qb[j]
            ph[i0 + j] = pb[j]
