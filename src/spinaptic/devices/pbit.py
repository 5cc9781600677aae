"""Probabilistic bit (p-bit): a binary stochastic neuron m = sgn(tanh(I / I0) - r), r ~ U(-1, 1).

Behavioural model of the MRAM p-bit of Camsari et al. (PRX 7, 031014, 2017; EDL 38, 1767, 2017) used as
the neuron of paper 000 (Fig. 1c) and PIN-Sim: the input current I [A] tilts a low-barrier magnet so that
P(m = +1) = (1 + tanh(I/I0)) / 2 = sigma(2 I / I0). A {0,1} unit trained with sigma(z) is therefore
driven with I = I0 z / 2 (the factor 2 is the usual pitfall) and read as h = (m + 1) / 2.

Every call to `sample` (or `apply`) draws a fresh r per unit and sample. The interface is open for a
physical telegraph-noise model (superparamagnetic MTJ) to replace the tanh response later: only
`probability` and `sample` need to change.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import check_nonnegative, check_positive
from ..physics.mtj import MTJParams
from .base import Device, Pulses, register_device


@dataclass(frozen=True)
class PBitConfig:
    """Attributes:
    i0_a: input-current scale I0 [A] of the tanh response (> 0; assumed 10 uA, the order of the
        embedded-MTJ p-bit's transistor drive, Camsari EDL 2017).
    energy_per_sample_j: energy of one p-bit sample [J] (>= 0). Not modelled by default (0): paper 000
        reports the crossbar energy only; PIN-Sim puts p-bit energies in the fJ range.
    mtj: the p-bit's read-out junction (output +1 reads parallel), for `conductance`.
    """

    i0_a: float = 10e-6
    energy_per_sample_j: float = 0.0
    mtj: MTJParams = MTJParams()

    def __post_init__(self) -> None:
        check_positive("i0_a (p-bit input scale I0)", self.i0_a, unit="A")
        check_nonnegative("energy_per_sample_j", self.energy_per_sample_j, unit="J")


@register_device("pbit")
class PBit(Device):
    """Binary stochastic neuron m = sgn(tanh(I/I0) - r), r ~ U(-1,1); state m in {-1, +1} (float)."""

    config: PBitConfig
    is_synapse = False  # a stochastic neuron: it is sampled, never programmed

    @classmethod
    def config_class(cls) -> type:
        return PBitConfig

    def init_state(self, shape, *, generator=None, device=None) -> torch.Tensor:
        """Unbiased random start: each unit +1 or -1 with probability 1/2."""
        r = torch.rand(tuple(shape), generator=generator, device=device, dtype=torch.float64)
        return torch.where(r < 0.5, 1.0, -1.0).to(torch.float64)

    def probability(self, current_a: torch.Tensor) -> torch.Tensor:
        """P(m = +1) = (1 + tanh(I/I0)) / 2 = sigmoid(2 I / I0)."""
        return torch.sigmoid(2.0 * torch.as_tensor(current_a) / self.config.i0_a)

    def sample(self, current_a: torch.Tensor, *, generator: torch.Generator | None = None,
               n_samples: int | None = None) -> torch.Tensor:
        """m = sgn(tanh(I/I0) - r) in {-1, +1}, same dtype as ``current_a`` (float); with ``n_samples`` a
        leading sample axis is added (one fresh r per sample and unit)."""
        cur = torch.as_tensor(current_a)
        if not cur.is_floating_point():
            cur = cur.to(torch.float32)
        shape = cur.shape if n_samples is None else (n_samples, *cur.shape)
        r = torch.rand(shape, generator=generator, dtype=cur.dtype, device=cur.device) * 2 - 1
        t = torch.tanh(cur / self.config.i0_a)
        return torch.where(t > r, 1.0, -1.0).to(cur.dtype)

    def conductance(self, state: torch.Tensor) -> torch.Tensor:
        m = self.config.mtj
        g_p = torch.tensor(m.g_p, dtype=torch.float64, device=state.device)
        return torch.where(state > 0, g_p, torch.tensor(m.g_ap, dtype=torch.float64, device=state.device))

    def apply(self, state: torch.Tensor, pulses: Pulses, *, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample the p-bit once per unit with input current ``pulses.amplitude`` [A]; ``count`` > 1 just
        resamples (memoryless), count 0 keeps the state. Energy: ``energy_per_sample_j`` per sample."""
        if pulses.kind != "current":
            raise ValueError("pbit is driven by an input current (Pulses.kind='current')")
        amp = pulses.amplitude_like(state)
        n = pulses.count_like(state)
        new = torch.where(n > 0, self.sample(amp, generator=generator), state)
        return new, n.to(torch.float64) * self.config.energy_per_sample_j

    def conductance_range(self) -> tuple[float, float]:
        return (self.config.mtj.g_ap, self.config.mtj.g_p)
