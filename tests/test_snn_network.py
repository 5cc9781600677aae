"""The STDP network of paper 001: compiled vs protocol path, resume, any device, encoding, rule signs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from _synthetic import synthetic_lookup_table_device
from spinaptic.config import ConfigError
from spinaptic.devices import synapse_device_names
from spinaptic.networks.snn import STDPNetwork, diehl_cook, sengupta2016
from spinaptic.networks.snn import _kernels as K
from spinaptic.networks.snn.config import step_jump


def _images(n: int, n_in: int = 784, seed: int = 0) -> torch.Tensor:
    """Blob images: a bright patch at one of 4 places (so neurons have something to learn)."""
    g = torch.Generator().manual_seed(seed)
    side = int(round(n_in ** 0.5))
    x = torch.zeros(n, side, side, dtype=torch.float64)
    cls = torch.randint(0, 4, (n,), generator=g)
    h = max(side // 2, 1)
    for k in range(4):
        r, c = divmod(k, 2)
        x[cls == k, r * h:(r + 1) * h, c * h:(c + 1) * h] = 1.0
    x = (x + 0.1 * torch.rand(x.shape, generator=g)).clamp(0, 1)
    return x.reshape(n, -1)


def _small(**changes):
    return diehl_cook(n_exc=12, max_presentations=3, **changes)


def test_compiled_path_equals_protocol_path():
    x = _images(12)
    nets = []
    for compiled in (False, True):
        net = STDPNetwork(_small(), replicas=2, generator=torch.Generator().manual_seed(5), compiled=compiled)
        assert net.compiled_path() is compiled
        net.train(x, chunk=5)
        nets.append(net)
    a, b = nets
    for k in ("presentations", "exc_spikes", "inh_spikes", "synaptic_events"):
        assert a.counters[k] == b.counters[k], k
    assert a.counters["exc_spikes"] > 0 and a.counters["synaptic_events"] > 0
    np.testing.assert_allclose(a.w, b.w, atol=1e-12)
    np.testing.assert_allclose(a.counters["supply_energy_j"], b.counters["supply_energy_j"], rtol=1e-9)
    np.testing.assert_array_equal(a.theta().numpy(), b.theta().numpy())


@pytest.mark.parametrize("compiled", [True, False])
def test_resume_from_state_dict_is_exact(compiled):
    x = _images(16, seed=1)
    ref = STDPNetwork(_small(), generator=torch.Generator().manual_seed(2), compiled=compiled)
    ref.train(x)
    half = STDPNetwork(_small(), generator=torch.Generator().manual_seed(2), compiled=compiled)
    half.train(x[:8])
    sd = half.state_dict()
    resumed = STDPNetwork(_small(), generator=torch.Generator().manual_seed(99), compiled=compiled)
    resumed.load_state_dict(sd)
    resumed.train(x[8:])
    np.testing.assert_array_equal(ref.w, resumed.w)
    for k, v in ref.counters.items():  # energies are sums over stretches: equal up to summation order
        assert resumed.counters[k] == pytest.approx(v, rel=1e-12), k


@pytest.mark.parametrize("name", synapse_device_names())
def test_any_synapse_device_learns_through_the_protocol(name):
    """Every registered synapse device drops in (16 inputs: the 1D-model devices are costly per pulse)."""
    cfg = diehl_cook(n_inputs=16, n_exc=3, steps_per_image=60, rest_steps=20, max_presentations=2, synapse=name,
                     input_scale=step_jump(8.0, 1e-3, 1e-3), norm_target=1.6, min_spikes=1)
    dev = synthetic_lookup_table_device() if name == "lookup-table" else None
    net = STDPNetwork(cfg, generator=torch.Generator().manual_seed(0), synapse=dev)
    w0 = net.w.copy()
    net.train(_images(3, n_in=16))
    assert net.counters["exc_spikes"] > 0
    assert np.isfinite(net.w).all()
    assert not np.array_equal(w0, net.w), "no synapse was programmed"
    counts = net.responses(_images(2, n_in=16, seed=4))
    assert counts.shape == (1, 2, 3)


def test_stdp_potentiates_inputs_active_before_post_spikes():
    """With the negative window off and no normalisation, only inputs that spiked before a post spike grow."""
    cfg = _small(normalisation="none", stdp=dataclasses.replace(diehl_cook().stdp, eta_pre=0.0, triplet=False))
    net = STDPNetwork(cfg, generator=torch.Generator().manual_seed(3))
    w0 = net.w.copy()
    x = torch.zeros(4, 784, dtype=torch.float64)
    x[:, :300] = 1.0
    net.train(x)
    dw = net.w - w0
    assert dw[0, :300].max() > 0 and dw.min() >= -1e-12
    np.testing.assert_array_equal(dw[0, 300:], 0.0)


def test_depression_only_rule_lowers_weights():
    cfg = _small(normalisation="none", stdp=dataclasses.replace(diehl_cook().stdp, eta_post=0.0, eta_pre=0.05,
                                                                 triplet=False))
    net = STDPNetwork(cfg, generator=torch.Generator().manual_seed(3))
    w0 = net.w.copy()
    x = torch.zeros(4, 784, dtype=torch.float64)
    x[:, :300] = 1.0
    net.train(x)
    dw = net.w - w0
    assert dw.max() <= 1e-12 and dw[0, :300].min() < 0


def test_poisson_encoding_is_bernoulli_per_step():
    n_steps, p = 350, np.array([0.0, 0.01, 0.06375, 0.3, 1.0])
    rates = np.repeat(p, 200)
    ptr = np.zeros(n_steps + 1, dtype=np.int64)
    idx = np.zeros(rates.size * n_steps, dtype=np.int32)
    times = np.zeros(rates.size * n_steps, dtype=np.int64)
    n = K.encode(rates, n_steps, np.uint64(12345), ptr, idx, times)
    assert ptr[-1] == n
    per_input = np.bincount(idx[:n], minlength=rates.size).reshape(len(p), -1)
    mean = per_input.mean(axis=1)
    sd = np.sqrt(n_steps * p * (1 - p) / 200)
    assert np.all(np.abs(mean - n_steps * p) <= 5 * sd + 1e-12)
    var = per_input.var(axis=1, ddof=1)[1:4]
    np.testing.assert_allclose(var, n_steps * p[1:4] * (1 - p[1:4]), rtol=0.35)
    for t in range(n_steps):  # ascending inputs within a step, no input twice in a step
        s = idx[ptr[t]:ptr[t + 1]]
        assert np.all(np.diff(s) > 0)


def test_responses_are_reproducible_and_batched_over_replicas():
    net = STDPNetwork(_small(), replicas=3, generator=torch.Generator().manual_seed(1))
    x = _images(5, seed=2)
    g = net.generator.get_state()
    a = net.responses(x)
    net.generator.set_state(g)
    b = net.responses(x)
    assert a.shape == (3, 5, 12) and torch.equal(a, b)
    assert not torch.equal(a[0], a[1])


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="normalisation"):
        diehl_cook(normalisation="sometimes")
    with pytest.raises(ConfigError, match="window_s"):
        diehl_cook(stdp=dataclasses.replace(diehl_cook().stdp, window_s=1e-4))
    with pytest.raises(ConfigError, match="variation"):
        STDPNetwork(diehl_cook(n_exc=2, synapse="ideal", variation=0.1))
    with pytest.raises(ConfigError, match="images"):
        STDPNetwork(_small()).train(torch.zeros(2, 10))
    with pytest.raises(ConfigError, match="dt_s"):
        sengupta2016(dt_s=1.0)


def test_variation_spreads_the_read_conductance():
    net = STDPNetwork(diehl_cook(n_exc=4, variation=0.25), generator=torch.Generator().manual_seed(0))
    r_p = 1.0 / net.state["g_p"]  # the variation is on the resistance (paper 001: oxide thickness)
    rel = (r_p / r_p.mean()).std()
    assert 0.23 < float(rel) < 0.27


def test_annealed_amplitudes_do_not_depend_on_how_train_is_called():
    stdp = dataclasses.replace(diehl_cook().stdp, anneal_images=400.0)
    x = _images(10, seed=6)
    one = STDPNetwork(_small(stdp=stdp), generator=torch.Generator().manual_seed(4))
    one.train(x)
    two = STDPNetwork(_small(stdp=stdp), generator=torch.Generator().manual_seed(4))
    two.train(x[:3])
    two.train(x[3:])
    np.testing.assert_array_equal(one.w, two.w)
    assert one.net[3] < diehl_cook().stdp.eta_post
