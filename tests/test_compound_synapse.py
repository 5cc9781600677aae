"""Compound synapse (paper 000): Néel-Brown statistics of the pulse schemes, eq. 1 levels, bad parameters."""

import math

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices import Pulses, make_device
from spinaptic.devices.compound_synapse import (
    PAPER_MTJ,
    CompoundSynapse,
    CompoundSynapseConfig,
    PulseScheme,
    compound_levels,
    compound_resistances_eq1,
    identical_pulse_level_map,
    identical_pulses,
    incremental_pulses,
    neurosim_nonlinearity,
    nonlinearity_max_deviation,
    run_pulse_scheme,
    scheme_i_amplitude_for_fraction,
    set_all,
)
from spinaptic.physics.mtj import MTJParams


@pytest.fixture(autouse=True)
def _one_thread():
    # small tensors: a second intra-op thread only spins against other jobs on the shared 2-core machine
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


N = 4000  # synapses per statistical check: sigma of a mean count of 16 Bernoulli <= 2/sqrt(N) = 0.03


def nominal(q=16):
    return CompoundSynapse(CompoundSynapseConfig(n_magnets=q, delta0_dtod=0.0, i_c0_dtod=0.0))


def _check_mean(traj, idx, expected):
    t = traj.to(torch.float64)
    for i, e in zip(idx, expected):
        m = float(t[i].mean())
        se = float(t[i].std()) / math.sqrt(t.shape[1]) + 0.005  # + rounding of the reference numbers
        assert abs(m - e) < 4 * se, (i, m, e, se)


def test_incremental_scheme_expectations():
    dev = nominal()
    g = torch.Generator().manual_seed(1)
    scheme = incremental_pulses(5.0e-3, 6.0e-3, 0.05e-3)
    assert scheme.n_pulses == 21
    _, traj, energy = run_pulse_scheme(dev, dev.init_state((N,), generator=g), scheme, generator=g)
    # after the pulses at 5.0 / 5.2 / 5.4 / 5.6 / 5.8 / 6.0 mA (device-physics reference (a), n = 2 fit)
    _check_mean(traj, [1, 5, 9, 13, 17, 21], [0.14, 1.01, 2.68, 5.56, 9.62, 13.58])
    exp = dev.expected_switched(torch.tensor(scheme.amplitudes_a), 20e-6)
    assert float(exp[-1]) == pytest.approx(13.58, abs=0.01)
    # write energy: sum I^2 R t over the 21 pulses, one channel per synapse
    e_ref = sum(a * a for a in scheme.amplitudes_a) * 2e3 * 20e-6
    assert float(energy[0]) == pytest.approx(e_ref, rel=1e-9)


def test_identical_scheme_expectations():
    dev = nominal()
    g = torch.Generator().manual_seed(2)
    _, traj, _ = run_pulse_scheme(dev, dev.init_state((N,), generator=g), identical_pulses(5.8e-3, 20), generator=g)
    _check_mean(traj, [1, 2, 5, 10, 20], [2.31, 4.29, 8.67, 12.64, 15.30])
    # identical pulses in one call (count = k) are equivalent to k single pulses
    st, _ = dev.apply(dev.init_state((N,), generator=g), Pulses(5.8e-3, 20e-6, count=5), generator=g)
    m = float(dev.n_switched(st).to(torch.float64).mean())
    assert abs(m - 8.67) < 4 * (2.0 / math.sqrt(N))


def test_depression_and_readouts():
    dev = nominal()
    g = torch.Generator().manual_seed(3)
    st = set_all(dev, dev.init_state((N,), generator=g), True)
    assert float(dev.hall_resistance(st)[0]) == pytest.approx(0.110 * 8)
    assert float(dev.conductance(st)[0]) == pytest.approx(16 * PAPER_MTJ.g_p)
    st, traj, _ = run_pulse_scheme(dev, st, incremental_pulses(-4.8e-3, -5.8e-3, direction=-1), generator=g)
    mean = traj.to(torch.float64).mean(1)
    assert bool((mean[1:] <= mean[:-1] + 0.05).all()) and float(mean[-1]) < 8
    exp = dev.expected_switched(-torch.tensor(incremental_pulses(4.8e-3, 5.8e-3).amplitudes_a), 20e-6, start=16.0)
    assert abs(float(mean[-1]) - float(exp[-1])) < 0.15


def test_eq1_levels_equally_spaced_and_match_resistances():
    mtj = MTJParams.from_diameter(10.0, 50e-9, 4.0)
    g = compound_levels(mtj, 16)
    assert g.numel() == 17
    d = g[1:] - g[:-1]
    assert torch.allclose(d, torch.full_like(d, mtj.g_p - mtj.g_ap), rtol=1e-12)
    r = compound_resistances_eq1(mtj, 16)  # i = 1..Q+1, i - 1 junctions in AP
    assert torch.allclose(1 / r.flip(0), g, rtol=1e-12)
    assert float(r[0]) == pytest.approx(mtj.r_p / 16) and float(r[-1]) == pytest.approx(mtj.r_ap / 16)
    dev = make_device("compound-synapse", n_magnets=16, mtj=mtj)
    assert dev.conductance_range() == pytest.approx((float(g[0]), float(g[-1])))


def test_linearity_metric_prefers_scheme_ii_with_spread():
    dev = CompoundSynapse()  # default per-magnet spread (5 % Delta0, 5 % I_c0)
    g = torch.Generator().manual_seed(4)
    st = dev.init_state((1500,), generator=g)
    _, t1, _ = run_pulse_scheme(dev, st, identical_pulses(5.8e-3, 21), generator=g)
    _, t2, _ = run_pulse_scheme(dev, st, incremental_pulses(5e-3, 6e-3), generator=g)
    nl1 = float(nonlinearity_max_deviation(t1.to(torch.float64).mean(1)))
    nl2 = float(nonlinearity_max_deviation(t2.to(torch.float64).mean(1)))
    assert nl2 < 0.5 * nl1
    assert float(nonlinearity_max_deviation(torch.arange(10.0))) == pytest.approx(0.0, abs=1e-12)
    sat = 1 - torch.exp(-torch.arange(21.0) / 5)
    assert neurosim_nonlinearity(sat) == pytest.approx(4.0, abs=0.05)
    assert neurosim_nonlinearity(torch.arange(21.0)) == 0.0


def test_nonlinear_mapping_levels():
    dev = nominal()
    g = torch.Generator().manual_seed(5)
    idx, mean = identical_pulse_level_map(dev, 5.8e-3, n_cases=100, generator=g)
    assert idx.shape == (17,) and int(idx[0]) == 0
    assert bool((idx[1:] >= idx[:-1]).all())
    assert len(set(idx.tolist())) < 17  # levels skipped / crowded: the nonlinear mapping
    assert int(idx[1]) >= 2  # the first pulse already switches ~2.3 magnets
    amp = scheme_i_amplitude_for_fraction(dev, 1 - (1 - 0.1446) ** 16, 16)
    assert amp == pytest.approx(5.8e-3, rel=2e-3)


def test_bad_parameters_raise():
    with pytest.raises(ConfigError, match="n_magnets"):
        CompoundSynapseConfig(n_magnets=0)
    with pytest.raises(ConfigError, match="n_magnets"):
        CompoundSynapseConfig(n_magnets=2.5)
    with pytest.raises(ConfigError, match="tmr"):
        MTJParams(tmr=0.0)
    with pytest.raises(ConfigError, match="ra_ohm_m2"):
        MTJParams(ra_ohm_m2=-1e-12)
    with pytest.raises(ConfigError, match="potentiation train needs every amplitude > 0"):
        PulseScheme((5e-3, -5e-3), direction=1)
    with pytest.raises(ConfigError, match="depression"):
        identical_pulses(5.8e-3, 10, direction=-1)
    with pytest.raises(ConfigError, match="different signs"):
        incremental_pulses(5e-3, -6e-3)
    with pytest.raises(ConfigError, match="width_s"):
        identical_pulses(5e-3, 3, width_s=0.0)


def test_compound_synapse_experiment_quick():
    from _quick_runs import quick_run

    out, doc = quick_run("compound-synapse")
    verdicts = {c["quantity"]: c["verdict"] for c in doc["comparisons"]}
    assert "short" not in verdicts.values(), verdicts
    assert (out / "fig3_pulse_schemes_ahe.png").exists()
    assert max(doc["metrics"]["nonlinearity_scheme_II"]) < min(doc["metrics"]["nonlinearity_scheme_I"])
