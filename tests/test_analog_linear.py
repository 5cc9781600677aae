"""`spinaptic.nn`: AnalogLinear on every synapse device, convert_to_analog, device optimisers, presets, energy."""

from __future__ import annotations

import copy
import dataclasses
import json
import time

import pytest
import torch
from torch import nn

from _synthetic import synthetic_lookup_table_device
from spinaptic.arrays import TileConfig
from spinaptic.data import load_dataset
from spinaptic.devices import synapse_device_names
from spinaptic.nn import (
    PRESETS,
    AnalogConv2d,
    AnalogLayerConfig,
    AnalogLinear,
    DeviceSGD,
    analog_layers,
    convert_to_analog,
    device_optimizer,
    energy_report,
    preset,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _lookup_table_device():
    return synthetic_lookup_table_device()


@pytest.fixture(scope="module")
def mnist():
    xtr, ytr = load_dataset("mnist-sample", "train", flatten=True)
    xte, yte = load_dataset("mnist-sample", "test", flatten=True)
    return xtr, ytr, xte, yte


def _train(model, opt, xtr, ytr, steps, batch, g, sched=None):
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(xtr), (batch,), generator=g)
        loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    return float(loss.detach())


def _accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


# DW devices integrate the 1D wall model per pulse and compound synapses draw 16 magnets each: fewer steps. dw-continuous (1 MOhm, <= 60 nA per cell)
# is read noiselessly: the 1 uA sense-amplifier noise of the default crossbar swamps its currents.
STEPS = {"dw-notched": 30, "dw-straight": 30, "dw-trapezoid": 30, "dw-continuous": 60, "compound-synapse": 60}
NOISELESS = {"dw-continuous"}


@pytest.mark.parametrize("name", synapse_device_names())
def test_every_synapse_device_learns_mnist(name, mnist):
    xtr, ytr, xte, yte = mnist
    t0 = time.perf_counter()
    torch.manual_seed(0)  # the digital bias takes nn.Linear's initialisation (global RNG)
    g = _gen(0)
    cfg = TileConfig(device=name, w_max=0.5, reference="min", program_iterations=0, read_noise=name not in NOISELESS)
    layer = AnalogLinear(784, 10, config=cfg, weight=torch.zeros(10, 784), generator=g,
                         device=_lookup_table_device() if name == "lookup-table" else None)
    opt = DeviceSGD(layer.parameters(), lr=0.1, generator=g)
    _train(layer, opt, xtr, ytr, STEPS.get(name, 100), 32, g)
    acc = _accuracy(layer, xte, yte)
    rep = energy_report(layer)
    print(f"\n{name}: test accuracy {acc:.3f}, {time.perf_counter() - t0:.1f} s, "
          f"{rep['per_inference_j']:.3g} J/inference, {rep['per_training_sample_j']:.3g} J/training sample")
    assert acc > 0.2
    assert rep["per_inference_j"] > 0 and rep["totals_j"]["total"] > 0
    assert rep["per_training_sample_j"] >= rep["per_inference_j"]


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def test_convert_to_analog_trains_keeps_shapes_and_round_trips_state_dict(mnist):
    xtr, ytr, xte, yte = mnist
    model = convert_to_analog(_mlp(), "ideal", generator=_gen(1))
    layers = list(analog_layers(model))
    assert len(layers) == 2 and not any(isinstance(m, nn.Linear) for m in model.modules())
    assert model(xte[:7]).shape == (7, 10)
    g = _gen(2)
    opt = DeviceSGD(model.parameters(), lr=0.1, momentum=0.5, generator=g)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)
    _train(model, opt, xtr, ytr, 150, 32, g, sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)
    assert _accuracy(model, xte, yte) > 0.6
    # analog_weight mirrors the realised device weights after every step
    for m in layers:
        torch.testing.assert_close(m.analog_weight.detach(), m.weight)
        with pytest.raises(AttributeError):
            m.weight = torch.zeros_like(m.weight)
    # checkpoint: a fresh model loads the device state, w_max and digital biases
    sd = model.state_dict()
    assert any(k.startswith("0.device_state_") for k in sd) and "0.w_max" in sd
    other = convert_to_analog(nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10)), "ideal")
    other.load_state_dict(sd)
    for a, b in zip(analog_layers(model), analog_layers(other), strict=True):
        torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
    model.eval()
    other.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(xte[:20]), other(xte[:20]))
    # a deep copy owns its own devices
    clone = copy.deepcopy(model)
    _train(clone, DeviceSGD(clone.parameters(), lr=0.5), xtr, ytr, 2, 32, _gen(4))
    assert not torch.equal(next(analog_layers(clone)).weight, next(analog_layers(model)).weight)
    # and the loaded model keeps training on its own devices
    opt2 = DeviceSGD(other.parameters(), lr=0.05)
    _train(other, opt2, xtr, ytr, 5, 32, _gen(3))
    assert not torch.equal(next(analog_layers(other)).weight, next(analog_layers(model)).weight)


def test_any_torch_optimizer_programs_devices_and_backward_modes(mnist):
    xtr, ytr, _, _ = mnist
    cfg = dataclasses.replace(preset("compound-synapse-4bit"), backward="transposed-read")
    layer = AnalogLinear(784, 10, config=cfg, generator=_gen(4))
    w0 = layer.weight.clone()
    opt = device_optimizer(torch.optim.Adam)(layer.parameters(), lr=0.01, generator=_gen(5))
    assert isinstance(opt, torch.optim.Adam) and type(opt).__name__ == "DeviceAdam"
    _train(layer, opt, xtr, ytr, 3, 16, _gen(6))
    assert not torch.equal(layer.weight, w0)
    assert opt.last_programming_energy_j > 0
    x = xtr[:8].clone().requires_grad_()  # the input gradient is what the transposed read computes
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    led = layer.ledger.as_dict()
    assert led["read"] > 0 and led["read-backward"] > 0 and led["program"] > 0
    assert layer.ledger.per_event("program") > 0  # programming energy per training sample
    assert layer.energy_per_training_sample() > layer.energy_per_inference() > 0
    # a plain torch optimiser moves only the float mirror, never the devices
    plain = AnalogLinear(784, 10, config="ideal")
    before = plain.weight.clone()
    sgd = torch.optim.SGD(plain.parameters(), lr=0.1)
    _train(plain, sgd, xtr, ytr, 2, 16, _gen(7))
    assert torch.equal(plain.weight, before)


def test_presets_and_json_round_trip():
    assert {"ideal", "dw-stt-300K-1d", "compound-synapse-4bit"} <= set(PRESETS)
    for name, cfg in PRESETS.items():
        text = cfg.to_json()
        assert json.loads(text)["tile"]["device"] == cfg.tile.device
        assert AnalogLayerConfig.from_json(text) == cfg, name
    assert preset("compound-synapse-4bit").tile.device_overrides == {"n_magnets": 16}
    assert preset("ideal", adc_bits=8).tile.adc_bits == 8
    with pytest.raises(ValueError, match="backward"):
        AnalogLayerConfig(backward="exact")
    with pytest.raises(ValueError, match="unknown"):
        AnalogLayerConfig.from_dict({"tile": {}, "bogus": 1})
    layer = AnalogLinear(5, 3, config="compound-synapse-4bit", generator=_gen(8))
    assert layer.tile.levels.numel() == 17  # Q + 1 = 17 levels (eq. 1)


@pytest.mark.parametrize("kernel, stride, padding, dilation", [(3, 1, 1, 1), (1, 2, 0, 1), (3, 2, 1, 2), (5, 1, 0, 1)])
def test_analog_conv2d_inference_path_equals_patch_path(kernel, stride, padding, dilation):
    """The no-grad convolution from the weight cache gives the patch path's outputs and read energy."""
    conv = nn.Conv2d(3, 5, kernel, stride=stride, padding=padding, dilation=dilation)
    a = convert_to_analog(nn.Sequential(conv), "ideal", generator=_gen(3))[0]
    b = copy.deepcopy(a)
    x = torch.randn(4, 3, 11, 11, generator=_gen(4))
    with torch.no_grad():
        fast = a(x)
    slow = b(x)  # grad enabled: the im2col patches through the tile's mvm
    torch.testing.assert_close(fast, slow.detach(), atol=1e-5, rtol=1e-4)
    ea, eb = a.ledger.as_dict()["read"], b.ledger.as_dict()["read"]
    assert ea > 0 and abs(ea - eb) <= 1e-5 * eb
    assert a.ledger.per_event("read") == pytest.approx(b.ledger.per_event("read"), rel=1e-5)


def test_analog_conv2d_matches_conv_and_trains(mnist):
    xtr, ytr, xte, yte = mnist
    torch.manual_seed(1)
    net = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 4, 5, stride=2, padding=1), nn.ReLU(),
                        nn.Flatten(), nn.Linear(4 * 13 * 13, 10))
    ref_kernel = net[1].weight.detach().clone()
    model = convert_to_analog(net, "ideal", generator=_gen(10))
    conv = model[1]
    assert isinstance(conv, AnalogConv2d) and conv.weight.shape == (4, 1, 5, 5)
    # the fine-step ideal device holds the kernel to within half a step of 2 max|W| / 10^4
    assert float((conv.weight - ref_kernel).abs().max()) <= conv.tile.weight_step
    x = xte[:3].reshape(3, 1, 28, 28)
    with torch.no_grad():
        want = nn.functional.conv2d(x, conv.weight, conv.bias, stride=2, padding=1)
        torch.testing.assert_close(conv(x), want, atol=1e-5, rtol=1e-4)
    e0 = conv.ledger.as_dict()["read"]
    with torch.no_grad():
        conv(x)
    assert conv.ledger.as_dict()["read"] > e0 and conv.energy_per_inference() > 0  # per image, all patches
    g = _gen(11)
    opt = DeviceSGD(model.parameters(), lr=0.1, generator=g)
    _train(model, opt, xtr, ytr, 100, 32, g)
    assert _accuracy(model, xte, yte) > 0.5
    other = convert_to_analog(nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 4, 5, stride=2, padding=1),
                                            nn.ReLU(), nn.Flatten(), nn.Linear(4 * 13 * 13, 10)), "ideal")
    other.load_state_dict(model.state_dict())
    torch.testing.assert_close(other[1].weight, conv.weight, rtol=0, atol=0)


def test_pulse_train_layer_learns(mnist):
    xtr, ytr, xte, yte = mnist
    g = _gen(13)
    layer = AnalogLinear(784, 10, config=TileConfig(device="ideal", w_max=0.5, update_rule="pulse-train"),
                         weight=torch.zeros(10, 784), generator=g)
    opt = DeviceSGD(layer.parameters(), lr=0.1, generator=g)
    _train(layer, opt, xtr, ytr, 100, 32, g)
    assert layer._factors is None  # consumed by the step
    assert _accuracy(layer, xte, yte) > 0.6


def test_genuine_table_presets_resolve_from_the_data_directory(monkeypatch, tmp_path):
    from spinaptic.config import ConfigError
    from spinaptic.nn.config import TABLE_PRESETS

    try:
        cfg = preset("dw-stt-300K-mumax3")
    except ConfigError:
        pytest.skip("paper 003's tables are not in the data directories")
    assert cfg.tile.device == "lookup-table" and cfg.tile.device_overrides["path"].endswith("dwmtj_stt_300K.npz")
    assert set(TABLE_PRESETS) >= {"dw-stt-300K-mumax3", "dw-sot-300K-mumax3"}
    layer = AnalogLinear(6, 3, config=cfg, generator=_gen(3))
    assert layer(torch.rand(2, 6)).shape == (2, 3)
    monkeypatch.setenv("SPINAPTIC_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match="needs paper 003's table dwmtj_sot_300K.npz"):
        preset("dw-sot-300K-mumax3")
