"""Papers 001/003 experiments: one Table I definition, one track calibration, targets as config, honest labels."""

import numpy as np
import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices.dw_synapse import DWSynapseConfig
from spinaptic.devices.lookup_table import (
    cycle_to_cycle,
    ramp_polarity,
    ramp_table_i_figures,
    table_from_ramps,
    table_i_figures,
)
from spinaptic.physics import domain_wall as dw
from spinaptic.physics.dw_tracks import LIU_CURRENT_SCALE, LIU_SOT_NOTCH, LIU_STT_NOTCH, liu2021_current_scale


def _ramps(seed=0, n=12, p=10):
    rng = np.random.default_rng(seed)
    steps = np.concatenate([np.abs(rng.normal(1.0, 0.3, (n, p))), -np.abs(rng.normal(1.0, 0.3, (n, p)))], axis=1)
    return np.concatenate([np.zeros((n, 1)), np.cumsum(steps, axis=1)], axis=1), ramp_polarity(p, p)


def test_one_definition_for_ramps_and_tables():
    g, pol = _ramps()
    a = ramp_table_i_figures(g, pol, n_traj=200, generator=torch.Generator().manual_seed(1))
    b = table_i_figures(table_from_ramps(g, pol), n_traj=200, generator=torch.Generator().manual_seed(1))
    assert a["c2c_percent"] == b["c2c_percent"] and a["nl_plus"] == b["nl_plus"]
    # invariant under the linear position -> conductance map (dw-dynamics works on the area fraction,
    # dw-lookup-tables on G = f G_P + (1 - f) G_AP): the two experiments report the same number
    c = ramp_table_i_figures(60e-6 + 2.5e-6 * g, pol, n_traj=200, generator=torch.Generator().manual_seed(1))
    assert c["c2c_percent"] == pytest.approx(a["c2c_percent"], rel=1e-9)
    assert cycle_to_cycle(table_from_ramps(g, pol))["c2c"] * 100 == pytest.approx(a["c2c_percent"])


def test_one_track_calibration_shared_by_both_experiments():
    from spinaptic.experiments.dw_dynamics import paper_pulse
    from spinaptic.experiments.dw_lookup_tables import DWLookupTablesConfig, preset_params

    cfg = DWLookupTablesConfig()
    stt, sot = dw.liu2021_stt_track(), dw.liu2021_sot_track()
    assert (cfg.stt_notch_depth_j, cfg.stt_notch_width_m) == (stt.notch_depth_j, stt.notch_width_m)
    assert (cfg.sot_notch_depth_j, cfg.sot_notch_width_m) == (sot.notch_depth_j, sot.notch_width_m)
    assert (stt.notch_depth_j, sot.notch_depth_j) == (LIU_STT_NOTCH["notch_depth_j"], LIU_SOT_NOTCH["notch_depth_j"])
    assert cfg.stt_current_scale == liu2021_current_scale(stt) and cfg.sot_current_scale == liu2021_current_scale(sot)
    assert preset_params("sot").current_scale == LIU_CURRENT_SCALE["liu2021-sot"]
    assert paper_pulse(sot).amplitude_a == pytest.approx(27e-6 * cfg.sot_current_scale)
    assert paper_pulse(stt).amplitude_a == pytest.approx(50e-6 * cfg.stt_current_scale)
    assert DWSynapseConfig.preset("liu2021-sot").nominal_amplitude == pytest.approx(paper_pulse(sot).amplitude_a)
    assert liu2021_current_scale(dw.sengupta2016_track()) == 1.0


def test_targets_are_validated_config_fields():
    from spinaptic.experiments.dw_dynamics import DWDynamicsConfig, DWDynamicsTargets
    from spinaptic.experiments.dw_lookup_tables import DWLookupTablesConfig, DWLookupTablesTargets

    assert DWDynamicsConfig().targets.fig9c_max_dev == 0.05
    assert DWLookupTablesConfig().targets.spread_factor == 1.3
    with pytest.raises(ConfigError, match="dx_r2_min"):
        DWDynamicsTargets(dx_r2_min=1.5)
    with pytest.raises(ConfigError, match="spread_factor"):
        DWLookupTablesTargets(spread_factor=0.5)


def test_paper001_energy_is_supply_times_current_times_width():
    # identity (left the comparisons): E = V_DD I t with the paper's 600 mV and 1 ns
    assert 0.6 * 80e-6 * 1e-9 == pytest.approx(48e-15)


def test_labels_follow_the_run(tmp_path):
    from spinaptic.experiments import run_experiment

    doc = run_experiment("dw-dynamics", out_dir=tmp_path / "run", quiet=True, overrides={
        "temperatures_k": [0.0], "n_ramps": 1, "n_j": 3, "n_fig9c": 3, "i_max_fig9c_a": 40e-6,
        "drift_time_s": 5e-9, "n_drift_tracks": 4, "dx_repeats": 1, "dx_temperature_k": 0.0, "n_traj": 20,
        "i_sweep_step_a": 5e-6})
    rows = {c["quantity"]: c for c in doc["comparisons"]}
    fig9c = [c for q, c in rows.items() if "Fig. 9c" in q]
    assert fig9c and all(c["verdict"] == "not-comparable" for c in fig9c)
    drift = [c for q, c in rows.items() if q.startswith("smooth STT track")]
    assert drift[0]["verdict"] == "not-comparable" and "in 5 ns" in drift[0]["quantity"]
    assert not any("Table I" in q for q in rows)  # no 300 K ramps: no Table I rows
    assert all(c["kind"] in ("paper", "reference", "check", "calibrated") for c in doc["comparisons"])
