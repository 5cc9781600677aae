"""Vectorised sampling of a lookup table for any number of devices: `TableSampler` (numba kernel on CPU,
torch gathers on any device).

Sampling: nearest conductance bin (as CrossSim), a uniform draw u ~ U(0, 1) and linear interpolation of
the inverse CDF between the two neighbouring CDF points, so a drawn Delta-G follows the piecewise-linear
quantile function exactly; after every pulse G is clamped to the instance's [g_bins[d, 0], g_bins[d, -1]].
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from ...config import ConfigError, check_choice
from ...rng import draw_key
from ...rng._kernels import GOLDEN, mix64
from .table import LookupTable, _column_means

_STEP = np.uint64(0xD1B54A32D192ED03)


@njit(cache=True)
def counter_uniform(key, i, p):  # pragma: no cover - compiled
    """U(0, 1) for device ``i``, pulse ``p`` of a call with ``key``: splitmix64 of a Weyl sequence
    (counter-based, so a device's draws depend only on the key and its flat index)."""
    z = mix64(key + np.uint64(i) * GOLDEN + np.uint64(p + 1) * _STEP)
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def draw_address(x, d, row, u, g_lo, inv_h, mids, cdf, uniform_g, uniform_cdf):  # pragma: no cover
    """Where a draw from conductance ``x`` of a device of instance ``d`` reads the flat bin-major table: the
    device's (direction, instance) slab starts at bin ``row``; nearest bin j, uniform ``u`` mapped to the
    lower CDF neighbour k0 and fraction f. Returns (flat index of q[j, k0], f, j)."""
    n_cdf = cdf.shape[0]
    n_bins = mids.shape[1] + 1
    if uniform_g:
        j = int(math.floor((x - g_lo[d]) * inv_h[d] + 0.5))
    else:
        j = np.searchsorted(mids[d], x)
    if j < 0:
        j = 0
    elif j > n_bins - 1:
        j = n_bins - 1
    if uniform_cdf:
        t = u * (n_cdf - 1)
        k0 = int(t)
        if k0 > n_cdf - 2:
            k0 = n_cdf - 2
        f = t - k0
    else:
        k0 = np.searchsorted(cdf, u, side="right") - 1
        if k0 < 0:
            k0 = 0
        elif k0 > n_cdf - 2:
            k0 = n_cdf - 2
        f = (u - cdf[k0]) / (cdf[k0 + 1] - cdf[k0])
    return (row + j) * n_cdf + k0, f, j


@njit(cache=True, inline="always")
def settle(x, d, g_lo, g_hi, n_levels):  # pragma: no cover
    """Clamp ``x`` to instance ``d``'s range and, with ``n_levels`` >= 2, snap it to the nearest of that many
    evenly spaced levels (a notched track's discrete positions; 0 = continuous)."""
    lo = g_lo[d]
    hi = g_hi[d]
    if x < lo:
        x = lo
    elif x > hi:
        x = hi
    if n_levels >= 2:
        span = (hi - lo) / (n_levels - 1)
        x = lo + np.rint((x - lo) / span) * span
    return x


@njit(cache=True, inline="always")
def pulse_draw(x, d, row, u, flat, g_lo, g_hi, inv_h, mids, cdf, uniform_g, uniform_cdf, n_levels):  # pragma: no cover
    """Conductance after one pulse from ``x`` with uniform draw ``u`` (`draw_address`, interpolated inverse
    CDF, `settle`): the one per-pulse rule of every compiled table kernel."""
    b, f, _ = draw_address(x, d, row, u, g_lo, inv_h, mids, cdf, uniform_g, uniform_cdf)
    q0 = flat[b]
    return settle(x + q0 + f * (flat[b + 1] - q0), d, g_lo, g_hi, n_levels)


@njit(cache=True)
def _step_kernel(g, inst, n, flat, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf, n_levels,
                 key):  # pragma: no cover
    """In place: g[i] after n[i] (signed) pulses, sampling the flat bin-major (2, D, M, K) table.

    Pulse-major loops (pulse p for every device still pulsing, then p + 1) keep the table reads of different
    devices independent, so their cache misses overlap; see `TableSampler.step`.
    """
    n_bins = mids.shape[1] + 1
    active = np.flatnonzero(n)
    if active.size == 0:
        return
    counts = np.abs(n[active])
    rows = np.empty(active.size, dtype=np.int64)
    for a in range(active.size):
        i = active[a]
        rows[a] = ((1 if n[i] < 0 else 0) * n_inst + inst[i]) * n_bins
    for p in range(counts.max()):
        for a in range(active.size):
            if counts[a] <= p:
                continue
            i = active[a]
            g[i] = pulse_draw(g[i], inst[i], rows[a], counter_uniform(key, i, p), flat, g_lo, g_hi, inv_h, mids, cdf,
                              uniform_g, uniform_cdf, n_levels)


@njit(cache=True)
def _scaled_kernel(g, inst, dg, flat, mean, inst_step, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g,
                   uniform_cdf, n_levels, key):  # pragma: no cover
    """In place: g[i] after a requested change dg[i] [S] (`TableSampler.scaled_step`)."""
    n_bins = mids.shape[1] + 1
    for i in range(g.size):
        if dg[i] == 0.0:
            continue
        dec = 1 if dg[i] < 0 else 0
        d = inst[i]
        row = (dec * n_inst + d) * n_bins
        g[i] = scaled_draw(g[i], d, row, abs(dg[i]) / inst_step[dec * n_inst + d], counter_uniform(key, i, 0), flat,
                           mean, g_lo, g_hi, inv_h, mids, cdf, uniform_g, uniform_cdf, n_levels)


@njit(cache=True, inline="always")
def scaled_draw(x, d, row, m, u, flat, mean, g_lo, g_hi, inv_h, mids, cdf, uniform_g, uniform_cdf,
                n_levels):  # pragma: no cover
    """Conductance after a fractional update of ``m`` >= 0 of the instance's mean steps (CrossSim's
    lookup-table rule): Delta-G = m mu(G) + sqrt(m) (q(G, u) - mu(G)), mu the table's mean at G's bin and q the
    drawn quantile, so mean and variance scale with m as for m independent pulses; then `settle`."""
    b, f, j = draw_address(x, d, row, u, g_lo, inv_h, mids, cdf, uniform_g, uniform_cdf)
    q0 = flat[b]
    q = q0 + f * (flat[b + 1] - q0)
    mu = mean[row + j]
    return settle(x + m * mu + math.sqrt(m) * (q - mu), d, g_lo, g_hi, n_levels)


class TableSampler:
    """A table moved to a torch device, flattened (direction, instance, bin, CDF point) for gather-based
    sampling of any number of devices.

    Columns are sorted along the CDF axis (`LookupTable.monotone`), so the interpolated inverse CDF is
    monotone. Bin lookup is arithmetic when every instance has a uniform grid (the usual case; relative
    tolerance 1e-3 of the bin width, as CrossSim), else a searchsorted on the instance's row.
    """

    def __init__(self, table: LookupTable, *, device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float32, n_levels: int = 0) -> None:
        t = table.monotone()
        self.table = table
        self.n_levels = int(n_levels)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self.D, self.K, self.M = t.n_instances, t.n_cdf, t.n_bins
        # bin-major (direction, instance, bin, CDF point): the two CDF neighbours share a cache line
        flat = np.ascontiguousarray(np.stack([t.dg_increasing, t.dg_decreasing]).transpose(0, 1, 3, 2)).reshape(-1)
        self.flat = torch.as_tensor(flat, dtype=dtype, device=self.device)
        g = t.g_bins.astype(np.float64)
        self.g_lo = torch.as_tensor(g[:, 0], dtype=dtype, device=self.device)
        self.g_hi = torch.as_tensor(g[:, -1], dtype=dtype, device=self.device)
        steps = np.diff(g, axis=1)
        h = steps.mean(axis=1)
        self.uniform_g = bool((np.abs(steps - h[:, None]) <= 1e-3 * h[:, None]).all())
        self.inv_h = torch.as_tensor(1.0 / h, dtype=dtype, device=self.device)
        # non-uniform grids: one globally increasing key per (instance, bin) for a single searchsorted
        span = float(g.max() - g.min()) or 1.0
        self._g0 = float(g.min())
        self._span = span
        keys = (g - self._g0) / span + 4.0 * np.arange(self.D)[:, None]
        mids = 0.5 * (keys[:, 1:] + keys[:, :-1])  # bin edges between centres
        self.mid_keys = torch.as_tensor(mids.reshape(-1), dtype=torch.float64, device=self.device)
        c = t.cdf.astype(np.float64)
        # mean Delta-G of every (direction, instance, bin), same row layout as the flat table, and the mean step
        # magnitude of every (direction, instance) over its bins (the unit of the fractional "scaled" update)
        mean = np.stack([np.stack([_column_means(q[d], c) for d in range(self.D)])
                         for q in (t.dg_increasing, t.dg_decreasing)])  # (2, D, M)
        self.mean = torch.as_tensor(mean.reshape(-1), dtype=dtype, device=self.device)
        self.inst_step = torch.as_tensor(np.abs(mean.mean(axis=2)).reshape(-1), dtype=torch.float64, device=self.device)
        self.uniform_cdf = bool(np.abs(np.diff(c) - 1.0 / (self.K - 1)).max() <= 1e-4 / (self.K - 1))
        self.cdf = torch.as_tensor(c, dtype=dtype, device=self.device)
        # numpy views for the compiled CPU kernel
        npdt = np.float32 if dtype == torch.float32 else np.float64
        self._np = None
        if self.device.type == "cpu":
            self._np = dict(flat=self.flat.numpy(), g_lo=self.g_lo.numpy(), g_hi=self.g_hi.numpy(),
                            inv_h=self.inv_h.numpy(), mids=np.ascontiguousarray(0.5 * (g[:, 1:] + g[:, :-1]), dtype=npdt),
                            cdf=np.ascontiguousarray(c, dtype=npdt), mean=self.mean.numpy(),
                            inst_step=self.inst_step.numpy())

    def settle_tensor(self, g: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """Clamp to [lo, hi] and snap to ``n_levels`` levels (as the compiled `settle`)."""
        g = torch.minimum(torch.maximum(g, lo), hi)
        if self.n_levels >= 2:
            span = (hi - lo) / (self.n_levels - 1)
            g = lo + torch.round((g - lo) / span) * span
        return g

    def scaled_step(self, g: torch.Tensor, instance: torch.Tensor, delta_g: torch.Tensor,
                    generator: torch.Generator | None = None, backend: str = "auto") -> torch.Tensor:
        """Conductance after a requested change ``delta_g`` [S] (signed: + potentiates), one table draw per
        device with a non-zero request (CrossSim's lookup-table rule, `scaled_draw`): m = |delta_g| / mean
        step of the device's instance and direction (``inst_step``), Delta-G = m mu(G) + sqrt(m) (q(G, u) -
        mu(G)); so E[Delta-G] = delta_g wherever the table's mean is flat. Returns a new tensor in the
        sampler's dtype. The two backends draw different samples."""
        check_choice("backend", backend, ("auto", "numba", "torch"))
        shape = g.shape
        n = torch.as_tensor(delta_g, device=g.device).to(torch.float64).expand(shape).reshape(-1).contiguous()
        inst = instance.to(torch.int64).expand(shape).reshape(-1).contiguous()
        out = g.detach().to(self.dtype).reshape(-1).clone()
        if backend == "numba" or (backend == "auto" and self._np is not None and g.device.type == "cpu"):
            if self._np is None or g.device.type != "cpu":
                raise ConfigError("backend 'numba' needs CPU tensors and a CPU sampler")
            a = self._np
            key = draw_key(generator)
            _scaled_kernel(out.numpy(), inst.numpy(), n.numpy(), a["flat"], a["mean"], a["inst_step"], a["g_lo"],
                           a["g_hi"], a["inv_h"], a["mids"], a["cdf"], self.D, self.uniform_g, self.uniform_cdf,
                           self.n_levels, key)
            return out.reshape(shape)
        active = n.nonzero().squeeze(1)
        if active.numel():
            na = n.index_select(0, active)
            ins = inst.index_select(0, active)
            dec = na < 0
            lo, hi, inv_h, row = self._per_device(ins, dec)
            ga = out.index_select(0, active)
            u = torch.rand(ga.shape, generator=generator, dtype=self.dtype, device=g.device)
            q = self._draw(ga, ins, lo, inv_h, row, u)
            j = self.bin_index(ga, ins)
            mu = self.mean.index_select(0, row + j)
            m = (na.abs() / self.inst_step.index_select(0, dec.to(torch.int64) * self.D + ins)).to(self.dtype)
            out.index_copy_(0, active, self.settle_tensor(ga + m * mu + m.sqrt() * (q - mu), lo, hi))
        return out.reshape(shape)

    def bin_index(self, g: torch.Tensor, instance: torch.Tensor) -> torch.Tensor:
        """Nearest bin j (int64) of conductance ``g`` [S] in ``instance``'s grid (clamped to [0, M-1])."""
        inst = instance.reshape(-1)
        if self.uniform_g:
            t = (g.reshape(-1) - self.g_lo.index_select(0, inst)) * self.inv_h.index_select(0, inst)
            return t.round_().clamp_(0, self.M - 1).to(torch.int64).reshape(g.shape)
        return self._bin_index_sorted(g.reshape(-1), inst).reshape(g.shape)

    def _bin_index_sorted(self, g: torch.Tensor, inst: torch.Tensor) -> torch.Tensor:
        key = (g.to(torch.float64) - self._g0) / self._span + 4.0 * inst.to(torch.float64)
        pos = torch.searchsorted(self.mid_keys, key)
        return (pos - inst * (self.M - 1)).clamp_(0, self.M - 1)

    def _per_device(self, inst: torch.Tensor, decreasing: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per-device constants of repeated draws (1-D inputs): clamp floor/ceiling, 1/bin width, and the
        row (in bins) of the device's (direction, instance) slab of the flat table."""
        row = (decreasing.to(torch.int64) * self.D + inst) * self.M
        return (self.g_lo.index_select(0, inst), self.g_hi.index_select(0, inst), self.inv_h.index_select(0, inst), row)

    def _draw(self, g: torch.Tensor, inst: torch.Tensor, lo: torch.Tensor, inv_h: torch.Tensor, row: torch.Tensor,
              u: torch.Tensor) -> torch.Tensor:
        """Delta-G for 1-D ``g`` given the per-device constants and uniform draws ``u``."""
        if self.uniform_g:
            j = ((g - lo) * inv_h).round_().clamp_(0, self.M - 1).to(torch.int64)
        else:
            j = self._bin_index_sorted(g, inst)
        if self.uniform_cdf:
            t = u * (self.K - 1)
            k0 = t.floor().clamp_(max=self.K - 2)
            frac = t.sub_(k0)
            k0 = k0.to(torch.int64)
        else:
            k0 = (torch.searchsorted(self.cdf, u.contiguous(), right=True) - 1).clamp_(0, self.K - 2)
            c0 = self.cdf.index_select(0, k0)
            frac = (u - c0) / (self.cdf.index_select(0, k0 + 1) - c0)
        base = j.add_(row).mul_(self.K).add_(k0)
        q0 = self.flat.index_select(0, base)
        q1 = self.flat.index_select(0, base.add_(1))
        return torch.lerp(q0, q1, frac.to(q0.dtype))

    def sample(self, g: torch.Tensor, instance: torch.Tensor, decreasing: torch.Tensor | bool,
               generator: torch.Generator | None = None, u: torch.Tensor | None = None) -> torch.Tensor:
        """One Delta-G [S] per element (no clamping): nearest bin, uniform draw ``u`` (drawn here unless
        given), linear interpolation between the two neighbouring CDF points. ``decreasing`` (bool, scalar or
        per element) selects the depressing table."""
        shape = g.shape
        gf = g.reshape(-1).to(self.dtype)
        inst = instance.expand(shape).reshape(-1)
        dec = torch.as_tensor(decreasing, device=g.device).expand(shape).reshape(-1)
        lo, _, inv_h, row = self._per_device(inst, dec)
        if u is None:
            u = torch.rand(gf.shape, generator=generator, dtype=self.dtype, device=g.device)
        return self._draw(gf, inst, lo, inv_h, row, u.reshape(-1).to(self.dtype)).reshape(shape)

    def step(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor,
             generator: torch.Generator | None = None, backend: str = "auto") -> torch.Tensor:
        """Conductance after ``n_pulses`` (signed int: + potentiate, - depress) consecutive pulses per device.

        Each pulse samples Delta-G at the current G and clamps to the instance's [g_min, g_max]; devices with
        a zero count are untouched. Returns a new tensor of ``g``'s shape and the sampler's dtype.

        Backends: "numba" (CPU tensors; a compiled loop over devices whose uniforms come from a counter-based
        splitmix64 stream keyed by one draw from ``generator``), "torch" (any device: only devices with a
        non-zero count are gathered, sorted by |count| once, so pulse p acts on a prefix of that order),
        "auto" = numba on CPU, torch elsewhere. The two backends draw different (equally distributed) samples.
        """
        check_choice("backend", backend, ("auto", "numba", "torch"))
        if backend == "numba" or (backend == "auto" and self._np is not None and g.device.type == "cpu"):
            if self._np is None or g.device.type != "cpu":
                raise ConfigError("backend 'numba' needs CPU tensors and a CPU sampler")
            return self._step_numba(g, instance, n_pulses, generator)
        return self._step_torch(g, instance, n_pulses, generator)

    def _step_numba(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor,
                    generator: torch.Generator | None) -> torch.Tensor:
        shape = g.shape
        out = g.detach().to(self.dtype).reshape(-1).clone()
        n = torch.as_tensor(n_pulses).to(torch.int64).expand(shape).reshape(-1).contiguous()
        inst = instance.to(torch.int64).expand(shape).reshape(-1).contiguous()
        key = draw_key(generator)
        a = self._np
        _step_kernel(out.numpy(), inst.numpy(), n.numpy(), a["flat"], a["g_lo"], a["g_hi"], a["inv_h"], a["mids"],
                     a["cdf"], self.D, self.uniform_g, self.uniform_cdf, self.n_levels, key)
        return out.reshape(shape)

    def _step_torch(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor,
                    generator: torch.Generator | None) -> torch.Tensor:
        shape = g.shape
        gf = g.reshape(-1)
        nf = torch.as_tensor(n_pulses, device=g.device).to(torch.int64).expand(shape).reshape(-1)
        inst = instance.expand(shape).reshape(-1)
        active = nf.nonzero().squeeze(1)
        out = gf.to(self.dtype).clone()
        if active.numel() == 0:
            return out.reshape(shape)
        n_act = nf.index_select(0, active)
        counts = n_act.abs()
        n_max = int(counts.max())
        if n_max > 1:
            order = torch.argsort(counts, descending=True, stable=True)
            active, n_act, counts = active[order], n_act[order], counts[order]
            # devices still pulsing at pulse p: #(counts > p), a prefix of the descending order
            n_left = (counts.numel() - torch.bincount(counts, minlength=n_max + 1).cumsum(0)[:n_max]).tolist()
        else:
            n_left = [active.numel()]
        gs = gf.index_select(0, active).to(self.dtype)
        ins = inst.index_select(0, active)
        lo, hi, inv_h, row = self._per_device(ins, n_act < 0)
        for p in range(n_max):
            c = n_left[p]
            u = torch.rand(c, generator=generator, dtype=self.dtype, device=g.device)
            sub = gs[:c]
            new = self._draw(sub, ins[:c], lo[:c], inv_h[:c], row[:c], u).add_(sub)
            gs[:c] = self.settle_tensor(new, lo[:c], hi[:c])
        out.index_copy_(0, active, gs.to(out.dtype))
        return out.reshape(shape)
