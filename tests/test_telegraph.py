"""Telegraph process of a superparamagnetic MTJ against closed forms (device-physics.md (d), check D1)."""

import math

import pytest
import torch
from scipy import stats

from spinaptic.config import ConfigError
from spinaptic.physics import telegraph as tg

F64 = torch.float64


def test_retention_anchor():
    # D1: Delta0 = 15.4 with tau0 = 1 ns gives a mean dwell of 4.9 ms; the default ln(5e6) gives 5 ms.
    assert tg.TelegraphParams(delta0=15.4).retention_s == pytest.approx(4.88e-3, rel=2e-3)
    p = tg.TelegraphParams()
    assert p.retention_s == pytest.approx(5e-3, rel=1e-9) and p.delta0 < 16
    g_pa, g_ap = tg.rates(0.0, p)
    assert float(1 / g_pa) == pytest.approx(5e-3) and float(1 / g_ap) == pytest.approx(5e-3)


@pytest.mark.parametrize("h", [0.0, 0.15, -0.3])
def test_occupancy_is_tanh_and_width(h):
    p = tg.TelegraphParams(delta0=15.4, i_c0_a=10e-6, h_off_ratio=h)
    i = torch.linspace(-0.9, 0.9, 181, dtype=F64) * p.i_c0_a
    i0 = p.offset_current_a
    expected = torch.tanh(p.delta0 * (1 + h * h) * (i - i0) / p.i_c0_a)
    assert torch.allclose(tg.mean_magnetisation(i, p), expected, atol=1e-12)
    # 5 % -> 95 % width = ln(19) I_c0 / Delta0 = 2.944 I_c0 / Delta0 (h = 0): 1.91 uA for 10 uA.
    w = p.width_5_95_a
    occ = tg.occupancy_p(torch.tensor([i0 - w / 2, i0 + w / 2], dtype=F64), p)
    assert torch.allclose(occ, torch.tensor([0.05, 0.95], dtype=F64), atol=1e-12)
    if h == 0:
        assert w == pytest.approx(1.91e-6, rel=2e-3) and tg.LN19 == pytest.approx(2.944, abs=1e-3)
    # Rates and occupancy agree; positive current stabilises P.
    g_pa, g_ap = tg.rates(i, p)
    assert torch.allclose(tg.stationary_p(g_pa, g_ap), tg.occupancy_p(i, p), atol=1e-14)
    d_p, d_ap = tg.barriers(i, p)
    assert bool((torch.diff(d_p - d_ap) > 0).all()) and bool((torch.diff(tg.occupancy_p(i, p)) >= 0).all())


def test_transition_matrix_is_exact():
    g_pa = torch.tensor([300.0, 1e3, 5.0], dtype=F64)
    g_ap = torch.tensor([100.0, 1e3, 2e4], dtype=F64)
    for dt in (1e-5, 1e-3, 0.1):
        leave, enter = tg.transition_probabilities(g_pa, g_ap, dt)
        for k in range(3):
            q = torch.tensor([[-g_pa[k], g_pa[k]], [g_ap[k], -g_ap[k]]], dtype=F64)
            m = torch.linalg.matrix_exp(q * dt)  # rows: from P, from AP; columns: to P, to AP
            assert float(leave[k]) == pytest.approx(float(m[0, 1]), rel=1e-8, abs=1e-15)
            assert float(enter[k]) == pytest.approx(float(m[1, 0]), rel=1e-8, abs=1e-15)
    # Chapman-Kolmogorov for the occupancy; piecewise-constant drive.
    p1 = tg.propagate_occupancy(1.0, g_pa, g_ap, 2e-3)
    p2 = tg.propagate_occupancy(tg.propagate_occupancy(1.0, g_pa, g_ap, 1e-3), g_pa, g_ap, 1e-3)
    assert torch.allclose(p1, p2, atol=1e-14)
    seq = tg.evolve_occupancy(0.0, torch.stack([g_pa, g_ap]), torch.stack([g_ap, g_pa]), torch.tensor([1e-3, 2e-3]))
    step2 = tg.propagate_occupancy(tg.propagate_occupancy(0.0, g_pa, g_ap, 1e-3), g_ap, g_pa, 2e-3)
    assert seq.shape == (2, 3) and torch.allclose(seq[1], step2, atol=1e-14)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_sampled_bits_marginal_and_autocorrelation(backend):
    # Bits sampled every dt: lag-k correlation lambda^k with lambda = exp(-(G1 + G2) dt).
    g_pa, g_ap = torch.tensor(150.0, dtype=F64), torch.tensor(350.0, dtype=F64)
    dt = 1e-3
    gen = torch.Generator().manual_seed(3)
    bits = tg.sample_telegraph(g_pa.expand(3000), g_ap.expand(3000), dt, 256, gen, backend=backend)
    assert bits.dtype == torch.bool and bits.shape == (3000, 256)
    pi = float(tg.stationary_p(g_pa, g_ap))
    n_eff = bits.numel() * (1 - 0.61) / (1 + 0.61)
    assert abs(float(bits.double().mean()) - pi) < 4 * math.sqrt(pi * (1 - pi) / n_eff)
    first = bits[:, 0].double().mean()
    assert abs(float(first) - pi) < 4 * math.sqrt(pi * (1 - pi) / 3000)
    rho = tg.empirical_autocorrelation(bits, 3, mean=pi)
    lam = float(tg.sampled_bit_correlation(dt, g_pa, g_ap))
    assert lam == pytest.approx(math.exp(-0.5))
    for k in (1, 2, 3):
        assert float(rho[k]) == pytest.approx(lam**k, abs=0.012)


def test_sampling_reproducible_and_start_state():
    p = torch.full((50,), 0.3, dtype=F64)
    a = tg.sample_markov_bits(p, p, p, 40, torch.Generator().manual_seed(7))
    b = tg.sample_markov_bits(p, p, p, 40, torch.Generator().manual_seed(7))
    c = tg.sample_markov_bits(p, p, p, 40, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # Slow switching (s dt = 1e-6): the chain keeps its start state.
    g = torch.full((200,), 1.0, dtype=F64)
    start = torch.arange(200) % 2 == 0
    bits = tg.sample_telegraph(g, g, 1e-6, 5, torch.Generator().manual_seed(0), start=start)
    assert torch.equal(bits[:, -1], start)
    zero_one = tg.sample_markov_bits(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0]), 64)
    assert not bool(zero_one[0].any()) and bool(zero_one[1].all())


def test_gillespie_dwells_exponential_and_trace():
    g_pa, g_ap = torch.tensor(200.0, dtype=F64), torch.tensor(50.0, dtype=F64)
    gen = torch.Generator().manual_seed(11)
    start, dwell = tg.gillespie_dwells(g_pa.expand(2), g_ap.expand(2), 8000, gen)
    k = torch.arange(8000)
    in_p = start[:, None] ^ (k % 2 == 1)
    d_p, d_ap = dwell[in_p].numpy(), dwell[~in_p].numpy()
    assert stats.kstest(d_p, "expon", args=(0, 1 / 200.0)).pvalue > 1e-3
    assert stats.kstest(d_ap, "expon", args=(0, 1 / 50.0)).pvalue > 1e-3
    # Sampled trace of many Gillespie runs: occupancy and correlation at one correlation time.
    start, dwell = tg.gillespie_dwells(g_pa.expand(20000), g_ap.expand(20000), 40, gen)
    tc = 1 / 250.0
    x = tg.trace_from_dwells(start, dwell, torch.tensor([0.0, tc], dtype=F64)).double()
    assert float(x[:, 0].mean()) == pytest.approx(0.2, abs=0.012)
    corr = float(torch.corrcoef(x.T)[0, 1])
    assert corr == pytest.approx(math.exp(-1), abs=0.03)


def test_dwell_times_from_sampled_trace_geometric():
    g_pa, g_ap = torch.tensor(400.0, dtype=F64), torch.tensor(100.0, dtype=F64)
    dt = 5e-5
    x = tg.sample_telegraph(g_pa, g_ap, dt, 400_000, torch.Generator().manual_seed(5))
    d_p, d_ap = tg.dwell_times_from_samples(x, dt)
    leave, enter = tg.transition_probabilities(g_pa, g_ap, dt)
    # Run lengths are geometric: mean dwell = dt / P(leave in dt) -> 1 / Gamma for small dt.
    for d, q, g in ((d_p, leave, g_pa), (d_ap, enter, g_ap)):
        mean = float(d.mean())
        assert mean == pytest.approx(dt / float(q), rel=4 / math.sqrt(d.numel()))
        assert mean == pytest.approx(1 / float(g), rel=0.05)
        ks = stats.kstest(d.numpy(), "expon", args=(0, 1 / float(g)))
        assert ks.statistic < 0.05
        ours = tg.ks_exponential(d, 1 / float(g))
        assert ours[0] == pytest.approx(ks.statistic, rel=1e-9) and ours[1] == pytest.approx(ks.pvalue, abs=0.02)
        steps = torch.round(d / dt)
        dg, pg = tg.ks_geometric(steps, float(q))
        k = torch.arange(1, int(steps.max()) + 2, dtype=F64)  # brute force over the integer support
        f_emp = (steps[None, :] <= k[:, None]).double().mean(1)
        f_th = 1 - (1 - float(q)) ** k
        brute = float((f_emp - f_th).abs().max())
        assert dg == pytest.approx(brute, rel=1e-9, abs=1e-12) and pg > 1e-3
    # Several traces at once: runs never straddle two rows.
    rows = torch.tensor([[1, 1, 0, 0, 0, 1, 1], [0, 1, 1, 0, 1, 1, 1]], dtype=torch.bool)
    d_p, d_ap = tg.dwell_times_from_samples(rows, 1.0)
    assert sorted(d_p.tolist()) == [2.0] and sorted(d_ap.tolist()) == [1.0, 3.0]


def test_psd_lorentzian_and_corner():
    g1, g2 = 300.0, 700.0
    f = torch.logspace(-1, 6, 20001, dtype=F64)
    s = tg.psd_lorentzian(f, g1, g2, delta_x=2.0)
    # Wiener-Khinchin: the integral of the one-sided PSD is the variance dX^2 G1 G2 / (G1 + G2)^2.
    var = torch.trapezoid(s, f) + float(s[0]) * float(f[0])
    assert float(var) == pytest.approx(4.0 * g1 * g2 / 1000.0**2, rel=2e-3)
    fc = tg.corner_frequency(g1, g2)
    assert fc == pytest.approx(1000 / (2 * math.pi))
    assert float(tg.psd_lorentzian(torch.tensor(fc), g1, g2) / tg.psd_lorentzian(torch.tensor(0.0), g1, g2)) == 0.5
    # The sampled (aliased) PSD tends to the Lorentzian for s dt -> 0.
    ff = torch.tensor([1.0, 50.0, 300.0], dtype=F64)
    assert torch.allclose(tg.psd_sampled(ff, g1, g2, 1e-7), tg.psd_lorentzian(ff, g1, g2), rtol=1e-3)
    # Periodogram of a simulated trace: fitted corner within 5 % of (G1 + G2) / 2 pi.
    dt = 1e-4
    x = tg.sample_telegraph(torch.tensor(g1, dtype=F64).expand(200), torch.tensor(g2, dtype=F64).expand(200), dt,
                            2048, torch.Generator().manual_seed(2))
    fr, ps = tg.estimate_psd(x, dt)
    assert tg.fit_corner_frequency(fr, ps, dt) == pytest.approx(fc, rel=0.05)
    model = tg.psd_sampled(fr, g1, g2, dt)
    assert float((ps / model).mean()) == pytest.approx(1.0, abs=0.03)


def test_bad_inputs_raise():
    with pytest.raises(ConfigError, match="barrier"):
        tg.TelegraphParams(delta0=0.0)
    with pytest.raises(ConfigError, match="barrier"):
        tg.TelegraphParams(delta0=-3.0)
    with pytest.raises(ConfigError, match="h_off"):
        tg.TelegraphParams(h_off_ratio=1.0)
    with pytest.raises(ConfigError, match="tau0"):
        tg.TelegraphParams(tau0_s=0.0)
    g = torch.tensor([1.0], dtype=F64)
    with pytest.raises(ConfigError, match="interval"):
        tg.sample_telegraph(g, g, 0.0, 10)
    with pytest.raises(ConfigError, match="length"):
        tg.sample_telegraph(g, g, 1e-3, 0)
    with pytest.raises(ConfigError, match="backend"):
        tg.sample_markov_bits(g, g, g, 4, backend="gpu")
    with pytest.raises(ConfigError, match="max_lag"):
        tg.empirical_autocorrelation(torch.zeros(3, 4, dtype=torch.bool), 4)


def test_reductions_fft_and_psd_fit_do_not_depend_on_thread_count():
    """Full reductions, the periodogram and the corner fit are bit-identical for 1 and 2 threads (torch splits
    sums over > 32768 elements by thread count, and MKL's FFT / LAPACK guarantee neither order nor alignment)."""
    gen = torch.Generator().manual_seed(11)
    x = tg.sample_telegraph(torch.full((16,), 90.0, dtype=torch.float64), torch.full((16,), 110.0, dtype=torch.float64),
                            1e-4, 4096, gen)
    r = torch.where(x, 1.0, 2.3).to(torch.float64)
    old = torch.get_num_threads()
    out = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            f, s = tg.estimate_psd(r, 1e-4)
            out.append((tg.ordered_sum(r).item(), tg.empirical_autocorrelation(x, 3, mean=0.45).tolist(),
                        s.tolist(), tg.fit_corner_frequency(f, s, 1e-4)))
    finally:
        torch.set_num_threads(old)
    assert out[0] == out[1]
    assert out[0][0] == pytest.approx(float(r.sum()), rel=1e-12)
    assert out[0][3] == pytest.approx(float(tg.corner_frequency(90.0, 110.0)), rel=0.1)
