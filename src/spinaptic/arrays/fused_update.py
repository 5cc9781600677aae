"""Fused outer-product update of a tile of lookup-table devices (compiled, CPU).

The same programming rule as `AnalogTile.update` (complementary G+ / G- choice by headroom, n = |Delta-W|
g_per_weight / mean step, stochastic or deterministic rounding, counts capped at the pulses that fit before
the nominal bound, then the table's own per-pulse draws and clamping), executed in one compiled pass over
only the weights that receive a non-zero Delta-W, instead of dense tensor passes over every device. For a
batch-1 SGD step Delta-W = s d x^T is never formed: the kernel walks the non-zero inputs x_j (about 18 % of
MNIST pixels) and, for each, the errors d_i. The tile's float32 weight cache W and the read-energy row sums
are updated in place for the touched weights, so the next read costs one matrix-vector product.

Parallel over chunks of output rows (`numba.prange`, one chunk per thread; rows are contiguous in memory, so
the walk along a row streams), each chunk summing its changes of the read-energy row sums apart. Random numbers are counter-based (`devices.lookup_table.sampler.counter_uniform`) and keyed by the
device's flat index, so results do not depend on the thread count or schedule. Samples differ from the
dense path's (different streams), with the same distribution (tested).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch
from numba import njit, prange

from ..devices.lookup_table.device import LookupTableDevice
from ..devices.lookup_table.sampler import counter_uniform, pulse_draw

_ROUND_SALT = np.uint64(0x632BE59BD9B4E019)


@njit(cache=True, inline="always")
def _pulse_count(g, ip, ineg, dw, gpw, g_min, g_max, step_up, step_down, stochastic, u_round):  # pragma: no cover
    """Pulses realising weight change ``dw`` on the pair at flat state indices ``ip`` (G+) / ``ineg`` (G-):
    returns (count, flat index of the device to pulse, 1 if its conductance rises else 0)."""
    # zero pulses whichever device is chosen: decided without reading the state (most candidates of an SGD step)
    a = abs(dw) * gpw
    s_min = min(step_up, step_down)
    if (a < s_min * u_round) if stochastic else (a < 0.5 * s_min):
        return 0, ip, 0
    gp = g[ip]
    gn = g[ineg]
    up = dw >= 0.0
    if up:
        room_p = g_max - gp
        room_n = gn - g_min
    else:
        room_p = gp - g_min
        room_n = g_max - gn
    room_p = max(room_p, 0.0)
    room_n = max(room_n, 0.0)
    use_p = room_p >= room_n
    raise_g = use_p == up  # the chosen device's conductance rises
    step = step_up if raise_g else step_down
    n = a / step
    if stochastic:
        fl = math.floor(n)
        n = fl + (1.0 if u_round < n - fl else 0.0)
    else:
        n = np.rint(n)
    cap = math.ceil((room_p if use_p else room_n) / step)
    if n > cap:
        n = cap
    return int(max(n, 0.0)), (ip if use_p else ineg), (1 if raise_g else 0)


@njit(cache=True)
def _draw_queue(g, inst, w, delta, q_idx, q_cnt, q_up, nq, n_pairs, inv_gpw, key, flat, g_lo, g_hi, inv_h, mids,
                cdf, n_inst, uniform_g, uniform_cdf):  # pragma: no cover
    """The table draws of the ``nq`` queued devices, pulse-major (pulse p of every device, then p + 1), so the
    table reads of different devices are independent and their cache misses overlap; then the weight cache
    and the row-sum changes (``delta`` [in]) of the touched weights. Returns the pulses."""
    n_out, n_in = w.shape
    half = n_out * n_in
    n_bins = mids.shape[1] + 1
    x = np.empty(nq, dtype=g.dtype)  # the state dtype, so every pulse rounds as in the sampler
    dev = np.empty(nq, dtype=np.int64)
    row = np.empty(nq, dtype=np.int64)
    top = 0
    tot = 0
    for b in range(nq):
        x[b] = g[q_idx[b]]
        dev[b] = inst[q_idx[b]]
        row[b] = ((1 - q_up[b]) * n_inst + dev[b]) * n_bins
        top = max(top, q_cnt[b])
        tot += q_cnt[b]
    for p in range(top):
        for b in range(nq):
            if q_cnt[b] > p:
                x[b] = pulse_draw(x[b], dev[b], row[b], counter_uniform(key, q_idx[b], p), flat, g_lo, g_hi, inv_h,
                                  mids, cdf, uniform_g, uniform_cdf)
    for b in range(nq):
        k = q_idx[b]
        old = np.float64(g[k])
        g[k] = x[b]
        ip = k % half
        j = ip % n_in
        delta[j] += np.float64(g[k]) - old
        s = 0.0
        for m in range(n_pairs):
            s += (g[2 * m * half + ip] - g[(2 * m + 1) * half + ip]) * inv_gpw[m]
        w[ip // n_in, j] = s
    return tot


@njit(cache=True, inline="always")
def _chunk(c, n_chunks, n):  # pragma: no cover
    return (c * n) // n_chunks, ((c + 1) * n) // n_chunks


@njit(parallel=True, cache=True)
def outer_kernel(g, inst, w, row_g, cols, xs, d, scale, inv_gpw, n_pairs, gpw, g_min, g_max, step_up, step_down,
                 stochastic, key, n_chunks, flat, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g,
                 uniform_cdf):  # pragma: no cover
    """Delta-W[i, j] = scale d[i] x[j] for the non-zero inputs (``cols``, values ``xs``); returns pulses.
    Rows are split into ``n_chunks`` (one per thread); each chunk queues its devices, draws them and sums
    its row-sum changes apart."""
    n_out, n_in = w.shape
    half = n_out * n_in
    key_round = key ^ _ROUND_SALT
    pulses = np.zeros(n_chunks, dtype=np.int64)
    delta = np.zeros((n_chunks, n_in))
    for c in prange(n_chunks):
        lo, hi = _chunk(c, n_chunks, n_out)
        cap = (hi - lo) * cols.size
        q_idx = np.empty(cap, dtype=np.int64)
        q_cnt = np.empty(cap, dtype=np.int64)
        q_up = np.empty(cap, dtype=np.int64)
        nq = 0
        for i in range(lo, hi):
            di = d[i] * scale
            if di == 0.0:
                continue
            for a in range(cols.size):
                ip = i * n_in + cols[a]
                u = counter_uniform(key_round, ip, 0) if stochastic else 0.0
                n, k, up = _pulse_count(g, ip, half + ip, di * xs[a], gpw, g_min, g_max, step_up, step_down,
                                        stochastic, u)
                if n > 0:
                    q_idx[nq] = k
                    q_cnt[nq] = n
                    q_up[nq] = up
                    nq += 1
        pulses[c] = _draw_queue(g, inst, w, delta[c], q_idx, q_cnt, q_up, nq, n_pairs, inv_gpw, key, flat, g_lo, g_hi,
                                inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf)
    for c in range(n_chunks):
        for a in range(cols.size):
            row_g[cols[a]] += delta[c, cols[a]]
    return pulses.sum()


@njit(parallel=True, cache=True)
def dense_kernel(g, inst, w, row_g, dwm, inv_gpw, n_pairs, gpw, g_min, g_max, step_up, step_down, stochastic, key,
                 n_chunks, flat, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf):  # pragma: no cover
    """Delta-W given as a dense [out, in] matrix ``dwm`` (zeros skipped); returns pulses."""
    n_out, n_in = w.shape
    half = n_out * n_in
    key_round = key ^ _ROUND_SALT
    pulses = np.zeros(n_chunks, dtype=np.int64)
    delta = np.zeros((n_chunks, n_in))
    for c in prange(n_chunks):
        lo, hi = _chunk(c, n_chunks, n_out)
        cap = (hi - lo) * n_in
        q_idx = np.empty(cap, dtype=np.int64)
        q_cnt = np.empty(cap, dtype=np.int64)
        q_up = np.empty(cap, dtype=np.int64)
        nq = 0
        for i in range(lo, hi):
            for j in range(n_in):
                dw = dwm[i, j]
                if dw == 0.0:
                    continue
                ip = i * n_in + j
                u = counter_uniform(key_round, ip, 0) if stochastic else 0.0
                n, k, up = _pulse_count(g, ip, half + ip, dw, gpw, g_min, g_max, step_up, step_down, stochastic, u)
                if n > 0:
                    q_idx[nq] = k
                    q_cnt[nq] = n
                    q_up[nq] = up
                    nq += 1
        pulses[c] = _draw_queue(g, inst, w, delta[c], q_idx, q_cnt, q_up, nq, n_pairs, inv_gpw, key, flat, g_lo, g_hi,
                                inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf)
    for c in range(n_chunks):
        for j in range(n_in):
            row_g[j] += delta[c, j]
    return pulses.sum()


@njit(parallel=True, cache=True)
def carry_kernel(g, inst, w, row_g, pair_w_max, inv_gpw, gpws, threshold, n_pairs, g_min, g_max, step_up, step_down,
                 key, n_chunks, flat, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf):  # pragma: no cover
    """Periodic carry of `AnalogTile.carry` for every weight (from one snapshot of the pair weights, then
    deterministic programming of every pair); returns pulses."""
    n_out, n_in = w.shape
    half = n_out * n_in
    pulses = np.zeros(n_chunks, dtype=np.int64)
    delta = np.zeros((n_chunks, n_in))
    for c in prange(n_chunks):
        lo, hi = _chunk(c, n_chunks, n_out)
        cap = (hi - lo) * n_in * n_pairs
        q_idx = np.empty(cap, dtype=np.int64)
        q_cnt = np.empty(cap, dtype=np.int64)
        q_up = np.empty(cap, dtype=np.int64)
        nq = 0
        wk = np.empty(n_pairs)
        dw = np.empty(n_pairs)
        for i in range(lo, hi):
            for j in range(n_in):
                ip = i * n_in + j
                for k in range(n_pairs):
                    wk[k] = (g[2 * k * half + ip] - g[(2 * k + 1) * half + ip]) * inv_gpw[k]
                    dw[k] = 0.0
                for k in range(n_pairs - 1):
                    if abs(wk[k]) < threshold * pair_w_max[k]:
                        continue
                    hi_step = step_up * inv_gpw[k + 1]
                    top = pair_w_max[k + 1]
                    move = min(max(wk[k], -top - wk[k + 1]), top - wk[k + 1])
                    move = math.trunc(move / hi_step) * hi_step
                    dw[k] -= move
                    dw[k + 1] += move
                for k in range(n_pairs):
                    if dw[k] == 0.0:
                        continue
                    o = 2 * k * half + ip
                    n, m, up = _pulse_count(g, o, o + half, dw[k], gpws[k], g_min, g_max, step_up, step_down, False, 0.0)
                    if n > 0:
                        q_idx[nq] = m
                        q_cnt[nq] = n
                        q_up[nq] = up
                        nq += 1
        pulses[c] = _draw_queue(g, inst, w, delta[c], q_idx, q_cnt, q_up, nq, n_pairs, inv_gpw, key, flat, g_lo, g_hi,
                                inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf)
    for c in range(n_chunks):
        for j in range(n_in):
            row_g[j] += delta[c, j]
    return pulses.sum()


def _vector(t: torch.Tensor) -> np.ndarray:
    """A 1-D float32/float64 numpy view (or copy) of a CPU tensor."""
    t = t.detach().reshape(-1)
    if t.dtype not in (torch.float32, torch.float64):
        t = t.to(torch.float64)
    return t.contiguous().numpy()


class FusedTableUpdate:
    """The compiled update path of a tile whose device is a `LookupTableDevice` with CPU state.

    Holds the table arrays (the device's CPU `TableSampler`) and the tile's programming constants; the tile
    passes its flat state arrays, weight cache and row sums on every call.
    """

    @staticmethod
    def supports(device, state) -> bool:
        """True for a lookup-table device (not a wrapper) with a CPU state."""
        return (isinstance(device, LookupTableDevice) and type(device).step is LookupTableDevice.step
                and isinstance(state, dict) and state["g"].device.type == "cpu")

    def __init__(self, device: LookupTableDevice, *, g_min: float, g_max: float, step_up: float, step_down: float,
                 pair_g_per_weight: torch.Tensor, pair_w_max: torch.Tensor) -> None:
        s = device.sampler("cpu")
        a = s._np
        self._tables = (a["flat"], a["g_lo"], a["g_hi"], a["inv_h"], a["mids"], a["cdf"], s.D, s.uniform_g,
                        s.uniform_cdf)
        self.energy_per_pulse_j = float(device.config.energy_per_pulse_j)
        self.g_min, self.g_max, self.step_up, self.step_down = float(g_min), float(g_max), float(step_up), float(step_down)
        self.gpws = pair_g_per_weight.to(torch.float64).numpy().copy()
        self.inv_gpw = 1.0 / self.gpws
        self.pair_w_max = pair_w_max.to(torch.float64).numpy().copy()
        self._gpw0 = float(self.gpws[0])

    @staticmethod
    def _key(generator: torch.Generator | None) -> np.uint64:
        """One 64-bit stream key per call, from ``generator``."""
        return np.uint64(int(torch.randint(0, 2**62, (1,), generator=generator)))

    @staticmethod
    def _flat(state) -> tuple[np.ndarray, np.ndarray]:
        g, inst = state["g"], state["instance"]
        if not (g.is_contiguous() and inst.is_contiguous()):
            raise ValueError("fused update needs contiguous state tensors")
        return g.view(-1).numpy(), inst.view(-1).numpy()

    def outer(self, state, w: torch.Tensor, row_g: torch.Tensor, x: torch.Tensor, d: torch.Tensor, scale: float,
              stochastic: bool, generator: torch.Generator | None) -> tuple[int, float]:
        """Delta-W = scale d x^T (x [in], d [out], CPU); returns (pulses, energy [J])."""
        g, inst = self._flat(state)
        xn = _vector(x)
        cols = np.flatnonzero(xn)
        n = outer_kernel(g, inst, w.numpy(), row_g.numpy(), cols, xn[cols], _vector(d), float(scale), self.inv_gpw,
                         len(self.gpws), self._gpw0, self.g_min, self.g_max, self.step_up, self.step_down,
                         bool(stochastic), self._key(generator), numba.get_num_threads(), *self._tables)
        return int(n), n * self.energy_per_pulse_j

    def dense(self, state, w: torch.Tensor, row_g: torch.Tensor, delta_w: torch.Tensor, stochastic: bool,
              generator: torch.Generator | None) -> tuple[int, float]:
        """Delta-W as a dense [out, in] matrix; returns (pulses, energy [J])."""
        g, inst = self._flat(state)
        dwm = delta_w.detach().to(torch.float64).contiguous().numpy()
        n = dense_kernel(g, inst, w.numpy(), row_g.numpy(), dwm, self.inv_gpw, len(self.gpws), float(self.gpws[0]),
                         self.g_min, self.g_max, self.step_up, self.step_down, bool(stochastic), self._key(generator),
                         numba.get_num_threads(), *self._tables)
        return int(n), n * self.energy_per_pulse_j

    def carry(self, state, w: torch.Tensor, row_g: torch.Tensor, threshold: float,
              generator: torch.Generator | None) -> tuple[int, float]:
        """Periodic carry over every weight; returns (pulses, energy [J])."""
        g, inst = self._flat(state)
        n = carry_kernel(g, inst, w.numpy(), row_g.numpy(), self.pair_w_max, self.inv_gpw, self.gpws, float(threshold),
                         len(self.gpws), self.g_min, self.g_max, self.step_up, self.step_down, self._key(generator),
                         numba.get_num_threads(), *self._tables)
        return int(n), n * self.energy_per_pulse_j


__all__ = ["FusedTableUpdate"]
