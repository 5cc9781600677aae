"""Physics-layer functions that the experiments call instead of writing the physics inline (issue 10, 5):
inverses of the Néel-Brown and retention laws, the collinear STT threshold, notch indexing, the two-resistor
conductance map, each against a closed form."""

import math

import numpy as np
import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.physics import domain_wall as dw
from spinaptic.physics import dw_tracks as tr
from spinaptic.physics import macrospin as ms
from spinaptic.physics import neel_brown as nb
from spinaptic.physics import telegraph as tg
from spinaptic.physics.constants import E_CHARGE, HBAR, K_B
from spinaptic.physics.mtj import MTJParams, conductances_for_range, mixed_conductance, tmr_from_conductances

F64 = torch.float64


# ------------------------------------------------------------------------------------------------ Néel-Brown
@pytest.mark.parametrize("prob", [0.01, 0.15, 0.5, 0.9])
def test_barrier_for_probability_inverts_the_pulse_law(prob):
    # P = 1 - exp(-(t/tau0) e^-Delta) at the returned Delta; Delta(0.5) = ln(t / (tau0 ln 2)) = 10.27 for 20 us
    d = nb.barrier_for_probability(prob, 20e-6, 1e-9)
    assert 1 - math.exp(-(20e-6 / 1e-9) * math.exp(-d)) == pytest.approx(prob, rel=1e-12)
    assert nb.barrier_for_probability(0.5, 20e-6) == pytest.approx(math.log(20e-6 / (1e-9 * math.log(2))), rel=1e-15)
    with pytest.raises(ConfigError, match="probability"):
        nb.barrier_for_probability(1.0, 20e-6)


def test_calibrated_magnet_switches_the_pulse_with_the_probability():
    m = nb.calibrated_magnet(7e-3, 0.3, 20e-6, 40.0, 1e-9, 1.0)
    assert (m.delta0, m.tau0_s, m.exponent) == (40.0, 1e-9, 1.0)
    # n = 1: I_c0 = I / (1 - Delta(P) / Delta0)
    assert m.i_c0_a == pytest.approx(7e-3 / (1 - nb.barrier_for_probability(0.3, 20e-6) / 40.0), rel=1e-12)
    assert float(nb.switching_probability_of(torch.tensor(7e-3, dtype=F64), 20e-6, m)) == pytest.approx(0.3)
    assert nb.calibrated_magnet(nb.FIG2_SET_A, nb.FIG2_SET_PROBABILITY, 20e-6) == nb.FIG2_MAGNET


def test_fit_exponent_and_tau0_recovers_a_grid_point():
    x = torch.linspace(0.3, 0.95, 14, dtype=F64)
    true = nb.NeelBrownParams(delta0=15.0, tau0_s=1e-9, i_c0_a=1.0, exponent=2.0)
    p = nb.switching_probability_of(x, 10e-9, true)
    n, tau0, chi2 = nb.fit_exponent_and_tau0(x, p, torch.full_like(p, 0.01), 10e-9, 15.0,
                                             torch.arange(1.0, 3.01, 0.25, dtype=F64),
                                             torch.logspace(-12, -7, 201, dtype=F64))
    assert (n, tau0) == (2.0, pytest.approx(1e-9, rel=1e-12)) and chi2 == pytest.approx(0.0, abs=1e-20)
    with pytest.raises(ValueError, match="non-empty"):
        nb.fit_exponent_and_tau0(x, p, p, 10e-9, 15.0, torch.tensor([]), torch.tensor([1e-9]))


# ------------------------------------------------------------------------------------------------ macrospin
def test_stt_critical_current_is_the_closed_form():
    # I_c0 = J_c0 V / t_F = (4 e alpha / (hbar eta)) Delta k_B T for a disc of barrier Delta (Sun 2000)
    delta, temp = 15.0, 300.0
    vol = ms.disc_volume(20e-9, 1e-9)
    k = ms.k_eff_for_barrier(delta, vol, temp)
    p = ms.MacrospinParams(volume_m3=vol, k_eff_j_per_m3=k, alpha=0.05, t_f_m=1e-9, stt_eta=0.6,
                           stt_p=(0.0, 0.0, -1.0), temperature_k=temp)
    assert p.barrier_kt == pytest.approx(delta, rel=1e-12)
    i_c0 = ms.stt_critical_current_density(p) * vol / p.t_f_m
    assert i_c0 == pytest.approx(4 * E_CHARGE * 0.05 / (HBAR * 0.6) * delta * K_B * temp, rel=1e-12)
    with pytest.raises(ConfigError, match="stt_eta"):
        ms.stt_critical_current_density(ms.MacrospinParams())


# ------------------------------------------------------------------------------------------------ telegraph
def test_barrier_for_retention_inverts_retention_time():
    assert tg.barrier_for_retention(5e-3, 1e-9) == pytest.approx(math.log(5e6), rel=1e-15)
    assert tg.retention_time(tg.barrier_for_retention(10e-9, 1e-9), 1e-9) == pytest.approx(10e-9, rel=1e-12)
    with pytest.raises(ConfigError, match="retention_s"):
        tg.barrier_for_retention(0.0)


# ------------------------------------------------------------------------------------------------ MTJ
def test_tmr_and_two_resistor_map():
    m = MTJParams(tmr=1.5)
    assert tmr_from_conductances(m.g_p, m.g_ap) == pytest.approx(1.5, rel=1e-12)
    # f = 0.1 reads 60 uS, f = 0.9 reads 140 uS: G_P - G_AP = 100 uS, G_AP = 50 uS
    g_p, g_ap = conductances_for_range(0.1, 0.9, 60e-6, 140e-6)
    assert (g_p, g_ap) == (pytest.approx(150e-6), pytest.approx(50e-6))
    g = mixed_conductance(torch.tensor([0.1, 0.9], dtype=F64), g_p, g_ap)
    assert g.tolist() == pytest.approx([60e-6, 140e-6], rel=1e-12)
    with pytest.raises(ConfigError, match="fraction_hi"):
        conductances_for_range(0.5, 0.5, 60e-6, 140e-6)


# ------------------------------------------------------------------------------------------------ domain walls
def test_diffusion_rms_is_sqrt_2dt():
    t = dw.liu2021_sot_track()
    d = dw.diffusion_constant(t, 300.0)
    assert dw.diffusion_rms(t, 300.0, 50e-9) == pytest.approx(math.sqrt(2 * d * 50e-9), rel=1e-15)
    assert dw.diffusion_rms(t, 300.0, 200e-9) == pytest.approx(2 * dw.diffusion_rms(t, 300.0, 50e-9), rel=1e-12)
    assert dw.diffusion_rms(t, 0.0, 1e-9) == 0.0


def test_calibrated_pulse_is_the_nominal_pulse_times_the_shared_scale():
    sot, stt = dw.liu2021_sot_track(), dw.liu2021_stt_track()
    p = dw.calibrated_pulse(sot)
    assert p.amplitude_a == pytest.approx(27e-6 * tr.LIU_CURRENT_SCALE["liu2021-sot"])
    assert (p.width_s, p.relax_s) == (0.5e-9, 8e-9)
    assert dw.calibrated_pulse(stt) == dw.nominal_pulse(stt)
    assert dw.calibrated_pulse(stt, 0.5).amplitude_a == pytest.approx(25e-6)


def test_notch_indexing_numpy_and_torch():
    t = dw.liu2021_stt_track()  # 32 notches 30 nm apart, the first at 60 nm
    xs = np.asarray(t.notch_positions_m)
    x = np.array([0.0, xs[0] + 14e-9, xs[5] - 14e-9, xs[-1] + 100e-9])
    assert tr.nearest_notch(t, x).tolist() == [0, 0, 5, 31]
    assert tr.nearest_notch(t, torch.tensor(x)).tolist() == [0, 0, 5, 31]
    assert tr.occupied_notch(t, x).tolist() == [-1, 0, 5, 31]
    assert tr.occupied_notch(t, torch.tensor(x)).tolist() == [-1, 0, 5, 31]
    assert tr.near_notch(t, x, 1.0).tolist() == [False, False, False, False]
    assert tr.near_notch(t, x, 2.0).tolist() == [False, True, True, False]  # lambda = 12.5 nm
    smooth = t.with_(notch_positions_m=())
    assert tr.nearest_notch(smooth, x).tolist() == [-1] * 4 and not tr.near_notch(smooth, x).any()


def test_notch_level_counts_the_deep_notches():
    trap = dw.leonard2022_trapezoid_track()  # deep notches 0, 4, 6 of seven
    assert tr.leonard2022_level_notches(trap) == (0, 4, 6)
    idx = np.array([-1, 0, 1, 2, 3, 4, 5, 6])
    assert tr.notch_level(trap, idx).tolist() == [-1, 0, 0, 0, 0, 1, 1, 2]
    straight = dw.leonard2022_straight_track()  # five identical notches: level = notch
    assert tr.notch_level(straight, np.arange(-1, 5)).tolist() == [-1, 0, 1, 2, 3, 4]


def test_drive_cross_section():
    assert tr.drive_cross_section_m2(dw.liu2021_stt_track()) == pytest.approx(50e-9 * 1.5e-9)
    assert tr.drive_cross_section_m2(dw.leonard2022_straight_track()) == pytest.approx(350e-9 * 5e-9)
