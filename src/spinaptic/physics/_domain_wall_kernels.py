"""Fused numba CPU kernel of the 1D (q, phi) domain-wall model (see `domain_wall` for the equations).

One call advances every track by ``n_steps`` Heun steps: blocks of `BLOCK` tracks split over threads
(`spinaptic._threads.run_split`; no parfor pass to compile), the time loop inside, each step as short passes
over the block (thermal draws, drive envelope, table look-up and right-hand side of the predictor, the same
of the corrector). Every pass runs over the whole block (the last
block is padded with idle tracks) and is written so that the compiler vectorises it (AVX2 or AVX-512): no
data-dependent branch (selects only), no conversion between double and int64 (AVX2 has none for vectors: the
table index comes from the 2^52 trick, the quadrant count of sin / cos stays a double) and no libm call; the
pinning-table reads get a pass of their own (see `_tables`). The thermal field comes from `spinaptic.rng`:
track ``i`` owns stream ``i`` of the key, and step ``k`` takes its ``normal_pair`` ``k`` (Box-Muller of words
2k, 2k + 1) as the two Gaussian field components. The
result therefore does not depend on the number of threads or on the block size. The same Gaussians enter both
Heun stages (Stratonovich; the noise is additive up to the width-dependent scale). The arithmetic is plain IEEE
float64 in the order written (no fastmath: no FMA contraction), so vector and scalar code, AVX2 and AVX-512,
give the same bits.

Parameter vector ``p`` (float64), in this order (indices are the P_* constants):
Q, gamma0*Delta, gamma0, alpha, beta, 1/(1+alpha^2), Delta, H_K, H_DM, sot field per ampere (signed
coefficient of cos(phi) in Omega_A), u per ampere, H_z, sigma_th (thermal field per step at the reference
width), L, table spacing, dt. A per-track applied easy-axis field (``hz_tr``, A/m) adds to H_z: it enters
Omega_A like H_z, i.e. as the Zeeman pressure 2 mu0 Ms H per wall area (H > 0 moves a Q = +1 wall to +x).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._threads import run_split
from ..rng._kernels import as_u64, normal_pair, sincos, stream_start

P_Q, P_GD, P_G, P_ALPHA, P_BETA, P_INV, P_DELTA, P_HK, P_HDM, P_SOT, P_U, P_HZ, P_SIG, P_L, P_H, P_DT = range(16)
N_PARAMS = 16

_HALF_PI = 0.5 * math.pi
_TWO52 = 4503599627370496.0
_TWO52_BITS = np.uint64(0x4330000000000000)  # the bits of 2^52
_ONE = np.uint64(1)

BLOCK = 128
"""Tracks advanced together by one thread (the SIMD lanes of every pass; ~20 block buffers stay in L1)."""


@njit(cache=True, inline="always", error_model="numpy")
def _cell(q, inv_h, top):
    """(table index as uint64, fraction in [0, 1]) of position q: index clamped to [0, top = n - 2]. (Index the
    tables with uint64 only, e.g. ``i + _ONE``: a signed index brings numba's negative-index wraparound, which
    keeps the loop scalar.)

    Same values as ``k = int(floor(q / h))`` clamped to [0, n - 2] and ``f = clip(q / h - k, 0, 1)``, but in
    floating point (a NaN goes to cell 0, so the reads stay in bounds), the index by the 2^52 trick (AVX2 has
    no vector double -> int64 conversion).
    """
    s = q * inv_h
    fl = np.floor(s)
    kf = fl if fl > 0.0 else 0.0
    kf = kf if kf < top else top
    f = s - kf
    f = 0.0 if f < 0.0 else f
    f = 1.0 if f > 1.0 else f
    return as_u64(kf + _TWO52) ^ _TWO52_BITS, f


@njit(cache=True, inline="always", error_model="numpy")
def _rhs(q, ph, drive, hp, sg, xa, xb, Q, gd, g, alpha, c_u, c_phi, inv, hk, hdm2, u_a, sot, hz, L, inv_a,
         inv_d):
    """(dq/dt, dphi/dt) of the 1D model at one track, given the interpolated pinning field ``hp``, the local
    drive ``cur * w0/w`` and the local thermal scale ``sigma * sqrt(w0/w)``.

    At an end of the free layer, pushed outward, the wall is held (dq/dt = 0) and phi follows the constrained
    equation dphi/dt = -Q gamma Om_B / alpha - u / (alpha Delta) (no precession against a hard end).
    """
    sn, cs = sincos(ph)
    u = u_a * drive
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


@njit(cache=True, inline="always", error_model="numpy")
def _tables(qs, hpin, jsc, nsc, tapered, inv_h, top, cb, sig, hpb, drb, sgb, ib, fb):
    """Pinning field of the block at positions ``qs`` into hpb and, on a tapered track, the local drive
    ``cb * w0/w`` and thermal scale ``sig * sqrt(w0/w)`` into drb, sgb (else they are ``cb`` and ``sig``).

    The cells are found in a pass of their own (vectorised); the table reads follow in a second pass, which
    LLVM keeps scalar (it cannot prove that the gathered tables do not alias the block buffers), so that they do
    not take the arithmetic with them (one fused pass: ~20 % slower kernel).
    """
    for j in range(BLOCK):
        i, f = _cell(qs[j], inv_h, top)
        ib[j] = i
        fb[j] = f
    for j in range(BLOCK):
        i = ib[j]
        hpb[j] = hpin[i] + fb[j] * (hpin[i + _ONE] - hpin[i])
    if tapered:
        for j in range(BLOCK):
            i = ib[j]
            f = fb[j]
            drb[j] = cb[j] * (jsc[i] + f * (jsc[i + _ONE] - jsc[i]))
            sgb[j] = sig * (nsc[i] + f * (nsc[i + _ONE] - nsc[i]))


@njit(cache=True, error_model="numpy", nogil=True)
def _blocks(lo, hi, q, ph, amp, hz_tr, n_on, n_steps, n_rise, n_fall, p, hpin, jsc, nsc, seed, thermal, rec_every,
            rec):
    """Blocks lo..hi-1 of `integrate`, one after another (one thread's share)."""
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
    top = float(n - 2)
    has_rise = n_rise > 0
    has_fall = n_fall > 0
    fall = float(max(n_fall, 1))
    for b in range(lo, hi):
        i0 = b * BLOCK
        nb = min(BLOCK, n_tr - i0)
        qb = np.zeros(BLOCK)  # state; the tracks past nb (last block) idle at q = 0 with no drive
        pb = np.zeros(BLOCK)
        ab = np.zeros(BLOCK)  # drive amplitude
        hb = np.full(BLOCK, hz)  # easy-axis field
        onb = np.zeros(BLOCK)  # steps with the drive on, as a double (exact)
        st = np.zeros(BLOCK, dtype=np.uint64)  # stream starts
        xa = np.zeros(BLOCK)  # the step's Gaussians (zero at 0 K)
        xb = np.zeros(BLOCK)
        cb = np.zeros(BLOCK)  # the step's current
        hpb = np.empty(BLOCK)  # per-stage table values: pinning field, local drive, local thermal scale
        drb = np.empty(BLOCK)
        sgb = np.empty(BLOCK)
        ib = np.empty(BLOCK, dtype=np.uint64)  # per-stage table cell and fraction
        fb = np.empty(BLOCK)
        sg1 = np.full(BLOCK, sig * 1.0)  # the thermal scale on a track of constant width
        dqb = np.empty(BLOCK)  # slopes of the current stage
        dpb = np.empty(BLOCK)
        d1q = np.empty(BLOCK)  # predictor slopes and the predicted state
        d1p = np.empty(BLOCK)
        q1 = np.empty(BLOCK)
        p1 = np.empty(BLOCK)
        for j in range(nb):
            qb[j] = q[i0 + j]
            pb[j] = ph[i0 + j]
            ab[j] = amp[i0 + j]
            hb[j] = hz + hz_tr[i0 + j]
            onb[j] = n_on[i0 + j]
        for j in range(BLOCK):
            st[j] = stream_start(np.uint64(seed), i0 + j)
        rc = 0
        for k in range(n_steps):
            if thermal:
                for j in range(BLOCK):  # normal pair k of the track's stream (words 2k, 2k + 1)
                    xa[j], xb[j] = normal_pair(st[j], k)
            # envelope: 0 once k >= n_on, else min(1, (k + 1/2) / n_rise, (n_on - k - 1/2) / n_fall)
            kf = float(k)
            e0 = 1.0
            if has_rise:
                r = (k + 0.5) / n_rise
                e0 = r if r < e0 else e0
            if has_fall:
                for j in range(BLOCK):
                    r = ((onb[j] - kf) - 0.5) / fall
                    e = r if r < e0 else e0
                    cb[j] = ab[j] * (0.0 if kf >= onb[j] else e)
            else:
                for j in range(BLOCK):
                    cb[j] = ab[j] * (0.0 if kf >= onb[j] else e0)
            for stage in range(2):  # Heun predictor (0) and corrector (1): one copy of the code
                qs = qb if stage == 0 else q1
                ps = pb if stage == 0 else p1
                _tables(qs, hpin, jsc, nsc, tapered, inv_h, top, cb, sig, hpb, drb, sgb, ib, fb)
                drs = drb if tapered else cb  # w0/w = 1: the drive is the current (cb * 1.0 == cb)
                sgs = sgb if tapered else sg1
                dqs = d1q if stage == 0 else dqb
                dps = d1p if stage == 0 else dpb
                for j in range(BLOCK):
                    dq, dp = _rhs(qs[j], ps[j], drs[j], hpb[j], sgs[j], xa[j], xb[j], Q, gd, g, alpha, c_u, c_phi,
                                  inv, hk, hdm2, u_a, sot, hb[j], L, inv_a, inv_d)
                    dqs[j] = dq
                    dps[j] = dp
                if stage == 0:
                    for j in range(BLOCK):
                        q1[j] = qb[j] + dt * d1q[j]
                        p1[j] = pb[j] + dt * d1p[j]
                else:
                    for j in range(BLOCK):
                        qi = qb[j] + half_dt * (d1q[j] + dqb[j])
                        qb[j] = min(max(qi, 0.0), L)
                        pb[j] = pb[j] + half_dt * (d1p[j] + dpb[j])
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


def integrate(q, ph, amp, hz_tr, n_on, n_steps, n_rise, n_fall, p, hpin, jsc, nsc, seed, thermal, rec_every, rec):
    """Advance ``q``, ``ph`` (float64 [N], in place) by ``n_steps`` Heun steps of length p[P_DT].

    amp: drive current [A] per track; hz_tr: applied easy-axis field [A/m] per track (added to p[P_HZ]); n_on:
    steps with the current on per track (int64 [N]); n_rise / n_fall: linear ramp steps at the two ends of each
    pulse; seed: uint64; thermal: add the thermal field; rec_every > 0: store q every rec_every steps into
    rec[(k+1)//rec_every - 1, i]. Tracks are processed in blocks of `BLOCK`: time loop outside, track loop
    inside.
    """
    run_split(_blocks, (q.shape[0] + BLOCK - 1) // BLOCK, q, ph, amp, hz_tr, n_on, n_steps, n_rise, n_fall, p, hpin,
              jsc, nsc, seed, thermal, rec_every, rec)
