"""Compiled CPU kernels of the bit-stream sources (`bitstream`): packed Bernoulli streams, bank gather + rotate.

Layout: one stream per row of uint64 words ``[..., LW]``, clock ``t`` in bit ``t % 64`` of word ``t // 64``
(little-endian, LW = ceil(L / 64); bits past L are 0), as `bitstream.pack_bits`.

Random numbers: `spinaptic.rng`'s splitmix64 finaliser (``mix64``) of counters (seed, stream, word, level),
so a stream's bits depend only on the seed drawn from the caller's ``torch.Generator`` and its index, never on
threads or chunking.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..rng._kernels import GOLDEN, mix64

_U = np.uint64
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(inline="always", cache=True)
def _tail_mask(length, n_words):
    """Mask of the valid bits of the last word of a length-``length`` stream stored in ``n_words`` words."""
    r = length - 64 * (n_words - 1)
    if r >= 64:
        return _ALL
    return (_U(1) << _U(r)) - _U(1)


# ------------------------------------------------------------------------------------------ stream generation
@njit(parallel=True, cache=True)
def bernoulli_packed(pq, precision_bits, length, seed, out):
    """Packed Bernoulli streams: stream s has P(1) = pq[s] / 2**precision_bits exactly.

    Comparator SNG with a ``precision_bits``-bit random number r, bit = [r < p], built 64 clocks at a time by
    the binary-expansion cascade: from the lowest set bit of p upwards, acc = acc | u if the bit is 1 else
    acc & u, with u a fresh uniform word (each level halves and optionally adds 1/2 to P(1)). Costs
    (precision_bits - ctz(p)) hashes per word; p = 0, 1/2, 1 cost 0, 1, 0.

    pq: int64 [S] in [0, 2**precision_bits]; out: uint64 [S, LW] (overwritten).
    """
    S, LW = out.shape
    B = precision_bits
    full = np.int64(1) << np.int64(B)
    mask = _tail_mask(length, LW)
    useed = _U(seed)
    chunk = 256
    for c in prange((S + chunk - 1) // chunk):
        acc = np.zeros(LW, np.uint64)  # one buffer per chunk of streams, not per stream
        for s in range(c * chunk, min(S, (c + 1) * chunk)):
            q = pq[s]
            if q <= 0:
                for w in range(LW):
                    out[s, w] = _U(0)
                continue
            if q >= full:
                for w in range(LW):
                    out[s, w] = _ALL
                out[s, LW - 1] = mask
                continue
            lsb = 0
            while (q >> lsb) & 1 == 0:
                lsb += 1
            for w in range(LW):
                acc[w] = _U(0)
            base = _U(s) * _U(LW) * _U(B)
            for k in range(lsb, B):
                m = _ALL if (q >> k) & 1 else _U(0)
                for w in range(LW):
                    u = mix64(useed + (base + _U(w * B + k)) * GOLDEN)
                    a = acc[w]
                    acc[w] = (a & u) | ((a | u) & m)
            for w in range(LW):
                out[s, w] = acc[w]
            out[s, LW - 1] &= mask
    return out


@njit(parallel=True, cache=True)
def gather_rotate(bank, index, rot_words, length, out):
    """Bank streams picked and rotated at word granularity: out[u, w] = bank[index[u], (w + rot[u]) % LWb].

    bank: uint64 [B, LWb] (base streams of LWb * 64 bits); index, rot_words: int64 [U]; out: uint64 [U, LW]
    with LW <= LWb (the rotated base stream is truncated to ``length`` bits).
    """
    U, LW = out.shape
    LWb = bank.shape[1]
    mask = _tail_mask(length, LW)
    for u in prange(U):
        b = index[u]
        r = rot_words[u]
        for w in range(LW):
            out[u, w] = bank[b, (w + r) % LWb]
        out[u, LW - 1] &= mask
    return out
