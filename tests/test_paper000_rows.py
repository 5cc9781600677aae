"""Paper 000 (Ostwal et al.): the identities that left the comparison tables, the Fig. 2 / Fig. 3 calibrations,
the verbatim quotes of the rows, and labels / verdicts that follow the run's own settings."""

import math

import pytest
import torch

from _quick_runs import quick_run
from spinaptic.devices.compound_synapse import (
    PAPER_MTJ,
    CompoundSynapse,
    CompoundSynapseConfig,
    compound_levels,
    identical_pulses,
    run_pulse_scheme,
    set_all,
)
from spinaptic.devices.nanomagnet import NanomagnetConfig
from spinaptic.experiments import compound_dbn, compound_synapse, run_experiment, switching_probability
from spinaptic.experiments.comparison import find_paper_text, quote_in_text
from spinaptic.physics import neel_brown as nb

PAPER = find_paper_text("000")
needs_paper = pytest.mark.skipif(PAPER is None, reason="paper 000 text not found (../shared/papers)")


# ---------------------------------------------------------------------------------- identities (ex-rows)
def test_eq1_levels_equally_spaced():
    g = compound_levels(PAPER_MTJ, 16)
    d = g[1:] - g[:-1]
    assert float(d.std() / d.mean()) < 1e-12


def test_ahe_step_times_16_is_the_papers_swing():
    # "a resistance change of around 110 mOhm ≈ 1.8 Ohm / 16"
    step = CompoundSynapseConfig().ahe_step_ohm
    assert step == pytest.approx(0.110) and 16 * step == pytest.approx(1.8, abs=0.05)
    dev = CompoundSynapse(CompoundSynapseConfig())
    st = dev.init_state((1,))
    full = set_all(dev, st, True)
    assert float(dev.hall_resistance(full) - dev.hall_resistance(st)) == pytest.approx(16 * step)


@pytest.mark.parametrize("p", [nb.FIG2_MAGNET, nb.FIG3_MAGNET])
def test_barrier_is_log_of_mean_switching_time(p):
    i = torch.tensor([0.0, 3e-3, 6e-3], dtype=torch.float64)
    tau = nb.mean_switching_time(i, p)
    assert torch.allclose(torch.log(tau / p.tau0_s), nb.barrier(i, p.delta0, p.i_c0_a, p.exponent), rtol=1e-12)


@pytest.mark.parametrize("n", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("delta0", [20.0, 40.0, 80.0])
def test_shorter_pulses_always_need_more_current(n, delta0):
    """Fig. 2b's "higher current requirements" for 20 us is a property of thermal activation, not a fit."""
    p = nb.NeelBrownParams(delta0=delta0, tau0_s=1e-9, i_c0_a=10e-3, exponent=n)
    for q in (0.1, 0.5, 0.9):
        assert nb.current_for_probability(q, 20e-6, p) > nb.current_for_probability(q, 50e-6, p)


def test_identical_pulse_curve_always_saturates():
    """Scheme I's E[k] = Q [1 - (1 - P)^m] is concave for any P: its nonlinearity is an identity."""
    dev = CompoundSynapse(CompoundSynapseConfig(delta0_dtod=0.0, i_c0_dtod=0.0))
    for amp in (5.4e-3, 5.8e-3, 6.2e-3):
        e = dev.expected_switched(torch.full((21,), amp, dtype=torch.float64), 20e-6)
        d = e[1:] - e[:-1]
        assert bool((d[1:] <= d[:-1] + 1e-12).all())


# ---------------------------------------------------------------------------------- calibrations
def test_fig2_magnet_puts_the_set_pulse_in_the_finite_region():
    p = nb.FIG2_MAGNET
    assert (p.delta0, p.tau0_s, p.exponent) == (40.0, 1e-9, 2.0)
    p_set = float(nb.switching_probability_of(torch.tensor(nb.FIG2_SET_A, dtype=torch.float64), 20e-6, p))
    assert p_set == pytest.approx(nb.FIG2_SET_PROBABILITY, rel=1e-9)
    t = switching_probability.SwitchingTargets()
    p_reset = float(nb.switching_probability_of(torch.tensor(-nb.FIG2_RESET_A, dtype=torch.float64), 20e-6, p))
    assert t.gradual_p_min <= p_set < p_reset <= t.gradual_p_max
    assert NanomagnetConfig().switching == p
    # the gradual band: >= 3/4 switched after 20 pulses at P_min, < 1/2 on the first pulse at P_max
    assert 1 - (1 - t.gradual_p_min) ** 20 >= 0.75 and t.gradual_p_max <= 0.5


def test_fig3_magnet_is_the_scheme_ii_calibration_and_differs_from_fig2():
    assert nb.FIG3_MAGNET.i_c0_a == pytest.approx(nb.calibrate_ic0(6.25e-3, 20e-6), rel=1e-4)
    assert CompoundSynapseConfig().switching == nb.FIG3_MAGNET == nb.NeelBrownParams()
    # the Fig. 2 magnet would hardly switch over scheme II's 5 -> 6 mA: two Hall bars, two I_c0
    p6 = float(nb.switching_probability_of(torch.tensor(6.0e-3, dtype=torch.float64), 20e-6, nb.FIG2_MAGNET))
    assert p6 < 0.01


def test_calibrate_ic0_to_probability_inverts_the_law():
    for prob in (0.01, 0.15, 0.5, 0.9):
        ic0 = nb.calibrate_ic0_to_probability(7e-3, prob, 20e-6, 40.0, 1e-9, 2.0)
        p = nb.NeelBrownParams(40.0, 1e-9, ic0, 2.0)
        assert float(nb.switching_probability_of(torch.tensor(7e-3, dtype=torch.float64), 20e-6, p)) == pytest.approx(prob)
    assert nb.calibrate_ic0_to_probability(6.25e-3, 0.5, 20e-6) == pytest.approx(nb.calibrate_ic0(6.25e-3, 20e-6))
    with pytest.raises(ValueError, match="below the zero-current barrier"):
        nb.calibrate_ic0_to_probability(7e-3, 0.5, 20e-6, delta0=5.0)


def test_fig2d_emulation_at_the_papers_currents_is_gradual():
    m2 = compound_synapse.fig2_magnet()
    one = CompoundSynapse(CompoundSynapseConfig(n_magnets=1, switching=m2, delta0_dtod=0.0, i_c0_dtod=0.0,
                                                i_c0_depression_ratio=1.0))
    g = torch.Generator().manual_seed(0)
    st = one.init_state((4000,), generator=g)
    _, tr, _ = run_pulse_scheme(one, st, identical_pulses(nb.FIG2_SET_A, 20), generator=g)
    frac = tr.to(torch.float64).mean(dim=1)
    assert 0.10 < float(frac[1]) < 0.20 and float(frac[-1]) > 0.93  # 1 - 0.85^20 = 0.961


# ---------------------------------------------------------------------------------- quotes
QUOTES = [switching_probability.QUOTE_FINITE, switching_probability.QUOTE_RESET, switching_probability.QUOTE_20US,
          compound_synapse.QUOTE_RESET, compound_synapse.QUOTE_LINEAR, compound_synapse.QUOTE_SKIP,
          compound_dbn.QUOTE_LINEAR, compound_dbn.QUOTE_BITS, compound_dbn.QUOTE_TMR, compound_dbn.QUOTE_RA,
          compound_dbn.QUOTE_TABLE, compound_dbn.QUOTE_PER_OP,
          "of the order of  $40k_B T$", "around  $110$  mOhm  $\\approx 1.8$  Ohm / 16"]


@needs_paper
@pytest.mark.parametrize("quote", QUOTES)
def test_quotes_are_in_paper_000(quote):
    assert quote_in_text(quote, PAPER), quote


@needs_paper
def test_table_i_total_is_one_pass_of_the_weighted_sums():
    """0.21 nJ / 0.0013 pJ per instruction = one MAC per weight of the 784x200x10 network (158,800)."""
    assert 0.21e-9 / 1.3e-15 == pytest.approx(784 * 200 + 200 * 10, rel=0.03)
    assert "energy consumption for weighted sum operations" in PAPER


# ---------------------------------------------------------------------------------- labels follow the run
def _rows(doc):
    return {c["quantity"]: c for c in doc["comparisons"]}


def test_switching_probability_reset_row_follows_the_run(tmp_path):
    over = {"n_trials": 200, "n_currents": 8, "macrospin_check": False}
    doc = run_experiment("switching-probability", preset="quick", out_dir=tmp_path / "a", quiet=True, overrides=over)
    kinds = [c["kind"] for c in doc["comparisons"]]
    assert kinds.count("calibrated") == 1 and "short" not in [c["verdict"] for c in doc["comparisons"]]
    doc = run_experiment("switching-probability", preset="quick", out_dir=tmp_path / "b", quiet=True,
                         overrides={**over, "reset_current_a": -6.5e-3})
    row = next(c for c in doc["comparisons"] if c["quantity"].startswith("RESET"))
    assert "-6.50 mA" in row["quantity"] and row["verdict"] == "not-comparable"


def test_compound_synapse_fig2d_rows_use_the_papers_currents(tmp_path):
    doc = quick_run("compound-synapse")[1]
    rows = _rows(doc)
    assert any("6.97 mA" in q and rows[q]["kind"] == "calibrated" for q in rows)
    d = next(r for q, r in rows.items() if q.startswith("Fig. 2d depression"))
    assert "-7.28 mA" in d["quantity"] and d["verdict"] == "pass"
    assert not any("AHE" in q or "equally spaced" in q for q in rows)
    doc = run_experiment("compound-synapse", preset="quick", out_dir=tmp_path / "b", quiet=True,
                         overrides={"emulation_reset_a": -6.0e-3, "n_ensemble": 200})
    d = next(r for q, r in _rows(doc).items() if q.startswith("Fig. 2d depression"))
    assert "-6.00 mA" in d["quantity"] and d["verdict"] == "not-comparable"


def test_not_comparable_helper_keeps_rows_at_the_papers_conditions():
    row = compound_dbn.paper_row("x", "y", 1, True, source="Fig. 4", quote="q")
    assert compound_dbn._not_comparable(row, None).verdict == "pass"
    assert compound_dbn._not_comparable(row, "run at TMR 150 %").verdict == "not-comparable"
    assert math.isclose(compound_dbn.PAPER_TMR, 4.0) and compound_dbn.PAPER_BITS == 4
