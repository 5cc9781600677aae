"""The run engine's defects of issue 8, section 1, each reproduced: unsafe checkpoints, seed-mixing resume,
concurrent runs into one directory, corrupt checkpoints; and reproducible ``result.json`` for every experiment."""

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
import torch

from _quick_runs import SEED, quick_run
from spinaptic.config import ConfigError
from spinaptic.experiments import experiments, run_experiment
from spinaptic.experiments.base import VOLATILE_FIELDS, RunContext
from spinaptic.experiments.checkpoint import CheckpointWarning
from test_comparisons import assert_rows_honest

SMALL = {"n_trials": 200, "n_currents": 8, "macrospin_trials": 32, "macrospin_currents": 4}


def _run(out, seed=0, **kw):
    return run_experiment("switching-probability", seed=seed, out_dir=out, quiet=True, overrides=SMALL, **kw)


def _stable(doc):
    return {k: v for k, v in doc.items() if k not in VOLATILE_FIELDS}


def _checkpoints(out):
    return sorted((out / "checkpoints").rglob("*.pt"))


class _Evil:
    """Unpickling this runs code: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_tampered_checkpoint_is_refused_not_executed(tmp_path):
    out = tmp_path / "run"
    fresh = _run(out)
    (pt,) = _checkpoints(out)
    marker = tmp_path / "pwned"
    torch.save({"payload": _Evil(marker)}, pt)
    with pytest.warns(CheckpointWarning, match=str(pt)):
        again = _run(out)
    assert not marker.exists(), "a tampered checkpoint executed code on resume"
    assert again["resume"]["resumed_stages"] == []
    assert _stable(again) == _stable(fresh)


def test_resume_with_another_seed_never_mixes_seeds(tmp_path):
    shared = tmp_path / "shared"
    first = _run(shared, seed=0)
    mixed = _run(shared, seed=1)
    clean = _run(tmp_path / "clean", seed=1)
    assert mixed["resume"]["resumed_stages"] == []
    assert _stable(mixed) == _stable(clean)
    assert mixed["resume"]["checkpoint_key"] != first["resume"]["checkpoint_key"]


def test_same_command_resumes_and_records_it(tmp_path):
    first = _run(tmp_path)
    second = _run(tmp_path)
    assert first["resume"]["resumed_stages"] == [] and first["resume"]["computed_stages"] == ["macrospin-v2"]
    assert second["resume"]["resumed_stages"] == ["macrospin-v2"]
    assert _stable(first) == _stable(second)
    on_disk = json.loads((tmp_path / "result.json").read_text())
    assert on_disk["resume"]["resumed_stages"] == ["macrospin-v2"]
    assert "Resumed from checkpoints: macrospin-v2" in (tmp_path / "summary.md").read_text()
    assert _run(tmp_path, resume=False)["resume"]["resumed_stages"] == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_warns_and_recomputes(tmp_path, damage):
    fresh = _run(tmp_path)
    (pt,) = _checkpoints(tmp_path)
    data = pt.read_bytes()
    pt.write_bytes({"truncate": data[: len(data) // 2], "garbage": os.urandom(300), "empty": b""}[damage])
    with pytest.warns(CheckpointWarning, match="recomputing stage 'macrospin-v2'"):
        again = _run(tmp_path)
    assert again["resume"]["computed_stages"] == ["macrospin-v2"]
    assert _stable(again) == _stable(fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _run(tmp_path)["resume"]["resumed_stages"] == ["macrospin-v2"]  # rewritten, readable again


@pytest.mark.parametrize("field", ["seed", "device", "backend", "source", "config"])
def test_checkpoint_key_covers_everything_that_changes_numbers(tmp_path, monkeypatch, field):
    import spinaptic.experiments.base as base

    def key(**kw):
        args = {"seed": 0, "device": "cpu", "out_dir": tmp_path, "preset": "q", "config": {"a": 1}} | kw
        return RunContext(**args).checkpoints.key

    k0 = key()
    if field == "seed":
        k1 = key(seed=1)
    elif field == "config":
        k1 = key(config={"a": 2})
    elif field == "device":
        cpu, cuda = (base.checkpoint_key("e", {}, 0, torch.device(d)) for d in ("cpu", "cuda"))
        assert cpu["device"] != cuda["device"] and cpu["backend"] != cuda["backend"]
        k1 = None
    elif field == "backend":
        monkeypatch.setattr(base, "compute_backend", lambda d: "torch")
        k1 = key()
    else:
        monkeypatch.setattr(base, "source_hash", lambda: "0" * 16)
        k1 = key()
    assert k1 != k0


def test_stage_values_must_be_safe_types(tmp_path):
    ctx = RunContext(seed=0, device="cpu", out_dir=tmp_path, preset="q", config={}, quiet=True)
    with pytest.raises(TypeError, match="cannot be checkpointed safely"):
        ctx.cached("bad", lambda: {"x": object()})
    import numpy as np

    v = ctx.cached("ok", lambda: {"a": np.arange(3.0), "t": torch.ones(2), "n": [1, 2.5, "s", None]})
    ctx2 = RunContext(seed=0, device="cpu", out_dir=tmp_path, preset="q", config={}, quiet=True)
    w = ctx2.cached("ok", lambda: pytest.fail("should resume"))
    assert isinstance(w["a"], np.ndarray) and np.array_equal(w["a"], v["a"]) and w["n"] == [1, 2.5, "s", None]


_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from spinaptic.experiments.rundir import locked_out_dir
    with locked_out_dir(Path(sys.argv[1]), "holder-experiment"):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_second_run_into_a_locked_directory_fails_naming_the_holder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        t0 = time.perf_counter()
        with pytest.raises(ConfigError, match=rf"in use by another run \(pid {proc.pid} .*holder-experiment"):
            _run(tmp_path)
        assert time.perf_counter() - t0 < 5
        assert not (tmp_path / "result.json").exists()
    finally:
        proc.kill()
        proc.wait()
    _run(tmp_path)  # the dead holder's lock is gone with its process
    assert (tmp_path / "result.json").exists()


def test_outputs_are_world_readable(tmp_path):
    _run(tmp_path)
    for name in ("result.json", "summary.md", "switching_probability.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644 & ~_umask()


def _umask():
    u = os.umask(0o022)
    os.umask(u)
    return u


@pytest.mark.parametrize("name", sorted(experiments()))
def test_quick_preset_result_is_reproducible(tmp_path, name):
    """Every experiment's quick preset runs, writes its figures, and two runs of one seed agree exactly
    (apart from VOLATILE_FIELDS); this is also the CI test of each quick preset."""
    out_a, a = quick_run(name)  # the session's shared first run (tests/_quick_runs.py)
    run_experiment(name, preset="quick", seed=SEED, out_dir=tmp_path / "b", quiet=True, threads=1)
    b = json.loads((tmp_path / "b" / "result.json").read_text())
    assert json.dumps(_stable(a), sort_keys=True) == json.dumps(_stable(b), sort_keys=True)
    assert a["comparisons"] and a["figures"]
    for f in a["figures"]:
        assert (out_a / f).stat().st_size > 1000
    assert (out_a / "summary.md").exists()
    assert_rows_honest(a)


def test_a_killed_writes_temporary_is_cleaned_by_the_next_write(tmp_path):
    from spinaptic.fileio import STALE_SECONDS, atomic_write_text

    stale, fresh = tmp_path / ".result.json.abc.tmp", tmp_path / ".result.json.def.tmp"
    for f in (stale, fresh):
        f.write_text("half")
    old = time.time() - 2 * STALE_SECONDS
    os.utime(stale, (old, old))
    atomic_write_text(tmp_path / "result.json", "{}")
    assert not stale.exists() and fresh.exists()  # a young temporary may belong to a live write
    assert (tmp_path / "result.json").read_text() == "{}"
