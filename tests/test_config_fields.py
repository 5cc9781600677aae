"""Typed ``--set`` parsing from annotations, dotted nested fields, validation coverage and ``describe``."""

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinaptic.config import ConfigError, check_range
from spinaptic.config_fields import apply_overrides, field_table, leaf_values, parse_value
from spinaptic.experiments import experiments
from spinaptic.experiments.base import get_experiment, resolve_config

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Inner:
    """Attributes:
    v_read_v: read voltage [V].
    mode: "a" or "b".
    """

    v_read_v: float = 0.1
    mode: Literal["a", "b"] = "a"

    def __post_init__(self):
        check_range("v_read_v", self.v_read_v, 0.0, 5.0, unit="V", lo_open=True)


@dataclass(frozen=True)
class Outer:
    """Attributes:
    n: a count.
    widths_s: pulse widths [s].
    flag: a switch.
    limit: optional bound.
    temp_k: may be infinite.
    inner: the nested part.
    """

    n: int = 3
    widths_s: tuple[float, ...] = (1e-9, 2e-9)
    flag: bool = False
    limit: float | None = None
    temp_k: float = field(default=300.0, metadata={"allow_nonfinite": True})
    inner: Inner = Inner()


@pytest.mark.parametrize(("key", "raw", "expected"), [
    ("n", "7", 7), ("n", "1e3", 1000), ("n", 5, 5),
    ("widths_s", "1e-9,3e-9", (1e-9, 3e-9)), ("widths_s", "4e-9", (4e-9,)), ("widths_s", "(1e-9, 2e-9)", (1e-9, 2e-9)),
    ("widths_s", [1e-9], (1e-9,)),
    ("flag", "true", True), ("flag", "0", False), ("flag", True, True),
    ("limit", "none", None), ("limit", "2.5", 2.5),
    ("temp_k", "inf", math.inf),
    ("inner.v_read_v", "0.2", 0.2), ("inner.mode", "b", "b"),
])
def test_typed_overrides(key, raw, expected):
    cfg = apply_overrides(Outer(), {key: raw})
    got = cfg
    for part in key.split("."):
        got = getattr(got, part)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("key", "raw", "message"), [
    ("n", "1.5", "n expects an integer, got '1.5'"),
    ("n", True, "n expects an integer"),
    ("n", "three", "n expects an integer"),
    ("flag", "maybe", r"flag expects a boolean \(true/false/1/0\), got 'maybe'"),
    ("flag", "yes", "flag expects a boolean"),
    ("widths_s", "1e-9,x", r"widths_s\[1\] expects a number"),
    ("limit", "nan", "limit = 'nan' must be a finite number"),
    ("inner.v_read_v", "inf", "inner.v_read_v = 'inf' must be a finite number"),
    ("inner.v_read_v", "-1", r"inner: v_read_v = -1.0 V is outside the allowed range \(0, 5\] V"),
    ("inner.mode", "c", r"inner.mode = 'c' is not one of 'a', 'b'"),
    ("inner", "3", "inner is a group of fields; set one of them, e.g. --set inner.v_read_v="),
    ("n.x", "3", "n is a int, not a group of fields"),
    ("inne.v_read_v", "1", r"unknown config field 'inne' \(did you mean 'inner'\?\)"),
    ("inner.v_red_v", "1", r"unknown config field 'inner.v_red_v' \(did you mean 'inner.v_read_v'\?\)"),
])
def test_bad_overrides_are_one_line_errors(key, raw, message):
    with pytest.raises(ConfigError, match=message) as e:
        apply_overrides(Outer(), {key: raw})
    assert "\n" not in str(e.value)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(n=st.integers(-10**12, 10**12), x=st.floats(allow_nan=False, allow_infinity=False),
       xs=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5), b=st.booleans())
def test_overrides_round_trip_through_their_text(n, x, xs, b):
    """What `describe`/result.json print is what --set reads back."""
    assert parse_value(int, str(n), "n") == n
    assert parse_value(float, repr(x), "x") == x
    assert parse_value(tuple[float, ...], ",".join(map(repr, xs)), "xs") == tuple(xs)
    assert parse_value(bool, str(b).lower(), "b") is b


def test_every_experiment_field_is_validated_and_settable():
    """Each leaf field has an allowed range/choices recorded from its validator (or a documented exemption),
    and --set of its own default value round-trips through the typed parser."""
    exempt = {"dw-lookup-tables": {"tables_dir"}}  # a path: checked when the tables are looked up
    custom = {"dw-lookup-tables": {"stt_g_range_s", "sot_g_range_s"}, "sc-network": {"confusion_sources"}}
    for name, spec in experiments().items():
        rows = field_table(spec.config_cls())
        missing = {r.path for r in rows if not r.allowed} - exempt.get(name, set()) - custom.get(name, set())
        assert not missing, f"{name}: fields without a recorded range or choices: {sorted(missing)}"
        for path, value in leaf_values(spec.presets["quick"]).items():
            cfg = resolve_config(spec, "quick", {path: _text(value)})
            assert leaf_values(cfg)[path] == value, (name, path)


def _text(v):
    if isinstance(v, tuple):
        return ",".join(_text(x) for x in v)
    if isinstance(v, bool):
        return str(v).lower()
    return repr(v) if isinstance(v, float) else str(v)


@pytest.mark.parametrize(("exp", "key", "bad", "message"), [
    ("compound-dbn", "tmr_fixed", "150", r"tmr_fixed = 150.0 \(fraction, 4.0 = 400 %\) is outside"),
    ("compound-dbn", "ra_fixed_ohm_um2", "1e-11", r"ra_fixed_ohm_um2 = 1e-11 Ohm um\^2 is outside"),
    ("compound-dbn", "hardware.crossbar.v_read_v", "-0.1", r"hardware.crossbar: v_read_v"),
    ("compound-dbn", "dbn.sizes", "100,10", r"dbn.sizes = \(100, 10\) must start with 784"),
    ("switching-probability", "i_min_a", "0.0095", r"i_min_a = 0.0095 A must be < i_max_a = 0.009 A"),
    ("switching-probability", "pulse_widths_s", "1e-6", r"must include the paper's 20e-6 and 50e-6 s"),
    ("compound-synapse", "n_ensemble", "1e12", r"n_ensemble = 1000000000000 is outside the allowed range"),
])
def test_physically_implausible_values_are_refused_with_units(exp, key, bad, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(get_experiment(exp), "quick", {key: bad})


def test_mtj_params_catch_unit_mistakes():
    from spinaptic.physics.mtj import MTJParams

    with pytest.raises(ConfigError, match="TMR"):
        MTJParams(tmr=150.0)  # percent typed for a fraction
    with pytest.raises(ConfigError, match="1 Ohm um\\^2 = 1e-12 Ohm m\\^2"):
        MTJParams(ra_ohm_m2=10.0)  # Ohm um^2 typed for Ohm m^2
    assert MTJParams(tmr=6.0).tmr == 6.0


def test_field_table_reads_types_units_ranges_and_docs():
    rows = {r.path: r for r in field_table(Outer())}
    assert rows["inner.v_read_v"].unit == "V" and rows["inner.v_read_v"].allowed == "(0, 5]"
    assert rows["widths_s"].type == "tuple[float, ...]" and rows["widths_s"].unit == "s"
    assert rows["inner.mode"].allowed == "one of 'a', 'b'"
    assert rows["flag"].doc == "a switch."


def _set_examples():
    """(experiment, field, value) of every `spinaptic run NAME ... --set K=V` in the README, docs and --help."""
    texts = [(ROOT / "README.md").read_text(), *(p.read_text() for p in (ROOT / "docs").glob("*.md")),
             (ROOT / "src/spinaptic/cli.py").read_text()]
    out = []
    for t in texts:
        for line in t.splitlines():
            m = re.search(r"spinaptic run ([a-z0-9-]+)(.*)", line)
            if m and m.group(1) != "NAME":
                out += [(m.group(1), k, v) for k, v in re.findall(r"--set ([\w.]+)=(\S+)", m.group(2))]
    return out


def test_documented_set_examples_name_real_fields():
    examples = _set_examples()
    assert len(examples) >= 2
    for exp, key, value in examples:
        resolve_config(get_experiment(exp), "quick", {key: value})


def test_describe_lists_every_field_with_presets():
    from click.testing import CliRunner

    from spinaptic.cli import main

    r = CliRunner().invoke(main, ["describe", "compound-dbn"])
    assert r.exit_code == 0, r.output
    for path in leaf_values(get_experiment("compound-dbn").config_cls()):
        assert f"\n{path}  (" in r.output
    assert "hardware.crossbar.v_read_v  (float, V)" in r.output and "preset quick: 'mnist-sample'" in r.output
    h = CliRunner().invoke(main, ["run", "switching-probability", "--help"])
    assert h.exit_code == 0 and "n_trials  (int)" in h.output and "--preset" in h.output
    d = CliRunner().invoke(main, ["describe", "sot-nanomagnet"])
    assert d.exit_code == 0 and "delta0" in d.output
    bad = CliRunner().invoke(main, ["describe", "nope"])
    assert bad.exit_code == 1 and "neither an experiment" in bad.output


def test_presets_are_valid_configs():
    for spec in experiments().values():
        for cfg in spec.presets.values():
            dataclasses.replace(cfg)  # re-runs every __post_init__
