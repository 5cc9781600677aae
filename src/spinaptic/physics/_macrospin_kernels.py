"""Fused numba CPU kernels for the stochastic macrospin solver (see ``macrospin.py`` for the physics).

Layout: ``prange`` over chunks of ``LANES`` macrospins; inside a chunk the time loop runs over all steps and
segments, the Gaussian draws are made lane by lane (scalar ziggurat), and the Heun update is a straight-line
loop over the lanes that LLVM vectorises (AVX2/AVX-512). State lives in small per-chunk arrays, so the kernel
is compute-bound.

Random numbers: each macrospin ``i`` owns a xoshiro256+ stream (Blackman & Vigna 2018) whose state is
seeded by splitmix64 from ``(key0, key1, i)``. A macrospin's noise therefore depends only on the seed and
its index, not on the batch size, the chunking or the number of threads. Normals come from the 256-layer
ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5, 2000) in the 52-bit form numpy uses.

Every floating-point constant used in the hot loop is read from the ``par`` array, whose dtype is the
state's dtype, so float32 runs stay in float32 (numba would promote Python float literals to float64).
``error_model="numpy"`` drops the division-by-zero checks that would otherwise stop LLVM from vectorising,
and the per-chunk state lives in one 2-D array per type so that LLVM can prove the lane loops alias-free.
The parallel wrapper ``integrate`` is a one-line ``prange`` around the serial ``_chunk`` (short compile).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LANES = 64
"""Macrospins per chunk (vector lanes of the inner Heun loop)."""

# --- indices into the ``par`` constant array -------------------------------------------------------------
P_G = 0  # gamma0 dt / (1 + alpha^2)   [m/A]
P_ALPHA = 1  # Gilbert damping
P_U = 2  # easy axis u (3)
P_ND = 5  # Ms * (N_x, N_y, N_z)      [A/m]
P_HEXT = 8  # applied field (3)         [A/m]
P_SIGMA = 11  # SOT polarisation sigma (3)
P_RSOT = 14  # SOT field-like / damping-like ratio
P_P = 15  # STT reference-layer direction p (3)
P_EN = 18  # STT efficiency eps(x) = EN / (EA + EB x), x = m.p
P_EA = 19
P_EB = 20
P_RSTT = 21  # STT field-like / damping-like ratio
P_THR = 22  # hysteresis threshold b of the switch counter
P_HALF = 23
P_ONE = 24
N_PAR = 25

# rows of the per-chunk float state array
F_MX, F_MY, F_MZ, F_HK, F_SIG, F_ASOT, F_ASTT, F_NX, F_NY, F_NZ, F_LIVE = range(11)
F_ROWS = 11
R_ROWS = 7  # uint64 rows: xoshiro state s0..s3, raw bits of the three draws

_U = np.uint64
_INV_2_53 = 1.0 / 9007199254740992.0
_ZIG_R = 3.6541528853610088
"""Start of the tail of the 256-layer normal ziggurat."""


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables (k, w, f) of the 256-layer ziggurat for exp(-x^2/2), 52-bit form (Marsaglia & Tsang 2000)."""
    m1 = 2.0**52
    dn = tn = _ZIG_R
    vn = dn * math.exp(-0.5 * dn * dn) + math.sqrt(math.pi / 2) * math.erfc(dn / math.sqrt(2.0))
    ki = np.zeros(256, np.uint64)
    wi = np.zeros(256, np.float64)
    fi = np.zeros(256, np.float64)
    q = vn / math.exp(-0.5 * dn * dn)
    ki[0] = int((dn / q) * m1)
    wi[0] = q / m1
    wi[255] = dn / m1
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = int((dn / tn) * m1)
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m1
    return ki, wi, fi


ZIG_K, ZIG_W, ZIG_F = _ziggurat_tables()


# --- random numbers ------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@njit(cache=True, error_model="numpy")
def _splitmix(x):
    """One splitmix64 step: returns (new counter, output)."""
    x = x + _U(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> _U(30))) * _U(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U(27))) * _U(0x94D049BB133111EB)
    return x, z ^ (z >> _U(31))


@njit(cache=True, error_model="numpy")
def _seed_stream(key0, key1, i):
    """xoshiro256 state of stream ``i``: splitmix64 seeded by a hash of (key1, i), xor key0."""
    _, h = _splitmix(key1 ^ (_U(i) * _U(0xD1B54A32D192ED03)))
    x = key0 ^ h
    x, s0 = _splitmix(x)
    x, s1 = _splitmix(x)
    x, s2 = _splitmix(x)
    x, s3 = _splitmix(x)
    return s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def _next(s0, s1, s2, s3):
    """xoshiro256+ : returns (64 random bits, new state)."""
    r = s0 + s3
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return r, s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def _normal_from(r, s0, s1, s2, s3, zk, zw, zf):
    """N(0, 1) draw (float64) by the ziggurat from the 64 random bits ``r``; further bits, needed by ~1 %
    of draws, come from the stream (s0..s3). Returns (x, new state)."""
    while True:
        idx = np.intp(r & _U(0xFF))
        r >>= _U(8)
        sign = r & _U(1)
        rabs = (r >> _U(1)) & _U(0x000FFFFFFFFFFFFF)
        x = rabs * zw[idx]
        if sign:
            x = -x
        if rabs < zk[idx]:
            return x, s0, s1, s2, s3  # ~99 % of draws end here
        r2, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
        u1 = ((r2 >> _U(11)) + _U(1)) * _INV_2_53  # in (0, 1]
        if idx == 0:  # tail beyond R (Marsaglia 1964)
            r3, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
            u2 = ((r3 >> _U(11)) + _U(1)) * _INV_2_53
            xx = -math.log(u1) / _ZIG_R
            yy = -math.log(u2)
            if yy + yy > xx * xx:
                v = _ZIG_R + xx
                return (-v if sign else v), s0, s1, s2, s3
        elif (zf[idx - 1] - zf[idx]) * u1 + zf[idx] < math.exp(-0.5 * x * x):
            return x, s0, s1, s2, s3
        r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)


@njit(cache=True, error_model="numpy")
def _zig_fast(r, zw):
    """Ziggurat candidate from 64 random bits (accepted when ``_zig_ok``)."""
    idx = np.intp(r & _U(0xFF))
    rabs = (r >> _U(9)) & _U(0x000FFFFFFFFFFFFF)
    x = np.float64(rabs) * zw[idx]
    return -x if (r >> _U(8)) & _U(1) else x


@njit(cache=True, error_model="numpy")
def _zig_ok(r, zk):
    idx = np.intp(r & _U(0xFF))
    return ((r >> _U(9)) & _U(0x000FFFFFFFFFFFFF)) < zk[idx]


@njit(cache=True, error_model="numpy")
def _normal(s0, s1, s2, s3, zk, zw, zf):
    """One N(0, 1) draw from the stream; returns (x, new state)."""
    r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
    return _normal_from(r, s0, s1, s2, s3, zk, zw, zf)


@njit(cache=True, error_model="numpy")
def normals(key0, key1, n_streams, n_per_stream, zk, zw, zf):
    """[n_streams, n_per_stream] standard normals from the kernel's per-macrospin streams (for tests)."""
    out = np.empty((n_streams, n_per_stream))
    for i in range(n_streams):
        s0, s1, s2, s3 = _seed_stream(key0, key1, i)
        for k in range(n_per_stream):
            out[i, k], s0, s1, s2, s3 = _normal(s0, s1, s2, s3, zk, zw, zf)
    return out


# --- physics -------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _consts(par):
    """The ``par`` array as a tuple: values in registers, no aliasing with the state arrays."""
    return (
        par[0],
        par[1],
        par[2],
        par[3],
        par[4],
        par[5],
        par[6],
        par[7],
        par[8],
        par[9],
        par[10],
        par[11],
        par[12],
        par[13],
        par[14],
        par[15],
        par[16],
        par[17],
        par[18],
        par[19],
        par[20],
        par[21],
        par[22],
        par[23],
        par[24],
    )


@njit(cache=True, error_model="numpy")
def _field(mx, my, mz, hk, asot, astt, tx, ty, tz, cst, sot_on, stt_on):
    """H [A/m] = H_K (m.u) u - Ms N m + H_ext + SOT + STT pseudo-fields + thermal (tx, ty, tz)."""
    ux = cst[P_U]
    uy = cst[P_U + 1]
    uz = cst[P_U + 2]
    mu = hk * (mx * ux + my * uy + mz * uz)
    hx = mu * ux - cst[P_ND] * mx + cst[P_HEXT] + tx
    hy = mu * uy - cst[P_ND + 1] * my + cst[P_HEXT + 1] + ty
    hz = mu * uz - cst[P_ND + 2] * mz + cst[P_HEXT + 2] + tz
    if sot_on:  # H_DL (m x sigma) + r H_DL sigma
        sx = cst[P_SIGMA]
        sy = cst[P_SIGMA + 1]
        sz = cst[P_SIGMA + 2]
        r = cst[P_RSOT]
        hx += asot * (my * sz - mz * sy + r * sx)
        hy += asot * (mz * sx - mx * sz + r * sy)
        hz += asot * (mx * sy - my * sx + r * sz)
    if stt_on:  # a_J eps(m.p) [(m x p) + r p]
        px = cst[P_P]
        py = cst[P_P + 1]
        pz = cst[P_P + 2]
        r = cst[P_RSTT]
        a = astt * cst[P_EN] / (cst[P_EA] + cst[P_EB] * (mx * px + my * py + mz * pz))
        hx += a * (my * pz - mz * py + r * px)
        hy += a * (mz * px - mx * pz + r * py)
        hz += a * (mx * py - my * px + r * pz)
    return hx, hy, hz


@njit(cache=True, error_model="numpy")
def _rhs(mx, my, mz, hx, hy, hz, g, alpha):
    """dt * dm/dt = -g [m x H + alpha m x (m x H)], g = gamma0 dt / (1 + alpha^2)."""
    px = my * hz - mz * hy
    py = mz * hx - mx * hz
    pz = mx * hy - my * hx
    dx = -g * (px + alpha * (my * pz - mz * py))
    dy = -g * (py + alpha * (mz * px - mx * pz))
    dz = -g * (pz + alpha * (mx * py - my * px))
    return dx, dy, dz


@njit(fastmath=False, cache=True, error_model="numpy")
def _chunk(
    c,
    m,
    hk,
    sig,
    seg_steps,
    a_sot,
    a_stt,
    par,
    thermal_on,
    sot_on,
    stt_on,
    key0,
    key1,
    zk,
    zw,
    zf,
    record_every,
    traj,
    events,
    n_events,
):
    """Integrate macrospins [c * LANES, (c + 1) * LANES) of the batch (see ``integrate``)."""
    B = m.shape[0]
    S = seg_steps.shape[0]
    K = events.shape[1]
    C = traj.shape[2]
    cst = _consts(par)
    g = par[P_G]
    alpha = par[P_ALPHA]
    half = par[P_HALF]
    one = par[P_ONE]
    thr = par[P_THR]
    ux = par[P_U]
    uy = par[P_U + 1]
    uz = par[P_U + 2]
    i0 = c * LANES
    n = min(LANES, B - i0)
    # One 2-D array per type so that LLVM sees no aliasing and vectorises the lane loops.
    fs = np.zeros((F_ROWS, LANES), m.dtype)
    rs = np.zeros((R_ROWS, LANES), np.uint64)
    well = np.ones(LANES, np.int64)
    for l in range(LANES):
        fs[F_MZ, l] = one  # padding lanes: a harmless unit vector
    for l in range(n):
        i = i0 + l
        rs[0, l], rs[1, l], rs[2, l], rs[3, l] = _seed_stream(key0, key1, i)
        fs[F_MX, l] = m[i, 0]
        fs[F_MY, l] = m[i, 1]
        fs[F_MZ, l] = m[i, 2]
        fs[F_HK, l] = hk[i]
        fs[F_SIG, l] = sig[i]
        fs[F_LIVE, l] = one
        if m[i, 0] * ux + m[i, 1] * uy + m[i, 2] * uz < 0:
            well[l] = -1
    n_live = n
    step = 0
    for s in range(S):
        for l in range(n):
            fs[F_ASOT, l] = a_sot[s, i0 + l]
            fs[F_ASTT, l] = a_stt[s, i0 + l]
        for _ in range(seg_steps[s]):
            if thermal_on:
                for l in range(LANES):  # raw bits for the three draws (vectorised)
                    s0 = rs[0, l]
                    s1 = rs[1, l]
                    s2 = rs[2, l]
                    s3 = rs[3, l]
                    rs[4, l], s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                    rs[5, l], s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                    rs[6, l], s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                    rs[0, l] = s0
                    rs[1, l] = s1
                    rs[2, l] = s2
                    rs[3, l] = s3
                for l in range(n):  # ziggurat on those bits; ~1 % of draws take the slow path
                    for k in range(3):
                        r = rs[4 + k, l]
                        if _zig_ok(r, zk):
                            fs[F_NX + k, l] = _zig_fast(r, zw)
                        else:
                            x, s0, s1, s2, s3 = _normal_from(
                                r, rs[0, l], rs[1, l], rs[2, l], rs[3, l], zk, zw, zf
                            )
                            fs[F_NX + k, l] = x
                            rs[0, l] = s0
                            rs[1, l] = s1
                            rs[2, l] = s2
                            rs[3, l] = s3
            for l in range(LANES):  # straight-line Heun step, vectorised over lanes
                ax = fs[F_MX, l]
                ay = fs[F_MY, l]
                az = fs[F_MZ, l]
                hkl = fs[F_HK, l]
                aso = fs[F_ASOT, l]
                ast = fs[F_ASTT, l]
                sg = fs[F_SIG, l]
                tx = sg * fs[F_NX, l]
                ty = sg * fs[F_NY, l]
                tz = sg * fs[F_NZ, l]
                hx, hy, hz = _field(ax, ay, az, hkl, aso, ast, tx, ty, tz, cst, sot_on, stt_on)
                dx, dy, dz = _rhs(ax, ay, az, hx, hy, hz, g, alpha)
                bx = ax + dx
                by = ay + dy
                bz = az + dz
                hx, hy, hz = _field(bx, by, bz, hkl, aso, ast, tx, ty, tz, cst, sot_on, stt_on)
                ex, ey, ez = _rhs(bx, by, bz, hx, hy, hz, g, alpha)
                bx = ax + half * (dx + ex)
                by = ay + half * (dy + ey)
                bz = az + half * (dz + ez)
                nrm = np.sqrt(bx * bx + by * by + bz * bz)
                lv = fs[F_LIVE, l] > 0
                fs[F_MX, l] = bx / nrm if lv else ax
                fs[F_MY, l] = by / nrm if lv else ay
                fs[F_MZ, l] = bz / nrm if lv else az
            step += 1
            if K > 0:
                for l in range(n):
                    if fs[F_LIVE, l] > 0:
                        x = fs[F_MX, l] * ux + fs[F_MY, l] * uy + fs[F_MZ, l] * uz
                        if (well[l] > 0 and x < -thr) or (well[l] < 0 and x > thr):
                            well[l] = -well[l]
                            events[i0 + l, n_events[i0 + l]] = step
                            n_events[i0 + l] += 1
                            if n_events[i0 + l] >= K:
                                fs[F_LIVE, l] = 0
                                n_live -= 1
                if n_live == 0:
                    break
            if record_every > 0 and step % record_every == 0:
                t = step // record_every - 1
                for l in range(n):
                    if C == 3:
                        traj[t, i0 + l, 0] = fs[F_MX, l]
                        traj[t, i0 + l, 1] = fs[F_MY, l]
                        traj[t, i0 + l, 2] = fs[F_MZ, l]
                    else:
                        traj[t, i0 + l, 0] = fs[F_MX, l] * ux + fs[F_MY, l] * uy + fs[F_MZ, l] * uz
        if K > 0 and n_live == 0:
            break
    for l in range(n):
        i = i0 + l
        m[i, 0] = fs[F_MX, l]
        m[i, 1] = fs[F_MY, l]
        m[i, 2] = fs[F_MZ, l]


@njit(parallel=True, fastmath=False, cache=True, error_model="numpy")
def integrate(
    m,
    hk,
    sig,
    seg_steps,
    a_sot,
    a_stt,
    par,
    thermal_on,
    sot_on,
    stt_on,
    key0,
    key1,
    zk,
    zw,
    zf,
    record_every,
    traj,
    events,
    n_events,
):
    """Stochastic Heun (Stratonovich) integration of a batch of macrospins, in place.

    Arguments (B macrospins, S segments, dtype F = m.dtype):
        m [B, 3] F: unit vectors, overwritten with the final state.
        hk [B] F: anisotropy field H_K [A/m].  sig [B] F: thermal-field std per component per step [A/m].
        seg_steps [S] int64: steps per segment.  a_sot, a_stt [S, B] F: SOT / STT pseudo-field amplitudes [A/m].
        par [N_PAR] F: the scalar constants (see the P_* indices).
        key0, key1 uint64: RNG key.  zk, zw, zf: ziggurat tables.
        record_every int: store m every that many steps into traj [T, B, C] (C = 3, or 1 for m.u only); 0 = off.
        events [B, K] int64: step index (1-based count of steps done) of the first K switches; K = 0 = off.
            A switch from the + well counts when m.u < -b, from the - well when m.u > b (b = par[P_THR]).
            A macrospin stops being integrated after its K-th switch (its m is then the state at that event).
        n_events [B] int64: number of switches recorded per macrospin.
    """
    n_chunks = (m.shape[0] + LANES - 1) // LANES
    for c in prange(n_chunks):
        _chunk(
            c,
            m,
            hk,
            sig,
            seg_steps,
            a_sot,
            a_stt,
            par,
            thermal_on,
            sot_on,
            stt_on,
            key0,
            key1,
            zk,
            zw,
            zf,
            record_every,
            traj,
            events,
            n_events,
        )
