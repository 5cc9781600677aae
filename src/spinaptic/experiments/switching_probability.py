"""Paper 000, Fig. 2b: switching probability of a ~40 k_BT SOT nanomagnet against pulse current, calibrated so that
the paper's Fig. 2d SET pulse (6.97 mA, 20 us) lies in the finite-probability region."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ConfigError, check_int, check_order, check_positive, check_range
from ..devices.base import Pulses
from ..devices.nanomagnet import Nanomagnet, NanomagnetConfig
from ..physics.neel_brown import (
    FIG2_MAGNET,
    FIG2_RESET_A,
    FIG2_SET_A,
    FIG2_SET_PROBABILITY,
    NeelBrownParams,
    barrier_for_probability,
    calibrated_magnet,
    current_for_probability,
    fit_exponent_and_tau0,
    switching_probability_of,
)
from ._fig2d import GradualBandTargets
from .base import Comparison, Result, RunContext, experiment
from .comparison import calibrated_row, check_row, paper_row

QUOTE_FINITE = "this current level lies in the \u201cfinite switching probability\u201d region of the nanomagnet in fig 2(b)"
QUOTE_RESET = "depression ( $D$ ) operation can be emulated with our \u201cone nanomagnet device\u201d when input current pulses of  $-7.28$  mA"
QUOTE_20US = "a pulse width of 20 us, which resulted in a similar trend but higher current requirements for the probabilistic switching"


@dataclass(frozen=True)
class SwitchingTargets(GradualBandTargets):
    """Pass criteria of the switching-probability rows, fixed before the run (the Fig. 2d band: `GradualBandTargets`).

    Attributes:
        mc_max_sigma: worst |Monte-Carlo - formula| in binomial sigmas over all current points: 5 (a correct
            sampler exceeds it at one of <= 200 points with probability < 1e-4).
        macrospin_d50_max: |50 % current of the LLG curve - of its Néel-Brown fit| [J_c0]: 0.03, about 3x the
            binomial error of the 50 % point (0.5/sqrt(256) in P over a transition ~0.3 J_c0 wide).
    """

    mc_max_sigma: float = 5.0
    macrospin_d50_max: float = 0.03

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("mc_max_sigma", self.mc_max_sigma, 0.0, 100.0, unit="sigma", lo_open=True)
        check_range("macrospin_d50_max", self.macrospin_d50_max, 0.0, 1.0, unit="J_c0", lo_open=True)


@dataclass(frozen=True)
class SwitchingProbabilityConfig:
    """Attributes:
    delta0: zero-current barrier [k_BT] (paper 000: "of the order of 40k_B T").
    tau0_s: attempt time [s] (1 ns, the usual empirical value).
    exponent: barrier exponent n (2: Sharrock form, which our stochastic-LLG check prefers over 1).
    set_current_a: the paper's Fig. 2d SET current [A] (6.97 mA, 20 us), where the calibration puts
        ``set_probability``.
    set_probability: calibration target, P_sw of the SET pulse (0.15: 20 pulses = 3 mean switching times;
        the paper says only that 6.97 mA lies in the "finite switching probability" region, see
        `neel_brown.FIG2_SET_PROBABILITY`). I_c0 follows analytically.
    reset_current_a: the paper's Fig. 2d depression current [A] (-7.28 mA, 20 us); its P_sw is a prediction
        of the symmetric magnet.
    pulse_widths_s: pulse widths [s] of the curves (the paper's 20 us and 50 us, Fig. 2b).
    i_min_a, i_max_a, n_currents: current grid [A].
    n_trials: Monte-Carlo devices per current point.
    delta0_dtod: relative device-to-device sigma of the barrier in the Monte-Carlo ensemble (0: one magnet,
        as in Fig. 2b).
    macrospin_check: validate the Néel-Brown form against the stochastic LLG(S) solver. A 20 us pulse on a
        40 k_BT magnet needs ~1e8 LLG steps per trial, so the check uses a scaled magnet in the same
        thermal-activation regime: a 20 nm x 1 nm disc with ``macrospin_barrier`` k_BT, collinear STT,
        ``macrospin_pulse_s`` pulses (device-physics.md 1(a): "validate only at small Delta").
    macrospin_barrier: barrier of the scaled magnet [k_BT].
    macrospin_pulse_s: pulse width of the scaled check [s].
    macrospin_trials: macrospins per current point.
    macrospin_currents: number of current points between 0.25 and 1.1 I_c0.
    targets: pass criteria (`SwitchingTargets`).
    """

    delta0: float = FIG2_MAGNET.delta0
    tau0_s: float = FIG2_MAGNET.tau0_s
    exponent: float = FIG2_MAGNET.exponent
    set_current_a: float = FIG2_SET_A
    set_probability: float = FIG2_SET_PROBABILITY
    reset_current_a: float = FIG2_RESET_A
    pulse_widths_s: tuple[float, ...] = (20e-6, 50e-6)
    i_min_a: float = 5.0e-3
    i_max_a: float = 9.0e-3
    n_currents: int = 41
    n_trials: int = 4000
    delta0_dtod: float = 0.0
    macrospin_check: bool = True
    macrospin_barrier: float = 15.0
    macrospin_pulse_s: float = 10e-9
    macrospin_trials: int = 512
    macrospin_currents: int = 12
    targets: SwitchingTargets = SwitchingTargets()

    def __post_init__(self) -> None:
        check_range("delta0", self.delta0, 1.0, 200.0, unit="k_BT")
        check_range("tau0_s", self.tau0_s, 1e-13, 1e-6, unit="s")
        check_range("exponent", self.exponent, 1.0, 3.0)
        check_range("set_current_a", self.set_current_a, 0.0, 0.1, unit="A", lo_open=True)
        check_range("set_probability", self.set_probability, 1e-6, 1 - 1e-6)
        check_range("reset_current_a", self.reset_current_a, -0.1, 0.0, unit="A (negative: depressing)", hi_open=True)
        check_range("i_min_a", self.i_min_a, 0.0, 1.0, unit="A")
        check_range("i_max_a", self.i_max_a, 0.0, 1.0, unit="A", lo_open=True)
        check_order("i_min_a", self.i_min_a, "i_max_a", self.i_max_a, unit="A")
        check_range("delta0_dtod", self.delta0_dtod, 0.0, 0.5, unit="(relative sigma)")
        check_positive("macrospin_barrier", self.macrospin_barrier, unit="k_BT")
        check_positive("macrospin_pulse_s", self.macrospin_pulse_s, unit="s")
        check_int("macrospin_trials", self.macrospin_trials, 1, 10**7)
        check_int("macrospin_currents", self.macrospin_currents, 3, 1000)
        check_int("n_currents", self.n_currents, 2, 10_000)
        check_int("n_trials", self.n_trials, 1, 10**8)
        for w in self.pulse_widths_s:
            check_range("pulse_widths_s", w, 1e-12, 1.0, unit="s")
        if not any(math.isclose(w, 20e-6) for w in self.pulse_widths_s) or not any(
                math.isclose(w, 50e-6) for w in self.pulse_widths_s):
            raise ConfigError(f"pulse_widths_s = {self.pulse_widths_s!r} s must include the paper's 20e-6 and 50e-6 s "
                              "(Fig. 2b's two curves, which the comparisons read); further widths may be added")
        delta = barrier_for_probability(self.set_probability, 20e-6, self.tau0_s)
        if not 0 < delta < self.delta0:
            raise ConfigError(f"set_probability = {self.set_probability} at 20 us needs 0 < ln(t_p/(tau0 (-ln(1-P)))) "
                              f"= {delta:.2f} < delta0 = {self.delta0}: raise delta0 or tau0_s, or lower set_probability")


def _params(cfg: SwitchingProbabilityConfig) -> NeelBrownParams:
    """The Fig. 2 magnet: I_c0 such that the SET pulse (20 us) switches with ``set_probability``."""
    return calibrated_magnet(cfg.set_current_a, cfg.set_probability, 20e-6, cfg.delta0, cfg.tau0_s, cfg.exponent)


@experiment(
    "switching-probability",
    paper="000",
    title="Switching probability vs SOT current (paper 000, Fig. 2b)",
    config=SwitchingProbabilityConfig,
    presets={
        "quick": SwitchingProbabilityConfig(n_trials=2000, n_currents=25, macrospin_trials=256, macrospin_currents=10),
        "paper": SwitchingProbabilityConfig(n_trials=20000, n_currents=81, macrospin_trials=4000, macrospin_currents=18),
    },
)
def run(cfg: SwitchingProbabilityConfig, ctx: RunContext) -> Result:
    """Néel-Brown P_sw(I) for 20 and 50 us pulses, checked by Monte-Carlo sampling of the device."""
    import matplotlib.pyplot as plt

    nb = _params(cfg)
    dev = Nanomagnet(NanomagnetConfig(switching=nb, delta0_dtod=cfg.delta0_dtod))
    currents = torch.linspace(cfg.i_min_a, cfg.i_max_a, cfg.n_currents, dtype=torch.float64)
    metrics: dict = {"i_c0_a": nb.i_c0_a}
    curves = {}
    worst_z = 0.0
    for width in ctx.progress(cfg.pulse_widths_s, desc="pulse widths"):
        analytic = switching_probability_of(currents, width, nb)
        # Monte Carlo: n_trials fresh devices per current, reset to 0, one SET pulse each.
        state = dev.init_state((cfg.n_currents, cfg.n_trials), generator=ctx.generator)
        state, _ = dev.apply(state, Pulses(amplitude=currents[:, None], width_s=width), generator=ctx.generator)
        mc = state["s"].to(torch.float64).mean(dim=1)
        sigma = (analytic * (1 - analytic) / cfg.n_trials).sqrt().clamp_min(0.5 / cfg.n_trials)
        if cfg.delta0_dtod == 0:
            worst_z = max(worst_z, float(((mc - analytic).abs() / sigma).max()))
        key = f"{width * 1e6:g}us"
        curves[key] = (analytic, mc)
        for q in (0.01, 0.1, 0.5, 0.9, 0.99):
            metrics[f"I{int(q * 100):02d}_{key}_mA"] = 1e3 * current_for_probability(q, width, nb)
        i50 = current_for_probability(0.5, width, nb)
        metrics[f"energy_per_pulse_at_I50_{key}_J"] = dev.pulse_energy(i50, width)
        metrics[f"mc_probability_{key}"] = mc.tolist()
    metrics["currents_mA"] = (currents * 1e3).tolist()
    metrics["mc_worst_deviation_sigma"] = worst_z

    t = cfg.targets
    p_set = float(switching_probability_of(torch.tensor(cfg.set_current_a, dtype=torch.float64), 20e-6, nb))
    p_reset = float(switching_probability_of(torch.tensor(abs(cfg.reset_current_a), dtype=torch.float64), 20e-6, nb))
    metrics.update(p_set_pulse=p_set, p_reset_pulse=p_reset)
    ms_comparisons: list[Comparison] = []
    if cfg.macrospin_check:
        ms_res = ctx.cached("macrospin-v2", lambda: _macrospin_check(cfg, ctx))
        metrics.update({f"macrospin_{k}": v for k, v in ms_res.items() if k != "curve"})
        _plot_macrospin(ctx, ms_res)
        z = ms_res["max_deviation_sigma"]
        d50 = abs(ms_res["j50_llg_over_jc0"] - ms_res["j50_fit_over_jc0"])
        ms_comparisons.append(check_row(
            "50 % current: stochastic LLG vs fitted Néel-Brown (scaled magnet)", "equal (thermally activated switching)",
            round(d50, 4), d50 < t.macrospin_d50_max, unit="J_c0", target=f"< {t.macrospin_d50_max:g} J_c0",
            gap=f"the 50 % points differ by {d50:.3f} J_c0"))
        ms_comparisons.append(check_row(
            "shape: worst deviation of the LLG curve from the one-exponent Néel-Brown fit", "-", round(z, 2), None,
            unit="sigma",
            note=(f"fitted n = {ms_res['fitted_exponent']:g}, tau0 = {ms_res['fitted_tau0_s']:.3g} s. With enough trials "
                  "the LLG curve is resolved beyond a single exponent with a constant tau0: the attempt "
                  "prefactor itself depends on the current. n = 2 (our default) is the closest of Koch (1) and "
                  "Sharrock (2).")))

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for (key, (analytic, mc)), color in zip(curves.items(), ("C0", "C3", "C2", "C4")):
        ax.plot(currents * 1e3, analytic, color=color, label=f"Néel-Brown, {key}")
        ax.plot(currents * 1e3, mc, "o", ms=3.5, color=color, mfc="none", label=f"Monte-Carlo device, {key}")
    ax.axvline(cfg.set_current_a * 1e3, color="k", ls=":", lw=1)
    ax.axvline(abs(cfg.reset_current_a) * 1e3, color="0.5", ls="--", lw=1)
    ax.annotate(f"SET {cfg.set_current_a * 1e3:.2f} mA", (cfg.set_current_a * 1e3, 0.9), fontsize=7, ha="right")
    ax.annotate(f"|RESET| {abs(cfg.reset_current_a) * 1e3:.2f} mA", (abs(cfg.reset_current_a) * 1e3, 0.75), fontsize=7)
    ax.set_xlabel("SOT pulse current |I| (mA)")
    ax.set_ylabel("switching probability $P_{sw}$")
    ax.set_title(f"$\\Delta_0$ = {cfg.delta0:g} $k_BT$, n = {cfg.exponent:g}, $I_{{c0}}$ = {nb.i_c0_a * 1e3:.2f} mA")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ctx.save_figure(fig, "switching_probability.png")

    shift = metrics["I50_20us_mA"] - metrics["I50_50us_mA"]
    paper_reset = math.isclose(cfg.reset_current_a, FIG2_RESET_A, rel_tol=1e-9)
    band = t.band
    reset_ok = t.gradual(p_reset)
    reset_row = paper_row(
        f"RESET {cfg.reset_current_a * 1e3:.2f} mA / 20 us: per-pulse switching probability (symmetric magnet)",
        "-7.28 mA emulates depression (Fig. 2d)", round(p_reset, 3), reset_ok if paper_reset else None,
        source="Sec. II, Fig. 2d", quote=QUOTE_RESET, target=band,
        gap=f"P = {p_reset:.3f} is outside the gradual band",
        note=("a prediction: the magnet's I_c0 is fitted at the SET current only and is the same for both signs; "
              "the band is a gradual 20-pulse depression (Fig. 2d, red)"))
    if not paper_reset:
        reset_row.verdict = "not-comparable"
        reset_row.note = f"run at {cfg.reset_current_a * 1e3:.2f} mA, not the paper's -7.28 mA"
    comparisons = [
        calibrated_row(
            f"I_c0 of the Fig. 2 nanomagnet (Delta0 {cfg.delta0:g} k_BT, tau0 {cfg.tau0_s:g} s, n {cfg.exponent:g})",
            f"P_sw({cfg.set_current_a * 1e3:.2f} mA, 20 us) = {cfg.set_probability:g}",
            f"I_c0 = {nb.i_c0_a * 1e3:.3f} mA (P = {p_set:.3f})", source="Sec. II, Fig. 2b/2d",
            note=("the paper states only that its 6.97 mA / 20 us SET pulse lies in the 'finite switching probability' "
                  "region of Fig. 2b and that 20 such pulses switch gradually (Fig. 2d); the target P is our choice "
                  f"inside the gradual band {band}")),
        reset_row,
        paper_row("I50 shift: 20 us curve minus 50 us curve", "20 us needs higher current", round(shift, 3), None,
                  source="Sec. II, Fig. 2b", quote=QUOTE_20US, unit="mA",
                  note="the paper gives no size; the sign follows from thermal activation for any parameters "
                       "(a unit test), the size is the model's prediction"),
    ]
    if cfg.delta0_dtod == 0:
        comparisons.append(check_row("Monte-Carlo device vs Néel-Brown formula (worst point)", "-", round(worst_z, 2),
                                     worst_z < t.mc_max_sigma, unit="sigma",
                                     target=f"< {t.mc_max_sigma:g} sigma over all points"))
    comparisons += ms_comparisons
    notes = (
        "The Néel-Brown model (tau = tau0 exp(Delta0 (1 - I/I_c0)^n)) is calibrated by one number: the paper puts its "
        f"Fig. 2d SET pulse ({cfg.set_current_a * 1e3:.2f} mA, 20 us) in the 'finite switching probability' region of "
        f"Fig. 2b, and we place P_sw = {cfg.set_probability:g} there (20 pulses = {1 / cfg.set_probability:.1f} mean "
        "switching times); I_c0 follows analytically. The 20/50 us shift, the position of the -7.28 mA RESET pulse on "
        "the curve and the width of the transition are then predictions, not fits. The paper's text gives no other "
        "number of Fig. 2b (our earlier reading of the figure, I50(20 us) = 6.25 mA, put 6.97 mA at P = 0.998 and "
        "contradicted the text). "
        "Monte-Carlo points come from the `sot-nanomagnet` device (one fresh device per trial), "
        "so they test the device's sampling against the formula. The macrospin check integrates the stochastic "
        "LLG(S) equation (Heun, thermal field) for a scaled low-barrier magnet with collinear STT and fits the "
        "Néel-Brown form (barrier and I_c0 fixed by the magnet; exponent n and tau0 fitted): it shows which "
        "exponent the thermal-activation physics prefers."
    )
    return Result(metrics=metrics, comparisons=comparisons, notes=notes)


def _macrospin_check(cfg: SwitchingProbabilityConfig, ctx: RunContext) -> dict:
    """P_sw(J) of a scaled low-barrier magnet from the stochastic LLG solver, and the best Néel-Brown fit."""
    import numpy as np

    from ..physics import macrospin as ms

    temperature = 300.0
    volume = ms.disc_volume(20e-9, 1e-9)
    params = ms.MacrospinParams(
        volume_m3=volume, k_eff_j_per_m3=ms.k_eff_for_barrier(cfg.macrospin_barrier, volume, temperature), alpha=0.05,
        t_f_m=1e-9, stt_eta=0.6, stt_p=(0.0, 0.0, -1.0), temperature_k=temperature)
    j_c0 = ms.stt_critical_current_density(params)  # deterministic collinear threshold (T = 0)
    frac = torch.linspace(0.25, 1.1, cfg.macrospin_currents, dtype=torch.float64)
    p_ms = ms.switching_probability(
        params, pulse_width_s=cfg.macrospin_pulse_s, n_trials=cfg.macrospin_trials, dt_s=1e-12, j_stt=frac * j_c0,
        generator=ctx.make_generator("macrospin"), relax_s=0.5e-9)
    # Fit n and tau0 of the Néel-Brown law below threshold (barrier and J_c0 fixed by the magnet).
    below = frac < 1.0
    f, p = frac[below], p_ms[below]
    sig = (p * (1 - p)).clamp_min(1.0 / cfg.macrospin_trials).div(cfg.macrospin_trials).sqrt()
    n_fit, tau_fit, _ = fit_exponent_and_tau0(f, p, sig, cfg.macrospin_pulse_s, cfg.macrospin_barrier,
                                              torch.arange(1.0, 3.01, 0.25, dtype=torch.float64),
                                              torch.logspace(-12, -7, 201, dtype=torch.float64))
    fitted = _fitted_magnet(cfg.macrospin_barrier, tau_fit, n_fit)
    model = switching_probability_of(f, cfg.macrospin_pulse_s, fitted)
    return {
        "j50_llg_over_jc0": float(np.interp(0.5, p_ms.numpy(), frac.numpy())),
        "j50_fit_over_jc0": current_for_probability(0.5, cfg.macrospin_pulse_s, fitted),
        "j_c0_a_per_m2": j_c0,
        "fitted_exponent": n_fit,
        "fitted_tau0_s": tau_fit,
        "max_deviation_sigma": float(((model - p).abs() / sig).max()),
        "curve": {"j_over_jc0": frac.tolist(), "p_llg": p_ms.tolist()},
        "barrier_kt": cfg.macrospin_barrier,
        "pulse_s": cfg.macrospin_pulse_s,
    }


def _fitted_magnet(barrier_kt: float, tau0_s: float, exponent: float) -> NeelBrownParams:
    """The fitted Néel-Brown law of the scaled magnet, currents in units of J_c0 (I_c0 = 1)."""
    return NeelBrownParams(delta0=barrier_kt, tau0_s=tau0_s, i_c0_a=1.0, exponent=exponent)


def _plot_macrospin(ctx: RunContext, res: dict) -> None:
    import matplotlib.pyplot as plt

    x = torch.tensor(res["curve"]["j_over_jc0"], dtype=torch.float64)
    fine = torch.linspace(float(x.min()), min(float(x.max()), 1.0), 200, dtype=torch.float64)
    model = switching_probability_of(fine, res["pulse_s"], _fitted_magnet(res["barrier_kt"], res["fitted_tau0_s"],
                                                                          res["fitted_exponent"]))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(x, res["curve"]["p_llg"], "s", label="stochastic LLG (macrospin)")
    ax.plot(fine, model, "-", label=f"Néel-Brown fit: n = {res['fitted_exponent']:g}, tau0 = {res['fitted_tau0_s']:.2g} s")
    ax.set_xlabel("STT current / deterministic threshold $J/J_{c0}$")
    ax.set_ylabel("switching probability")
    ax.set_title(f"Scaled magnet: {res['barrier_kt']:g} $k_BT$, {res['pulse_s'] * 1e9:g} ns pulses, 300 K")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ctx.save_figure(fig, "macrospin_check.png")
