"""Fused numba CPU kernel of the 1D (q, phi) domain-wall model (see `domain_wall` for the equations).

One call advances every track by ``n_steps`` Heun steps: a ``prange`` over tracks, the time loop inside, so
the state stays in registers. The thermal field comes from an in-kernel counter-free generator: each track
seeds a splitmix64 stream from (seed, track index), and Box-Muller turns two uniforms into the two Gaussian
field components of one step. The result therefore does not depend on the number of threads. The same
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
from numba import njit, prange, types
from numba.extending import intrinsic

P_Q, P_GD, P_G, P_ALPHA, P_BETA, P_INV, P_DELTA, P_HK, P_HDM, P_SOT, P_U, P_HZ, P_SIG, P_L, P_H, P_DT = range(16)
N_PARAMS = 16

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_TWO_PI = 2.0 * math.pi
_HALF_PI = 0.5 * math.pi
_TWO_OVER_PI = 2.0 / math.pi
# fdlibm: pi/2 split for Cody-Waite reduction and the minimax kernels of sin / cos on [-pi/4, pi/4].
_PIO2_1 = 1.57079632673412561417e00
_PIO2_1T = 6.07710050650619224932e-11
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_SQRT2 = math.sqrt(2.0)
_EXP_ONE = np.uint64(0x3FF0000000000000)
_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_S12 = np.uint64(12)
_S52 = np.uint64(52)
_EXP_MASK = np.uint64(0x7FF)


@intrinsic
def _as_f64(typingctx, x):
    """Reinterpret the bits of a uint64 as a float64."""
    if isinstance(x, types.Integer) and x.bitwidth == 64:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.float64))

        return types.float64(x), codegen
    return None


@intrinsic
def _as_u64(typingctx, x):
    """Reinterpret the bits of a float64 as a uint64."""
    if isinstance(x, types.Float) and x.bitwidth == 64:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.uint64))

        return types.uint64(x), codegen
    return None


@njit(cache=True, inline="always")
def _log(x):
    """Natural log of a positive normal float64 (fdlibm kernel, < 1 ulp); branch-free so it vectorises."""
    bits = _as_u64(x)
    e = float(np.int64((bits >> _S52) & _EXP_MASK) - 1023)
    m = _as_f64((bits & _MANT) | _EXP_ONE)
    big = m > _SQRT2
    m = 0.5 * m if big else m
    e = e + 1.0 if big else e
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return e * _LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + e * _LN2_LO)) - f)


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _sincos(x):
    """(sin x, cos x) to ~1 ulp for |x| < 1e6: Cody-Waite reduction to [-pi/4, pi/4] and fdlibm polynomials
    (a libm sin + cos pair costs ~4x more and dominates the step otherwise)."""
    nq = math.floor(x * _TWO_OVER_PI + 0.5)
    r = (x - nq * _PIO2_1) - nq * _PIO2_1T
    r2 = r * r
    s = r + r * r2 * (_S1 + r2 * (_S2 + r2 * (_S3 + r2 * (_S4 + r2 * (_S5 + r2 * _S6)))))
    c = 1.0 - 0.5 * r2 + r2 * r2 * (_C1 + r2 * (_C2 + r2 * (_C3 + r2 * (_C4 + r2 * (_C5 + r2 * _C6)))))
    qd = int(nq) & 3
    # Quadrant fix-up without branches (keeps the track loop vectorisable).
    swap = (qd & 1) == 1
    sgn_s = 1.0 - 2.0 * ((qd >> 1) & 1)
    sgn_c = 1.0 - 2.0 * (((qd + 1) >> 1) & 1)
    so = sgn_s * (c if swap else s)
    co = sgn_c * (s if swap else c)
    return so, co


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
    sn, cs = _sincos(ph)
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
        for j in range(nb):
            qb[j] = q[i0 + j]
            pb[j] = ph[i0 + j]
            ab[j] = amp[i0 + j]
            hb[j] = hz + hz_tr[i0 + j]
            onb[j] = n_on[i0 + j]
            st[j] = np.uint64(seed) ^ _mix(np.uint64(i0 + j) * _GOLDEN + _GOLDEN)
        rc = 0
        for k in range(n_steps):
            if thermal:
                for j in range(nb):
                    s1 = st[j] + _GOLDEN
                    s2 = s1 + _GOLDEN
                    st[j] = s2
                    # x1 in (0, 1], u2 in [0, 1) from the top 52 bits (exponent trick), then Box-Muller.
                    x1 = 2.0 - _as_f64((_mix(s1) >> _S12) | _EXP_ONE)
                    u2 = _as_f64((_mix(s2) >> _S12) | _EXP_ONE) - 1.0
                    r = math.sqrt(-2.0 * _log(x1))
                    sb, cb = _sincos(_TWO_PI * u2)
                    xa[j] = r * cb
                    xb[j] = r * sb
            for j in range(nb):
                qi = qb[j]
                pi_ = pb[j]
                cur = ab[j] * _envelope(k, onb[j], n_rise, n_fall)
                hzj = hb[j]
                dq1, dp1 = _rhs(qi, pi_, cur, xa[j], xb[j], hpin, jsc, nsc, n, tapered, inv_h, Q, gd, g, alpha, c_u,
                                c_phi, inv, hk, hdm2, sot, u_a, hzj, sig, L, inv_a, inv_d)
                dq2, dp2 = _rhs(qi + dt * dq1, pi_ + dt * dp1, cur, xa[j], xb[j], hpin, jsc, nsc, n, tapered, inv_h,
                                Q, gd, g, alpha, c_u, c_phi, inv, hk, hdm2, sot, u_a, hzj, sig, L, inv_a, inv_d)
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
