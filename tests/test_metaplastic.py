"""Paper 002's metaplastic BNN: eq. 1, the rounding, the fused kernel against its torch twin, and learning."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spinaptic.config import ConfigError
from spinaptic.experiments import run_experiment
from spinaptic.experiments.base import VOLATILE_FIELDS
from spinaptic.experiments.stream_metaplastic import StreamConfig, rule_from_name
from spinaptic.networks.metaplastic import RULES, BNNConfig, MetaplasticBNN, MetaplasticRule, quantise


def test_f_meta_is_eq1():
    r = MetaplasticRule(width_ratio=4.0, delta=3.0)
    w = torch.tensor([0.0, 0.5, -1.0, 1.0])
    assert torch.allclose(r.f_meta(w), torch.tensor([1.0, 0.625, 0.25, 0.25]))
    assert torch.allclose(RULES["linear"].f_meta(w), torch.ones(4))


@settings(derandomize=True, max_examples=30, deadline=None)
@given(w=st.floats(-1, 1), levels=st.sampled_from([4, 8, 16, 32]))
def test_stochastic_rounding_is_unbiased_and_on_levels(w, levels):
    n = 20000
    x = torch.full((1, n), w)
    u = torch.rand((1, n), generator=torch.Generator().manual_seed(1))
    q = quantise(x, torch.tensor([float(levels)]), torch.tensor([1], dtype=torch.uint8), u)
    k = (q + 1) * (levels - 1) / 2
    assert torch.allclose(k, k.round(), atol=1e-4)
    assert abs(float(q.mean()) - w) < 4 * (2 / (levels - 1)) / n ** 0.5 + 1e-6
    d = quantise(x, torch.tensor([float(levels)]), torch.tensor([0], dtype=torch.uint8), u)
    assert float((d - w).abs().max()) <= 1 / (levels - 1) + 1e-6


def _step_both(rule: MetaplasticRule, seed: int = 0):
    out = []
    for compiled in (True, False):
        net = MetaplasticBNN(BNNConfig(layers=(20, 16, 10)), [rule] * 2, generator=torch.Generator().manual_seed(seed),
                             compiled=compiled)
        g = torch.Generator().manual_seed(5)
        x = torch.rand((2, 32, 20), generator=g)
        y = torch.randint(0, 10, (2, 32), generator=g)
        for _ in range(3):
            net.train_step(x, y)
        out.append(net)
    return out


def test_compiled_update_equals_torch_twin_with_deterministic_rounding():
    a, b = _step_both(MetaplasticRule(4.0, 3.0, levels=0))
    for wa, wb in zip(a.hidden, b.hidden):
        assert torch.allclose(wa, wb, atol=1e-6)
    a, b = _step_both(MetaplasticRule(4.0, 3.0, levels=8, rounding="deterministic"))
    for wa, wb in zip(a.hidden, b.hidden):
        assert ((wa - wb).abs() > 1e-5).float().mean() < 1e-3  # float ties at a rounding boundary only


EQ1_KNOTS = ((0.0, 1.0), (1.0, 0.25))  # eq. 1 of the 1:4 trapezoid as two knots
DEVICE_LIKE = ((0.0, 1.0), (0.3, 0.9), (1.0, 0.45))


def test_knots_reproduce_eq1_and_interpolate():
    w = torch.linspace(-1, 1, 41)
    assert torch.allclose(MetaplasticRule(1.0, 3.0, meta_knots=EQ1_KNOTS).f_meta(w), RULES["trapezoid"].f_meta(w),
                          atol=1e-6)
    f = MetaplasticRule(meta_knots=DEVICE_LIKE).f_meta(torch.tensor([0.0, -0.15, 0.3, 0.65, 1.0]))
    assert torch.allclose(f, torch.tensor([1.0, 0.95, 0.9, 0.675, 0.45]), atol=1e-6)


@pytest.mark.parametrize("knots", [EQ1_KNOTS, DEVICE_LIKE])
def test_compiled_update_equals_torch_twin_with_knots(knots):
    a, b = _step_both(MetaplasticRule(1.0, 3.0, levels=0, meta_knots=knots))
    for wa, wb in zip(a.hidden, b.hidden):
        assert torch.allclose(wa, wb, atol=1e-6)


def test_knot_rule_beside_eq1_rules_in_one_batch():
    """A mixed batch: each replica keeps its own f_meta (knot padding of the shorter rows does not leak)."""
    rules = [RULES["trapezoid"], MetaplasticRule(1.0, 1.0, levels=0, meta_knots=DEVICE_LIKE),
             MetaplasticRule(1.0, 1.0, levels=0, meta_knots=EQ1_KNOTS + ())]
    for compiled in (True, False):
        net = MetaplasticBNN(BNNConfig(layers=(4, 2)), rules, generator=torch.Generator().manual_seed(0),
                             compiled=compiled)
        for w in net.hidden:
            w.fill_(1.0)
        net._update([torch.ones_like(net.hidden[0])])
        moved = (1 - net.hidden[0]).flatten(1).mean(1) / 0.005
        assert torch.allclose(moved[1:], torch.tensor([0.45, 0.25]), rtol=1e-3), (compiled, moved)


def test_knot_validation():
    with pytest.raises(ConfigError, match="meta_knots"):
        MetaplasticRule(meta_knots=((0.2, 1.0), (1.0, 0.5)))
    with pytest.raises(ConfigError, match="meta_knots f"):
        MetaplasticRule(meta_knots=((0.0, 1.0), (1.0, 0.0)))


def test_trapezoid_damps_decreasing_steps_only():
    """With one Adam step of size lr from W_h = +1 toward 0, the trapezoid moves lr * f_meta(1) = lr / 4,
    the straight track lr; away from 0 (clipped at 1) nothing moves."""
    for rule, expect in ((MetaplasticRule(4.0, 1.0, levels=0), 0.25), (MetaplasticRule(1.0, 1.0, levels=0), 1.0)):
        net = MetaplasticBNN(BNNConfig(layers=(4, 2)), [rule], generator=torch.Generator().manual_seed(0))
        net.hidden[0].fill_(1.0)
        net._update([torch.ones_like(net.hidden[0])])  # positive gradient: the step decreases W
        assert torch.allclose(1 - net.hidden[0], torch.full_like(net.hidden[0], 0.005 * expect), rtol=1e-3)


def test_kernel_rounding_draws_are_uniform():
    import numpy as np

    from spinaptic.networks._metaplastic_kernels import _uniform

    u = np.array([_uniform(np.uint64(12345), np.uint64(i)) for i in range(20000)])
    assert abs(u.mean() - 0.5) < 0.01 and u.min() >= 0 and u.max() < 1 and abs((u < 0.1).mean() - 0.1) < 0.01


def test_learns_small_fashion_mnist():
    from spinaptic.data import load_dataset

    x, y = load_dataset("fashion-mnist", "train", flatten=True, scale="unit", subset=2000)
    net = MetaplasticBNN(BNNConfig(layers=(784, 64, 10)), [RULES["trapezoid"], RULES["linear"]],
                         generator=torch.Generator().manual_seed(0))
    for _ in range(3):
        net.train_epoch(x[:1500].float(), y[:1500])
    acc = net.accuracy(x[1500:].float(), y[1500:])
    assert (acc > 0.6).all(), acc


def test_config_errors_and_rule_names():
    assert rule_from_name("trapezoid-L8").levels == 8
    assert rule_from_name("trapezoid-L16-det").rounding == "deterministic"
    both = rule_from_name("trapezoid-L8-all")
    assert (both.levels, both.meta_on, both.rounding) == (8, "all", "stochastic")
    assert rule_from_name("trapezoid").meta_on == "decrease"
    from spinaptic.experiments.stream_metaplastic import _base

    assert _base("trapezoid-device-L16-det-all") == "trapezoid-device"
    with pytest.raises(ConfigError, match="rule"):
        StreamConfig(rules=("hexagon",))
    with pytest.raises(ConfigError, match="60000"):
        StreamConfig(subsets=61)
    with pytest.raises(ConfigError, match="width_ratio"):
        MetaplasticRule(width_ratio=0.5)
    assert StreamConfig(extra_rules=("trapezoid-device", "straight-device-L8")).extra_rules[1] == "straight-device-L8"


def test_device_response_trapezoid_harder_at_the_wide_end_straight_flat():
    """The 1D model's |W_h|-decreasing depinning voltages: the trapezoid's rise toward its wide end (f falls),
    the straight track's five identical notches stay within 15 % of each other (f ~ 1, a linear synapse)."""
    from spinaptic.experiments.stream_metaplastic import device_response

    trap, straight = device_response("dw-trapezoid"), device_response("dw-straight")
    f = [k[1] for k in trap.knots]
    assert all(b < a for a, b in zip(f, f[1:])) and f[0] == 1.0 and f[-1] < 0.8, trap
    assert min(k[1] for k in straight.knots) > 0.85, straight
    rule = rule_from_name("trapezoid-device")
    assert rule.meta_knots == trap.knots and rule.delta == 3.0


@pytest.fixture(scope="module")
def quick():
    from _quick_runs import quick_run

    return quick_run("stream-metaplastic")


def test_quick_preset_learns_and_resumes(quick):
    out, doc = quick
    assert all(c["verdict"] == "pass" for c in doc["comparisons"]), doc["comparisons"]
    for fig in ("fig5a_stream.png", "fig5b_binarized_vs_multilevel.png"):
        assert (out / fig).stat().st_size > 1000
    assert set(doc["metrics"]["full_data"]) == {"linear", "linear-asym", "trapezoid"}
    from _quick_runs import SEED, locked

    with locked("stream-metaplastic"):
        run_experiment("stream-metaplastic", preset="quick", seed=SEED, out_dir=out, quiet=True, threads=1)
        again = json.loads((out / "result.json").read_text())
    stable = lambda d: {k: v for k, v in d.items() if k not in VOLATILE_FIELDS}  # noqa: E731
    assert json.dumps(stable(again), sort_keys=True, default=str) == json.dumps(stable(doc), sort_keys=True,
                                                                               default=str)


def test_device_rules_run_beside_eq1(tmp_path):
    """The device-measured f_meta trains in the same batch and reports its rows (a tiny stream)."""
    doc = run_experiment("stream-metaplastic", preset="quick", out_dir=tmp_path, quiet=True,
                         overrides={"rules": ("trapezoid",), "extra_rules": ("trapezoid-device",), "subsets": 2,
                                    "epochs": 1, "full_data": False, "layers": (784, 32, 32, 10)})
    assert set(doc["metrics"]["final"]) == {"trapezoid", "trapezoid-device"}
    resp = doc["metrics"]["device_response"]["trapezoid-device"]
    assert resp["device"] == "dw-trapezoid" and resp["knots"][0] == [0.0, 1.0]
    names = " | ".join(c["quantity"] for c in doc["comparisons"])
    assert "measured f_meta" in names and "depinning-voltage ratio" in names and "trapezoid-device vs" in names
    assert (tmp_path / "fig4b_device_f_meta.png").stat().st_size > 1000


def test_supplementary_rows_judge_levels_and_rounding():
    from spinaptic.experiments.stream_metaplastic import _supplementary_rows

    final = {"trapezoid": (85.0, 0.2), "trapezoid-L8": (85.6, 0.3), "trapezoid-L16": (84.9, 0.2),
             "trapezoid-det": (40.0, 5.0)}
    rows = {r.quantity.split(" (")[0]: r for r in _supplementary_rows(final, 1.5)}
    assert rows["trapezoid final with 4 / 8 / 16 levels"].verdict == "pass"
    assert rows["trapezoid 4 levels, deterministic vs stochastic rounding"].verdict == "pass"
    final |= {"trapezoid-L16": (82.0, 0.2), "trapezoid-det": (84.5, 0.4)}
    assert {r.verdict for r in _supplementary_rows(final, 1.5)} == {"short"}
    assert _supplementary_rows({"trapezoid": (85.0, 0.2)}, 1.5) == []
