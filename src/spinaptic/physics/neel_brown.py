"""Néel-Brown thermally activated switching of a nanomagnet under a current pulse.

Mean switching time tau(I) = tau0 exp(Delta(I)), with the current-lowered barrier
Delta(I) = Delta0 (1 - I / I_c0)^n clipped at 0, and the switching probability of a rectangular pulse of
width t_p: P_sw = 1 - exp(-(t_p / tau0) exp(-Delta(I))).

The exponent n is selectable: n = 1 is the linear spin-torque form (Koch, Katine & Sun, PRL 92, 088302,
2004), n = 2 the Sharrock / Stoner-Wohlfarth field form (Brown, Phys. Rev. 130, 1677, 1963; Sharrock,
IEEE TMAG 26, 193, 1990). Paper 000 (Ostwal et al., JXCDC 2019) switches a ~40 k_BT magnet with 20 us
and 50 us SOT pulses (Fig. 2b) and states that its 6.97 mA / 20 us SET pulse lies in the "finite switching
probability" region (Fig. 2d); `calibrate_ic0_to_probability` places I_c0 so that a given current switches
with a given probability (`calibrate_ic0`: the 50 % point). The two calibrated magnets of paper 000 are
`FIG2_MAGNET` (the single-nanomagnet Hall bar of Fig. 2) and `FIG3_MAGNET` (the 16-magnet cross of Fig. 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import check_positive, check_range


@dataclass(frozen=True)
class NeelBrownParams:
    """Thermal-activation parameters of one nanomagnet (or, as tensors, of many).

    The defaults are `FIG3_MAGNET`, the 16-magnet compound synapse of paper 000 (`FIG2_MAGNET`: its
    single-nanomagnet device).

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


def calibrate_ic0_to_probability(
    current_a: float, probability: float, pulse_width_s: float, delta0: float = 40.0, tau0_s: float = 1e-9,
    exponent: float = 2.0,
) -> float:
    """I_c0 [A] at which a ``pulse_width_s`` pulse of ``current_a`` switches with ``probability``.

    From P: Delta(I) = ln(t_p / (tau0 (-ln(1 - P)))), so I_c0 = I / (1 - (Delta/Delta0)^(1/n)).
    """
    check_positive("current_a", current_a, unit="A")
    check_range("probability", probability, 0.0, 1.0, lo_open=True, hi_open=True)
    delta = math.log(pulse_width_s / (tau0_s * -math.log1p(-probability)))
    if not 0 < delta < delta0:
        raise ValueError(
            f"a {pulse_width_s} s pulse cannot switch with P = {probability} below the zero-current barrier "
            f"delta0 = {delta0}: need 0 < ln(t_p/(tau0 (-ln(1-P)))) = {delta:.2f} < delta0"
        )
    return current_a / (1.0 - (delta / delta0) ** (1.0 / exponent))


def barrier_for_probability(probability: float, pulse_width_s: float, tau0_s: float = 1e-9) -> float:
    """Barrier Delta [k_BT] at which a rectangular pulse of ``pulse_width_s`` [s] switches with ``probability``.

    Inverse of P = 1 - exp(-(t_p / tau0) exp(-Delta)): Delta = ln(t_p / (tau0 (-ln(1 - P)))); a value <= 0
    means no barrier is low enough (the pulse is too short), one above Delta0 that even I = 0 switches more often.
    """
    check_range("probability", probability, 0.0, 1.0, lo_open=True, hi_open=True)
    check_positive("pulse_width_s", pulse_width_s, unit="s")
    check_positive("tau0_s", tau0_s, unit="s")
    return math.log(pulse_width_s / (tau0_s * -math.log1p(-probability)))


def calibrated_magnet(
    current_a: float, probability: float, pulse_width_s: float, delta0: float = 40.0, tau0_s: float = 1e-9,
    exponent: float = 2.0,
) -> NeelBrownParams:
    """The magnet (Delta0 [k_BT], tau0 [s], n) whose I_c0 [A] makes a ``pulse_width_s`` [s] pulse of
    ``current_a`` [A] switch with ``probability`` (`calibrate_ic0_to_probability`)."""
    ic0 = calibrate_ic0_to_probability(current_a, probability, pulse_width_s, delta0, tau0_s, exponent)
    return NeelBrownParams(delta0=delta0, tau0_s=tau0_s, i_c0_a=ic0, exponent=exponent)


def fit_exponent_and_tau0(
    current_over_ic0: torch.Tensor, probability: torch.Tensor, sigma: torch.Tensor, pulse_width_s: float,
    delta0: float, exponents: torch.Tensor, tau0s_s: torch.Tensor,
) -> tuple[float, float, float]:
    """Grid least-squares fit of the exponent n and attempt time tau0 [s] of `switching_probability` to measured
    P_sw(I / I_c0) with the barrier ``delta0`` [k_BT] and I_c0 known (currents in units of I_c0).

    Minimises sum ((P_model - probability) / sigma)^2 over every (n, tau0) of ``exponents`` x ``tau0s_s``;
    returns (n, tau0 [s], chi^2) of the first minimum in that order (n outer, tau0 inner).
    """
    x = torch.as_tensor(current_over_ic0, dtype=torch.float64)
    n = torch.as_tensor(exponents, dtype=torch.float64)
    tau = torch.as_tensor(tau0s_s, dtype=torch.float64)
    if x.dim() != 1 or n.dim() != 1 or tau.dim() != 1 or not (x.numel() and n.numel() and tau.numel()):
        raise ValueError("fit_exponent_and_tau0 needs non-empty 1-D currents, exponents and tau0s_s")
    barrier_x = delta0 * (1.0 - x).clamp_min(0.0)[None, :] ** n[:, None]  # [n, points]
    log_n = torch.log(pulse_width_s / tau)[None, :, None] - barrier_x[:, None, :]  # [n, tau, points]
    model = -torch.expm1(-torch.exp(log_n.clamp_max(80.0)))
    chi = (((model - torch.as_tensor(probability, dtype=torch.float64)) / torch.as_tensor(sigma, dtype=torch.float64))
           ** 2).sum(-1)
    k = int(chi.reshape(-1).argmin())
    i, j = divmod(k, tau.numel())
    return float(n[i]), float(tau[j]), float(chi[i, j])


# ----------------------------------------------------------------------------------- paper 000 calibrations
FIG2_SET_A = 6.97e-3
"""Paper 000, Fig. 2d: "20 SET pulses at a current level of 6.97 mA with a pulse width of 20 us"."""
FIG2_RESET_A = -7.28e-3
"""Paper 000, Fig. 2d: depression "when input current pulses of -7.28 mA are used"."""
FIG2_SET_PROBABILITY = 0.15
"""Calibration target: P_sw of the 6.97 mA / 20 us SET pulse. The paper places it in the "finite switching
probability" region of Fig. 2b and applies 20 such pulses, so that "the nanomagnet can switch to its +1 state
during any of the 20 SET pulses" (Fig. 2d's gradual rise). P = 0.15 makes the train 3 mean switching times
long (1 - 0.85^20 = 96 % switched by pulse 20, 2.4 of 16 repeats on the first pulse); the paper gives no
number, so this is our choice within the band that a gradual 20-pulse rise allows (0.07 to 0.5)."""

FIG2_MAGNET = NeelBrownParams(
    delta0=40.0, tau0_s=1e-9, exponent=2.0,
    i_c0_a=calibrate_ic0_to_probability(FIG2_SET_A, FIG2_SET_PROBABILITY, 20e-6, 40.0, 1e-9, 2.0))
"""The single nanomagnet of paper 000, Fig. 2 (1 x 3 um ellipse on a ~4 um Ta Hall bar): Delta0 = 40 k_BT
("of the order of 40k_B T"), tau0 = 1 ns (the usual attempt time), n = 2 (Sharrock; what our stochastic-LLG
check prefers), I_c0 = 15.2 mA calibrated so that the paper's 6.97 mA / 20 us SET pulse switches with
P = `FIG2_SET_PROBABILITY`. Symmetric in the current's sign: the -7.28 mA RESET of Fig. 2d is a prediction."""

FIG3_MAGNET = NeelBrownParams(delta0=40.0, tau0_s=1e-9, i_c0_a=12.67e-3, exponent=2.0)
"""A magnet of the 16-magnet cross of paper 000, Fig. 3 (a different Hall bar, width not stated): same
Delta0, tau0, n as `FIG2_MAGNET`; I_c0 = 12.67 mA (= `calibrate_ic0(6.25e-3, 20e-6)`), calibrated so that its 20 us 50 % point (6.25 mA) sits in
the 5 -> 6 mA range over which the paper's scheme II ramp potentiates the ensemble (Fig. 3f), i.e. the ramp
takes a nominal 16-magnet synapse from 0.14 to 13.6 switched. I_c0 in mA scales with the channel's
cross-section, so the two devices need not share it (FIG2 / FIG3 = 1.20)."""
