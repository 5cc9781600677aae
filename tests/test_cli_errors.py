"""Every bad input of the command line ends in one line on stderr and a non-zero exit, never a traceback,
and nothing is written before the input is known to be good."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from spinaptic.cli import main

QUICK = ["--set", "n_trials=100", "--set", "n_currents=4", "--set", "macrospin_check=false"]


def _invoke(args):
    r = CliRunner().invoke(main, args)
    assert r.exit_code != 0, r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("Error:"), r.stderr
    return r


@pytest.mark.parametrize(("args", "message"), [
    (["run", "nope"], "unknown experiment 'nope'"),
    (["run", "switching-probability", "--device", "gpu"], "--device 'gpu' is not a torch device"),
    (["run", "switching-probability", "--device", "cuda:7"], "cuda"),
    (["run", "switching-probability", "--preset", "huge"], "has no preset 'huge'"),
    (["run", "switching-probability", "--set", "n_trials=1.5"], "n_trials expects an integer, got '1.5'"),
    (["run", "switching-probability", "--set", "macrospin_check=maybe"], "expects a boolean"),
    (["run", "switching-probability", "--set", "n_trials"], "expects KEY=VALUE"),
    (["run", "switching-probability", "--set", "bogus=1"], "unknown config field 'bogus'"),
    (["run", "switching-probability", "--set", "delta0=nan"], "must be a finite number"),
    (["run", "switching-probability", "--set", "n_trials=1e12"], "n_trials = 1000000000000 is outside"),
    (["run", "compound-dbn", "--set", "tmr_fixed=150"], "tmr_fixed"),
    (["run", "switching-probability", "--seed", "-1"], "--seed"),
    (["run", "switching-probability", "--threads", "0"], "--threads"),
    (["run", "switching-probability", "--out", ""], "empty string"),
    (["show", "/nonexistent/run"], "is not a directory"),
    (["describe", "nope"], "neither an experiment"),
])
def test_bad_input_is_one_line_error(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = _invoke(args)
    assert message in r.stderr
    assert not (tmp_path / "runs").exists(), "an output directory was created for a refused run"


def test_out_that_is_a_file_or_read_only(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert "is not a directory" in _invoke(["run", "switching-probability", "--out", str(f), *QUICK]).stderr
    assert "is a file" in _invoke(["run", "switching-probability", "--out", str(f / "sub"), *QUICK]).stderr
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root): read-only cannot be tested")
        assert "not writable" in _invoke(["run", "switching-probability", "--out", str(ro / "x"), *QUICK]).stderr
    finally:
        ro.chmod(0o755)


def test_read_only_out_as_unprivileged_user(tmp_path):
    """As root os.access always succeeds; drop to 'nobody' in a subprocess where possible."""
    if os.geteuid() != 0:
        pytest.skip("covered by test_out_that_is_a_file_or_read_only")
    import shutil
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="spinaptic-ro-"))  # pytest's tmp_path is not traversable by others
    base.chmod(0o755)
    ro = base / "ro"
    ro.mkdir(mode=0o755)
    code = ("import os, sys\nfrom spinaptic.experiments.rundir import check_out_dir\n"
            "from spinaptic.config import ConfigError\nos.setgid(65534); os.setuid(65534)\ntry:\n"
            " check_out_dir(sys.argv[1])\nexcept ConfigError as e:\n print(e); sys.exit(3)")
    for target, message in ((ro / "x", "is not writable"), (ro / "locked" / "x", "cannot be accessed")):
        (ro / "locked").mkdir(mode=0o700, exist_ok=True)
        p = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True)
        assert p.returncode == 3 and message in p.stdout, p.stderr
    shutil.rmtree(base)


def test_show_of_a_directory_that_is_no_run(tmp_path):
    assert "not a finished run directory" in _invoke(["show", str(tmp_path)]).stderr


def test_corrupt_data_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / "mnist" / name).write_bytes(b"\x1f\x8b\x08\x00garbage")
    monkeypatch.setenv("SPINAPTIC_DATA", str(tmp_path))
    monkeypatch.setenv("SPINAPTIC_OFFLINE", "1")
    r = CliRunner().invoke(main, ["run", "compound-dbn", "--out", str(tmp_path / "out"), "--quiet",
                                  "--set", "dataset=mnist", "--set", "n_train=100", "--set", "n_test=100"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.strip().startswith("Error:") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_out_of_memory_is_one_line(tmp_path, monkeypatch):
    import spinaptic.experiments.switching_probability as sp

    def boom(*a, **k):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 8000000000000 bytes.")

    monkeypatch.setattr(sp, "_params", boom)
    r = _invoke(["run", "switching-probability", "--out", str(tmp_path), *QUICK])
    assert "out of memory" in r.stderr


def test_debug_shows_the_traceback(tmp_path):
    r = CliRunner().invoke(main, ["--debug", "run", "nope", "--out", str(tmp_path)])
    assert r.exit_code != 0 and r.exception is not None and not isinstance(r.exception, SystemExit)


def test_non_terminal_progress_logs_stages_with_eta(tmp_path):
    env = {**os.environ, "SPINAPTIC_PROGRESS_INTERVAL": "0"}
    p = subprocess.run([sys.executable, "-m", "spinaptic.cli", "run", "switching-probability", "--out", str(tmp_path),
                        "--set", "n_trials=100", "--set", "macrospin_trials=16", "--set", "macrospin_currents=3"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "pulse widths: 1/2 (50 %)" in p.stderr and "ETA" in p.stderr
    assert "stage 'macrospin-v2': computed in" in p.stderr
    assert "finished in" in p.stdout
