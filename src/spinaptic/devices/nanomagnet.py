"""A single perpendicular nanomagnet switched by thermally activated SOT (paper 000, Fig. 2).

Binary state s (0 = initial, 1 = switched). A current pulse of amplitude I > 0 switches 0 -> 1 and I < 0
switches 1 -> 0, each with the Néel-Brown probability of `physics.neel_brown` (using |I|). Read out through
an MTJ: s = 0 is parallel (R_P), s = 1 antiparallel (R_AP). Device-to-device spread of the barrier and
critical current is drawn once in `init_state` (the paper sees a different coercive field per magnet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..config import check_nonnegative, check_positive
from ..physics.mtj import MTJParams
from ..physics.neel_brown import FIG2_MAGNET, FIG2_SET_A, NeelBrownParams, switching_probability
from .base import Device, DeviceState, Pulses, _counts_tensor, register_device
from .variation import draw_spread


@dataclass(frozen=True)
class NanomagnetConfig:
    """Thermally activated SOT nanomagnet read by an MTJ.

    Attributes:
        switching: Néel-Brown parameters (default `neel_brown.FIG2_MAGNET`, paper 000's Fig. 2 nanomagnet:
            40 k_BT, tau0 = 1 ns, n = 2, I_c0 = 15.2 mA calibrated so that the paper's 6.97 mA / 20 us SET
            pulse switches with P = 0.15, inside Fig. 2b's "finite switching probability" region).
        mtj: read-out junction (RA, area, TMR).
        delta0_dtod: relative device-to-device sigma of the barrier Delta0 (>= 0).
        i_c0_dtod: relative device-to-device sigma of I_c0 (>= 0).
        channel_resistance_ohm: heavy-metal write-channel resistance [Ohm] for the I^2 R t programming
            energy (assumed: a Ta Hall bar of a few kOhm; paper 000 does not state it).

    Variation knobs: device-to-device ``delta0_dtod``, ``i_c0_dtod``; cycle-to-cycle: the intrinsic
    Néel-Brown switching stochasticity (no extra ``*_std`` knob); read noise: the crossbar's (`arrays.crossbar`).
    """

    switching: NeelBrownParams = FIG2_MAGNET
    mtj: MTJParams = field(default_factory=MTJParams)
    delta0_dtod: float = 0.0
    i_c0_dtod: float = 0.0
    channel_resistance_ohm: float = 2e3

    def __post_init__(self) -> None:
        check_nonnegative("delta0_dtod", self.delta0_dtod, unit="(relative sigma)")
        check_nonnegative("i_c0_dtod", self.i_c0_dtod, unit="(relative sigma)")
        check_positive("channel_resistance_ohm", self.channel_resistance_ohm, unit="Ohm")


@register_device("sot-nanomagnet")
class Nanomagnet(Device):
    """One SOT-switched perpendicular nanomagnet per array element (state: bits + per-device parameters)."""

    config: NanomagnetConfig
    is_synapse = True

    @classmethod
    def config_class(cls) -> type:
        return NanomagnetConfig

    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        c, dt = self.config, torch.float64
        return DeviceState(
            s=torch.zeros(shape, dtype=torch.bool, device=device),
            delta0=draw_spread(c.switching.delta0, c.delta0_dtod, shape, generator, device, dt),
            i_c0=draw_spread(c.switching.i_c0_a, c.i_c0_dtod, shape, generator, device, dt),
        )

    def switching_probability(self, state: DeviceState, current_a: torch.Tensor, width_s) -> torch.Tensor:
        """Per-device probability that one pulse of |current_a| [A] and ``width_s`` [s] switches."""
        sw = self.config.switching
        return switching_probability(current_a.abs(), width_s, state["delta0"], state["i_c0"], sw.tau0_s, sw.exponent)

    def conductance(self, state: DeviceState) -> torch.Tensor:
        m = self.config.mtj
        return torch.where(state["s"], m.g_ap, m.g_p).to(torch.float64)

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        if pulses.kind != "current":
            raise ValueError("sot-nanomagnet is driven by current pulses (Pulses.kind='current')")
        ref = state["delta0"]
        amp = pulses.amplitude_like(ref)
        n = pulses.count_like(ref)
        p1 = self.switching_probability(state, amp, pulses.width_s)
        # n independent attempts in the same direction: P(switch at least once) = 1 - (1-p)^n.
        p = -torch.expm1(n.to(ref.dtype) * torch.log1p(-p1.clamp_max(1 - 1e-16)))
        flip = torch.rand(ref.shape, generator=generator, dtype=ref.dtype, device=ref.device) < p
        up, down = amp > 0, amp < 0
        s = state["s"]
        s_new = torch.where(up & flip, torch.ones_like(s), torch.where(down & flip, torch.zeros_like(s), s))
        energy = amp**2 * self.config.channel_resistance_ohm * torch.as_tensor(pulses.width_s, dtype=ref.dtype) * n
        out = DeviceState(state)
        out["s"] = s_new
        return out, energy

    def pulse_energy(self, current_a: float, width_s: float) -> float:
        """Programming energy [J] of one pulse of ``current_a`` [A] and ``width_s`` [s] in the write channel,
        I^2 R_channel t (the accounting of `apply`)."""
        return current_a**2 * self.config.channel_resistance_ohm * width_s

    def nominal_pulses(self, direction) -> Pulses:
        d = torch.as_tensor(direction)
        """The paper's Fig. 2d SET pulse magnitude, 6.97 mA for 20 us (P = 0.15 with the default magnet)."""
        return Pulses(amplitude=FIG2_SET_A * d.sign(), width_s=20e-6, count=(d != 0).to(torch.int64))

    def conductance_range(self) -> tuple[float, float]:
        return (self.config.mtj.g_ap, self.config.mtj.g_p)

    # programming protocol: a binary synapse. `apply` keeps the paper's polarity (I > 0 switches P -> AP,
    # LOWERING G); `program_counts` follows the protocol's "+ raises G": a + count sends the negative pulse.
    def program_counts(self, state: DeviceState, counts: torch.Tensor, *, generator=None):
        """Signed counts with "+ raises G": + is the nominal pulse of negative current (AP -> P)."""
        c = _counts_tensor(counts)
        pulses = self.nominal_pulses(-c.sign().to(torch.float64))
        return self.apply(state, Pulses(pulses.amplitude, pulses.width_s, c.abs(), pulses.kind), generator=generator)

    def mean_step(self, direction: int) -> float:
        """Analytic, nominal magnet: at mid-range half of an ensemble is in the state a pulse drives away from,
        so mean |Delta G| = P_switch(nominal pulse) (G_P - G_AP) / 2 (the same in both directions)."""
        sw, m = self.config.switching, self.config.mtj
        p = float(switching_probability(torch.tensor(FIG2_SET_A, dtype=torch.float64), 20e-6, sw.delta0, sw.i_c0_a,
                                        sw.tau0_s, sw.exponent))
        return 0.5 * p * (m.g_p - m.g_ap)

    def levels(self) -> torch.Tensor:
        """The two read levels (G_AP, G_P) [S]."""
        m = self.config.mtj
        return torch.tensor([m.g_ap, m.g_p], dtype=torch.float64)

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        """Half of the magnets switched (each with probability 1/2)."""
        s = self.init_state(shape, generator=generator)
        s["s"] = torch.rand(tuple(shape), generator=generator, dtype=torch.float64) < 0.5
        return s
