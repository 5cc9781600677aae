"""Paper 002 (dw-shapes): the identities that left the comparisons, the trapezoid's calibration, the paper
quotes, and labels / verdicts that follow the run's settings."""

import numpy as np
import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices import make_device
from spinaptic.experiments import dw_shapes as ds
from spinaptic.experiments import run_experiment
from spinaptic.experiments.comparison import find_paper_text, quote_in_text
from spinaptic.physics.dw_tracks import leonard2022_level_notches


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _r_at(dev, q):
    st = dev.init_state((len(q),))
    st["q"] = torch.as_tensor(q, dtype=torch.float64)
    return (1.0 / dev.conductance(st)).tolist()


def test_levels_are_inputs_notch_counts_and_reset_resistance():
    trap, straight = make_device("dw-trapezoid"), make_device("dw-straight")
    tt = trap.config.track
    deep = leonard2022_level_notches(tt)
    assert len(tt.notch_positions_m) == 7 and deep == (0, 4, 6)  # "seven intermediate notches", 3 pin
    assert all(tt.notch_depth_factors[i] < 0.5 for i in range(7) if i not in deep)
    xs = [tt.notch_positions_m[i] for i in deep]
    assert _r_at(trap, xs) == pytest.approx(ds.TRAPEZOID_LEVELS_OHM, abs=0.2)
    assert _r_at(trap, [0.0]) == pytest.approx([trap.config.mtj.r_ap])  # R after a full reset = R_AP = 100 Ohm
    assert trap.config.mtj.r_ap == pytest.approx(100.0)
    st = straight.config.track
    assert leonard2022_level_notches(st) == (0, 1, 2, 3, 4)
    assert _r_at(straight, st.notch_positions_m) == pytest.approx(ds.STRAIGHT_LEVELS_OHM, abs=0.2)


def test_trapezoid_calibration_at_zero_kelvin_and_shallow_notches_passed():
    # The 0 K single-pulse voltages the track is calibrated to (physics.dw_tracks, LEONARD_TRAPEZOID_NOTCH).
    dev = make_device("dw-trapezoid")
    deep = leonard2022_level_notches(dev.config.track)
    v1 = ds.depinning_voltage(dev, deep[0])
    v2 = ds.depinning_voltage(dev, deep[1])
    vr = ds.depinning_voltage(dev, deep[2], -1.0)
    assert v1 == pytest.approx(3.125, rel=0.01)
    assert v2 == pytest.approx(3.615, rel=0.01)
    assert vr == pytest.approx(3.814, rel=0.01)
    bare = make_device("dw-trapezoid", reset_field_t=0.0)
    assert ds.depinning_voltage(bare, deep[2], -1.0) > 6.0  # the -42 mT bias is what brings the reset to 3.7 V
    # A pulse just above V1 moves the wall over the three shallow notches into the second deep one.
    cold = make_device("dw-trapezoid", temperature_k=0.0)
    from spinaptic.devices import Pulses

    st, _ = cold.apply(cold.init_state((1,)), Pulses(1.02 * v1, width_s=50e-9, kind="voltage"))
    assert int(cold.notch_index(st["q"])) == deep[1]


def test_quotes_occur_in_paper_002():
    text = find_paper_text("002")
    if text is None:
        pytest.skip("paper 002 text not found")
    quotes = [getattr(ds, n) for n in dir(ds) if n.startswith("Q_")]
    assert len(quotes) >= 10
    for q in quotes:
        assert quote_in_text(q, text), q


def test_targets_validated():
    with pytest.raises(ConfigError, match="single_shot_min"):
        ds.DWShapesTargets(single_shot_min=1.5)
    with pytest.raises(ConfigError, match="var_factor"):
        ds.DWShapesTargets(var_factor=0.5)
    cfg = ds.DWShapesConfig()
    assert cfg.write_field_t == pytest.approx(0.0) and cfg.reset_field_t == pytest.approx(-38e-3)
    assert not cfg.paper_conditions_differ() and not cfg.bias_differs()


def test_labels_and_verdicts_follow_the_run(tmp_path):
    small = {"trapezoid_devices": 2, "trapezoid_rounds": 2, "straight_cycles": 2, "e1_tracks": 2, "v_step": 0.25,
             "trapezoid_v_max": 4.5, "straight_v_max": 3.0, "reset_bias_mt": -20.0}
    doc = run_experiment("dw-shapes", out_dir=tmp_path / "r", quiet=True, threads=1, overrides=small)
    rows = {r["quantity"]: r for r in doc["comparisons"]}
    reset_rows = [r for q, r in rows.items() if "-20 mT" in q]
    assert reset_rows and not any("-42" in q for q in rows)
    assert all(r["verdict"] == "not-comparable" for r in reset_rows if r["kind"] == "paper")
    # two write ramps cannot give a 13-cycle variation
    var_rows = [r for q, r in rows.items() if "variation" in q]
    assert var_rows and all(r["verdict"] == "not-comparable" for r in var_rows)
    assert np.isclose(doc["metrics"]["trapezoid_reset_field_t"], -16e-3)
