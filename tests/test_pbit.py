"""p-bit neuron: P(m = +1) = sigma(2 I / I0), sampling statistics, device protocol, bad parameters."""

import math

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices import Pulses, make_device
from spinaptic.devices.pbit import PBit, PBitConfig


def test_firing_probability_is_sigmoid_of_2i_over_i0():
    pb = PBit(PBitConfig(i0_a=5e-6))
    g = torch.Generator().manual_seed(0)
    cur = torch.tensor([-10e-6, -2.5e-6, 0.0, 1e-6, 5e-6, 12e-6], dtype=torch.float64)
    n = 20000
    m = pb.sample(cur, generator=g, n_samples=n)
    assert m.shape == (n, 6) and set(m.unique().tolist()) <= {-1.0, 1.0}
    p_hat = (m > 0).to(torch.float64).mean(0)
    p = torch.sigmoid(2 * cur / 5e-6)
    assert torch.allclose(pb.probability(cur), p)
    assert torch.allclose(pb.probability(cur), (1 + torch.tanh(cur / 5e-6)) / 2)
    se = (p * (1 - p) / n).sqrt() + 1e-4
    assert bool(((p_hat - p).abs() < 4 * se).all()), (p_hat, p)


def test_rbm_scaling_i_equals_z_over_two():
    # a {0,1} unit trained with sigma(z) fires correctly when driven with I = I0 z / 2
    pb = PBit(PBitConfig(i0_a=1.0))
    z = torch.tensor([-3.0, -0.5, 0.0, 0.7, 2.0])
    assert torch.allclose(pb.probability(z / 2), torch.sigmoid(z))


def test_device_protocol():
    pb = make_device("pbit", i0_a=1e-6, energy_per_sample_j=2e-15)
    g = torch.Generator().manual_seed(1)
    st = pb.init_state((4, 3), generator=g)
    assert st.shape == (4, 3)
    st2, e = pb.apply(st, Pulses(amplitude=torch.full((4, 3), 1e-3)), generator=g)
    assert bool((st2 == 1).all())  # tanh(1000) = 1 > r always
    assert float(e.sum()) == pytest.approx(12 * 2e-15)
    st3, e3 = pb.apply(st, Pulses(amplitude=-1e-3, count=0), generator=g)
    assert torch.equal(st3, st) and float(e3.sum()) == 0.0
    g_lo, g_hi = pb.conductance_range()
    assert set(pb.conductance(st2).unique().tolist()) == {g_hi} and g_lo < g_hi
    with pytest.raises(ValueError, match="current"):
        pb.apply(st, Pulses(amplitude=1.0, kind="voltage"))


def test_bad_parameters():
    with pytest.raises(ConfigError, match="i0_a"):
        PBitConfig(i0_a=0.0)
    with pytest.raises(ConfigError, match="energy_per_sample_j"):
        PBitConfig(energy_per_sample_j=-1.0)
    assert math.isfinite(PBitConfig().i0_a)
