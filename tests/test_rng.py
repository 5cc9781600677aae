"""The statistical test suite of `spinaptic.rng`, the one counter-based generator of every compiled kernel.

Each check has a fixed key, so the suite is deterministic; the bounds are 5-sigma (or p > 1e-4) bands of the
statistic under the null hypothesis of ideal random numbers, fixed before the runs.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numba import njit
from scipy import stats

from spinaptic.config import ConfigError
from spinaptic.rng import _kernels as K
from spinaptic.rng import draw_key, normals_torch, resolve_backend, words_torch

KEY = np.uint64(0x1234_5678_9ABC_DEF0)


def _bits(w: np.ndarray) -> np.ndarray:
    """[..., 64] 0/1 bits of uint64 words."""
    return ((w[..., None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).astype(np.int8)


@njit(cache=True)
def _uniforms(key, n_streams, n):
    out = np.empty((2, n_streams, n))
    for i in range(n_streams):
        s = K.stream_start(key, i)
        for k in range(n):
            w = K.word(s, k)
            out[0, i, k] = K.unit(w)
            out[1, i, k] = K.unit_open(w)
    return out


@njit(cache=True)
def _angles(key, n):
    out = np.empty((2, n))
    s = K.stream_start(key, 0)
    for k in range(n):
        out[0, k], out[1, k] = K.gauss_angle(K.word(s, k))
    return out


@njit(cache=True)
def _elementary(x, y):
    lg = np.empty(y.size)
    sc = np.empty((2, x.size))
    for i in range(y.size):
        lg[i] = K.log_pos(y[i])
    for i in range(x.size):
        sc[0, i], sc[1, i] = K.sincos(x[i])
    return lg, sc


def test_words_bit_balance_and_byte_uniformity():
    w = K.words(KEY, 256, 4096)  # 2^20 words
    n = w.size
    ones = _bits(w[:64]).reshape(-1, 64).mean(axis=0)  # every bit position
    assert np.all(np.abs(ones - 0.5) < 5 * 0.5 / math.sqrt(w[:64].size))
    counts = np.bincount(w.view(np.uint8).ravel(), minlength=256)
    assert stats.chisquare(counts).pvalue > 1e-4
    assert n == 2**20


def test_words_are_counter_based_and_independent_of_threads():
    a = K.words(KEY, 64, 100)
    assert np.array_equal(a[5:9, 20:30], K.words(KEY, 9, 30)[5:9, 20:30])  # a pure function of (stream, n)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = K.words(KEY, 64, 100)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, K.words(KEY ^ np.uint64(1), 64, 100))  # the key matters


def test_no_correlation_between_neighbouring_streams_or_words():
    u = _uniforms(KEY, 512, 2048)[0]
    n = u[:, 1:].size
    lag = np.corrcoef(u[:, 1:].ravel(), u[:, :-1].ravel())[0, 1]  # within a stream
    nb = np.corrcoef(u[1:].ravel(), u[:-1].ravel())[0, 1]  # stream i vs i + 1, same counter
    assert abs(lag) < 5 / math.sqrt(n) and abs(nb) < 5 / math.sqrt(u[1:].size)
    # 2-D serial test: (u_k, u_k+1) over a 16 x 16 grid
    cells = (np.floor(u[:, 0::2] * 16) * 16 + np.floor(u[:, 1::2] * 16)).astype(int).ravel()
    assert stats.chisquare(np.bincount(cells, minlength=256)).pvalue > 1e-4


def test_uniforms_ranges_and_distribution():
    u0, u1 = _uniforms(KEY, 64, 16384)
    assert u0.min() >= 0.0 and u0.max() < 1.0 and u1.min() > 0.0 and u1.max() <= 1.0
    assert np.array_equal(u1, 1.0 - u0)  # the two forms of one word
    assert stats.kstest(u0.ravel(), "uniform").pvalue > 1e-4
    assert np.all(np.abs(u0 * 2.0**52 - np.round(u0 * 2.0**52)) == 0)  # on the 2^-52 grid


@pytest.mark.parametrize("vector_friendly", [False, True], ids=["normal_pair", "gauss_pair"])
def test_normals_moments_ks_tails_and_pair_independence(vector_friendly):
    z = K.normals(KEY, 256, 8192, vector_friendly)  # 2^22 draws
    x = z.ravel()
    n = x.size
    assert abs(x.mean()) < 5 / math.sqrt(n)
    assert abs(x.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(stats.skew(x)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(x)) < 5 * math.sqrt(24 / n)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    for c in (3.0, 4.0):  # tail counts against erfc
        expect = n * math.erfc(c / math.sqrt(2))
        assert abs((np.abs(x) > c).sum() - expect) < 5 * math.sqrt(expect)
    assert np.abs(x).max() <= math.sqrt(104 * math.log(2)) + 1e-12
    r = np.corrcoef(z[:, 0::2].ravel(), z[:, 1::2].ravel())[0, 1]  # the two members of a pair
    sq = np.corrcoef(z[:, 0::2].ravel() ** 2, z[:, 1::2].ravel() ** 2)[0, 1]  # and their squares
    assert abs(r) < 5 / math.sqrt(n / 2) and abs(sq) < 5 / math.sqrt(n / 2)


def test_gauss_angle_is_a_uniform_unit_vector():
    c, s = _angles(KEY, 1 << 20)
    assert np.abs(c * c + s * s - 1).max() <= 1e-15
    t = (np.arctan2(s, c) / (2 * math.pi)) % 1.0
    assert stats.kstest(t, "uniform").pvalue > 1e-4
    quad = np.bincount((t * 4).astype(int), minlength=4)
    assert stats.chisquare(quad).pvalue > 1e-4


def test_elementary_functions_within_two_ulp():
    x = np.linspace(-40.0, 40.0, 200001)
    y = np.exp(np.linspace(-700, 700, 200001))
    lg, sc = _elementary(x, y)
    assert np.all(np.abs(lg - np.log(y)) <= 2 * np.spacing(np.abs(np.log(y))) + 1e-300)
    assert np.abs(sc[0] - np.sin(x)).max() < 3e-16 * 40 and np.abs(sc[1] - np.cos(x)).max() < 3e-16 * 40


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**40), st.integers(0, 2**40))
def test_torch_twin_words_bit_exact(key, stream, n):
    @njit
    def one(k, s, c):
        return K.word(K.stream_start(k, s), c)

    ref = one(np.uint64(key), np.uint64(stream), np.uint64(n))
    got = words_torch(key, torch.tensor([stream]), torch.tensor([n])).numpy().view(np.uint64)[0]
    assert got == ref


def test_torch_twin_normals_close():
    z = K.normals(KEY, 32, 64, False)
    a, b = normals_torch(int(KEY), torch.arange(32)[:, None], torch.arange(64)[None, :])
    zt = torch.stack([a, b], -1).reshape(32, 128).numpy()
    assert np.abs(z - zt).max() < 1e-13


def test_draw_key_is_reproducible():
    k1 = draw_key(torch.Generator().manual_seed(3))
    k2 = draw_key(torch.Generator().manual_seed(3))
    assert k1 == k2 and isinstance(k1, np.uint64) and int(k1) < 2**62
    assert k1 != draw_key(torch.Generator().manual_seed(4))
    assert draw_key(torch.Generator().manual_seed(3), (2, 3)).shape == (2, 3)
    torch.manual_seed(5)
    k3 = draw_key(None)  # torch's default generator, like torch.randint(generator=None)
    torch.manual_seed(5)
    assert draw_key(None) == k3


def test_resolve_backend():
    assert resolve_backend("auto", "cpu") == "numba"
    assert resolve_backend("auto", "cpu", numba_ok=False) == "torch"
    assert resolve_backend("torch", "cpu") == "torch"
    assert resolve_backend("auto", "meta") == "torch"
    with pytest.raises(ConfigError, match="numba backend runs on CPU"):
        resolve_backend("numba", "meta")
    with pytest.raises(ConfigError, match="backend"):
        resolve_backend("cuda-kernel", "cpu")
