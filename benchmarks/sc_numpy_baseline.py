"""The baseline of the SC-network speed target: straightforward vectorised NumPy bit-exact SC inference.

Each clock is recast as a +/-1 matrix product, batched over a chunk of clocks with ``np.matmul``:
input bits (rand < p, fresh per image, pixel and clock) and weight bits (fresh per chunk of clocks and batch of
images) become +/-1 float32 arrays, S1[t] = X[t] @ W1[t] (exact integers), Btanh is a loop over the clocks of
the chunk vectorised over images and neurons, and the output layer is a second batched matmul whose sums are
accumulated (decoding by counting). No bit packing, no compiled code.
"""

from __future__ import annotations

import numpy as np


def sc_numpy_baseline(x, w1aug, w2aug, length, k1, k2=None, *, rng, batch=250, chunk=64):
    """Predictions [N] of bipolar inputs x [N, n_in] through weights w1aug [H, n_in + 1], w2aug [O, H + 1]."""
    x = np.asarray(x, np.float64)
    n, n_in = x.shape
    h = w1aug.shape[0]
    o = w2aug.shape[0]
    p1 = (w1aug.T + 1) / 2  # [J, H]
    p2 = (w2aug.T + 1) / 2  # [H + 1, O]
    preds = np.empty(n, np.int64)
    for s in range(0, n, batch):
        xb = x[s:s + batch]
        b = xb.shape[0]
        px = np.concatenate([(xb + 1) / 2, np.ones((b, 1))], 1)  # bias input: all ones
        state = np.full((b, h), k1 // 2, np.int32)
        acc = np.zeros((b, o), np.int64)
        for t0 in range(0, length, chunk):
            tc = min(chunk, length - t0)
            xs = np.where(rng.random((tc, b, n_in + 1)) < px, 1.0, -1.0).astype(np.float32)
            ws = np.where(rng.random((tc, n_in + 1, h)) < p1, 1.0, -1.0).astype(np.float32)
            s1 = np.matmul(xs, ws)  # [tc, b, H]
            hb = np.ones((tc, b, h + 1), np.float32)
            for t in range(tc):
                state = np.clip(state + s1[t].astype(np.int32), 0, k1 - 1)
                hb[t, :, :h] = np.where(state >= k1 // 2, 1.0, -1.0)
            w2s = np.where(rng.random((tc, h + 1, o)) < p2, 1.0, -1.0).astype(np.float32)
            acc += np.matmul(hb, w2s).sum(0).astype(np.int64)
        preds[s:s + b] = acc.argmax(1)
    return preds
