"""Néel-Brown thermally activated switching of a nanomagnet under a current pulse.

Mean switching time tau(I) = tau0 exp(Delta(I)), with the current-lowered barrier
Delta(I) = Delta0 (1 - I / I_c0)^n clipped at 0, and the switching probability of a rectangular pulse of
width t_p: P_sw = 1 - exp(-(t_p / tau0) exp(-Delta(I))).

The exponent n is selectable: n = 1 is the linear spin-torque form (Koch, Katine & Sun, PRL 92, 088302,
2004), n = 2 the Sharrock / Stoner-Wohlfarth field form (Brown, Phys. Rev. 130, 1677, 1963; Sharrock,
IEEE TMAG 26, 193, 1990). Paper 000 (Ostwal et al., JXCDC 2019) measures P_sw rising from 0 to 1
between about 5 and 7.5 mA for 20 us SOT pulses on a ~40 k_BT magnet; `calibrate_ic0` places I_c0 so
that the 50 % point lands where asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import check_positive, check_range


@dataclass(frozen=True)
class NeelBrownParams:
    """Thermal-activation parameters of one nanomagnet (or, as tensors, of many).

    Attributes:
        delta0: zero-current energy barrier in units of k_B T (> 0). Paper 000: about 40.
        tau0_s: attempt time tau0 [s] (> 0), about 1 ns.
        i_c0_a: intrinsic critical current I_c0 [A] (> 0) at which the barrier vanishes.
        exponent: barrier exponent n in (1 - I/I_c0)^n, 1 (STT, Koch 2004) or 2 (Sharrock); any value in [0.5, 3].
    """

    delta0: float = 40.0
    tau0_s: float = 1e-9
    i_c0_a: float = 12.67e-3
    exponent: float = 2.0

    def __post_init__(self) -> None:
        check_positive("delta0 (barrier)", self.delta0, unit="k_BT")
        check_positive("tau0_s (attempt time)", self.tau0_s, unit="s")
        check_positive("i_c0_a (critical current)", self.i_c0_a, unit="A")
        check_range("exponent (barrier exponent n)", self.exponent, 0.5, 3.0)


def barrier(
    current_a: torch.Tensor,
    delta0: torch.Tensor | float,
    i_c0_a: torch.Tensor | float,
    exponent: float = 2.0,
) -> torch.Tensor:
    """Current-lowered barrier Delta(I) = Delta0 (1 - I/I_c0)^n in k_B T, clipped to [0, ...].

    ``current_a`` [A] is the magnitude in the switching direction: negative values (current that
    stabilises the state) raise the barrier as the same formula says.
    """
    x = (1.0 - current_a / i_c0_a).clamp_min(0.0)
    return delta0 * x**exponent


def switching_rate(current_a: torch.Tensor, p: NeelBrownParams | None = None, **kw) -> torch.Tensor:
    """Escape rate Gamma = exp(-Delta(I)) / tau0 [1/s]."""
    p = p or NeelBrownParams(**kw)
    return torch.exp(-barrier(current_a, p.delta0, p.i_c0_a, p.exponent)) / p.tau0_s


def mean_switching_time(current_a: torch.Tensor, p: NeelBrownParams) -> torch.Tensor:
    """Mean switching time tau = tau0 exp(Delta(I)) [s]."""
    return p.tau0_s * torch.exp(barrier(current_a, p.delta0, p.i_c0_a, p.exponent))


def switching_probability(
    current_a: torch.Tensor,
    pulse_width_s: torch.Tensor | float,
    delta0: torch.Tensor | float = 40.0,
    i_c0_a: torch.Tensor | float = 12.67e-3,
    tau0_s: torch.Tensor | float = 1e-9,
    exponent: float = 2.0,
) -> torch.Tensor:
    """P_sw = 1 - exp(-(t_p/tau0) exp(-Delta(I))) for a rectangular pulse; all arguments broadcast.

    Computed in log space with ``expm1`` so that a 40 k_BT barrier underflows cleanly to 0.
    """
    current_a = torch.as_tensor(current_a)
    log_rate_t = torch.log(torch.as_tensor(pulse_width_s / tau0_s, dtype=current_a.dtype, device=current_a.device))
    log_n = log_rate_t - barrier(current_a, delta0, i_c0_a, exponent)
    return -torch.expm1(-torch.exp(log_n.clamp_max(80.0)))


def switching_probability_of(current_a: torch.Tensor, pulse_width_s: float, p: NeelBrownParams) -> torch.Tensor:
    """`switching_probability` with a parameter dataclass."""
    return switching_probability(current_a, pulse_width_s, p.delta0, p.i_c0_a, p.tau0_s, p.exponent)


def current_for_probability(probability: float, pulse_width_s: float, p: NeelBrownParams) -> float:
    """Inverse of `switching_probability`: the current [A] giving ``probability`` for a pulse width [s]."""
    check_range("probability", probability, 0.0, 1.0, lo_open=True, hi_open=True)
    check_positive("pulse_width_s", pulse_width_s, unit="s")
    delta = math.log(pulse_width_s / (p.tau0_s * -math.log1p(-probability)))
    if delta <= 0:
        return 0.0
    return p.i_c0_a * (1.0 - min(delta / p.delta0, 1.0) ** (1.0 / p.exponent))


def calibrate_ic0(
    i50_a: float, pulse_width_s: float, delta0: float = 40.0, tau0_s: float = 1e-9, exponent: float = 2.0
) -> float:
    """I_c0 [A] that puts the 50 % switching point of a ``pulse_width_s`` pulse at ``i50_a``.

    From P = 1/2: Delta(I50) = ln(t_p / (tau0 ln 2)), so I_c0 = I50 / (1 - (Delta/Delta0)^(1/n)).
    """
    check_positive("i50_a", i50_a, unit="A")
    delta = math.log(pulse_width_s / (tau0_s * math.log(2.0)))
    if not 0 < delta < delta0:
        raise ValueError(
            f"pulse_width_s = {pulse_width_s} s cannot give P = 0.5 below the zero-current barrier "
            f"delta0 = {delta0}: need 0 < ln(t_p/(tau0 ln2)) = {delta:.2f} < delta0"
        )
    return i50_a / (1.0 - (delta / delta0) ** (1.0 / exponent))
