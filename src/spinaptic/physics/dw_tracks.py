"""Domain-wall tracks: material, width profile, notch potential, end regions, write-current path.

A track is the geometry the 1D (q, phi) wall model of `domain_wall` runs on. The wall moves along x in
[0, L] (the free layer); everything position-dependent is folded into three profiles tabulated on a grid:

* pinning field ``h_pin(x)`` [A/m] (a force per wall area, ``F = 2 mu0 Ms t w H``, the same for both wall
  polarities), the sum of
  - notches: ``V(q) = -sum_n V_n sech^2((q - x_n)/lambda)`` with depth V_n [J] and range lambda [m],
    ``H = -V'(q) / (2 mu0 Ms t w(q))`` (device-physics.md (c); the depth and range are the fit knobs that
    the micromagnetic calibration sets, see `notch_from_geometry` for the missing-area estimate);
  - the taper: the wall energy ``sigma_w t w(q)`` grows with the width, ``H_geo = -sigma_w w'/(2 mu0 Ms w)``
    pushes the wall to the narrow end (device-physics.md (e));
  - the end regions of fixed magnetisation (paper 003: 30 / 50 nm): the stray field of the two domains,
    which extend into the fixed regions, pushes the wall to the centre. For a thin strip (t << w) the
    out-of-plane field on the wall from a domain whose far end is a distance ``a`` away is
    ``-(Ms t / 4 pi) I(a)`` with ``I(a) = (4/w) (sqrt(a^2 + w^2/4)/a - 1)`` (sheet charges +-Ms on the two
    faces, integrated over the strip width); the wall feels ``(Ms t/4 pi)(I(a_L) - I(a_R))``. For paper
    003's STT track this drifts a wall started at x = 960 nm by ~180 nm in 50 ns (paper: ~200 nm).
* drive scale ``w_ref / w(x)``: the current density, hence the SOT field and the STT velocity, follow the
  local width (``J(x) = I / cross-section(x)``, device-physics.md (e));
* noise scale ``sqrt(w_ref / w(x))``: the thermal field scales as ``1/sqrt(V_DW)``, ``V_DW = 2 Delta w t``.

Current path: the write current I splits between heavy metal and ferromagnet like two resistors in
parallel (``f_HM = (t_HM/rho_HM) / (t_HM/rho_HM + t_F/rho_F)``); the HM part drives spin-orbit torque, the
FM part spin-transfer torque. Paper 001 quotes J over the HM+FM stack (equal resistivities), paper 003's
HM "has the same thickness and resistivity as the FM, so that half of the injected current acts on the DW
by STT and the other half by SOT". ``write_resistance_ohm`` is the resistance of that path along the whole
track, the R of the I^2 R t programming energy; voltage pulses see it plus ``access_resistance_ohm``.

Presets: `sengupta2016_track` (paper 001 Table I), `liu2021_stt_track`, `liu2021_sot_track` (paper 003),
`leonard2022_trapezoid_track`, `leonard2022_straight_track` (paper 002).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..config import ConfigError, check_int, check_nonnegative, check_positive, check_range
from .constants import MU0


@dataclass(frozen=True)
class DWMaterial:
    """Magnetic parameters of the free layer (SI).

    Attributes:
        ms_a_per_m: saturation magnetisation Ms [A/m].
        a_ex_j_per_m: exchange stiffness A [J/m].
        ku_j_per_m3: perpendicular anisotropy K_u [J/m^3]; K_eff = K_u - mu0 Ms^2 / 2 (thin film).
        alpha: Gilbert damping.
        beta: non-adiabatic STT parameter (paper 003: "nonadiabaticity factor zeta").
        dmi_j_per_m2: interfacial DMI constant D [J/m^2], MuMax3 / magnum.np sign convention
            (``sigma_DMI = Q pi D cos phi``: D < 0 makes an up/down wall point along +x).
        theta_sh: spin Hall angle of the heavy-metal underlayer.
        polarization: spin polarisation P of the current in the ferromagnet (STT).
        g_factor: Lande g (u = g mu_B P J / (2 e Ms)).
    """

    ms_a_per_m: float = 8e5
    a_ex_j_per_m: float = 1.3e-11
    ku_j_per_m3: float = 5e5
    alpha: float = 0.05
    beta: float = 0.05
    dmi_j_per_m2: float = -0.5e-3
    theta_sh: float = 0.2
    polarization: float = 0.7
    g_factor: float = 2.0

    def __post_init__(self) -> None:
        check_positive("ms_a_per_m (Ms)", self.ms_a_per_m, unit="A/m")
        check_positive("a_ex_j_per_m (exchange A)", self.a_ex_j_per_m, unit="J/m")
        check_positive("ku_j_per_m3 (K_u)", self.ku_j_per_m3, unit="J/m^3")
        check_range("alpha (Gilbert damping)", self.alpha, 0.0, 10.0, lo_open=True)
        check_range("beta (non-adiabaticity)", self.beta, 0.0, 10.0)
        check_range("dmi_j_per_m2 (D)", self.dmi_j_per_m2, -0.1, 0.1, unit="J/m^2")
        check_range("theta_sh (spin Hall angle)", self.theta_sh, -2.0, 2.0)
        check_range("polarization (P)", self.polarization, 0.0, 1.0)
        check_positive("g_factor", self.g_factor)
        if self.k_eff <= 0:
            raise ConfigError(
                f"ku_j_per_m3 = {self.ku_j_per_m3:g} J/m^3 gives K_eff = K_u - mu0 Ms^2/2 = {self.k_eff:g} J/m^3 <= 0: "
                "the film is not perpendicular"
            )
        if self.wall_energy <= 0:
            raise ConfigError(
                f"dmi_j_per_m2 = {self.dmi_j_per_m2:g} J/m^2 exceeds the critical |D_c| = 4 sqrt(A K_eff)/pi = "
                f"{4 * math.sqrt(self.a_ex_j_per_m * self.k_eff) / math.pi:g} J/m^2 (negative wall energy)"
            )

    @property
    def k_eff(self) -> float:
        """Thin-film effective anisotropy K_eff = K_u - mu0 Ms^2/2 [J/m^3]."""
        return self.ku_j_per_m3 - MU0 * self.ms_a_per_m**2 / 2

    @property
    def wall_width(self) -> float:
        """Wall width parameter Delta = sqrt(A / K_eff) [m] (paper 001 Table I: 7.6 nm)."""
        return math.sqrt(self.a_ex_j_per_m / self.k_eff)

    @property
    def wall_energy(self) -> float:
        """Wall energy per area sigma_w = 4 sqrt(A K_eff) - pi |D| [J/m^2]."""
        return 4 * math.sqrt(self.a_ex_j_per_m * self.k_eff) - math.pi * abs(self.dmi_j_per_m2)

    @property
    def h_dm(self) -> float:
        """DMI field H_DM = D / (mu0 Ms Delta) [A/m] (signed)."""
        return self.dmi_j_per_m2 / (MU0 * self.ms_a_per_m * self.wall_width)


def _tuple(x) -> tuple[float, ...]:
    return tuple(float(v) for v in x)


@dataclass(frozen=True)
class DWTrack:
    """A domain-wall track: material, geometry, notches, end regions and write-current path (SI).

    Attributes:
        material: free-layer parameters.
        length_m: free length L [m]; the wall moves in [0, L] (x = 0 is the "IN" / narrow end).
        width_m: width w0 at x = 0 [m]; also the reference width of the drive and noise scales.
        width_end_m: width at x = L [m] for a linear taper (trapezoid); None = straight track.
        thickness_m: ferromagnet thickness t_F [m].
        hm_thickness_m: heavy-metal thickness t_HM [m]; 0 = no heavy metal (pure STT track).
        fm_resistivity_ohm_m, hm_resistivity_ohm_m: resistivities [Ohm m] (current split, write resistance).
        notch_positions_m: notch centres x_n [m] in [0, L].
        notch_depth_j: notch depth V0 [J] (energy of the wall at the notch centre below the free track).
        notch_width_m: notch range lambda [m] of the sech^2 well.
        notch_depth_factors: per-notch multipliers of V0 (empty = all 1), e.g. fabrication spread.
        notch_scales_with_width: True = V_n = V0 w(x_n)/w0 (notches cut a fixed fraction of the local
            width, so the pinning field and the depinning current density are the same everywhere);
            False = same V0 everywhere.
        end_length_m: length of each end region of fixed magnetisation [m] (paper 003: 30 nm STT, 50 nm SOT).
        end_field_scale: multiplier of the end-region stray field (0 switches it off; 1 = thin-strip formula).
        h_k_a_per_m: wall shape anisotropy H_K = (N_x - N_y) Ms [A/m]; None = Mougin N_x = t ln2/(pi Delta),
            N_y = t/(t + w0).
        access_resistance_ohm: series resistance of contacts and access transistor [Ohm] seen by voltage pulses.
        name: label.
    """

    material: DWMaterial = field(default_factory=DWMaterial)
    length_m: float = 1050e-9
    width_m: float = 50e-9
    width_end_m: float | None = None
    thickness_m: float = 1.5e-9
    hm_thickness_m: float = 0.0
    fm_resistivity_ohm_m: float = 6.3e-7
    hm_resistivity_ohm_m: float = 6.3e-7
    notch_positions_m: tuple[float, ...] = ()
    notch_depth_j: float = 0.0
    notch_width_m: float = 10e-9
    notch_depth_factors: tuple[float, ...] = ()
    notch_scales_with_width: bool = False
    end_length_m: float = 0.0
    end_field_scale: float = 1.0
    h_k_a_per_m: float | None = None
    access_resistance_ohm: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "notch_positions_m", _tuple(self.notch_positions_m))
        object.__setattr__(self, "notch_depth_factors", _tuple(self.notch_depth_factors))
        check_positive("length_m (track length L)", self.length_m, unit="m")
        check_positive("width_m (track width)", self.width_m, unit="m")
        if self.width_end_m is not None:
            check_positive("width_end_m (width at x = L)", self.width_end_m, unit="m")
        check_positive("thickness_m (FM thickness)", self.thickness_m, unit="m")
        check_nonnegative("hm_thickness_m (heavy-metal thickness)", self.hm_thickness_m, unit="m")
        check_positive("fm_resistivity_ohm_m", self.fm_resistivity_ohm_m, unit="Ohm m")
        check_positive("hm_resistivity_ohm_m", self.hm_resistivity_ohm_m, unit="Ohm m")
        check_nonnegative("notch_depth_j (notch depth V0)", self.notch_depth_j, unit="J")
        check_positive("notch_width_m (notch range lambda)", self.notch_width_m, unit="m")
        for x in self.notch_positions_m:
            check_range("notch_positions_m", x, 0.0, self.length_m, unit="m")
        if self.notch_depth_factors and len(self.notch_depth_factors) != len(self.notch_positions_m):
            raise ConfigError(
                f"notch_depth_factors has {len(self.notch_depth_factors)} entries for "
                f"{len(self.notch_positions_m)} notches"
            )
        for f in self.notch_depth_factors:
            check_nonnegative("notch_depth_factors", f)
        check_nonnegative("end_length_m (fixed end regions)", self.end_length_m, unit="m")
        check_nonnegative("end_field_scale", self.end_field_scale)
        check_nonnegative("access_resistance_ohm", self.access_resistance_ohm, unit="Ohm")

    # -------------------------------------------------------------------------------- geometry
    @property
    def w_end(self) -> float:
        """Width at x = L [m]."""
        return self.width_m if self.width_end_m is None else self.width_end_m

    @property
    def is_tapered(self) -> bool:
        return self.width_end_m is not None and self.width_end_m != self.width_m

    def width(self, x):
        """Local width w(x) [m] (linear taper from ``width_m`` to ``width_end_m``); numpy or float."""
        return self.width_m + (self.w_end - self.width_m) * np.clip(np.asarray(x, dtype=float), 0, self.length_m) / self.length_m

    @property
    def width_slope(self) -> float:
        """dw/dx (dimensionless)."""
        return (self.w_end - self.width_m) / self.length_m

    def area_fraction(self, x):
        """Area fraction of the free layer in [0, x]: x/L straight, int_0^x w / int_0^L w tapered."""
        x = np.clip(np.asarray(x, dtype=float), 0, self.length_m)
        w0, s, L = self.width_m, self.width_slope, self.length_m
        return (w0 * x + 0.5 * s * x**2) / (w0 * L + 0.5 * s * L**2)

    @property
    def notch_depths_j(self) -> np.ndarray:
        """Depth V_n [J] of every notch (factors and width scaling applied)."""
        n = len(self.notch_positions_m)
        f = np.asarray(self.notch_depth_factors or (1.0,) * n, dtype=float)
        v = self.notch_depth_j * f
        if self.notch_scales_with_width and n:
            v = v * self.width(np.asarray(self.notch_positions_m)) / self.width_m
        return v

    # -------------------------------------------------------------------------------- current path
    @property
    def hm_fraction(self) -> float:
        """Fraction of the write current flowing in the heavy metal (parallel resistors)."""
        g_hm = self.hm_thickness_m / self.hm_resistivity_ohm_m
        g_fm = self.thickness_m / self.fm_resistivity_ohm_m
        return g_hm / (g_hm + g_fm)

    def current_density_hm(self, current_a, x=0.0):
        """Heavy-metal current density J_HM(x) = f_HM I / (w(x) t_HM) [A/m^2] (0 without heavy metal)."""
        if self.hm_thickness_m == 0:
            return 0.0 * np.asarray(current_a, dtype=float)
        return self.hm_fraction * np.asarray(current_a, dtype=float) / (self.width(x) * self.hm_thickness_m)

    def current_density_fm(self, current_a, x=0.0):
        """Ferromagnet current density J_F(x) = (1 - f_HM) I / (w(x) t_F) [A/m^2]."""
        return (1 - self.hm_fraction) * np.asarray(current_a, dtype=float) / (self.width(x) * self.thickness_m)

    def current_for_density(self, j_a_per_m2: float, x: float = 0.0) -> float:
        """Current [A] giving J_HM = j at x (J_F if there is no heavy metal)."""
        if self.hm_thickness_m > 0:
            return float(j_a_per_m2 * self.width(x) * self.hm_thickness_m / self.hm_fraction)
        return float(j_a_per_m2 * self.width(x) * self.thickness_m)

    @property
    def write_resistance_ohm(self) -> float:
        """Resistance [Ohm] of the HM || FM write path over the track and its end regions."""
        g_sheet = self.hm_thickness_m / self.hm_resistivity_ohm_m + self.thickness_m / self.fm_resistivity_ohm_m
        w0, w1, L, e = self.width_m, self.w_end, self.length_m, self.end_length_m
        core = L * math.log(w1 / w0) / (w1 - w0) if self.is_tapered else L / w0
        return (core + e / w0 + e / w1) / g_sheet

    @property
    def series_resistance_ohm(self) -> float:
        """Write path plus access resistance [Ohm]: a voltage pulse V drives I = V / this."""
        return self.write_resistance_ohm + self.access_resistance_ohm

    # -------------------------------------------------------------------------------- fields
    @property
    def h_k(self) -> float:
        """Wall shape anisotropy field H_K = (N_x - N_y) Ms [A/m] (override or Mougin / thin-strip estimate)."""
        if self.h_k_a_per_m is not None:
            return float(self.h_k_a_per_m)
        m, t = self.material, self.thickness_m
        n_x = t * math.log(2) / (math.pi * m.wall_width)
        n_y = t / (t + self.width_m)
        return (n_x - n_y) * m.ms_a_per_m

    def pinning_field(self, x) -> np.ndarray:
        """Total pinning field H_pin(x) [A/m] (notches + taper + end regions), positive pushes to +x."""
        x = np.asarray(x, dtype=float)
        m = self.material
        w = self.width(x)
        c = 2 * MU0 * m.ms_a_per_m * self.thickness_m
        h = np.zeros_like(x)
        lam = self.notch_width_m
        for xn, vn in zip(self.notch_positions_m, self.notch_depths_j):
            u = (x - xn) / lam
            if vn == 0:
                continue
            sech2 = 1.0 / np.cosh(np.clip(u, -300, 300)) ** 2
            h -= 2 * vn * sech2 * np.tanh(u) / lam / (c * w)
        if self.is_tapered:
            h -= m.wall_energy * self.width_slope / (2 * MU0 * m.ms_a_per_m * w)
        if self.end_field_scale > 0:
            delta = m.wall_width
            a_l = np.maximum(np.clip(x, 0, self.length_m) + self.end_length_m, delta)
            a_r = np.maximum(self.length_m - np.clip(x, 0, self.length_m) + self.end_length_m, delta)
            pre = self.end_field_scale * m.ms_a_per_m * self.thickness_m / (4 * math.pi)
            h += pre * (_stray_integral(a_l, w) - _stray_integral(a_r, w))
        return h

    def notch_potential(self, x) -> np.ndarray:
        """Notch potential V(x) = -sum V_n sech^2((x - x_n)/lambda) [J] (for plots and checks)."""
        x = np.asarray(x, dtype=float)
        v = np.zeros_like(x)
        for xn, vn in zip(self.notch_positions_m, self.notch_depths_j):
            v -= vn / np.cosh(np.clip((x - xn) / self.notch_width_m, -300, 300)) ** 2
        return v

    def depinning_field(self, notch: int = 0) -> float:
        """Static depinning field of notch ``notch`` alone [A/m]: max|V'| / (2 mu0 Ms t w(x_n)) (check C6).

        For the sech^2 well max|V'| = (4 / 3 sqrt 3) V_n / lambda.
        """
        vn = float(self.notch_depths_j[notch])
        xn = self.notch_positions_m[notch]
        fmax = 4 / (3 * math.sqrt(3)) * vn / self.notch_width_m
        return fmax / (2 * MU0 * self.material.ms_a_per_m * self.thickness_m * float(self.width(xn)))

    def tables(self, spacing_m: float | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(grid spacing [m], h_pin [A/m], drive scale w0/w, noise scale sqrt(w0/w)) on x = k*spacing in [0, L].

        The default spacing resolves the notch and the wall width by ~16 points.
        """
        if spacing_m is None:
            spacing_m = min(self.notch_width_m, self.material.wall_width, self.length_m / 64) / 16
        n = max(int(math.ceil(self.length_m / spacing_m)), 2) + 1
        h = self.length_m / (n - 1)
        x = np.arange(n) * h
        w = self.width(x)
        return h, self.pinning_field(x), self.width_m / w, np.sqrt(self.width_m / w)

    def with_(self, **changes) -> DWTrack:
        """A validated copy with ``changes`` (material fields are accepted too, e.g. ``alpha=0.1``)."""
        mat_fields = set(DWMaterial.__dataclass_fields__)
        mat = {k: changes.pop(k) for k in list(changes) if k in mat_fields}
        track = replace(self, **changes)
        if mat:
            track = replace(track, material=replace(track.material, **mat))
        return track


# ------------------------------------------------------------------------------------ notches and levels
def nearest_notch(track: DWTrack, x):
    """Index of the notch centre nearest to each wall position ``x`` [m]: int64 of x's shape, a torch tensor for
    a tensor (on its device) and a numpy array otherwise; -1 everywhere on a track without notches."""
    xs = track.notch_positions_m
    if isinstance(x, torch.Tensor):
        if not xs:
            return torch.full(x.shape, -1, dtype=torch.int64, device=x.device)
        return (x[..., None] - torch.as_tensor(xs, dtype=x.dtype, device=x.device)).abs().argmin(-1)
    x = np.asarray(x, dtype=float)
    if not xs:
        return np.full(x.shape, -1, dtype=np.int64)
    return np.abs(x[..., None] - np.asarray(xs)).argmin(-1)


def occupied_notch(track: DWTrack, x):
    """`nearest_notch`, but -1 where the wall is still at the x = 0 end (closer to it than half the first notch
    position): on a DW-MTJ the all-AP state before the first notch (paper 002's reset state)."""
    idx = nearest_notch(track, x)
    if not track.notch_positions_m:
        return idx
    edge = 0.5 * track.notch_positions_m[0]
    if isinstance(idx, torch.Tensor):
        return torch.where(x < edge, torch.full_like(idx, -1), idx)
    return np.where(np.asarray(x, dtype=float) < edge, -1, idx)


def near_notch(track: DWTrack, x, n_ranges: float = 2.0) -> np.ndarray:
    """True where the wall position ``x`` [m] (numpy) lies within ``n_ranges`` notch ranges lambda of a notch centre,
    i.e. pinned in a notch rather than stranded between two; False everywhere without notches."""
    x = np.asarray(x, dtype=float)
    if not track.notch_positions_m:
        return np.zeros(x.shape, dtype=bool)
    return np.abs(x[..., None] - np.asarray(track.notch_positions_m)).min(-1) < n_ranges * track.notch_width_m


def notch_level(track: DWTrack, notch_index) -> np.ndarray:
    """Write level of a wall in notch ``notch_index`` (all-notch index, -1 = before the first notch; numpy):
    the number of level notches (`leonard2022_level_notches`) at or before it minus one, so that a wall in a
    shallow notch still counts as in the level behind it; -1 stays -1."""
    idx = np.asarray(notch_index)
    deep = np.asarray(leonard2022_level_notches(track))
    lv = np.searchsorted(deep, np.maximum(idx, 0), side="right") - 1
    return np.where(idx < 0, -1, lv)


def drive_cross_section_m2(track: DWTrack) -> float:
    """Cross-section w0 x t [m^2] of the layer that carries the drive: the heavy metal (SOT), or the ferromagnet
    without one (STT); its current density is its share of I over this (`current_density_hm` / `_fm`).
    Paper 003's tracks: 50 nm x 1.5 nm = 75 nm^2."""
    t = track.hm_thickness_m if track.hm_thickness_m > 0 else track.thickness_m
    return track.width_m * t


def _stray_integral(a, w):
    """I(a) = (4/w)(sqrt(a^2 + w^2/4)/a - 1): int_a^inf dx int_{-w/2}^{w/2} dy (x^2 + y^2)^(-3/2) [1/m]."""
    return (4.0 / w) * (np.sqrt(a * a + 0.25 * w * w) / a - 1.0)


def equally_spaced(n: int, pitch_m: float, first_m: float) -> tuple[float, ...]:
    """``n`` notch positions [m]: first_m, first_m + pitch_m, ..."""
    check_int("n (notches)", n, 0)
    check_positive("pitch_m", pitch_m, unit="m")
    return tuple(first_m + k * pitch_m for k in range(n))


def notch_from_geometry(track: DWTrack, radius_m: float, smoothed: bool = True) -> tuple[float, float]:
    """Missing-area estimate of a pair of semicircular edge notches of radius r: (depth V0 [J], range [m]).

    ``E(q) = t sigma_w int w(x) rho(x - q) dx`` with ``rho = sech^2(u/Delta)/(2 Delta)`` (smoothed by the
    wall profile) or without smoothing; the missing width is ``2 sqrt(r^2 - x^2)``. The returned sech^2 range
    is the one that reproduces the estimate's maximum force (device-physics.md check C6: Liu track, r = 5 nm:
    1.44e-20 J, 9.18e-13 N). A lower bound: micromagnetic notches pin harder (edge DMI, magnetostatics).
    """
    m = track.material
    delta = m.wall_width
    x = np.linspace(-8 * (radius_m + delta), 8 * (radius_m + delta), 8001)
    dx = x[1] - x[0]
    dw = 2 * np.sqrt(np.clip(radius_m**2 - x**2, 0, None))
    if smoothed:
        rho = 1 / np.cosh(x / delta) ** 2 / (2 * delta)
        dw = np.convolve(dw, rho, mode="same") * dx
    e = track.thickness_m * m.wall_energy * dw
    depth = float(e.max())
    fmax = float(np.abs(np.gradient(e, dx)).max())
    return depth, 4 / (3 * math.sqrt(3)) * depth / fmax


# ------------------------------------------------------------------------------------------ presets
SENGUPTA2016 = DWMaterial(ms_a_per_m=7e5, a_ex_j_per_m=1e-11, ku_j_per_m3=4.8e5, alpha=0.3, beta=0.0,
                          dmi_j_per_m2=-1.2e-3, theta_sh=0.07, polarization=0.0)
"""Paper 001 Table I (CoFe on Pt): Ms 700 kA/m, A 1e-11 J/m, K_u 4.8e5 J/m^3, alpha 0.3, D -1.2e-3 J/m^2,
theta_SH 0.07; SOT only (the paper neglects STT: P = 0)."""

LIU2021_STT = DWMaterial(dmi_j_per_m2=0.0, theta_sh=0.0)
"""Paper 003 CoFeB, STT device (no heavy metal, hence no interfacial DMI): Ms 8e5 A/m, A 1.3e-11 J/m,
K_u 5e5 J/m^3, alpha 0.05, beta (zeta) 0.05, P 0.7."""

LIU2021_SOT = DWMaterial()
"""Paper 003 CoFeB on Ta, SOT device: the STT set plus theta_SH 0.2 and D_ind -0.5e-3 J/m^2."""


def sengupta2016_track(**changes) -> DWTrack:
    """Paper 001 (Table I): 320 x 20 x 0.6 nm CoFe on 3 nm Pt, continuous (no notches).

    J is quoted over the HM + FM stack (the paper: "current flow is mainly through the FM-HM layers"), so both
    layers get the same resistivity (Pt-like 2.5e-7 Ohm m, assumed: the paper gives no resistance); the write
    path is then ~1.1 kOhm. The end-region stray field is off: the paper's device holds the wall anywhere
    ("Pinned layers on either side ... stabilize the DW at the extreme locations").
    """
    base = DWTrack(material=SENGUPTA2016, length_m=320e-9, width_m=20e-9, thickness_m=0.6e-9, hm_thickness_m=3e-9,
                   fm_resistivity_ohm_m=2.5e-7, hm_resistivity_ohm_m=2.5e-7, end_field_scale=0.0,
                   name="sengupta2016")
    return base.with_(**changes) if changes else base


# The one calibration of paper 003's tracks, shared by every experiment (dw-dynamics, dw-lookup-tables, the
# dw-notched device). The paper gives the notch geometry (semicircles, r = 5 nm) but no pinning energy, so notch
# depth V0, sech^2 range lambda and a multiplier of the paper's pulse current are fitted (grid search of the
# dw-lookup-tables paper preset, seed 0) to the genuine MuMax3 300 K tables: the mean per-pulse Delta-G and its
# spread, both directions. STT: 7.5e-20 J (18 k_BT at 300 K), 12.5 nm, 50 uA as printed. SOT: 8.375e-20 J
# (20 k_BT), 20 nm, 27 uA x 1.25 = 33.75 uA. Physical reading of the current multiplier: the rigid 1D wall
# depins with the mean current density of the 50 nm track, while the micromagnetic wall depins at the notch,
# where the two 5 nm notches narrow the track to 40 nm (J x 1.25). With these values the nominal pulse steps
# one notch at 0 K and the notches hold the wall for 50 ns at 300 K. After an SOT pulse the tilted wall keeps
# running by ~Delta phi / alpha (inertia, tau_phi = 1.3 ns), so the step is set by the pulse-end angle and the
# notch only snaps it; the SOT pulse is therefore followed by 8 ns of relaxation. Its steps are bimodal (pinned,
# or several notches at once): with the mean step matched, the step spread is ~1.6 x MuMax3's whatever the notch
# range (20-40 nm), depth or pulse rise/fall (0-0.2 ns), a limit of the rigid (q, phi) wall.
LIU_STT_NOTCH = {"notch_depth_j": 7.5e-20, "notch_width_m": 12.5e-9}
LIU_STT_HK = 1.0e4
LIU_SOT_NOTCH = {"notch_depth_j": 8.375e-20, "notch_width_m": 20e-9}
LIU_CURRENT_SCALE = {"liu2021-stt": 1.0, "liu2021-sot": 1.25}
"""Calibrated multiplier of paper 003's pulse current (STT 50 uA, SOT 27 uA) for the 1D model, by track name."""


def liu2021_current_scale(track: DWTrack) -> float:
    """The shared calibrated current multiplier of a paper-003 track (`LIU_CURRENT_SCALE`; 1 for other tracks)."""
    return LIU_CURRENT_SCALE.get(track.name, 1.0)


def liu2021_stt_track(n_notches: int = 32, pitch_m: float = 30e-9, **changes) -> DWTrack:
    """Paper 003 STT device: 1050 x 50 x 1.5 nm CoFeB, 30 nm fixed end regions, 32 notches 30 nm apart.

    No heavy metal: all the current is in the FM (50 uA -> J = 6.7e11 A/m^2, u = 33.8 m/s). Notches are centred
    on the track; resistivity 6.3e-7 Ohm m (chosen so that the scaled device writes at ~0.2 V as paper 002
    Table 1 quotes for it). Without DMI the wall angle is held only by the Bloch/Neel shape anisotropy, whose
    thin-strip estimate nearly cancels for 50 x 1.5 nm (H_K = -330 A/m, Walker field 8 A/m): such a wall would
    precess under the end-region field and drift only ~15 nm in 50 ns, against the paper's ~200 nm (Fig. 2a).
    H_K = 1e4 A/m (N_x - N_y = 0.0125, `LIU_STT_HK`) keeps it below Walker (drift ~155 nm); with beta = alpha
    the free STT velocity is u whatever H_K.
    """
    L = 1050e-9
    first = 0.5 * (L - (n_notches - 1) * pitch_m)
    base = DWTrack(material=LIU2021_STT, length_m=L, width_m=50e-9, thickness_m=1.5e-9, hm_thickness_m=0.0,
                   notch_positions_m=equally_spaced(n_notches, pitch_m, first) if n_notches else (),
                   end_length_m=30e-9, h_k_a_per_m=LIU_STT_HK, name="liu2021-stt", **LIU_STT_NOTCH)
    return base.with_(**changes) if changes else base


def liu2021_sot_track(n_notches: int = 32, pitch_m: float = 50e-9, **changes) -> DWTrack:
    """Paper 003 SOT device: 1750 x 50 x 1.5 nm CoFeB on 1.5 nm Ta (same resistivity: half the current in
    each, 27 uA -> J_HM = J_F = 1.8e11 A/m^2), 50 nm fixed end regions, 32 notches 50 nm apart (r = 5 nm)."""
    L = 1750e-9
    first = 0.5 * (L - (n_notches - 1) * pitch_m)
    base = DWTrack(material=LIU2021_SOT, length_m=L, width_m=50e-9, thickness_m=1.5e-9, hm_thickness_m=1.5e-9,
                   notch_positions_m=equally_spaced(n_notches, pitch_m, first) if n_notches else (),
                   end_length_m=50e-9, name="liu2021-sot", **LIU_SOT_NOTCH)
    return base.with_(**changes) if changes else base


# Paper 002 (Leonard et al. 2022): Ta / CoFeB / MgO tracks, 250-1000 nm wide. The paper gives widths, TMR, RA
# and the measured levels but no film parameters: the CoFeB is paper 003's set (same group and stack family),
# the Ta underlayer 5 nm of beta-Ta (1.9e-6 Ohm m), CoFeB 1.7e-6 Ohm m. Two choices make the rigid 1D wall fit
# these wide, disordered tracks:
# * effective damping alpha = 0.5: with alpha = 0.05 a depinned DMI wall coasts ~Delta phi / alpha ~ 300 nm
#   after the drive drops (and rolls down the taper's energy slope), so it would pass every notch, which the
#   measured stable levels rule out; the wall in a wide film moves in the overdamped (creep-like) regime.
# * notches cut 2 x 50 nm of the width: depth t sigma_w 100 nm ~ 4e-19 J at 350 nm (missing-area estimate);
#   on the trapezoid they scale with the local width (the paper: "the voltage amplitude required to propagate
#   the DW increases as the track widens").
# The contact / lead resistance in series of the straight track (3.5 kOhm, `LEONARD_ACCESS_OHM`) is its one
# calibration number (the straight track's first switch near the trapezoid's V_C = 3.0 V).
LEONARD_MATERIAL = DWMaterial(alpha=0.5)
LEONARD_NOTCH = {"notch_depth_j": 4.0e-19, "notch_width_m": 25e-9}
LEONARD_ACCESS_OHM = 3500.0

# Paper 002's trapezoid has "seven intermediate notches" of "varying geometric depths": "The deeper notches
# pinned the DW more effectively, and the shallower notches were passed over", so only three write levels are
# seen. Model: seven notches, three deep ones where the MTJ area fraction gives the measured levels (inputs)
# and four shallow ones between them (positions assumed: the SEM is not in the text; 3 in the long gap, 1 in
# the short one), each with a depth factor (x the width-scaled depth, so a factor is the notch's depinning
# field relative to the first deep notch: depinning follows the local current density, "the voltage amplitude
# required to propagate the DW increases as the track widens"). Calibrated to the three measured voltages, one
# knob each (0 K fit of single 50 ns pulses with 10 ns ramps to 3.125 / 3.615 / 3.814 V, the 0 K values whose
# 300 K ramps give the paper's 3.0 / 3.5 / 3.7 V; `tests/test_dw_shapes.py` checks the 0 K values):
# * access resistance 330 Ohm -> first switch V_C = 3.0 V;
# * depth factor 0.67 of the second deep notch -> second switch 3.5 V (identical notches would give 1.8 x 3.0 V:
#   the 779 nm notch is shallower than the 433 nm one, as the paper's "varying geometric depths" allow);
# * depth 3.82e-18 J at the 250 nm end (sech^2 range 50 nm; depinning field 98 mT for every deep notch of
#   factor 1) -> the reset from the last notch at 3.7 V under the paper's -42 mT reset bias (net -38 mT after
#   the -4 mT compensation of the stray-field offset, see `devices.dw_synapse.DWTrapezoidConfig`). The reset
#   needs voltage at all only if the last notch pins harder than that field, which rules out the 20 mT
#   missing-area estimate of a 50 nm notch. Without the bias the reset would need 6.6 V (0 K).
# Shallow notches: factor 0.3 (passed over at every write voltage; the wall stops only at the deep ones).
LEONARD_TRAPEZOID_NOTCH = {"notch_depth_j": 3.82e-18, "notch_width_m": 50e-9}
"""Deep-notch pinning energy [J] and range [m] of the paper-002 trapezoid: calibrated at 0 K so that the
single-shot reset needs 3.7 V under the -42 mT bias (paper 002, Fig. 2c-d; a `calibrated` row of dw-shapes)."""
LEONARD_TRAPEZOID_ACCESS_OHM = 330.0
"""Access (contact + lead) resistance [Ohm] in series with the trapezoid track: calibrated at 0 K so that the
first switch comes at the paper's V_C = 3.0 V (Fig. 2b)."""
LEONARD_TRAPEZOID_DEEP = (1.0, 0.67, 1.0)
"""Depth factors (dimensionless, x ``notch_depth_j``) of the three deep (level) notches; the second one is
calibrated so that the second switch comes at the paper's 3.5 V (Fig. 2b)."""
LEONARD_TRAPEZOID_SHALLOW = 0.3
"""Depth factor (dimensionless) of the four shallow notches, which the walls pass over: our choice (the paper
describes notches of different depths but gives neither their depths nor positions)."""


def leonard2022_trapezoid_track(**changes) -> DWTrack:
    """Paper 002 trapezoid: 1:4 width ratio (250 -> 1000 nm) over 1 um, seven notches, three of them deep.

    The deep notches sit where the MTJ area fraction reproduces the measured write levels 93.3 / 76.1 /
    67.1 Ohm (R_AP = 100 Ohm, TMR 54 %): inputs, not predictions. Notch depths and the access resistance are
    calibrated (see the comment above `LEONARD_TRAPEZOID_NOTCH`); `leonard2022_level_notches` gives the indices
    of the deep notches.
    """
    L = 1.0e-6
    d0, d1, d2 = _trapezoid_notches(L, 4.0, (0.133, 0.581, 0.907))
    xs = (d0, d0 + 0.25 * (d1 - d0), d0 + 0.5 * (d1 - d0), d0 + 0.75 * (d1 - d0), d1, 0.5 * (d1 + d2), d2)
    f1, f2, f3 = LEONARD_TRAPEZOID_DEEP
    sh = LEONARD_TRAPEZOID_SHALLOW
    base = DWTrack(material=LEONARD_MATERIAL, length_m=L, width_m=250e-9, width_end_m=1000e-9, thickness_m=1.5e-9,
                   hm_thickness_m=5e-9, fm_resistivity_ohm_m=1.7e-6, hm_resistivity_ohm_m=1.9e-6,
                   notch_positions_m=xs, notch_depth_factors=(f1, sh, sh, sh, f2, sh, f3),
                   notch_scales_with_width=True, end_length_m=100e-9,
                   access_resistance_ohm=LEONARD_TRAPEZOID_ACCESS_OHM, name="leonard2022-trapezoid",
                   **LEONARD_TRAPEZOID_NOTCH)
    return base.with_(**changes) if changes else base


def leonard2022_level_notches(track: DWTrack) -> tuple[int, ...]:
    """Indices of the notches that pin (depth factor above half the deepest): the level notches of paper 002.

    Without depth factors every notch counts (the straight track's five identical notches).
    """
    f = track.notch_depth_factors or (1.0,) * len(track.notch_positions_m)
    top = max(f) if f else 0.0
    return tuple(i for i, v in enumerate(f) if v > 0.5 * top)


def _trapezoid_notches(L: float, ratio: float, fractions) -> tuple[float, ...]:
    """Positions where the area fraction of a linear 1:ratio taper equals ``fractions``."""
    s = ratio - 1.0  # w = w0 (1 + s x/L); area fraction = (xi + s xi^2/2) / (1 + s/2)
    out = []
    for f in fractions:
        c = f * (1 + s / 2)
        xi = (-1 + math.sqrt(1 + 2 * s * c)) / s
        out.append(xi * L)
    return tuple(out)


def leonard2022_straight_track(**changes) -> DWTrack:
    """Paper 002 straight track: 350 nm wide, 1 um under the MTJ, five identical notches.

    Notch positions reproduce the measured levels 1061.0 / 1043.3 / 989.0 / 929.5 / 913.1 Ohm with R_P = 912 Ohm
    and TMR 16.4 % (inputs, not predictions).
    """
    r_p, tmr = 912.0, 0.164
    r_ap = r_p * (1 + tmr)
    levels = (1061.0, 1043.3, 989.0, 929.5, 913.1)
    fr = [(1 / r - 1 / r_ap) / (1 / r_p - 1 / r_ap) for r in levels]
    L = 1.0e-6
    base = DWTrack(material=LEONARD_MATERIAL, length_m=L, width_m=350e-9, thickness_m=1.5e-9, hm_thickness_m=5e-9,
                   fm_resistivity_ohm_m=1.7e-6, hm_resistivity_ohm_m=1.9e-6,
                   notch_positions_m=tuple(min(max(f, 0.0), 1.0) * L for f in fr),
                   end_length_m=100e-9, access_resistance_ohm=LEONARD_ACCESS_OHM, name="leonard2022-straight",
                   **LEONARD_NOTCH)
    return base.with_(**changes) if changes else base


TRACK_PRESETS = {
    "sengupta2016": sengupta2016_track,
    "liu2021-stt": liu2021_stt_track,
    "liu2021-sot": liu2021_sot_track,
    "leonard2022-trapezoid": leonard2022_trapezoid_track,
    "leonard2022-straight": leonard2022_straight_track,
}
"""Track factories by name (each accepts field overrides, e.g. ``liu2021_sot_track(notch_depth_j=5e-20)``)."""
