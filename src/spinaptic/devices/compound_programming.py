"""Amplitude-controlled write-and-verify of compound synapses (paper 000's scheme II linearisation): the
`Device.program` of a `CompoundSynapse` (or it under `with_write_noise`) with one pulse per cycle whose current
is set per device from the level gap, so a verify loop settles on one level of a many-magnet synapse."""

from __future__ import annotations

from typing import Any

import torch

from ..config import ConfigError
from .base import Device, DeviceState, Pulses, iter_chunks
from .compound_synapse import CompoundSynapse, CompoundSynapseConfig

PULSE_WIDTH_S = 20e-6
"""Width of every programming pulse [s] (paper 000's 20 us pulses)."""
_CHUNK_MAGNETS = 1 << 20  # magnets per vectorised block of a verify cycle (8 MB temporaries: bounded memory, no page-fault churn)


def _current_for(c: CompoundSynapse, p: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """Signed current [A] of one `PULSE_WIDTH_S` pulse switching a nominal magnet of ``c`` with probability
    ``p`` (vectorised `physics.neel_brown.current_for_probability`; depression uses the lower I_c0)."""
    sw = c.config.switching
    i_c0 = sw.i_c0_a * torch.where(direction > 0, torch.ones_like(p), torch.full_like(p, c.config.i_c0_depression_ratio))
    delta = torch.log(PULSE_WIDTH_S / (sw.tau0_s * -torch.log1p(-p)))
    return direction * i_c0 * (1.0 - (delta / sw.delta0).clamp(0.0, 1.0) ** (1.0 / sw.exponent))


class AmplitudeVerifiedCompound(Device):
    """Compound synapses (``inner``: the `CompoundSynapse` ``compound``, or it under `with_write_noise`)
    programmed by write-and-verify with a per-device pulse amplitude; every state, read and pulse is
    ``inner``'s, only `program` replaces the nominal-pulse default of `Device.program`.

    Why: the nominal pulse switches each free magnet with P ~ 0.3, ~2 level spacings per pulse at Q = 16
    and ~34 at Q = 256, so a fixed-pulse verify cannot settle on one level (`Device.program` leaves ~30 %
    of a 256-magnet DBN layer off its level after 10 cycles, and simulates every magnet in every cycle).
    Here a cycle reads G, takes the level gap
    d = (G_target - G) / (G_P - G_AP) and the k magnets already switched (from G), and sends one 20 us pulse
    whose current switches each of the m free magnets (Q - k up, k down) of a nominal magnet with
    p = want / m, want = |d| - sqrt|d| for |d| >= 4 and |d| / 2 below (short of the gap: an overshoot
    costs a pulse back); p doubles after every pulse that moved no magnet (incremental-step pulse
    programming: the magnets left may be the hard ones of the spread). Magnet spread and Bernoulli
    switching make every pulse land at random; the verify corrects. Amplitude control is how the paper linearises the synapse (its scheme II). Only
    devices outside the tolerance are simulated in a cycle.
    """

    is_synapse = True

    def __init__(self, inner: Device, compound: CompoundSynapse) -> None:
        self.inner, self.compound, self.config = inner, compound, inner.config
        self.name = compound.name

    @classmethod
    def config_class(cls) -> type:
        return CompoundSynapseConfig

    def init_state(self, shape, *, generator=None, device=None):
        return self.inner.init_state(shape, generator=generator, device=device)

    def conductance(self, state):
        return self.inner.conductance(state)

    def apply(self, state, pulses, *, generator=None):
        return self.inner.apply(state, pulses, generator=generator)

    def program_counts(self, state, counts, *, generator=None):
        return self.inner.program_counts(state, counts, generator=generator)

    def nominal_pulses(self, direction):
        return self.inner.nominal_pulses(direction)

    def conductance_range(self):
        return self.inner.conductance_range()

    def mean_step(self, direction: int) -> float:
        return self.inner.mean_step(direction)

    def levels(self):
        return self.inner.levels()

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "programming": "write-and-verify, one pulse per cycle, amplitude per device"}

    def program(self, state: DeviceState, target_g: torch.Tensor, *, tolerance_s: float | None = None,
                max_iterations: int = 50,
                generator: torch.Generator | None = None) -> tuple[DeviceState, torch.Tensor, torch.Tensor]:
        """`Device.program`'s contract (default tolerance: half a level spacing)."""
        if not isinstance(max_iterations, int) or max_iterations < 0:
            raise ConfigError(f"program: max_iterations must be an int >= 0, got {max_iterations!r}")
        q = self.compound.config.n_magnets
        lo, hi = self.compound.conductance_range()
        step = (hi - lo) / q
        tol = 0.5 * step if tolerance_s is None else float(tolerance_s)
        g = self.inner.conductance(state).to(torch.float64)
        shape, nd = g.shape, g.dim()
        flat = {k: v.reshape(-1, *v.shape[nd:]) for k, v in state.items()}  # views: copied on first write
        written: set[str] = set()
        g = g.flatten().clone()
        target = torch.as_tensor(target_g, dtype=torch.float64, device=g.device).expand(shape).flatten()
        energy = torch.zeros_like(g)
        boost = torch.ones_like(g)  # x2 after every pulse that moved no magnet (a hard magnet left), reset on a move
        todo = ((target - g).abs() > tol).nonzero().flatten()
        for _ in range(max_iterations):
            if todo.numel() == 0:
                break
            pulsed = []
            for sl in iter_chunks(todo.numel(), max(1, _CHUNK_MAGNETS // q)):
                idx = todo[sl]
                gap = (target[idx] - g[idx]) / step
                k = ((g[idx] - lo) / step).round().clamp(0, q)
                free = torch.where(gap > 0, q - k, k)
                idx, gap, free = idx[free > 0], gap[free > 0], free[free > 0]  # the rest cannot move that way
                d = gap.abs()
                want = torch.where(d >= 4, d - d.sqrt(), 0.5 * d)
                amp = _current_for(self.compound, (boost[idx] * want / free).clamp(1e-9, 1 - 1e-6), gap.sign())
                sub = DeviceState({key: v[idx] for key, v in flat.items()})
                new, e = self.inner.apply(sub, Pulses(amplitude=amp, width_s=PULSE_WIDTH_S), generator=generator)
                for key, v in new.items():
                    if v is sub[key]:
                        continue  # not written by the pulse (per-magnet barrier, I_c0)
                    if key not in written:
                        flat[key] = flat[key].clone()
                        written.add(key)
                    flat[key].index_copy_(0, idx, v)
                energy.index_add_(0, idx, e.to(torch.float64))
                g_new = self.inner.conductance(new).to(torch.float64)
                moved = (g_new - g[idx]).abs() >= 0.5 * step
                boost.index_copy_(0, idx, torch.where(moved, 1.0, (2.0 * boost[idx]).clamp_max(1e6)))
                g.index_copy_(0, idx, g_new)
                pulsed.append(idx)
            todo = torch.cat(pulsed)  # only pulsed devices can have changed
            todo = todo[(target[todo] - g[todo]).abs() > tol]
        out = DeviceState({key: v.reshape(*shape, *v.shape[1:]) for key, v in flat.items()})
        return out, energy.reshape(shape), ((target - g).abs() <= tol).reshape(shape)


__all__ = ["PULSE_WIDTH_S", "AmplitudeVerifiedCompound"]
