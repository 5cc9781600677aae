"""Trusted-system checks of the stochastic macrospin solver (device-physics.md section 2, B1-B6).

Every reference number is re-derived here (quadrature, closed forms) rather than copied; float64 throughout.
Statistical assertions use fixed seeds and tolerances of about 4 standard errors plus the known O(sqrt(dt))
discrete-monitoring bias of first-passage times.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import torch
from scipy import integrate, special, stats

from spinaptic.config import ConfigError
from spinaptic.physics.constants import E_CHARGE, GAMMA0, HBAR, K_B, MU0
from spinaptic.physics.macrospin import (
    MacrospinParams,
    Segment,
    count_switches,
    disc_volume,
    effective_field,
    energy,
    simulate,
    switching_probability,
)

F64 = torch.float64
V_REF = 2.945e-24  # 50 nm x 1.5 nm disc [m^3]
T_REF = 300.0


def uniaxial(xi: float, alpha: float, **kw) -> MacrospinParams:
    """Uniaxial macrospin with barrier xi = K V / k_B T (V = 2.945e-24 m^3, Ms = 1.1e6 A/m, T = 300 K)."""
    return MacrospinParams(
        volume_m3=V_REF, alpha=alpha, k_eff_j_per_m3=xi * K_B * T_REF / V_REF, temperature_k=T_REF, **kw
    )


def up(b: int) -> torch.Tensor:
    return torch.tensor([0.0, 0.0, 1.0], dtype=F64).expand(b, 3)


def tilted(theta_deg: float, b: int = 1) -> torch.Tensor:
    th = math.radians(theta_deg)
    return torch.tensor([math.sin(th), 0.0, math.cos(th)], dtype=F64).expand(b, 3)


def boltzmann_moment(xi: float) -> float:
    """<m_z^2> for p(x) ~ exp(xi x^2) on [-1, 1] (quadrature)."""

    def w(x):
        return math.exp(xi * x * x)

    return integrate.quad(lambda x: x * x * w(x), 0, 1)[0] / integrate.quad(w, 0, 1)[0]


def abs_mz_cdf(x, xi: float):
    """CDF of |m_z| for p(x) ~ exp(xi x^2): erfi(sqrt(xi) x) / erfi(sqrt(xi))."""
    return special.erfi(math.sqrt(xi) * np.asarray(x)) / special.erfi(math.sqrt(xi))


def mfpt(xi: float, b: float, x0: float = 1.0) -> float:
    """Mean first-passage time [tau_N] from x0 to x = b of the axially symmetric Fokker-Planck equation,
    T = 2 tau_N int_b^x0 dx exp(-xi x^2) / (1 - x^2) int_x^1 exp(xi y^2) dy (Brown 1963)."""
    s = math.sqrt(xi)

    def f(x):
        if x >= 1.0:
            return 0.5  # limit x -> 1
        inner = math.sqrt(math.pi / (4 * xi)) * (special.erfi(s) - special.erfi(s * x))
        return math.exp(-xi * x * x) / (1 - x * x) * inner

    return 2 * integrate.quad(f, b, x0, limit=200, epsabs=0, epsrel=1e-10)[0]


# ------------------------------------------------------------------------------------------------------------
# Reference numbers re-derived
# ------------------------------------------------------------------------------------------------------------
def test_reference_numbers():
    assert boltzmann_moment(2.0) == pytest.approx(0.53126, abs=1e-5)
    assert boltzmann_moment(5.0) == pytest.approx(0.76427, abs=1e-5)
    assert mfpt(5.0, -0.5) == pytest.approx(28.217, abs=2e-3)
    assert mfpt(5.0, 0.0) == pytest.approx(15.136, abs=2e-3)
    assert mfpt(10.0, -0.9) == pytest.approx(1388.8, rel=1e-4)
    p = MacrospinParams(alpha=0.01, temperature_k=300.0)
    assert p.hk_a_per_m == pytest.approx(5.787e5, rel=1e-3)
    assert p.fmr_frequency_hz == pytest.approx(20.38e9, rel=5e-4)
    assert p.thermal_field_std(1e-12) == pytest.approx(9.59e3, rel=2e-3)
    assert uniaxial(1.0, 1.0).neel_time_s == pytest.approx(4.44e-9, rel=2e-3)
    assert uniaxial(1.0, 0.1).neel_time_s == pytest.approx(22.4e-9, rel=2e-3)
    assert MacrospinParams(alpha=0.0).neel_time_s == math.inf
    assert MacrospinParams(temperature_k=0.0).barrier_kt == math.inf
    assert MacrospinParams(temperature_k=[0.0, 300.0]).barrier_kt[0] == math.inf
    assert disc_volume(50e-9, 1.5e-9) == pytest.approx(2.945e-24, rel=1e-3)


# ------------------------------------------------------------------------------------------------------------
# B1: Boltzmann distribution of m_z, for two alphas (checks the alpha-scaling of the noise and Stratonovich)
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("xi", [2.0, 5.0])
@pytest.mark.parametrize("alpha", [0.1, 1.0])
def test_b1_boltzmann_distribution(xi, alpha):
    p = uniaxial(xi, alpha)
    tau_n = p.neel_time_s
    period = 2 * math.pi / (GAMMA0 * p.hk_a_per_m)
    dt = min(tau_n / 200, period / 100)
    n = int(3 * tau_n / dt)  # intra-well equilibration; <m_z^2> and |m_z| do not need the well populations
    b = 20000
    res = simulate(up(b), p, dt_s=dt, n_steps=n, generator=torch.Generator().manual_seed(11))
    mz = res.m[:, 2].numpy()
    m2 = float(np.mean(mz**2))
    se = float(np.std(mz**2)) / math.sqrt(b)
    assert abs(m2 - boltzmann_moment(xi)) < 4 * se + 1e-3, (m2, boltzmann_moment(xi), se)
    ks = stats.kstest(np.abs(mz), lambda x: abs_mz_cdf(x, xi))
    assert ks.pvalue > 1e-3, ks


def test_b1_fails_with_wrong_temperature():
    """Sanity of the B1 check itself: a magnet at 1.5 T must not pass the test for T."""
    p = uniaxial(5.0, 1.0)
    hot = MacrospinParams(
        volume_m3=V_REF, alpha=1.0, k_eff_j_per_m3=p.k_eff_j_per_m3, temperature_k=1.5 * T_REF
    )
    res = simulate(
        up(20000), hot, dt_s=p.neel_time_s / 200, n_steps=600, generator=torch.Generator().manual_seed(1)
    )
    mz = res.m[:, 2].numpy()
    assert stats.kstest(np.abs(mz), lambda x: abs_mz_cdf(x, 5.0)).pvalue < 1e-6
    assert abs(np.mean(mz**2) - boltzmann_moment(5.0)) > 0.05


# ------------------------------------------------------------------------------------------------------------
# B3: Neel-Brown escape with hysteresis, exact Fokker-Planck MFPT, Arrhenius slope
# ------------------------------------------------------------------------------------------------------------
def test_b3_mean_first_passage_time_xi5():
    """xi = 5, alpha = 1, b = -0.5: <t> = T(-0.5) = 28.22 tau_N from m = +z; dwells T(+-0.5 -> -+0.5)."""
    xi = 5.0
    p = uniaxial(xi, 1.0)
    tau_n = p.neel_time_s
    b = 10000
    ev = count_switches(
        up(b),
        p,
        dt_s=tau_n / 200,
        max_steps=10**7,
        max_events=2,
        threshold=0.5,
        generator=torch.Generator().manual_seed(5),
    )
    assert bool(ev.completed.all())
    fpt = ev.first_passage_s.numpy() / tau_n
    mean, se = fpt.mean(), fpt.std() / math.sqrt(b)
    exact = mfpt(xi, -0.5)
    # dt = tau_N/200 overestimates by ~1.8 % (discrete monitoring of the absorbing level, O(sqrt(dt))).
    assert abs(mean / exact - 1) < 0.05, (mean, exact, se)
    assert abs(mean - exact) < 4 * se + 0.025 * exact
    # Escape is (nearly) Poissonian: CV ~ 1 and exponential survival at 1 and 2 mean times.
    assert 0.9 < fpt.std() / mean < 1.05
    for k in (1.0, 2.0):
        assert abs(np.mean(fpt > k * mean) - math.exp(-k)) < 0.02
    # Counting raw zero crossings would give T(0) ~ T(-0.5)/2: hysteresis is what makes this pass.
    assert mean > 1.5 * mfpt(xi, 0.0)
    # The next interval starts at the hysteresis level: T(+0.5 -> -0.5) < T(1 -> -0.5).
    dwell = ev.dwell_times_s().numpy() / tau_n
    assert dwell.size == b
    assert abs(dwell.mean() / mfpt(xi, -0.5, x0=0.5) - 1) < 0.07


def test_b3_arrhenius_slope():
    xis = np.array([3.0, 5.0, 7.0])
    meas = []
    for xi in xis:
        p = uniaxial(xi, 1.0)
        ev = count_switches(
            up(2000),
            p,
            dt_s=p.neel_time_s / 100,
            max_steps=10**7,
            generator=torch.Generator().manual_seed(int(xi)),
        )
        assert bool(ev.completed.all())
        meas.append(float(ev.first_passage_s.mean()) / p.neel_time_s)
    exact = np.array([mfpt(x, -0.5) for x in xis])
    slope = np.polyfit(xis, np.log(meas), 1)[0]
    assert slope == pytest.approx(np.polyfit(xis, np.log(exact), 1)[0], abs=0.03)
    # Arrhenius: with Brown's xi^{-3/2} prefactor removed, d ln(t) / d xi = 1 up to the (1 + 1/xi) correction.
    slope_brown = np.polyfit(xis, np.log(np.array(meas) * xis**1.5), 1)[0]
    assert 0.93 < slope_brown < 1.03


# ------------------------------------------------------------------------------------------------------------
# B5: deterministic thresholds at T = 0
# ------------------------------------------------------------------------------------------------------------
def stt_switch_time(f: float, alpha: float, hk: float, theta0: float, x_end: float) -> float:
    """Closed form for collinear STT (p = -u, eps = eta): dx/dt = gamma' (1 - x^2)(alpha H_K x - a), a = f alpha H_K.

    t = [F(x_end) - F(x0)] / gamma', F(x) = -ln|1-x| / (2(c-a)) - ln|1+x| / (2(c+a)) + ln|cx-a| / (c(1-(a/c)^2)).
    """
    c = alpha * hk
    a = f * c

    def F(x):
        return (
            -math.log(abs(1 - x)) / (2 * (c - a))
            - math.log(abs(1 + x)) / (2 * (c + a))
            + math.log(abs(c * x - a)) / (c * (1 - (a / c) ** 2))
        )

    return (F(x_end) - F(math.cos(theta0))) / (GAMMA0 / (1 + alpha**2))


def test_b5_stt_threshold_and_switching_time():
    """Collinear STT: I_c0 = (4 e alpha / hbar eta) Delta k_B T = 6.46 uA (Delta = 15.4, alpha = 0.01, eta = 0.6);
    switches just above, not just below; switching time diverges as (I/I_c0 - 1)^-1 (closed form)."""
    delta, k_eff = 15.4, 4e5
    vol = delta * K_B * T_REF / k_eff
    p = MacrospinParams(
        volume_m3=vol, k_eff_j_per_m3=k_eff, alpha=0.01, stt_eta=0.6, stt_p=(0, 0, -1), temperature_k=0.0
    )
    j_c = p.alpha * p.hk_a_per_m / (p.stt_eta * p.stt_field_per_current)
    i_c = j_c * vol / p.t_f_m
    assert i_c == pytest.approx(4 * E_CHARGE * 0.01 / (HBAR * 0.6) * delta * K_B * T_REF, rel=1e-12)
    assert i_c == pytest.approx(6.46e-6, rel=1e-3)
    theta0 = math.radians(1.0)
    fac = torch.tensor([0.98, 1.05, 1.2, 2.0], dtype=F64)
    dt = 0.25e-12
    ev = count_switches(tilted(1.0, 4), p, dt_s=dt, max_steps=int(120e-9 / dt), j_stt=fac * j_c)
    t = ev.first_passage_s.numpy()
    assert math.isnan(t[0])  # below threshold: back to +z
    assert float(ev.m[0, 2]) > 0.99999
    for f, ts in zip(fac.tolist()[1:], t[1:]):
        exact = stt_switch_time(f, p.alpha, p.hk_a_per_m, theta0, -0.5)
        assert ts == pytest.approx(exact, rel=0.01), (f, ts, exact)
    assert (t[1] * 0.05) / (t[2] * 0.2) == pytest.approx(1.0, abs=0.3)  # ~ (f - 1)^-1 divergence


def test_b5_sot_threshold():
    """SOT with in-plane H_x = 0.02 H_K (Lee et al., APL 102, 112410, 2013): the tilted up state is lost at
    H_DL = max_theta[(H_K/2) sin 2 theta - H_x cos theta] ~ H_K/2 - H_x/sqrt 2, i.e. J_c = 9.84e12 A/m^2.

    A slow staircase ramp (quasi-static) switches at 1.01 J_c and not at 0.99 J_c; the opposite current does not
    switch up -> down. Rectangular 10 ns pulses switch below J_c (precessional overshoot): measured once at
    0.934 J_Lee for alpha = 0.01 (0.847 for alpha = 0.1; both unchanged when dt is halved), frozen here.
    """
    base = MacrospinParams(t_f_m=1e-9, k_eff_j_per_m3=4e5, theta_sh=0.12, alpha=0.1, temperature_k=0.0)
    hk = base.hk_a_per_m
    hx = 0.02 * hk
    p = MacrospinParams(
        t_f_m=1e-9,
        k_eff_j_per_m3=4e5,
        theta_sh=0.12,
        alpha=0.1,
        temperature_k=0.0,
        h_ext_a_per_m=(hx, 0.0, 0.0),
    )
    j_lee = (hk / 2 - hx / math.sqrt(2)) / p.sot_field_per_current
    assert j_lee == pytest.approx(9.84e12, rel=2e-3)
    th = np.linspace(0, math.pi / 2, 200001)
    h_dl_c = np.max(hk / 2 * np.sin(2 * th) - hx * np.cos(th))
    j_c = h_dl_c / p.sot_field_per_current
    assert j_c == pytest.approx(j_lee, rel=0.01)
    fac = torch.tensor([-0.99, -1.01, -1.05, 1.05], dtype=F64)  # minus: the up -> down direction here
    nr = 40
    ramp = [Segment(0.5e-9, (0.5 + 0.5 * (k + 1) / nr) * fac * j_c) for k in range(nr)]
    segs = [*ramp, Segment(10e-9, fac * j_c), *ramp[::-1], Segment(5e-9)]
    m0 = torch.tensor([hx / hk, 0.0, math.sqrt(1 - (hx / hk) ** 2)], dtype=F64).expand(4, 3)
    res = simulate(m0, p, dt_s=0.2e-12, segments=segs)
    assert (res.m[:, 2] < 0).tolist() == [False, True, True, False]
    # regression: rectangular 10 ns pulse, alpha = 0.01
    q = MacrospinParams(
        t_f_m=1e-9,
        k_eff_j_per_m3=4e5,
        theta_sh=0.12,
        alpha=0.01,
        temperature_k=0.0,
        h_ext_a_per_m=(hx, 0.0, 0.0),
    )
    j = -torch.tensor([0.925, 0.945], dtype=F64) * j_lee
    prob = switching_probability(q, j_sot=j, pulse_width_s=10e-9, n_trials=1, dt_s=0.2e-12, relax_s=5e-9)
    assert prob.tolist() == [0.0, 1.0]


# ------------------------------------------------------------------------------------------------------------
# B6: energy conservation and precession frequency (alpha = 0, T = 0); Lyapunov decrease (alpha > 0)
# ------------------------------------------------------------------------------------------------------------
def test_b6_energy_conservation_alpha0():
    """Heun + renormalisation is not symplectic: per step |m_perp| grows by (w dt)^4 / 8, so the relative
    energy drift over a fixed time scales as dt^3 (x8 per halving). Over 1000 periods: ~1.5e-5 at period/200,
    below 1e-6 at period/800 (1 degree tilt)."""
    p = MacrospinParams(alpha=0.0, temperature_k=0.0)
    p_gen = MacrospinParams(
        alpha=0.0, temperature_k=0.0, demag_factors=(0.2, 0.3, 0.5), h_ext_a_per_m=(3e4, -2e4, 5e4)
    )
    period = 1 / p.fmr_frequency_hz
    m0 = tilted(1.0)
    for pp in (p, p_gen):
        e0 = float(energy(m0, pp)[0])
        drift = []
        for k in (200, 400, 800):
            r = simulate(m0, pp, dt_s=period / k, n_steps=1000 * k)
            drift.append(abs(float(energy(r.m, pp)[0]) / e0 - 1))
        assert drift[0] < 2e-4
        assert 6.0 < drift[0] / drift[1] < 10.0 and 6.0 < drift[1] / drift[2] < 10.0
        if pp is p:
            assert drift[0] < 3e-5 and drift[2] < 1e-6


def test_b6_precession_frequency():
    p = MacrospinParams(alpha=0.0, temperature_k=0.0)
    f0 = GAMMA0 * p.hk_a_per_m / (2 * math.pi)
    assert f0 == pytest.approx(20.38e9, rel=3e-4)
    period = 1 / f0
    for theta in (1.0, 30.0):
        r = simulate(tilted(theta), p, dt_s=period / 200, n_steps=200 * 50, record_every=1)
        phase = np.unwrap(np.arctan2(r.trajectory[:, 0, 1].numpy(), r.trajectory[:, 0, 0].numpy()))
        f = np.polyfit(r.t_s.numpy(), phase, 1)[0] / (2 * math.pi)
        assert f > 0  # m x H with H = +z: m turns from +x towards +y
        # f = gamma0 H_K m_z / 2 pi; Heun's phase error is (w dt)^2 / 6 = 1.6e-4
        assert f == pytest.approx(f0 * math.cos(math.radians(theta)), rel=4e-4)


def test_energy_non_increasing_with_damping():
    p = MacrospinParams(
        alpha=0.05, temperature_k=0.0, demag_factors=(0.2, 0.3, 0.5), h_ext_a_per_m=(3e4, -2e4, 5e4)
    )
    m0 = torch.nn.functional.normalize(
        torch.tensor([[0.3, 0.5, -0.8], [0.9, 0.1, 0.1], [0.1, 0.2, 0.97]], dtype=F64), dim=1
    )
    r = simulate(m0, p, dt_s=0.5e-12, n_steps=20000, record_every=1)
    e = torch.cat([energy(m0, p)[None], energy(r.trajectory.reshape(-1, 3), p).reshape(-1, 3)])
    de = e.diff(dim=0)
    assert float(de.max()) <= 1e-13 * float(e.abs().max())
    assert bool((e[-1] < e[0] - 1e-3 * e.abs().max()).all())


def test_energy_values():
    p = MacrospinParams(demag_factors=(0.1, 0.2, 0.7), h_ext_a_per_m=(1e4, 0.0, -2e4))
    m = torch.eye(3, dtype=F64)
    e = energy(m, p) / p.volume_m3
    ms = p.ms_a_per_m
    expect = [
        0.5 * MU0 * ms**2 * 0.1 - MU0 * ms * 1e4,
        0.5 * MU0 * ms**2 * 0.2,
        -p.k_eff_j_per_m3 + 0.5 * MU0 * ms**2 * 0.7 + MU0 * ms * 2e4,
    ]
    assert e.tolist() == pytest.approx(expect, rel=1e-12)


# ------------------------------------------------------------------------------------------------------------
# Invariants, torque signs, backends, reproducibility
# ------------------------------------------------------------------------------------------------------------
def full_params(**kw) -> MacrospinParams:
    base = dict(
        alpha=0.1,
        theta_sh=0.12,
        h_ext_a_per_m=(1e4, 0.0, 0.0),
        demag_factors=(0.1, 0.1, 0.0),
        stt_polarization=0.6,
        stt_lambda=2.0,
        sot_fl_ratio=0.3,
        stt_fl_ratio=0.1,
        stt_p=(0.3, 0.0, 1.0),
        k_eff_j_per_m3=torch.linspace(2e5, 4e5, 64, dtype=F64),
        volume_m3=torch.linspace(2e-24, 3e-24, 64, dtype=F64),
    )
    base.update(kw)
    return MacrospinParams(**base)


def random_unit(b: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(b, 3, generator=g, dtype=F64), dim=1)


def test_backends_agree_exactly_at_zero_temperature():
    p = full_params(temperature_k=0.0)
    j = torch.linspace(-2e11, 2e11, 64, dtype=F64)
    segs = [Segment(50e-12), Segment(100e-12, 10 * j, j), Segment(50e-12, 0.0, -j)]
    kw = dict(dt_s=1e-13, segments=segs, record_every=250)
    a = simulate(random_unit(64), p, backend="numba", **kw)
    b = simulate(random_unit(64), p, backend="torch", **kw)
    assert float((a.m - b.m).abs().max()) < 1e-10
    assert float((a.trajectory - b.trajectory).abs().max()) < 1e-10
    assert float((a.m - random_unit(64)).abs().max()) > 0.1  # it did move
    for be in ("numba", "torch"):  # m.u-only recording
        z = simulate(random_unit(64), p, backend=be, record="mz", **kw)
        assert z.trajectory.shape == (8, 64)
        assert float((z.trajectory - a.trajectory[..., 2]).abs().max()) < 1e-10


def test_float32():
    """float32 kernel and eager path: close to float64 at T = 0, unit norm at T > 0 (one test: one JIT compile)."""
    p = full_params(temperature_k=0.0)
    j = torch.linspace(-2e11, 2e11, 64, dtype=F64)
    kw = dict(dt_s=1e-13, n_steps=2000, j_sot=10 * j, j_stt=j)
    ref = simulate(random_unit(64), p, **kw).m
    for be in ("numba", "torch"):
        c = simulate(random_unit(64).float(), p, backend=be, **kw)
        assert c.m.dtype == torch.float32
        assert float((c.m.double() - ref).abs().max()) < 1e-4
    q = full_params(temperature_k=torch.linspace(0, 400, 64, dtype=F64))
    r = simulate(
        random_unit(64).float(), q, generator=torch.Generator().manual_seed(0), record_every=500, **kw
    )
    assert float((r.trajectory.norm(dim=-1) - 1).abs().max()) < 1e-6


def test_backends_agree_statistically():
    """Different random streams, same physics: thermal states under SOT, and a thermal switching probability.

    (Batches stay below torch's intra-op parallel grain so the eager path is not slowed by a busy machine.)
    """
    p = uniaxial(3.0, 0.5, theta_sh=0.12, h_ext_a_per_m=(2e3, 0, 0))
    dt = p.neel_time_s / 100
    res = {}
    for seed, be in ((3, "numba"), (4, "torch")):
        res[be] = simulate(
            up(8000),
            p,
            dt_s=dt,
            n_steps=300,
            j_sot=-5e10,
            generator=torch.Generator().manual_seed(seed),
            backend=be,
        ).m.numpy()
    for k in range(3):
        assert stats.ks_2samp(res["numba"][:, k], res["torch"][:, k]).pvalue > 1e-3
    # Delta = 30 magnet, SOT pulse of 0.5 ns near the thermal 50 % point (about 0.83 J_c at H_x = 0.02 H_K)
    k_eff = 4e5
    hk = MacrospinParams(k_eff_j_per_m3=k_eff).hk_a_per_m
    q = MacrospinParams(
        volume_m3=30 * K_B * T_REF / k_eff,
        t_f_m=1e-9,
        k_eff_j_per_m3=k_eff,
        theta_sh=0.12,
        alpha=0.1,
        temperature_k=T_REF,
        h_ext_a_per_m=(0.02 * hk, 0, 0),
    )
    n = 3000
    probs = [
        float(
            switching_probability(
                q,
                j_sot=-0.83 * 9.84e12,
                pulse_width_s=0.5e-9,
                n_trials=n,
                dt_s=0.5e-12,
                relax_s=0.3e-9,
                generator=torch.Generator().manual_seed(s),
                backend=be,
            )
        )
        for s, be in ((1, "numba"), (2, "torch"))
    ]
    pm = sum(probs) / 2
    assert 0.2 < pm < 0.8
    assert abs(probs[0] - probs[1]) < 4 * math.sqrt(2 * pm * (1 - pm) / n)


def test_unit_norm_preserved():
    p = full_params(temperature_k=torch.linspace(0, 400, 64, dtype=F64))
    for be in ("numba", "torch"):
        r = simulate(
            random_unit(64),
            p,
            dt_s=1e-13,
            n_steps=3000,
            j_sot=1e11,
            j_stt=1e10,
            generator=torch.Generator().manual_seed(0),
            record_every=1000,
            backend=be,
        )
        assert float((r.trajectory.norm(dim=-1) - 1).abs().max()) < 1e-13


def test_torque_signs():
    """Positive DL amplitude pulls m towards sigma (SOT) or p (STT); FL adds a field along them."""
    m = torch.tensor([[1.0, 0.0, 0.0]], dtype=F64)
    p = MacrospinParams(k_eff_j_per_m3=0.0, theta_sh=0.1, sot_sigma=(0, 1, 0), sot_fl_ratio=0.5, alpha=0.1)
    h = effective_field(m, p, j_sot=1e11)
    h_dl = p.sot_field_per_current * 1e11
    assert h[0].tolist() == pytest.approx(
        [0.0, 0.5 * h_dl, h_dl], abs=1e-9 * h_dl
    )  # H_DL (x cross y) + r H_DL y
    # dm/dt has a positive y component for H_DL > 0 (towards sigma).
    mxh = torch.linalg.cross(m, h)
    dm = -(mxh + p.alpha * torch.linalg.cross(m, mxh))
    assert float(dm[0, 1]) > 0
    q = MacrospinParams(k_eff_j_per_m3=0.0, stt_polarization=0.5, stt_lambda=2.0, stt_p=(0, 0, 1))
    x = 0.0  # m.p for m = +x
    eps = 0.5 * 4 / ((4 + 1) + (4 - 1) * x)
    h = effective_field(m, q, j_stt=1e10)
    assert float(h[0, 1]) == pytest.approx(-q.stt_field_per_current * 1e10 * eps, rel=1e-12)  # m x z = -y


def test_reproducible_from_seed():
    p = uniaxial(3.0, 0.5, theta_sh=0.1)
    kw = dict(dt_s=1e-11, n_steps=200, j_sot=3e10)
    for be in ("numba", "torch"):
        a = simulate(up(100), p, generator=torch.Generator().manual_seed(7), backend=be, **kw).m
        b = simulate(up(100), p, generator=torch.Generator().manual_seed(7), backend=be, **kw).m
        c = simulate(up(100), p, generator=torch.Generator().manual_seed(8), backend=be, **kw).m
        assert torch.equal(a, b)
        assert not torch.equal(a, c)
    # numba: a macrospin's noise depends only on the seed and its index (not on batch size or threads)
    full = simulate(up(100), p, generator=torch.Generator().manual_seed(7), **kw).m
    part = simulate(up(40), p, generator=torch.Generator().manual_seed(7), **kw).m
    assert torch.equal(full[:40], part)
    n_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = simulate(up(100), p, generator=torch.Generator().manual_seed(7), **kw).m
    finally:
        numba.set_num_threads(n_threads)
    assert torch.equal(full, single)


def test_switch_counter_backends_agree():
    """The hysteresis counter of both backends, deterministic case (STT at T = 0)."""
    vol = 15.4 * K_B * T_REF / 4e5
    p = MacrospinParams(volume_m3=vol, alpha=0.05, stt_eta=0.6, stt_p=(0, 0, -1), temperature_k=0.0)
    j_c = p.alpha * p.hk_a_per_m / (p.stt_eta * p.stt_field_per_current)
    kw = dict(dt_s=1e-12, max_steps=3000, j_stt=torch.tensor([0.9, 1.5, 2.5], dtype=F64) * j_c, threshold=0.5)
    a = count_switches(tilted(5.0, 3), p, backend="numba", **kw)
    b = count_switches(tilted(5.0, 3), p, backend="torch", **kw)
    assert torch.equal(a.counts, b.counts) and a.counts.tolist() == [0, 1, 1]
    assert torch.allclose(a.times_s, b.times_s, equal_nan=True)
    assert float((a.m - b.m).abs().max()) < 1e-10


def test_switching_probability_deterministic_step():
    """T = 0 SOT: probability 0 below and 1 above the rectangular-pulse threshold (0.847 J_Lee at alpha = 0.1),
    all amplitudes in one batch."""
    hk = MacrospinParams(k_eff_j_per_m3=4e5).hk_a_per_m
    p = MacrospinParams(
        t_f_m=1e-9,
        k_eff_j_per_m3=4e5,
        theta_sh=0.12,
        alpha=0.1,
        temperature_k=0.0,
        h_ext_a_per_m=(0.02 * hk, 0.0, 0.0),
    )
    j = -torch.tensor([0.5, 0.835, 0.86, 1.3], dtype=F64) * 9.84e12
    prob = switching_probability(p, j_sot=j, pulse_width_s=10e-9, n_trials=3, dt_s=0.2e-12, relax_s=5e-9)
    assert prob.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert (
        switching_probability(p, j_sot=float(j[3]), pulse_width_s=10e-9, n_trials=2, dt_s=0.2e-12).ndim == 0
    )


def test_per_device_parameters_broadcast():
    """Device-to-device variation: per-device K_eff sets per-device H_K (and the precession frequency)."""
    k = torch.tensor([2e5, 4e5], dtype=F64)
    p = MacrospinParams(k_eff_j_per_m3=k, alpha=0.0, temperature_k=torch.tensor([0.0, 0.0], dtype=F64))
    h = effective_field(up(2), p)
    assert h[:, 2].tolist() == pytest.approx((2 * k / (MU0 * p.ms_a_per_m)).tolist(), rel=1e-12)
    with pytest.raises(ConfigError):
        simulate(up(3), p, dt_s=1e-12, n_steps=1)
    # switching_probability: trial k is device k at every amplitude (T = 0, STT above / below each H_K)
    q = MacrospinParams(k_eff_j_per_m3=k, alpha=0.1, stt_eta=0.5, stt_p=(0, 0, -1), temperature_k=0.0)
    j_c = q.alpha * q.hk_a_per_m / (q.stt_eta * q.stt_field_per_current)  # [2]
    j = torch.tensor([0.5, 1.5, 3.0], dtype=F64) * float(j_c[0])
    prob = switching_probability(q, j_stt=j, pulse_width_s=5e-9, n_trials=2, dt_s=0.5e-12, tilt_rad=0.02)
    assert prob.tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    "kw",
    [
        dict(ms_a_per_m=-1.0),
        dict(volume_m3=0.0),
        dict(volume_m3=[1e-24, -1e-24]),
        dict(alpha=-0.1),
        dict(easy_axis=(0, 0, 0)),
        dict(demag_factors=(0.5, 0.5, 1.5)),
        dict(temperature_k=-1.0),
        dict(stt_eta=0.3, stt_polarization=0.5),
        dict(stt_lambda=2.0),
        dict(volume_m3=[1e-24, 2e-24], temperature_k=[300.0, 300.0, 300.0]),
        dict(h_ext_a_per_m=(1.0, 2.0)),
    ],
)
def test_config_validation(kw):
    with pytest.raises(ConfigError):
        MacrospinParams(**kw)


def test_api_errors():
    p = MacrospinParams()
    with pytest.raises(ConfigError, match="Generator"):
        simulate(up(2), p, dt_s=1e-12, n_steps=10)
    with pytest.raises(ConfigError):
        simulate(up(2), p, dt_s=1e-12, n_steps=10, segments=[Segment(1e-11)], generator=torch.Generator())
    with pytest.raises(ConfigError):
        simulate(up(2), p, dt_s=-1.0, n_steps=10, generator=torch.Generator())
    with pytest.raises(ConfigError):
        simulate(up(2), p, dt_s=1e-12, n_steps=10, generator=torch.Generator(), backend="cuda-magic")
    with pytest.raises(ConfigError):
        count_switches(up(2), p, dt_s=1e-12, max_steps=10, threshold=1.5, generator=torch.Generator())
