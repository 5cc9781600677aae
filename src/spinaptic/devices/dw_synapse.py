"""Domain-wall MTJ synapses: a wall in a track under an MTJ, moved by current or voltage pulses.

State per device: ``DeviceState(q [m], phi [rad], g_p [S], g_ap [S])``, the wall position and angle of the 1D
model (`physics.domain_wall`) and the device's own P / AP conductances (device-to-device variation of R_P and
TMR drawn in `init_state`, paper 003: 12.8 % and 6.9 %).

Conductance: the free layer left of the wall (x < q) is parallel, so G = f G_P + (1 - f) G_AP + G_DW with f the
area fraction of [0, q] (q/L on a straight track: paper 001 eq. 6; the area-weighted fraction on a taper).

Programming: `apply` integrates the 1D model over every pulse and a relaxation time (``relax_s``) with the
thermal field at ``temperature_k``; a pulse count n > 1 repeats pulse + relaxation n times (devices with fewer
pulses get no current but still evolve thermally for the same time, as in a real array). Voltage pulses drive
I = V / R_series (write path + access resistance of the track). Energy per device: I^2 R_write t per current
pulse, V^2 / R_series t per voltage pulse (linear rise / fall ramps count 1/3 of their duration).
``response="calibrated"`` replaces the integration by paper 001's behavioural model: a displacement per current
pulse, tabulated once from the same 1D model (`dw_calibration`).

Registered variants (one class, config subclasses with the papers' defaults): ``dw-notched`` (paper 003 STT
track; SOT via ``DWSynapseConfig.preset("liu2021-sot")``), ``dw-continuous`` (paper 001), ``dw-trapezoid``
and ``dw-straight`` (paper 002). `DWSynapse` itself (not registered) takes any `DWSynapseConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..config import ConfigError, check_choice, check_nonnegative, check_positive
from ..physics import domain_wall as dw
from ..physics.dw_tracks import (
    LIU_CURRENT_SCALE,
    DWTrack,
    leonard2022_straight_track,
    leonard2022_trapezoid_track,
    liu2021_sot_track,
    liu2021_stt_track,
    sengupta2016_track,
)
from ..physics.mtj import UM2, MTJParams, conductances_for_range, mixed_conductance
from .base import Device, DeviceState, Pulses, register_device
from .dw_calibration import cached_displacement
from .variation import draw_spread

RESPONSES = ("1d-model", "calibrated")
"""Programming responses of `DWSynapseConfig.response`."""


def _liu_mtj() -> MTJParams:
    # Paper 003 gives only the spreads (R_P 12.8 %, TMR 6.9 %); RA 10 Ohm um^2 over the 1050 x 50 nm track and
    # TMR 150 % are assumed (R_P = 190 Ohm).
    return MTJParams(ra_ohm_m2=10 * UM2, area_m2=1050e-9 * 50e-9, tmr=1.5)


@dataclass(frozen=True)
class DWSynapseConfig:
    """A domain-wall MTJ synapse.

    Attributes:
        track: the track (material, geometry, notches, current path); presets in `physics.dw_tracks`.
        mtj: read junction over the free layer (R_P = RA / area, TMR).
        g_dw_s: conductance of the wall region G_DW [S] (paper 001 eq. 6; 0 by default).
        r_p_dtod: relative device-to-device sigma of R_P (paper 003: 0.128).
        tmr_dtod: relative device-to-device sigma of TMR (paper 003: 0.069).
        temperature_k: temperature of the thermal field [K].
        relax_s: time integrated after every pulse with no current [s] (paper 003: 4 ns).
        rise_s, fall_s: linear rise / fall of every pulse [s] (paper 002: 10 ns).
        dt_s: integration step [s]; None = `domain_wall.recommended_dt`.
        nominal_amplitude: amplitude of `nominal_pulses` (A for current, V for voltage).
        nominal_width_s: width of `nominal_pulses` [s].
        nominal_kind: "current" or "voltage".
        q0_m: initial wall position [m]; None = first notch (0 on a track without notches).
        backend: "auto" (numba on CPU), "numba" or "torch".
        response: "1d-model" (`apply` integrates the 1D model for every pulse) or "calibrated" (paper 001's
            behavioural model: each pulse moves the wall by the displacement the 1D model gives for that
            current and width from mid-track at this temperature (`dw_calibration`, tabulated once per
            process), clipped to [0, L]; position-independent, so notches are ignored: use it for continuous
            tracks; current pulses only).

    Variation knobs: device-to-device ``r_p_dtod``, ``tmr_dtod`` (drawn in ``init_state``); cycle-to-cycle:
    the thermal field of the 1D model at ``temperature_k`` (no extra ``*_std`` knob; 0 K is deterministic);
    read noise: the crossbar's (`arrays.crossbar`). Gaussian write noise on top: `devices.write_noise.with_write_noise`.
    """

    track: DWTrack = field(default_factory=liu2021_stt_track)
    mtj: MTJParams = field(default_factory=_liu_mtj)
    g_dw_s: float = 0.0
    r_p_dtod: float = 0.0
    tmr_dtod: float = 0.0
    temperature_k: float = 300.0
    relax_s: float = 4e-9
    rise_s: float = 0.0
    fall_s: float = 0.0
    dt_s: float | None = None
    nominal_amplitude: float = 50e-6
    nominal_width_s: float = 1e-9
    nominal_kind: str = "current"
    q0_m: float | None = None
    backend: str = "auto"
    response: str = "1d-model"

    def __post_init__(self) -> None:
        if not isinstance(self.track, DWTrack):
            raise ConfigError(f"track must be a DWTrack, got {type(self.track).__name__}")
        check_nonnegative("g_dw_s (wall conductance)", self.g_dw_s, unit="S")
        check_nonnegative("r_p_dtod", self.r_p_dtod, unit="(relative sigma)")
        check_nonnegative("tmr_dtod", self.tmr_dtod, unit="(relative sigma)")
        check_nonnegative("temperature_k", self.temperature_k, unit="K")
        check_nonnegative("relax_s", self.relax_s, unit="s")
        check_nonnegative("rise_s", self.rise_s, unit="s")
        check_nonnegative("fall_s", self.fall_s, unit="s")
        if self.dt_s is not None:
            check_positive("dt_s (time step)", self.dt_s, unit="s")
        check_positive("nominal_width_s", self.nominal_width_s, unit="s")
        check_choice("nominal_kind", self.nominal_kind, ("current", "voltage"))
        check_choice("backend", self.backend, dw.BACKENDS)
        check_choice("response", self.response, RESPONSES)
        if self.q0_m is not None:
            from ..config import check_range

            check_range("q0_m (initial wall position)", self.q0_m, 0.0, self.track.length_m, unit="m")

    @classmethod
    def preset(cls, name: str, **overrides) -> DWSynapseConfig:
        """Paper presets: "liu2021-stt", "liu2021-sot" (paper 003, with its d2d spreads), "sengupta2016"
        (paper 001), "leonard2022-trapezoid", "leonard2022-straight" (paper 002)."""
        check_choice("preset", name, tuple(_PRESETS))
        cfg = _PRESETS[name]()
        return replace(cfg, **overrides) if overrides else cfg


def _sengupta_mtj() -> MTJParams:
    # Paper 001: resistances "in the MOhm range"; RA 6400 Ohm um^2 over 320 x 20 nm (R_P = 1 MOhm), TMR 150 %
    # assumed.
    return MTJParams(ra_ohm_m2=6400 * UM2, area_m2=320e-9 * 20e-9, tmr=1.5)


def _leonard_trapezoid_mtj() -> MTJParams:
    # Paper 002: TMR 54 %, RA 60 Ohm um^2, R_AP = 100 Ohm (single-shot reset level) -> R_P = 64.9 Ohm.
    r_p = 100.0 / 1.54
    return MTJParams(ra_ohm_m2=60 * UM2, area_m2=60 * UM2 / r_p, tmr=0.54)


def _leonard_straight_mtj() -> MTJParams:
    # Paper 002: RA 380 Ohm um^2; levels 1061 ... 913 Ohm -> R_P = 912 Ohm, TMR 16.4 % (paper: 16 %).
    r_p = 912.0
    return MTJParams(ra_ohm_m2=380 * UM2, area_m2=380 * UM2 / r_p, tmr=0.164)


@dataclass(frozen=True)
class DWNotchedConfig(DWSynapseConfig):
    """`DWSynapseConfig` with paper 003's STT device: 32 notches, R_P / TMR spreads 12.8 % / 6.9 %, 1 ns x 50 uA."""

    track: DWTrack = field(default_factory=liu2021_stt_track)
    r_p_dtod: float = 0.128
    tmr_dtod: float = 0.069


@dataclass(frozen=True)
class DWContinuousConfig(DWSynapseConfig):
    """`DWSynapseConfig` with paper 001's device: 320 nm CoFe/Pt, no notches, 1 ns x 80 uA, 0 K (MuMax)."""

    track: DWTrack = field(default_factory=sengupta2016_track)
    mtj: MTJParams = field(default_factory=_sengupta_mtj)
    temperature_k: float = 0.0
    relax_s: float = 0.5e-9
    nominal_amplitude: float = 80e-6


LEONARD_RESET_BIAS_T = -38e-3
"""Net easy-axis field [T] on the trapezoid's free layer during resets: the paper's -42 mT reset bias plus the
stray-field offset that its -4 mT write bias compensates (+4 mT, so the net write field is 0)."""


@dataclass(frozen=True)
class DWTrapezoidConfig(DWSynapseConfig):
    """`DWSynapseConfig` with paper 002's trapezoid: 50 ns voltage pulses with 10 ns ramps, wall in the first notch
    (the paper: "in all 13 measured cycles the DW reaches the first notch by 1.5 V"), and the measurement's DC
    bias fields, which alternate with the pulse polarity (the paper: "alternating between -4 mT for MW writing
    and -42 mT for single-shot resetting").

    Attributes:
        write_field_t: net easy-axis field mu0 H [T] on the free layer during + (write) pulses and their
            relaxation. Sign convention of the 1D model: > 0 pushes the wall to +x (expands the parallel
            region); 0 = the paper's -4 mT bias exactly compensating the stray-field offset.
        reset_field_t: the same during - (reset) pulses; default `LEONARD_RESET_BIAS_T` (-38 mT: the paper's
            -42 mT with the +4 mT offset, assisting the reset, i.e. -z taken to favour the AP domain, as the
            straight device's "120 mT (-z) to set ... fully antiparallel" implies; the trapezoid's text saturates
            to AP along +z, so the paper's sign convention is not unambiguous).
    """

    track: DWTrack = field(default_factory=leonard2022_trapezoid_track)
    mtj: MTJParams = field(default_factory=_leonard_trapezoid_mtj)
    relax_s: float = 20e-9
    rise_s: float = 10e-9
    fall_s: float = 10e-9
    nominal_amplitude: float = 3.0
    nominal_width_s: float = 50e-9
    nominal_kind: str = "voltage"
    dt_s: float | None = 5e-12  # the overdamped wide-track wall: 5 ps gives the same 0 K thresholds as 1 ps
    write_field_t: float = 0.0
    reset_field_t: float = LEONARD_RESET_BIAS_T

    def __post_init__(self) -> None:
        super().__post_init__()
        from ..config import check_range

        check_range("write_field_t (bias field during writes)", self.write_field_t, -1.0, 1.0, unit="T")
        check_range("reset_field_t (bias field during resets)", self.reset_field_t, -1.0, 1.0, unit="T")


@dataclass(frozen=True)
class DWStraightConfig(DWTrapezoidConfig):
    """`DWSynapseConfig` with paper 002's straight track (350 nm wide, five identical notches); the paper
    describes only its write ramps (4 mT bias compensating the offset: net 0) and no reset, so no bias field."""

    track: DWTrack = field(default_factory=leonard2022_straight_track)
    mtj: MTJParams = field(default_factory=_leonard_straight_mtj)
    reset_field_t: float = 0.0


_PRESETS = {
    "liu2021-stt": DWNotchedConfig,
    # paper 003's 27 uA times the shared calibrated current scale of the track presets (physics.dw_tracks)
    "liu2021-sot": lambda: DWNotchedConfig(track=liu2021_sot_track(), nominal_amplitude=27e-6 * LIU_CURRENT_SCALE["liu2021-sot"],
                                           nominal_width_s=0.5e-9, relax_s=8e-9),
    "sengupta2016": DWContinuousConfig,
    "leonard2022-trapezoid": DWTrapezoidConfig,
    "leonard2022-straight": DWStraightConfig,
}


class DWSynapse(Device):
    """Domain-wall MTJ synapse driven through the 1D (q, phi) model (see module docstring)."""

    config: DWSynapseConfig
    is_synapse = True

    @classmethod
    def config_class(cls) -> type:
        return DWSynapseConfig

    # -------------------------------------------------------------------------------- helpers
    @property
    def model(self) -> dw.DWModel:
        """The prepared 1D model of the track (cached)."""
        return dw.get_model(self.config.track, self.config.dt_s)

    @property
    def q0(self) -> float:
        """Initial wall position [m]."""
        c = self.config
        if c.q0_m is not None:
            return float(c.q0_m)
        return float(c.track.notch_positions_m[0]) if c.track.notch_positions_m else 0.0

    def fraction(self, q: torch.Tensor) -> torch.Tensor:
        """Parallel area fraction f(q) of the free layer (q/L straight, area-weighted on a taper)."""
        t = self.config.track
        x = q.clamp(0.0, t.length_m)
        w0, s, L = t.width_m, t.width_slope, t.length_m
        return ((w0 * x + 0.5 * s * x * x) / (w0 * L + 0.5 * s * L * L)).clamp(0.0, 1.0)

    def notch_index(self, q: torch.Tensor) -> torch.Tensor:
        """Index of the nearest notch (int64, same shape as q); -1 on a track without notches."""
        xs = self.config.track.notch_positions_m
        if not xs:
            return torch.full(q.shape, -1, dtype=torch.int64, device=q.device)
        notches = torch.as_tensor(xs, dtype=q.dtype, device=q.device)
        return (q[..., None] - notches).abs().argmin(-1)

    def bias_field(self, amplitude: torch.Tensor) -> torch.Tensor | float:
        """Applied easy-axis field [A/m] per device during a pulse of ``amplitude`` (> 0 pushes the wall to +x).

        0 here; paper 002's devices apply their write / reset bias fields by pulse polarity.
        """
        return 0.0

    def current_of(self, amplitude: torch.Tensor, kind: str) -> torch.Tensor:
        """Write current [A]: the amplitude itself, or V / R_series for voltage pulses."""
        return amplitude if kind == "current" else amplitude / self.config.track.series_resistance_ohm

    def _energy(self, amp: torch.Tensor, width: torch.Tensor, count: torch.Tensor, kind: str) -> torch.Tensor:
        """Energy [J] of ``count`` pulses of ``amp`` (A or V) and ``width`` [s] (see the module docstring)."""
        c = self.config
        t_eff = (width - 2.0 * (c.rise_s + c.fall_s) / 3.0).clamp_min(0.0) * count.to(amp.dtype)
        if kind == "current":
            return amp**2 * c.track.write_resistance_ohm * t_eff
        return amp**2 / c.track.series_resistance_ohm * t_eff

    @property
    def current_programmable(self) -> bool:
        """True when one call can program any analog current amplitude cheaply: ``response == "calibrated"``
        with current pulses (the wall then moves by `current_for_displacement_fraction`'s inverse)."""
        return self.config.response == "calibrated" and self.config.nominal_kind == "current"

    def current_for_displacement_fraction(self, frac: torch.Tensor, width_s: float | None = None) -> torch.Tensor:
        """Current [A] whose single pulse of ``width_s`` [s] (default: the nominal width) moves the wall by
        ``frac`` * L (signed fraction of the track): inverse interpolation of the calibrated displacement
        table over its monotone part, clamped to that part's current range."""
        width = self.config.nominal_width_s if width_s is None else float(width_s)
        frac = torch.as_tensor(frac)
        frac = frac if frac.is_floating_point() else frac.to(torch.float64)
        return self._displacement_table(width).current_for(frac * self.config.track.length_m)

    def compiled_programming(self, supply_v: float, g_range: tuple[float, float]):
        """Arrays for `devices._dw_calibrated_kernel.program_column` (the compiled twin of the calibrated
        ``apply``, nominal pulse width), or None when the device is not `current_programmable`: (kp, forward
        currents, forward displacements, inverse displacements, inverse currents), float64 numpy."""
        if not self.current_programmable:
            return None
        c, t = self.config, self.config.track
        width = float(c.nominal_width_s)
        table = self._displacement_table(width)
        t_eff = max(width - 2.0 * (c.rise_s + c.fall_s) / 3.0, 0.0)
        kp = np.array([t.length_m, t.write_resistance_ohm, t_eff, c.g_dw_s, supply_v, width, g_range[0], g_range[1],
                       t.width_m, t.width_slope], dtype=np.float64)
        (fi, fd), (idd, ii) = table._forward, table._inverse
        return kp, fi.numpy(), fd.numpy(), idd.numpy(), ii.numpy()

    def _displacement_table(self, width_s: float):
        """`cached_displacement` for this device, memoised on the instance (hashing the config is not free)."""
        tables = self.__dict__.setdefault("_displacement_tables", {})
        if width_s not in tables:
            tables[width_s] = cached_displacement(self, width_s)
        return tables[width_s]

    # -------------------------------------------------------------------------------- protocol
    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        c = self.config
        dt = torch.float64
        r_p = draw_spread(c.mtj.r_p, c.r_p_dtod, shape, generator, device, dt)
        tmr = draw_spread(c.mtj.tmr, c.tmr_dtod, shape, generator, device, dt)
        return DeviceState(
            q=torch.full(shape, self.q0, dtype=dt, device=device),
            phi=torch.full(shape, self.model.phi0, dtype=dt, device=device),
            g_p=1.0 / r_p,
            g_ap=1.0 / (r_p * (1.0 + tmr)),
        )

    def conductance(self, state: DeviceState) -> torch.Tensor:
        return mixed_conductance(self.fraction(state["q"]), state["g_p"], state["g_ap"], self.config.g_dw_s)

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        c = self.config
        if c.response == "calibrated":
            return self._apply_calibrated(state, pulses)
        q = state["q"]
        shape = q.shape
        amp = pulses.amplitude_like(q).reshape(-1)
        count = pulses.count_like(q).reshape(-1)
        width = torch.as_tensor(pulses.width_s, dtype=q.dtype, device=q.device).expand(shape).reshape(-1)
        cur = self.current_of(amp, pulses.kind)
        h_z = self.bias_field(amp)
        model = self.model
        n_on = torch.round(width / model.dt_s).to(torch.int64)
        n_steps = int(n_on.max()) + model.steps(c.relax_s) if n_on.numel() else 0
        qf, pf = q.reshape(-1), state["phi"].reshape(-1)
        for k in range(int(count.max()) if count.numel() else 0):
            # only devices still pulsing are integrated: one with count <= k has had all its pulses (and
            # relaxation) and must not drift with the others' (count 0 = untouched, as the protocol says)
            active = count > k
            idx = torch.arange(count.numel(), device=q.device) if bool(active.all()) else active.nonzero().squeeze(1)
            q_k, p_k, _ = model.run(qf[idx], pf[idx], cur[idx], n_steps, n_on=n_on[idx],
                                    rise_steps=model.steps(c.rise_s), fall_steps=model.steps(c.fall_s),
                                    temperature_k=c.temperature_k, generator=generator, backend=c.backend,
                                    h_z=h_z[idx] if torch.is_tensor(h_z) else h_z)
            qf, pf = qf.index_copy(0, idx, q_k), pf.index_copy(0, idx, p_k)
        energy = self._energy(cur if pulses.kind == "current" else amp, width, count, pulses.kind)
        out = DeviceState(state)
        out["q"] = qf.reshape(shape)
        out["phi"] = pf.reshape(shape)
        return out, energy.reshape(shape)

    def _apply_calibrated(self, state: DeviceState, pulses: Pulses) -> tuple[DeviceState, torch.Tensor]:
        """``response == "calibrated"``: q += count * table(I), clipped to [0, L]; phi unchanged."""
        if pulses.kind != "current":
            raise ConfigError(f"response 'calibrated' takes current pulses only, got kind {pulses.kind!r}")
        q = state["q"]
        w = torch.as_tensor(pulses.width_s, dtype=torch.float64)
        if w.numel() != 1:
            raise ConfigError(f"response 'calibrated' needs one scalar pulse width, got {w.numel()} widths")
        amp, count = pulses.amplitude_like(q), pulses.count_like(q)
        table = self._displacement_table(float(w))
        out = DeviceState(state)
        step = count.to(q.dtype) * table(amp)
        out["q"] = torch.where(count > 0, (q + step).clamp(0.0, self.config.track.length_m), q)
        return out, self._energy(amp, w.to(dtype=q.dtype, device=q.device), count, "current")

    def nominal_pulses(self, direction) -> Pulses:
        c = self.config
        d = torch.as_tensor(direction)
        return Pulses(amplitude=c.nominal_amplitude * d.sign().to(torch.float64), width_s=c.nominal_width_s,
                      count=(d != 0).to(torch.int64), kind=c.nominal_kind)

    def conductance_range(self) -> tuple[float, float]:
        c = self.config
        xs = c.track.notch_positions_m
        lo, hi = (min(xs), max(xs)) if xs else (0.0, c.track.length_m)
        f = self.fraction(torch.tensor([lo, hi], dtype=torch.float64))
        g = mixed_conductance(f, c.mtj.g_p, c.mtj.g_ap, c.g_dw_s)
        return float(g[0]), float(g[1])

    def levels(self) -> torch.Tensor | None:
        """Conductance [S] of the nominal device with the wall in each notch, ascending; None without notches."""
        c = self.config
        xs = c.track.notch_positions_m
        if not xs:
            return None
        f = self.fraction(torch.tensor(sorted(xs), dtype=torch.float64))
        return mixed_conductance(f, c.mtj.g_p, c.mtj.g_ap, c.g_dw_s).sort().values

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        """``init_state`` (with its device-to-device draw) and the wall in the middle notch (mid-track
        without notches). `mean_step` is the Monte-Carlo estimate of the base class from here."""
        s = self.init_state(shape, generator=generator)
        xs = sorted(self.config.track.notch_positions_m)
        q = xs[len(xs) // 2] if xs else 0.5 * self.config.track.length_m
        s["q"] = torch.full_like(s["q"], q)
        return s

    def programming_energy(self, amplitude: float, width_s: float, kind: str = "current") -> float:
        """Energy [J] of one pulse (the same accounting as `apply`)."""
        c = self.config
        t_eff = max(width_s - 2.0 * (c.rise_s + c.fall_s) / 3.0, 0.0)
        if kind == "current":
            return amplitude**2 * c.track.write_resistance_ohm * t_eff
        return amplitude**2 / c.track.series_resistance_ohm * t_eff


# ------------------------------------------------------------------------------------ conductance map and energy
def mtj_conductances_for_range(track: DWTrack, g_range_s: tuple[float, float]) -> tuple[float, float]:
    """(G_P, G_AP) [S] of the read junction such that the wall at the first / last notch of ``track`` reads
    ``g_range_s`` = (G_lo, G_hi), with G = f G_P + (1 - f) G_AP and f the parallel area fraction (paper 003:
    the P and AP parts of the free layer are two resistors in parallel; used when only the G range is known)."""
    xs = track.notch_positions_m
    if len(xs) < 2:
        raise ConfigError(f"track {track.name!r} needs at least two notches to map a conductance range")
    f0, f1 = float(track.area_fraction(xs[0])), float(track.area_fraction(xs[-1]))
    return conductances_for_range(f0, f1, g_range_s[0], g_range_s[1])


def position_conductance(track: DWTrack, q_m, g_p_s, g_ap_s, g_dw_s: float = 0.0) -> torch.Tensor:
    """Conductance [S] of a DW-MTJ with the wall at ``q_m`` [m] (array-like): G = f G_P + (1 - f) G_AP + G_DW,
    f = ``track.area_fraction(q)`` (paper 001 eq. 6 with f = q / L on a straight track); float64 tensor."""
    q = q_m.cpu().numpy() if isinstance(q_m, torch.Tensor) else q_m
    return mixed_conductance(torch.as_tensor(track.area_fraction(q)), g_p_s, g_ap_s, g_dw_s)


def supply_energy(supply_v: float, current_a: float, width_s: float) -> float:
    """Supply-side energy V_DD I t [J] of one programming pulse of ``current_a`` [A] and ``width_s`` [s] from a
    ``supply_v`` [V] rail (paper 001's accounting: 600 mV x 80 uA x 1 ns = 48 fJ); `DWSynapse.programming_energy`
    is the Joule part I^2 R_write t."""
    return supply_v * current_a * width_s


def depinning_voltage(dev: DWSynapse, notch: int, sign: float = 1.0, *, width_s: float = 50e-9,
                      v_max: float = 30.0, device=None) -> float:
    """Smallest |V| [V] (resolution ~0.1 %) whose pulse of ``width_s`` [s] moves the wall of ``dev`` out of notch
    ``notch`` (all-notch index) toward ``sign`` at 0 K, with the device's bias fields; nan if none up to
    ``v_max`` [V]. Three rounds of a 21-point grid, each refining the bracket of the first moving voltage."""
    xs = dev.config.track.notch_positions_m
    cold = type(dev)(replace(dev.config, temperature_k=0.0, q0_m=xs[notch]))
    lo, hi = 0.0, v_max
    for _ in range(3):
        v = torch.linspace(lo, hi, 21, dtype=torch.float64)
        st = cold.init_state((21,), device=device)
        st, _ = cold.apply(st, Pulses(sign * v, width_s=width_s, kind="voltage"))
        moved = (((st["q"] - xs[notch]) * sign) > 0.5 * dev.config.track.notch_width_m).cpu().numpy()
        if not moved.any():
            return float("nan")
        k = int(np.argmax(moved))
        lo, hi = float(v[max(k - 1, 0)]), float(v[k])
    return hi


@register_device("dw-notched")
class DWNotched(DWSynapse):
    """Notched DW-MTJ synapse (paper 003: 32 notches; STT defaults, SOT via ``DWSynapseConfig.preset("liu2021-sot")``)."""

    @classmethod
    def config_class(cls) -> type:
        return DWNotchedConfig


@register_device("dw-continuous")
class DWContinuous(DWSynapse):
    """Continuous SOT DW-MTJ synapse (paper 001: 320 nm CoFe/Pt, conductance linear in q, eq. 6)."""

    @classmethod
    def config_class(cls) -> type:
        return DWContinuousConfig


def _polarity_bias(config: DWTrapezoidConfig, amplitude: torch.Tensor) -> torch.Tensor | float:
    """Paper 002's bias protocol: ``write_field_t`` for amplitude >= 0, ``reset_field_t`` below, in A/m."""
    from ..physics.constants import MU0

    if config.write_field_t == 0.0 and config.reset_field_t == 0.0:
        return 0.0
    return torch.where(amplitude < 0, config.reset_field_t / MU0, config.write_field_t / MU0).to(amplitude.dtype)


@register_device("dw-trapezoid")
class DWTrapezoid(DWSynapse):
    """Trapezoidal notched DW-MTJ (paper 002: voltage-controlled multi-level writes, single-shot reset)."""

    @classmethod
    def config_class(cls) -> type:
        return DWTrapezoidConfig

    def bias_field(self, amplitude: torch.Tensor) -> torch.Tensor | float:
        return _polarity_bias(self.config, amplitude)


@register_device("dw-straight")
class DWStraight(DWSynapse):
    """Straight notched DW-MTJ (paper 002: stochastic multi-notch hops, stable levels)."""

    @classmethod
    def config_class(cls) -> type:
        return DWStraightConfig

    def bias_field(self, amplitude: torch.Tensor) -> torch.Tensor | float:
        return _polarity_bias(self.config, amplitude)


__all__ = ["DWContinuous", "DWContinuousConfig", "DWNotched", "DWNotchedConfig", "DWStraight", "DWStraightConfig",
           "DWSynapse", "DWSynapseConfig", "DWTrapezoid", "DWTrapezoidConfig", "depinning_voltage",
           "mtj_conductances_for_range", "position_conductance", "supply_energy"]
