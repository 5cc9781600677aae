"""Fused numba CPU kernels for the stochastic macrospin solver (see ``macrospin.py`` for the physics).

Layout: chunks of ``LANES`` macrospins split over threads; inside a chunk the time loop runs over all steps and
segments, and every per-step loop over the lanes is straight-line code that LLVM vectorises (AVX2 / AVX-512):
the thermal normals, the Heun update and the renormalisation (one reciprocal square root, no divisions).
State lives in small per-chunk arrays, so the kernel is compute-bound.

Random numbers: `spinaptic.rng`'s counter-based generator. Macrospin ``i`` owns stream ``i`` of the key; step
``k`` takes normals 3k, 3k + 1, 3k + 2 of it, normal ``t`` being component ``t % 2`` of the `gauss_pair` of
words ``2 (t // 2)`` and ``2 (t // 2) + 1`` (so every two steps cost three Box-Muller pairs). A macrospin's noise depends only on the key and its index,
not on the batch size, the chunking or the number of threads.

Every floating-point constant used in the hot loop is read from the ``par`` array, whose dtype is the
state's dtype, so float32 runs stay in float32 (numba would promote Python float literals to float64).
``error_model="numpy"`` drops the division-by-zero checks that would otherwise stop LLVM from vectorising,
and the per-chunk state lives in one 2-D array so that LLVM can prove the lane loops alias-free. ``FASTMATH``
allows only FMA contraction (no reassociation), which the analytic physics tests pass with.
``integrate`` splits the chunks over threads (`spinaptic._threads.run_split`) around the compiled
``_chunks``: no parfor pass, so the one compile is the serial ``_chunk``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._threads import run_split
from ..rng._kernels import gauss_pair, stream_start, word

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

# rows of the per-chunk float state array; F_N0..F_N0+5: the normals of a pair of steps
F_MX, F_MY, F_MZ, F_HK, F_SIG, F_ASOT, F_ASTT, F_LIVE, F_TX, F_TY, F_TZ, F_DX, F_DY, F_DZ, F_N0 = range(15)
F_ROWS = F_N0 + 6
FASTMATH = {"contract"}
"""LLVM fast-math flags of the hot loop: FMA contraction only."""

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


@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _chunk(c, m, hk, sig, seg_steps, a_sot, a_stt, par, thermal_on, sot_on, stt_on, key, record_every, traj,
           events, n_events):
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
    st = np.zeros(LANES, np.uint64)
    well = np.ones(LANES, np.int64)
    for l in range(LANES):
        fs[F_MZ, l] = one  # padding lanes: a harmless unit vector
    for l in range(n):
        i = i0 + l
        st[l] = stream_start(key, i)
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
            o = F_N0
            if thermal_on:
                o = F_N0 + 3 * (step & 1)
                if (step & 1) == 0:  # three Box-Muller pairs: the normals of this step and the next
                    w0 = 6 * (step >> 1)
                    for l in range(LANES):
                        z0, z1 = gauss_pair(word(st[l], w0), word(st[l], w0 + 1))
                        z2, z3 = gauss_pair(word(st[l], w0 + 2), word(st[l], w0 + 3))
                        z4, z5 = gauss_pair(word(st[l], w0 + 4), word(st[l], w0 + 5))
                        fs[F_N0, l] = z0
                        fs[F_N0 + 1, l] = z1
                        fs[F_N0 + 2, l] = z2
                        fs[F_N0 + 3, l] = z3
                        fs[F_N0 + 4, l] = z4
                        fs[F_N0 + 5, l] = z5
            for l in range(LANES):  # Heun predictor, vectorised over lanes (two short passes, not one
                ax = fs[F_MX, l]  # long one: more independent iterations in flight)
                ay = fs[F_MY, l]
                az = fs[F_MZ, l]
                sg = fs[F_SIG, l]
                tx = sg * fs[o, l]
                ty = sg * fs[o + 1, l]
                tz = sg * fs[o + 2, l]
                fs[F_TX, l] = tx
                fs[F_TY, l] = ty
                fs[F_TZ, l] = tz
                hx, hy, hz = _field(ax, ay, az, fs[F_HK, l], fs[F_ASOT, l], fs[F_ASTT, l], tx, ty, tz, cst, sot_on,
                                    stt_on)
                dx, dy, dz = _rhs(ax, ay, az, hx, hy, hz, g, alpha)
                fs[F_DX, l] = dx
                fs[F_DY, l] = dy
                fs[F_DZ, l] = dz
            for l in range(LANES):  # Heun corrector and renormalisation (one reciprocal square root)
                ax = fs[F_MX, l]
                ay = fs[F_MY, l]
                az = fs[F_MZ, l]
                dx = fs[F_DX, l]
                dy = fs[F_DY, l]
                dz = fs[F_DZ, l]
                bx = ax + dx
                by = ay + dy
                bz = az + dz
                hx, hy, hz = _field(bx, by, bz, fs[F_HK, l], fs[F_ASOT, l], fs[F_ASTT, l], fs[F_TX, l], fs[F_TY, l],
                                    fs[F_TZ, l], cst, sot_on, stt_on)
                ex, ey, ez = _rhs(bx, by, bz, hx, hy, hz, g, alpha)
                bx = ax + half * (dx + ex)
                by = ay + half * (dy + ey)
                bz = az + half * (dz + ez)
                inv = one / np.sqrt(bx * bx + by * by + bz * bz)
                lv = fs[F_LIVE, l] > 0
                fs[F_MX, l] = bx * inv if lv else ax
                fs[F_MY, l] = by * inv if lv else ay
                fs[F_MZ, l] = bz * inv if lv else az
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


@njit(fastmath=FASTMATH, cache=True, error_model="numpy", nogil=True)
def _chunks(lo, hi, m, hk, sig, seg_steps, a_sot, a_stt, par, thermal_on, sot_on, stt_on, key, record_every, traj,
            events, n_events):
    """Chunks lo..hi-1 of ``integrate``, one after another (one thread's share)."""
    for c in range(lo, hi):
        _chunk(c, m, hk, sig, seg_steps, a_sot, a_stt, par, thermal_on, sot_on, stt_on, key, record_every, traj,
               events, n_events)


def integrate(m, hk, sig, seg_steps, a_sot, a_stt, par, thermal_on, sot_on, stt_on, key, record_every, traj,
              events, n_events):
    """Stochastic Heun (Stratonovich) integration of a batch of macrospins, in place.

    Arguments (B macrospins, S segments, dtype F = m.dtype):
        m [B, 3] F: unit vectors, overwritten with the final state.
        hk [B] F: anisotropy field H_K [A/m].  sig [B] F: thermal-field std per component per step [A/m].
        seg_steps [S] int64: steps per segment.  a_sot, a_stt [S, B] F: SOT / STT pseudo-field amplitudes [A/m].
        par [N_PAR] F: the scalar constants (see the P_* indices).
        key uint64: the `spinaptic.rng` key (macrospin i uses its stream i).
        record_every int: store m every that many steps into traj [T, B, C] (C = 3, or 1 for m.u only); 0 = off.
        events [B, K] int64: step index (1-based count of steps done) of the first K switches; K = 0 = off.
            A switch from the + well counts when m.u < -b, from the - well when m.u > b (b = par[P_THR]).
            A macrospin stops being integrated after its K-th switch (its m is then the state at that event).
        n_events [B] int64: number of switches recorded per macrospin.
    """
    run_split(_chunks, (m.shape[0] + LANES - 1) // LANES, m, hk, sig, seg_steps, a_sot, a_stt, par, thermal_on,
              sot_on, stt_on, key, record_every, traj, events, n_events)
