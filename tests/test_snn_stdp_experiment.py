"""snn-stdp (paper 001): the quick preset learns MNIST inside its band, writes its figures, and resumes exactly."""

from __future__ import annotations

import json

import pytest

from _quick_runs import SEED, locked, quick_run
from spinaptic.config import ConfigError
from spinaptic.experiments import run_experiment
from spinaptic.experiments._snn_stdp_config import SNNExperimentConfig
from spinaptic.experiments.base import VOLATILE_FIELDS


@pytest.fixture(scope="module")
def quick():
    return quick_run("snn-stdp")


def test_quick_preset_learns_inside_its_band(quick):
    out, doc = quick
    rows = {c["quantity"]: c for c in doc["comparisons"]}
    band = [r for q, r in rows.items() if "quick band" in q]
    assert band and band[0]["verdict"] == "pass", band
    assert doc["metrics"]["accuracy_all_activity"] >= 70.0
    for fig in ("conductance_maps.png", "stdp_window.png", "confusion_matrix.png", "learning_curve.png", "energy.png"):
        assert (out / fig).stat().st_size > 1000, fig
    paper = {r["quantity"]: r["verdict"] for r in doc["comparisons"] if r["kind"] == "paper"}
    assert sorted(paper.values()) == ["info", "pass"], paper  # 80 uA full-track current (48 fJ follows from it)
    e = doc["metrics"]["energy"]
    assert 0 < e["programming_supply_j_per_image"] < 1e-9 and e["neuron_j_per_training_image"] > 0


def test_rerun_resumes_every_stage_and_reproduces(quick, tmp_path):
    out, doc = quick
    with locked("snn-stdp"):
        run_experiment("snn-stdp", preset="quick", seed=SEED, out_dir=out, quiet=True, threads=1)
        again = json.loads((out / "result.json").read_text())
    stable = lambda d: {k: v for k, v in d.items() if k not in VOLATILE_FIELDS}  # noqa: E731
    assert json.dumps(stable(again), sort_keys=True, default=str) == json.dumps(stable(doc), sort_keys=True,
                                                                               default=str)


def test_config_rejects_bad_values_before_running():
    with pytest.raises(ConfigError, match="network"):
        SNNExperimentConfig(network="brian")
    with pytest.raises(ConfigError, match="curve"):
        SNNExperimentConfig(curve=(5000, 1000))
    with pytest.raises(ConfigError, match="swap_devices"):
        SNNExperimentConfig(swap_devices=("no-such-device",))
