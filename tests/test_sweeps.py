"""Parameter sweeps (`spinaptic.sweeps`): one ordinary run directory per point, validated before anything is
written, finished points reused, interrupted ones resumed, failures recorded without stopping the others, and
the same numbers from the local process pool and from Ray.

One small 8-point sweep of switching-probability (two swept fields, one of them nested, x 2 seeds, with
the checkpointed macrospin stage) is computed once and shared; Ray starts only in its own test.
"""

import csv
import dataclasses
import importlib.util
import itertools
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from spinaptic.cli import _Group
from spinaptic.config import ConfigError
from spinaptic.experiments import base
from spinaptic.experiments.rundir import locked_out_dir
from spinaptic.sweeps import plan_sweep, run_sweep
from spinaptic.sweeps.cli import parse_params, sweep_cmd
from spinaptic.sweeps.spec import split_values

EXP = "switching-probability"
FIXED = {"n_currents": 4, "macrospin_trials": 16, "macrospin_currents": 4}
PARAMS = {"n_trials": [50, 100], "targets.mc_max_sigma": ["3", "5"]}
SEEDS = 2


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _mtimes(out):
    return {p.parent.name: p.stat().st_mtime_ns for p in sorted((out / "points").glob("*/result.json"))}


def _cli():
    """A throwaway group around the command, with the main CLI's one-line error handling."""
    return _Group("spinaptic", commands={"sweep": sweep_cmd})


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "local"
    doc = run_sweep(EXP, PARAMS, SEEDS, overrides=FIXED, workers=2, out_dir=out, quiet=True)
    return out, doc


# ----------------------------------------------------------------------------------------- outputs
def test_results_have_one_row_per_point_with_its_values(local_sweep):
    out, doc = local_sweep
    assert doc["status"] == "complete" and doc["counts"] == {"done": 8, "failed": 0, "pending": 0, "total": 8}
    rows = _rows(out / "results.csv")
    want = {(str(n), str(float(s)), str(seed)) for n, s, seed in itertools.product([50, 100], [3, 5], range(SEEDS))}
    assert {(r["n_trials"], r["targets.mc_max_sigma"], r["seed"]) for r in rows} == want
    assert len(rows) == 8 and all(r["status"] == "done" and not r["error"] for r in rows)
    index = {r["id"]: r for r in _rows(out / "points.csv")}
    assert set(index) == {r["id"] for r in rows}
    for r in rows:  # every row is its own point's run directory, run at its own values and seed
        result = json.loads((out / "points" / r["id"] / "result.json").read_text())
        assert result["config"]["n_trials"] == int(r["n_trials"]) and result["seed"] == int(r["seed"])
        assert result["config"]["targets"]["mc_max_sigma"] == float(r["targets.mc_max_sigma"])
        assert float(r["mc_worst_deviation_sigma"]) == result["metrics"]["mc_worst_deviation_sigma"]
        assert r["cmp.monte_carlo_device_vs_neel_brown_formula_worst_point.verdict"] in ("pass", "short")
        assert index[r["id"]]["dir"] == f"points/{r['id']}"
    assert len({r["mc_worst_deviation_sigma"] for r in rows}) > 1, "seeds and n_trials must change the MC metric"
    assert (out / "plots" / "mc_worst_deviation_sigma_vs_n_trials.png").stat().st_size > 1000
    # a nested swept field names its plot; the metric is a continuous one (the fitted exponent lives on a
    # 0.25 grid, so two seeds may legitimately agree on it and leave it unplotted as a flat line)
    assert (out / "plots" / "macrospin_max_deviation_sigma_vs_targets.mc_max_sigma.png").exists()
    assert not (out / "plots" / "i_c0_a_vs_n_trials.png").exists(), "a metric equal at every point is not plotted"
    if importlib.util.find_spec("pyarrow"):
        import pyarrow.parquet as pq

        table = pq.read_table(out / "results.parquet")
        assert table.column("mc_worst_deviation_sigma").to_pylist() == [float(r["mc_worst_deviation_sigma"]) for r in rows]
    else:
        assert not (out / "results.parquet").exists()
    summary = (out / "summary.md").read_text()
    assert all(r["id"] in summary for r in rows) and "## results.csv" in summary
    recorded = json.loads((out / "sweep.json").read_text())
    assert recorded["params"] == {"n_trials": [50, 100], "targets.mc_max_sigma": [3.0, 5.0]}
    assert [p["id"] for p in recorded["points"]] == [r["id"] for r in rows]


def test_rerun_recomputes_nothing(local_sweep):
    out, _ = local_sweep
    before, table = _mtimes(out), (out / "results.csv").read_bytes()
    doc = run_sweep(EXP, PARAMS, SEEDS, overrides=FIXED, workers=2, out_dir=out, quiet=True)
    assert all(p["reused"] and p["status"] == "done" for p in doc["points"])
    assert _mtimes(out) == before and len(before) == 8
    assert (out / "results.csv").read_bytes() == table


def test_interrupted_point_resumes_from_its_own_checkpoints(local_sweep):
    out, doc = local_sweep
    victim = doc["points"][3]["id"]
    (out / "points" / victim / "result.json").unlink()  # as if killed after its checkpointed stage
    before, table = _mtimes(out), (out / "results.csv").read_bytes()
    again = run_sweep(EXP, PARAMS, SEEDS, overrides=FIXED, workers=2, out_dir=out, quiet=True)
    entry = next(p for p in again["points"] if p["id"] == victim)
    assert not entry["reused"] and entry["status"] == "done" and entry["resumed_stages"] == ["macrospin-v2"]
    result = json.loads((out / "points" / victim / "result.json").read_text())
    assert result["resume"]["resumed_stages"] == ["macrospin-v2"] and result["resume"]["computed_stages"] == []
    after = _mtimes(out)
    assert {k: v for k, v in after.items() if k != victim} == before
    assert (out / "results.csv").read_bytes() == table, "a resumed point must give the same numbers"


def test_ray_gives_the_same_table_as_the_local_pool(local_sweep, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install ray): the ray executor is untested")
    out, _ = local_sweep
    doc = run_sweep(EXP, PARAMS, SEEDS, overrides=FIXED, executor="ray", workers=2, out_dir=tmp_path / "ray",
                    quiet=True)
    assert doc["status"] == "complete" and not ray.is_initialized(), "the private local instance is shut down"
    assert [p["id"] for p in doc["points"]] == [r["id"] for r in _rows(out / "results.csv")]
    assert (tmp_path / "ray" / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


# ----------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"experiment": "nope"}, "unknown experiment 'nope'"),
    ({"params": {"n_trialz": [100]}}, "unknown config field 'n_trialz' (did you mean 'n_trials'?)"),
    ({"params": {"targets.nope": [1]}}, "unknown config field 'targets.nope'"),
    ({"params": {"n_trials": [100, "1.5"]}}, "--param n_trials=1.5: switching-probability: n_trials expects an integer"),
    ({"params": {"n_trials": [100, 0]}}, "n_trials = 0 is outside"),
    ({"params": {"targets.mc_max_sigma": [3, "nan"]}}, "must be a finite number"),
    ({"params": {"n_trials": []}}, "needs a non-empty list"),
    ({"params": {"n_trials": "100"}}, "needs a non-empty list"),
    ({"params": {"n_trials": ["100", 100]}}, "lists the value 100 twice"),
    ({"params": {"n_trials": [100]}, "overrides": {"n_trials": 50}}, "both swept (--param) and fixed (--set)"),
    ({"params": {"i_min_a": [6e-3], "i_max_a": [5.5e-3]}}, "sweep point i_min_a=0.006, i_max_a=0.0055: "),
    ({"params": None}, "declares no sweep axes"),
    ({"preset": "huge"}, "has no preset 'huge'"),
    ({"seeds": 0}, "seeds = 0 must be an integer >= 1"),
    ({"executor": "slurm"}, "executor 'slurm' is not one of local, ray"),
    ({"workers": 0}, "workers = 0"),
    ({"address": "auto"}, "--address only applies to --executor ray"),
    ({"device": "gpu"}, "is not a torch device"),
])
def test_bad_sweeps_fail_in_one_line_before_anything_is_written(tmp_path, kwargs, message):
    out = tmp_path / "never"
    args = {"experiment": EXP, "params": {"n_trials": [100]}, "seeds": 1, "out_dir": out, "quiet": True,
            "overrides": FIXED, **kwargs}
    with pytest.raises(ConfigError) as e:
        run_sweep(args.pop("experiment"), args.pop("params"), args.pop("seeds"), **args)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not out.exists()


def test_point_ids_are_stable_and_follow_the_typed_values(tmp_path):
    a = plan_sweep(EXP, {"n_trials": ["100", 200], "delta0": [40]}, 2, out_dir=tmp_path / "a")
    b = plan_sweep(EXP, {"delta0": ["40.0"], "n_trials": [100, "200"]}, 2, out_dir=tmp_path / "b")
    assert {p.id for p in a.points} == {p.id for p in b.points} and len(a.points) == 4
    assert len({p.id for p in a.points}) == 4, "seeds and values give distinct points"
    c = plan_sweep(EXP, {"n_trials": [100]}, 1, preset="paper", out_dir=tmp_path / "c")
    assert c.points[0].id not in {p.id for p in a.points}
    assert not any((tmp_path / d).exists() for d in "abc")


_ATOM = st.text(alphabet="abc019.e-+ ", min_size=1, max_size=6).filter(lambda t: t.strip() == t)
_VALUE = _ATOM | st.lists(_ATOM, min_size=1, max_size=3).map(lambda xs: "(" + ",".join(xs) + ")")


@given(st.lists(_VALUE, min_size=1, max_size=5))
def test_split_values_keeps_bracketed_tuples_whole(values):
    assert split_values(",".join(values)) == values


def test_the_command_module_imports_without_torch():
    code = "import sys, spinaptic.sweeps.cli; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_tuple_values_and_the_cli_parser(tmp_path):
    assert split_values("1, 2,(3,4),[5,6]") == ["1", "2", "(3,4)", "[5,6]"]
    params = parse_params(("pulse_widths_s=(2e-5,5e-5),(2e-5,5e-5,1e-4)", "n_trials=10,20"))
    assert params == {"pulse_widths_s": ["(2e-5,5e-5)", "(2e-5,5e-5,1e-4)"], "n_trials": ["10", "20"]}
    plan = plan_sweep(EXP, params, 1, out_dir=tmp_path / "t")
    assert plan.params["pulse_widths_s"] == [[2e-5, 5e-5], [2e-5, 5e-5, 1e-4]] and len(plan.points) == 4
    for bad, message in [(["--param", "n_trials"], "expects NAME=V1,V2"),
                         (["--param", "n_trials=1,,2"], "empty value"),
                         (["--param", "n_trials=1", "--param", "n_trials=2"], "given twice"),
                         (["--param", "n_trials=1.5"], "n_trials expects an integer, got '1.5'")]:
        r = CliRunner().invoke(_cli(), ["sweep", EXP, "--seeds", "1", "--out", str(tmp_path / "x"), *bad])
        assert r.exit_code != 0 and message in r.output, r.output
        assert not (tmp_path / "x").exists()
    assert "--executor [local|ray]" in CliRunner().invoke(_cli(), ["sweep", "--help"]).output


def test_preset_declared_axes_are_used_without_param(tmp_path, monkeypatch):
    spec = base.get_experiment(EXP)
    assert spec.sweeps == {}
    monkeypatch.setitem(base._EXPERIMENTS, EXP, dataclasses.replace(spec, sweeps={"quick": {"n_trials": [50, 100]}}))
    plan = plan_sweep(EXP, None, 3, out_dir=tmp_path / "p")
    assert plan.params == {"n_trials": [50, 100]} and len(plan.points) == 6
    with pytest.raises(ConfigError, match=r"presets with axes: quick"):
        plan_sweep(EXP, {}, 1, preset="paper", out_dir=tmp_path / "p")


# ----------------------------------------------------------------------------------------- failures
def test_failed_point_is_recorded_and_the_others_finish(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", EXP, "--param", "n_trials=50,100", "--seeds", "2", "--set", "macrospin_check=false",
            "--set", "n_currents=4", "--workers", "2", "--out", str(out)]
    plan = plan_sweep(EXP, {"n_trials": ["50", "100"]}, 2, overrides={"macrospin_check": "false", "n_currents": "4"},
                      out_dir=out)
    victim = plan.points[1].id
    with locked_out_dir(out / "points" / victim, "a test holding this point"):  # the point cannot run
        r = CliRunner().invoke(_cli(), args)
    assert r.exit_code == 1, r.output
    progress = [ln for ln in r.stderr.splitlines() if ln.startswith("[")]
    assert len(progress) == 4 and progress[-1].startswith("[3 done / 0 running / 1 failed / 4 total]")
    assert "1 failed of 4" in r.stdout
    rows = {row["id"]: row for row in _rows(out / "results.csv")}
    assert rows[victim]["status"] == "failed" and "a test holding this point" in rows[victim]["error"]
    assert rows[victim]["mc_worst_deviation_sigma"] == ""
    assert all(row["status"] == "done" and row["mc_worst_deviation_sigma"] for k, row in rows.items() if k != victim)
    assert "Traceback" in (out / "points" / victim / "traceback.txt").read_text()
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["status"] == "failed" and doc["counts"]["failed"] == 1
    assert "failed" in (out / "summary.md").read_text()

    r = CliRunner().invoke(_cli(), args)  # the holder is gone: only the failed point runs
    assert r.exit_code == 0, r.output
    assert "3 already done, 1 to run" in r.stderr
    assert not (out / "points" / victim / "traceback.txt").exists()
    assert {row["status"] for row in _rows(out / "results.csv")} == {"done"}
