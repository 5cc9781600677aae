"""Compound synapse: Q = 2^n SOT nanomagnets on one shared spin-Hall channel (paper 000, Figs. 2c-3, eq. 1-2).

Every magnet carries the same channel current and switches independently with the Néel-Brown probability
of `physics.neel_brown` (thermally activated, ~40 k_BT), so after a pulse train the number switched is a
sum of Q Bernoulli variables and the ensemble behaves like a multilevel (analog-like) memory:

* identical pulses (scheme I): E[k] = Q [1 - (1 - P(I))^m] after m pulses: a saturating, nonlinear curve;
* incremental amplitude (scheme II): E[k] = Q [1 - prod_m (1 - P(I_m))]: much closer to a straight line.

Convention: a magnet in its initial ("-1") state reads as an antiparallel MTJ, a switched ("+1") magnet
as parallel, so potentiation (positive pulses) raises the conductance. With k of the Q magnets parallel
the Q MTJs in parallel give G_k = k/R_P + (Q-k)/R_AP, i.e. eq. 1 with i - 1 = Q - k junctions in AP:
Q + 1 equally spaced conductance levels, R_P = RA / area and R_AP = R_P (1 + TMR) (eq. 2). The Hall-bar
experiment reads the same state as anomalous-Hall resistance steps of ~110 mOhm per magnet (Fig. 3b).

Device-to-device spread of the barrier Delta0 and of I_c0 is drawn per magnet in `init_state` (the paper
sees a different coercive field per magnet, Fig. 3b). Depression (negative pulses) uses I_c0 scaled by
``i_c0_depression_ratio``: the paper's scheme II depresses with -4.8 -> -5.8 mA against 5 -> 6 mA for
potentiation, i.e. switching back needs ~3 % less current on that device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ConfigError, check_int, check_nonnegative, check_positive, check_range
from ..physics.mtj import MTJParams
from ..physics.neel_brown import FIG3_MAGNET, NeelBrownParams, switching_probability
from .base import Device, DeviceState, Pulses, register_device
from .variation import draw_spread

PAPER_MTJ = MTJParams(ra_ohm_m2=10e-12, area_m2=math.pi * (50e-9) ** 2 / 4, tmr=4.0)
"""Read-out junction of the network study (paper 000, Fig. 4: RA = 10 Ohm um^2, TMR = 400 %). The
junction area is not stated in the paper; we assume a 50 nm diameter circle."""


@dataclass(frozen=True)
class CompoundSynapseConfig:
    """Q nanomagnets on one SOT channel, each read by its own MTJ (paper 000, Fig. 1d).

    Attributes:
        n_magnets: Q, the number of magnets (a positive integer; the paper uses Q = 2^n, n bits, Q = 16).
        switching: Néel-Brown parameters (default `neel_brown.FIG3_MAGNET`, a magnet of paper 000's 16-magnet
            cross: Delta0 = 40 k_BT, tau0 = 1 ns, n = 2, I_c0 = 12.67 mA, calibrated so that the 20 us 50 %
            point, 6.25 mA, lies in the 5 -> 6 mA range of the paper's scheme II; the single-magnet device of
            Fig. 2 is `neel_brown.FIG2_MAGNET`, I_c0 = 15.2 mA, on a different Hall bar).
        mtj: read-out junction (RA [Ohm m^2], area [m^2], TMR as a fraction; default RA = 10 Ohm um^2,
            TMR = 400 %, 50 nm diameter).
        delta0_dtod: relative device-to-device sigma of each magnet's barrier (>= 0; assumed 5 %).
        i_c0_dtod: relative device-to-device sigma of each magnet's I_c0 (>= 0; assumed 5 %, a spread of
            coercive fields as in Fig. 3b). This spread is what makes scheme II nearly linear: the rising
            amplitude sweeps through the magnets' individual thresholds.
        i_c0_depression_ratio: I_c0 of the depressing (negative) direction relative to potentiation
            (> 0; 5.8/6.0 from the end points of the paper's scheme II ranges).
        channel_resistance_ohm: resistance of the shared Ta channel [Ohm] for the I^2 R t write energy
            (assumed, a few kOhm Hall bar; one current per synapse, shared by all Q magnets).
        ahe_step_ohm: anomalous-Hall resistance change per switched magnet [Ohm] (paper: ~110 mOhm).

    Variation knobs: device-to-device ``delta0_dtod``, ``i_c0_dtod`` (per magnet); cycle-to-cycle: the
    intrinsic Néel-Brown stochasticity of every magnet (no extra ``*_std`` knob); MTJ read spread:
    ``level_std(mtj_sigma)`` / ``arrays.mapping``; read noise: the crossbar's (`arrays.crossbar`), not `conductance`.
    """

    n_magnets: int = 16
    switching: NeelBrownParams = FIG3_MAGNET
    mtj: MTJParams = PAPER_MTJ
    delta0_dtod: float = 0.05
    i_c0_dtod: float = 0.05
    i_c0_depression_ratio: float = 5.8 / 6.0
    channel_resistance_ohm: float = 2e3
    ahe_step_ohm: float = 0.110

    def __post_init__(self) -> None:
        check_int("n_magnets (Q, magnets per compound synapse)", self.n_magnets, 1, 1 << 16)
        if not isinstance(self.mtj, MTJParams):
            raise ConfigError(f"mtj must be an MTJParams, got {type(self.mtj).__name__}")
        if not isinstance(self.switching, NeelBrownParams):
            raise ConfigError(f"switching must be a NeelBrownParams, got {type(self.switching).__name__}")
        check_nonnegative("delta0_dtod", self.delta0_dtod, unit="(relative sigma)")
        check_nonnegative("i_c0_dtod", self.i_c0_dtod, unit="(relative sigma)")
        check_range("i_c0_depression_ratio", self.i_c0_depression_ratio, 0.1, 10.0)
        check_positive("channel_resistance_ohm", self.channel_resistance_ohm, unit="Ohm")
        check_positive("ahe_step_ohm", self.ahe_step_ohm, unit="Ohm")

    @property
    def bits(self) -> float:
        """log2(Q): the bit precision of the synapse."""
        return math.log2(self.n_magnets)


def compound_levels(mtj: MTJParams, n_magnets: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Conductances [S] of the Q + 1 levels, ascending: G_k = k G_P + (Q - k) G_AP, k = 0..Q (eq. 1)."""
    check_int("n_magnets", n_magnets, 1)
    k = torch.arange(n_magnets + 1, dtype=dtype, device=device)
    return k * mtj.g_p + (n_magnets - k) * mtj.g_ap


def compound_conductance(mtj: MTJParams, n_magnets: int, n_parallel: torch.Tensor | float) -> torch.Tensor | float:
    """Read-out [S] of Q parallel MTJs of which ``n_parallel`` (k, possibly a mean, so any real in [0, Q]) are
    parallel: G = k G_P + (Q - k) G_AP (eq. 1)."""
    return n_parallel * mtj.g_p + (n_magnets - n_parallel) * mtj.g_ap


def ahe_resistance(n_switched: torch.Tensor | float, n_magnets: int, step_ohm: float) -> torch.Tensor | float:
    """Anomalous-Hall read-out [Ohm] of the Hall-bar experiment, R_H = step (k - Q/2), for k switched magnets
    (possibly a mean) of ``step_ohm`` [Ohm] each (paper 000 Fig. 3b: ~110 mOhm); `CompoundSynapse.hall_resistance`."""
    return step_ohm * (n_switched - n_magnets / 2)


def compound_resistances_eq1(mtj: MTJParams, n_magnets: int) -> torch.Tensor:
    """R_Synapse(i) = R_P R_AP / (R_AP (Q - (i-1)) + R_P (i-1)), i = 1..Q+1, literally as eq. 1 [Ohm]
    (descending conductance: i - 1 junctions in AP)."""
    i = torch.arange(1, n_magnets + 2, dtype=torch.float64)
    rp, rap = mtj.r_p, mtj.r_ap
    return rp * rap / (rap * (n_magnets - (i - 1)) + rp * (i - 1))


@register_device("compound-synapse")
class CompoundSynapse(Device):
    """Q SOT nanomagnets on one channel, read as Q parallel MTJs (paper 000): Q + 1 conductance levels."""

    config: CompoundSynapseConfig
    is_synapse = True

    @classmethod
    def config_class(cls) -> type:
        return CompoundSynapseConfig

    # state ---------------------------------------------------------------------------------------------
    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        """All magnets in the initial (-1, AP) state; per-magnet barrier and I_c0 drawn with the spread.

        State tensors have shape ``(*shape, Q)``.
        """
        c, dt = self.config, torch.float64
        full = (*tuple(shape), c.n_magnets)
        return DeviceState(
            s=torch.zeros(full, dtype=torch.bool, device=device),
            delta0=draw_spread(c.switching.delta0, c.delta0_dtod, full, generator, device, dt),
            i_c0=draw_spread(c.switching.i_c0_a, c.i_c0_dtod, full, generator, device, dt),
        )

    def n_switched(self, state: DeviceState) -> torch.Tensor:
        """Number of switched (+1, parallel) magnets k per synapse (int64, array shape)."""
        return state["s"].sum(dim=-1)

    def conductance(self, state: DeviceState) -> torch.Tensor:
        """MTJ read-out [S]: G = k G_P + (Q - k) G_AP (eq. 1)."""
        m, q = self.config.mtj, self.config.n_magnets
        k = self.n_switched(state).to(torch.float64)
        return k * m.g_p + (q - k) * m.g_ap

    def hall_resistance(self, state: DeviceState) -> torch.Tensor:
        """Anomalous-Hall read-out of the Hall-bar experiment [Ohm]: R_H = step (k - Q/2), so that the
        all-(-1) state reads -Q step / 2 and every switched magnet adds one ~110 mOhm step (Fig. 3b)."""
        k = self.n_switched(state).to(torch.float64)
        return self.config.ahe_step_ohm * (k - self.config.n_magnets / 2)

    def levels(self, dtype=torch.float64, device=None) -> torch.Tensor:
        """The Q + 1 programmable conductances [S], ascending (eq. 1)."""
        return compound_levels(self.config.mtj, self.config.n_magnets, dtype, device)

    def level_std(self, mtj_sigma: float, dtype=torch.float64, device=None) -> torch.Tensor:
        """Device-to-device sigma [S] of each level when every MTJ's conductance has relative sigma
        ``mtj_sigma`` (independent junctions): sigma_k = mtj_sigma sqrt(k G_P^2 + (Q - k) G_AP^2)."""
        check_nonnegative("mtj_sigma", mtj_sigma, unit="(relative sigma)")
        m, q = self.config.mtj, self.config.n_magnets
        k = torch.arange(q + 1, dtype=dtype, device=device)
        return mtj_sigma * torch.sqrt(k * m.g_p**2 + (q - k) * m.g_ap**2)

    def conductance_range(self) -> tuple[float, float]:
        m, q = self.config.mtj, self.config.n_magnets
        return (q * m.g_ap, q * m.g_p)

    def mean_step(self, direction: int) -> float:
        """Analytic, nominal magnets (no spread): at mid-range Q/2 magnets can switch, each with the
        per-pulse probability P of the nominal pulse (+6.0 mA, or -5.8 mA with the depression I_c0), so
        mean |Delta G| = (Q/2) P (G_P - G_AP)."""
        sw, c = self.config.switching, self.config
        amp, ic0 = (6.0e-3, sw.i_c0_a) if direction > 0 else (5.8e-3, sw.i_c0_a * c.i_c0_depression_ratio)
        p = float(switching_probability(torch.tensor(amp, dtype=torch.float64), 20e-6, sw.delta0, ic0, sw.tau0_s,
                                        sw.exponent))
        return 0.5 * c.n_magnets * p * (c.mtj.g_p - c.mtj.g_ap)

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        """floor(Q/2) of each synapse's magnets switched."""
        s = self.init_state(shape, generator=generator)
        on = torch.arange(self.config.n_magnets) < self.config.n_magnets // 2
        s["s"] = on.expand(s["s"].shape).clone()
        return s

    # switching -----------------------------------------------------------------------------------------
    def switching_probability(self, state: DeviceState, current_a: torch.Tensor, width_s) -> torch.Tensor:
        """Per-magnet probability that one pulse of signed ``current_a`` [A] (array shape) switches a magnet
        that is in the state the pulse drives away from; shape ``(*array, Q)``."""
        sw, c = self.config.switching, self.config
        cur = torch.as_tensor(current_a, dtype=torch.float64, device=state["delta0"].device)
        cur = cur.expand(state["s"].shape[:-1]).unsqueeze(-1)
        i_c0 = torch.where(cur < 0, state["i_c0"] * c.i_c0_depression_ratio, state["i_c0"])
        width = torch.as_tensor(width_s, dtype=torch.float64, device=cur.device)
        if width.dim() > 0:
            width = width.expand(state["s"].shape[:-1]).unsqueeze(-1)
        return switching_probability(cur.abs(), width, state["delta0"], i_c0, sw.tau0_s, sw.exponent)

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        """Apply ``pulses`` (same-polarity identical pulses, ``count`` per synapse) to all Q magnets.

        A positive current switches -1 -> +1 magnets, a negative one +1 -> -1, each magnet independently;
        a switched magnet stays switched for the rest of a same-polarity train, so ``count`` identical
        pulses switch it with probability 1 - (1 - P)^count. Energy [J] per synapse: I^2 R_channel t count
        (one current through the shared channel).
        """
        if pulses.kind != "current":
            raise ValueError("compound-synapse is driven by current pulses (Pulses.kind='current')")
        s = state["s"]
        ref = torch.empty(s.shape[:-1], dtype=torch.float64, device=s.device)
        amp = pulses.amplitude_like(ref)
        n = pulses.count_like(ref)
        p1 = self.switching_probability(state, amp, pulses.width_s)
        p = -torch.expm1(n.to(torch.float64).unsqueeze(-1) * torch.log1p(-p1.clamp_max(1 - 1e-16)))
        flip = torch.rand(p.shape, generator=generator, dtype=torch.float64, device=s.device) < p
        up = (amp > 0).unsqueeze(-1)
        down = (amp < 0).unsqueeze(-1)
        s_new = (s | (up & flip)) & ~(down & flip)
        width = torch.as_tensor(pulses.width_s, dtype=torch.float64, device=s.device)
        energy = amp**2 * self.config.channel_resistance_ohm * width * n
        out = DeviceState(state)
        out["s"] = s_new
        return out, energy

    def nominal_pulses(self, direction) -> Pulses:
        """One scheme-I pulse: +6.0 mA / -5.8 mA, 20 us (P ~ 0.3 per magnet with the default calibration)."""
        d = torch.as_tensor(direction)
        amp = torch.zeros(d.shape, dtype=torch.float64, device=d.device)
        amp = amp.masked_fill(d > 0, 6.0e-3).masked_fill(d < 0, -5.8e-3)
        return Pulses(amplitude=amp, width_s=20e-6, count=(d != 0).to(torch.int64))

    def expected_switched(self, amplitudes_a: torch.Tensor, width_s: float, start: float = 0.0) -> torch.Tensor:
        """Mean-field E[k] after each pulse of a same-polarity train for the *nominal* magnet (no spread):
        E[k_m] = Q - (Q - start) prod_{j <= m} (1 - P(I_j)) for potentiation (mirror for depression)."""
        sw, c = self.config.switching, self.config
        amps = torch.as_tensor(amplitudes_a, dtype=torch.float64)
        ic0 = torch.where(amps < 0, c.i_c0_depression_ratio * sw.i_c0_a, torch.full_like(amps, sw.i_c0_a))
        p = switching_probability(amps.abs(), width_s, sw.delta0, ic0, sw.tau0_s, sw.exponent)
        survive = torch.cumprod(1 - p, dim=0)
        q = float(c.n_magnets)
        if bool((amps >= 0).all()):
            return q - (q - start) * survive
        return start * survive


# ----------------------------------------------------------------------------------------------- pulse schemes
@dataclass(frozen=True)
class PulseScheme:
    """A programming pulse train for one direction (paper 000, Fig. 3c/3e).

    Attributes:
        amplitudes_a: signed current of each pulse [A]; all must have the sign of ``direction``.
        width_s: pulse width [s] (20 us in the paper).
        direction: +1 potentiation (positive currents) or -1 depression (negative currents).
        name: label for plots.
    """

    amplitudes_a: tuple[float, ...]
    width_s: float = 20e-6
    direction: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if self.direction not in (1, -1):
            raise ConfigError(f"PulseScheme.direction must be +1 (potentiation) or -1 (depression), got {self.direction!r}")
        check_positive("PulseScheme.width_s", self.width_s, unit="s")
        if len(self.amplitudes_a) == 0:
            raise ConfigError("PulseScheme needs at least one pulse")
        kind = "potentiation" if self.direction > 0 else "depression"
        for i, a in enumerate(self.amplitudes_a):
            if not math.isfinite(a) or a == 0 or (a > 0) != (self.direction > 0):
                want = "> 0" if self.direction > 0 else "< 0"
                raise ConfigError(
                    f"PulseScheme {self.name or kind}: pulse {i} has amplitude {a!r} A, but a {kind} train "
                    f"needs every amplitude {want} A"
                )

    @property
    def n_pulses(self) -> int:
        return len(self.amplitudes_a)


def identical_pulses(amplitude_a: float, n_pulses: int, *, width_s: float = 20e-6, direction: int = 1) -> PulseScheme:
    """Scheme I: ``n_pulses`` identical pulses of ``amplitude_a`` [A] (its sign must match ``direction``)."""
    check_int("n_pulses", n_pulses, 1, 1 << 20)
    return PulseScheme((float(amplitude_a),) * n_pulses, width_s, direction,
                       f"I: {n_pulses} x {amplitude_a * 1e3:+.2f} mA")


def incremental_pulses(start_a: float, stop_a: float, step_a: float = 0.05e-3, *, width_s: float = 20e-6,
                       direction: int = 1) -> PulseScheme:
    """Scheme II: amplitudes from ``start_a`` to ``stop_a`` [A] (inclusive) growing in magnitude by
    ``step_a`` [A] (> 0); e.g. 5 -> 6 mA (21 pulses) for potentiation, -4.8 -> -5.8 mA for depression."""
    check_positive("step_a", step_a, unit="A")
    if abs(stop_a) < abs(start_a):
        raise ConfigError(f"incremental scheme: |stop_a| = {abs(stop_a)} A must be >= |start_a| = {abs(start_a)} A")
    if (stop_a > 0) != (start_a > 0):
        raise ConfigError(f"incremental scheme: start {start_a} A and stop {stop_a} A have different signs")
    n = int(round((abs(stop_a) - abs(start_a)) / step_a)) + 1
    sign = 1.0 if start_a > 0 else -1.0
    amps = tuple(sign * (abs(start_a) + i * step_a) for i in range(n))
    return PulseScheme(amps, width_s, direction, f"II: {start_a * 1e3:+.2f} -> {stop_a * 1e3:+.2f} mA")


def run_pulse_scheme(device: CompoundSynapse, state: DeviceState, scheme: PulseScheme, *,
                     generator: torch.Generator | None = None) -> tuple[DeviceState, torch.Tensor, torch.Tensor]:
    """Apply a scheme pulse by pulse to every synapse of ``state``.

    Returns (final state, k after each pulse with the initial k first: shape ``(n_pulses + 1, *array)``,
    write energy [J] per synapse summed over the train).
    """
    traj = [device.n_switched(state)]
    energy = torch.zeros(state["s"].shape[:-1], dtype=torch.float64, device=state["s"].device)
    for a in scheme.amplitudes_a:
        state, e = device.apply(state, Pulses(amplitude=a, width_s=scheme.width_s), generator=generator)
        energy = energy + e
        traj.append(device.n_switched(state))
    return state, torch.stack(traj), energy


def set_all(device: CompoundSynapse, state: DeviceState, value: bool) -> DeviceState:
    """Deterministic RESET/SET of every magnet (the large pulse of the paper's protocol)."""
    out = DeviceState(state)
    out["s"] = torch.full_like(state["s"], bool(value))
    return out


# ----------------------------------------------------------------------------------------------- linearity
def nonlinearity_max_deviation(curve: torch.Tensor) -> torch.Tensor:
    """Linearity metric used in the summaries: the largest deviation of a P or D curve from the straight
    line between its end points, as a fraction of the end-to-end change (0 = perfectly linear; a
    saturating 1 - e^-x curve over ~3 time constants gives ~0.4). ``curve`` has the pulse axis first."""
    c = torch.as_tensor(curve, dtype=torch.float64)
    n = c.shape[0]
    t = torch.linspace(0, 1, n, dtype=torch.float64).reshape(-1, *([1] * (c.dim() - 1)))
    line = c[0] + (c[-1] - c[0]) * t
    span = (c[-1] - c[0]).abs().clamp_min(1e-12)
    return (c - line).abs().amax(dim=0) / span


def neurosim_nonlinearity(curve: torch.Tensor) -> float:
    """NeuroSim-style fit G(p) = G0 + B (1 - exp(-p/A)), B = (G_end - G0) / (1 - exp(-P/A)), returning the
    normalised nonlinearity P / A (0 = linear, larger = more saturating; NeuroSim's "NL" labels are a
    lookup table of the same A). The fit is a least-squares grid search over A; depression curves are
    mirrored. A curve that bends the other way (accelerating) gets a negative value."""
    c = torch.as_tensor(curve, dtype=torch.float64).flatten()
    n = c.numel() - 1
    y = (c - c[0]) / (c[-1] - c[0]) if float(c[-1] - c[0]) != 0 else torch.zeros_like(c)
    p = torch.arange(n + 1, dtype=torch.float64) / n
    nl = torch.linspace(-8.0, 8.0, 3201, dtype=torch.float64)
    nl = nl[nl.abs() > 1e-6]
    model = (1 - torch.exp(-p[None, :] * nl[:, None])) / (1 - torch.exp(-nl[:, None]))
    err = ((model - y[None, :]) ** 2).sum(dim=1)
    lin_err = float(((p - y) ** 2).sum())
    best = int(err.argmin())
    return 0.0 if lin_err <= float(err[best]) else float(nl[best])


# ----------------------------------------------------------------------------------------------- mapping levels
def identical_pulse_level_map(device: CompoundSynapse, amplitude_a: float, *, n_pulses: int | None = None,
                              width_s: float = 20e-6, n_cases: int = 100,
                              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The "nonlinear mapping" of paper 000: which level scheme I actually reaches.

    A synapse meant for level j of the linear mapping (0..Q) is programmed, open loop, with j identical
    pulses of ``amplitude_a`` from the reset state. Over ``n_cases`` stochastic devices (the paper: 100)
    we average the number switched after each pulse and round it: the most probable level reached.

    Returns (index map: int64 tensor [Q + 1], level j -> level reached; mean k after 0..n_pulses pulses).
    """
    q = device.config.n_magnets
    n_pulses = q if n_pulses is None else n_pulses
    check_int("n_cases", n_cases, 1)
    scheme = identical_pulses(amplitude_a, n_pulses, width_s=width_s, direction=1 if amplitude_a > 0 else -1)
    state = device.init_state((n_cases,), generator=generator)
    if amplitude_a < 0:
        state = set_all(device, state, True)
    _, traj, _ = run_pulse_scheme(device, state, scheme, generator=generator)
    mean = traj.to(torch.float64).mean(dim=1)
    if amplitude_a < 0:
        mean = q - mean
    j = torch.arange(q + 1)
    idx = torch.round(mean[torch.clamp(j, max=n_pulses)]).to(torch.int64).clamp(0, q)
    return idx, mean


def scheme_i_amplitude_for_fraction(device: CompoundSynapse, fraction: float, n_pulses: int,
                                    width_s: float = 20e-6) -> float:
    """Scheme-I current [A] whose ``n_pulses`` identical pulses switch on average ``fraction`` of a nominal
    synapse's magnets: per-pulse P = 1 - (1 - fraction)^(1/n_pulses), inverted through Néel-Brown.
    Keeps the normalised shape of the identical-pulse curve when Q (and so the pulse count) changes."""
    from ..physics.neel_brown import current_for_probability

    check_range("fraction", fraction, 0.0, 1.0, lo_open=True, hi_open=True)
    p = -math.expm1(math.log1p(-fraction) / n_pulses)
    return current_for_probability(p, width_s, device.config.switching)
