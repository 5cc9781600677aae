"""MTJ resistance and Néel-Brown switching against closed forms and the reference numbers."""

import math

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.physics import neel_brown as nb
from spinaptic.physics.mtj import MTJParams, bias_dependent_tmr, mixed_conductance


def test_mtj_resistances_paper004_anchor():
    # 50 nm pMTJ, RA 440 Ohm um^2, TMR 130 %: R_P = 224 kOhm, R_AP = 515 kOhm (device-physics.md (d)).
    p = MTJParams.from_diameter(440.0, 50e-9, 1.3)
    assert p.r_p == pytest.approx(224.1e3, rel=2e-3)
    assert p.r_ap == pytest.approx(515.5e3, rel=2e-3)
    assert p.g_p > p.g_ap


@pytest.mark.parametrize("field,value", [("tmr", 0.0), ("tmr", -1.0), ("ra_ohm_m2", 0.0), ("area_m2", -1e-15)])
def test_mtj_rejects_bad_parameters(field, value):
    with pytest.raises(ConfigError, match=field.split("_")[0]):
        MTJParams(**{field: value})


def test_mixed_conductance_linear_in_fraction():
    p = MTJParams(tmr=1.0)
    f = torch.linspace(0, 1, 11, dtype=torch.float64)
    g = mixed_conductance(f, p.g_p, p.g_ap, g_dw=1e-7)
    assert torch.allclose(torch.diff(g), torch.full((10,), (p.g_p - p.g_ap) / 10, dtype=torch.float64))
    assert g[-1] == pytest.approx(p.g_p + 1e-7)
    with pytest.raises(ConfigError):
        mixed_conductance(torch.tensor([1.2]), p.g_p, p.g_ap)


def test_bias_dependent_tmr_halves_at_vhalf():
    assert float(bias_dependent_tmr(2.0, torch.tensor(0.5), 0.5)) == pytest.approx(1.0)


@pytest.mark.parametrize("n,ic0,i50_50us", [(1, 8.409e-3, 6.057e-3), (2, 12.670e-3, 5.970e-3)])
def test_neel_brown_calibration_matches_reference(n, ic0, i50_50us):
    got = nb.calibrate_ic0(6.25e-3, 20e-6, 40.0, 1e-9, n)
    assert got == pytest.approx(ic0, rel=1e-3)
    p = nb.NeelBrownParams(40.0, 1e-9, got, n)
    assert nb.current_for_probability(0.5, 50e-6, p) == pytest.approx(i50_50us, rel=1e-3)
    p50 = nb.switching_probability_of(torch.tensor(6.25e-3, dtype=torch.float64), 20e-6, p)
    assert float(p50) == pytest.approx(0.5, abs=1e-9)


def test_switching_probability_limits_and_monotonic():
    p = nb.NeelBrownParams()
    i = torch.linspace(0, 20e-3, 201, dtype=torch.float64)
    ps = nb.switching_probability_of(i, 20e-6, p)
    assert float(ps[0]) < 1e-10  # 40 k_BT: no switching at zero current
    assert float(ps[-1]) == pytest.approx(1.0)
    assert bool((torch.diff(ps) >= 0).all())
    assert torch.isfinite(ps).all()


def test_mean_time_is_arrhenius():
    p = nb.NeelBrownParams(delta0=10.0, tau0_s=1e-9)
    t = nb.mean_switching_time(torch.tensor(0.0, dtype=torch.float64), p)
    assert float(t) == pytest.approx(1e-9 * math.exp(10.0))  # 22 us (device-physics.md B4)
    # P_sw of a pulse of length tau is 1 - 1/e.
    assert float(nb.switching_probability_of(torch.tensor(0.0, dtype=torch.float64), float(t), p)) == pytest.approx(
        1 - math.exp(-1)
    )


def test_neel_brown_validation():
    with pytest.raises(ConfigError, match="delta0"):
        nb.NeelBrownParams(delta0=-1)
    with pytest.raises(ConfigError, match="probability"):
        nb.current_for_probability(1.5, 1e-6, nb.NeelBrownParams())
