"""MTJ resistance: RA product, TMR, and free layers that are partly parallel and partly antiparallel.

R_P = RA / area, R_AP = R_P (1 + TMR) (paper 000 eq. 1-2; Julliere TMR ratio as a fraction, 1.5 = 150 %).
A free layer whose area is split between P and AP domains is two resistors in parallel; a domain wall
adds its own conductance in parallel (paper 001 eq. 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import check_positive, check_range

UM2 = 1e-12
"""One square micrometre in m^2 (RA is usually quoted in Ohm um^2)."""

RA_RANGE_OHM_M2 = (1e-14, 1e-8)
"""Plausible RA [Ohm m^2]: 0.01 to 10^4 Ohm um^2, beyond the thinnest and thickest MgO barriers reported; a value
given in Ohm um^2 by mistake (e.g. 10) lies far outside and is refused."""

TMR_MAX = 10.0
"""Largest accepted TMR ratio (a fraction: 10 = 1000 %; the room-temperature record is about 6 = 600 %). A TMR
typed in percent (150 for 150 %) is refused rather than read as 15,000 %."""


@dataclass(frozen=True)
class MTJParams:
    """Tunnel-junction resistance parameters.

    Attributes:
        ra_ohm_m2: resistance-area product of the P state [Ohm m^2] (10 Ohm um^2 = 1e-11).
        area_m2: junction area [m^2].
        tmr: tunnelling magnetoresistance ratio (R_AP - R_P) / R_P, a fraction (> 0; 4.0 = 400 %).
    """

    ra_ohm_m2: float = 10 * UM2
    area_m2: float = math.pi * (50e-9) ** 2 / 4
    tmr: float = 1.5

    def __post_init__(self) -> None:
        check_range("ra_ohm_m2 (RA; 1 Ohm um^2 = 1e-12 Ohm m^2)", self.ra_ohm_m2, *RA_RANGE_OHM_M2, unit="Ohm m^2")
        check_range("area_m2", self.area_m2, 1e-18, 1e-10, unit="m^2")
        check_range("tmr (TMR ratio)", self.tmr, 0.0, TMR_MAX, unit="(fraction, 1.0 = 100 %)", lo_open=True)

    @classmethod
    def from_diameter(cls, ra_ohm_um2: float, diameter_m: float, tmr: float) -> MTJParams:
        """Circular junction from RA in Ohm um^2 and diameter in metres."""
        check_positive("diameter_m", diameter_m, unit="m")
        return cls(ra_ohm_m2=ra_ohm_um2 * UM2, area_m2=math.pi * diameter_m**2 / 4, tmr=tmr)

    @property
    def r_p(self) -> float:
        """Parallel-state resistance [Ohm]."""
        return self.ra_ohm_m2 / self.area_m2

    @property
    def r_ap(self) -> float:
        """Antiparallel-state resistance [Ohm]."""
        return self.r_p * (1.0 + self.tmr)

    @property
    def g_p(self) -> float:
        """Parallel-state conductance [S]."""
        return 1.0 / self.r_p

    @property
    def g_ap(self) -> float:
        """Antiparallel-state conductance [S]."""
        return 1.0 / self.r_ap


def resistance_p(ra_ohm_m2: torch.Tensor | float, area_m2: torch.Tensor | float) -> torch.Tensor | float:
    """R_P = RA / area [Ohm]; broadcasts over tensors for device-to-device variation."""
    return ra_ohm_m2 / area_m2


def resistance_ap(r_p: torch.Tensor | float, tmr: torch.Tensor | float) -> torch.Tensor | float:
    """R_AP = R_P (1 + TMR) [Ohm]."""
    return r_p * (1.0 + tmr)


def mixed_conductance(
    fraction_p: torch.Tensor,
    g_p: torch.Tensor | float,
    g_ap: torch.Tensor | float,
    g_dw: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    """Conductance [S] of a free layer whose area fraction ``fraction_p`` is parallel.

    G = f G_P + (1 - f) G_AP + G_DW: the P and AP parts are resistors in parallel and the wall region
    adds G_DW (paper 001 eq. 6 with f = x / L).
    """
    check_range("fraction_p (min)", float(torch.as_tensor(fraction_p).min()), 0.0, 1.0)
    check_range("fraction_p (max)", float(torch.as_tensor(fraction_p).max()), 0.0, 1.0)
    return fraction_p * g_p + (1.0 - fraction_p) * g_ap + g_dw


def bias_dependent_tmr(tmr0: torch.Tensor | float, v: torch.Tensor, v_half: float = 0.5) -> torch.Tensor:
    """TMR(V) = TMR0 / (1 + V^2 / V_h^2): the usual empirical roll-off with bias voltage ``v`` [V]."""
    check_positive("v_half", v_half, unit="V")
    return tmr0 / (1.0 + (v / v_half) ** 2)


def tmr_from_conductances(g_p: torch.Tensor | float, g_ap: torch.Tensor | float) -> torch.Tensor | float:
    """TMR = R_AP / R_P - 1 = G_P / G_AP - 1 (a fraction) from the two state conductances [S]."""
    return g_p / g_ap - 1.0


def conductances_for_range(
    fraction_lo: float, fraction_hi: float, g_lo_s: float, g_hi_s: float
) -> tuple[float, float]:
    """(G_P, G_AP) [S] with which `mixed_conductance` (G_DW = 0) reads ``g_lo_s`` at parallel fraction
    ``fraction_lo`` and ``g_hi_s`` at ``fraction_hi`` (> fraction_lo): the two-resistor map fitted to a measured
    conductance range, G_P - G_AP = (g_hi - g_lo) / (f_hi - f_lo)."""
    check_range("fraction_lo", fraction_lo, 0.0, 1.0)
    check_range("fraction_hi", fraction_hi, fraction_lo, 1.0, lo_open=True)
    span = (g_hi_s - g_lo_s) / (fraction_hi - fraction_lo)
    g_ap = g_lo_s - fraction_lo * span
    return g_ap + span, g_ap
