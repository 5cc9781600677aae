"""Fused outer-product update of a tile of lookup-table devices (compiled, CPU).

The same programming rules as `AnalogTile.update` (complementary G+ / G- choice by headroom, n = |Delta-W|
g_per_weight / mean step, stochastic or deterministic rounding, counts capped at the pulses that fit before
the nominal bound, then the table's own per-pulse draws and clamping; or the "fractional" rule, one draw
scaled to the requested Delta-G), executed in one compiled pass over
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
from ..devices.lookup_table.sampler import counter_uniform, draw_address, settle
from ..rng import draw_key

_ROUND_SALT = np.uint64(0x632BE59BD9B4E019)


_BLOCK = 8192
"""Queue entries per block: a chunk queues this many devices, draws them and goes on, so the queue stays in
L1 (one queue of every device of a chunk streamed megabytes through the cache in each of its passes)."""

DETERMINISTIC, STOCHASTIC, FRACTIONAL = 0, 1, 2
"""Kernel codes of the update rules (`AnalogTile` ``update_rule`` "deterministic", "stochastic" / "pulse-train",
"fractional")."""


@njit(cache=True, inline="always")
def _request(g, ip, ineg, dw, gpw, g_min, g_max, step_up, step_down, mode, u_round):  # pragma: no cover
    """What weight change ``dw`` asks of the pair at flat state indices ``ip`` (G+) / ``ineg`` (G-): returns
    (amount, flat index of the device to program, 1 if its conductance rises else 0), the amount being a
    whole number of pulses (deterministic / stochastic rounding) or, for ``FRACTIONAL``, |Delta-G| [S]; 0 =
    nothing to program."""
    a = abs(dw) * gpw
    if a == 0.0:
        return 0.0, ip, 0
    s_min = min(step_up, step_down)
    # zero pulses whichever device is chosen: decided without reading the state (most candidates of an SGD step)
    if mode == STOCHASTIC and a < s_min * u_round:
        return 0.0, ip, 0
    if mode == DETERMINISTIC and a < 0.5 * s_min:
        return 0.0, ip, 0
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
    room = room_p if use_p else room_n
    k = ip if use_p else ineg
    r = 1 if raise_g else 0
    if mode == FRACTIONAL:
        return min(a, room), k, r
    step = step_up if raise_g else step_down
    n = a / step
    if mode == STOCHASTIC:
        fl = math.floor(n)
        n = fl + (1.0 if u_round < n - fl else 0.0)
    else:
        n = np.rint(n)
    cap = math.ceil(room / step)
    if n > cap:
        n = cap
    return max(n, 0.0), k, r


@njit(cache=True, inline="always")
def _store(g, wf, delta, k, ip, j, x_new, half, n_pairs, inv_gpw):  # pragma: no cover
    """g[k] = x_new (device k of weight ip, input column j): its change is added to the row-sum change
    ``delta[j]`` and the cached weight wf[ip] is recomputed from every significance pair."""
    old = np.float64(g[k])
    g[k] = x_new
    delta[j] += np.float64(g[k]) - old
    s = 0.0
    for mm in range(n_pairs):
        s += (g[2 * mm * half + ip] - g[(2 * mm + 1) * half + ip]) * inv_gpw[mm]
    wf[ip] = s


@njit(cache=True)
def _draw_queue(g, inst, w, delta, iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, flat, mean, inst_step, g_lo,
                g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf, n_levels):  # pragma: no cover
    """Program the ``nq`` queued devices (workspace columns ``iw[:, 0]`` flat state index, ``iw[:, 1]`` weight
    index i * n_in + j, ``iw[:, 2]`` 1 if G rises, ``fw[:, 0]`` amount from `_request`), then refresh the weight cache and
    add the row-sum changes (``delta`` [in]) of the touched weights. Returns the pulses (fractional ones
    summed).

    The table reads are split from the arithmetic: one loop computes every device's table address, tight
    loops gather the two CDF neighbours (many independent cache misses in flight), another applies them.
    Pulses are drawn pulse-major (pulse p of every device still pulsing, then p + 1)."""
    n_out, n_in = w.shape
    half = n_out * n_in
    n_bins = mids.shape[1] + 1
    q_idx, q_ij, q_up, dev, row, act, addr = iw[:, 0], iw[:, 1], iw[:, 2], iw[:, 3], iw[:, 4], iw[:, 5], iw[:, 6]
    q_amt, frac = fw[:, 0], fw[:, 1]
    x = xw  # the state dtype, so every pulse rounds as in the sampler
    q0, q1 = qw[0], qw[1]
    if mode == FRACTIONAL:  # one draw each
        for b in range(nq):
            k = q_idx[b]
            x[b] = g[k]
            d = inst[k]
            dev[b] = d
            dd = (1 - q_up[b]) * n_inst + d
            a_, f_, j = draw_address(x[b], d, dd * n_bins, counter_uniform(key, k, 0), g_lo, inv_h, mids, cdf,
                                     uniform_g, uniform_cdf)
            addr[b] = a_
            frac[b] = f_
            row[b] = dd * n_bins + j  # the mean-table index
            q_amt[b] = q_amt[b] / inst_step[dd]  # |Delta-G| -> fraction of the instance's mean step
        for b in range(nq):  # the gather: nothing but independent loads
            q0[b] = flat[addr[b]]
            q1[b] = flat[addr[b] + 1]
        for b in range(nq):
            q = q0[b] + frac[b] * (q1[b] - q0[b])
            mu = mean[row[b]]
            mb = q_amt[b]
            x[b] = settle(x[b] + mb * mu + math.sqrt(mb) * (q - mu), dev[b], g_lo, g_hi, n_levels)
    else:
        for b in range(nq):
            x[b] = g[q_idx[b]]
            dev[b] = inst[q_idx[b]]
        for b in range(nq):
            row[b] = ((1 - q_up[b]) * n_inst + dev[b]) * n_bins
            act[b] = b
        m = nq  # devices still pulsing: act[:m]
        p = 0
        while m > 0:
            for t in range(m):
                b = act[t]
                a_, f_, _ = draw_address(x[b], dev[b], row[b], counter_uniform(key, q_idx[b], p), g_lo, inv_h, mids,
                                         cdf, uniform_g, uniform_cdf)
                addr[t] = a_
                frac[t] = f_
            for t in range(m):
                q0[t] = flat[addr[t]]
            for t in range(m):
                q1[t] = flat[addr[t] + 1]
            m_next = 0
            for t in range(m):
                b = act[t]
                x[b] = settle(x[b] + q0[t] + frac[t] * (q1[t] - q0[t]), dev[b], g_lo, g_hi, n_levels)
                if q_amt[b] > p + 1:  # compacted in place (m_next <= t)
                    act[m_next] = b
                    m_next += 1
            m = m_next
            p += 1
    tot = 0.0
    wf = w.reshape(-1)
    for b in range(nq):
        tot += q_amt[b]
        ip = q_ij[b]
        _store(g, wf, delta, q_idx[b], ip, ip - (ip // n_in) * n_in, x[b], half, n_pairs, inv_gpw)
    return tot


@njit(cache=True)
def _flush(g, inst, w, delta, iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, tables):  # pragma: no cover
    """`_draw_queue` of the ``nq`` queued devices with the kernels' ``tables`` tuple; returns pulses."""
    flat, mean, inst_step, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf, n_levels = tables
    return _draw_queue(g, inst, w, delta, iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, flat, mean, inst_step, g_lo,
                       g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf, n_levels)


@njit(cache=True, inline="always")
def _push(g, inst, w, delta, iw, fw, xw, qw, nq, k, ip, up, n, mode, n_pairs, inv_gpw, key, tables):  # pragma: no cover
    """Queue device ``k`` (weight ``ip``, 1 if G rises, amount ``n`` from `_request`); a full block is drawn at
    once, while its entries are in cache. Returns (queued entries, pulses drawn)."""
    iw[nq, 0] = k
    iw[nq, 1] = ip
    iw[nq, 2] = up
    fw[nq, 0] = n
    nq += 1
    if nq < iw.shape[0]:
        return nq, 0.0
    return 0, _flush(g, inst, w, delta, iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, tables)


@njit(cache=True)
def _reduce_rows(row_g, delta):  # pragma: no cover
    """row_g += the chunks' row-sum changes (delta [chunks, in])."""
    for c in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            row_g[j] += delta[c, j]


@njit(cache=True, inline="always")
def _chunk(c, n_chunks, n):  # pragma: no cover
    return (c * n) // n_chunks, ((c + 1) * n) // n_chunks


@njit(cache=True)
def _fractional_rows(lo, hi, g, inst, w, delta, cols, n_cols, xs, d, scale, inv_gpw, n_pairs, gpw, g_min, g_max, key,
                     tables):  # pragma: no cover
    """`outer_chunk` for the ``FRACTIONAL`` rule, row by row: every weight of the row with x_j != 0 gets one
    draw, so there is nothing to queue. Per row: one loop of `_request`'s choice and the table address into
    contiguous temporaries, one of the table gathers, one of the settled conductances, one of the stores (the
    arithmetic of `_draw_queue`, the same numbers). Returns the summed fractions of a mean step."""
    flat, mean, inst_step, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf, n_levels = tables
    n_out, n_in = w.shape
    half = n_out * n_in
    n_bins = mids.shape[1] + 1
    wf = w.reshape(-1)
    t_k = np.empty(n_cols, np.int64)
    t_addr = np.empty(n_cols, np.int64)
    t_row = np.empty(n_cols, np.int64)
    t_dev = np.empty(n_cols, np.int64)
    t_f = np.empty(n_cols)
    t_m = np.empty(n_cols)
    t_x = np.empty(n_cols, g.dtype)
    q0 = np.empty(n_cols, flat.dtype)
    q1 = np.empty(n_cols, flat.dtype)
    tot = 0.0
    for i in range(lo, hi):
        di = d[i] * scale
        if di == 0.0:
            continue
        base = i * n_in
        for a in range(n_cols):
            ip = base + cols[a]
            amt, k, up = _request(g, ip, half + ip, di * xs[a], gpw, g_min, g_max, 1.0, 1.0, FRACTIONAL, 0.0)
            xk = g[k]
            dv = inst[k]
            dd = (1 - up) * n_inst + dv
            b, f, j = draw_address(xk, dv, dd * n_bins, counter_uniform(key, k, 0), g_lo, inv_h, mids, cdf, uniform_g,
                                   uniform_cdf)
            t_k[a] = k
            t_x[a] = xk
            t_dev[a] = dv
            t_addr[a] = b
            t_f[a] = f
            t_row[a] = dd * n_bins + j
            t_m[a] = amt / inst_step[dd]
        for a in range(n_cols):  # the gather: independent loads only
            q0[a] = flat[t_addr[a]]
            q1[a] = flat[t_addr[a] + 1]
        for a in range(n_cols):
            m = t_m[a]
            mu = mean[t_row[a]]
            q = q0[a] + t_f[a] * (q1[a] - q0[a])
            t_x[a] = settle(t_x[a] + m * mu + math.sqrt(m) * (q - mu), t_dev[a], g_lo, g_hi, n_levels) if m > 0.0 \
                else g[t_k[a]]
            tot += m
        for a in range(n_cols):
            _store(g, wf, delta, t_k[a], base + cols[a], cols[a], t_x[a], half, n_pairs, inv_gpw)
    return tot


@njit(cache=True)
def outer_chunk(c, n_chunks, g, inst, w, delta, iw, fw, xw, qw, cols, n_cols, xs, d, scale, inv_gpw, n_pairs, gpw, g_min,
                g_max, step_up, step_down, mode, key, tables):  # pragma: no cover
    """Rows of chunk ``c`` of Delta-W[i, j] = scale d[i] x[j] over the first ``n_cols`` non-zero inputs (``cols``,
    values ``xs``): queues the devices to program in blocks (workspaces ``iw``, ``fw``, ``xw``, ``qw``) and
    draws them; adds the row-sum changes to ``delta`` [in]; returns pulses. ``tables``: the tuple of
    `FusedTableUpdate`. Called by `outer_kernel` and by compiled training loops (`networks.mlp_compiled`)."""
    n_out, n_in = w.shape
    half = n_out * n_in
    key_round = key ^ _ROUND_SALT
    lo, hi = _chunk(c, n_chunks, n_out)
    if mode == FRACTIONAL:
        return _fractional_rows(lo, hi, g, inst, w, delta, cols, n_cols, xs, d, scale, inv_gpw, n_pairs, gpw, g_min,
                                g_max, key, tables)
    pulses = 0.0
    nq = 0
    s_min = min(step_up, step_down)
    u_row = np.empty(n_cols)
    for i in range(lo, hi):
        di = d[i] * scale
        if di == 0.0:
            continue
        if mode == STOCHASTIC:
            # rounding draws of the whole row in one branch-free (SIMD) loop; a weight whose draw rejects it
            # costs nothing more (most weights of an SGD step); accepted ones have u_row[a] >= 0
            base = i * n_in
            for a in range(n_cols):
                u = counter_uniform(key_round, base + cols[a], 0)
                u_row[a] = u if abs(di * xs[a]) * gpw >= s_min * u else -1.0  # _request's test
        for a in range(n_cols):
            u = 0.0
            if mode == STOCHASTIC:
                u = u_row[a]
                if u < 0.0:
                    continue
            ip = i * n_in + cols[a]
            n, k, up = _request(g, ip, half + ip, di * xs[a], gpw, g_min, g_max, step_up, step_down, mode, u)
            if n > 0:
                nq, p = _push(g, inst, w, delta, iw, fw, xw, qw, nq, k, ip, up, n, mode, n_pairs, inv_gpw, key, tables)
                pulses += p
    return pulses + _flush(g, inst, w, delta, iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, tables)


@njit(parallel=True, cache=True)
def outer_kernel(g, inst, w, row_g, iws, fws, xws, qws, cols, xs, d, scale, inv_gpw, n_pairs, gpw, g_min, g_max, step_up,
                 step_down, mode, key, n_chunks, tables):  # pragma: no cover
    """Delta-W[i, j] = scale d[i] x[j] for the non-zero inputs (``cols``, values ``xs``); returns pulses.
    Rows are split into ``n_chunks`` (one per thread); each chunk queues its devices, draws them and sums
    its row-sum changes apart (`outer_chunk`)."""
    pulses = np.zeros(n_chunks)
    delta = np.zeros((n_chunks, w.shape[1]))
    for c in prange(n_chunks):
        pulses[c] = outer_chunk(np.int64(c), n_chunks, g, inst, w, delta[c], iws[c], fws[c], xws[c], qws[c], cols, cols.size, xs,
                                d, scale, inv_gpw, n_pairs, gpw, g_min, g_max, step_up, step_down, mode, key, tables)
    _reduce_rows(row_g, delta)
    return pulses.sum()


@njit(parallel=True, cache=True)
def dense_kernel(g, inst, w, row_g, iws, fws, xws, qws, dwm, inv_gpw, n_pairs, gpw, g_min, g_max, step_up, step_down, mode, key,
                 n_chunks, tables):  # pragma: no cover
    """Delta-W given as a dense [out, in] matrix ``dwm`` (zeros skipped); returns pulses."""
    n_out, n_in = w.shape
    half = n_out * n_in
    key_round = key ^ _ROUND_SALT
    pulses = np.zeros(n_chunks)
    delta = np.zeros((n_chunks, n_in))
    for c in prange(n_chunks):
        c = np.int64(c)  # noqa: PLW2901 - one signature of the callees for the typing and the parfor pass
        lo, hi = _chunk(c, n_chunks, n_out)
        iw, fw, xw, qw = iws[c], fws[c], xws[c], qws[c]
        nq = 0
        for i in range(lo, hi):
            for j in range(n_in):
                dw = dwm[i, j]
                if dw == 0.0:
                    continue
                ip = i * n_in + j
                u = counter_uniform(key_round, ip, 0) if mode == STOCHASTIC else 0.0
                n, k, up = _request(g, ip, half + ip, dw, gpw, g_min, g_max, step_up, step_down, mode, u)
                if n > 0:
                    nq, p = _push(g, inst, w, delta[c], iw, fw, xw, qw, nq, k, ip, up, n, mode, n_pairs, inv_gpw, key,
                                  tables)
                    pulses[c] += p
        pulses[c] += _flush(g, inst, w, delta[c], iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, tables)
    _reduce_rows(row_g, delta)
    return pulses.sum()


@njit(parallel=True, cache=True)
def carry_kernel(g, inst, w, row_g, iws, fws, xws, qws, pair_w_max, inv_gpw, gpws, threshold, n_pairs, g_min, g_max, step_up, step_down,
                 mode, key, n_chunks, tables):  # pragma: no cover
    """Periodic carry of `AnalogTile.carry` for every weight (from one snapshot of the pair weights, then
    programming of every pair, by deterministic pulses or ``FRACTIONAL`` requests); returns pulses."""
    n_out, n_in = w.shape
    half = n_out * n_in
    pulses = np.zeros(n_chunks)
    delta = np.zeros((n_chunks, n_in))
    for c in prange(n_chunks):
        c = np.int64(c)  # noqa: PLW2901 - one signature of the callees for the typing and the parfor pass
        lo, hi = _chunk(c, n_chunks, n_out)
        iw, fw, xw, qw = iws[c], fws[c], xws[c], qws[c]
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
                    n, m, up = _request(g, o, o + half, dw[k], gpws[k], g_min, g_max, step_up, step_down, mode, 0.0)
                    if n > 0:
                        nq, p = _push(g, inst, w, delta[c], iw, fw, xw, qw, nq, m, ip, up, n, mode, n_pairs, inv_gpw,
                                      key, tables)
                        pulses[c] += p
        pulses[c] += _flush(g, inst, w, delta[c], iw, fw, xw, qw, nq, mode, n_pairs, inv_gpw, key, tables)
    _reduce_rows(row_g, delta)
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
        self._tables = (a["flat"], a["mean"], a["inst_step"], a["g_lo"], a["g_hi"], a["inv_h"], a["mids"], a["cdf"],
                        s.D, s.uniform_g, s.uniform_cdf, s.n_levels)
        self.energy_per_pulse_j = float(device.config.energy_per_pulse_j)
        self.g_min, self.g_max, self.step_up, self.step_down = float(g_min), float(g_max), float(step_up), float(step_down)
        self.gpws = pair_g_per_weight.to(torch.float64).numpy().copy()
        self.inv_gpw = 1.0 / self.gpws
        self.pair_w_max = pair_w_max.to(torch.float64).numpy().copy()
        self._gpw0 = float(self.gpws[0])
        self._ws_key: tuple | None = None
        self._ws: tuple[np.ndarray, ...] = ()

    def _workspace(self, g: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
        """Queue workspaces per thread chunk, allocated once (fresh per-call allocations page-fault on every
        call): int64 [chunks, cap, 8], float64 [chunks, cap, 2], state dtype [chunks, cap], table dtype
        [chunks, 2, cap], cap = the most weights a chunk can queue (every pair of its rows)."""
        chunks = numba.get_num_threads()
        cap = min(_BLOCK, -(-shape[0] // chunks) * shape[1] * len(self.gpws))
        key = (chunks, cap, g.dtype, self._tables[0].dtype)
        if self._ws_key != key:
            # entry-major (one queue entry's fields share a cache line; field-major rows a megabyte apart made
            # the scan's stores several times slower)
            self._ws = (np.empty((chunks, cap, 8), dtype=np.int64), np.empty((chunks, cap, 2)),
                        np.empty((chunks, cap), dtype=g.dtype), np.empty((chunks, 2, cap), dtype=self._tables[0].dtype))
            self._ws_key = key
        return self._ws

    @staticmethod
    def _key(generator: torch.Generator | None) -> np.uint64:
        """One 64-bit stream key per call, from ``generator``."""
        return draw_key(generator)

    @staticmethod
    def _flat(state) -> tuple[np.ndarray, np.ndarray]:
        g, inst = state["g"], state["instance"]
        if not (g.is_contiguous() and inst.is_contiguous()):
            raise ValueError("fused update needs contiguous state tensors")
        return g.view(-1).numpy(), inst.view(-1).numpy()

    def outer(self, state, w: torch.Tensor, row_g: torch.Tensor, x: torch.Tensor, d: torch.Tensor, scale: float,
              mode: int, generator: torch.Generator | None) -> tuple[float, float]:
        """Delta-W = scale d x^T (x [in], d [out], CPU) under rule ``mode``; returns (pulses, energy [J])."""
        g, inst = self._flat(state)
        xn = _vector(x)
        cols = np.flatnonzero(xn)
        n = outer_kernel(g, inst, w.numpy(), row_g.numpy(), *self._workspace(g, w.shape), cols, xn[cols], _vector(d), float(scale), self.inv_gpw,
                         len(self.gpws), self._gpw0, self.g_min, self.g_max, self.step_up, self.step_down,
                         int(mode), self._key(generator), numba.get_num_threads(), self._tables)
        return float(n), n * self.energy_per_pulse_j

    def layer_args(self, state, w: torch.Tensor, row_g: torch.Tensor) -> tuple:
        """The arguments of `outer_chunk` that describe one tile, as a tuple for compiled training loops:
        (g, inst, w, row_g, iws, fws, xws, qws, inv_gpw, n_pairs, gpw, g_min, g_max, step_up, step_down)."""
        g, inst = self._flat(state)
        return (g, inst, w.numpy(), row_g.numpy(), *self._workspace(g, w.shape), self.inv_gpw, len(self.gpws),
                self._gpw0, self.g_min, self.g_max, self.step_up, self.step_down)

    @property
    def tables(self) -> tuple:
        """The table tuple every kernel takes (the device's CPU sampler arrays and flags)."""
        return self._tables

    def dense(self, state, w: torch.Tensor, row_g: torch.Tensor, delta_w: torch.Tensor, mode: int,
              generator: torch.Generator | None) -> tuple[float, float]:
        """Delta-W as a dense [out, in] matrix; returns (pulses, energy [J])."""
        g, inst = self._flat(state)
        dwm = delta_w.detach().to(torch.float64).contiguous().numpy()
        n = dense_kernel(g, inst, w.numpy(), row_g.numpy(), *self._workspace(g, w.shape), dwm, self.inv_gpw, len(self.gpws), float(self.gpws[0]),
                         self.g_min, self.g_max, self.step_up, self.step_down, int(mode), self._key(generator),
                         numba.get_num_threads(), self._tables)
        return float(n), n * self.energy_per_pulse_j

    def carry(self, state, w: torch.Tensor, row_g: torch.Tensor, threshold: float, mode: int,
              generator: torch.Generator | None) -> tuple[float, float]:
        """Periodic carry over every weight; returns (pulses, energy [J])."""
        g, inst = self._flat(state)
        n = carry_kernel(g, inst, w.numpy(), row_g.numpy(), *self._workspace(g, w.shape), self.pair_w_max, self.inv_gpw, self.gpws, float(threshold),
                         len(self.gpws), self.g_min, self.g_max, self.step_up, self.step_down, int(mode),
                         self._key(generator),
                         numba.get_num_threads(), self._tables)
        return float(n), n * self.energy_per_pulse_j


__all__ = ["FusedTableUpdate"]
