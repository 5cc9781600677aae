"""Compiled batch-1 training loop of a two-layer `DeviceMLP` on lookup-table tiles (paper 003's network).

Per sample, inside one compiled call for a whole segment of samples: the forward read from the tiles'
weight caches (the noiseless read of `AnalogTile.mvm`, over the non-zero inputs only), sigmoid, softmax and
cross-entropy error, the ideal backward, and both outer-product updates through `arrays.fused_update.
outer_chunk` (the tile's own programming rule and table draws, rows in parallel). Read energy is charged as
`AnalogTile.mvm` does. This removes the per-sample Python and tensor-op overhead of `DeviceMLP.train_step`
(about 0.4 ms a sample), which at batch size 1 costs as much as the device programming itself.

Same arithmetic as the per-sample path, with activations in float64 rather than float32, and the same
random stream (one key per layer and sample drawn from the generator in the same order), so without periodic
carry the two paths agree to rounding (tested). With carry, segments end where a carry falls due and the
carry runs between segments, so the generator's draws are interleaved differently (same distribution).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..arrays.fused_update import _reduce_rows, outer_chunk


@njit(cache=True)
def _nonzero(v, cols, xs):  # pragma: no cover - compiled
    """Non-zero entries of v followed by an always-on bias input; returns (count, max(1, max |v|))."""
    nc = 0
    mx = 1.0
    for j in range(v.size):
        x = np.float64(v[j])
        if x != 0.0:
            cols[nc] = j
            xs[nc] = x
            nc += 1
            if abs(x) > mx:
                mx = abs(x)
    cols[nc] = v.size
    xs[nc] = 1.0
    return nc + 1, mx


@njit(cache=True)
def _read_energy(cols, xs, nc, mx, row_g):  # pragma: no cover
    """sum_j (x_j / max|x|)^2 row_g[j] over the non-zero inputs (times t_read V_read^2 = the tile's read energy)."""
    e = 0.0
    for t in range(nc):
        v = xs[t] / mx
        e += v * v * row_g[cols[t]]
    return e


@njit(parallel=True, cache=True)
def train_segment(x_all, labels, order, lr, keys, n_chunks, mode, read_coef, layer0, layer1, tables0,
                  tables1):  # pragma: no cover
    """SGD over samples ``order`` of x_all [N, features] (labels [N]) with learning rate ``lr``; ``keys``
    [len(order), 2] the update keys of layer 0 and 1; ``layer*`` from `FusedTableUpdate.layer_args`.
    Returns (pulses of layer 0, pulses of layer 1, read energy [J])."""
    g0, inst0, w0, rg0, iws0, fws0, xws0, qws0, ig0, np0, gpw0, gmin0, gmax0, su0, sd0 = layer0
    g1, inst1, w1, rg1, iws1, fws1, xws1, qws1, ig1, np1, gpw1, gmin1, gmax1, su1, sd1 = layer1
    n_hid, n_in0 = w0.shape
    n_cls = w1.shape[0]
    cols0 = np.empty(n_in0, np.int64)
    xs0 = np.empty(n_in0)
    cols1 = np.empty(n_hid + 1, np.int64)
    xs1 = np.empty(n_hid + 1)
    h = np.empty(n_hid)
    d0 = np.empty(n_hid)
    p = np.empty(n_cls)
    delta0 = np.zeros((n_chunks, n_in0))
    delta1 = np.zeros((n_chunks, n_hid + 1))
    pulses0 = np.zeros(n_chunks)
    pulses1 = np.zeros(n_chunks)
    read = 0.0
    for s in range(order.size):
        r = order[s]
        nc0, mx0 = _nonzero(x_all[r], cols0, xs0)
        read += read_coef[0] * _read_energy(cols0, xs0, nc0, mx0, rg0)
        for i in prange(n_hid):
            acc = 0.0
            for t in range(nc0):
                acc += w0[i, cols0[t]] * xs0[t]
            h[i] = 1.0 / (1.0 + math.exp(-acc))
        nc1, mx1 = _nonzero(h, cols1, xs1)
        read += read_coef[1] * _read_energy(cols1, xs1, nc1, mx1, rg1)
        zmax = -np.inf
        for k in range(n_cls):
            acc = 0.0
            for t in range(nc1):
                acc += w1[k, cols1[t]] * xs1[t]
            p[k] = acc
            zmax = max(zmax, acc)
        tot = 0.0
        for k in range(n_cls):
            p[k] = math.exp(p[k] - zmax)
            tot += p[k]
        for k in range(n_cls):
            p[k] /= tot
        p[labels[r]] -= 1.0  # dL/dz of softmax + cross-entropy
        for i in range(n_hid):
            acc = 0.0
            for k in range(n_cls):
                acc += p[k] * w1[k, i]
            d0[i] = acc * h[i] * (1.0 - h[i])
        for c in prange(n_chunks):  # both layers' updates in one parallel region, rows split alike
            c = np.int64(c)  # noqa: PLW2901 - one signature of outer_chunk: the parfor pass types the index uint64
            pulses0[c] += outer_chunk(c, n_chunks, g0, inst0, w0, delta0[c], iws0[c], fws0[c], xws0[c], qws0[c], cols0,
                                      nc0, xs0, d0, -lr, ig0, np0, gpw0, gmin0, gmax0, su0, sd0, mode, keys[s, 0],
                                      tables0)
            pulses1[c] += outer_chunk(c, n_chunks, g1, inst1, w1, delta1[c], iws1[c], fws1[c], xws1[c], qws1[c], cols1,
                                      nc1, xs1, p, -lr, ig1, np1, gpw1, gmin1, gmax1, su1, sd1, mode, keys[s, 1],
                                      tables1)
        _reduce_rows(rg0, delta0)
        delta0[:] = 0.0
        _reduce_rows(rg1, delta1)
        delta1[:] = 0.0
    return pulses0.sum(), pulses1.sum(), read


__all__ = ["train_segment"]
