"""1D collective-coordinate (q, phi) domain-wall model with SOT, STT, DMI, pinning and thermal noise.

Wall profile ``theta(x) = 2 arctan exp(Q (x - q)/Delta)``, ``m = (sin theta cos phi, sin theta sin phi, cos theta)``,
Q = +1 for an up/down wall, -1 for down/up; Delta = sqrt(A / K_eff). Thiaville et al. EPL 100, 57002 (2012);
Martinez et al. JAP 115, 213909 (2014); Thiaville et al. EPL 69, 990 (2005) for the beta term; thermal field
as Martinez et al. PRB 75, 174409 (2007). With gamma = gamma0 = mu0 gamma_e and fields in A/m::

    (1+a^2) dq/dt   = Q gamma Delta (a Om_A + Om_B) + (1 + a b) u
    (1+a^2) dphi/dt = Q gamma (Om_A - a Om_B) + (b - a) u / Delta
    Om_A = H_z + Q H_pin(q) + (pi/2) H_SH cos(phi) + H_th,A
    Om_B = -Q (H_K/2) sin(2 phi) - (pi/2) H_DM sin(phi) + H_th,B

derived from the wall energy ``sigma(q, phi)`` (``Om_B = Q/(2 mu0 Ms Delta) d sigma/d phi`` with
``sigma_DMI = Q pi D cos phi``, so that the dynamics dissipate energy at any alpha) and checked against the
m -> -m symmetry (Q -> -Q, phi -> phi + pi, H_z -> -H_z). Note: device-physics.md (c) writes the DMI term
with the opposite sign; with its sign an up/down wall would relax to phi = pi for D < 0, contradicting its
own magnum.np anchor (m_x > 0); our form reproduces the anchor.

* SOT: ``H_SH = hbar theta_SH J_HM / (2 e mu0 Ms t_F)``; u: ``u = g mu_B P J_F / (2 e Ms)``.
* Applied easy-axis (z) field H_z [A/m]: the Zeeman energy of the wall, ``-2 mu0 Ms H_z q`` per wall area
  for Q = +1, gives the pressure ``2 mu0 Ms H_z`` that enters the q equation exactly like the pinning field
  (Malozemoff & Slonczewski 1979; Thiaville et al. 2012). Sign convention: H_z > 0 is along +z, the
  magnetisation of the domain at x < q for Q = +1, so it expands that domain and moves the wall to +x; below
  Walker breakdown the steady velocity is ``v = gamma0 Delta H_z / alpha`` (check C2, `field_velocity`). The
  field is a constant of the model (``DWModel(h_z=...)``) plus an optional per-call, per-track part
  (``DWModel.run(..., h_z=...)``, e.g. a bias field that depends on the pulse polarity).
* Sign convention: a positive drive current I moves the wall toward +x by STT (u > 0: I counts the electron
  flow along +x) and, for D < 0 and theta_SH > 0, also by SOT; flipping D or theta_SH reverses the SOT
  direction (check C5). All presets therefore potentiate (move the wall to +x, growing the parallel region
  x < q) with I > 0.
* Pinning, width-dependent drive and noise, end regions: `dw_tracks.DWTrack` (tabulated, linearly
  interpolated). The wall cannot leave the free layer: the fixed end regions act as hard pinning sites. A wall
  at q = 0 or L pushed outward is held (dq/dt = 0, the constraint force taking up the drive), and its angle then
  follows the constrained equation ``dphi/dt = -Q gamma Om_B / alpha - u / (alpha Delta)`` (it relaxes instead
  of precessing, unless an STT drive exceeds the intrinsic threshold |u| > gamma Delta max|Om_B|, as at any hard
  pinning site); q is also clipped to [0, L] after every step. The wall leaves the end as soon as the push
  reverses.
* Thermal field: two independent white noises with ``<H H> = 2 alpha k_B T / (gamma0 mu0 Ms V_DW) delta(t-t')``,
  ``V_DW = 2 Delta w t`` (fluctuation-dissipation for both channels); per step sigma = sqrt(alpha k_B T /
  (gamma0 mu0 Ms Delta w t dt)).
* phi is kept unwrapped (counts Walker precession turns).

Integrator: stochastic Heun (Stratonovich) with a fixed step. Two backends behind one API: a fused numba CPU
kernel (`_domain_wall_kernels`, default on CPU) and a pure torch path (any torch device, float32 or float64).
They agree to rounding at T = 0 and statistically at T > 0 (different random streams).

Main entry points: `DWModel` (a prepared track), `simulate`, `apply_pulse`, `ramp` (positions after every
pulse of a pulse train, [n_pulses + 1, n_tracks]), `trajectory`; analytic references: `sot_steady_state`,
`saturation_velocity`, `field_velocity`, `diffusion_constant`, `diffusion_rms`, `walker_field`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..config import ConfigError, check_choice, check_int, check_nonnegative, check_positive, check_range
from ..rng import draw_key
from .constants import E_CHARGE, GAMMA0, HBAR, K_B, MU0, MU_B
from .dw_tracks import (
    TRACK_PRESETS,
    DWMaterial,
    DWTrack,
    equally_spaced,
    leonard2022_straight_track,
    leonard2022_trapezoid_track,
    liu2021_current_scale,
    liu2021_sot_track,
    liu2021_stt_track,
    notch_from_geometry,
    sengupta2016_track,
)

__all__ = [
    "BACKENDS", "NOMINAL_PULSES", "TRACK_PRESETS", "DWMaterial", "DWModel", "DWTrack", "DrivePulse", "apply_pulse",
    "calibrated_pulse", "diffusion_constant", "diffusion_rms", "equally_spaced", "equilibrium_phi", "field_velocity", "get_model",
    "leonard2022_straight_track", "leonard2022_trapezoid_track", "liu2021_sot_track", "liu2021_stt_track",
    "nominal_pulse", "notch_from_geometry", "numba_available", "ramp", "recommended_dt", "saturation_velocity",
    "sengupta2016_track", "simulate", "sot_field", "sot_steady_state", "stt_velocity", "thermal_field_sigma",
    "trajectory", "walker_field",
]

BACKENDS = ("auto", "numba", "torch")


@dataclass(frozen=True)
class DrivePulse:
    """One write pulse and the relaxation that follows it.

    Attributes:
        amplitude_a: current amplitude [A] (sign = direction; I > 0 moves the wall to +x).
        width_s: pulse duration [s] (including the ramps).
        relax_s: time [s] integrated after the pulse with no current (the wall settles into a notch).
        rise_s, fall_s: linear rise / fall times [s] inside ``width_s`` (paper 002: 10 ns of a 50 ns pulse).
    """

    amplitude_a: float
    width_s: float = 1e-9
    relax_s: float = 4e-9
    rise_s: float = 0.0
    fall_s: float = 0.0

    def __post_init__(self) -> None:
        check_range("amplitude_a", self.amplitude_a, -1.0, 1.0, unit="A")
        check_positive("width_s (pulse width)", self.width_s, unit="s")
        check_nonnegative("relax_s (relaxation time)", self.relax_s, unit="s")
        check_nonnegative("rise_s", self.rise_s, unit="s")
        check_nonnegative("fall_s", self.fall_s, unit="s")
        if self.rise_s + self.fall_s > self.width_s:
            raise ConfigError(f"rise_s + fall_s = {self.rise_s + self.fall_s:g} s exceeds width_s = {self.width_s:g} s")

    def scaled(self, sign: float) -> DrivePulse:
        """The same pulse with amplitude multiplied by ``sign``."""
        return DrivePulse(self.amplitude_a * sign, self.width_s, self.relax_s, self.rise_s, self.fall_s)


NOMINAL_PULSES = {
    "liu2021-stt": DrivePulse(50e-6, 1e-9, 4e-9),
    "liu2021-sot": DrivePulse(27e-6, 0.5e-9, 8e-9),
    "sengupta2016": DrivePulse(80e-6, 1e-9, 1e-9),
}
"""Paper pulses per track preset: paper 003 STT 1 ns x 50 uA (4 ns relaxation, Fig. 2b), SOT 0.5 ns x 27 uA (8 ns
relaxation: our choice, the paper gives none; the SOT wall needs ~6 tau_phi to come to rest); paper 001 1 ns x
~80 uA (full sweep)."""


def nominal_pulse(track: DWTrack) -> DrivePulse:
    """The paper's nominal pulse of a preset track (by ``track.name``)."""
    try:
        return NOMINAL_PULSES[track.name]
    except KeyError:
        raise ConfigError(f"track {track.name!r} has no nominal pulse; pass pulse=DrivePulse(...)") from None


def calibrated_pulse(track: DWTrack, current_scale: float | None = None) -> DrivePulse:
    """The nominal pulse of a preset track with its amplitude [A] times ``current_scale`` (default: the shared
    paper-003 calibration `dw_tracks.liu2021_current_scale`, 1 for other tracks): STT 1 ns x 50 uA, SOT
    0.5 ns x 27 uA x 1.25 on paper 003's tracks."""
    scale = liu2021_current_scale(track) if current_scale is None else current_scale
    check_positive("current_scale", scale)
    return nominal_pulse(track).scaled(scale)


def numba_available() -> bool:
    """True when the fused numba kernel can be imported."""
    try:
        from . import _domain_wall_kernels  # noqa: F401
    except Exception:  # pragma: no cover - numba missing or broken
        return False
    return True


# ------------------------------------------------------------------------------------------ coefficients
def sot_field(track: DWTrack, current_a: float, x: float = 0.0) -> float:
    """Spin Hall field H_SH = hbar theta_SH J_HM / (2 e mu0 Ms t_F) [A/m] at x for current I [A]."""
    m = track.material
    j = float(track.current_density_hm(current_a, x))
    return HBAR * m.theta_sh * j / (2 * E_CHARGE * MU0 * m.ms_a_per_m * track.thickness_m)


def stt_velocity(track: DWTrack, current_a: float, x: float = 0.0) -> float:
    """STT velocity u = g mu_B P J_F / (2 e Ms) [m/s] at x for current I [A] (paper 003 eq. 1)."""
    m = track.material
    j = float(track.current_density_fm(current_a, x))
    return m.g_factor * MU_B * m.polarization * j / (2 * E_CHARGE * m.ms_a_per_m)


def saturation_velocity(material: DWMaterial) -> float:
    """DMI-limited SOT velocity v_sat = (pi/2) gamma0 |D| / (mu0 Ms) [m/s] (check C3: 474 / 173 m/s)."""
    return 0.5 * math.pi * GAMMA0 * abs(material.dmi_j_per_m2) / (MU0 * material.ms_a_per_m)


def walker_field(track: DWTrack) -> float:
    """Walker field alpha |H_K| / 2 [A/m] of a wall without DMI (check C2)."""
    return track.material.alpha * abs(track.h_k) / 2


def field_velocity(track: DWTrack, h_z: float) -> float:
    """Mean velocity [m/s] of a free wall (D = 0) in a field H_z [A/m]: gamma0 Delta H/alpha below Walker,
    (gamma0 Delta/alpha)(H - sqrt(H^2 - H_W^2)/(1 + alpha^2)) above (check C2)."""
    m = track.material
    mob = GAMMA0 * m.wall_width / m.alpha
    hw = walker_field(track)
    h = abs(h_z)
    v = mob * h if h <= hw else mob * (h - math.sqrt(h * h - hw * hw) / (1 + m.alpha**2))
    return math.copysign(v, h_z)


def diffusion_constant(track: DWTrack, temperature_k: float) -> float:
    """Free-wall diffusion constant with phi locked by DMI: D_q = k_B T gamma0 Delta / (2 alpha mu0 Ms w t)
    [m^2/s] (check C7; exact at long times for any alpha as long as phi is bound)."""
    m = track.material
    return K_B * temperature_k * GAMMA0 * m.wall_width / (2 * m.alpha * MU0 * m.ms_a_per_m * track.width_m * track.thickness_m)


def diffusion_rms(track: DWTrack, temperature_k: float, time_s: float) -> float:
    """Root-mean-square displacement sqrt(2 D_q t) [m] of a free wall after ``time_s`` [s] (`diffusion_constant`)."""
    check_nonnegative("time_s", time_s, unit="s")
    return math.sqrt(2 * diffusion_constant(track, temperature_k) * time_s)


def thermal_field_sigma(track: DWTrack, temperature_k: float, dt_s: float) -> float:
    """Per-step thermal field sigma = sqrt(alpha k_B T / (gamma0 mu0 Ms Delta w t dt)) [A/m] at the reference width."""
    m = track.material
    if temperature_k <= 0:
        return 0.0
    return math.sqrt(m.alpha * K_B * temperature_k
                     / (GAMMA0 * MU0 * m.ms_a_per_m * m.wall_width * track.width_m * track.thickness_m * dt_s))


def equilibrium_phi(track: DWTrack, polarity: int = 1) -> float:
    """Wall angle minimising sigma(phi) = mu0 Ms^2 Delta (N_x cos^2 + N_y sin^2) + Q pi D cos phi."""
    m = track.material
    delta = m.wall_width
    hk = track.h_k

    def energy(p: float) -> float:
        # N_x - N_y = H_K / Ms; the constant N_y part is dropped.
        return MU0 * m.ms_a_per_m * delta * hk * math.cos(p) ** 2 + polarity * math.pi * m.dmi_j_per_m2 * math.cos(p)

    cands = [0.0, math.pi, 0.5 * math.pi]
    if hk != 0:
        c = -polarity * math.pi * m.dmi_j_per_m2 / (2 * MU0 * m.ms_a_per_m * delta * hk)
        if abs(c) <= 1:
            cands.append(math.acos(c))
    best = min(cands, key=lambda p: (energy(p), p))
    return float(best)


def sot_steady_state(track: DWTrack, current_a: float, *, polarity: int = 1, h_z: float = 0.0,
                     x: float = 0.0) -> tuple[float, float]:
    """Analytic steady state (v [m/s], phi [rad]) of a free wall under current I [A] (SOT + STT) and H_z.

    Solves dphi/dt = 0 for the stationary angle next to the equilibrium one and returns
    v = [Q gamma Delta (a Om_A + Om_B) + (1 + a b) u] / (1 + a^2); (nan, nan) above the Walker threshold
    (precessional regime). Pinning is ignored. Sengupta track: 38.4 m/s at J = 1e11 A/m^2 with H_K = 0.
    """
    m = track.material
    a, b, d = m.alpha, m.beta, m.wall_width
    q = float(polarity)
    hk, hdm = track.h_k, m.h_dm
    scale = track.width_m / float(track.width(x))
    coef = 0.5 * math.pi * sot_field(track, current_a) * scale
    u = stt_velocity(track, current_a) * scale

    def oms(p):
        om_a = h_z + coef * np.cos(p)
        om_b = -q * hk * np.sin(p) * np.cos(p) - 0.5 * math.pi * hdm * np.sin(p)
        return om_a, om_b

    def g(p):
        om_a, om_b = oms(p)
        return q * GAMMA0 * (om_a - a * om_b) + (b - a) * u / d

    p0 = equilibrium_phi(track, polarity)
    grid = np.linspace(0, math.pi, 4001)
    best = None
    for sgn in (1.0, -1.0):
        ps = p0 + sgn * grid
        gv = g(ps)
        if gv[0] == 0:
            best = (0.0, p0)
            break
        idx = np.nonzero(np.sign(gv[1:]) != np.sign(gv[:-1]))[0]
        if idx.size:
            k = int(idx[0])
            if best is None or grid[k] < best[0]:
                lo, hi = ps[k], ps[k + 1]
                for _ in range(100):
                    mid = 0.5 * (lo + hi)
                    if np.sign(g(mid)) == np.sign(g(lo)):
                        lo = mid
                    else:
                        hi = mid
                best = (grid[k], 0.5 * (lo + hi))
    if best is None:
        return float("nan"), float("nan")
    p = best[1]
    om_a, om_b = oms(p)
    v = (q * GAMMA0 * d * (a * om_a + om_b) + (1 + a * b) * u) / (1 + a * a)
    return float(v), float(p)


# ------------------------------------------------------------------------------------------ the model
class DWModel:
    """A track prepared for integration: coefficients, tabulated profiles and the equilibrium angle.

    Args:
        track: the track.
        dt_s: time step [s]; None = `recommended_dt`.
        polarity: Q = +1 (up/down wall) or -1.
        h_z: out-of-plane field [A/m].
        table_spacing_m: grid spacing of the tabulated profiles [m] (None: automatic).
    """

    def __init__(self, track: DWTrack, *, dt_s: float | None = None, polarity: int = 1, h_z: float = 0.0,
                 table_spacing_m: float | None = None) -> None:
        check_choice("polarity (Q)", polarity, (1, -1))
        self.track = track
        self.polarity = int(polarity)
        self.h_z = float(h_z)
        self.dt_s = float(dt_s) if dt_s is not None else recommended_dt(track)
        check_positive("dt_s (time step)", self.dt_s, unit="s")
        m = track.material
        self.delta = m.wall_width
        self.spacing, hpin, jsc, nsc = track.tables(table_spacing_m)
        self.hpin = np.ascontiguousarray(hpin, dtype=np.float64)
        self.jsc = np.ascontiguousarray(jsc, dtype=np.float64)
        self.nsc = np.ascontiguousarray(nsc, dtype=np.float64)
        # Signed coefficient of cos(phi) in Om_A per ampere: (pi/2) H_SH(I = 1 A, x = 0).
        self.sot_per_a = 0.5 * math.pi * sot_field(track, 1.0)
        self.u_per_a = stt_velocity(track, 1.0)
        self.phi0 = equilibrium_phi(track, self.polarity)
        self._torch_tables: dict = {}

    def params(self, temperature_k: float = 0.0) -> np.ndarray:
        """The kernel's parameter vector (see `_domain_wall_kernels`)."""
        m, t = self.track.material, self.track
        return np.array([
            self.polarity, GAMMA0 * self.delta, GAMMA0, m.alpha, m.beta, 1.0 / (1.0 + m.alpha**2), self.delta,
            t.h_k, m.h_dm, self.sot_per_a, self.u_per_a, self.h_z,
            thermal_field_sigma(t, temperature_k, self.dt_s), t.length_m, self.spacing, self.dt_s,
        ], dtype=np.float64)

    def steps(self, duration_s: float) -> int:
        """Number of steps covering ``duration_s`` (rounded to the nearest step)."""
        return int(round(float(duration_s) / self.dt_s))

    def init_phi(self, shape, *, device=None, dtype=torch.float64) -> torch.Tensor:
        """Equilibrium wall angle broadcast to ``shape``."""
        return torch.full(shape, self.phi0, dtype=dtype, device=device)

    # ---------------------------------------------------------------------------------- integration
    def run(self, q: torch.Tensor, phi: torch.Tensor, current_a, n_steps: int, *, n_on=None, rise_steps: int = 0,
            fall_steps: int = 0, temperature_k: float = 0.0, generator: torch.Generator | None = None,
            record_every: int = 0, backend: str = "auto", h_z=0.0):
        """Advance walls (q [m], phi [rad], 1-D tensors of equal length) by ``n_steps`` steps.

        ``current_a`` [A] (scalar or per track) flows during the first ``n_on`` steps (scalar or per track,
        default all), with linear ramps of ``rise_steps`` / ``fall_steps``. ``h_z`` [A/m] (scalar or per track)
        is an applied easy-axis field on during all ``n_steps``, added to the model's own ``h_z``. Returns
        (q, phi, record) where record is q every ``record_every`` steps, [n_steps // record_every, N], or None.
        """
        check_choice("backend", backend, BACKENDS)
        check_int("n_steps", n_steps, 0)
        check_nonnegative("temperature_k", temperature_k, unit="K")
        if q.ndim != 1 or q.shape != phi.shape:
            raise ValueError(f"q and phi must be 1-D of equal shape, got {tuple(q.shape)} and {tuple(phi.shape)}")
        n_tr = q.shape[0]
        amp = torch.as_tensor(current_a, dtype=q.dtype, device=q.device).expand(n_tr)
        if n_on is None:
            n_on = n_steps
        on = torch.as_tensor(n_on, dtype=torch.int64, device=q.device).expand(n_tr)
        hz_tr = torch.as_tensor(h_z, dtype=q.dtype, device=q.device).expand(n_tr)
        if backend == "auto":
            backend = "numba" if q.device.type == "cpu" and numba_available() else "torch"
        n_rec = n_steps // record_every if record_every > 0 else 0
        thermal = temperature_k > 0
        if backend == "numba":
            from . import _domain_wall_kernels as kern

            qn = q.detach().to("cpu", torch.float64).numpy().copy()
            pn = phi.detach().to("cpu", torch.float64).numpy().copy()
            seed = draw_key(generator) if thermal else 0
            rec = np.zeros((max(n_rec, 1), n_tr), dtype=np.float64)
            kern.integrate(qn, pn, amp.detach().to("cpu", torch.float64).numpy().copy(),
                           hz_tr.detach().to("cpu", torch.float64).numpy().copy(), on.to("cpu").numpy().copy(),
                           int(n_steps), int(rise_steps), int(fall_steps),
                           self.params(temperature_k), self.hpin, self.jsc, self.nsc, np.uint64(seed), thermal,
                           int(record_every) if n_rec else 0, rec)
            out_q = torch.from_numpy(qn).to(device=q.device, dtype=q.dtype)
            out_p = torch.from_numpy(pn).to(device=q.device, dtype=q.dtype)
            record = torch.from_numpy(rec[:n_rec]).to(device=q.device, dtype=q.dtype) if n_rec else None
            return out_q, out_p, record
        return self._run_torch(q, phi, amp, on, n_steps, rise_steps, fall_steps, temperature_k, generator,
                               record_every, n_rec, hz_tr)

    def _tables(self, device, dtype):
        key = (str(device), dtype)
        if key not in self._torch_tables:
            self._torch_tables[key] = tuple(torch.as_tensor(t, dtype=dtype, device=device)
                                            for t in (self.hpin, self.jsc, self.nsc))
        return self._torch_tables[key]

    def _run_torch(self, q, phi, amp, on, n_steps, rise, fall, temperature_k, generator, record_every, n_rec,
                   hz_tr=None):
        """Pure torch Heun loop: the same arithmetic as the numba kernel, vectorised over tracks."""
        p = self.params(temperature_k)
        hpin, jsc, nsc = self._tables(q.device, q.dtype)
        n = hpin.shape[0]
        Q, gd, g, a, b, inv, d, hk, hdm, sot, u_a, hz, sig, L, h, dt = (float(v) for v in p)
        if hz_tr is not None and bool((hz_tr != 0).any()):
            hz = hz + hz_tr.to(q.dtype)
        half_pi = 0.5 * math.pi
        c_stt = 1.0 + a * b
        c_phi = (b - a) / d
        q = q.clone()
        ph = phi.clone()
        on_f = on.to(q.dtype)
        thermal = temperature_k > 0
        rec = torch.empty((n_rec, q.shape[0]), dtype=q.dtype, device=q.device) if n_rec else None
        zero = torch.zeros_like(q)

        def rhs(qq, pp, cur, xa, xb):
            s = qq / h
            k = torch.floor(s).clamp_(0, n - 2)
            f = (s - k).clamp_(0.0, 1.0)
            k = k.long()
            hp = hpin[k] + f * (hpin[k + 1] - hpin[k])
            js = jsc[k] + f * (jsc[k + 1] - jsc[k])
            sn, cs = torch.sin(pp), torch.cos(pp)
            drive = cur * js
            u = u_a * drive
            om_a = hz + Q * hp + sot * drive * cs
            om_b = -Q * hk * sn * cs - half_pi * hdm * sn
            if thermal:
                ns = nsc[k] + f * (nsc[k + 1] - nsc[k])
                om_a = om_a + sig * ns * xa
                om_b = om_b + sig * ns * xb
            dq = (Q * gd * (a * om_a + om_b) + c_stt * u) * inv
            dp = (Q * g * (om_a - a * om_b) + c_phi * u) * inv
            held = ((qq <= 0.0) & (dq < 0.0)) | ((qq >= L) & (dq > 0.0))
            dp = torch.where(held, -(Q * g * om_b + u / d) / a, dp)
            dq = torch.where(held, torch.zeros_like(dq), dq)
            return dq, dp

        for kstep in range(n_steps):
            env = _torch_envelope(kstep, on_f, rise, fall)
            cur = amp * env
            if thermal:
                xi = torch.randn((2, q.shape[0]), generator=generator, dtype=q.dtype, device=q.device)
                xa, xb = xi[0], xi[1]
            else:
                xa = xb = zero
            dq1, dp1 = rhs(q, ph, cur, xa, xb)
            dq2, dp2 = rhs(q + dt * dq1, ph + dt * dp1, cur, xa, xb)
            q = (q + 0.5 * dt * (dq1 + dq2)).clamp_(0.0, L)
            ph = ph + 0.5 * dt * (dp1 + dp2)
            if n_rec and (kstep + 1) % record_every == 0:
                rec[(kstep + 1) // record_every - 1] = q
        return q, ph, rec


def _torch_envelope(k: int, on_f: torch.Tensor, rise: int, fall: int) -> torch.Tensor:
    e = (on_f > k).to(on_f.dtype)
    if rise > 0:
        e = e * min(1.0, (k + 0.5) / rise)
    if fall > 0:
        e = e * ((on_f - k - 0.5) / fall).clamp(max=1.0)
    return e


def recommended_dt(track: DWTrack) -> float:
    """A Heun step [s] resolving the fastest relaxation of the track (phi in the DMI / anisotropy well, q in
    the steepest pinning slope) with ~5 steps, clipped to [0.05, 2] ps (ramps of paper 003 are unchanged
    between this step and a 4x smaller one)."""
    m = track.material
    a = m.alpha
    rate_phi = GAMMA0 * (0.5 * math.pi * abs(m.h_dm) + abs(track.h_k)) / (1 + a * a)
    h, hpin, _, _ = track.tables()
    curv = float(np.abs(np.diff(hpin)).max() / h) if hpin.size > 1 else 0.0
    mob = GAMMA0 * m.wall_width * (1 / a if m.dmi_j_per_m2 != 0 else a)
    rate = max(rate_phi, mob * curv, 1e9)
    return float(min(max(0.2 / rate, 5e-14), 2e-12))


@functools.lru_cache(maxsize=64)
def get_model(track: DWTrack, dt_s: float | None = None, polarity: int = 1, h_z: float = 0.0) -> DWModel:
    """A cached `DWModel` for (track, dt, polarity, H_z)."""
    return DWModel(track, dt_s=dt_s, polarity=polarity, h_z=h_z)


# ------------------------------------------------------------------------------------------ functional API
def simulate(track: DWTrack, q: torch.Tensor, phi: torch.Tensor | None, current_a, duration_s: float, *,
             on_s=None, temperature_k: float = 0.0, generator: torch.Generator | None = None,
             dt_s: float | None = None, polarity: int = 1, h_z: float = 0.0, backend: str = "auto"):
    """Integrate walls for ``duration_s`` [s] with ``current_a`` [A] on during ``on_s`` (default: all the time).

    ``phi`` None starts at the equilibrium angle. Returns (q, phi).
    """
    model = get_model(track, dt_s, polarity, h_z)
    if phi is None:
        phi = model.init_phi(q.shape, device=q.device, dtype=q.dtype)
    n = model.steps(duration_s)
    n_on = None if on_s is None else torch.round(torch.as_tensor(on_s, dtype=torch.float64) / model.dt_s).to(torch.int64)
    q1, p1, _ = model.run(q, phi, current_a, n, n_on=n_on, temperature_k=temperature_k, generator=generator,
                          backend=backend)
    return q1, p1


def apply_pulse(track: DWTrack, q: torch.Tensor, phi: torch.Tensor, pulse: DrivePulse, amplitude_a=None, *,
                width_s=None, temperature_k: float = 0.0, generator: torch.Generator | None = None,
                dt_s: float | None = None, polarity: int = 1, h_z: float = 0.0, backend: str = "auto"):
    """One pulse (per-track ``amplitude_a`` [A] and ``width_s`` [s] override the pulse's) then its relaxation.

    Every track is integrated for max(width) + relax_s. Returns (q, phi).
    """
    model = get_model(track, dt_s, polarity, h_z)
    amp = pulse.amplitude_a if amplitude_a is None else amplitude_a
    if width_s is None:
        n_on = model.steps(pulse.width_s)
        n_max = n_on
    else:
        n_on = torch.round(torch.as_tensor(width_s, dtype=torch.float64) / model.dt_s).to(torch.int64)
        n_max = int(n_on.max()) if n_on.numel() else 0
    n = n_max + model.steps(pulse.relax_s)
    q1, p1, _ = model.run(q, phi, amp, n, n_on=n_on, rise_steps=model.steps(pulse.rise_s),
                          fall_steps=model.steps(pulse.fall_s), temperature_k=temperature_k, generator=generator,
                          backend=backend)
    return q1, p1


def ramp(track_or_device, n_pulses: int, direction: int | str | Sequence[int] = 1, pulse: DrivePulse | None = None,
         *, n_tracks: int = 1, temperature_k: float = 0.0, generator: torch.Generator | None = None,
         q0_m: float | torch.Tensor | None = None, dt_s: float | None = None, return_phi: bool = False,
         backend: str = "auto", device: torch.device | str | None = None, dtype: torch.dtype = torch.float64,
         h_z: float = 0.0):
    """Positions [m] after each pulse of a train, shape [n_pulses + 1, n_tracks] (row 0: start).

    Args:
        track_or_device: a `DWTrack` or a device whose ``config.track`` is one.
        n_pulses: number of pulses.
        direction: +1 / -1 for every pulse, a sequence of n_pulses signs, or "updown" (first half +1, second
            half -1, paper 003 Fig. 2d).
        pulse: the pulse (amplitude sign is multiplied by the direction); None = the preset's nominal pulse.
        n_tracks: independent walls (thermal replicas).
        temperature_k: temperature [K].
        generator: torch.Generator for the thermal field.
        q0_m: start position(s) [m]; None = first notch (or 0 without notches).
        h_z: applied easy-axis field [A/m] during the whole train (> 0 pushes the wall to +x).
        return_phi: also return the angles [n_pulses + 1, n_tracks].

    The pulse train of paper 003 (SOT 0.5 ns x 27 uA + 8 ns relaxation, 2 ps steps) on 1000 tracks x 64 pulses at
    300 K is 2.7e8 track-steps: ~3-10 s with the numba kernel on two (shared) cores.
    """
    track = getattr(getattr(track_or_device, "config", None), "track", track_or_device)
    if not isinstance(track, DWTrack):
        raise TypeError(f"ramp needs a DWTrack or a device with config.track, got {type(track_or_device).__name__}")
    check_int("n_pulses", n_pulses, 0)
    check_int("n_tracks", n_tracks, 1)
    if pulse is None:
        pulse = nominal_pulse(track)
    if isinstance(direction, str):
        check_choice("direction", direction, ("updown", "downup"))
        up = n_pulses // 2
        signs = [1] * up + [-1] * (n_pulses - up)
        if direction == "downup":
            signs = [-s for s in signs]
    elif isinstance(direction, int):
        signs = [int(np.sign(direction))] * n_pulses
    else:
        signs = [int(np.sign(s)) for s in direction]
        if len(signs) != n_pulses:
            raise ConfigError(f"direction has {len(signs)} entries for n_pulses = {n_pulses}")
    model = get_model(track, dt_s, 1, float(h_z))
    if q0_m is None:
        q0_m = track.notch_positions_m[0] if track.notch_positions_m else 0.0
    q = torch.as_tensor(q0_m, dtype=dtype, device=device).expand(n_tracks).clone()
    phi = model.init_phi((n_tracks,), device=device, dtype=dtype)
    out = torch.empty((n_pulses + 1, n_tracks), dtype=dtype, device=device)
    phis = torch.empty_like(out) if return_phi else None
    out[0] = q
    if return_phi:
        phis[0] = phi
    n_on = model.steps(pulse.width_s)
    n = n_on + model.steps(pulse.relax_s)
    for k, s in enumerate(signs):
        q, phi, _ = model.run(q, phi, pulse.amplitude_a * s, n, n_on=n_on, rise_steps=model.steps(pulse.rise_s),
                              fall_steps=model.steps(pulse.fall_s), temperature_k=temperature_k,
                              generator=generator, backend=backend)
        out[k + 1] = q
        if return_phi:
            phis[k + 1] = phi
    return (out, phis) if return_phi else out


def trajectory(track: DWTrack, current_a, duration_s: float, *, n_tracks: int = 1, on_s: float | None = None,
               record_dt_s: float = 10e-12, q0_m: float = 0.0, temperature_k: float = 0.0,
               generator: torch.Generator | None = None, dt_s: float | None = None, polarity: int = 1,
               h_z: float = 0.0, backend: str = "auto", dtype: torch.dtype = torch.float64, device=None):
    """q(t) of walls driven by ``current_a`` (scalar or [n_tracks]) for ``on_s`` (default the whole time).

    Returns (times [s], q [n_records + 1, n_tracks] with row 0 = q0, final phi).
    """
    model = get_model(track, dt_s, polarity, h_z)
    n_steps = model.steps(duration_s)
    every = max(1, int(round(record_dt_s / model.dt_s)))
    n_on = None if on_s is None else model.steps(on_s)
    q = torch.full((n_tracks,), float(q0_m), dtype=dtype, device=device)
    phi = model.init_phi((n_tracks,), device=device, dtype=dtype)
    q1, p1, rec = model.run(q, phi, current_a, n_steps, n_on=n_on, temperature_k=temperature_k,
                            generator=generator, record_every=every, backend=backend)
    rec = rec if rec is not None else torch.empty((0, n_tracks), dtype=dtype, device=device)
    qs = torch.cat([q[None], rec], 0)
    times = torch.arange(qs.shape[0], dtype=torch.float64) * every * model.dt_s
    return times, qs, p1
