"""`arrays.tile`: weight mapping on G+ / G- pairs, reads, and outer-product updates as device programming."""

from __future__ import annotations

import json

import pytest
import torch

from spinaptic.arrays import AnalogTile, TileConfig
from spinaptic.config import ConfigError, to_dict

# 100 steps of 1e-6 S per half window; w_max = 1 -> one pulse = 0.01 of weight
IDEAL = TileConfig(device="ideal", w_max=1.0, read_noise=False, update_rule="deterministic")
STEP = 0.01


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_config_validation_and_json_round_trip():
    with pytest.raises(ConfigError, match="update_rule"):
        TileConfig(update_rule="nearest")
    with pytest.raises(ConfigError, match="w_max"):
        TileConfig(w_max=0.0)
    with pytest.raises(ConfigError, match="adc_bits"):
        TileConfig(adc_bits=0)
    with pytest.raises(ConfigError, match="not a synapse"):
        AnalogTile((2, 3), TileConfig(device="pbit"))
    cfg = TileConfig(device="compound-synapse", device_overrides={"n_magnets": 15}, adc_bits=6, w_max=0.5)
    assert TileConfig.from_dict(json.loads(json.dumps(to_dict(cfg)))) == cfg
    assert TileConfig().update_rule == "stochastic"


def test_ideal_device_reproduces_sgd_on_the_weight_grid():
    """Linear regression with deterministic rounding: the tile follows float SGD whose every update is rounded
    to the device step, exactly, and gets most of the way float SGD gets."""
    g = _gen(1)
    x = torch.rand(16, 3, generator=g, dtype=torch.float64)
    w_true = torch.tensor([[0.3, -0.2, 0.1], [-0.25, 0.15, 0.05]], dtype=torch.float64)
    y = x @ w_true.T
    w0 = torch.zeros(2, 3, dtype=torch.float64)
    tile = AnalogTile((2, 3), IDEAL, weights=w0)
    w_grid, w_float, lr = w0.clone(), w0.clone(), 0.5

    def grad(w):
        return 2 * (x @ w.T - y).T @ x / len(x)

    for _ in range(60):
        w_tile = tile.weights()
        torch.testing.assert_close(w_tile, w_grid, atol=1e-9, rtol=0)
        dw = -lr * grad(w_tile)
        assert tile.update(dw) == 0.0  # the ideal device costs no energy
        w_grid = w_grid + torch.round(dw / STEP) * STEP
        w_float = w_float - lr * grad(w_float)
    def loss(w):
        return float(((x @ w.T - y) ** 2).mean())

    # rounded SGD stalls once every update is below half a step, but it has done most of float SGD's work
    assert loss(tile.weights()) < 0.1 * loss(w0)
    assert loss(tile.weights()) < loss(w0) * 0.01 + 10 * loss(w_float) + 1e-3


def test_stochastic_rounding_is_unbiased():
    tile = AnalogTile((200, 200), TileConfig(device="ideal", w_max=1.0, read_noise=False), weights=torch.zeros(200, 200))
    w0 = tile.weights().clone()
    dw = torch.full((200, 200), 0.3 * STEP, dtype=torch.float64)
    dw[:, 100:] = -0.7 * STEP
    tile.update(dw, generator=_gen(2))
    got = tile.weights() - w0
    assert set(torch.unique(torch.round(got / STEP)).tolist()) <= {-1.0, 0.0, 1.0}
    n = 200 * 100
    for sl, want in ((slice(0, 100), 0.3), (slice(100, 200), -0.7)):
        mean = float(got[:, sl].mean()) / STEP
        sigma = (abs(want) * (1 - abs(want)) / n) ** 0.5
        assert abs(mean - want) < 5 * sigma
    # deterministic rounding drops sub-half-step updates
    det = AnalogTile((4, 4), IDEAL, weights=torch.zeros(4, 4))
    before = det.weights().clone()
    det.update(torch.full((4, 4), 0.3 * STEP))
    assert torch.equal(det.weights(), before)


def test_complementary_updates_and_clipping_at_the_bounds():
    tile = AnalogTile((3, 3), IDEAL, weights=torch.zeros(3, 3))
    gp, gn = tile.conductances()
    assert torch.allclose(gp, torch.full((3, 3), 5e-5, dtype=torch.float64))  # both halves start mid-window
    tile.update(torch.full((3, 3), 0.2))  # G+ takes it (equal headroom)
    gp1, gn1 = tile.conductances()
    assert torch.allclose(gp1 - gp, torch.full((3, 3), 2e-5, dtype=torch.float64)) and torch.equal(gn1, gn)
    tile.update(torch.full((3, 3), 0.2))  # now G- has more headroom: it is lowered
    gp2, gn2 = tile.conductances()
    assert torch.equal(gp2, gp1) and torch.allclose(gn - gn2, torch.full((3, 3), 2e-5, dtype=torch.float64))
    for _ in range(4):  # far beyond w_max: clipped at the devices' bounds
        tile.update(torch.full((3, 3), 5.0))
    gp, gn = tile.conductances()
    assert float(gp.max()) <= 1e-4 and float(gn.min()) >= 0.0
    torch.testing.assert_close(tile.weights(), torch.ones(3, 3, dtype=torch.float64))
    for _ in range(4):
        tile.update(torch.full((3, 3), -5.0))
    torch.testing.assert_close(tile.weights(), -torch.ones(3, 3, dtype=torch.float64))
    # weights beyond +-w_max are clipped at programming
    big = AnalogTile((1, 2), IDEAL, weights=torch.tensor([[3.0, -0.5]]))
    torch.testing.assert_close(big.weights(), torch.tensor([[1.0, -0.5]], dtype=torch.float64))


def test_energy_nonnegative_zero_for_zero_update_and_reproducible():
    cfg = TileConfig(device="compound-synapse", w_max=0.5)
    w0 = 0.2 * torch.randn(6, 5, generator=_gen(3))
    a = AnalogTile((6, 5), cfg, weights=w0, generator=_gen(4))
    b = AnalogTile((6, 5), cfg, weights=w0, generator=_gen(4))
    assert a.program_energy_j > 0
    torch.testing.assert_close(a.weights(), b.weights(), rtol=0, atol=0)
    assert a.update(torch.zeros(6, 5), generator=_gen(5)) == 0.0
    dw = 0.1 * torch.randn(6, 5, generator=_gen(6))
    ea, eb = a.update(dw, generator=_gen(7)), b.update(dw, generator=_gen(7))
    assert ea > 0 and ea == eb
    torch.testing.assert_close(a.weights(), b.weights(), rtol=0, atol=0)


def test_mvm_noiseless_noisy_adc_and_read_energy():
    w = 0.5 * torch.randn(4, 6, generator=_gen(8), dtype=torch.float64)
    x = torch.randn(3, 6, generator=_gen(9), dtype=torch.float64)
    tile = AnalogTile((4, 6), TileConfig(device="ideal", device_overrides={"step_s": 1e-9}, read_noise=False),
                      weights=w)
    y, e = tile.mvm(x)
    torch.testing.assert_close(y, x @ tile.weights().T)
    assert e.shape == (3,) and bool((e > 0).all())
    yt, _ = tile.mvm(torch.ones(2, 4, dtype=torch.float64), transpose=True)
    torch.testing.assert_close(yt, torch.ones(2, 4, dtype=torch.float64) @ tile.weights())
    noisy = AnalogTile((4, 6), TileConfig(device="ideal", device_overrides={"step_s": 1e-9}), weights=w)
    samples = torch.stack([noisy.mvm(x, generator=_gen(s))[0] for s in range(50)])
    assert float(samples.std(0).min()) > 0
    assert float((samples.mean(0) - x @ noisy.weights().T).abs().max()) < 5 * float(samples.std(0).max())
    adc = AnalogTile((4, 6), TileConfig(device="ideal", device_overrides={"step_s": 1e-9}, read_noise=False,
                                        adc_bits=3, adc_full_scale=2.0), weights=w)
    ya, _ = adc.mvm(x)
    lsb = 2 * 2.0 / 7
    scale = x.abs().amax(-1, keepdim=True) * adc.w_max
    q = ya / scale / lsb
    torch.testing.assert_close(q, torch.round(q))


def test_periodic_carry_extends_the_range_and_conserves_the_weight():
    cfg = TileConfig(device="ideal", w_max=1.0, read_noise=False, update_rule="deterministic", n_significance=2,
                     significance_base=4.0, carry_every=2, carry_threshold=0.5)
    tile = AnalogTile((2, 3), cfg, weights=torch.zeros(2, 3))
    torch.testing.assert_close(tile.pair_w_max, torch.tensor([0.2, 0.8], dtype=torch.float64))
    assert tile.state.shape == (2, 2, 2, 3)
    for _ in range(18):  # 0.9 in total: far beyond the fine pair's +-0.2
        tile.update(torch.full((2, 3), 0.05))
    assert tile.n_carries > 0
    torch.testing.assert_close(tile.weights(), torch.full((2, 3), 0.9, dtype=torch.float64), atol=1e-9, rtol=0)
    assert float(tile.pair_weights()[0].abs().max()) < 0.2  # the fine pair kept headroom
    tile.update(torch.full((2, 3), 0.12))  # fine pair above threshold now
    before = tile.weights().clone()
    tile.carry()
    torch.testing.assert_close(tile.weights(), before, atol=1e-12, rtol=0)  # carried, not lost
    y, _ = tile.mvm(torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(y, tile.weights().T)
    # without carry the same device pair saturates at its range
    single = AnalogTile((2, 3), TileConfig(device="ideal", w_max=0.2, read_noise=False, update_rule="deterministic"),
                        weights=torch.zeros(2, 3))
    for _ in range(18):
        single.update(torch.full((2, 3), 0.05))
    torch.testing.assert_close(single.weights(), torch.full((2, 3), 0.2, dtype=torch.float64))
    with pytest.raises(ConfigError, match="significance_base"):
        TileConfig(n_significance=2, significance_base=1.0)


def test_pulse_trains_are_unbiased_outer_products():
    cfg = TileConfig(device="ideal", device_overrides={"step_s": 1e-9}, w_max=1.0, read_noise=False,
                     update_rule="pulse-train")
    tile = AnalogTile((5, 4), cfg, weights=torch.zeros(5, 4))
    g = _gen(12)
    x = torch.tensor([[1.0, -0.5, 0.25, 0.0]], dtype=torch.float64).expand(2000, 4)
    d = torch.tensor([[0.5, -1.0, 0.2, 0.0, 0.8]], dtype=torch.float64).expand(2000, 5)
    w0 = tile.weights().clone()
    assert tile.pulse_train_update(x, d, 1e-5, generator=g) == 0.0  # the ideal device: no energy
    got, want = tile.weights() - w0, 1e-5 * d.T @ x
    assert float(got[:, 3].abs().max()) == 0.0 and float(got[3].abs().max()) == 0.0  # no pulse where x or d = 0
    assert float((got - want).abs().max()) < 0.1 * float(want.abs().max())
    assert bool((torch.sign(got) == torch.sign(want)).all())
