"""Superparamagnetic MTJ as a two-state continuous-time Markov chain (random telegraph process).

States P (parallel, low resistance) and AP. The thermally activated barriers are tilted by spin-transfer
torque (linear in current, Koch et al. PRL 92, 088302, 2004) and by a net offset field (quadratic):

    Delta_P  = Delta0 (1 + h)^2 (1 + I_P  / I_c0),    Delta_AP = Delta0 (1 - h)^2 (1 - I_AP / I_c0),

with h = H_off / H_K, both clipped at 0; positive current and positive h stabilise P. ``I_P`` and ``I_AP``
are the currents flowing while the junction is in P and in AP (for a voltage bias V: V / R_P and V / R_AP).
The escape rates are Gamma_{P->AP} = exp(-Delta_P) / tau0 and Gamma_{AP->P} = exp(-Delta_AP) / tau0
(Néel-Brown; device-physics.md (d); paper 004 (Shao et al., IEEE Magn. Lett. 2020): tau = tau0 exp(E_b/k_BT),
tau0 ~ 1 ns, retention ~5 ms, E_b < 16 k_BT).

Exact results used throughout (s = Gamma_{P->AP} + Gamma_{AP->P}, pi = Gamma_{AP->P} / s):

* stationary occupancy p_P = pi = 1 / (1 + exp(Delta_AP - Delta_P)), a logistic in the current, so
  <m> = 2 p_P - 1 = tanh(Delta0 (1 + h^2)(I - I0) / I_c0), I0 = -2 h I_c0 / (1 + h^2), and the 5 % -> 95 %
  width is ln(19) I_c0 / (Delta0 (1 + h^2)) = 2.944 I_c0 / Delta0 at h = 0;
* over an interval dt of constant drive, P(P -> AP) = (1 - pi)(1 - e^{-s dt}) and P(AP -> P) = pi (1 - e^{-s dt})
  (the two-state transition matrix; valid for any dt, several flips included);
* dwell times are exponential with means 1 / Gamma; the normalised autocorrelation is e^{-s |t|}, so bits
  sampled every dt have lag-k correlation lambda^k with lambda = e^{-s dt};
* one-sided PSD of a signal X switching by dX: S(f) = 4 dX^2 Gamma1 Gamma2 / s / (s^2 + (2 pi f)^2), a
  Lorentzian with corner f_c = s / (2 pi).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from numba import njit, prange

from ..config import ConfigError, check_int, check_positive, check_range
from ..rng import draw_key
from ..rng._kernels import GOLDEN, mix64

LN19 = math.log(19.0)
"""ln(19): the logistic's 5 % -> 95 % span in units of its argument (2.944)."""


@dataclass(frozen=True)
class TelegraphParams:
    """Thermal-activation parameters of a superparamagnetic free layer.

    Attributes:
        delta0: zero-bias barrier E_b / k_BT (> 0). Default ln(5e6) = 15.42, so tau0 e^Delta0 = 5 ms, the
            retention of paper 004 (Shao 2020: "~5 ms, E_b < 16 k_BT").
        tau0_s: attempt time tau0 [s] (> 0); paper 004: "on the order of 1 ns".
        i_c0_a: intrinsic critical current I_c0 [A] (> 0) of the linear STT barrier modulation.
        h_off_ratio: net offset field over anisotropy field, H_off / H_K, in (-1, 1); > 0 favours P.
    """

    delta0: float = math.log(5e6)
    tau0_s: float = 1e-9
    i_c0_a: float = 14e-6
    h_off_ratio: float = 0.0

    def __post_init__(self) -> None:
        check_positive("delta0 (energy barrier)", self.delta0, unit="k_BT")
        check_positive("tau0_s (attempt time)", self.tau0_s, unit="s")
        check_positive("i_c0_a (critical current)", self.i_c0_a, unit="A")
        check_range("h_off_ratio (H_off / H_K)", self.h_off_ratio, -1.0, 1.0, lo_open=True, hi_open=True)

    @property
    def retention_s(self) -> float:
        """Mean dwell time at zero bias and zero offset, tau0 exp(Delta0) [s]."""
        return retention_time(self.delta0, self.tau0_s)

    @property
    def width_5_95_a(self) -> float:
        """5 % -> 95 % width of p_P(I) [A] when the same current flows in both states."""
        return LN19 * self.i_c0_a / (self.delta0 * (1.0 + self.h_off_ratio**2))

    @property
    def offset_current_a(self) -> float:
        """Current I0 [A] of 50 % occupancy (same current in both states): -2 h I_c0 / (1 + h^2)."""
        h = self.h_off_ratio
        return -2.0 * h * self.i_c0_a / (1.0 + h * h)


def retention_time(delta0: torch.Tensor | float, tau0_s: torch.Tensor | float = 1e-9) -> torch.Tensor | float:
    """Néel-Brown retention tau = tau0 exp(Delta0) [s] (barrier in k_BT)."""
    if isinstance(delta0, torch.Tensor):
        return tau0_s * torch.exp(delta0)
    return tau0_s * math.exp(delta0)


def barrier_for_retention(retention_s: float, tau0_s: float = 1e-9) -> float:
    """Barrier Delta0 = ln(tau / tau0) [k_BT] whose Néel-Brown retention is ``retention_s`` [s] (inverse of
    `retention_time`); paper 004's 10 ns at tau0 = 1 ns: ln 10 = 2.30 k_BT."""
    check_positive("retention_s", retention_s, unit="s")
    check_positive("tau0_s", tau0_s, unit="s")
    return math.log(retention_s / tau0_s)


def _t(x, ref: torch.Tensor | None = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() else x.to(torch.float64)
    dev = ref.device if ref is not None else None
    return torch.as_tensor(x, dtype=torch.float64, device=dev)


def barriers(
    current_p_a: torch.Tensor | float,
    p: TelegraphParams,
    current_ap_a: torch.Tensor | float | None = None,
    delta0: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Delta_P, Delta_AP) in k_BT for the currents [A] flowing in the P and AP states.

    ``current_ap_a`` defaults to ``current_p_a`` (current bias). ``delta0`` overrides ``p.delta0`` (e.g. a
    per-device tensor for device-to-device variation). Infinite currents are allowed (a barrier goes to 0 or inf).
    """
    i_p = _t(current_p_a)
    i_ap = i_p if current_ap_a is None else _t(current_ap_a, i_p)
    d0 = p.delta0 if delta0 is None else delta0
    h = p.h_off_ratio
    d_p = d0 * (1.0 + h) ** 2 * (1.0 + i_p / p.i_c0_a).clamp_min(0.0)
    d_ap = d0 * (1.0 - h) ** 2 * (1.0 - i_ap / p.i_c0_a).clamp_min(0.0)
    return d_p, d_ap


def rates(
    current_p_a: torch.Tensor | float,
    p: TelegraphParams,
    current_ap_a: torch.Tensor | float | None = None,
    delta0: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Gamma_{P->AP}, Gamma_{AP->P}) = (exp(-Delta_P), exp(-Delta_AP)) / tau0 [1/s]; arguments as in `barriers`."""
    d_p, d_ap = barriers(current_p_a, p, current_ap_a, delta0)
    return torch.exp(-d_p) / p.tau0_s, torch.exp(-d_ap) / p.tau0_s


def occupancy_p(
    current_p_a: torch.Tensor | float,
    p: TelegraphParams,
    current_ap_a: torch.Tensor | float | None = None,
    delta0: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """Stationary probability of P, 1 / (1 + exp(Delta_AP - Delta_P)), computed stably from the barriers."""
    d_p, d_ap = barriers(current_p_a, p, current_ap_a, delta0)
    diff = d_p - d_ap
    return torch.sigmoid(torch.nan_to_num(diff, nan=0.0))


def stationary_p(gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor) -> torch.Tensor:
    """pi_P = Gamma_{AP->P} / (Gamma_{P->AP} + Gamma_{AP->P})."""
    return gamma_ap_to_p / (gamma_p_to_ap + gamma_ap_to_p)


def mean_magnetisation(current_a: torch.Tensor | float, p: TelegraphParams) -> torch.Tensor:
    """<m> = p_P - p_AP = tanh(Delta0 (1 + h^2)(I - I0) / I_c0) for the same current in both states."""
    return 2.0 * occupancy_p(current_a, p) - 1.0


def transition_probabilities(
    gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor, dt_s: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact probabilities of ending in the other state after ``dt_s`` [s] of constant rates.

    Returns (P(P at t+dt | P at t) complement, P(P at t+dt | AP at t)) =
    ((1 - pi)(1 - e^{-s dt}), pi (1 - e^{-s dt})), with s the rate sum and pi the stationary P occupancy.
    """
    s = gamma_p_to_ap + gamma_ap_to_p
    one_minus_lam = -torch.expm1(-s * _t(dt_s, s))
    pi = stationary_p(gamma_p_to_ap, gamma_ap_to_p)
    return (1.0 - pi) * one_minus_lam, pi * one_minus_lam


def propagate_occupancy(
    p_p0: torch.Tensor | float, gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor, dt_s: torch.Tensor | float
) -> torch.Tensor:
    """Occupancy of P after ``dt_s`` [s] of constant rates: pi + (p0 - pi) e^{-s dt}."""
    s = gamma_p_to_ap + gamma_ap_to_p
    pi = stationary_p(gamma_p_to_ap, gamma_ap_to_p)
    return pi + (_t(p_p0, s) - pi) * torch.exp(-s * _t(dt_s, s))


def evolve_occupancy(
    p_p0: torch.Tensor | float, gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor, dt_s: torch.Tensor
) -> torch.Tensor:
    """Occupancy of P after each interval of a piecewise-constant drive.

    ``gamma_*`` and ``dt_s`` have the time axis first ([T, ...]); returns [T, ...] (a loop over intervals only).
    """
    dt_s = _t(dt_s, gamma_p_to_ap)
    out = []
    p = _t(p_p0, gamma_p_to_ap)
    for k in range(gamma_p_to_ap.shape[0]):
        dtk = dt_s[k] if dt_s.dim() else dt_s
        p = propagate_occupancy(p, gamma_p_to_ap[k], gamma_ap_to_p[k], dtk)
        out.append(p)
    return torch.stack(out)


def sample_transition(
    parallel: torch.Tensor,
    gamma_p_to_ap: torch.Tensor,
    gamma_ap_to_p: torch.Tensor,
    dt_s: torch.Tensor | float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Exact one-interval update of bool states (True = P) under constant rates, for any ``dt_s`` [s]."""
    p_leave_p, p_enter_p = transition_probabilities(gamma_p_to_ap, gamma_ap_to_p, dt_s)
    p_p_end = torch.where(parallel, 1.0 - p_leave_p, p_enter_p)
    u = torch.rand(parallel.shape, generator=generator, dtype=p_p_end.dtype, device=parallel.device)
    return u < p_p_end


# ------------------------------------------------------------------------------- sampled two-state chain
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_SCALE32 = 4294967296.0


@njit(cache=True, parallel=True)
def _markov_bits_kernel(thr_first, thr_stay, thr_enter, length, seed, out):  # pragma: no cover - compiled
    """out[i, k] = sample k of chain i. Thresholds are probabilities x 2^32 compared with 32-bit uniforms, two
    per SplitMix64 output; each chain has its own stream keyed by (seed, i), so results do not depend on threading.
    """
    n = thr_first.shape[0]
    for i in prange(n):
        state = mix64(seed ^ mix64(np.uint64(i) + GOLDEN))
        ts = thr_stay[i]
        te = thr_enter[i]
        state += GOLDEN
        r = mix64(state)
        x = (r & _LOW32) < thr_first[i]
        out[i, 0] = x
        hi = r >> _S32
        k = 1
        while k < length:
            x = hi < te + (ts - te) * np.uint64(x)  # branch-free: ts if x else te
            out[i, k] = x
            k += 1
            if k >= length:
                break
            state += GOLDEN
            r = mix64(state)
            x = (r & _LOW32) < te + (ts - te) * np.uint64(x)
            out[i, k] = x
            k += 1
            hi = r >> _S32


def _thresholds(p: torch.Tensor) -> np.ndarray:
    q = p.detach().to("cpu", torch.float64).clamp(0.0, 1.0).reshape(-1).numpy()
    return np.floor(q * _SCALE32).astype(np.uint64)


def sample_markov_bits(
    p_first: torch.Tensor,
    p_stay: torch.Tensor,
    p_enter: torch.Tensor,
    length: int,
    generator: torch.Generator | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    """Sample many two-state discrete-time Markov chains; returns bool [..., length].

    Bit 0 is 1 with probability ``p_first``; afterwards a 1 stays 1 with probability ``p_stay`` and a 0 becomes
    1 with probability ``p_enter`` (all broadcast to one shape). ``backend``: "numba" (compiled CPU kernel, one
    SplitMix64 stream per chain seeded from ``generator``; probabilities resolved to 2^-32), "torch" (a loop over the length with tensor ops, any
    device) or "auto" (numba for CPU tensors).
    """
    check_int("length (bits per stream)", length, 1)
    if backend not in ("auto", "numba", "torch"):
        raise ConfigError(f"backend = {backend!r} is not one of 'auto', 'numba', 'torch'")
    p_first, p_stay, p_enter = torch.broadcast_tensors(_t(p_first), _t(p_stay), _t(p_enter))
    shape, dev = p_first.shape, p_first.device
    if backend == "auto":
        backend = "numba" if dev.type == "cpu" else "torch"
    if backend == "numba":
        seed = int(draw_key(generator))
        n = int(np.prod(shape)) if len(shape) else 1
        out = np.empty((n, length), dtype=np.bool_)
        _markov_bits_kernel(
            _thresholds(p_first), _thresholds(p_stay), _thresholds(p_enter), length, np.uint64(seed), out
        )
        return torch.from_numpy(out).reshape(*shape, length).to(dev)
    out = torch.empty((*shape, length), dtype=torch.bool, device=dev)
    x = torch.rand(shape, generator=generator, dtype=p_first.dtype, device=dev) < p_first
    out[..., 0] = x
    for k in range(1, length):
        u = torch.rand(shape, generator=generator, dtype=p_first.dtype, device=dev)
        x = u < torch.where(x, p_stay, p_enter)
        out[..., k] = x
    return out


def sample_telegraph(
    gamma_p_to_ap: torch.Tensor,
    gamma_ap_to_p: torch.Tensor,
    dt_s: torch.Tensor | float,
    length: int,
    generator: torch.Generator | None = None,
    start: torch.Tensor | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    """The telegraph process sampled every ``dt_s`` [s] (> 0): bool [..., length], True = P.

    Exact for any ``dt_s``: consecutive samples follow the two-state transition matrix over dt, so they are
    correlated with lag-1 coefficient e^{-s dt} when dt is comparable to the dwell times. With ``start=None``
    the first sample is drawn from the stationary distribution; otherwise ``start`` (bool, True = P) is the
    state one interval before the first sample.
    """
    dt = _t(dt_s, gamma_p_to_ap)
    if dt.numel() and bool((dt <= 0).any()):
        raise ConfigError(f"sampling interval dt_s must be > 0 s, got min {float(dt.min())!r} s")
    p_leave, p_enter = transition_probabilities(gamma_p_to_ap, gamma_ap_to_p, dt)
    p_stay = 1.0 - p_leave
    if start is None:
        p_first = stationary_p(gamma_p_to_ap, gamma_ap_to_p)
    else:
        p_first = torch.where(start, p_stay, p_enter)
    return sample_markov_bits(p_first, p_stay, p_enter, length, generator, backend)


# ------------------------------------------------------------------------------- dwell times (Gillespie)
def gillespie_dwells(
    gamma_p_to_ap: torch.Tensor,
    gamma_ap_to_p: torch.Tensor,
    n_dwells: int,
    generator: torch.Generator | None = None,
    start: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Event-driven (Gillespie) telegraph traces under constant rates.

    Returns (start state bool [...], dwell times [..., n_dwells] [s]): the trace starts in ``start`` (default:
    drawn from the stationary distribution) at t = 0 and alternates states; dwell k lasts -ln(U) / Gamma of the
    state it is spent in. Exponential by construction; used for traces, dwell statistics and PSDs.
    """
    check_int("n_dwells", n_dwells, 1)
    g_pa, g_ap = torch.broadcast_tensors(_t(gamma_p_to_ap), _t(gamma_ap_to_p))
    if start is None:
        pi = stationary_p(g_pa, g_ap)
        start = torch.rand(pi.shape, generator=generator, dtype=pi.dtype, device=pi.device) < pi
    start = start.expand(g_pa.shape)
    k = torch.arange(n_dwells, device=g_pa.device)
    in_p = start[..., None] ^ (k % 2 == 1)  # state during dwell k
    rate = torch.where(in_p, g_pa[..., None], g_ap[..., None])
    e = torch.empty(rate.shape, dtype=rate.dtype, device=rate.device).exponential_(generator=generator)
    return start, e / rate


def trace_from_dwells(start: torch.Tensor, dwells: torch.Tensor, times_s: torch.Tensor) -> torch.Tensor:
    """State (True = P) of Gillespie traces at ``times_s`` [s] ([T] or [..., T]); times beyond the last switch
    report the last state (draw enough dwells)."""
    edges = dwells.cumsum(-1)
    t = times_s.to(edges.dtype).expand(*edges.shape[:-1], times_s.shape[-1]).contiguous()
    n_switch = torch.searchsorted(edges.contiguous(), t, right=True)
    return start[..., None] ^ (n_switch % 2 == 1)


def dwell_times_from_samples(samples: torch.Tensor, dt_s: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Complete dwell times [s] in P and in AP of sampled traces (bool [..., N], True = P; each row one trace),
    as run length x dt. The first and last run of every trace are censored and dropped."""
    check_positive("dt_s (sampling interval)", dt_s, unit="s")
    x = samples.reshape(-1, samples.shape[-1])
    row, col = torch.nonzero(x[:, 1:] != x[:, :-1], as_tuple=True)  # a new run starts at col + 1
    same = row[1:] == row[:-1]
    lengths = (col[1:] - col[:-1])[same].to(torch.float64) * dt_s
    state = x[row[1:][same], col[1:][same]]  # a run's last sample is where the next change happens
    return lengths[state], lengths[~state]


def _kolmogorov_p(d: float, n: int) -> float:
    """Asymptotic KS p-value 2 sum_k (-1)^(k-1) exp(-2 k^2 lam^2), lam = (sqrt n + 0.12 + 0.11/sqrt n) D."""
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    if lam < 0.3:  # the series converges slowly there and p > 0.9999
        return 1.0
    p = 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return min(max(p, 0.0), 1.0)


def ks_exponential(samples: torch.Tensor, mean: float) -> tuple[float, float]:
    """Kolmogorov-Smirnov test of ``samples`` against an exponential law of ``mean``: (D, asymptotic p-value)."""
    check_positive("mean", mean)
    x = torch.sort(samples.to(torch.float64).reshape(-1)).values
    n = x.numel()
    if n == 0:
        raise ConfigError("ks_exponential needs at least one sample")
    cdf = -torch.expm1(-x / mean)
    i = torch.arange(1, n + 1, dtype=torch.float64, device=x.device)
    d = float(torch.maximum(i / n - cdf, cdf - (i - 1) / n).max())
    return d, _kolmogorov_p(d, n)


def ks_geometric(steps: torch.Tensor, q: float) -> tuple[float, float]:
    """KS test of integer run lengths ``steps`` (>= 1) against the geometric law P(K <= k) = 1 - (1 - q)^k.

    This is the exact law of dwell times read off a trace sampled every dt (q = probability of leaving the state
    within dt). D is evaluated over the whole integer support; the asymptotic p-value is conservative for
    discrete laws.
    """
    check_range("q (leave probability per step)", q, 0.0, 1.0, lo_open=True)
    k = steps.to(torch.int64).reshape(-1)
    n = k.numel()
    if n == 0:
        raise ConfigError("ks_geometric needs at least one sample")
    vals, counts = torch.unique(k, sorted=True, return_counts=True)
    if int(vals[0]) < 1:
        raise ConfigError("ks_geometric: run lengths must be >= 1")
    f_emp = counts.cumsum(0).to(torch.float64) / n  # F_n at each present value, constant up to the next one

    def cdf(x: torch.Tensor) -> torch.Tensor:
        return -torch.expm1(x.to(torch.float64) * math.log1p(-q)) if q < 1 else (x >= 1).to(torch.float64)

    above = (f_emp - cdf(vals)).max()
    nxt = torch.cat([vals[1:], vals.new_tensor([torch.iinfo(torch.int64).max // 2])]) - 1
    below = torch.maximum((cdf(nxt) - f_emp).max(), cdf(vals[:1] - 1)[0])
    d = float(torch.maximum(above, below))
    return d, _kolmogorov_p(d, n)


# ------------------------------------------------------------------------------- correlations and spectra
_SUM_BLOCK = 4096


def ordered_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of all elements of ``x`` in an order fixed by its size alone, hence bit-identical for any thread count.

    torch splits a full reduction of more than 32768 elements among the intra-op threads, so its last bits depend
    on how many there are; here blocks of 4096 are summed row by row (each row serially), then the block sums.
    """
    y = x.reshape(-1)
    while y.numel() > _SUM_BLOCK:
        y = torch.nn.functional.pad(y, (0, (-y.numel()) % _SUM_BLOCK)).reshape(-1, _SUM_BLOCK).sum(-1)
    return y.sum()


def rate_sum(gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor) -> torch.Tensor:
    """s = Gamma_{P->AP} + Gamma_{AP->P} [1/s]: the inverse correlation time."""
    return gamma_p_to_ap + gamma_ap_to_p


def autocorrelation(lag_s: torch.Tensor | float, gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor) -> torch.Tensor:
    """Normalised autocorrelation of the telegraph signal at lag ``lag_s`` [s]: exp(-s |lag|)."""
    s = rate_sum(gamma_p_to_ap, gamma_ap_to_p)
    return torch.exp(-s * _t(lag_s, s).abs())


def sampled_bit_correlation(
    dt_s: torch.Tensor | float, gamma_p_to_ap: torch.Tensor, gamma_ap_to_p: torch.Tensor, lag: int = 1
) -> torch.Tensor:
    """Correlation coefficient of bits sampled ``lag`` intervals of ``dt_s`` [s] apart: lambda^lag, lambda = e^{-s dt}."""
    return autocorrelation(_t(dt_s, gamma_p_to_ap) * lag, gamma_p_to_ap, gamma_ap_to_p)


def empirical_autocorrelation(
    bits: torch.Tensor, max_lag: int, mean: torch.Tensor | float | None = None
) -> torch.Tensor:
    """Pooled correlation coefficient of streams ``bits`` [..., L] at lags 0..max_lag.

    Each stream is centred on ``mean`` (a scalar or a [...] tensor, e.g. the known P(1)) or, by default, on its
    own sample mean, which biases the estimate by about -(1 + lambda) / ((1 - lambda) L). Covariance and
    variance are pooled over streams.
    """
    check_int("max_lag", max_lag, 0)
    x = bits.to(torch.float64)
    length = x.shape[-1]
    if max_lag >= length:
        raise ConfigError(f"max_lag = {max_lag} must be < the stream length {length}")
    if mean is None:
        x = x - x.mean(dim=-1, keepdim=True)
    else:
        x = x - _t(mean, x)[..., None]
    x = x.reshape(-1, length)
    var = ordered_sum(x * x) / x.numel()
    if float(var) == 0.0:
        return torch.full((max_lag + 1,), float("nan"), dtype=torch.float64, device=bits.device)
    out = [torch.ones((), dtype=torch.float64, device=bits.device)]
    for k in range(1, max_lag + 1):
        prod = x[:, :-k] * x[:, k:]
        out.append(ordered_sum(prod) / prod.numel() / var)
    return torch.stack(out)


def corner_frequency(gamma_p_to_ap: torch.Tensor | float, gamma_ap_to_p: torch.Tensor | float) -> torch.Tensor | float:
    """Lorentzian corner f_c = (Gamma_{P->AP} + Gamma_{AP->P}) / (2 pi) [Hz]."""
    return (gamma_p_to_ap + gamma_ap_to_p) / (2.0 * math.pi)


def psd_lorentzian(
    f_hz: torch.Tensor, gamma_p_to_ap: torch.Tensor | float, gamma_ap_to_p: torch.Tensor | float, delta_x: float = 1.0
) -> torch.Tensor:
    """One-sided PSD [X^2/Hz] of a telegraph signal switching by ``delta_x``:
    4 dX^2 G1 G2 / s / (s^2 + (2 pi f)^2)."""
    s = gamma_p_to_ap + gamma_ap_to_p
    return 4.0 * delta_x**2 * gamma_p_to_ap * gamma_ap_to_p / s / (s**2 + (2.0 * math.pi * f_hz) ** 2)


def psd_sampled(
    f_hz: torch.Tensor,
    gamma_p_to_ap: torch.Tensor | float,
    gamma_ap_to_p: torch.Tensor | float,
    dt_s: float,
    delta_x: float = 1.0,
) -> torch.Tensor:
    """Exact one-sided PSD [X^2/Hz] of the telegraph signal sampled every ``dt_s`` (aliased Lorentzian):
    2 dt var (1 - l^2) / (1 - 2 l cos(2 pi f dt) + l^2), var = dX^2 G1 G2 / s^2, l = e^{-s dt};
    tends to `psd_lorentzian` for s dt -> 0."""
    s = gamma_p_to_ap + gamma_ap_to_p
    lam = math.exp(-float(s) * dt_s) if not isinstance(s, torch.Tensor) else torch.exp(-s * dt_s)
    var = delta_x**2 * gamma_p_to_ap * gamma_ap_to_p / s**2
    return 2.0 * dt_s * var * (1 - lam**2) / (1 - 2 * lam * torch.cos(2 * math.pi * f_hz * dt_s) + lam**2)


def estimate_psd(x: torch.Tensor, dt_s: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One-sided periodogram [X^2/Hz] of the real signals ``x`` [..., N] sampled every ``dt_s`` [s], averaged over
    the leading dimensions (use them as segments, Bartlett's method). Returns (f [Hz], S) without the DC bin."""
    check_positive("dt_s (sampling interval)", dt_s, unit="s")
    # numpy's pocketfft runs single-threaded with a fixed order, so the estimate is the same bits for any thread
    # count or memory alignment (MKL's FFT, behind torch.fft on CPU, guarantees neither).
    y = x.detach().to("cpu", torch.float64).reshape(-1, x.shape[-1]).numpy()
    n = y.shape[-1]
    y = y - y.mean(axis=-1, keepdims=True)
    spec = np.abs(np.fft.rfft(y, axis=-1)) ** 2 * (2.0 * dt_s / n)
    if n % 2 == 0:
        spec[:, -1] /= 2.0
    f = torch.from_numpy(np.fft.rfftfreq(n, d=dt_s)).to(x.device)
    return f[1:], torch.from_numpy(spec.mean(axis=0)).to(x.device)[1:]


def fit_corner_frequency(f_hz: torch.Tensor, psd: torch.Tensor, dt_s: float, iterations: int = 4) -> float:
    """Corner frequency [Hz] fitted to a periodogram of a sampled telegraph signal.

    Uses `psd_sampled`'s exact form: 1/S = a + b sin^2(pi f dt) with b/a = 4 l/(1 - l)^2, fitted by least squares
    weighted by the model (relative errors; iterated), then f_c = -ln(l) / (2 pi dt). The two-parameter normal
    equations are solved in closed form with `ordered_sum` (no LAPACK), so the fit does not depend on threads.
    """
    z = torch.sin(math.pi * f_hz.to(torch.float64) * dt_s) ** 2
    y = 1.0 / psd.to(torch.float64)
    w2 = torch.ones_like(y)
    a = b = None
    for _ in range(iterations):
        s0, s1, s2 = (float(ordered_sum(w2 * z**k)) for k in range(3))
        t0, t1 = float(ordered_sum(w2 * y)), float(ordered_sum(w2 * z * y))
        det = s0 * s2 - s1 * s1
        if not det > 0:
            break
        a, b = (s2 * t0 - s1 * t1) / det, (s0 * t1 - s1 * t0) / det
        w = 1.0 / (a + b * z).clamp_min(1e-300)
        w2 = (w / w.max()) ** 2  # scaled so that w^2 cannot overflow; the solution does not depend on the scale
    if not (a and b) or a <= 0 or b <= 0:
        raise ValueError("PSD fit failed: the spectrum does not look like a sampled Lorentzian")
    r = b / a
    lam = (math.sqrt(r + 1.0) - 1.0) ** 2 / r
    return -math.log(lam) / (2.0 * math.pi * dt_s)
