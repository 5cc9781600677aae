"""The notch transition table of the straight DW track, write-and-verify, and the dw-notch-levels device."""

from __future__ import annotations

import pytest
import torch

from spinaptic.arrays.tile import AnalogTile, TileConfig
from spinaptic.config import ConfigError
from spinaptic.devices import Pulses, make_device
from spinaptic.devices.notch_programming import (
    NotchLevelModel,
    NotchLevels,
    NotchLevelsConfig,
    NotchTransitionTable,
    build_transition_table,
    cached_table,
    write_verify,
)


@pytest.fixture(scope="module")
def table() -> NotchTransitionTable:
    """A small table of the straight track (48 walls per cell, 9 amplitudes)."""
    return build_transition_table(amplitudes_v=torch.linspace(1.2, 2.0, 9, dtype=torch.float64), replicas=48)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_table_rows_are_distributions_and_physical(table):
    p = table.probs
    assert p.shape == (2, 10, 5, 5) and table.n_notches == 5
    assert bool((p >= 0).all()) and torch.allclose(p.sum(-1), torch.ones(2, 10, 5, dtype=torch.float64))
    assert torch.equal(p[:, 0], torch.eye(5, dtype=torch.float64).expand(2, 5, 5))  # 0 V: the wall stays
    # + pulses never lower the notch of an interior wall, - pulses never raise it; the largest amplitude hops
    idx = torch.arange(5)
    below = idx.view(1, 5) < idx.view(5, 1)  # [start, final]: final < start
    assert float(p[0, 1:][:, below].max()) <= 0.05 and float(p[1, 1:][:, below.T].max()) <= 0.05
    assert float(p[0, -1, 1, 1]) < 0.1 and float(p[1, -1, 3, 3]) < 0.1
    d = table.displacement_pmf()
    assert d.shape == (2, 10, 4) and torch.allclose(d.sum(-1), torch.ones(2, 10, dtype=torch.float64))
    # the thermal read spread of a pinned wall is well below a micro-siemens (paper 002: 0.68 - 2.73 uS measured)
    assert bool((table.g_std_s > 0).all()) and float(table.g_std_s.max()) < 1e-6
    assert 0 <= table.stranded_fraction < 0.05 and table.energy_per_v2_j > 0
    again = NotchTransitionTable.from_dict(table.to_dict())
    assert torch.equal(again.probs, table.probs) and again.width_s == table.width_s


@pytest.mark.parametrize("n_levels", [2, 5, 16, 64])
def test_write_verify_reaches_every_target(table, n_levels):
    m = NotchLevelModel(table, n_levels)
    target = torch.randint(n_levels, (4000,), generator=_gen(1))
    final, pulses, energy = write_verify(m, target, max_pulses=300, generator=_gen(2))
    assert torch.equal(final, target)
    d_max = table.n_notches - 2 if n_levels != table.n_notches else table.n_notches - 1
    assert bool((pulses * d_max >= target).all())  # at most d_max notches per pulse from notch 0
    assert bool((pulses[target == 0] == 0).all()) and bool((energy[target == 0] == 0).all())
    assert bool((energy[pulses > 0] > 0).all())
    # reproducible; no pulse allowed -> nothing moves
    f2, p2, e2 = write_verify(m, target, max_pulses=300, generator=_gen(2))
    assert torch.equal(f2, final) and torch.equal(p2, pulses) and torch.equal(e2, energy)
    f0, p0, _ = write_verify(m, target, max_pulses=0, generator=_gen(2))
    assert bool((f0 == 0).all()) and bool((p0 == 0).all())


def test_displacement_reading_clamps_at_the_track_ends(table):
    m = NotchLevelModel(table, 32)
    top = torch.full((500,), 31, dtype=torch.int64)
    amp = torch.full((500,), 2.0, dtype=torch.float64)
    assert torch.equal(m.step(top, amp, _gen(3)), top)  # + pulses cannot leave the last notch
    assert bool((m.step(torch.zeros_like(top), -amp, _gen(4)) == 0).all())
    moved = m.step(torch.full((500,), 10, dtype=torch.int64), amp, _gen(5))
    assert bool((moved == 13).all())  # the largest amplitude: the longest modelled hop (S - 2 = 3 notches)


def test_full_table_steps_follow_the_table(table):
    m = NotchLevelModel(table, 5)
    n, a = 20000, 6  # grid amplitude 6 = 1.6 V
    final = m.step(torch.ones(n, dtype=torch.int64), torch.full((n,), float(table.amplitudes_v[a])), _gen(6))
    freq = torch.bincount(final, minlength=5).double() / n
    assert torch.allclose(freq, table.probs[0, a, 1], atol=0.02)


def test_levels_are_evenly_spaced_over_the_paper_range():
    for n in (2, 5, 16, 64):
        lv = NotchLevels(n_levels=n).levels()
        assert lv.numel() == n and lv[0] == pytest.approx(0.94e-3) and lv[-1] == pytest.approx(1.1e-3)
        assert torch.allclose(lv.diff(), torch.full((n - 1,), 0.16e-3 / (n - 1), dtype=torch.float64))
    assert NotchLevels().conductance_range() == (0.94e-3, 1.1e-3)


@pytest.mark.parametrize("sigma", [2.53e-6, 25.3e-6])
def test_programmed_conductances_have_the_requested_sigma(table, sigma):
    dev = NotchLevels(NotchLevelsConfig(n_levels=16, write_noise_s=sigma), table=table)
    n = 20000
    target = torch.randint(16, (n,), generator=_gen(7))
    state = dev.init_state((n,), generator=_gen(8))
    state, energy, pulses = dev.program_levels(state, target, max_pulses=200, generator=_gen(9))
    assert torch.equal(state["notch"], target) and torch.equal(state["n_pulses"], pulses)
    err = dev.conductance(state) - dev.levels()[target]
    assert float(err.std()) == pytest.approx(sigma, rel=0.03)  # 20000 draws: sd of the sd estimate 0.5 %
    assert abs(float(err.mean())) < 4 * sigma / n**0.5
    # every write re-draws the error: reprogramming the same notch changes it
    again, _, _ = dev.program_levels(dev.program_levels(state, torch.zeros_like(target), max_pulses=200,
                                                        generator=_gen(10))[0], target, max_pulses=200,
                                     generator=_gen(11))
    moved = target > 0
    assert not torch.equal(again["dg"][moved], state["dg"][moved])


def test_program_protocol_and_d2d_spread(table):
    dev = NotchLevels(NotchLevelsConfig(n_levels=8, write_noise_s=0.0, d2d_spread=0.02), table=table)
    state = dev.init_state((5000,), generator=_gen(12))
    assert 0.015 < float(state["scale"].std()) < 0.025
    target = dev.levels()[torch.randint(8, (5000,), generator=_gen(13))]
    new, energy, conv = dev.program(state, target, max_iterations=200, generator=_gen(14))
    assert torch.allclose(dev.conductance(new), target * new["scale"]) and bool((energy >= 0).all())
    assert conv.dtype == torch.bool and conv.shape == (5000,)


def test_apply_takes_the_tables_voltage_pulses(table):
    dev = NotchLevels(table=table)
    s = dev.mid_range_state((4,), generator=_gen(15))
    with pytest.raises(ConfigError, match="voltage"):
        dev.apply(s, Pulses(1e-3, width_s=50e-9, kind="current"))
    with pytest.raises(ConfigError, match="50 ns|5e-08"):
        dev.apply(s, Pulses(1.6, width_s=10e-9, kind="voltage"))
    s2, e = dev.apply(s, dev.nominal_pulses(torch.tensor([1, -1, 0, 1])), generator=_gen(16))
    assert s2["notch"][2] == s["notch"][2] and e[2] == 0 and bool((e[[0, 1, 3]] > 0).all())


@pytest.mark.parametrize("kwargs, match", [
    ({"n_levels": 1}, r"n_levels.*\[2, 4096\]"),
    ({"write_noise_s": -1e-6}, r"write_noise_s.* S .*\[0, 0.001\] S"),
    ({"g_min_s": 2.0}, r"g_min_s.* S .*\[0, 1\] S"),
    ({"g_min_s": 1.2e-3}, r"g_min_s = 0.0012 S must be < g_max_s"),
    ({"d2d_spread": 0.9}, r"d2d_spread.*\[0, 0.5\]"),
    ({"v_min_v": 2.5}, r"v_min_v = 2.5 V must be < v_max_v"),
    ({"pulse_width_s": 1.0}, r"pulse_width_s = 1.0 s .*\[1e-10, 1e-06\] s"),
    ({"source": "dw-notched"}, r"source = 'dw-notched' is not one of"),
    ({"nominal_amplitude_v": 5.0}, r"nominal_amplitude_v = 5.0 V .*\[1.2, 2\] V"),
])
def test_bad_config_names_parameter_unit_and_range(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        NotchLevelsConfig(**kwargs)


def test_registered_and_programmed_as_a_differential_pair_in_a_tile(table):
    dev = make_device("dw-notch-levels", n_levels=8)
    assert dev.is_synapse and dev.nominal_amplitude_v == pytest.approx(1.6)
    dev = NotchLevels(NotchLevelsConfig(n_levels=8), table=table)
    w = torch.tensor([[0.5, -0.25, 0.0], [1.0, -1.0, 0.125]])
    tile = AnalogTile((2, 3), TileConfig(device="dw-notch-levels", w_max=1.0, reference="min", program_iterations=0,
                                         read_noise=False), weights=w, device=dev, generator=_gen(17))
    assert bool((tile.state["notch"] == 0).all()) and tile.program_energy_j == 0  # nothing programmed yet
    mag = torch.round(w.abs() * 7).to(torch.int64)  # 8 levels: magnitudes 0 .. 7 x w_max / 7
    lv = dev.levels()
    gp, gn = lv[torch.where(w >= 0, mag, 0)], lv[torch.where(w < 0, mag, 0)]
    energy, _ = tile.program_conductances(gp, gn, max_iterations=100, generator=_gen(18))
    notch = tile.state["notch"][0]
    assert torch.equal(notch[0], torch.where(w >= 0, mag, 0)) and torch.equal(notch[1], torch.where(w < 0, mag, 0))
    assert bool(((notch[0] == 0) | (notch[1] == 0)).all())  # one device at the magnitude, the other at G_min
    assert energy > 0
    assert torch.allclose(tile.weights(), torch.where(w >= 0, mag, -mag).double() / 7, atol=0.05)  # + 2.53 uS noise


def test_cached_table_is_measured_once():
    a = cached_table(replicas=8, n_amplitudes=3)
    assert cached_table(replicas=8, n_amplitudes=3) is a and a.replicas == 8
