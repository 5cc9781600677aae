"""Stochastic macrospin LLG(S) solver: a batch of single-domain free layers under field, SOT, STT and heat.

Landau-Lifshitz (explicit) form of the Gilbert equation, integrated for a batch ``m: [B, 3]`` of unit vectors:

    dm/dt = -gamma0 / (1 + alpha^2) [ m x H + alpha m x (m x H) ]

    H = H_K (m.u) u - Ms N m + H_ext + H_SOT + H_STT + H_th                                   [A/m]
    H_SOT = H_DL [ (m x sigma) + r_SOT sigma ],   H_DL = hbar theta_SH J_SOT / (2 e mu0 Ms t_F)
    H_STT = a_J eps(m.p) [ (m x p) + r_STT p ],   a_J  = hbar J_STT / (2 e mu0 Ms t_F)
    eps = eta (constant), or eps(x) = P L^2 / ((L^2 + 1) + (L^2 - 1) x)   (Slonczewski, MuMax3 form)
    <H_th,i(t) H_th,j(t')> = 2 alpha k_B T / (gamma0 mu0 Ms V) delta_ij delta(t - t')

with H_K = 2 K_eff / (mu0 Ms). The spin torques enter as pseudo-fields inside H, so the alpha cross-terms of
the Gilbert equation come out automatically. Sign convention: a positive damping-like amplitude (J > 0,
theta_SH > 0) pulls m towards sigma (SOT) or p (STT). References: Brown, Phys. Rev. 130, 1677 (1963);
Garcia-Palacios & Lazaro, PRB 58, 14937 (1998); Liu et al., Science 336, 555 (2012); Lee et al.,
APL 102, 112410 (2013); Slonczewski, JMMM 159, L1 (1996); device-physics.md section 1(b).

Integrator: stochastic Heun (predictor-corrector) with the thermal field drawn once per step,
H_th = xi sqrt(2 alpha k_B T / (gamma0 mu0 Ms V dt)), xi ~ N(0, 1)^3, and used in both stages, which
converges to the Stratonovich solution; |m| is renormalised after every step. Use a fixed step
dt <~ 0.02 * 2 pi / (gamma0 H_max) (about 0.1-1 ps for H_K ~ 6e5 A/m).

Two backends, one physics:
  * ``"numba"``: a fused CPU kernel (``_macrospin_kernels``) looping over the steps inside compiled code, with
    per-macrospin streams of `spinaptic.rng`'s counter-based generator (Box-Muller normals), keyed from the
    caller's generator. Default on CPU.
  * ``"torch"``: plain eager torch, one Python iteration per step; any device and dtype, randomness from the
    ``torch.Generator``. The two backends draw different random numbers but agree in distribution, and to
    rounding error when T = 0.

Currents are piecewise constant: a run is a sequence of ``Segment(duration_s, j_sot, j_stt)``. Per-device
values (K_eff, volume, temperature, current densities) broadcast over the batch as [B] tensors, so
device-to-device variation is just a tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ..config import (
    ConfigError,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_range,
    replace,
)
from ..rng import BACKENDS as BACKENDS
from ..rng import draw_key, resolve_backend
from . import _macrospin_kernels as _k
from .constants import E_CHARGE, GAMMA0, GAMMA_E, HBAR, K_B, MU0

PerDevice = float | Sequence[float] | np.ndarray | torch.Tensor
"""A scalar, or one value per macrospin (a 1-D sequence, array or tensor of length B)."""
Vec3 = tuple[float, float, float]


__all__ = [
    "MacrospinParams",
    "Segment",
    "MacrospinResult",
    "SwitchEvents",
    "disc_volume",
    "k_eff_for_barrier",
    "stt_critical_current_density",
    "simulate",
    "count_switches",
    "switching_probability",
    "energy",
    "effective_field",
]


def disc_volume(diameter_m: float, thickness_m: float) -> float:
    """Volume [m^3] of a cylindrical free layer of ``diameter_m`` [m] and ``thickness_m`` [m]."""
    check_positive("diameter_m", diameter_m, unit="m")
    check_positive("thickness_m", thickness_m, unit="m")
    return math.pi * diameter_m**2 / 4.0 * thickness_m


def k_eff_for_barrier(barrier_kt: float, volume_m3: float, temperature_k: float) -> float:
    """Anisotropy K_eff [J/m^3] of a uniaxial free layer of ``volume_m3`` [m^3] whose barrier K_eff V / (k_B T)
    is ``barrier_kt`` [k_BT] at ``temperature_k`` [K] (inverse of `MacrospinParams.barrier_kt`)."""
    check_positive("barrier_kt", barrier_kt, unit="k_BT")
    check_positive("volume_m3", volume_m3, unit="m^3")
    check_positive("temperature_k", temperature_k, unit="K")
    return barrier_kt * K_B * temperature_k / volume_m3


def stt_critical_current_density(params: MacrospinParams) -> float | torch.Tensor:
    """Zero-temperature threshold J_c0 = alpha H_K / (eta a_J/J) [A/m^2] of collinear STT switching.

    For p along the easy axis and a constant efficiency eta (``stt_polarization`` None), the damping-like torque
    cancels the damping at eta a_J = alpha H_K (Sun, PRB 62, 570, 2000), i.e. I_c0 = (4 e alpha / (hbar eta))
    Delta k_B T for a disc of barrier Delta.
    """
    if params.stt_polarization is not None or params.stt_eta <= 0:
        raise ConfigError("stt_critical_current_density needs a constant STT efficiency stt_eta > 0 "
                          "(stt_polarization None)")
    return params.alpha * params.hk_a_per_m / (params.stt_eta * params.stt_field_per_current)


def _unit3(name: str, v: Sequence[float]) -> Vec3:
    try:
        x = [float(a) for a in v]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a 3-vector of numbers, got {v!r}") from None
    if len(x) != 3 or not all(math.isfinite(a) for a in x):
        raise ConfigError(f"{name} must be a finite 3-vector, got {v!r}")
    n = math.sqrt(sum(a * a for a in x))
    if n == 0.0:
        raise ConfigError(f"{name} must be a non-zero vector (it is normalised to a unit vector)")
    return (x[0] / n, x[1] / n, x[2] / n)


def _vec3(name: str, v: Sequence[float], lo: float = -math.inf, hi: float = math.inf, unit: str = "") -> Vec3:
    try:
        x = [float(a) for a in v]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a 3-vector of numbers, got {v!r}") from None
    if len(x) != 3:
        raise ConfigError(f"{name} must have 3 components, got {v!r}")
    for i, a in enumerate(x):
        check_range(f"{name}[{i}]", a, lo, hi, unit=unit)
    return (x[0], x[1], x[2])


def _per_device(
    name: str, v: PerDevice, *, unit: str, lo: float = -math.inf, lo_open: bool = False
) -> float | torch.Tensor:
    """Validate a scalar or 1-D per-device value; returns a float or a CPU float64 tensor [B]."""
    if isinstance(v, int | float):
        return check_range(name, v, lo, math.inf, unit=unit, lo_open=lo_open, hi_open=True)
    t = torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v).detach()
    t = t.to(device="cpu", dtype=torch.float64)
    if t.ndim == 0:
        return check_range(name, float(t), lo, math.inf, unit=unit, lo_open=lo_open, hi_open=True)
    if t.ndim != 1 or t.numel() == 0:
        raise ConfigError(f"{name} must be a scalar or a 1-D per-device sequence, got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ConfigError(f"{name} must be finite{' in ' + unit if unit else ''}")
    check_range(f"{name} (min over devices)", float(t.min()), lo, math.inf, unit=unit, lo_open=lo_open)
    return t


def _ratio(a: float | torch.Tensor, b: float | torch.Tensor) -> float | torch.Tensor:
    """a / b, with a / 0 = inf for floats as for tensors."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.as_tensor(a, dtype=torch.float64) / b
    return a / b if b != 0 else math.inf


@dataclass(frozen=True, eq=False)
class MacrospinParams:
    """Material, geometry and torque parameters of a (batch of) macrospin free layer(s).

    Defaults: the perpendicular CoFeB-like disc of device-physics.md section 1(b) (50 nm x 1.5 nm, Ms = 1.1e6 A/m,
    K_eff = 4e5 J/m^3, alpha = 0.01, so H_K = 5.79e5 A/m and f_FMR = 20.4 GHz), no current torques.
    Fields marked *per device* take a scalar or a [B] sequence/array/tensor (device-to-device variation).

    Attributes:
        ms_a_per_m: saturation magnetisation Ms [A/m] (> 0).
        volume_m3: free-layer volume V [m^3] (> 0), per device. ``disc_volume`` or ``from_disc`` build it.
        alpha: Gilbert damping (>= 0).
        k_eff_j_per_m3: effective uniaxial anisotropy K_eff [J/m^3], per device (negative = easy plane).
            Thin film: K_eff = K_u - mu0 Ms^2 / 2 (then leave ``demag_factors`` at 0).
        easy_axis: anisotropy axis u (normalised to a unit vector). The switch counter uses m.u.
        demag_factors: diagonal demagnetising factors (N_x, N_y, N_z) in [0, 1]; H_d = -Ms N m [A/m].
        h_ext_a_per_m: applied field H_ext [A/m], 3-vector.
        temperature_k: temperature T [K] (>= 0), per device.
        t_f_m: free-layer thickness t_F [m] (> 0), used in the torque prefactors.
        theta_sh: spin Hall angle theta_SH of the heavy metal (sign included).
        sot_sigma: SOT spin polarisation sigma = z x j_hat (normalised); default +y for current along +x.
        sot_fl_ratio: field-like / damping-like SOT ratio r = xi_FL / xi_DL.
        stt_eta: constant STT efficiency eta (eps = eta; eta = P/2 in the simplest form), in [0, 1].
        stt_polarization: spin polarisation P in [0, 1]; if given, eps(m.p) takes the Slonczewski form with
            ``stt_lambda`` and ``stt_eta`` must stay 0.
        stt_lambda: Slonczewski asymmetry Lambda (> 0); only with ``stt_polarization`` (Lambda = 1 gives P/2).
        stt_p: reference-layer magnetisation p (normalised).
        stt_fl_ratio: field-like / damping-like STT ratio (eps' = ratio * eps).
    """

    ms_a_per_m: float = 1.1e6
    volume_m3: PerDevice = 2.945e-24
    alpha: float = 0.01
    k_eff_j_per_m3: PerDevice = 4.0e5
    easy_axis: Vec3 = (0.0, 0.0, 1.0)
    demag_factors: Vec3 = (0.0, 0.0, 0.0)
    h_ext_a_per_m: Vec3 = (0.0, 0.0, 0.0)
    temperature_k: PerDevice = 300.0
    t_f_m: float = 1.5e-9
    theta_sh: float = 0.0
    sot_sigma: Vec3 = (0.0, 1.0, 0.0)
    sot_fl_ratio: float = 0.0
    stt_eta: float = 0.0
    stt_polarization: float | None = None
    stt_lambda: float = 1.0
    stt_p: Vec3 = (0.0, 0.0, 1.0)
    stt_fl_ratio: float = 0.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(
            self,
            "ms_a_per_m",
            check_positive("ms_a_per_m (saturation magnetisation)", self.ms_a_per_m, unit="A/m"),
        )
        s(
            self,
            "volume_m3",
            _per_device("volume_m3 (free-layer volume)", self.volume_m3, unit="m^3", lo=0.0, lo_open=True),
        )
        s(self, "alpha", check_nonnegative("alpha (Gilbert damping)", self.alpha))
        s(
            self,
            "k_eff_j_per_m3",
            _per_device("k_eff_j_per_m3 (effective anisotropy)", self.k_eff_j_per_m3, unit="J/m^3"),
        )
        s(self, "easy_axis", _unit3("easy_axis", self.easy_axis))
        s(self, "demag_factors", _vec3("demag_factors", self.demag_factors, 0.0, 1.0))
        s(self, "h_ext_a_per_m", _vec3("h_ext_a_per_m (applied field)", self.h_ext_a_per_m, unit="A/m"))
        s(self, "temperature_k", _per_device("temperature_k", self.temperature_k, unit="K", lo=0.0))
        s(self, "t_f_m", check_positive("t_f_m (free-layer thickness)", self.t_f_m, unit="m"))
        s(self, "theta_sh", check_range("theta_sh (spin Hall angle)", self.theta_sh))
        s(self, "sot_sigma", _unit3("sot_sigma (SOT polarisation)", self.sot_sigma))
        s(self, "sot_fl_ratio", check_range("sot_fl_ratio (SOT field-like ratio)", self.sot_fl_ratio))
        s(self, "stt_eta", check_range("stt_eta (STT efficiency)", self.stt_eta, 0.0, 1.0))
        s(self, "stt_lambda", check_positive("stt_lambda (Slonczewski Lambda)", self.stt_lambda))
        if self.stt_polarization is not None:
            s(self, "stt_polarization", check_range("stt_polarization (P)", self.stt_polarization, 0.0, 1.0))
            if self.stt_eta != 0.0:
                raise ConfigError(
                    "give either stt_eta (constant efficiency) or stt_polarization (Slonczewski), not both"
                )
        elif self.stt_lambda != 1.0:
            raise ConfigError("stt_lambda only acts with stt_polarization (Slonczewski form); set both")
        s(self, "stt_p", _unit3("stt_p (reference-layer direction)", self.stt_p))
        s(self, "stt_fl_ratio", check_range("stt_fl_ratio (STT field-like ratio)", self.stt_fl_ratio))
        n = {
            t.numel()
            for t in (self.volume_m3, self.k_eff_j_per_m3, self.temperature_k)
            if isinstance(t, torch.Tensor) and t.numel() > 1
        }
        if len(n) > 1:
            raise ConfigError(f"per-device parameters have different lengths {sorted(n)}")

    @classmethod
    def from_disc(cls, diameter_m: float, thickness_m: float, **kw) -> MacrospinParams:
        """Parameters of a disc of ``diameter_m`` [m] and ``thickness_m`` [m] (sets volume_m3 and t_f_m)."""
        return cls(volume_m3=disc_volume(diameter_m, thickness_m), t_f_m=thickness_m, **kw)

    # --- derived quantities (floats or [B] tensors, following the per-device fields) ----------------------
    @property
    def n_devices(self) -> int:
        """Length of the per-device fields (1 if all are scalars)."""
        n = [
            t.numel()
            for t in (self.volume_m3, self.k_eff_j_per_m3, self.temperature_k)
            if isinstance(t, torch.Tensor)
        ]
        return max(n, default=1)

    @property
    def hk_a_per_m(self) -> float | torch.Tensor:
        """Anisotropy field H_K = 2 K_eff / (mu0 Ms) [A/m]."""
        return 2.0 * self.k_eff_j_per_m3 / (MU0 * self.ms_a_per_m)

    @property
    def barrier_kt(self) -> float | torch.Tensor:
        """Energy barrier Delta = K_eff V / (k_B T) (uniaxial, zero field), in units of k_B T (inf at T = 0)."""
        return _ratio(self.k_eff_j_per_m3 * self.volume_m3, K_B * self.temperature_k)

    @property
    def neel_time_s(self) -> float | torch.Tensor:
        """Brown's diffusion time tau_N = (1 + alpha^2) Ms V / (2 alpha gamma k_B T) [s] (inf at alpha T = 0)."""
        num = (1 + self.alpha**2) * self.ms_a_per_m * self.volume_m3
        return _ratio(num, 2 * self.alpha * GAMMA_E * K_B * self.temperature_k)

    @property
    def fmr_frequency_hz(self) -> float | torch.Tensor:
        """Small-angle precession frequency f = gamma0 H_K / (2 pi) [Hz] about the easy axis (zero field)."""
        return GAMMA0 * self.hk_a_per_m / (2 * math.pi)

    @property
    def sot_field_per_current(self) -> float:
        """H_DL / J_SOT = hbar theta_SH / (2 e mu0 Ms t_F) [(A/m) / (A/m^2) = m]."""
        return HBAR * self.theta_sh / (2 * E_CHARGE * MU0 * self.ms_a_per_m * self.t_f_m)

    @property
    def stt_field_per_current(self) -> float:
        """a_J / J_STT = hbar / (2 e mu0 Ms t_F) [m] (multiplied by eps(m.p) in the torque)."""
        return HBAR / (2 * E_CHARGE * MU0 * self.ms_a_per_m * self.t_f_m)

    def thermal_field_std(self, dt_s: float) -> float | torch.Tensor:
        """Per-component std of the discrete thermal field, sqrt(2 alpha k_B T / (gamma0 mu0 Ms V dt)) [A/m]."""
        var = (
            2
            * self.alpha
            * K_B
            * self.temperature_k
            / (GAMMA0 * MU0 * self.ms_a_per_m * self.volume_m3 * dt_s)
        )
        return var**0.5

    def stt_efficiency_coefficients(self) -> tuple[float, float, float]:
        """(EN, EA, EB) with eps(x) = EN / (EA + EB x), x = m.p."""
        if self.stt_polarization is None:
            return self.stt_eta, 1.0, 0.0
        l2 = self.stt_lambda**2
        return self.stt_polarization * l2, l2 + 1.0, l2 - 1.0


@dataclass(frozen=True, eq=False)
class Segment:
    """A piece of piecewise-constant drive: ``duration_s`` [s] at current densities [A/m^2].

    ``j_sot_a_per_m2`` is the charge current density in the heavy metal, ``j_stt_a_per_m2`` the one through the
    MTJ; each is a scalar or a [B] per-device sequence/tensor. The duration is rounded to a whole number of steps.
    """

    duration_s: float
    j_sot_a_per_m2: PerDevice = 0.0
    j_stt_a_per_m2: PerDevice = 0.0

    def __post_init__(self) -> None:
        check_nonnegative("duration_s (segment duration)", self.duration_s, unit="s")


@dataclass
class MacrospinResult:
    """Outcome of ``simulate``.

    Attributes:
        m: final unit vectors [B, 3].
        trajectory: recorded states [T, B, 3] (``record="m"``) or m.u [T, B] (``record="mz"``), or None.
        t_s: times [s] of the recorded states [T], or None.
        n_steps: number of steps integrated.  dt_s: the step [s].
    """

    m: torch.Tensor
    trajectory: torch.Tensor | None
    t_s: torch.Tensor | None
    n_steps: int
    dt_s: float


@dataclass
class SwitchEvents:
    """Switching events counted with hysteresis by ``count_switches``.

    Attributes:
        times_s: [B, K] times [s] of the first K switches of each macrospin (NaN where not reached).
        counts: [B] number of switches recorded (<= K).
        m: [B, 3] final states (a macrospin stops at its K-th switch).
        max_events: K.
    """

    times_s: torch.Tensor
    counts: torch.Tensor
    m: torch.Tensor
    max_events: int

    @property
    def first_passage_s(self) -> torch.Tensor:
        """[B] time of the first switch [s] (NaN if none): the first-passage time from the initial state."""
        return self.times_s[:, 0]

    @property
    def completed(self) -> torch.Tensor:
        """[B] bool: the macrospin reached all K switches (so none of its intervals is censored)."""
        return self.counts >= self.max_events

    def dwell_times_s(self) -> torch.Tensor:
        """All complete intervals between consecutive switches [s], pooled over macrospins (1-D).

        A dwell starts when m.u crosses the hysteresis level into a well (+-b) and ends when it crosses -+b out
        of it, so it is the first-passage time from x = +-b to x = -+b, not from the well bottom.
        """
        d = self.times_s[:, 1:] - self.times_s[:, :-1]
        return d[torch.isfinite(d)]


class _Coeffs(NamedTuple):
    """Prepared coefficients of one run, in the state's dtype and device (fields in A/m)."""

    hk: torch.Tensor  # [B]
    sig: torch.Tensor  # [B]
    a_sot: torch.Tensor  # [S, B]
    a_stt: torch.Tensor  # [S, B]
    seg_steps: list[int]
    par: np.ndarray  # [N_PAR] float64, see _macrospin_kernels.P_*
    thermal_on: bool
    sot_on: bool
    stt_on: bool


def _batch(
    v: float | torch.Tensor, b: int, name: str, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    t = torch.as_tensor(
        np.asarray(v) if not isinstance(v, torch.Tensor | float | int) else v, dtype=torch.float64
    )
    t = t.to(device=device, dtype=torch.float64).reshape(-1)
    if t.numel() == 1:
        return t.expand(b).to(dtype)
    if t.numel() != b:
        raise ConfigError(f"{name} has {t.numel()} per-device values but the batch has {b} macrospins")
    return t.to(dtype)


def _batch_size(m0: torch.Tensor, params: MacrospinParams, currents: Sequence[PerDevice]) -> int:
    if m0.ndim == 2:
        return m0.shape[0]
    n = [params.n_devices]
    for j in currents:
        if not isinstance(j, int | float):
            n.append(int(np.asarray(j).size) if not isinstance(j, torch.Tensor) else j.numel())
    return max(n)


def _prepare(
    m0: torch.Tensor,
    params: MacrospinParams,
    dt_s: float,
    segments: Sequence[Segment],
    threshold: float = 0.5,
) -> tuple[torch.Tensor, _Coeffs]:
    """Validate inputs; return the normalised state [B, 3] and the run coefficients."""
    if not isinstance(m0, torch.Tensor):
        m0 = torch.as_tensor(np.asarray(m0), dtype=torch.float64)
    if m0.dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"m0 must be float32 or float64, got {m0.dtype}")
    if m0.shape[-1] != 3 or m0.ndim not in (1, 2):
        raise ConfigError(f"m0 must have shape [3] or [B, 3], got {tuple(m0.shape)}")
    dt_s = check_positive("dt_s (time step)", dt_s, unit="s")
    b = _batch_size(m0, params, [c for s in segments for c in (s.j_sot_a_per_m2, s.j_stt_a_per_m2)])
    m = m0.detach().expand(b, 3) if m0.ndim == 1 else m0.detach()
    nrm = m.norm(dim=1, keepdim=True)
    if not bool(torch.isfinite(m).all()) or bool((nrm == 0).any()):
        raise ConfigError("m0 must be finite and non-zero (it is normalised to unit length)")
    m = (m / nrm).contiguous()
    dtype, dev = m.dtype, m.device

    def bt(v, name):
        return _batch(v, b, name, torch.float64, dev)

    p = params
    temp = bt(p.temperature_k, "temperature_k")
    vol = bt(p.volume_m3, "volume_m3")
    hk = bt(p.hk_a_per_m, "k_eff_j_per_m3")
    sig = torch.sqrt(2 * p.alpha * K_B * temp / (GAMMA0 * MU0 * p.ms_a_per_m * vol * dt_s))
    seg_steps = [int(round(s.duration_s / dt_s)) for s in segments]
    if not segments:
        raise ConfigError("at least one segment (or n_steps) is needed")
    a_sot = torch.stack([bt(s.j_sot_a_per_m2, "j_sot_a_per_m2") for s in segments]) * p.sot_field_per_current
    a_stt = torch.stack([bt(s.j_stt_a_per_m2, "j_stt_a_per_m2") for s in segments]) * p.stt_field_per_current
    en, ea, eb = p.stt_efficiency_coefficients()
    par = np.zeros(_k.N_PAR)
    par[_k.P_G] = GAMMA0 * dt_s / (1 + p.alpha**2)
    par[_k.P_ALPHA] = p.alpha
    par[_k.P_U : _k.P_U + 3] = p.easy_axis
    par[_k.P_ND : _k.P_ND + 3] = [p.ms_a_per_m * n for n in p.demag_factors]
    par[_k.P_HEXT : _k.P_HEXT + 3] = p.h_ext_a_per_m
    par[_k.P_SIGMA : _k.P_SIGMA + 3] = p.sot_sigma
    par[_k.P_RSOT] = p.sot_fl_ratio
    par[_k.P_P : _k.P_P + 3] = p.stt_p
    par[_k.P_EN], par[_k.P_EA], par[_k.P_EB] = en, ea, eb
    par[_k.P_RSTT] = p.stt_fl_ratio
    par[_k.P_THR] = threshold
    par[_k.P_HALF] = 0.5
    par[_k.P_ONE] = 1.0
    co = _Coeffs(
        hk=hk.to(dtype),
        sig=sig.to(dtype),
        a_sot=a_sot.to(dtype),
        a_stt=a_stt.to(dtype),
        seg_steps=seg_steps,
        par=par,
        thermal_on=bool((sig > 0).any()),
        sot_on=bool((a_sot != 0).any()),
        stt_on=bool((a_stt != 0).any()) and en != 0.0,
    )
    return m, co


def _key(generator: torch.Generator | None, needed: bool) -> np.uint64:
    """The kernel's `spinaptic.rng` key from the caller's generator (drawn only when noise is needed)."""
    if not needed:
        return np.uint64(0)
    if generator is None:
        raise ConfigError(
            "a torch.Generator is required when T > 0 (randomness only from an explicit generator)"
        )
    return draw_key(generator)


# --- torch backend -------------------------------------------------------------------------------------------
def _field_torch(m, hk, a_sot, a_stt, h_th, c: _Coeffs, vec) -> torch.Tensor:
    """H [A/m] for m [B, 3]: anisotropy + demag + applied + SOT + STT pseudo-fields + thermal."""
    u, nd, hext, sigma, p = vec
    par = c.par.tolist()  # Python floats: numpy scalars times tensors take a slow path
    h = (hk * (m @ u))[:, None] * u - nd * m + hext
    if h_th is not None:
        h = h + h_th
    if c.sot_on:
        h = h + a_sot[:, None] * (torch.linalg.cross(m, sigma.expand_as(m)) + par[_k.P_RSOT] * sigma)
    if c.stt_on:
        eps = par[_k.P_EN] / (par[_k.P_EA] + par[_k.P_EB] * (m @ p))
        h = h + (a_stt * eps)[:, None] * (torch.linalg.cross(m, p.expand_as(m)) + par[_k.P_RSTT] * p)
    return h


def _rhs_torch(m: torch.Tensor, h: torch.Tensor, g: float, alpha: float) -> torch.Tensor:
    """dt dm/dt = -g [m x H + alpha m x (m x H)], g = gamma0 dt / (1 + alpha^2)."""
    mxh = torch.linalg.cross(m, h)
    return -g * (mxh + alpha * torch.linalg.cross(m, mxh))


def _heun_step_torch(m, hk, a_sot, a_stt, h_th, c: _Coeffs, vec) -> torch.Tensor:
    """One stochastic Heun step (same H_th in both stages) followed by renormalisation."""
    g, alpha = float(c.par[_k.P_G]), float(c.par[_k.P_ALPHA])
    d1 = _rhs_torch(m, _field_torch(m, hk, a_sot, a_stt, h_th, c, vec), g, alpha)
    mp = m + d1
    d2 = _rhs_torch(mp, _field_torch(mp, hk, a_sot, a_stt, h_th, c, vec), g, alpha)
    m = m + 0.5 * (d1 + d2)
    return m / m.norm(dim=1, keepdim=True)


def _vectors(c: _Coeffs, dtype, device):
    def t(i):
        return torch.tensor(c.par[i : i + 3], dtype=dtype, device=device)

    return t(_k.P_U), t(_k.P_ND), t(_k.P_HEXT), t(_k.P_SIGMA), t(_k.P_P)


def _integrate_torch(m, c: _Coeffs, generator, record_every: int, record_mz: bool, max_events: int):
    b, dtype, dev = m.shape[0], m.dtype, m.device
    vec = _vectors(c, dtype, dev)
    u = vec[0]
    total = sum(c.seg_steps)
    traj = [] if record_every > 0 else None
    events = torch.full((b, max_events), -1, dtype=torch.int64, device=dev)
    counts = torch.zeros(b, dtype=torch.int64, device=dev)
    live = torch.ones(b, dtype=torch.bool, device=dev)
    well = torch.where(m @ u < 0, -1, 1).to(torch.int8)
    thr = float(c.par[_k.P_THR])
    rows = torch.arange(b, device=dev)
    step = 0
    done = False
    for s, n in enumerate(c.seg_steps):
        a_sot, a_stt = c.a_sot[s], c.a_stt[s]
        for _ in range(n):
            h_th = None
            if c.thermal_on:
                h_th = c.sig[:, None] * torch.randn((b, 3), generator=generator, dtype=dtype, device=dev)
            m_new = _heun_step_torch(m, c.hk, a_sot, a_stt, h_th, c, vec)
            m = torch.where(live[:, None], m_new, m) if max_events > 0 else m_new
            step += 1
            if max_events > 0:
                x = m @ u
                hit = live & (((well > 0) & (x < -thr)) | ((well < 0) & (x > thr)))
                if bool(hit.any()):
                    idx = rows[hit]
                    events[idx, counts[idx]] = step
                    counts[idx] += 1
                    well = torch.where(hit, -well, well)
                    live &= counts < max_events
                    if not bool(live.any()):
                        done = True
                        break
            if traj is not None and step % record_every == 0:
                traj.append((m @ u).clone() if record_mz else m.clone())
        if done:
            break
    tr = None
    if traj is not None:
        tr = torch.stack(traj) if traj else m.new_zeros((0, b) if record_mz else (0, b, 3))
        if record_mz:
            tr = tr.reshape(-1, b)
        n_rec = total // record_every
        if tr.shape[0] < n_rec:  # unreachable without events; kept for shape consistency
            pad = tr.new_zeros((n_rec - tr.shape[0], *tr.shape[1:]))
            tr = torch.cat([tr, pad])
    return m, tr, events, counts


# --- numba backend -------------------------------------------------------------------------------------------
def _integrate_numba(m, c: _Coeffs, key, record_every: int, record_mz: bool, max_events: int):
    b = m.shape[0]
    npdt = np.float32 if m.dtype == torch.float32 else np.float64
    mm = m.numpy().astype(npdt, copy=True)
    total = sum(c.seg_steps)
    n_rec = total // record_every if record_every > 0 else 0
    traj = np.zeros((n_rec, b, 1 if record_mz else 3), npdt)
    events = np.full((b, max_events), -1, np.int64)
    counts = np.zeros(b, np.int64)
    _k.integrate(
        mm,
        np.ascontiguousarray(c.hk.numpy()),
        np.ascontiguousarray(c.sig.numpy()),
        np.asarray(c.seg_steps, np.int64),
        np.ascontiguousarray(c.a_sot.numpy()),
        np.ascontiguousarray(c.a_stt.numpy()),
        c.par.astype(npdt),
        c.thermal_on,
        c.sot_on,
        c.stt_on,
        key,
        int(record_every),
        traj,
        events,
        counts,
    )
    tr = None
    if record_every > 0:
        tr = torch.from_numpy(traj[..., 0] if record_mz else traj)
    return torch.from_numpy(mm), tr, torch.from_numpy(events), torch.from_numpy(counts)


def _run(
    m,
    c: _Coeffs,
    generator,
    backend: str,
    record_every: int = 0,
    record_mz: bool = False,
    max_events: int = 0,
):
    if backend == "numba":
        key = _key(generator, c.thermal_on)
        return _integrate_numba(m, c, key, record_every, record_mz, max_events)
    if c.thermal_on and generator is None:
        raise ConfigError(
            "a torch.Generator is required when T > 0 (randomness only from an explicit generator)"
        )
    return _integrate_torch(m, c, generator, record_every, record_mz, max_events)


def _segments(
    dt_s: float, n_steps: int | None, j_sot: PerDevice, j_stt: PerDevice, segments: Sequence[Segment] | None
) -> list[Segment]:
    if segments is None:
        if n_steps is None:
            raise ConfigError("give n_steps (constant currents) or segments")
        n = check_int("n_steps", n_steps, lo=0)
        return [Segment(n * dt_s, j_sot, j_stt)]
    if (
        n_steps is not None
        or not (isinstance(j_sot, int | float) and j_sot == 0)
        or not (isinstance(j_stt, int | float) and j_stt == 0)
    ):
        raise ConfigError(
            "with segments=..., the currents and durations come from the segments: "
            "do not also pass n_steps, j_sot or j_stt"
        )
    return list(segments)


# --- public API ----------------------------------------------------------------------------------------------
def simulate(
    m0: torch.Tensor,
    params: MacrospinParams,
    *,
    dt_s: float,
    n_steps: int | None = None,
    j_sot: PerDevice = 0.0,
    j_stt: PerDevice = 0.0,
    segments: Sequence[Segment] | None = None,
    generator: torch.Generator | None = None,
    backend: str = "auto",
    record_every: int = 0,
    record: str = "m",
) -> MacrospinResult:
    """Integrate the stochastic LLG(S) equation for a batch of macrospins.

    Args:
        m0: initial unit vectors [B, 3] (or [3], broadcast); float32 or float64; normalised on input. Its
            device and dtype set those of the run.
        params: material and torque parameters (per-device fields of length B or scalars).
        dt_s: time step [s] (fixed; Heun is weak order 1 with noise, so check convergence by halving it).
        n_steps: number of steps at constant currents ``j_sot`` and ``j_stt`` [A/m^2] (scalars or [B]).
        segments: instead of ``n_steps``/``j_*``: a piecewise-constant drive, e.g.
            ``[Segment(1e-9), Segment(2e-9, j_sot_a_per_m2=1e12), Segment(3e-9)]``.
        generator: the torch.Generator all randomness comes from; required when T > 0.
        backend: "numba" (fused CPU kernel), "torch" (eager, any device) or "auto" (numba on CPU).
        record_every: store the state every that many steps (0 = only the final state).
        record: "m" stores [T, B, 3]; "mz" stores only m.u (the easy-axis projection) as [T, B].
    Returns:
        MacrospinResult with the final ``m`` [B, 3] (and the trajectory when recorded).
    """
    segs = _segments(dt_s, n_steps, j_sot, j_stt, segments)
    check_int("record_every", record_every, lo=0)
    check_choice("record", record, ("m", "mz"))
    m, c = _prepare(m0, params, dt_s, segs)
    be = resolve_backend(backend, m.device)
    mf, tr, _, _ = _run(m, c, generator, be, record_every, record == "mz", 0)
    total = sum(c.seg_steps)
    t = None
    if record_every > 0:
        t = torch.arange(1, total // record_every + 1, dtype=torch.float64) * (record_every * dt_s)
        tr = tr.to(m.device)
    return MacrospinResult(m=mf.to(m.device), trajectory=tr, t_s=t, n_steps=total, dt_s=dt_s)


def count_switches(
    m0: torch.Tensor,
    params: MacrospinParams,
    *,
    dt_s: float,
    max_steps: int,
    max_events: int = 1,
    threshold: float = 0.5,
    j_sot: PerDevice = 0.0,
    j_stt: PerDevice = 0.0,
    generator: torch.Generator | None = None,
    backend: str = "auto",
) -> SwitchEvents:
    """Times of the first ``max_events`` switches of each macrospin, counted with hysteresis, without trajectories.

    A switch from the + well (m.u > 0 initially) counts when m.u < -threshold, then one back when
    m.u > +threshold, and so on; barrier-top recrossings are not counted (device-physics.md section 2, B3). Each
    macrospin stops at its ``max_events``-th switch; the run stops when all have, or after ``max_steps`` steps.
    Starting from m = +u, ``first_passage_s`` is the first-passage time from x = 1 to x = -threshold whose
    mean is T(b) of the axially symmetric Fokker-Planck equation; ``dwell_times_s()`` are those from +-b to -+b.

    Args:
        m0 [B, 3] (or [3]), params, dt_s [s], j_sot / j_stt [A/m^2], generator, backend: as in ``simulate``.
        max_steps: step budget (a macrospin that has not finished by then has NaN times).
        max_events: K, switches recorded per macrospin.
        threshold: hysteresis level b in (0, 1) on m.u.
    """
    check_int("max_steps", max_steps, lo=1)
    check_int("max_events", max_events, lo=1)
    check_range("threshold (hysteresis level b)", threshold, 0.0, 1.0, lo_open=True, hi_open=True)
    m, c = _prepare(m0, params, dt_s, [Segment(max_steps * dt_s, j_sot, j_stt)], threshold=threshold)
    be = resolve_backend(backend, m.device)
    mf, _, ev, counts = _run(m, c, generator, be, 0, False, max_events)
    times = ev.to(torch.float64) * dt_s
    times[ev < 0] = math.nan
    return SwitchEvents(
        times_s=times.to(m.device), counts=counts.to(m.device), m=mf.to(m.device), max_events=max_events
    )


def switching_probability(
    params: MacrospinParams,
    *,
    pulse_width_s: float,
    n_trials: int,
    dt_s: float,
    j_sot: float | Sequence[float] | torch.Tensor = 0.0,
    j_stt: float | Sequence[float] | torch.Tensor = 0.0,
    generator: torch.Generator | None = None,
    equilibrate_s: float = 0.0,
    relax_s: float = 1e-9,
    tilt_rad: float = 0.0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    backend: str = "auto",
) -> torch.Tensor:
    """Fraction of ``n_trials`` macrospins that end in the -u well after one rectangular current pulse.

    Each trial starts at m = +u (tilted by ``tilt_rad`` [rad], which a collinear STT at T = 0 needs), relaxes for
    ``equilibrate_s`` [s] without current (thermal equilibrium in the + well when T > 0), receives a pulse of
    ``pulse_width_s`` [s] at ``j_sot`` / ``j_stt`` [A/m^2], then relaxes for ``relax_s`` [s] without current; a
    trial has switched if m.u < 0 at the end. ``j_sot`` and ``j_stt`` may
    be 1-D sequences of amplitudes (same length, or one of them scalar): all amplitudes run in one batch of
    n_amplitudes x n_trials macrospins. Per-device parameters must be scalars or of length ``n_trials`` (trial k
    is device k at every amplitude). Returns a tensor of probabilities with the shape of the amplitudes
    (0-d for scalars).
    """
    n_trials = check_int("n_trials", n_trials, lo=1)
    check_positive("pulse_width_s", pulse_width_s, unit="s")
    check_nonnegative("equilibrate_s", equilibrate_s, unit="s")
    check_nonnegative("relax_s", relax_s, unit="s")
    check_range("tilt_rad", tilt_rad, 0.0, math.pi / 2, unit="rad")
    js = torch.as_tensor(j_sot, dtype=torch.float64).reshape(-1)
    jt = torch.as_tensor(j_stt, dtype=torch.float64).reshape(-1)
    scalar = torch.as_tensor(j_sot).ndim == 0 and torch.as_tensor(j_stt).ndim == 0
    n_amp = max(js.numel(), jt.numel())
    if js.numel() not in (1, n_amp) or jt.numel() not in (1, n_amp):
        raise ConfigError(f"j_sot and j_stt have incompatible lengths {js.numel()} and {jt.numel()}")
    js, jt = js.expand(n_amp), jt.expand(n_amp)
    nd = params.n_devices
    if nd not in (1, n_trials):
        raise ConfigError(
            f"per-device parameters have length {nd}; switching_probability needs 1 or n_trials"
        )
    if nd > 1:
        tile = {
            f: getattr(params, f).repeat(n_amp)
            if isinstance(getattr(params, f), torch.Tensor)
            else getattr(params, f)
            for f in ("volume_m3", "k_eff_j_per_m3", "temperature_k")
        }
        params = replace(params, **tile)
    b = n_amp * n_trials
    j_pulse_sot = js.repeat_interleave(n_trials)
    j_pulse_stt = jt.repeat_interleave(n_trials)
    segs = [Segment(equilibrate_s), Segment(pulse_width_s, j_pulse_sot, j_pulse_stt), Segment(relax_s)]
    u = torch.tensor(params.easy_axis, dtype=torch.float64)
    w = torch.linalg.cross(
        u, torch.tensor([1.0, 0.0, 0.0] if abs(float(u[0])) < 0.9 else [0.0, 1.0, 0.0], dtype=torch.float64)
    )
    m0 = math.cos(tilt_rad) * u + math.sin(tilt_rad) * w / w.norm()
    u = u.to(dtype=dtype, device=device)
    res = simulate(
        m0.to(dtype=dtype, device=device).expand(b, 3),
        params,
        dt_s=dt_s,
        segments=segs,
        generator=generator,
        backend=backend,
    )
    p = (res.m @ u < 0).to(torch.float64).reshape(n_amp, n_trials).mean(dim=1)
    return p.reshape(()) if scalar else p


def energy(m: torch.Tensor, params: MacrospinParams) -> torch.Tensor:
    """Free energy E = V [-K_eff (m.u)^2 + (mu0 Ms^2 / 2) sum_i N_i m_i^2 - mu0 Ms H_ext.m] [J] of m [B, 3] -> [B].

    Spin-torque pseudo-fields are not conservative and have no energy; at alpha = 0, T = 0 and no current E is
    conserved, and with alpha > 0 it decreases (device-physics.md section 2, B6).
    """
    b, dtype, dev = m.shape[0], m.dtype, m.device
    p = params
    f64 = torch.float64
    u = torch.tensor(p.easy_axis, dtype=f64, device=dev)
    nvec = torch.tensor(p.demag_factors, dtype=f64, device=dev)
    hext = torch.tensor(p.h_ext_a_per_m, dtype=f64, device=dev)
    mm = m.to(f64)
    k = _batch(p.k_eff_j_per_m3, b, "k_eff_j_per_m3", f64, dev)
    v = _batch(p.volume_m3, b, "volume_m3", f64, dev)
    e = (
        -k * (mm @ u) ** 2
        + 0.5 * MU0 * p.ms_a_per_m**2 * ((mm * mm) @ nvec)
        - MU0 * p.ms_a_per_m * (mm @ hext)
    )
    return (v * e).to(dtype)


def effective_field(
    m: torch.Tensor,
    params: MacrospinParams,
    *,
    j_sot: PerDevice = 0.0,
    j_stt: PerDevice = 0.0,
) -> torch.Tensor:
    """Deterministic effective field H [A/m] of m [B, 3] including the SOT/STT pseudo-fields (no thermal field)."""
    mm, c = _prepare(m, params, 1e-12, [Segment(0.0, j_sot, j_stt)])
    vec = _vectors(c, mm.dtype, mm.device)
    return _field_torch(mm, c.hk, c.a_sot[0], c.a_stt[0], None, c, vec)
