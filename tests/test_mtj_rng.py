"""Superparamagnetic MTJ device and bit-stream generator against paper 004 (Shao et al. 2020) and closed forms."""

import math
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spinaptic.config import ConfigError
from spinaptic.devices import Pulses, make_device
from spinaptic.devices import mtj_rng as rng
from spinaptic.physics import telegraph as tg

F64 = torch.float64


def test_paper004_device_numbers():
    c = rng.SMTJConfig()
    assert c.mtj.r_p == pytest.approx(224.1e3, rel=2e-3) and c.mtj.r_ap == pytest.approx(515.4e3, rel=2e-3)
    assert c.retention_s == pytest.approx(5e-3, rel=1e-6) and c.barrier < 16
    v05, v95 = (float(v) for v in rng.bias_for_probability(torch.tensor([0.05, 0.95], dtype=F64), c))
    # Fig. 3: > 95 % AP to > 95 % P within < 1 V and < 5 uA.
    assert 0 < v95 - v05 < 1.0
    g_sum = c.mtj.g_p + c.mtj.g_ap
    assert v95 - v05 == pytest.approx(2 * tg.LN19 * c.i_c0_a / (c.barrier * g_sum), rel=1e-9)
    i05, i95 = (float(rng.mean_current(v, c)) for v in (v05, v95))
    assert max(abs(i05), abs(i95)) < 5e-6 and i95 - i05 < 5e-6
    assert float(rng.probability_of_one(0.0, c)) == pytest.approx(0.5)
    # Temperature rescales the barrier quoted at 300 K.
    assert rng.SMTJConfig(temperature_k=350.0).barrier == pytest.approx(c.delta0 * 300 / 350)


@settings(max_examples=60, deadline=None)
@given(p=st.floats(1e-9, 1 - 1e-9), h=st.floats(-0.5, 0.5), ic=st.floats(1e-6, 30e-6))
def test_bias_for_probability_inverts(p, h, ic):
    c = rng.SMTJConfig(h_off_ratio=h, i_c0_a=ic)
    v = rng.bias_for_probability(p, c)
    assert float(rng.probability_of_one(v, c)) == pytest.approx(p, rel=1e-7, abs=1e-12)


def test_bias_extremes_and_clipped_branch():
    c = rng.SMTJConfig(i_c0_a=2e-6, delta0=3.0)  # small barrier: 1 - 1e-6 needs |I| > I_c0 (a clipped barrier)
    p = torch.tensor([0.0, 1e-6, 0.5, 1 - 1e-6, 1.0], dtype=F64)
    v = rng.bias_for_probability(p, c)
    assert v[0] == -math.inf and v[-1] == math.inf and float(v[2]) == pytest.approx(0.0, abs=1e-15)
    assert float(v[3]) * c.mtj.g_ap > c.i_c0_a
    assert torch.allclose(rng.probability_of_one(v, c), p, atol=1e-12)
    assert bool((torch.diff(v) > 0).all())


def test_bitstreams_marginals_correlation_and_reproducibility():
    c = rng.SMTJConfig()
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=F64).repeat(400)
    gen = torch.Generator().manual_seed(0)
    bits = rng.mtj_bitstreams(p, 512, cfg=c, generator=gen)
    assert bits.dtype == torch.bool and bits.shape == (2000, 512)
    mean = bits.double().mean(-1).reshape(400, 5).mean(0)
    pm = p[:5]
    assert torch.all((mean - pm).abs() <= 4 * (pm * (1 - pm) / (400 * 512)).sqrt() + 1e-12)
    # At the paper's 100 ms the bits are independent (lambda = e^-40).
    assert float(rng.bitstream_correlation(0.5, c)) < 1e-15
    rho = tg.empirical_autocorrelation(bits[2::5], 2, mean=0.5)
    assert abs(float(rho[1])) < 4 / math.sqrt(400 * 511)
    # Sampling interval comparable to the dwell time: correlated bits, lambda = exp(-s dt).
    dt = c.retention_s / 4
    lam = rng.bitstream_correlation(torch.tensor([0.1, 0.5]), c, dt)
    b2 = rng.mtj_bitstreams(torch.tensor([0.1, 0.5]).repeat_interleave(500), 512, cfg=c, generator=gen,
                            sampling_interval_s=dt)
    for j in range(2):
        r = tg.empirical_autocorrelation(b2[j * 500:(j + 1) * 500], 2, mean=(0.1, 0.5)[j])
        assert float(r[1]) == pytest.approx(float(lam[j]), abs=0.015)
        assert float(r[2]) == pytest.approx(float(lam[j]) ** 2, abs=0.015)
    ind = rng.mtj_bitstreams(torch.full((500,), 0.5), 512, cfg=c, generator=gen, sampling_interval_s=dt,
                             independent=True)
    assert abs(float(tg.empirical_autocorrelation(ind, 1, mean=0.5)[1])) < 4 / math.sqrt(500 * 511)
    again = rng.mtj_bitstreams(p, 512, cfg=c, generator=torch.Generator().manual_seed(0))
    assert torch.equal(bits, again)
    ideal = rng.ideal_bitstreams(torch.full((3, 4), 0.25), 64, torch.Generator().manual_seed(1))
    assert ideal.shape == (3, 4, 64) and ideal.dtype == torch.bool


def test_bitstreams_torch_backend_agrees():
    c = rng.SMTJConfig()
    p = torch.tensor([0.2, 0.7], dtype=F64).repeat_interleave(300)
    b = rng.mtj_bitstreams(p, 128, cfg=c, generator=torch.Generator().manual_seed(4),
                           sampling_interval_s=2e-3, backend="torch")
    lam = rng.bitstream_correlation(torch.tensor([0.2, 0.7]), c, 2e-3)
    for j in range(2):
        blk = b[j * 300:(j + 1) * 300]
        assert float(blk.double().mean()) == pytest.approx(float(p[j * 300]), abs=0.03)
        assert float(tg.empirical_autocorrelation(blk, 1, mean=float(p[j * 300]))[1]) == pytest.approx(float(lam[j]), abs=0.03)


def test_bitstream_throughput():
    p = torch.rand(100_000, generator=torch.Generator().manual_seed(0), dtype=F64)
    rng.mtj_bitstreams(p[:10], 8)  # compile / load the kernel
    t0 = time.perf_counter()
    bits = rng.mtj_bitstreams(p, 1024, generator=torch.Generator().manual_seed(1))
    elapsed = time.perf_counter() - t0
    assert bits.shape == (100_000, 1024)
    assert elapsed < 6.0, f"10^5 x 1024 bits took {elapsed:.2f} s"


def test_bad_inputs_raise():
    with pytest.raises(ConfigError, match="p_one"):
        rng.mtj_bitstreams(torch.tensor([0.2, 1.2]), 16)
    with pytest.raises(ConfigError, match="p_one"):
        rng.bias_for_probability(torch.tensor([float("nan")]))
    with pytest.raises(ConfigError, match="p_one"):
        rng.ideal_bitstreams(-0.1, 8)
    with pytest.raises(ConfigError, match="sampling_interval"):
        rng.mtj_bitstreams(0.5, 16, sampling_interval_s=0.0)
    with pytest.raises(ConfigError, match="length"):
        rng.mtj_bitstreams(0.5, 0)
    for field, value in [("delta0", 0.0), ("delta0", -1.0), ("sampling_interval_s", -1e-3), ("tmr", 0.0),
                         ("diameter_m", 0.0), ("h_off_ratio", -1.0), ("temperature_k", 0.0), ("i_c0_a", 0.0)]:
        with pytest.raises(ConfigError, match=field.split("_")[0]):
            rng.SMTJConfig(**{field: value})
    with pytest.raises(ConfigError, match="sampling_interval"):
        rng.energy_per_bit(rng.SMTJConfig(), 1.0, 0.0)


def test_energy_per_bit():
    # Paper 004: 1 V on 500 kOhm for tau ~ 10 ns -> ~20 fJ per bit.
    assert float(rng.resistor_energy_per_bit(1.0, 500e3, 10e-9)) == pytest.approx(20e-15)
    c = rng.SMTJConfig(delta0=math.log(10.0))  # tau = 10 ns
    assert c.retention_s == pytest.approx(10e-9)
    e = float(rng.energy_per_bit(c, 1.0))
    g = float(rng.mean_conductance(1.0, c))
    assert e == pytest.approx(g * 10e-9) and c.mtj.g_ap <= g <= c.mtj.g_p
    assert float(rng.energy_per_bit(c, 0.0)) == 0.0
    # Bits with lag-1 correlation <= 1 %: ln(100) / s; at zero bias s = 2 / tau.
    assert float(rng.bit_time_for_correlation(c, 0.0, 0.01)) == pytest.approx(math.log(100) * 10e-9 / 2)


def test_device_protocol():
    dev = make_device("smtj")
    assert dev.name == "smtj" and not dev.is_synapse
    with pytest.raises(ConfigError, match="unknown device"):  # one name per device: the old alias is gone
        make_device("superparamagnetic-mtj")
    c = dev.config
    gen = torch.Generator().manual_seed(2)
    state = dev.init_state((4000,), generator=gen)
    assert float(state["parallel"].double().mean()) == pytest.approx(0.5, abs=0.035)
    g = dev.conductance(state)
    assert set(g.unique().tolist()) <= {c.mtj.g_p, c.mtj.g_ap}
    assert dev.conductance_range() == (c.mtj.g_ap, c.mtj.g_p)
    # A pulse much shorter than the dwell time leaves the state (almost always) and costs V^2 G t.
    short, e = dev.apply(state, Pulses(amplitude=0.3, width_s=1e-9, kind="voltage"), generator=gen)
    assert float((short["parallel"] != state["parallel"]).double().mean()) < 1e-3
    assert torch.allclose(e, 0.09 * g * 1e-9, rtol=1e-5)
    # A long bias (100 retention times) relaxes to the stationary occupancy p(V).
    v = float(rng.bias_for_probability(0.9, c))
    long, e = dev.apply(state, Pulses(amplitude=v, width_s=5e-3, count=100, kind="voltage"), generator=gen)
    assert float(long["parallel"].double().mean()) == pytest.approx(0.9, abs=0.02)
    assert float(e.mean()) == pytest.approx(v**2 * float(rng.mean_conductance(v, c)) * 0.5, rel=0.02)
    cur, _ = dev.apply(state, Pulses(amplitude=-5e-6, width_s=1.0), generator=gen)
    assert float(cur["parallel"].double().mean()) < 0.2
    bits, after = dev.sample_bits(state, torch.tensor([v, -v]).repeat(2000), 200, generator=gen)
    assert bits.shape == (4000, 200) and torch.equal(after["parallel"], bits[:, -1])
    assert float(bits[0::2].double().mean()) == pytest.approx(0.9, abs=0.01)
    assert float(bits[1::2].double().mean()) == pytest.approx(0.1, abs=0.01)
    spread = make_device("smtj", delta0_dtod=0.05).init_state((1000,), generator=gen)
    assert 0.02 < float(spread["delta0"].std() / spread["delta0"].mean()) < 0.08


def test_mtj_rng_experiment_small(tmp_path):
    from spinaptic.experiments.base import run_experiment

    small = dict(n_voltages=7, samples_per_voltage=300, n_dwells=300, n_corr_intervals=3, corr_streams=40,
                 corr_length=256, psd_segments=8, psd_length=512, n_energy=12, throughput_streams=2000,
                 throughput_length=256)
    doc = run_experiment("mtj-rng", preset="quick", out_dir=tmp_path, overrides=small, quiet=True)
    assert (tmp_path / "result.json").exists() and (tmp_path / "summary.md").exists()
    assert len(doc["figures"]) == 5 and all((tmp_path / f).exists() for f in doc["figures"])
    m = doc["metrics"]
    assert m["span_5_95_v"] < 1.0 and m["max_current_5_95_a"] < 5e-6
    assert m["energy_paper_model_10ns_j"] == pytest.approx(20e-15)
    rows = {c["quantity"].split(" (")[0]: c for c in doc["comparisons"]}
    span = rows["Fig. 3: bias span 5 % -> 95 % P"]
    assert span["kind"] == "calibrated" and span["verdict"] == "info" and span["ours"] < 1.0
    energy = next(c for c in doc["comparisons"] if c["kind"] == "paper")
    assert energy["paper"] == "~20 fJ" and energy["ours"] == pytest.approx(m["energy_our_junction_1v_10ns_j"] * 1e15,
                                                                           abs=0.05)
    assert all(c["kind"] in ("paper", "check", "calibrated") for c in doc["comparisons"])
    with pytest.raises(ConfigError, match="n_voltages"):
        run_experiment("mtj-rng", preset="quick", out_dir=tmp_path, overrides={"n_voltages": 1}, quiet=True)


def test_paper004_identities_are_unit_tests_not_comparisons():
    """The paper's own arithmetic, checked here instead of as comparison rows (they cannot fail)."""
    c = rng.SMTJConfig()
    # barrier = ln(tau / tau0): ~5 ms at tau0 = 1 ns is 15.4 k_BT, "< 16 k_BT".
    assert c.barrier == pytest.approx(math.log(5e-3 / 1e-9)) and c.barrier < 16
    # R_P = RA / area with the paper's RA 440 Ohm um^2 and 50 nm; R_AP = R_P (1 + TMR).
    assert c.mtj.r_p == pytest.approx(440e-12 / (math.pi * 25e-9**2)) and c.mtj.r_ap == pytest.approx(2.3 * c.mtj.r_p)
    # Energy per bit V^2 / R x tau with the paper's ~1 V, 500 kOhm, tau ~10 ns: ~20 fJ.
    assert float(rng.resistor_energy_per_bit(1.0, 500e3, 10e-9)) == pytest.approx(20e-15)
    # ... equal to a ~10 fJ CMOS LFSR at tau = 5 ns.
    assert float(rng.resistor_energy_per_bit(1.0, 500e3, 5e-9)) == pytest.approx(10e-15)
    # 50 nm -> 20 nm: ~6.25x less volume, E_b ~2.5 k_BT, tau ~10 ns.
    d20 = c.barrier * (20 / 50) ** 2
    assert (50 / 20) ** 2 == pytest.approx(6.25) and d20 == pytest.approx(2.5, abs=0.05)
    assert tg.retention_time(d20, c.tau0_s) == pytest.approx(10e-9, rel=0.2)
    # energy_per_bit is V^2 <G> t, <G> the occupancy-weighted conductance.
    g = float(rng.mean_conductance(0.3, c))
    assert float(rng.energy_per_bit(c, 0.3, 1e-8)) == pytest.approx(0.09 * g * 1e-8)


def test_mtj_rng_result_independent_of_thread_count(tmp_path):
    """result.json of one seed is identical for 1 and 2 CPU threads (full reductions, FFT and the PSD fit are
    computed in a fixed order)."""
    import json

    from spinaptic.experiments.base import VOLATILE_FIELDS, run_experiment

    small = dict(n_voltages=7, samples_per_voltage=300, n_dwells=300, n_corr_intervals=3, corr_streams=64,
                 corr_length=1024, psd_segments=16, psd_length=2048, n_energy=12, throughput_streams=2000,
                 throughput_length=256)
    docs = [run_experiment("mtj-rng", preset="quick", out_dir=tmp_path / str(n), overrides=small, quiet=True,
                           seed=3, threads=n) for n in (1, 2)]
    a, b = ({k: v for k, v in d.items() if k not in VOLATILE_FIELDS} for d in docs)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
