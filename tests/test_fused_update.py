"""`arrays.fused_update`: the compiled update path of lookup-table tiles against the generic tensor path."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import torch

from _synthetic import synthetic_lookup_table_device
from spinaptic.arrays import AnalogTile, TileConfig
from spinaptic.devices.lookup_table import LookupTable, LookupTableDevice
from spinaptic.nn import AnalogLayerConfig, AnalogLinear, DeviceSGD


def _deterministic_device(n_inst: int = 3) -> LookupTableDevice:
    """Every pulse moves G by a fixed, G-dependent step (no cycle-to-cycle spread): both paths must agree
    exactly once the pulse counts agree."""
    k, m = 5, 41
    g = np.stack([np.linspace(10e-6, 50e-6, m) * (1 + 0.1 * d) for d in range(n_inst)])
    inc = np.broadcast_to((1e-6 + 0.02 * (50e-6 - g))[:, None, :], (n_inst, k, m)).copy()
    dec = np.broadcast_to((-1e-6 - 0.02 * (g - 10e-6))[:, None, :], (n_inst, k, m)).copy()
    return LookupTableDevice(table=LookupTable(g, np.linspace(0, 1, k), inc, dec, name="fixed-step"), init="mid")


def _pair(cfg: TileConfig, dev: LookupTableDevice, shape=(12, 30), seed: int = 0) -> tuple[AnalogTile, AnalogTile]:
    w0 = 0.3 * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    tiles = [AnalogTile(shape, cfg, weights=w0, device=dev, generator=torch.Generator().manual_seed(seed + 1),
                        fused=f) for f in (True, False)]
    assert tiles[0]._fused_path() is not None and tiles[1]._fused_path() is None
    torch.testing.assert_close(tiles[0].weights(), tiles[1].weights(), rtol=0, atol=0)
    return tiles[0], tiles[1]


def _factors(shape, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape[1], generator=g) * (torch.rand(shape[1], generator=g) < 0.3)
    d = torch.randn(shape[0], generator=g)
    return x, d


@pytest.mark.parametrize("n_significance", [1, 3])
def test_deterministic_rule_matches_the_generic_path_exactly(n_significance):
    cfg = TileConfig(device="lookup-table", w_max=2.0, read_noise=False, update_rule="deterministic",
                     n_significance=n_significance, carry_every=3)
    fused, ref = _pair(cfg, _deterministic_device())
    for step in range(12):
        x, d = _factors(fused.shape, step)
        e1 = fused.update_outer(x, d, -0.2)
        e2 = ref.update_outer(x, d, -0.2)
        assert e1 == pytest.approx(e2)
        dense = 0.1 * torch.randn(fused.shape, generator=torch.Generator().manual_seed(100 + step), dtype=torch.float64)
        fused.update(dense)
        ref.update(dense)
    torch.testing.assert_close(fused.weights(), ref.weights(), rtol=0, atol=1e-5)
    assert fused.n_carries == ref.n_carries
    if n_significance > 1:
        assert fused.n_carries > 0
    # the cache and read-energy row sums stay consistent with the conductances
    w, row_g = fused.weight_cache()
    torch.testing.assert_close(w, fused.weights().to(torch.float32), rtol=0, atol=1e-6)
    torch.testing.assert_close(row_g, fused._g_tensor().sum(dim=(0, 1, 2)), rtol=1e-9, atol=1e-15)
    x = torch.rand(3, fused.shape[1], generator=torch.Generator().manual_seed(9))
    (y1, en1), (y2, en2) = fused.mvm(x), ref.mvm(x)
    torch.testing.assert_close(y1, y2, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(en1.to(torch.float64), en2.to(torch.float64), rtol=1e-6, atol=0)


def test_stochastic_rule_has_the_generic_paths_distribution():
    """Many weights, the same small updates: mean and spread of the weights and of the programming energy
    agree between the paths within a few standard errors (the random streams differ)."""
    dev = synthetic_lookup_table_device()
    cfg = TileConfig(device="lookup-table", w_max=1.0, read_noise=False)
    shape = (64, 100)
    fused, ref = _pair(cfg, dev, shape=shape)
    x = torch.linspace(0.0, 1.0, shape[1])
    d = torch.linspace(-1.0, 1.0, shape[0])
    for step in range(20):
        fused.update_outer(x, d, 0.02, generator=torch.Generator().manual_seed(step))
        ref.update_outer(x, d, 0.02, generator=torch.Generator().manual_seed(step))
    dw = fused.weights() - ref.weights()
    n = dw.numel()
    se = float((fused.weights().var() + ref.weights().var()).sqrt()) / n**0.5
    assert abs(float(dw.mean())) < 4 * se
    # per-row means follow the requested drift in both paths
    drift_f, drift_r = fused.weights().mean(1), ref.weights().mean(1)
    assert float((drift_f - drift_r).abs().max()) < 0.05
    assert float(torch.corrcoef(torch.stack([drift_f, d.double()]))[0, 1]) > 0.9


def test_reproducible_from_the_seed_and_independent_of_the_thread_count():
    dev = synthetic_lookup_table_device()
    cfg = TileConfig(device="lookup-table", w_max=1.0, read_noise=False, n_significance=2, carry_every=2)
    results = []
    threads0 = numba.get_num_threads()
    try:
        for threads in (1, max(1, min(2, numba.config.NUMBA_NUM_THREADS)), 1):
            numba.set_num_threads(threads)
            tile, _ = _pair(cfg, dev)
            gen = torch.Generator().manual_seed(5)
            for step in range(6):
                x, d = _factors(tile.shape, step)
                tile.update_outer(x, d, 0.3, generator=gen)
            results.append(tile.weights())
    finally:
        numba.set_num_threads(threads0)
    for r in results[1:]:
        torch.testing.assert_close(r, results[0], rtol=0, atol=0)


def test_bounds_hold_on_the_fused_path():
    dev = synthetic_lookup_table_device()
    tile, _ = _pair(TileConfig(device="lookup-table", w_max=1.0, read_noise=False), dev)
    for step in range(40):
        tile.update(torch.full(tile.shape, 0.5 if step < 20 else -0.5, dtype=torch.float64),
                    generator=torch.Generator().manual_seed(step))
        g = tile.state["g"]
        lo = dev.sampler().g_lo[tile.state["instance"]]
        hi = dev.sampler().g_hi[tile.state["instance"]]
        assert bool(((g >= lo) & (g <= hi)).all())


def test_sgd_fast_path_equals_the_general_optimizer_path():
    """DeviceSGD programs plain SGD from the stored factors; with a clipped gradient (factors no longer
    match) it falls back to the requested Delta-W. With a fixed-step table and deterministic rounding the
    two give the same weights."""
    dev = _deterministic_device()
    cfg = AnalogLayerConfig(TileConfig(device="lookup-table", w_max=2.0, read_noise=False,
                                       update_rule="deterministic"))
    w0 = 0.3 * torch.randn(5, 20, generator=torch.Generator().manual_seed(0))
    layers = [AnalogLinear(20, 5, True, cfg, weight=w0, bias_init=torch.zeros(5), device=dev,
                           generator=torch.Generator().manual_seed(1)) for _ in range(2)]
    opts = [DeviceSGD(m.parameters(), lr=0.5) for m in layers]
    x = torch.rand(8, 20, generator=torch.Generator().manual_seed(2))
    t = torch.rand(8, 5, generator=torch.Generator().manual_seed(3))
    for i in range(8):
        for k, (m, opt) in enumerate(zip(layers, opts, strict=True)):
            opt.zero_grad()
            ((m(x[i:i + 1]) - t[i:i + 1]) ** 2).sum().backward()
            if k == 1:  # an in-place no-op change of the gradient: the factors no longer vouch for it
                m.analog_weight.grad.mul_(1.0)
                assert not m.factors_match_grad()
            else:
                assert m.factors_match_grad()
            opt.step()
    torch.testing.assert_close(layers[0].weight, layers[1].weight, rtol=0, atol=1e-5)
    torch.testing.assert_close(layers[0].bias, layers[1].bias)
    assert layers[0].analog_weight.data_ptr() == layers[0].tile.weight_cache()[0].data_ptr()
    torch.testing.assert_close(layers[0].analog_weight.detach(), layers[0].weight)
    # accumulated gradients of two backward passes are the concatenated factors
    m, opt = layers[0], opts[0]
    opt.zero_grad()
    for i in range(2):
        ((m(x[i:i + 1]) - t[i:i + 1]) ** 2).sum().backward()
    assert m.factors_match_grad() and m._factors[0].shape[0] == 2


# ------------------------------------------------------------------ fractional rule and notched levels
def _noisy_table_device(spread: float, n_levels: int = 0) -> LookupTableDevice:
    """Flat-mean table (1 uS up / -1 uS down on 10..50 uS) with a uniform spread of +-``spread`` uS."""
    k, m = 101, 21
    col = 1e-6 + spread * 1e-6 * np.linspace(-1, 1, k)
    inc = np.broadcast_to(col[None, :, None], (1, k, m)).copy()
    dec = np.broadcast_to(-col[::-1][None, :, None], (1, k, m)).copy()
    g = np.linspace(10e-6, 50e-6, m)[None]
    return LookupTableDevice(table=LookupTable(g, np.linspace(0, 1, k), inc, dec, name="flat"), init="mid",
                             n_levels=n_levels)


@pytest.mark.parametrize("fused", [True, False])
def test_fractional_rule_realises_the_requested_change_with_pulse_statistics(fused):
    """E[Delta-G] = request and Var[Delta-G] = m sigma^2 for m = request / mean step (the variance of m pulses)."""
    dev = _noisy_table_device(spread=0.5)
    cfg = TileConfig(device="lookup-table", w_max=1.0, read_noise=False, update_rule="fractional")
    shape = (50, 200)
    tile = AnalogTile(shape, cfg, weights=torch.zeros(shape), device=dev, generator=torch.Generator().manual_seed(0),
                      fused=fused)
    g0 = tile._g_tensor().clone()
    m = 0.3  # fraction of a mean step
    tile.update(torch.full(shape, m * tile.weight_step, dtype=torch.float64), generator=torch.Generator().manual_seed(1))
    dg = (tile._g_tensor() - g0)[0].sum(0)  # one of the two halves moved per weight
    sigma2 = (0.5e-6) ** 2 / 3  # uniform +-0.5 uS
    assert float(dg.mean()) == pytest.approx(m * 1e-6, rel=0.01)
    assert float(dg.var()) == pytest.approx(m * sigma2, rel=0.08)


def test_fractional_needs_a_device_that_offers_it():
    from spinaptic.config import ConfigError

    with pytest.raises(ConfigError, match="fractional"):
        AnalogTile((2, 3), TileConfig(device="ideal", update_rule="fractional"))


@pytest.mark.parametrize("fused", [True, False])
def test_notched_levels_round_small_updates_away_unless_the_device_is_noisy(fused):
    """Paper 003, Fig. 5e: on a 32-notch device a request of a fifth of a level spacing rounds back to the
    same level on a quiet device, while a noisy one (SOT-like) still moves some weights (both ways, with
    the requested mean direction)."""
    cfg = TileConfig(device="lookup-table", w_max=1.0, read_noise=False, update_rule="fractional")
    shape = (40, 100)
    moved = {}
    for spread in (0.05, 4.0):
        dev = _noisy_table_device(spread=spread, n_levels=32)
        tile = AnalogTile(shape, cfg, weights=torch.zeros(shape), device=dev,
                          generator=torch.Generator().manual_seed(0), fused=fused)
        levels = 10e-6 + (40e-6 / 31) * torch.arange(32, dtype=torch.float64)
        w0 = tile.weights().clone()
        spacing_w = (40e-6 / 31) / tile.g_per_weight
        for step in range(5):
            tile.update(torch.full(shape, 0.2 * spacing_w, dtype=torch.float64),
                        generator=torch.Generator().manual_seed(10 + step))
        g = tile._g_tensor().reshape(-1, 1)
        assert float((g - levels[None]).abs().min(1).values.max()) < 1e-11  # every device on a level
        moved[spread] = float(((tile.weights() - w0).abs() > 1e-9).to(torch.float64).mean())
        if spread > 1:
            assert float((tile.weights() - w0).mean()) > 0
    assert moved[0.05] == 0.0
    assert moved[4.0] > 0.2


@pytest.mark.parametrize("n_significance", [1, 2])
def test_fractional_row_path_equals_the_queued_path(n_significance):
    """The batch-1 fractional update (row by row, no queue) gives bit for bit the conductances and weights of
    the queued dense kernel for the same Delta-W = s d x^T and key."""
    dev = _noisy_table_device(spread=0.5, n_levels=0)
    cfg = TileConfig(device="lookup-table", w_max=1.0, read_noise=False, update_rule="fractional",
                     n_significance=n_significance)
    shape = (16, 40)
    w0 = 0.3 * torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a, b = (AnalogTile(shape, cfg, weights=w0, device=dev, generator=torch.Generator().manual_seed(1))
            for _ in range(2))
    for step in range(3):
        x, d = _factors(shape, 10 + step)
        s = -0.05
        a.update_outer(x, d, s, generator=torch.Generator().manual_seed(step))
        dwm = (d.double() * s)[:, None] * x.double()[None, :]  # the kernel's product, term by term
        fu = b._fused_path()
        w, row_g = b.weight_cache()
        fu.dense(b.state, w, row_g, dwm, b._mode(), torch.Generator().manual_seed(step))
        b._after_fused()
        b.n_updates += 1
    torch.testing.assert_close(a._g_tensor(), b._g_tensor(), rtol=0, atol=0)
    torch.testing.assert_close(a.weight_cache()[0], b.weight_cache()[0], rtol=0, atol=0)
    torch.testing.assert_close(a.weight_cache()[1], b.weight_cache()[1], rtol=1e-12, atol=0)
    assert not torch.equal(a.weights(), w0.to(a.weights().dtype))
