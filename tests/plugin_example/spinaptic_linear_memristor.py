"""A linear ion-drift memristor: the example of a spinaptic device defined outside the repository.

Toy model after Strukov et al., Nature 453, 80 (2008): the doped fraction w in [0, 1] of the film drifts
with the charge through it, dw = k I t per pulse, and the read conductance is linear in w,
G = G_off + w (G_on - G_off). Each pulse's step has a cycle-to-cycle spread drawn from the caller's
generator. The programming energy is the Joule heat I^2 t / G at the conductance before the pulse.

Registered through the ``spinaptic.devices`` entry point of this package's pyproject.toml, it is then
``spinaptic.devices.make_device("linear-memristor")`` and appears in ``spinaptic list``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spinaptic.config import ConfigError, check_nonnegative, check_positive
from spinaptic.devices import Device, Pulses


@dataclass(frozen=True)
class LinearMemristorConfig:
    """Attributes:
    g_off_s, g_on_s: conductance of the undoped (w = 0) and fully doped (w = 1) film [S] (0 < off < on;
        100 kOhm and 1 kOhm).
    drift_per_coulomb: dw per charge through the device [1/C] (> 0): 1e8 makes a 100 uA x 1 us pulse
        move w by 0.01, i.e. about 100 levels.
    c2c_sigma: relative cycle-to-cycle sigma of one pulse's step (>= 0).
    nominal_current_a, nominal_width_s: the +/- pulse of `nominal_pulses` [A], [s] (> 0).
    """

    g_off_s: float = 1e-5
    g_on_s: float = 1e-3
    drift_per_coulomb: float = 1e8
    c2c_sigma: float = 0.05
    nominal_current_a: float = 100e-6
    nominal_width_s: float = 1e-6

    def __post_init__(self) -> None:
        check_positive("g_off_s", self.g_off_s, unit="S")
        if not self.g_on_s > self.g_off_s:
            raise ConfigError(f"need g_on_s > g_off_s [S], got {self.g_on_s!r} <= {self.g_off_s!r}")
        check_positive("drift_per_coulomb", self.drift_per_coulomb, unit="1/C")
        check_nonnegative("c2c_sigma", self.c2c_sigma, unit="(relative sigma)")
        check_positive("nominal_current_a", self.nominal_current_a, unit="A")
        check_positive("nominal_width_s", self.nominal_width_s, unit="s")


class LinearMemristor(Device):
    """Linear ion-drift memristor (Strukov 2008): G linear in the doped fraction w, dw = k I t per pulse."""

    config: LinearMemristorConfig
    is_synapse = True  # a network may program it as a weight (AnalogLinear, DeviceSGD)

    @classmethod
    def config_class(cls) -> type:
        return LinearMemristorConfig

    def init_state(self, shape, *, generator=None, device=None) -> torch.Tensor:
        """State: the doped fraction w of every device, 0 (the off state) when fresh."""
        return torch.zeros(tuple(shape), dtype=torch.float64, device=device)

    def conductance(self, state: torch.Tensor) -> torch.Tensor:
        c = self.config
        return c.g_off_s + state * (c.g_on_s - c.g_off_s)

    def apply(self, state: torch.Tensor, pulses: Pulses, *, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``count`` pulses of current ``amplitude`` [A]: the steps add, their spreads add in quadrature."""
        if pulses.kind != "current":
            raise ValueError("linear-memristor is driven by current pulses (Pulses.kind='current')")
        c = self.config
        i = pulses.amplitude_like(state)
        n = pulses.count_like(state).to(state.dtype)
        t = torch.as_tensor(pulses.width_s, dtype=state.dtype, device=state.device)
        step = c.drift_per_coulomb * i * t
        dw = step * n
        if c.c2c_sigma > 0:
            z = torch.randn(state.shape, generator=generator, dtype=state.dtype, device=state.device)
            dw = dw + c.c2c_sigma * step.abs() * n.sqrt() * z
        energy = i**2 * t * n / self.conductance(state)
        return (state + dw).clamp(0.0, 1.0), energy

    def nominal_pulses(self, direction) -> Pulses:
        c, d = self.config, torch.as_tensor(direction)
        return Pulses(amplitude=c.nominal_current_a * d.sign().to(torch.float64), width_s=c.nominal_width_s,
                      count=(d != 0).to(torch.int64))

    def conductance_range(self) -> tuple[float, float]:
        return (self.config.g_off_s, self.config.g_on_s)
