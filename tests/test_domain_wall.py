"""1D (q, phi) domain-wall model against the analytic checks C1-C7 of device-physics.md and paper numbers."""

import math

import numpy as np
import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.physics import domain_wall as dw
from spinaptic.physics.constants import GAMMA0, K_B, MU0


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The torch backend runs many small ops: on a shared 2-core machine intra-op threading only adds barrier
    waits (20 ms per op under load), so these tests use one thread and restore the setting afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def long_sengupta(**kw):
    """Paper 001 material on a long track, H_K = 0 (the reference table neglects it)."""
    return dw.sengupta2016_track(length_m=20e-6, h_k_a_per_m=0.0, **kw)


def velocity(track, current_a, t1, t2, *, dt=0.25e-12, backend="auto", **kw):
    """Mean wall velocity between t1 and t2 of a free wall started at 0."""
    model = dw.DWModel(track, dt_s=dt, **kw)
    q = torch.zeros(1, dtype=torch.float64)
    q1, p1, _ = model.run(q, model.init_phi((1,)), current_a, model.steps(t1), backend=backend)
    q2, p2, _ = model.run(q1, p1, current_a, model.steps(t2 - t1), backend=backend)
    return float(q2 - q1) / (t2 - t1), float(p2 - p1) / (t2 - t1)


def test_reference_numbers_both_parameter_sets():
    s, lm = dw.sengupta2016_track().material, dw.liu2021_sot_track().material
    assert s.wall_width == pytest.approx(7.62e-9, rel=2e-3)  # C1, Table I "7.6 nm"
    assert lm.wall_width == pytest.approx(11.5e-9, rel=3e-3)
    assert abs(s.h_dm) == pytest.approx(1.79e5, rel=3e-3)
    assert abs(lm.h_dm) == pytest.approx(4.32e4, rel=3e-3)
    assert s.wall_energy == pytest.approx(1.48e-3, rel=5e-3)
    assert lm.wall_energy == pytest.approx(2.94e-3, rel=5e-3)
    assert dw.saturation_velocity(s) == pytest.approx(474.2, rel=1e-3)  # C3
    assert dw.saturation_velocity(lm) == pytest.approx(172.9, rel=1e-3)
    assert dw.diffusion_constant(dw.sengupta2016_track(), 300) == pytest.approx(1.10e-6, rel=0.01)  # C7
    assert dw.diffusion_constant(dw.liu2021_sot_track(), 300) == pytest.approx(1.40e-6, rel=0.01)
    stt = dw.liu2021_stt_track()
    assert dw.stt_velocity(stt, 50e-6) == pytest.approx(33.77, rel=2e-3)  # C4, paper 003 eq. 1
    # Paper 001: 80 uA over 20 nm x (3 + 0.6) nm is J = 1.11e12 A/m^2.
    assert float(dw.sengupta2016_track().current_density_hm(80e-6)) == pytest.approx(1.111e12, rel=1e-3)
    depth, lam = dw.notch_from_geometry(dw.liu2021_sot_track(), 5e-9)  # C6 anchor
    assert depth == pytest.approx(1.44e-20, rel=0.02)
    fmax = 4 / (3 * math.sqrt(3)) * depth / lam
    assert fmax == pytest.approx(9.18e-13, rel=0.02)


def test_sot_steady_state_matches_reference_table():
    t = long_sengupta()
    table = {1e11: (38.4, 4.6), 5e11: (178.6, 22.1), 1e12: (299.1, 39.1), 2e12: (403.9, 58.4), 1e13: (470.6, 83.0)}
    for j, (v_ref, phi_ref) in table.items():
        v, phi = dw.sot_steady_state(t, t.current_for_density(j))
        assert v == pytest.approx(v_ref, rel=2e-3, abs=0.15)
        assert math.degrees(phi) == pytest.approx(phi_ref, abs=0.1)


@pytest.mark.parametrize("j", [1e11, 1e12, 3e12])
def test_simulated_sot_velocity_equals_analytic_1d_result(j):
    t = long_sengupta()
    i = t.current_for_density(j)
    v_an, phi_an = dw.sot_steady_state(t, i)
    v, phidot = velocity(t, i, 0.6e-9, 1.2e-9)
    assert v == pytest.approx(v_an, rel=2e-3)
    assert abs(phidot) < 1e6  # steady: no precession


def test_dmi_limited_saturation_velocity_independent_of_alpha_and_theta():
    vs = dw.saturation_velocity(dw.sengupta2016_track().material)
    for alpha, theta in [(0.3, 0.07), (0.1, 0.2)]:
        t = long_sengupta(alpha=alpha, theta_sh=theta)
        i = t.current_for_density(3e13)
        v_an, _ = dw.sot_steady_state(t, i)
        v, _ = velocity(t, i, 0.4e-9, 0.8e-9, dt=0.1e-12)
        assert v == pytest.approx(v_an, rel=3e-3)
        assert 0.97 * vs < v < vs
    # Linear regime slope (pi/2) gamma0 Delta H_SH / (alpha J) = 3.85e-10 (m/s)/(A/m^2) (C3).
    t = long_sengupta()
    v1, _ = dw.sot_steady_state(t, t.current_for_density(1e10))
    assert v1 / 1e10 == pytest.approx(3.85e-10, rel=5e-3)


def test_field_driven_velocity_and_walker_breakdown():
    # C2 with D = 0 and the wide-strip H_K = N_x Ms = 1.22e4 A/m: H_W = alpha H_K / 2 = 1.83e3 A/m.
    t = dw.sengupta2016_track(length_m=20e-6, dmi_j_per_m2=0.0, h_k_a_per_m=1.22e4)
    hw = dw.walker_field(t)
    assert hw == pytest.approx(1.83e3, rel=1e-3)
    m = t.material
    for h in (0.5 * hw, 0.9 * hw):  # the phi relaxation time grows to ~3 ns at 0.9 H_W
        v, phidot = velocity(t, 0.0, 25e-9, 30e-9, dt=1e-12, h_z=h)
        assert v == pytest.approx(GAMMA0 * m.wall_width * h / m.alpha, rel=5e-3)
        assert abs(phidot) < 1e6
    for h in (2 * hw, 5 * hw):  # precessional regime: average over whole periods (pi in phi) after 10 ns
        phidot_an = GAMMA0 * math.sqrt(h * h - hw * hw) / (1 + m.alpha**2)
        v, phidot = velocity(t, 0.0, 10e-9, 10e-9 + 3 * math.pi / phidot_an, dt=0.5e-12, h_z=h)
        assert v == pytest.approx(dw.field_velocity(t, h), rel=0.01)
        assert phidot == pytest.approx(phidot_an, rel=0.01)


def test_stt_velocity_beta_equal_alpha_and_beta_over_alpha():
    # C4: beta = alpha gives v = u exactly; beta = 2 alpha below u_W gives v = (beta/alpha) u.
    stt = dw.liu2021_stt_track(n_notches=0, length_m=20e-6, end_field_scale=0.0)
    u = dw.stt_velocity(stt, 50e-6)
    v, _ = velocity(stt, 50e-6, 0.5e-9, 2e-9, dt=1e-12)
    assert v == pytest.approx(u, rel=1e-6)
    dmi = dw.liu2021_sot_track(n_notches=0, length_m=20e-6, end_field_scale=0.0, hm_thickness_m=0.0, beta=0.1,
                               theta_sh=0.0)
    u = dw.stt_velocity(dmi, 20e-6)
    v, _ = velocity(dmi, 20e-6, 8e-9, 12e-9, dt=1e-12)
    assert v == pytest.approx(2 * u, rel=5e-3)


def test_backends_agree_exactly_at_zero_temperature():
    for track, amp in [(dw.liu2021_sot_track(), 30e-6), (dw.leonard2022_trapezoid_track(), 1.2e-3),
                       (dw.liu2021_stt_track(), 50e-6)]:
        model = dw.DWModel(track)
        n = 6
        q = torch.linspace(0.1, 0.9, n, dtype=torch.float64) * track.length_m
        phi = model.init_phi((n,))
        cur = torch.linspace(-amp, amp, n, dtype=torch.float64)
        kw = dict(n_on=torch.arange(n) * 100 + 300, rise_steps=50, fall_steps=50, record_every=100)
        qa, pa, ra = model.run(q, phi, cur, 1500, backend="numba", **kw)
        qb, pb, rb = model.run(q, phi, cur, 1500, backend="torch", **kw)
        assert torch.allclose(qa, qb, rtol=1e-9, atol=1e-9 * track.length_m)
        assert torch.allclose(pa, pb, rtol=1e-9, atol=1e-9)
        assert torch.allclose(ra, rb, rtol=1e-9, atol=1e-9 * track.length_m)
        assert (qa - q).abs().max() > 10e-9  # the walls did move


def test_torch_backend_float32_close_to_float64():
    track = dw.liu2021_stt_track()
    model = dw.DWModel(track)
    q = torch.tensor([track.notch_positions_m[3]] * 2, dtype=torch.float64)
    q64, _, _ = model.run(q, model.init_phi((2,)), 50e-6, 2000, n_on=500, backend="torch")
    q32, _, _ = model.run(q.float(), model.init_phi((2,), dtype=torch.float32), 50e-6, 2000, n_on=500,
                          backend="torch")
    assert q32.dtype == torch.float32
    assert torch.allclose(q32.double(), q64, atol=0.5e-9)


def test_symmetries_c5():
    t = dw.sengupta2016_track(length_m=4e-6)
    i = t.current_for_density(1e12)
    mp, mm = dw.DWModel(t, dt_s=0.5e-12, polarity=1), dw.DWModel(t, dt_s=0.5e-12, polarity=-1)
    assert mm.phi0 == pytest.approx(mp.phi0 + math.pi)
    q0 = torch.full((1,), 2e-6, dtype=torch.float64)
    # SOT moves both walls of a DMI-fixed chirality the same way (the domain translates).
    qp, _, _ = mp.run(q0, mp.init_phi((1,)), i, 1000)
    qm, _, _ = mm.run(q0, mm.init_phi((1,)), i, 1000)
    d_sot = float(qp - q0)
    assert d_sot > 100e-9
    assert float(qm - q0) == pytest.approx(d_sot, rel=1e-9)
    # A field moves them in opposite directions (the up domain grows): mirror images.
    fp, fm = dw.DWModel(t, dt_s=0.5e-12, polarity=1, h_z=2e4), dw.DWModel(t, dt_s=0.5e-12, polarity=-1, h_z=2e4)
    qp, _, _ = fp.run(q0, fp.init_phi((1,)), 0.0, 1000)
    qm, _, _ = fm.run(q0, fm.init_phi((1,)), 0.0, 1000)
    assert float(qp - q0) > 10e-9
    assert float(qm - q0) == pytest.approx(-float(qp - q0), rel=1e-9)
    # Reversing D reverses the SOT direction; reversing theta_SH too.
    for flipped in (t.with_(dmi_j_per_m2=1.2e-3), t.with_(theta_sh=-0.07)):
        m = dw.DWModel(flipped, dt_s=0.5e-12)
        qf, _, _ = m.run(q0, m.init_phi((1,)), i, 1000)
        assert float(qf - q0) == pytest.approx(-d_sot, rel=1e-9)
    # Positive current: STT and SOT both push to +x (paper 003 SOT track).
    sot = dw.liu2021_sot_track(n_notches=0, end_field_scale=0.0)
    assert dw.stt_velocity(sot, 1e-5) > 0 and dw.sot_steady_state(sot, 1e-5)[0] > 0


def test_depinning_threshold_c6():
    # One notch, T = 0: static depinning at H_dep = max|V'| / (2 mu0 Ms t w) within 1 %. The wall starts at
    # its static equilibrium for the field (a sudden field would overshoot: the wall has inertia).
    t = dw.liu2021_sot_track(n_notches=0, notch_positions_m=(500e-9,), end_field_scale=0.0)
    hdep = t.depinning_field(0)
    lam = t.notch_width_m
    assert hdep == pytest.approx(4 / (3 * math.sqrt(3)) * t.notch_depth_j / lam
                                 / (2 * MU0 * 8e5 * 1.5e-9 * 50e-9), rel=1e-12)
    x = np.linspace(500e-9, 500e-9 + 0.66 * lam, 20001)
    h = t.pinning_field(x)
    for frac, moves in [(0.99, False), (1.01, True)]:
        k = int(np.argmax(-h >= frac * hdep)) if (-h >= frac * hdep).any() else int(np.argmax(-h))
        m = dw.DWModel(t, dt_s=1e-12, h_z=frac * hdep)
        q, _, _ = m.run(torch.full((1,), x[k], dtype=torch.float64), m.init_phi((1,)), 0.0, 10000)
        assert (float(q) - 500e-9 > 50e-9) is moves


def test_thermal_diffusion_constant_c7():
    # MSD(tau) = 2 D_q tau + const once phi has equilibrated (the constant is the bounded phi term).
    t = dw.sengupta2016_track(length_m=50e-6, h_k_a_per_m=0.0)
    d_q = dw.diffusion_constant(t, 300.0)
    model = dw.DWModel(t, dt_s=0.5e-12)
    for backend, n, tol in [("numba", 20000, 0.05), ("torch", 3000, 0.10)]:
        g = torch.Generator().manual_seed(7)
        q0 = torch.full((n,), 25e-6, dtype=torch.float64)
        q1, p1, _ = model.run(q0, model.init_phi((n,)), 0.0, 1000, temperature_k=300, generator=g, backend=backend)
        _, _, rec = model.run(q1, p1, 0.0, 4000, temperature_k=300, generator=g, record_every=200, backend=backend)
        tau = np.arange(1, rec.shape[0] + 1) * 0.1e-9
        msd = ((rec - q1) ** 2).mean(1).numpy()
        sel = tau >= 0.5e-9
        slope = np.polyfit(tau[sel], msd[sel], 1)[0]
        assert slope / 2 == pytest.approx(d_q, rel=tol), backend


def test_boltzmann_occupation_in_a_notch():
    # Equilibrium: q is distributed as exp(-V(q)/k_B T) around the notch (position variance by quadrature).
    t = dw.liu2021_sot_track(n_notches=0, notch_positions_m=(875e-9,), notch_depth_j=3e-19, notch_width_m=20e-9,
                             end_field_scale=0.0)
    temp = 300.0
    x = np.linspace(-80e-9, 80e-9, 4001)
    w = np.exp(-(t.notch_potential(x + 875e-9) - t.notch_potential(875e-9)) / (K_B * temp))
    var_exact = float((w * x**2).sum() / w.sum())
    g = torch.Generator().manual_seed(11)
    n = 4000
    model = dw.DWModel(t)
    q = torch.full((n,), 875e-9, dtype=torch.float64)
    q, p, _ = model.run(q, model.init_phi((n,)), 0.0, 3000, temperature_k=temp, generator=g)
    q, _, _ = model.run(q, p, 0.0, 2000, temperature_k=temp, generator=g)
    assert float(((q - 875e-9) ** 2).mean()) == pytest.approx(var_exact, rel=0.06)


def test_notches_hold_the_wall_while_a_smooth_track_drifts_at_300k():
    t = dw.liu2021_sot_track()
    notches = torch.tensor(t.notch_positions_m, dtype=torch.float64)
    n = 256
    start = notches[torch.arange(n) % 32]
    g = torch.Generator().manual_seed(5)
    q, _ = dw.simulate(t, start.clone(), None, 0.0, 20e-9, temperature_k=300, generator=g)
    stayed = ((q[:, None] - notches).abs().argmin(-1) == torch.arange(n) % 32).double().mean()
    assert stayed >= 0.95
    assert float((q - start).abs().max()) < 50e-9 or stayed >= 0.95
    smooth = t.with_(notch_positions_m=())
    q, _ = dw.simulate(smooth, torch.full((n,), 875e-9, dtype=torch.float64), None, 0.0, 20e-9, temperature_k=300,
                       generator=g)
    assert float((q - 875e-9).pow(2).mean().sqrt()) > 100e-9


def test_end_regions_push_the_wall_to_the_centre_paper003_fig2a():
    # Paper 003 Fig. 2a: a wall started near the right end of the smooth STT track drifts ~200 nm in 50 ns.
    t = dw.liu2021_stt_track(n_notches=0)
    q, _ = dw.simulate(t, torch.tensor([960e-9], dtype=torch.float64), None, 0.0, 50e-9)
    drift = 960e-9 - float(q)
    assert 100e-9 < drift < 300e-9
    q, _ = dw.simulate(t.with_(end_field_scale=0.0), torch.tensor([960e-9], dtype=torch.float64), None, 0.0, 5e-9)
    assert float(q) == pytest.approx(960e-9, abs=1e-12)


def test_ramp_api_one_notch_per_pulse_at_zero_kelvin():
    t = dw.liu2021_stt_track()
    pos = dw.ramp(t, 10, [1] * 5 + [-1] * 5, n_tracks=3)
    assert pos.shape == (11, 3)
    notches = np.asarray(t.notch_positions_m)
    idx = np.abs(pos[:, 0].numpy()[:, None] - notches).argmin(1)
    assert idx.tolist() == [0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0]
    assert np.abs(pos[:, 0].numpy() - notches[idx]).max() < 2e-9
    pos2, phi = dw.ramp(t, 4, "updown", dw.DrivePulse(50e-6, 1e-9, 4e-9), n_tracks=2, q0_m=notches[10],
                        return_phi=True)
    assert phi.shape == (5, 2)
    assert np.abs(pos2[:, 0].numpy()[:, None] - notches).argmin(1).tolist() == [10, 11, 12, 11, 10]
    with pytest.raises(ConfigError):
        dw.ramp(t, 3, [1, 1], n_tracks=1)
    with pytest.raises(TypeError):
        dw.ramp(object(), 3)


def test_thermal_runs_reproducible_from_the_generator():
    t = dw.liu2021_sot_track()
    a = dw.ramp(t, 3, 1, n_tracks=64, temperature_k=300, generator=torch.Generator().manual_seed(1))
    b = dw.ramp(t, 3, 1, n_tracks=64, temperature_k=300, generator=torch.Generator().manual_seed(1))
    c = dw.ramp(t, 3, 1, n_tracks=64, temperature_k=300, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_track_geometry_and_validation():
    tr = dw.leonard2022_trapezoid_track()
    assert float(tr.width(tr.length_m)) / float(tr.width(0.0)) == pytest.approx(4.0)
    assert float(tr.area_fraction(tr.length_m)) == pytest.approx(1.0)
    # Geometric pressure toward the narrow end (E1): -sigma_w w' / (2 mu0 Ms w).
    bare = tr.with_(notch_positions_m=(), notch_depth_factors=(), end_field_scale=0.0)
    m = bare.material
    expected = -m.wall_energy * bare.width_slope / (2 * MU0 * m.ms_a_per_m * 250e-9)
    assert float(bare.pinning_field(np.array([0.0]))[0]) == pytest.approx(expected, rel=1e-9)
    # J follows the width: 4x lower current density at the wide end.
    assert float(tr.current_density_hm(1e-3, 0.0)) == pytest.approx(4 * float(tr.current_density_hm(1e-3, tr.length_m)))
    with pytest.raises(ConfigError, match="notch_positions_m"):
        dw.liu2021_stt_track(notch_positions_m=(2e-6,))
    with pytest.raises(ConfigError, match="K_eff"):
        dw.DWMaterial(ku_j_per_m3=1e5)
    with pytest.raises(ConfigError, match="critical"):
        dw.DWMaterial(dmi_j_per_m2=-5e-3)
    with pytest.raises(ConfigError, match="width_s"):
        dw.DrivePulse(1e-5, width_s=0.0)
    with pytest.raises(ConfigError, match="polarity"):
        dw.DWModel(tr, polarity=0)


def test_wall_held_at_the_ends_does_not_precess():
    # A wall pushed against a fixed end region stays there with a bounded angle (SOT with DMI at any current;
    # STT below the intrinsic threshold u_c = gamma0 Delta H_K / 2 = 12.7 m/s). The SOT wall also stays after
    # the push; the STT-tilted wall steps back by ~Delta (phi - phi0) / alpha as its angle relaxes.
    stt = dw.liu2021_stt_track(n_notches=0, end_field_scale=0.0)
    assert dw.stt_velocity(stt, 15e-6) < GAMMA0 * stt.material.wall_width * stt.h_k / 2
    for track, amp in [(dw.sengupta2016_track(), 150e-6), (stt, 15e-6)]:
        model = dw.DWModel(track)
        q = torch.tensor([track.length_m - 20e-9, 20e-9], dtype=torch.float64)
        cur = torch.tensor([amp, -amp], dtype=torch.float64)
        q1, p1, _ = model.run(q, model.init_phi((2,)), cur, model.steps(3e-9))
        assert q1.tolist() == [track.length_m, 0.0]
        assert float((p1 - model.phi0).abs().max()) < math.pi / 2
        q2, _, _ = model.run(q1, p1, 0.0, model.steps(3e-9))
        if track.material.dmi_j_per_m2 != 0:
            assert torch.allclose(q2, q1, atol=1e-9)
        else:
            back = float((q2 - q1).abs().max())
            assert 0 < back < track.material.wall_width * float((p1 - model.phi0).abs().max()) / track.material.alpha


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_applied_field_zeeman_pressure_steady_velocity_both_backends(backend):
    # Per-call, per-track easy-axis field (DWModel.run(h_z=...)): a DMI-locked wall (paper 002's CoFeB/Ta,
    # alpha 0.5) below Walker breakdown moves at v = gamma0 Delta H / alpha (Malozemoff & Slonczewski;
    # Thiaville et al. 2012), toward +x for H > 0 (the field along the magnetisation of the x < q domain of a
    # Q = +1 wall), toward -x for H < 0; the per-call field adds to the model's own h_z.
    t = dw.leonard2022_straight_track(notch_positions_m=(), end_field_scale=0.0, length_m=20e-6)
    m = t.material
    h_w = m.alpha * 0.5 * math.pi * abs(m.h_dm)  # DMI Walker field (H_K << H_DM here)
    hs = torch.tensor([0.1 * h_w, -0.1 * h_w, 0.5 * h_w], dtype=torch.float64)
    model = dw.DWModel(t, dt_s=2e-12)
    q0 = torch.full((3,), 10e-6, dtype=torch.float64)
    q1, p1, _ = model.run(q0, model.init_phi((3,)), 0.0, model.steps(2e-9), h_z=hs, backend=backend)
    q2, _, _ = model.run(q1, p1, 0.0, model.steps(3e-9), h_z=hs, backend=backend)
    v = (q2 - q1) / 3e-9
    expected = GAMMA0 * m.wall_width * hs / m.alpha
    assert torch.allclose(v, expected, rtol=2e-3)
    assert float(v[0]) > 0 > float(v[1])
    # the same as the model's constant field; default h_z = 0 leaves a free wall at rest
    const = dw.DWModel(t, dt_s=2e-12, h_z=0.4 * h_w)
    qa, _, _ = const.run(q0[:1], const.init_phi((1,)), 0.0, 500, backend=backend)
    qb, _, _ = const.run(q0[:1], const.init_phi((1,)), 0.0, 500, h_z=0.1 * h_w, backend=backend)
    qc, _, _ = model.run(q0[:1], model.init_phi((1,)), 0.0, 500, h_z=0.5 * h_w, backend=backend)
    assert torch.allclose(qb, qc, rtol=1e-12, atol=1e-15) and float(qb - qa) > 0
    qz, _, _ = model.run(q0[:1], model.init_phi((1,)), 0.0, 500, backend=backend)
    assert float(qz) == pytest.approx(10e-6, abs=1e-15)


def test_applied_field_backends_agree_and_ramp_accepts_a_field():
    t = dw.leonard2022_trapezoid_track()
    model = dw.DWModel(t)
    n = 4
    q = torch.tensor(t.notch_positions_m[:n], dtype=torch.float64)
    hz = torch.tensor([-3e4, 0.0, 1e4, -5e4], dtype=torch.float64)
    kw = dict(n_on=300, rise_steps=50, fall_steps=50, h_z=hz)
    qa, pa, _ = model.run(q, model.init_phi((n,)), 2e-3, 1000, backend="numba", **kw)
    qb, pb, _ = model.run(q, model.init_phi((n,)), 2e-3, 1000, backend="torch", **kw)
    assert torch.allclose(qa, qb, rtol=1e-9, atol=1e-9 * t.length_m)
    assert torch.allclose(pa, pb, rtol=1e-9, atol=1e-9)
    # ramp(h_z=...): a strong negative field walks the wall out of its notch toward x = 0 with no current
    pulse = dw.DrivePulse(0.0, 1e-9, 1e-9)
    qs = dw.ramp(t, 3, pulse=pulse, q0_m=t.notch_positions_m[0], h_z=-0.2 / MU0)
    assert float(qs[-1, 0]) < float(qs[0, 0])
    assert torch.equal(dw.ramp(t, 2, pulse=pulse, q0_m=t.notch_positions_m[0])[-1],
                       dw.ramp(t, 2, pulse=pulse, q0_m=t.notch_positions_m[0], h_z=0.0)[-1])
