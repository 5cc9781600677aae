"""Calibrated "displacement per pulse" response of the DW synapse (paper 001's behavioural model)."""

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices.base import Pulses, make_device
from spinaptic.devices.dw_calibration import DisplacementTable, cached_displacement, calibrate_displacement

L = 320e-9  # paper 001's track length [m]


@pytest.fixture(scope="module")
def devs():
    return make_device("dw-continuous"), make_device("dw-continuous", response="calibrated")


def _mid(dev, n):
    s = dev.init_state((n,))
    s["q"] = torch.full((n,), 0.5 * L, dtype=torch.float64)
    return s


def test_paper001_displacement_linear_in_current(devs):
    _, dev = devs
    assert dev.current_programmable and not devs[0].current_programmable
    tab = cached_displacement(dev, 1e-9)
    i = torch.tensor(tab.currents_a, dtype=torch.float64)
    d = torch.tensor(tab.displacement_m, dtype=torch.float64)
    assert tab.currents_a == tuple(sorted(tab.currents_a)) and 0.0 in tab.currents_a
    assert bool((d.diff() > 0).all())  # monotone over the whole +-160 uA grid
    assert abs(tab.displacement_m[tab.currents_a.index(0.0)]) < 1e-18
    # antisymmetry: the 1D model is odd under I -> -I (phi -> 2 phi0 - phi) and the grid is mirrored exactly;
    # 1e-12 m is 1e-5 of the displacements, far above rounding
    assert torch.allclose(d, -d.flip(0), rtol=0, atol=1e-12)
    small = i.abs() <= 40e-6 + 1e-12
    slope = float((i[small] * d[small]).sum() / (i[small] ** 2).sum())  # fit through the origin [m/A]
    resid = (d[small] - slope * i[small]).abs().max()
    assert resid < 0.05 * d[small].abs().max()
    assert 4e-3 < slope < 6e-3  # ~5 nm/uA; paper 001: 320 nm / 80 uA = 4 nm/uA
    # full track in one 1 ns pulse: paper 001 sec. V.2 "~80 uA" (our model: ~77 uA)
    i_full = float(dev.current_for_displacement_fraction(torch.tensor(1.0)))
    assert 80e-6 / 1.5 < i_full < 80e-6 * 1.5
    # the exact 1D model from the left edge reaches the right edge with that current (the table is free of
    # end stops, so it holds from any start)
    st = devs[0].init_state((1,))
    st["q"] = torch.zeros(1, dtype=torch.float64)
    st, _ = devs[0].apply(st, Pulses(torch.tensor([i_full]), width_s=1e-9))
    assert float(st["q"][0]) > 0.98 * L


def test_calibrated_apply_matches_1d_model(devs):
    exact, cal = devs
    pulses = Pulses(torch.tensor([10e-6, 15e-6, -25e-6], dtype=torch.float64), width_s=1e-9)
    s_e, e_e = exact.apply(_mid(exact, 3), pulses)
    s_c, e_c = cal.apply(_mid(cal, 3), pulses)
    # 10 uA is a grid point; 15 and -25 uA are interpolated on the 10 uA grid (curvature: < 1 %)
    assert torch.allclose(s_c["q"] - 0.5 * L, s_e["q"] - 0.5 * L, rtol=0.01, atol=0)
    assert torch.equal(e_c, e_e)  # the same energy lines (`DWSynapse._energy`)
    assert torch.equal(s_c["phi"], _mid(cal, 3)["phi"])


def test_calibrated_apply_clips_counts_and_leaves_idle_untouched(devs):
    _, dev = devs
    s = dev.init_state((2,))
    s["q"] = torch.tensor([0.9 * L, 0.1 * L], dtype=torch.float64)
    out, _ = dev.apply(s, Pulses(torch.tensor([80e-6, -80e-6]), width_s=1e-9))
    assert out["q"].tolist() == [L, 0.0]
    s = _mid(dev, 3)
    s["q"] = s["q"] + torch.tensor([1.234e-9, 0.0, 0.0], dtype=torch.float64)
    out, e = dev.apply(s, Pulses(5e-6, width_s=1e-9, count=torch.tensor([0, 3, 1])))
    assert torch.equal(out["q"][0], s["q"][0]) and float(e[0]) == 0.0
    dq = out["q"] - s["q"]
    assert float(dq[1]) == pytest.approx(3 * float(dq[2]), rel=1e-12)
    assert float(e[1]) == pytest.approx(3 * float(e[2]), rel=1e-12)
    assert float(e[2]) == pytest.approx(dev.programming_energy(5e-6, 1e-9), rel=1e-12)


def test_current_for_displacement_fraction_round_trip(devs):
    _, dev = devs
    frac = torch.linspace(-1.0, 1.0, 9, dtype=torch.float64)
    cur = dev.current_for_displacement_fraction(frac)
    tab = cached_displacement(dev, 1e-9)
    assert torch.allclose(tab(cur) / L, frac, rtol=0, atol=1e-12)
    assert float(dev.current_for_displacement_fraction(torch.tensor(10.0))) == pytest.approx(max(tab.currents_a))
    x32 = tab(torch.tensor([1e-5, 500e-6], dtype=torch.float32))  # dtype kept, beyond the grid clamped
    assert x32.dtype == torch.float32 and float(x32[1]) == pytest.approx(tab.displacement_m[-1], rel=1e-6)


def test_table_interpolation_and_monotone_part():
    tab = DisplacementTable(1e-9, (-2.0, -1.0, 0.0, 1.0, 2.0), (-1.0, -1.0, 0.0, 2.0, 3.0))
    assert tab(torch.tensor([-5.0, 0.5, 1.5, 9.0])).tolist() == [-1.0, 1.0, 2.5, 3.0]
    assert tab.monotone_part() == ((-1.0, 0.0, 1.0, 2.0), (-1.0, 0.0, 2.0, 3.0))
    assert tab.current_for(torch.tensor([-7.0, 1.0, 2.5])).tolist() == [-1.0, 0.5, 1.5]


def test_thermal_calibration_is_seeded():
    dev = make_device("dw-continuous", temperature_k=300.0, response="calibrated")
    a = calibrate_displacement(dev, 1e-9, n_points=5, n_devices=16)
    b = calibrate_displacement(dev, 1e-9, n_points=5, n_devices=16)
    assert a == b and a.displacement_m[0] < 0 < a.displacement_m[-1]


def test_bad_response_and_kinds_raise():
    with pytest.raises(ConfigError, match="response"):
        make_device("dw-continuous", response="fast")
    dev = make_device("dw-continuous", response="calibrated")
    with pytest.raises(ConfigError, match="current pulses only"):
        dev.apply(dev.init_state((1,)), Pulses(1.0, kind="voltage"))
    with pytest.raises(ConfigError, match="one scalar pulse width"):
        dev.apply(dev.init_state((2,)), Pulses(10e-6, width_s=torch.tensor([1e-9, 2e-9])))
    with pytest.raises(ConfigError, match="nominal_kind 'current'"):
        calibrate_displacement(make_device("dw-trapezoid"), 50e-9)
