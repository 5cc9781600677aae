"""dw-cnn-inference (paper 002, Fig. 6): the quick preset end to end, the mapping onto notch pairs, and the paper
preset's ResNet56 x4 on CIFAR-100-format data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from _quick_runs import SEED, locked, quick_run
from spinaptic.config import ConfigError
from spinaptic.devices.notch_programming import NotchLevels, NotchLevelsConfig, build_transition_table
from spinaptic.experiments import run_experiment
from spinaptic.experiments._dw_cnn_inference_config import PRESETS, DWCNNInferenceConfig
from spinaptic.experiments.base import VOLATILE_FIELDS, get_experiment, resolve_config
from spinaptic.experiments.dw_cnn_inference import load_split, program_model, to_analog
from spinaptic.networks.resnet import ResNetConfig, build_model, count_weights, fold_batchnorm
from spinaptic.nn.analog_linear import AnalogLinear, analog_layers
from test_comparisons import assert_rows_honest
from test_data import _write_cifar100, patch_info


@pytest.fixture(scope="module")
def quick():
    return quick_run("dw-cnn-inference")


def _curve(doc, factor: str) -> dict[int, float]:
    return {int(n): v["mean"] for n, v in doc["metrics"]["sweep"][factor].items()}


def test_quick_preset_writes_its_outputs_and_rows(quick):
    out, doc = quick
    for f in ("p002_fig6a_conductance_histogram.png", "p002_fig6b_accuracy_vs_notches.png", "weight_mapping.png",
              "notch_transition_table.png"):
        assert f in doc["figures"] and (out / f).stat().st_size > 1000, f
    assert json.loads((out / "result.json").read_text())["experiment"] == "dw-cnn-inference"
    summary = (out / "summary.md").read_text()
    assert "Against the paper" in summary and "Table 1 (paper 002) and our device model" in summary
    assert_rows_honest(doc)
    rows = {r["quantity"]: r for r in doc["comparisons"]}
    paper = [r for r in rows.values() if r["kind"] == "paper"]
    fig6b = [r for r in paper if r["source"].startswith("Fig. 6b")]
    assert len(fig6b) == 3 and all(r["verdict"] == "not-comparable" for r in fig6b)  # MNIST sample, not CIFAR-100
    assert not any("73.9" in str(r["paper"]) for r in paper)  # the software accuracy is a paper-preset row only
    kinds = {r["kind"] for r in rows.values()}
    assert kinds == {"paper", "check", "calibrated"}
    sig = next(r for r in paper if r["quantity"].startswith("sigma_G"))
    assert sig["verdict"] in ("pass", "short") and len(sig["ours"]) == 5
    wv = next(r for q, r in rows.items() if q.startswith("write-and-verify: devices on"))
    assert wv["verdict"] == "pass"
    tab = doc["tables"]["Table 1 (paper 002) and our device model"]
    assert tab[0]["source"] == "this run" and tab[1]["device"] == "DW-MTJ (this work)" and len(tab) == 11


def test_accuracy_rises_with_notches_and_noise_orders_the_curves(quick):
    _, doc = quick
    m = doc["metrics"]
    ideal, measured, tenx = _curve(doc, "0x"), _curve(doc, "1x"), _curve(doc, "10x")
    assert m["float_accuracy"] > 85.0  # the tiny CNN learns the MNIST sample
    assert ideal[2] < ideal[4] < ideal[16] and ideal[32] > ideal[2] + 30
    assert ideal[16] > 0.9 * m["float_accuracy_sweep_subset"]
    for n in (8, 16, 32):
        assert abs(measured[n] - ideal[n]) < 5.0  # the measured noise costs little
        assert tenx[n] < measured[n] - 10.0  # ten times more costs much
    assert all(v["on_target"] == 1.0 for v in m["programming"].values())
    assert m["programming"]["32/0x"]["pulses_per_device"] > m["programming"]["4/0x"]["pulses_per_device"]


def test_rerun_resumes_every_stage_and_reproduces(quick):
    out, doc = quick
    with locked("dw-cnn-inference"):
        again = run_experiment("dw-cnn-inference", preset="quick", seed=SEED, out_dir=out, quiet=True, threads=1)
        again = json.loads((out / "result.json").read_text()) | {"resume": again["resume"]}
    assert again["resume"]["computed_stages"] == [] and len(again["resume"]["resumed_stages"]) > 20

    def stable(d):
        return {k: v for k, v in d.items() if k not in VOLATILE_FIELDS}

    assert json.dumps(stable(again), sort_keys=True) == json.dumps(stable(doc), sort_keys=True)


def test_every_layer_is_converted_and_mapped_as_a_differential_pair():
    cfg = PRESETS["quick"]
    table = build_transition_table(amplitudes_v=torch.linspace(1.2, 2.0, 9, dtype=torch.float64), replicas=16)
    model = fold_batchnorm(build_model(ResNetConfig(depth=8, n_classes=10), generator=torch.Generator().manual_seed(0)))
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y_float = model(x)
    dev = NotchLevels(NotchLevelsConfig(n_levels=64, write_noise_s=0.0), table=table)
    targets = {k: m.weight.detach().reshape(m.weight.shape[0], -1)
               for k, m in enumerate(m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear))}
    gen = torch.Generator().manual_seed(2)
    analog = to_analog(model, dev, cfg, gen)
    layers = list(analog_layers(analog))
    assert len(layers) == len(targets) == 8 and not any(
        isinstance(m, nn.Conv2d | nn.Linear) and not isinstance(m, AnalogLinear) for m in analog.modules())
    stats = program_model(analog, targets, dev, cfg, gen)
    assert stats["on_target"] == 1.0 and stats["energy_j"] > 0
    for k, layer in enumerate(layers):
        notch = layer.tile.state["notch"][0]
        assert bool(((notch[0] == 0) | (notch[1] == 0)).all())  # one device at the magnitude, one at G_min
        assert layer.tile.w_max == pytest.approx(float(targets[k].abs().max()))  # per-layer symmetric scale
        err = (layer.tile.weights() - targets[k].double()).abs().max()
        assert float(err) <= 0.5 * layer.tile.w_max / 63 + 1e-9  # 64 levels: within half a level
    with torch.no_grad():
        y = analog(x)
    assert float((y - y_float).abs().max()) < 0.1 * float(y_float.abs().max())


def test_configs_validate_before_running():
    spec = get_experiment("dw-cnn-inference")
    assert set(spec.presets) == {"quick", "cpu", "paper"}
    paper = resolve_config(spec, "paper")
    assert (paper.dataset, paper.network.depth, paper.network.width, paper.network.n_classes) == ("cifar100", 56, 4, 100)
    assert paper.write_noise_s == 2.53e-6 and paper.noise_factors == (0.0, 1.0, 10.0) and not paper.read_noise
    assert 16 in paper.notches and not paper.paper_conditions_differ()
    assert resolve_config(spec, "cpu", {"notches": "4,16"}).notches == (4, 16)
    with pytest.raises(ConfigError, match="notches"):
        DWCNNInferenceConfig(notches=(16, 4))
    with pytest.raises(ConfigError, match="n_classes = 100"):
        DWCNNInferenceConfig(dataset="cifar100")
    with pytest.raises(ConfigError, match="noise_factors"):
        DWCNNInferenceConfig(noise_factors=(1.0, 0.0))
    with pytest.raises(ConfigError, match="n_test_sweep"):
        DWCNNInferenceConfig(n_test=100, n_test_sweep=200)
    with pytest.raises(ConfigError, match="6n \\+ 2"):
        ResNetConfig(depth=21)


def test_paper_resnet56x4_runs_on_cifar100_format_data(monkeypatch, tmp_path):
    patch_info(monkeypatch, "cifar100", n_train=8, n_test=4)
    _write_cifar100(tmp_path / "d" / "cifar-100-python")
    cfg = PRESETS["paper"]
    x, y = load_split(cfg, "test", cfg.n_test, data_dir=tmp_path / "d")
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32 and int(y.max()) < 100
    model = build_model(cfg.network, generator=torch.Generator().manual_seed(0)).eval()
    assert count_weights(model) == pytest.approx(13.7e6, rel=0.02)  # the paper's "13.7M floating-point weights"
    with torch.no_grad():
        out = fold_batchnorm(model)(x[:2])
    assert out.shape == (2, 100) and bool(torch.isfinite(out).all())
    assert np.isfinite(float(out.std())) and float(out.std()) > 0
