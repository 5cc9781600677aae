"""Superparamagnetic MTJ (s-MTJ) true random number generator with a bias-tunable probability (paper 004).

Paper 004 (Shao et al., IEEE Magn. Lett. 11, 2020): 50 nm perpendicular MTJs, RA ~440 Ohm um^2, TMR ~130 %,
retention ~5 ms (barrier < 16 k_BT, tau0 ~1 ns), telegraph switching between P and AP whose occupancy is
tilted by spin-transfer torque; "> 95 % AP to > 95 % P by a voltage less than 1 V, ... a current less than
5 uA"; bits are the resistance read every 100 ms. Physics in `physics.telegraph`.

Conventions:

* **bit 1 = P** (parallel, low resistance), bit 0 = AP, as in the paper's Fig. 3 ("probabilities of 1s and 0s
  (parallel and antiparallel states)"). Positive bias voltage favours P.
* A bias V drives the state-dependent current I_P = V / R_P in P and I_AP = V / R_AP in AP, so
  logit p_P(V) = Delta_P - Delta_AP = Delta0 [4 h + V ((1 + h)^2 G_P + (1 - h)^2 G_AP) / I_c0] while both
  barriers are positive: a logistic in V with width ln(19) I_c0 / (Delta0 (G_P + G_AP)) at h = 0.
* I_c0 = 14 uA (default) is our calibration, not a measured value: the paper bounds the 5 % -> 95 % span by
  1 V, which with Delta0 = 15.4 and the mean conductance (G_P + G_AP)/2 = 3.2 uS requires I_c0 < 16.8 uA;
  14 uA gives a span of 0.84 V ("less than 1 V", close to it), a current span of 2.4 uA and at most 2 uA
  at the 5 % / 95 % points (< 5 uA), the same order as the deterministic STT estimate (6.5 uA).

Energy per bit (`energy_per_bit`): the Joule power of the biased junction V^2 <G>(V), <G> = p_P G_P + (1-p_P) G_AP,
times the time per bit. The paper's estimate takes one retention time per bit and R = 500 kOhm at 1 V:
1 V^2 / 500 kOhm x 10 ns = 20 fJ. Bits taken one retention time apart at zero bias are correlated with
coefficient e^{-2} = 0.14 (the correlation time is tau/2); read-out and bias circuitry are not included
(the paper leaves them out too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ConfigError, check_int, check_nonnegative, check_positive, check_range
from ..physics import telegraph as tg
from ..physics.constants import K_B, ROOM_TEMPERATURE
from ..physics.mtj import MTJParams
from .base import Device, DeviceState, Pulses, register_device
from .variation import draw_spread


@dataclass(frozen=True)
class SMTJConfig:
    """Superparamagnetic MTJ of paper 004 (Shao et al. 2020) and how its bit-streams are sampled.

    Attributes:
        ra_ohm_um2: resistance-area product of the P state [Ohm um^2] (paper: ~440).
        diameter_m: junction diameter [m] (paper: 50 nm, circular).
        tmr: TMR ratio as a fraction (paper: ~130 % -> 1.3).
        delta0: zero-bias barrier E_b / k_BT quoted at 300 K (> 0). Default ln(5e6) = 15.42 so that
            tau0 e^Delta0 = 5 ms (paper: retention ~5 ms, E_b < 16 k_BT). At another ``temperature_k`` the
            barrier is delta0 x 300 K / T.
        tau0_s: attempt time [s] (paper: "on the order of 1 ns").
        i_c0_a: critical current I_c0 [A] of the linear STT barrier modulation; 14 uA puts the 5 % -> 95 %
            span at 0.84 V and 2.4 uA (paper: < 1 V, < 5 uA; see the module docstring).
        h_off_ratio: net offset field H_off / H_K in (-1, 1). 0: the -35 mT stray-field offset is compensated
            by the external -35 mT field, as in the paper's measurement.
        sampling_interval_s: time between two read bits [s] (paper: 100 ms).
        temperature_k: temperature [K].
        delta0_dtod: relative device-to-device sigma of the barrier in `SuperparamagneticMTJ` arrays (>= 0).

    Variation knobs: device-to-device ``delta0_dtod``; the telegraph switching itself is the (intended)
    cycle-to-cycle randomness.
    """

    ra_ohm_um2: float = 440.0
    diameter_m: float = 50e-9
    tmr: float = 1.3
    delta0: float = math.log(5e6)
    tau0_s: float = 1e-9
    i_c0_a: float = 14e-6
    h_off_ratio: float = 0.0
    sampling_interval_s: float = 0.1
    temperature_k: float = ROOM_TEMPERATURE
    delta0_dtod: float = 0.0

    def __post_init__(self) -> None:
        check_positive("ra_ohm_um2 (RA)", self.ra_ohm_um2, unit="Ohm um^2")
        check_positive("diameter_m", self.diameter_m, unit="m")
        check_positive("tmr (TMR ratio)", self.tmr, unit="(fraction, 1.3 = 130 %)")
        check_positive("delta0 (energy barrier)", self.delta0, unit="k_BT")
        check_positive("tau0_s (attempt time)", self.tau0_s, unit="s")
        check_positive("i_c0_a (critical current)", self.i_c0_a, unit="A")
        check_range("h_off_ratio (H_off / H_K)", self.h_off_ratio, -1.0, 1.0, lo_open=True, hi_open=True)
        check_positive("sampling_interval_s", self.sampling_interval_s, unit="s")
        check_positive("temperature_k", self.temperature_k, unit="K")
        check_nonnegative("delta0_dtod", self.delta0_dtod, unit="(relative sigma)")

    @property
    def mtj(self) -> MTJParams:
        """Read-out junction (R_P = RA / area, R_AP = R_P (1 + TMR))."""
        return MTJParams.from_diameter(self.ra_ohm_um2, self.diameter_m, self.tmr)

    @property
    def barrier(self) -> float:
        """Barrier at ``temperature_k`` in k_BT: delta0 x 300 K / T."""
        return self.delta0 * ROOM_TEMPERATURE / self.temperature_k

    @property
    def barrier_energy_j(self) -> float:
        """E_b = delta0 k_B (300 K) [J]."""
        return self.delta0 * K_B * ROOM_TEMPERATURE

    @property
    def telegraph(self) -> tg.TelegraphParams:
        """Telegraph-process parameters at ``temperature_k``."""
        return tg.TelegraphParams(self.barrier, self.tau0_s, self.i_c0_a, self.h_off_ratio)

    @property
    def retention_s(self) -> float:
        """Mean dwell time at zero bias, tau0 exp(Delta) [s] (5 ms by default)."""
        return self.tau0_s * math.exp(self.barrier)


def _v(x) -> torch.Tensor:
    """A float64 tensor (keeps the device of a tensor input)."""
    return x.to(torch.float64) if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)


def smtj_rates(
    bias_v: torch.Tensor | float, cfg: SMTJConfig, delta0: torch.Tensor | float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Gamma_{P->AP}, Gamma_{AP->P}) [1/s] at bias ``bias_v`` [V] (current V/R_P in P, V/R_AP in AP)."""
    v = _v(bias_v)
    m = cfg.mtj
    return tg.rates(v * m.g_p, cfg.telegraph, v * m.g_ap, delta0)


def probability_of_one(bias_v: torch.Tensor | float, cfg: SMTJConfig | None = None) -> torch.Tensor:
    """Stationary P(bit = 1) = P(parallel) at bias ``bias_v`` [V] (paper 004 Fig. 3)."""
    cfg = cfg or SMTJConfig()
    v = _v(bias_v)
    m = cfg.mtj
    return tg.occupancy_p(v * m.g_p, cfg.telegraph, v * m.g_ap)


def _check_probabilities(p: torch.Tensor, name: str = "p_one") -> None:
    if p.numel() == 0:
        return
    if bool(torch.isnan(p).any()) or bool((p < 0).any()) or bool((p > 1).any()):
        lo, hi = float(p.nan_to_num(0.5).min()), float(p.nan_to_num(0.5).max())
        raise ConfigError(f"{name} must be probabilities in [0, 1] (no NaN), got values in [{lo:g}, {hi:g}]")


def bias_for_probability(p_one: torch.Tensor | float, cfg: SMTJConfig | None = None) -> torch.Tensor:
    """Bias voltage [V] whose stationary P(bit = 1 = P) is ``p_one``: exact inverse of `probability_of_one`.

    logit p_P(V) is piecewise linear in V (linear while both barriers are positive, then one barrier is clipped
    at 0), so the inverse is closed-form. p = 0 and p = 1 give -inf and +inf.
    """
    cfg = cfg or SMTJConfig()
    p = _v(p_one)
    _check_probabilities(p)
    tp, m = cfg.telegraph, cfg.mtj
    d0, h, ic = tp.delta0, tp.h_off_ratio, tp.i_c0_a
    a, b = (1.0 + h) ** 2, (1.0 - h) ** 2
    logit = torch.log(p) - torch.log1p(-p)
    v_lo, v_hi = -ic / m.g_p, ic / m.g_ap  # where Delta_P resp. Delta_AP reaches 0
    slope = d0 * (a * m.g_p + b * m.g_ap) / ic
    offset = d0 * (a - b)
    lin = (logit - offset) / slope
    above = (logit / (d0 * a) - 1.0) * ic / m.g_p  # Delta_AP = 0: logit = Delta_P
    below = (1.0 + logit / (d0 * b)) * ic / m.g_ap  # Delta_P = 0: logit = -Delta_AP
    l_hi, l_lo = offset + slope * v_hi, offset + slope * v_lo
    v = torch.where(logit > l_hi, above, torch.where(logit < l_lo, below, lin))
    return torch.where(p == 0, -math.inf, torch.where(p == 1, math.inf, v))


def i_c0_for_bias_span(cfg: SMTJConfig, span_v: float = 1.0, p_lo: float = 0.05, p_hi: float = 0.95) -> float:
    """Critical current I_c0 [A] at which the ``p_lo`` -> ``p_hi`` bias span of `probability_of_one` is ``span_v``
    [V], all else as ``cfg``: the span is proportional to I_c0 while both barriers stay positive (at h = 0 it is
    2 ln(19) I_c0 / (Delta (G_P + G_AP)) for 5 -> 95 %), so I_c0 = cfg.i_c0_a x span_v / span(cfg)."""
    check_positive("span_v", span_v, unit="V")
    check_range("p_lo", p_lo, 0.0, 1.0, lo_open=True, hi_open=True)
    check_range("p_hi", p_hi, p_lo, 1.0, lo_open=True, hi_open=True)
    v_lo, v_hi = (float(v) for v in bias_for_probability(torch.tensor([p_lo, p_hi], dtype=torch.float64), cfg))
    return cfg.i_c0_a * span_v / (v_hi - v_lo)


def mean_current(bias_v: torch.Tensor | float, cfg: SMTJConfig | None = None) -> torch.Tensor:
    """Time-averaged current [A] at bias ``bias_v`` [V]: V (p_P G_P + (1 - p_P) G_AP)."""
    cfg = cfg or SMTJConfig()
    v = _v(bias_v)
    return v * mean_conductance(v, cfg)


def mean_conductance(bias_v: torch.Tensor | float, cfg: SMTJConfig | None = None) -> torch.Tensor:
    """Time-averaged conductance [S] at bias ``bias_v`` [V]: p_P G_P + (1 - p_P) G_AP."""
    cfg = cfg or SMTJConfig()
    p = probability_of_one(bias_v, cfg)
    m = cfg.mtj
    return m.g_ap + (m.g_p - m.g_ap) * p


def bitstream_correlation(
    p_one: torch.Tensor | float, cfg: SMTJConfig | None = None, sampling_interval_s: float | None = None, lag: int = 1
) -> torch.Tensor:
    """Correlation coefficient between bits ``lag`` samples apart in `mtj_bitstreams`: exp(-s(V) dt lag)."""
    cfg = cfg or SMTJConfig()
    dt = cfg.sampling_interval_s if sampling_interval_s is None else sampling_interval_s
    check_positive("sampling_interval_s", dt, unit="s")
    g_pa, g_ap = smtj_rates(bias_for_probability(p_one, cfg), cfg)
    return tg.sampled_bit_correlation(dt, g_pa, g_ap, lag)


def mtj_bitstreams(
    p_one: torch.Tensor | float,
    length: int,
    *,
    cfg: SMTJConfig | None = None,
    generator: torch.Generator | None = None,
    sampling_interval_s: float | None = None,
    independent: bool = False,
    backend: str = "auto",
) -> torch.Tensor:
    """Bit-streams from s-MTJs biased to probabilities ``p_one`` [...] (in [0, 1]); returns bool [..., length].

    One device per stream is biased at `bias_for_probability` (so its stationary P(1 = P) equals p) and its
    telegraph process is read every ``sampling_interval_s`` [s] (default ``cfg.sampling_interval_s``, 100 ms):
    the first bit is drawn from the stationary distribution, each next one through the exact two-state
    transition over dt, so bits are correlated with lag-1 coefficient exp(-s dt) (`bitstream_correlation`)
    when dt is comparable to the dwell times (negligible at 100 ms vs 5 ms). ``independent=True`` gives ideal
    Bernoulli(p) bits with the same marginal. Vectorised over streams (compiled kernel on CPU, ~0.3 s for
    10^5 x 1024 bits on 2 cores); reproducible from ``generator``.
    """
    cfg = cfg or SMTJConfig()
    check_int("length (bits per stream)", length, 1)
    dt = cfg.sampling_interval_s if sampling_interval_s is None else sampling_interval_s
    check_positive("sampling_interval_s", dt, unit="s")
    p = _v(p_one)
    _check_probabilities(p)
    if independent:
        return ideal_bitstreams(p, length, generator, backend=backend)
    g_pa, g_ap = smtj_rates(bias_for_probability(p, cfg), cfg)
    p_leave, p_enter = tg.transition_probabilities(g_pa, g_ap, dt)
    # With V = +-inf one rate is 0 and p is exactly 0 or 1; use the requested p as the stationary value.
    p_leave = torch.where(p == 1, 0.0, p_leave)
    p_enter = torch.where(p == 0, 0.0, p_enter)
    return tg.sample_markov_bits(p, 1.0 - p_leave, p_enter, length, generator, backend)


def ideal_bitstreams(
    p_one: torch.Tensor | float, length: int, generator: torch.Generator | None = None, *, backend: str = "auto"
) -> torch.Tensor:
    """Independent Bernoulli(``p_one``) bits: bool [..., length] (the ideal-RNG reference)."""
    check_int("length (bits per stream)", length, 1)
    p = _v(p_one)
    _check_probabilities(p)
    return tg.sample_markov_bits(p, p, p, length, generator, backend)


def energy_per_bit(
    cfg: SMTJConfig, bias_v: torch.Tensor | float, sampling_interval_s: torch.Tensor | float | None = None
) -> torch.Tensor:
    """Joule energy [J] dissipated by the biased junction per bit: V^2 <G>(V) t_bit.

    <G> = p_P G_P + (1 - p_P) G_AP is the time-averaged conductance at bias ``bias_v`` [V]; t_bit is
    ``sampling_interval_s`` [s], by default the retention time tau0 e^Delta0 of ``cfg`` (paper 004's estimate:
    one retention time per bit, 1 V^2 / 500 kOhm x 10 ns = 20 fJ). Bias/read circuitry is not included.
    """
    t = cfg.retention_s if sampling_interval_s is None else sampling_interval_s
    t = _v(t)
    if t.numel() and bool((t <= 0).any()):
        raise ConfigError(f"sampling_interval_s must be > 0 s, got min {float(t.min())!r} s")
    v = _v(bias_v)
    return v * v * mean_conductance(v, cfg) * t


def resistor_energy_per_bit(
    voltage_v: torch.Tensor | float, resistance_ohm: float, bit_time_s: torch.Tensor | float
) -> torch.Tensor:
    """V^2 / R x t_bit [J]: paper 004's energy estimate (1 V, 500 kOhm, tau ~10 ns -> 20 fJ)."""
    check_positive("resistance_ohm", resistance_ohm, unit="Ohm")
    return _v(voltage_v) ** 2 / resistance_ohm * _v(bit_time_s)


def bit_time_for_energy(energy_j: float, voltage_v: float, resistance_ohm: float) -> float:
    """Bit time [s] at which `resistor_energy_per_bit` equals ``energy_j`` [J]: t = E R / V^2 (paper 004: a CMOS
    LFSR's ~10 fJ at 1 V and 500 kOhm is matched at 5 ns)."""
    check_positive("energy_j", energy_j, unit="J")
    check_positive("resistance_ohm", resistance_ohm, unit="Ohm")
    if voltage_v == 0:
        raise ConfigError("voltage_v must be non-zero: no energy is dissipated at 0 V")
    return energy_j * resistance_ohm / voltage_v**2


def bit_time_for_correlation(
    cfg: SMTJConfig, bias_v: torch.Tensor | float, max_correlation: float = 0.01
) -> torch.Tensor:
    """Shortest sampling interval [s] whose lag-1 bit correlation exp(-s(V) dt) is <= ``max_correlation``."""
    check_range("max_correlation", max_correlation, 0.0, 1.0, lo_open=True, hi_open=True)
    g_pa, g_ap = smtj_rates(bias_v, cfg)
    return -math.log(max_correlation) / tg.rate_sum(g_pa, g_ap)


@register_device("smtj")
class SuperparamagneticMTJ(Device):
    """Superparamagnetic MTJ (paper 004): telegraph P/AP switching tilted by the bias; bit 1 = P.

    Registered once, as ``smtj`` (formerly also as ``superparamagnetic-mtj``). A random-number source, not a
    synapse (``is_synapse`` False): it holds no programmed state.

    State: ``parallel`` (bool, True = P) and per-device ``delta0`` (barrier in k_BT at the config temperature).
    ``apply`` advances the telegraph process exactly over the pulse duration (width x count) at the pulse's
    bias (voltage: state-dependent current V / R; current: the same current in both states); a zero amplitude
    lets the magnet fluctuate freely for that time. The energy is the expected Joule energy given the start state.
    """

    config: SMTJConfig

    @classmethod
    def config_class(cls) -> type:
        return SMTJConfig

    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        c = self.config
        d0 = draw_spread(c.barrier, c.delta0_dtod, shape, generator, device, torch.float64)
        p0 = tg.occupancy_p(torch.zeros_like(d0), c.telegraph, delta0=d0)
        parallel = torch.rand(shape, generator=generator, dtype=torch.float64, device=device) < p0
        return DeviceState(parallel=parallel, delta0=d0)

    def conductance(self, state: DeviceState) -> torch.Tensor:
        m, x = self.config.mtj, state["parallel"]
        g_p = torch.tensor(m.g_p, dtype=torch.float64, device=x.device)
        return torch.where(x, g_p, torch.tensor(m.g_ap, dtype=torch.float64, device=x.device))

    def conductance_range(self) -> tuple[float, float]:
        m = self.config.mtj
        return (m.g_ap, m.g_p)

    def rates(self, state: DeviceState, amplitude: torch.Tensor | float, kind: str = "voltage"):
        """(Gamma_{P->AP}, Gamma_{AP->P}) [1/s] of every device under a bias [V] or current [A]."""
        c, m = self.config, self.config.mtj
        a = torch.as_tensor(amplitude, dtype=torch.float64, device=state["delta0"].device)
        if kind == "voltage":
            return tg.rates(a * m.g_p, c.telegraph, a * m.g_ap, state["delta0"])
        return tg.rates(a, c.telegraph, None, state["delta0"])

    def probability_of_one(self, bias_v: torch.Tensor | float) -> torch.Tensor:
        """Stationary P(bit = 1 = P) at bias ``bias_v`` [V] for the nominal device."""
        return probability_of_one(bias_v, self.config)

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        ref = state["delta0"]
        amp = pulses.amplitude_like(ref)
        duration = torch.as_tensor(pulses.width_s, dtype=ref.dtype, device=ref.device) * pulses.count_like(ref).to(
            ref.dtype
        )
        g_pa, g_ap = self.rates(state, amp, pulses.kind)
        x0 = state["parallel"]
        new = tg.sample_transition(x0, g_pa, g_ap, duration, generator)
        # Expected time spent in P: pi T + (x0 - pi)(1 - e^{-sT}) / s.
        s = g_pa + g_ap
        pi = tg.stationary_p(g_pa, g_ap)
        t_p = pi * duration + (x0.to(ref.dtype) - pi) * (-torch.expm1(-s * duration)) / s
        m = self.config.mtj
        if pulses.kind == "voltage":
            energy = amp**2 * (m.g_ap * duration + (m.g_p - m.g_ap) * t_p)
        else:
            energy = amp**2 * (m.r_ap * duration + (m.r_p - m.r_ap) * t_p)
        out = DeviceState(state)
        out["parallel"] = new
        return out, energy

    def sample_bits(
        self,
        state: DeviceState,
        bias_v: torch.Tensor | float,
        length: int,
        *,
        sampling_interval_s: float | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, DeviceState]:
        """Read every device ``length`` times, every ``sampling_interval_s`` [s] (default the config's), under
        a constant bias [V]; returns (bits bool [..., length], state after the last read). Bit k is the state
        (k + 1) dt after ``state``."""
        dt = self.config.sampling_interval_s if sampling_interval_s is None else sampling_interval_s
        check_positive("sampling_interval_s", dt, unit="s")
        g_pa, g_ap = self.rates(state, torch.as_tensor(bias_v, dtype=torch.float64).expand_as(state["delta0"]))
        bits = tg.sample_telegraph(g_pa, g_ap, dt, length, generator, start=state["parallel"])
        out = DeviceState(state)
        out["parallel"] = bits[..., -1].clone()
        return bits, out
