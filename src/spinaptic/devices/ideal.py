"""The ideal synapse: a float conductance that moves by a fixed step per pulse, no noise, no energy.

The reference every physical device is compared against; networks accept it like any other device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ConfigError, check_positive
from .base import Device, Pulses, register_device


@dataclass(frozen=True)
class IdealConfig:
    """Attributes:
    g_min_s, g_max_s: conductance range [S] (0 <= g_min < g_max).
    step_s: conductance change per nominal pulse [S] (> 0); aihwkit's ``dw_min``.

    Variation knobs: none (the noise-free reference). Cycle-to-cycle write noise: wrap it with
    `devices.write_noise.with_write_noise`.
    """

    g_min_s: float = 0.0
    g_max_s: float = 1e-4
    step_s: float = 1e-6

    def __post_init__(self) -> None:
        if not 0 <= self.g_min_s < self.g_max_s:
            raise ConfigError(f"need 0 <= g_min_s < g_max_s [S], got {self.g_min_s!r}, {self.g_max_s!r}")
        check_positive("step_s", self.step_s, unit="S")


@register_device("ideal")
class IdealSynapse(Device):
    """State: conductance [S]. ``apply`` moves it by sign(amplitude) * count * step, clipped to the range."""

    config: IdealConfig
    is_synapse = True

    @classmethod
    def config_class(cls) -> type:
        return IdealConfig

    def init_state(self, shape, *, generator=None, device=None) -> torch.Tensor:
        return torch.full(shape, self.config.g_min_s, dtype=torch.float64, device=device)

    def conductance(self, state: torch.Tensor) -> torch.Tensor:
        return state

    def apply(self, state: torch.Tensor, pulses: Pulses, *, generator=None):
        c = self.config
        dg = pulses.amplitude_like(state).sign() * pulses.count_like(state).to(state.dtype) * c.step_s
        return (state + dg).clamp(c.g_min_s, c.g_max_s), torch.zeros_like(state)

    def nominal_pulses(self, direction) -> Pulses:
        d = torch.as_tensor(direction)
        return Pulses(amplitude=d.sign().to(torch.float64), count=(d != 0).to(torch.int64))

    def conductance_range(self) -> tuple[float, float]:
        return (self.config.g_min_s, self.config.g_max_s)

    def mean_step(self, direction: int) -> float:
        """``step_s`` in both directions (exact: no noise, no clipping at mid-range)."""
        return float(self.config.step_s)

    def mid_range_state(self, shape, *, generator=None) -> torch.Tensor:
        c = self.config
        return torch.full(tuple(shape), 0.5 * (c.g_min_s + c.g_max_s), dtype=torch.float64)
