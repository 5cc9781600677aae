"""The baseline of the SC-network speed target: bit-exact SC inference in NumPy, as fast as NumPy allows.

Each clock is recast as a +/-1 matrix product, batched over a chunk of clocks with ``np.matmul``: input bits
(u < p, fresh per image, pixel and clock) and weight bits (fresh per clock and batch of images) are +/-1
float32 arrays, S1[t] = X[t] @ W1[t] (exact integers in float32: |S| < 2^24), Btanh is a loop over the clocks
of the chunk vectorised over images and neurons, and the output layer is a second batched matmul whose sums
are accumulated (decoding by counting). No bit packing, no compiled code: the reference path's twin.

`sc_numpy_baseline` is the fair version (issue 15): every buffer is float32, allocated once per call and
filled in place (``rng.random(out=, dtype=float32)``, +/-1 by ``copysign`` in place, ``np.matmul(out=)``,
Btanh on a float32 state: exact, the states are integers < 2^24), no ``np.where`` temporaries, no float64.
`sc_numpy_counts` is its core on given +/-1 bits (what the tests compare with the packed path bit for bit).
`sc_numpy_baseline_naive` is the earlier straightforward version (float64 draws, ``np.where`` temporaries,
fresh arrays per chunk), kept for the record of what the first speed-up was measured against.
"""

from __future__ import annotations

import numpy as np


class _Buffers:
    """The float32 work arrays of one (batch, chunk) shape, allocated once and reused."""

    def __init__(self, b, chunk, j, h, o):
        self.u_x = np.empty((chunk, b, j - 1), np.float32)  # input bits (+/-1); the bias input is a constant 1
        self.u_w1 = np.empty((chunk, j, h), np.float32)
        self.u_w2 = np.empty((chunk, h + 1, o), np.float32)
        self.s1 = np.empty((chunk, b, h), np.float32)
        self.hb = np.empty((chunk, b, h + 1), np.float32)  # hidden bits (+/-1), bias column +1
        self.s2 = np.empty((chunk, b, o), np.float32)
        self.state = np.empty((b, h), np.float32)
        self.acc = np.empty((b, o), np.float32)  # |sum| <= L (H + 1) < 2^24: exact


def _pm1_inplace(buf, p, rng):
    """Fill ``buf`` with +/-1: +1 where u < p (u uniform float32, fresh), -1 elsewhere; p broadcasts."""
    rng.random(out=buf, dtype=np.float32)
    np.subtract(buf, p, out=buf)  # < 0 exactly where u < p; u == p gives +0 -> -1 below
    np.copysign(1.0, buf, out=buf)
    np.negative(buf, out=buf)


def _btanh_chunk(bf, tc, k1):
    """Btanh over the tc clocks of a chunk, vectorised over images and neurons; writes the +/-1 hidden bits."""
    h = bf.state.shape[1]
    thr = k1 // 2 - 0.5  # state >= K / 2  <=>  state - (K / 2 - 1 / 2) > 0 (integer states)
    for t in range(tc):
        np.add(bf.state, bf.s1[t], out=bf.state)
        np.clip(bf.state, 0, k1 - 1, out=bf.state)
        out = bf.hb[t, :, :h]
        np.subtract(bf.state, thr, out=out)
        np.sign(out, out=out)  # never 0: thr is not an integer


def _hidden_sums(bf, tc, xpm, w1pm):
    """S1 = X @ W1 over the tc clocks of a chunk; the bias input (+1) adds the last row of W1."""
    np.matmul(xpm, w1pm[:, :-1], out=bf.s1[:tc])
    np.add(bf.s1[:tc], w1pm[:, -1:], out=bf.s1[:tc])


def _accumulate_output(bf, tc):
    np.matmul(bf.hb[:tc], bf.u_w2[:tc], out=bf.s2[:tc])
    bf.acc += bf.s2[:tc].sum(0)


def sc_numpy_counts(xpm, w1pm, w2pm, k1, *, chunk=64):
    """Accumulated output APC sums [N, O] (int64) of given +/-1 bits, one batch sharing its weight bits.

    xpm [L, N, n_in], w1pm [L, n_in + 1, H] (bias row last), w2pm [L, H + 1, O] (hidden bias row last):
    float32 +/-1 per clock; the bias inputs are constant ones.
    The same per-clock computation as `sc_numpy_baseline` (hidden Btanh from K / 2, output sums by counting).
    """
    length, n, n_in = xpm.shape
    j = n_in + 1
    h, o = w1pm.shape[2], w2pm.shape[2]
    bf = _Buffers(n, chunk, j, h, o)
    bf.state.fill(k1 // 2)
    bf.acc.fill(0)
    bf.hb[:, :, h] = 1.0
    for t0 in range(0, length, chunk):
        tc = min(chunk, length - t0)
        _hidden_sums(bf, tc, xpm[t0:t0 + tc], w1pm[t0:t0 + tc])
        _btanh_chunk(bf, tc, k1)
        bf.u_w2[:tc] = w2pm[t0:t0 + tc]
        _accumulate_output(bf, tc)
    return bf.acc.astype(np.int64)


def sc_numpy_baseline(x, w1aug, w2aug, length, k1, k2=None, *, rng, batch=250, chunk=64):
    """Predictions [N] of bipolar inputs x [N, n_in] through weights w1aug [H, n_in + 1], w2aug [O, H + 1].

    Weight bits are fresh per clock and per batch of ``batch`` images (shared by the images of a batch), input
    bits fresh per image, pixel and clock; hidden Btanh with K = k1 states from K / 2; decode by counting
    (``k2`` unused: the output Btanh does not enter the decision).
    """
    x = np.asarray(x, np.float32)
    n, n_in = x.shape
    j = n_in + 1
    h = w1aug.shape[0]
    o = w2aug.shape[0]
    p1 = ((np.asarray(w1aug, np.float64).T + 1) / 2).astype(np.float32)  # [J, H]
    p2 = ((np.asarray(w2aug, np.float64).T + 1) / 2).astype(np.float32)  # [H + 1, O]
    preds = np.empty(n, np.int64)
    bmax = min(batch, n)
    bf = _Buffers(bmax, chunk, j, h, o)
    px_full = np.empty((bmax, n_in), np.float32)
    for s in range(0, n, batch):
        xb = x[s:s + batch]
        b = xb.shape[0]
        if b != bmax:  # the last, shorter batch
            bf = _Buffers(b, chunk, j, h, o)
            px_full = np.empty((b, n_in), np.float32)
        np.add(xb, 1.0, out=px_full)
        px_full *= 0.5
        bf.state.fill(k1 // 2)
        bf.acc.fill(0)
        bf.hb[:, :, h] = 1.0
        for t0 in range(0, length, chunk):
            tc = min(chunk, length - t0)
            _pm1_inplace(bf.u_x[:tc], px_full, rng)
            _pm1_inplace(bf.u_w1[:tc], p1, rng)
            _hidden_sums(bf, tc, bf.u_x[:tc], bf.u_w1[:tc])  # [tc, b, H]
            _btanh_chunk(bf, tc, k1)
            _pm1_inplace(bf.u_w2[:tc], p2, rng)
            _accumulate_output(bf, tc)
        preds[s:s + b] = bf.acc.argmax(1)
    return preds


def sc_numpy_baseline_naive(x, w1aug, w2aug, length, k1, k2=None, *, rng, batch=250, chunk=64):
    """The first, straightforward baseline (float64 draws, ``np.where`` temporaries, fresh arrays per chunk)."""
    x = np.asarray(x, np.float64)
    n, n_in = x.shape
    h = w1aug.shape[0]
    o = w2aug.shape[0]
    p1 = (w1aug.T + 1) / 2  # [J, H]
    p2 = (w2aug.T + 1) / 2  # [H + 1, O]
    preds = np.empty(n, np.int64)
    for s in range(0, n, batch):
        xb = x[s:s + batch]
        b = xb.shape[0]
        px = np.concatenate([(xb + 1) / 2, np.ones((b, 1))], 1)  # bias input: all ones
        state = np.full((b, h), k1 // 2, np.int32)
        acc = np.zeros((b, o), np.int64)
        for t0 in range(0, length, chunk):
            tc = min(chunk, length - t0)
            xs = np.where(rng.random((tc, b, n_in + 1)) < px, 1.0, -1.0).astype(np.float32)
            ws = np.where(rng.random((tc, n_in + 1, h)) < p1, 1.0, -1.0).astype(np.float32)
            s1 = np.matmul(xs, ws)  # [tc, b, H]
            hb = np.ones((tc, b, h + 1), np.float32)
            for t in range(tc):
                state = np.clip(state + s1[t].astype(np.int32), 0, k1 - 1)
                hb[t, :, :h] = np.where(state >= k1 // 2, 1.0, -1.0)
            w2s = np.where(rng.random((tc, h + 1, o)) < p2, 1.0, -1.0).astype(np.float32)
            acc += np.matmul(hb, w2s).sum(0).astype(np.int64)
        preds[s:s + b] = acc.argmax(1)
    return preds


def blas_threads(n: int | None = None) -> int:
    """Get (and with ``n``, set) the thread count of NumPy's bundled OpenBLAS; 0 when it cannot be found.

    The +/-1 GEMMs are the baseline's main cost, and OpenBLAS's spinning worker threads collapse on a loaded
    machine (measured: 6 GFLOP/s with 2 threads vs 97 with 1 on a machine with another busy process), so
    the benchmark times the baseline at each thread count and reports the faster.
    """
    import ctypes
    import re

    try:
        maps = open("/proc/self/maps").read()  # noqa: SIM115 - read once
    except OSError:
        return 0
    libs = sorted(set(re.findall(r"(\S*openblas\S*\.so\S*)", maps)))
    for path in libs:
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    if n is not None:
                        put(ctypes.c_int(int(n)))
                    return int(get())
    return 0
