"""Generic cycle-to-cycle write noise for any synapse device (aihwkit's ``dw_min_std`` convention).

`with_write_noise(device, std)` wraps a synapse device: every programmed update of n nominal pulses in
direction d gets an extra Gaussian conductance change of sigma ``std * mean_step(d) * sqrt(n)`` (each pulse
independently ``std`` times the device's smallest nominal update), drawn only from the generator passed to
the call, and the resulting conductance is clipped to the device's `conductance_range`.

A physical state (magnet bits, a wall position) cannot hold an arbitrary conductance offset, so the wrapper
keeps the accumulated noise as a separate per-device offset: its state is the inner device's state plus an
entry ``write_noise_dg`` [S] (a tensor inner state is stored under ``inner``), and its conductance is the
inner conductance plus that offset. The inner device's own dynamics (e.g. a lookup table's G-dependent
steps) see the inner conductance. With ``std = 0`` the wrapper draws nothing and reads exactly like the
inner device. The wrapper is not registered under a name (it needs an inner device instance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..config import ConfigError, check_nonnegative
from .base import Device, DeviceState, Pulses, State, _counts_tensor

_DG = "write_noise_dg"
_INNER = "inner"


@dataclass(frozen=True)
class WriteNoiseConfig:
    """Attributes:
    write_std: relative sigma of the Gaussian write noise per nominal pulse, in units of the inner device's
        `mean_step` (aihwkit's ``dw_min_std``; >= 0; a cycle-to-cycle knob).
    """

    write_std: float = 0.0

    def __post_init__(self) -> None:
        check_nonnegative("write_std", self.write_std, unit="(relative to mean_step)")


class WriteNoise(Device):
    """A synapse device with Gaussian cycle-to-cycle write noise added to every programmed update."""

    name = "write-noise"
    is_synapse = True
    config: WriteNoiseConfig

    def __init__(self, inner: Device, config: WriteNoiseConfig | None = None, **overrides: Any) -> None:
        if not isinstance(inner, Device) or not inner.is_synapse:
            raise ConfigError(f"with_write_noise needs a synapse device (is_synapse), got {type(inner).__name__}")
        super().__init__(config, **overrides)
        self.inner = inner

    @classmethod
    def config_class(cls) -> type:
        return WriteNoiseConfig

    # state ---------------------------------------------------------------------------------------------
    def _split(self, state: DeviceState) -> tuple[State, torch.Tensor]:
        inner = state[_INNER] if _INNER in state else DeviceState({k: v for k, v in state.items() if k != _DG})
        return inner, state[_DG]

    def _join(self, inner: State, dg: torch.Tensor) -> DeviceState:
        out = DeviceState({_INNER: inner}) if isinstance(inner, torch.Tensor) else DeviceState(inner)
        out[_DG] = dg
        return out

    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        inner = self.inner.init_state(shape, generator=generator, device=device)
        g = self.inner.conductance(inner)
        return self._join(inner, torch.zeros_like(g))

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        inner = self.inner.mid_range_state(shape, generator=generator)
        return self._join(inner, torch.zeros_like(self.inner.conductance(inner)))

    def conductance(self, state: DeviceState) -> torch.Tensor:
        inner, dg = self._split(state)
        return self.inner.conductance(inner) + dg

    # programming ---------------------------------------------------------------------------------------
    def _noisy(self, inner_new: State, dg: torch.Tensor, n: torch.Tensor, sigma: torch.Tensor | float,
               generator) -> DeviceState:
        std = self.config.write_std
        if std == 0 or not bool((n > 0).any()):
            return self._join(inner_new, dg)
        g = self.inner.conductance(inner_new)
        noise = torch.randn(g.shape, generator=generator, dtype=g.dtype, device=g.device)
        total = g + dg + noise * (std * sigma * n.to(g.dtype).sqrt())
        lo, hi = self.inner.conductance_range()
        total = torch.minimum(torch.maximum(total, torch.clamp(g, max=lo)), torch.clamp(g, min=hi))
        return self._join(inner_new, torch.where(n > 0, total - g, dg))

    def program_counts(self, state: DeviceState, counts: torch.Tensor, *, generator=None):
        c = _counts_tensor(counts)
        inner, dg = self._split(state)
        new, energy = self.inner.program_counts(inner, c, generator=generator)
        up, down = (torch.tensor(self.inner.mean_step(d), dtype=dg.dtype, device=dg.device) for d in (1, -1))
        sigma = torch.where(c.to(dg.device) > 0, up, down)
        return self._noisy(new, dg, c.abs().expand(dg.shape), sigma, generator), energy

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None):
        """The inner device's `apply`, with write noise of sigma ``write_std`` times the mean of the two
        mean steps per pulse (the polarity convention of a raw `Pulses` is the inner device's own)."""
        inner, dg = self._split(state)
        new, energy = self.inner.apply(inner, pulses, generator=generator)
        n = pulses.count_like(dg)
        sigma = 0.5 * (self.inner.mean_step(1) + self.inner.mean_step(-1))
        return self._noisy(new, dg, n, sigma, generator), energy

    # delegated -----------------------------------------------------------------------------------------
    def nominal_pulses(self, direction) -> Pulses:
        return self.inner.nominal_pulses(direction)

    def conductance_range(self) -> tuple[float, float]:
        return self.inner.conductance_range()

    def mean_step(self, direction: int) -> float:
        """The inner device's (the noise has zero mean; it widens, not shifts, the updates)."""
        return self.inner.mean_step(direction)

    def levels(self) -> torch.Tensor | None:
        return self.inner.levels() if self.config.write_std == 0 else None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "inner": self.inner.describe()}


def with_write_noise(device: Device, std: float) -> WriteNoise:
    """``device`` with Gaussian cycle-to-cycle write noise of relative sigma ``std`` per nominal pulse (in units
    of ``device.mean_step``; aihwkit's ``dw_min_std``), clipped to the device's range."""
    if not (isinstance(std, (int, float)) and math.isfinite(std)):
        raise ConfigError(f"with_write_noise: std must be a finite number, got {std!r}")
    return WriteNoise(device, WriteNoiseConfig(write_std=float(std)))
