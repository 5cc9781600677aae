"""Compiled CPU kernels for bit-exact stochastic computing (see ``stochastic_computing.py`` for the model).

Bit layout. A *horizontal* stream tensor ``[..., LW]`` of uint64 holds one stream per row, clock ``t`` in bit
``t % 64`` of word ``t // 64`` (little-endian, LW = ceil(L / 64); bits past L are 0). The inference kernel
needs the *vertical* layout: per clock, the bits of 64 neighbouring inputs in one word, so that the APC count
of a neuron at clock t is ``n - sum_g popcount(x[t, g] ^ w[t, g])`` over the G = ceil(n / 64) words of the
input dimension (both sides zero-padded, so the padding never mismatches). Horizontal -> vertical is a
64 x 64 bit-matrix transpose per block (Hacker's Delight 7-3), done once per weight draw and per image inside
the kernel, so no [images, inputs, L] array of unpacked bits ever exists; all blocks of one image (or one
neuron's weights) are transposed together, each stage one vector loop over the blocks (`_transpose64_many`).

Where the time goes (issue 15; 10,000 images x 1,024 bits through 784-128-10, 1.73e10 XNOR + popcount words):
the hidden-layer XNOR + popcount rows (`_hidden_counts`, AVX-512 VPOPCNTQ where the CPU has it) take about half
of the kernel, the per-image-clock Btanh / packing / output layer about a third, the input transposes ~15 %.

The streams themselves come from the sources in `devices.bitstream` (their kernels: `devices._bitstream_kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .._threads import run_split

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
    """In-place 64 x 64 bit transpose of a uint64[64]: afterwards bit r of a[c] = former bit c of a[r].
    The one-block form of `_transpose64_many` (which the kernels use); kept as its reference in the tests."""
    j = 32
    m = _U(0x00000000FFFFFFFF)
    while j != 0:
        uj = _U(j)
        for base in range(0, 64, 2 * j):
            for k in range(base, base + j):
                t = ((a[k] >> uj) ^ a[k + j]) & m
                a[k] ^= t << uj
                a[k + j] ^= t
        j >>= 1
        m ^= m << _U(j)
    return a


@njit(inline="always", cache=True)
def _transpose64_many(a, q):
    """``q`` 64 x 64 bit transposes at once: a uint64[64, >= q], block p in column p (rows = its 64 words).

    The stages of `_transpose64`, each vectorised over the blocks (the inner loop runs over p)."""
    j = 32
    m = _U(0x00000000FFFFFFFF)
    while j != 0:
        uj = _U(j)
        for base in range(0, 64, 2 * j):
            for k in range(base, base + j):
                for p in range(q):
                    lo = a[k, p]
                    hi = a[k + j, p]
                    t = ((lo >> uj) ^ hi) & m
                    a[k, p] = lo ^ (t << uj)
                    a[k + j, p] = hi ^ t
        j >>= 1
        m ^= m << _U(j)
    return a


@njit(inline="always", cache=True)
def _load_blocks(h2, n_rows, n_blocks, G, blk):
    """Gather the rows of h2 [>= n_rows, >= n_blocks] into blk [64, G * n_blocks] and transpose every block.

    Block (g, w), column g * n_blocks + w, holds word w of rows 64 g .. 64 g + 63 (0 past n_rows); afterwards
    blk[c, g * n_blocks + w] is the vertical word of clock 64 w + c: bit r = clock bit of row 64 g + r.
    """
    for j in range(n_rows):
        q0 = (j // 64) * n_blocks
        r = j % 64
        for w in range(n_blocks):
            blk[r, q0 + w] = h2[j, w]
    for j in range(n_rows, G * 64):
        q0 = (j // 64) * n_blocks
        r = j % 64
        for w in range(n_blocks):
            blk[r, q0 + w] = _U(0)
    _transpose64_many(blk, G * n_blocks)


def to_vertical(h, n_clocks):
    """Horizontal streams h [M, R, LW] -> vertical words v [M, n_clocks, G], G = ceil(R / 64).

    Bit r of v[m, t, g] is the clock-t bit of stream 64 g + r of group m (0 past R).
    """
    M, R, _ = h.shape
    v = np.zeros((M, n_clocks, (R + 63) // 64), np.uint64)
    run_split(_vertical_groups, M, h, n_clocks, v)
    return v


@njit(cache=True, nogil=True)
def _vertical_groups(lo, hi, h, n_clocks, v):
    """Groups lo..hi-1 of `to_vertical` (one thread's share)."""
    _, R, LW = h.shape
    G = (R + 63) // 64
    n_blocks = min(LW, (n_clocks + 63) // 64)
    blk = np.empty((64, G * n_blocks), np.uint64)
    for m in range(lo, hi):
        _load_blocks(h[m], R, n_blocks, G, blk)
        for g in range(G):
            for w in range(n_blocks):
                for c in range(min(64, n_clocks - 64 * w)):
                    v[m, 64 * w + c, g] = blk[c, g * n_blocks + w]


# ------------------------------------------------------------------------------------------ inference
@njit(inline="always", cache=True)
def _hidden_counts(xv, b, t, w1v, cnt, G, H):
    """cnt[i] = sum_g popcount(xv[b, t, g] ^ w1v[t, g, i]): mismatches of image b with neuron i at clock t.

    Words are taken four at a time per pass over the neurons (contiguous, vectorised), so the counter row
    is loaded and stored once per four words rather than once per word.
    """
    g = 0
    x0 = xv[b, t, 0]
    if G >= 4:
        x1 = xv[b, t, 1]
        x2 = xv[b, t, 2]
        x3 = xv[b, t, 3]
        for i in range(H):
            cnt[i] = (popcount64(x0 ^ w1v[t, 0, i]) + popcount64(x1 ^ w1v[t, 1, i])
                      + popcount64(x2 ^ w1v[t, 2, i]) + popcount64(x3 ^ w1v[t, 3, i]))
        g = 4
    else:
        for i in range(H):
            cnt[i] = popcount64(x0 ^ w1v[t, 0, i])
        g = 1
    while g + 4 <= G:
        x0 = xv[b, t, g]
        x1 = xv[b, t, g + 1]
        x2 = xv[b, t, g + 2]
        x3 = xv[b, t, g + 3]
        for i in range(H):
            cnt[i] += (popcount64(x0 ^ w1v[t, g, i]) + popcount64(x1 ^ w1v[t, g + 1, i])
                       + popcount64(x2 ^ w1v[t, g + 2, i]) + popcount64(x3 ^ w1v[t, g + 3, i]))
        g += 4
    if g + 2 <= G:
        x0 = xv[b, t, g]
        x1 = xv[b, t, g + 1]
        for i in range(H):
            cnt[i] += popcount64(x0 ^ w1v[t, g, i]) + popcount64(x1 ^ w1v[t, g + 1, i])
        g += 2
    if g < G:
        x0 = xv[b, t, g]
        for i in range(H):
            cnt[i] += popcount64(x0 ^ w1v[t, g, i])


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

    Per image tile (tiles split over threads by `spinaptic._threads.run_split`): the tile's inputs are transposed
    into a local vertical buffer; then per clock and image: the hidden mismatch counts (XNOR + popcount rows over the H neurons, four words per pass,
    `_hidden_counts`), the Btanh update of the H counters as one int32 vector loop whose 0/1 outputs are
    packed into G2 words by a shift-or reduction, and the output layer (G2 XNOR + popcounts per output,
    vectorised over the O outputs on a [T, G2, O] copy of w2v).
    """
    w2t = np.ascontiguousarray(np.transpose(w2v, (0, 2, 1)))  # [T, G2, O]: the output loop runs over O
    shifts = np.arange(64, dtype=np.uint64)
    run_split(_packed_tiles, (xh.shape[0] + tile - 1) // tile, xh, w1v, w2t, shifts, length, k1, k2, init1, init2,
              checkpoints, tile, sums, out_ones, hid_ones, hid_state, out_state)


@njit(cache=True, nogil=True)
def _packed_tiles(lo, hi, xh, w1v, w2t, shifts, length, k1, k2, init1, init2, checkpoints, tile, sums, out_ones,
                  hid_ones, hid_state, out_state):
    """Image tiles lo..hi-1 of `sc_mlp_packed` (one thread's share); ``w2t`` [T, G2, O] is w2v with its last two
    axes swapped, ``shifts`` the uint64 0..63."""
    N, n_in, LW = xh.shape
    J = n_in + 1
    G = w1v.shape[1]
    H = w1v.shape[2]
    G2 = w2t.shape[1]
    O = w2t.shape[2]
    C = checkpoints.shape[0]
    n1 = np.int32(J)
    n2 = np.int32(H + 1)
    half1 = np.int32(k1 // 2)
    half2 = np.int32(k2 // 2)
    top1 = np.int32(k1 - 1)
    top2 = np.int32(k2 - 1)
    zero = np.int32(0)
    n_blocks = (length + 63) // 64
    for tt in range(lo, hi):
        b0 = tt * tile
        nb = min(tile, N - b0)
        xv = np.empty((tile, n_blocks * 64, G), np.uint64)
        blk = np.empty((64, G * n_blocks), np.uint64)  # block (g, w) in column g * n_blocks + w
        bias_word = n_in // 64  # the bias input: a 1 at bit n_in % 64 of every clock
        bias_bit = _U(1) << _U(n_in % 64)
        for b in range(nb):
            _load_blocks(xh[b0 + b], n_in, n_blocks, G, blk)
            for g in range(G):
                for w in range(n_blocks):
                    for c in range(64):
                        xv[b, 64 * w + c, g] = blk[c, g * n_blocks + w]
            for t in range(n_blocks * 64):
                xv[b, t, bias_word] |= bias_bit
        st1 = np.empty((tile, H), np.int32)
        st1[:] = init1
        ones1 = np.zeros((tile, H), np.int32)
        st2 = np.empty((tile, O), np.int32)
        st2[:] = init2
        acc = np.zeros((tile, O), np.int64)
        ones2 = np.zeros((tile, O), np.int32)
        cnt = np.empty(H, np.uint64)
        hb = np.zeros(G2 * 64, np.uint64)  # hidden bits 0/1, then the bias input (1), then zero padding
        hb[H] = 1
        hw = np.empty(G2, np.uint64)
        mism = np.empty(O, np.uint64)
        ci = 0
        for t in range(length):
            for b in range(nb):
                _hidden_counts(xv, b, t, w1v, cnt, G, H)
                for i in range(H):  # Btanh, vectorised over the H neurons (int32)
                    s = st1[b, i] + (n1 - 2 * np.int32(cnt[i]))
                    s = min(max(s, zero), top1)
                    st1[b, i] = s
                    bit = np.int32(s >= half1)
                    ones1[b, i] += bit
                    hb[i] = _U(bit)
                for g2 in range(G2):  # pack: 64 bits per word by a shift-or reduction
                    word = _U(0)
                    for r in range(64):
                        word |= hb[64 * g2 + r] << shifts[r]
                    hw[g2] = word
                h0 = hw[0]
                for k in range(O):
                    mism[k] = popcount64(h0 ^ w2t[t, 0, k])
                for g2 in range(1, G2):
                    hg = hw[g2]
                    for k in range(O):
                        mism[k] += popcount64(hg ^ w2t[t, g2, k])
                for k in range(O):
                    s2 = n2 - 2 * np.int32(mism[k])
                    acc[b, k] += s2
                    s = min(max(st2[b, k] + s2, zero), top2)
                    st2[b, k] = s
                    ones2[b, k] += np.int32(s >= half2)
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
