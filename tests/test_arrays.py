"""Weight mapping (quantisation bounds, sign, monotonicity, nonlinear maps) and crossbar reads."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spinaptic.arrays.crossbar import Crossbar, CrossbarConfig, amplifier_gain, energy_per_operation
from spinaptic.arrays.mapping import (
    LevelSet,
    MappingConfig,
    bias_rows,
    map_weights,
    quantize_weights,
    weight_scale,
)
from spinaptic.config import ConfigError
from spinaptic.devices import make_device
from spinaptic.devices.compound_synapse import CompoundSynapse, compound_levels
from spinaptic.physics.constants import E_CHARGE, K_B
from spinaptic.physics.mtj import MTJParams

MTJ = MTJParams.from_diameter(10.0, 50e-9, 4.0)

weights = st.lists(st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False), min_size=2, max_size=40)


@settings(max_examples=60, deadline=None)
@given(weights, st.integers(1, 6), st.sampled_from(["differential", "reference"]))
def test_linear_mapping_properties(ws, bits, signed):
    w = torch.tensor(ws, dtype=torch.float64)
    q = 2**bits
    levels = LevelSet(compound_levels(MTJ, q))
    cfg = MappingConfig(signed=signed)
    w_max = weight_scale(w)
    wq = quantize_weights(w, levels, cfg)
    step = w_max / q if signed == "differential" else 2 * w_max / q
    # quantisation error bounded by half a level
    assert bool(((wq - w).abs() <= step / 2 + 1e-9 * w_max).all())
    # sign preserved (or rounded to zero)
    assert bool((wq * w >= -1e-12).all())
    # monotone
    order = w.argsort()
    assert bool((wq[order][1:] >= wq[order][:-1] - 1e-12).all())


@settings(max_examples=40, deadline=None)
@given(weights, st.floats(0.1, 2.0))
def test_clipping_saturates_at_w_max(ws, w_max):
    w = torch.tensor(ws, dtype=torch.float64)
    levels = LevelSet.uniform(1e-6, 5e-6, 9)
    wq = quantize_weights(w, levels, w_max=w_max)
    assert float(wq.abs().max()) <= w_max * (1 + 1e-12)
    big = w.abs() >= w_max
    assert torch.allclose(wq[big], w_max * w[big].sign())


def test_nonlinear_index_map_and_variation():
    levels = LevelSet(compound_levels(MTJ, 4), torch.full((5,), 1e-6))
    w = torch.tensor([[-1.0, -0.5, 0.0, 0.25, 0.5, 1.0]])
    imap = torch.tensor([0, 2, 3, 4, 4])
    m = map_weights(w, levels, index_map=imap, variation=False)
    assert m.idx_pos.tolist() == [[0, 0, 0, 2, 3, 4]]
    assert m.idx_neg.tolist() == [[4, 3, 0, 0, 0, 0]]
    with pytest.raises(ConfigError, match="index_map"):
        map_weights(w, levels, index_map=torch.tensor([0, 1]))
    g = torch.Generator().manual_seed(0)
    big = torch.rand(200, 200, generator=g) - 0.5
    mv = map_weights(big, levels, variation=True, generator=g)
    m0 = map_weights(big, levels, variation=False)
    diff = mv.g_pos - m0.g_pos
    assert abs(float(diff.std()) - 1e-6) < 0.05e-6
    std = CompoundSynapse(n_magnets=4, mtj=MTJ).level_std(0.03)
    assert float(std[0]) == pytest.approx(0.03 * 2 * MTJ.g_ap) and float(std[-1]) == pytest.approx(0.03 * 2 * MTJ.g_p)


def test_levelset_from_any_device_and_validation():
    lv = LevelSet.from_device(make_device("compound-synapse", n_magnets=8))
    assert lv.n_levels == 9
    lv2 = LevelSet.from_device(make_device("ideal"), n_levels=5)
    assert lv2.n_levels == 5 and lv2.g_min == 0.0
    with pytest.raises(ConfigError, match="n_levels"):
        LevelSet.from_device(make_device("ideal"))
    with pytest.raises(ConfigError, match="ascending"):
        LevelSet(torch.tensor([2.0, 1.0]))
    with pytest.raises(ConfigError, match="signed"):
        MappingConfig(signed="both")


def test_bias_rows_split_without_clipping():
    w = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    b = torch.tensor([2.5, -0.1, 0.0])
    wa, n_b = bias_rows(w, b, 1.0)
    assert n_b == 3 and wa.shape == (8, 3)
    assert torch.allclose(wa[5:].sum(0), b) and float(wa[5:].abs().max()) <= 1.0


def test_crossbar_matches_dense_matmul_at_infinite_tmr_without_noise():
    g = torch.Generator().manual_seed(2)
    w = torch.randn(30, 7, generator=g, dtype=torch.float64)
    # infinite TMR (G_AP = 0; beyond MTJParams' physical bound, so levels built directly from eq. 1):
    # G- of a positive weight vanishes and G+ - G- = g_per_weight * w_q
    g_p = MTJParams.from_diameter(10.0, 50e-9, 1.0).g_p
    levels = LevelSet(torch.arange(257, dtype=torch.float64) * g_p)
    m = map_weights(w, levels, variation=False)
    cfg = CrossbarConfig(v_read_v=0.2, amp_noise_a=0.0, thermal_noise=False, shot_noise=False)
    xb = Crossbar(m.g_pos, m.g_neg, cfg)
    x = torch.rand(11, 30, generator=g, dtype=torch.float64)
    i = xb.read(x, generator=g)
    expected = 0.2 * m.g_per_weight * (x @ w)
    assert torch.allclose(i, expected, rtol=0, atol=float(expected.abs().max()) * 2 / 256)
    assert torch.allclose(i, 0.2 * m.g_per_weight * (x @ m.weights()), rtol=1e-12)
    assert float(m.g_neg.min()) < 1e-8 * float(m.g_pos.max())


def test_crossbar_noise_and_energy():
    gp = torch.full((100, 4), 1e-4, dtype=torch.float64)
    gn = torch.full((100, 4), 2e-5, dtype=torch.float64)
    cfg = CrossbarConfig(v_read_v=0.1, t_read_s=1e-9, amp_noise_a=1e-7)
    xb = Crossbar(gp, gn, cfg)
    x = torch.ones(1, 100, dtype=torch.float64)
    bw = 0.5e9
    var = 4 * K_B * 300 * bw * 100 * 1.2e-4 + 2 * E_CHARGE * bw * 0.1 * 100 * 1.2e-4 + 1e-14
    assert float(xb.noise_std(x)[0, 0]) == pytest.approx(math.sqrt(var), rel=1e-9)
    g = torch.Generator().manual_seed(3)
    s = xb.read(x, generator=g, n_samples=20000)
    assert float(s.std()) == pytest.approx(math.sqrt(var), rel=0.03)
    assert float(s.mean()) == pytest.approx(0.1 * 100 * 8e-5, rel=1e-3)
    e = xb.read_energy(x)
    assert float(e[0]) == pytest.approx(1e-9 * 0.01 * 100 * 4 * 1.2e-4, rel=1e-12)
    assert energy_per_operation(1.0, 4) == 0.25
    with pytest.raises(ConfigError, match="v_read_v"):
        CrossbarConfig(v_read_v=0.0)


def test_amplifier_gain_rules():
    q, mtj = 16, MTJ
    g_lv = compound_levels(mtj, q)
    a_win = amplifier_gain(1e-5, 0.1, float(g_lv[-1] - g_lv[0]), float(g_lv[-1]), "window")
    a_fs = amplifier_gain(1e-5, 0.1, float(g_lv[-1] - g_lv[0]), float(g_lv[-1]), "full-scale")
    assert a_fs / a_win == pytest.approx(mtj.tmr / (1 + mtj.tmr))
    with pytest.raises(ConfigError):
        amplifier_gain(1e-5, 0.1, 1e-3, 1e-3, "magic")
