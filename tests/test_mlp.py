"""`networks.mlp`: the batch-1 backprop MLP on analog tiles (paper 003's network)."""

from __future__ import annotations

import warnings

import pytest
import torch

from _synthetic import synthetic_lookup_table_device
from spinaptic.arrays import TileConfig
from spinaptic.config import ConfigError
from spinaptic.networks.mlp import PAPER003_SCHEDULE, DeviceMLP, MLPConfig, float_mlp_weights


@pytest.fixture(scope="module")
def sample():
    from spinaptic.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = load_dataset("mnist-sample", "train", flatten=True, scale="unit")
    return x, y


def test_schedule_and_validation():
    cfg = MLPConfig(lr=0.6)
    assert cfg.lr_schedule == PAPER003_SCHEDULE
    assert [cfg.lr_at(e) for e in (0, 2, 3, 4, 5, 8, 10, 19)] == pytest.approx(
        [0.6, 0.6, 0.3, 0.3, 0.2, 0.15, 0.12, 0.12])
    with pytest.raises(ConfigError, match="lr_schedule"):
        MLPConfig(lr_schedule=((5, 2.0), (3, 3.0)))
    with pytest.raises(ConfigError, match="sizes"):
        MLPConfig(sizes=(784,))
    m = DeviceMLP(MLPConfig(sizes=(6, 4, 3)), TileConfig(device="ideal", read_noise=False))
    assert [t.shape for t in m.tiles] == [(4, 7), (3, 5)]  # bias column included


def test_ideal_device_matches_a_float_reference_step():
    """One SGD step on a fine-step ideal device moves the weights as float backprop of the same network."""
    cfg = MLPConfig(sizes=(5, 4, 3), lr=0.5)
    ws = float_mlp_weights(cfg, torch.Generator().manual_seed(0))
    m = DeviceMLP(cfg, TileConfig(device="ideal", device_overrides={"step_s": 1e-12}, w_max=2.0, read_noise=False,
                                   update_rule="deterministic"), weights=ws)
    x = torch.rand(1, 5, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([2])
    w1, w2 = (w.clone().requires_grad_(True) for w in ws)
    xb = torch.cat([x.double(), torch.ones(1, 1, dtype=torch.float64)], 1)
    h = torch.sigmoid(xb @ w1.T)
    logits = torch.cat([h, torch.ones(1, 1, dtype=torch.float64)], 1) @ w2.T
    torch.nn.functional.cross_entropy(logits, y).backward()
    m.train_step(x, y, 0.5)
    torch.testing.assert_close(m.weights()[0], ws[0] - 0.5 * w1.grad, atol=1e-6, rtol=0)
    torch.testing.assert_close(m.weights()[1], ws[1] - 0.5 * w2.grad, atol=1e-6, rtol=0)


@pytest.mark.parametrize("rule", ["fractional", "stochastic"])
def test_learns_the_embedded_sample_through_a_lookup_table(sample, rule):
    x, y = sample
    n = x.shape[0] // 2
    g = torch.Generator().manual_seed(0)
    m = DeviceMLP(MLPConfig(sizes=(784, 32, 10), lr=0.2, lr_schedule=()),
                  TileConfig(device="lookup-table", read_noise=False, update_rule=rule),
                  device=synthetic_lookup_table_device(), generator=g)
    before = m.accuracy(x[n:], y[n:])
    for ep in range(3):
        m.train_epoch(x[:n], y[:n], ep)
    after = m.accuracy(x[n:], y[n:])
    assert after > 0.4 and after > before + 0.25  # chance: 0.1; a coarse 20-step synthetic device
    assert m.program_energy_j >= 0.0 and m.samples_seen == 3 * n


def _pair(rule, compiled, **tile):
    cfg = MLPConfig(sizes=(784, 16, 10), lr=0.3, lr_schedule=())
    tile = {"read_noise": False, **tile}
    return DeviceMLP(cfg, TileConfig(device="lookup-table", update_rule=rule, **tile),
                     device=synthetic_lookup_table_device(), generator=torch.Generator().manual_seed(3),
                     compiled=compiled)


@pytest.mark.parametrize("rule", ["fractional", "deterministic", "stochastic"])
def test_compiled_epoch_matches_per_sample_steps(sample, rule):
    """The compiled training loop is train_step's rule and random stream: the same weights (float32 rounding
    of the activations aside) and energies after a few samples."""
    x, y = sample
    runs = {}
    for compiled in (False, True):
        m = _pair(rule, compiled)
        assert m.compiled_path() is compiled
        m.train_epoch(x[:6], y[:6], 0)
        runs[compiled] = m
    a, b = runs[False], runs[True]
    for wa, wb in zip(a.weights(), b.weights(), strict=True):
        torch.testing.assert_close(wb, wa, atol=1e-5 * float(wa.abs().max()), rtol=0)
    assert b.samples_seen == a.samples_seen == 6
    assert [t.n_updates for t in b.tiles] == [t.n_updates for t in a.tiles] == [6, 6]
    assert b.read_energy_j == pytest.approx(a.read_energy_j, rel=1e-5)
    assert b.program_energy_j == pytest.approx(a.program_energy_j, rel=1e-5)
    # the weight caches written in place by the compiled loop are the conductances' weights
    for t in b.tiles:
        w, row_g = (v.clone() for v in t.weight_cache())
        t.invalidate_weight_cache()
        torch.testing.assert_close(t.weight_cache()[0], w, atol=1e-6 * float(w.abs().max()), rtol=0)
        torch.testing.assert_close(t.weight_cache()[1], row_g, rtol=1e-9, atol=0)


def test_compiled_path_only_where_it_applies():
    assert not _pair("fractional", True, read_noise=True).compiled_path()
    assert not _pair("fractional", True, adc_bits=6).compiled_path()
    m = DeviceMLP(MLPConfig(sizes=(8, 4, 4, 3)), TileConfig(device="lookup-table", read_noise=False),
                  device=synthetic_lookup_table_device())
    assert not m.compiled_path()  # three layers: per-sample steps
    m = DeviceMLP(MLPConfig(sizes=(8, 4, 3), batch_size=2), TileConfig(device="lookup-table", read_noise=False),
                  device=synthetic_lookup_table_device())
    assert not m.compiled_path()
    assert not DeviceMLP(MLPConfig(sizes=(8, 4, 3)), TileConfig(device="ideal", read_noise=False)).compiled_path()


def test_compiled_epoch_carries_and_reports_progress(sample):
    """Segments end at every callback and every due carry: same counts of updates and carries as the
    per-sample loop would make, progress reported at the same sample counts."""
    x, y = sample
    m = _pair("fractional", True, n_significance=2, carry_every=7)
    seen: list[int] = []
    m.train_epoch(x[:40], y[:40], 0, callback=seen.append, callback_every=10)
    assert seen == [10, 20, 30, 40]
    assert [t.n_updates for t in m.tiles] == [40, 40]
    assert all(t.n_carries >= 1 for t in m.tiles)
    assert m.samples_seen == 40


def test_state_dict_round_trip_continues_identically(sample):
    x, y = sample
    a = _pair("stochastic", True, n_significance=2, carry_every=5)
    a.train_epoch(x[:12], y[:12], 0, order=torch.arange(12))
    snap, gen = a.state_dict(), a.generator.get_state()
    b = _pair("stochastic", True, n_significance=2, carry_every=5)
    b.load_state_dict(snap)
    b.generator.set_state(gen)
    assert [t.n_updates for t in b.tiles] == [12, 12] and b.samples_seen == 12
    for m in (a, b):
        m.train_epoch(x[12:30], y[12:30], 0, order=torch.arange(18))
    for wa, wb in zip(a.weights(), b.weights(), strict=True):
        torch.testing.assert_close(wb, wa, rtol=0, atol=0)
    assert b.program_energy_j == a.program_energy_j
    assert b.read_energy_j == pytest.approx(a.read_energy_j, rel=1e-9)  # row sums re-summed after the load
    with pytest.raises(ConfigError, match="layers"):
        DeviceMLP(MLPConfig(sizes=(784, 10)), TileConfig(device="ideal", read_noise=False)).load_state_dict(snap)


def test_compiled_epoch_refuses_bad_shapes_and_labels(sample):
    x, y = sample
    m = _pair("stochastic", True)
    with pytest.raises(ConfigError, match=r"x must be \[N, 784\]"):
        m.train_epoch(x[:4, :700], y[:4], 0)
    with pytest.raises(ConfigError, match="labels"):
        m.train_epoch(x[:4], torch.tensor([0, 1, 2, 10]), 0)
    with pytest.raises(ConfigError, match="order"):
        m.train_epoch(x[:4], y[:4], 0, order=torch.tensor([0, 4]))
    assert m.samples_seen == 0
