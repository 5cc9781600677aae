"""Compiled CPU kernels for bit-exact stochastic computing (see ``stochastic_computing.py`` for the model).

Bit layout. A *horizontal* stream tensor ``[..., LW]`` of uint64 holds one stream per row, clock ``t`` in bit
``t % 64`` of word ``t // 64`` (little-endian, LW = ceil(L / 64); bits past L are 0). The inference kernel
needs the *vertical* layout: per clock, the bits of 64 neighbouring inputs in one word, so that the APC count
of a neuron at clock t is ``n - sum_g popcount(x[t, g] ^ w[t, g])`` over the G = ceil(n / 64) words of the
input dimension (both sides zero-padded, so the padding never mismatches). Horizontal -> vertical is a
64 x 64 bit-matrix transpose per block (Hacker's Delight 7-3), done once per weight draw and per image inside
the kernel, so no [images, inputs, L] array of unpacked bits ever exists.

The streams themselves come from the sources in `devices.bitstream` (their kernels: `devices._bitstream_kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

_U = np.uint64


@intrinsic
def popcount64(typingctx, x):
    """LLVM ``ctpop`` on a uint64 (POPCNT / VPOPCNTQ after vectorisation)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


# ------------------------------------------------------------------------------------------ bit transpose
@njit(inline="always", cache=True)
def _transpose64(a):
    """In-place 64 x 64 bit transpose of a uint64[64]: afterwards bit r of a[c] = former bit c of a[r]."""
    j = 32
    m = _U(0x00000000FFFFFFFF)
    while j != 0:
        uj = _U(j)
        k = 0
        while k < 64:
            t = ((a[k] >> uj) ^ a[k + j]) & m
            a[k] ^= t << uj
            a[k + j] ^= t
            k = (k + j + 1) & ~j
        j >>= 1
        m ^= m << _U(j)
    return a


@njit(parallel=True, cache=True)
def to_vertical(h, n_clocks):
    """Horizontal streams h [M, R, LW] -> vertical words v [M, n_clocks, G], G = ceil(R / 64).

    Bit r of v[m, t, g] is the clock-t bit of stream 64 g + r of group m (0 past R).
    """
    M, R, LW = h.shape
    G = (R + 63) // 64
    v = np.zeros((M, n_clocks, G), np.uint64)
    for mg in prange(M * G):
        m = mg // G
        g = mg % G
        blk = np.empty(64, np.uint64)
        for w in range(LW):
            if 64 * w >= n_clocks:
                break
            for r in range(64):
                row = 64 * g + r
                blk[r] = h[m, row, w] if row < R else _U(0)
            _transpose64(blk)
            for c in range(min(64, n_clocks - 64 * w)):
                v[m, 64 * w + c, g] = blk[c]
    return v


# ------------------------------------------------------------------------------------------ inference
@njit(parallel=True, cache=True)
def sc_mlp_packed(xh, w1v, w2v, length, k1, k2, init1, init2, checkpoints, tile,
                  sums, out_ones, hid_ones, hid_state, out_state):
    """Bit-exact SC inference of a one-hidden-layer network, fused: XNOR + APC + Btanh + output layer.

    xh: uint64 [N, n_in, LW] horizontal input streams; input n_in is the bias, a constant-1 wire added here.
    w1v: uint64 [T, G, H] vertical hidden-layer weight streams (T >= length clocks, G = ceil((n_in + 1) / 64)).
    w2v: uint64 [T, O, G2] vertical output-layer weight streams, G2 = ceil((H + 1) / 64) (input H: the bias).
    k1, k2: Btanh states of the hidden and output layers (even); init1, init2: their initial states.
    checkpoints: int64 [C], strictly increasing clock counts <= length at which outputs are recorded.
    Outputs (written): sums [N, C, O] accumulated bipolar APC sums sum_t (2 c_t - n) of the output layer;
    out_ones [N, C, O] ones of the output Btanh streams; hid_ones [N, H] ones of the hidden streams over
    ``length`` clocks; hid_state [N, H], out_state [N, O] final counter states.

    Per image tile (prange): the tile's inputs are transposed into a local vertical buffer, then for each clock
    and image the hidden counts are 13-word XNOR+popcount rows vectorised over the H neurons, the Btanh
    counters update in L1, the hidden bits are packed into G2 words and the output layer is G2 XNOR+popcounts.
    """
    N, n_in, LW = xh.shape
    J = n_in + 1
    G = w1v.shape[1]
    H = w1v.shape[2]
    O = w2v.shape[1]
    G2 = w2v.shape[2]
    C = checkpoints.shape[0]
    n1 = J
    n2 = H + 1
    half1 = k1 // 2
    half2 = k2 // 2
    top1 = k1 - 1
    top2 = k2 - 1
    n_tiles = (N + tile - 1) // tile
    n_blocks = (length + 63) // 64
    for tt in prange(n_tiles):
        b0 = tt * tile
        nb = min(tile, N - b0)
        xv = np.zeros((tile, n_blocks * 64, G), np.uint64)
        blk = np.empty(64, np.uint64)
        for b in range(nb):
            for g in range(G):
                for w in range(n_blocks):
                    for r in range(64):
                        row = 64 * g + r
                        blk[r] = xh[b0 + b, row, w] if row < n_in else _U(0)
                    _transpose64(blk)
                    for c in range(64):
                        xv[b, 64 * w + c, g] = blk[c]
            bias_word = n_in // 64  # the bias input: a 1 at bit n_in % 64 of every clock
            bias_bit = _U(1) << _U(n_in % 64)
            for t in range(n_blocks * 64):
                xv[b, t, bias_word] |= bias_bit
        st1 = np.empty((tile, H), np.int32)
        st1[:] = init1
        st2 = np.empty((tile, O), np.int32)
        st2[:] = init2
        ones1 = np.zeros((tile, H), np.int64)
        acc = np.zeros((tile, O), np.int64)
        ones2 = np.zeros((tile, O), np.int64)
        cnt = np.empty(H, np.uint64)
        hb = np.zeros(G2 * 64, np.uint8)
        hb[H] = 1
        hw = np.zeros(G2, np.uint64)
        ci = 0
        for t in range(length):
            for b in range(nb):
                xw = xv[b, t, 0]
                for i in range(H):
                    cnt[i] = popcount64(xw ^ w1v[t, 0, i])
                for g in range(1, G):
                    xw = xv[b, t, g]
                    for i in range(H):
                        cnt[i] += popcount64(xw ^ w1v[t, g, i])
                for i in range(H):
                    s = st1[b, i] + (n1 - 2 * np.int64(cnt[i]))
                    s = min(max(s, 0), top1)
                    st1[b, i] = s
                    bit = 1 if s >= half1 else 0
                    hb[i] = bit
                    ones1[b, i] += bit
                for g2 in range(G2):
                    word = _U(0)
                    for r in range(64):
                        word |= _U(hb[64 * g2 + r]) << _U(r)
                    hw[g2] = word
                for k in range(O):
                    mism = _U(0)
                    for g2 in range(G2):
                        mism += popcount64(hw[g2] ^ w2v[t, k, g2])
                    s2 = n2 - 2 * np.int64(mism)
                    acc[b, k] += s2
                    s = min(max(st2[b, k] + s2, 0), top2)
                    st2[b, k] = s
                    ones2[b, k] += 1 if s >= half2 else 0
            if ci < C and t + 1 == checkpoints[ci]:
                for b in range(nb):
                    for k in range(O):
                        sums[b0 + b, ci, k] = acc[b, k]
                        out_ones[b0 + b, ci, k] = ones2[b, k]
                ci += 1
        for b in range(nb):
            for i in range(H):
                hid_ones[b0 + b, i] = ones1[b, i]
                hid_state[b0 + b, i] = st1[b, i]
            for k in range(O):
                out_state[b0 + b, k] = st2[b, k]


@njit(cache=True)
def btanh_reference(counts, n, k, init):
    """Plain scalar Btanh (Kim et al., DAC 2016) for tests: counts int64 [M, L] -> (bits uint8 [M, L], state).

    state <- clip(state + 2 c_t - n, 0, K - 1); out_t = [state >= K / 2]; state starts at ``init``.
    """
    M, L = counts.shape
    bits = np.zeros((M, L), np.uint8)
    state = np.empty(M, np.int64)
    for m in range(M):
        s = init
        for t in range(L):
            s = s + 2 * counts[m, t] - n
            if s < 0:
                s = 0
            elif s > k - 1:
                s = k - 1
            bits[m, t] = 1 if s >= k // 2 else 0
        state[m] = s
    return bits, state
