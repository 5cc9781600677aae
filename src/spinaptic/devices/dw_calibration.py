"""Behavioural "displacement per pulse" response of a domain-wall synapse, calibrated on its own 1D model.

Paper 001 (Sengupta et al. 2016, sec. III.3, V.2, Fig. 9c) models the synapse behaviourally: for a fixed pulse
width the wall displacement is proportional to the programming current (below velocity saturation). Integrating
the (q, phi) model for every pulse is exact but too slow for a network that programs hundreds of synapses per
spike, so `calibrate_displacement` tabulates the mean displacement [m] of one pulse against the current [A]
once (one vectorised `DWModel.run`), and `DisplacementTable` interpolates it. `DWSynapse` uses it when
``response="calibrated"``; `cached_displacement` calibrates once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..config import ConfigError, check_int, check_positive
from ..physics import domain_wall as dw

if TYPE_CHECKING:
    from .dw_synapse import DWSynapse


@dataclass(frozen=True)
class DisplacementTable:
    """Mean wall displacement of one pulse of ``width_s`` [s] against its current.

    Attributes:
        width_s: pulse width [s].
        currents_a: ascending current grid [A], symmetric, including 0.
        displacement_m: signed mean displacement [m] of one pulse of each grid current (> 0: towards +x).
    """

    width_s: float
    currents_a: tuple[float, ...]
    displacement_m: tuple[float, ...]

    def __call__(self, current_a: torch.Tensor) -> torch.Tensor:
        """Displacement [m] for ``current_a`` [A] (any shape; device and dtype of the input), linearly
        interpolated; currents beyond the grid give the end values."""
        return _interp(current_a, *self._forward)

    @cached_property
    def _forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.tensor(self.currents_a, dtype=torch.float64), torch.tensor(self.displacement_m, dtype=torch.float64))

    @cached_property
    def _inverse(self) -> tuple[torch.Tensor, torch.Tensor]:
        cur, disp = self.monotone_part()
        return torch.tensor(disp, dtype=torch.float64), torch.tensor(cur, dtype=torch.float64)

    def monotone_part(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(currents [A], displacements [m]) of the maximal run containing I = 0 where the displacement strictly
        increases with the current (the invertible part: it excludes plateaus such as a wall held at an end)."""
        d, k0 = self.displacement_m, self.currents_a.index(0.0)
        lo, hi = k0, k0
        while lo > 0 and d[lo - 1] < d[lo]:
            lo -= 1
        while hi < len(d) - 1 and d[hi + 1] > d[hi]:
            hi += 1
        if hi == lo:
            raise ConfigError("the displacement table does not increase with the current around 0 A; it cannot "
                              "be inverted")
        return self.currents_a[lo:hi + 1], d[lo:hi + 1]

    def current_for(self, displacement_m: torch.Tensor) -> torch.Tensor:
        """Current [A] whose pulse moves the wall by ``displacement_m`` [m]: inverse interpolation over
        `monotone_part`, clamped to its current range."""
        return _interp(displacement_m, *self._inverse)


def _interp(x: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear y(x) through (gx ascending, gy), clamped to the end values; torch, any shape."""
    x = torch.as_tensor(x)
    dtype = x.dtype if x.is_floating_point() else torch.float64
    x = x.to(dtype)
    if x.device.type == "cpu":  # one C call instead of a dozen small torch ops (the per-event cost of an SNN)
        return torch.from_numpy(np.asarray(np.interp(x.numpy(), gx.numpy(), gy.numpy()))).to(dtype).reshape(x.shape)
    gx, gy = gx.to(dtype=dtype, device=x.device), gy.to(dtype=dtype, device=x.device)
    xc = x.clamp(gx[0], gx[-1])
    k = (torch.searchsorted(gx, xc.contiguous(), right=True) - 1).clamp(0, gx.numel() - 2)
    x0, x1, y0, y1 = gx[k], gx[k + 1], gy[k], gy[k + 1]
    return y0 + (xc - x0) / (x1 - x0) * (y1 - y0)


def _start(device: DWSynapse, stretch: float) -> tuple[dw.DWModel, float, bool]:
    """(model to calibrate on, start position [m], whether the track was stretched): the middle notch of a notched track; on a
    uniform track (straight, no notches) the middle of a copy ``stretch`` times as long, so that the wall does
    not reach an end (from mid-track of the real track the end stops would cap the table at +-L/2, from ~30 uA
    on paper 001's track, while `DWSynapse.apply` needs the free displacement and clips to [0, L] itself)."""
    track, model = device.config.track, device.model
    if track.notch_positions_m:
        xs = sorted(track.notch_positions_m)
        return model, float(xs[len(xs) // 2]), False
    if track.is_tapered:
        return model, 0.5 * track.length_m, False
    long = track.with_(length_m=stretch * track.length_m)
    return dw.DWModel(long, dt_s=model.dt_s, table_spacing_m=model.spacing), 0.5 * long.length_m, True


def calibrate_displacement(device: DWSynapse, width_s: float, *, n_points: int = 33,
                           max_current_a: float | None = None, n_devices: int = 64,
                           seed: int = 20240610) -> DisplacementTable:
    """Tabulate the mean displacement [m] of one current pulse of ``width_s`` [s] on ``device``'s 1D model.

    Every current of the symmetric grid of ``n_points`` (odd) in [-max, +max] (default max = 2 |nominal
    amplitude| [A]) drives ``n_devices`` walls from the start of `_start` (mid-track) through one pulse and the
    device's relaxation, with its rise / fall, bias field, temperature and backend, all in one `DWModel.run`.
    ``n_devices`` matters only at T > 0 (one wall per current at 0 K); ``seed`` seeds the thermal field.
    Current-driven devices only (``nominal_kind == "current"``).
    """
    c = device.config
    if c.nominal_kind != "current":
        raise ConfigError(f"calibrated DW response needs nominal_kind 'current', got {c.nominal_kind!r}")
    check_positive("width_s (pulse width)", width_s, unit="s")
    check_int("n_points", n_points, 3)
    if n_points % 2 == 0:
        raise ConfigError(f"n_points must be odd (the grid includes 0 A), got {n_points}")
    check_int("n_devices", n_devices, 1)
    i_max = 2.0 * abs(c.nominal_amplitude) if max_current_a is None else float(max_current_a)
    check_positive("max_current_a", i_max, unit="A")
    pos = torch.linspace(0.0, i_max, n_points // 2 + 1, dtype=torch.float64)
    grid = torch.cat([-pos[1:].flip(0), pos])  # exactly antisymmetric, grid[n_points // 2] == 0
    n_dev = n_devices if c.temperature_k > 0 else 1
    cur = grid.repeat_interleave(n_dev)
    for stretch in (5.0, 25.0, 125.0):  # lengthen until no wall gets near an end (a uniform track only)
        model, q0, stretched = _start(device, stretch)
        n_on = model.steps(width_s)
        q, _, _ = model.run(torch.full_like(cur, q0), torch.full_like(cur, model.phi0), cur,
                            n_on + model.steps(c.relax_s), n_on=n_on, rise_steps=model.steps(c.rise_s),
                            fall_steps=model.steps(c.fall_s), temperature_k=c.temperature_k,
                            generator=torch.Generator().manual_seed(seed), backend=c.backend,
                            h_z=device.bias_field(cur))
        if not stretched or float((q - q0).abs().max()) < 0.25 * model.track.length_m:
            break
    disp = (q - q0).reshape(n_points, n_dev).mean(1)
    return DisplacementTable(float(width_s), tuple(grid.tolist()), tuple(disp.tolist()))


_CACHE: dict[tuple, DisplacementTable] = {}


def cached_displacement(device: DWSynapse, width_s: float) -> DisplacementTable:
    """`calibrate_displacement` with the defaults, run once per process for each (device class, config,
    width, grid size, max current)."""
    c = device.config
    key = (type(device), c, float(width_s), 33, 2.0 * abs(c.nominal_amplitude))
    if key not in _CACHE:
        _CACHE[key] = calibrate_displacement(device, float(width_s))
    return _CACHE[key]


__all__ = ["DisplacementTable", "cached_displacement", "calibrate_displacement"]
