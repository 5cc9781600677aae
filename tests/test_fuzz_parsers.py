"""Fuzz tests of the file parsers: IDX, CrossSim lookup-table text and NPZ, CIFAR pickles.

Hypothesis drives the mutators and targets of ``benchmarks/fuzz_parsers.py`` (derandomized, so CI is
deterministic; about 3,000 inputs in all). Every input must be accepted (the target checks consistency)
or rejected with the project's own error; any other exception fails the test with its traceback. The
script runs the same targets with >= 10^4 inputs each.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz_parsers.py"
_spec = importlib.util.spec_from_file_location("spinaptic_fuzz_parsers", _SCRIPT)
assert _spec is not None and _spec.loader is not None
fz = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fz
_spec.loader.exec_module(fz)

SEEDS = fz.Seeds()


def fuzz(n: int) -> settings:
    return settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check(name: str, rng: random.Random, work: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on 1e308-like values is not a finding
        assert fz.TARGETS[name](rng, SEEDS, work) in ("accepted", "rejected")


@fuzz(1000)
@given(rng=st.randoms(use_true_random=False))
def test_fuzz_idx(rng: random.Random, work: Path) -> None:
    _check("idx", rng, work)


@fuzz(400)
@given(rng=st.randoms(use_true_random=False))
def test_fuzz_idx_gzip(rng: random.Random, work: Path) -> None:
    _check("idx-gz", rng, work)


@fuzz(500)
@given(rng=st.randoms(use_true_random=False))
def test_fuzz_crosssim_text(rng: random.Random, work: Path) -> None:
    _check("crosssim-text", rng, work)


@fuzz(500)
@given(rng=st.randoms(use_true_random=False))
def test_fuzz_lookup_npz(rng: random.Random, work: Path) -> None:
    _check("lookup-npz", rng, work)


@fuzz(600)
@given(rng=st.randoms(use_true_random=False))
def test_fuzz_cifar_pickle(rng: random.Random, work: Path) -> None:
    _check("cifar-pickle", rng, work)


def test_fuzz_script_counts(work: Path) -> None:
    """The script's own loop (seeded, 200 inputs a target) reports no foreign exception."""
    for name in fz.TARGETS:
        c = fz.run(name, 200, seed=1, seeds=SEEDS, work=work)
        assert c["tried"] == 200 and c["other"] == 0, c["examples"]
        assert c["rejected"] > 0 and c["accepted"] > 0, (name, c)  # the mutators reach both outcomes
