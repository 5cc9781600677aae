"""Device registry, config validation, experiment runner (atomic output, schema, resume) and the CLI."""

import json

import pytest
import torch
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from spinaptic.cli import main
from spinaptic.config import ConfigError, check_int, check_probability, check_range
from spinaptic.devices import Pulses, device_names, make_device
from spinaptic.energy import EnergyLedger
from spinaptic.experiments import run_experiment


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_check_probability_accepts_only_unit_interval(x):
    if 0 <= x <= 1:
        assert check_probability("p", x) == x
    else:
        with pytest.raises(ConfigError, match=r"p = .* outside the allowed range \[0, 1\]"):
            check_probability("p", x)


def test_check_helpers_messages():
    with pytest.raises(ConfigError, match="width_s = -1 s is outside"):
        check_range("width_s", -1, 0, 1, unit="s")
    with pytest.raises(ConfigError, match="must be an integer"):
        check_int("q", 2.5)
    with pytest.raises(ConfigError, match="must be an integer"):
        check_int("q", True)


def test_registry_and_unknown_device():
    names = device_names()
    assert {"ideal", "sot-nanomagnet"} <= set(names)
    with pytest.raises(ConfigError, match="unknown device 'nope'; known devices"):
        make_device("nope")


def test_pulses_validation():
    with pytest.raises(ConfigError, match="width_s"):
        Pulses(amplitude=1.0, width_s=0.0)
    with pytest.raises(ConfigError, match="kind"):
        Pulses(amplitude=1.0, kind="light")


def test_ideal_device_protocol():
    dev = make_device("ideal", step_s=1e-6, g_max_s=3e-6)
    g = torch.Generator().manual_seed(0)
    s = dev.init_state((2, 3), generator=g)
    s, e = dev.apply(s, Pulses(amplitude=torch.tensor([[1.0], [-1.0]]), count=5), generator=g)
    assert torch.allclose(dev.conductance(s), torch.tensor([[3e-6] * 3, [0.0] * 3], dtype=torch.float64))
    assert float(e.sum()) == 0


def test_nanomagnet_switches_both_ways_and_is_reproducible():
    dev = make_device("sot-nanomagnet", i_c0_dtod=0.05)

    def once(seed):
        g = torch.Generator().manual_seed(seed)
        s = dev.init_state((1000,), generator=g)
        s, e = dev.apply(s, Pulses(amplitude=9.5e-3, width_s=20e-6), generator=g)
        up = s["s"].clone()
        s, _ = dev.apply(s, Pulses(amplitude=-9.5e-3, width_s=20e-6), generator=g)
        return up, s["s"], e

    up, down, e = once(1)
    assert up.float().mean() > 0.95 and down.float().mean() < 0.05
    assert torch.equal(up, once(1)[0])
    assert float(e[0]) == pytest.approx((9.5e-3) ** 2 * 2e3 * 20e-6)


def test_energy_ledger():
    led = EnergyLedger()
    led.charge("read", torch.tensor([1e-15, 2e-15]), events=2)
    led.charge("write", 5e-15)
    assert led.total() == pytest.approx(8e-15)
    assert led.per_event("read") == pytest.approx(1.5e-15)
    with pytest.raises(ValueError):
        led.charge("x", -1.0)


def test_run_experiment_writes_schema_atomically(tmp_path):
    doc = run_experiment("switching-probability", preset="quick", seed=3, out_dir=tmp_path, quiet=True,
                         overrides={"n_trials": 200, "n_currents": 8, "macrospin_trials": 64, "macrospin_currents": 5})
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file() and not p.name.startswith(".spinaptic.lock"))
    assert files == ["macrospin_check.png", "result.json", "summary.md", "switching_probability.png"]
    on_disk = json.loads((tmp_path / "result.json").read_text())
    for key in ("experiment", "preset", "seed", "spinaptic_version", "torch_version", "device", "started",
                "wall_time_s", "config", "metrics", "comparisons", "figures"):
        assert key in on_disk
    assert on_disk["config"]["n_trials"] == 200
    assert all(c["verdict"] in ("pass", "short", "not-comparable", "info") for c in on_disk["comparisons"])
    assert doc["seed"] == 3
    assert "**Comparisons: " in (tmp_path / "summary.md").read_text()
    assert not list(tmp_path.glob(".*.tmp"))


def test_run_experiment_rejects_bad_override(tmp_path):
    with pytest.raises(ConfigError, match="unknown config field"):
        run_experiment("switching-probability", out_dir=tmp_path, overrides={"bogus": 1})
    with pytest.raises(ConfigError, match="n_trials"):
        run_experiment("switching-probability", out_dir=tmp_path, overrides={"n_trials": 0})
    with pytest.raises(ConfigError, match="unknown experiment"):
        run_experiment("nope", out_dir=tmp_path)


def test_cached_stage_resumes(tmp_path):
    from spinaptic.experiments.base import RunContext

    ctx = RunContext(seed=0, device="cpu", out_dir=tmp_path, preset="quick", config={"a": 1})
    calls = []
    assert ctx.cached("stage", lambda: calls.append(1) or torch.ones(3)).sum() == 3
    ctx2 = RunContext(seed=0, device="cpu", out_dir=tmp_path, preset="quick", config={"a": 1})
    assert ctx2.cached("stage", lambda: calls.append(2) or torch.zeros(3)).sum() == 3
    assert calls == [1]
    # A different config does not reuse the checkpoint.
    ctx3 = RunContext(seed=0, device="cpu", out_dir=tmp_path, preset="quick", config={"a": 2})
    assert ctx3.cached("stage", lambda: torch.zeros(3)).sum() == 0


def test_generators_are_reproducible_and_independent(tmp_path):
    from spinaptic.experiments.base import RunContext

    a = RunContext(seed=5, device="cpu", out_dir=tmp_path, preset="q", config={})
    b = RunContext(seed=5, device="cpu", out_dir=tmp_path, preset="q", config={})
    x = torch.rand(4, generator=a.make_generator("s1"))
    assert torch.equal(x, torch.rand(4, generator=b.make_generator("s1")))
    assert not torch.equal(x, torch.rand(4, generator=b.make_generator("s2")))


def test_cli_help_and_run(tmp_path):
    r = CliRunner()
    out = r.invoke(main, ["--help"])
    assert out.exit_code == 0 and "spinaptic run" in out.output
    for cmd in ("list", "data", "run", "show"):
        assert r.invoke(main, [cmd, "--help"]).exit_code == 0
    res = r.invoke(main, ["run", "switching-probability", "--out", str(tmp_path), "--quiet", "--set", "n_trials=100"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "result.json").exists()
    bad = r.invoke(main, ["run", "switching-probability", "--out", str(tmp_path), "--set", "n_trials=-5"])
    assert bad.exit_code != 0 and "n_trials" in bad.output
    assert "switching-probability" in r.invoke(main, ["show", str(tmp_path)]).output
