"""Compiled 350-step loop of the STDP network (numba): Poisson encoding, the two LIF populations, lateral
inhibition, event-driven traces and STDP windows. The equations are those of `neurons.lif_step` and
`reference.TorchLoop` (same coefficients, same order of operations); only their bookkeeping differs:

* input spikes are drawn as geometric inter-spike gaps (one draw per spike, not one per input and step) and
  sorted into per-step buckets; a Bernoulli process with probability p per step either way;
* the presynaptic trace is kept as the step of the last spike (nearest-spike trace: its value is decay**age,
  read from a table built by repeated multiplication, as the dense loop computes it);
* only inputs that spike touch the weights (a row of W per input spike), and only neurons that fire open an
  STDP window (a column), so a step costs O(input spikes x neurons + neurons).

Training stops each replica at the end of every step in which an STDP window closes and hands the window's
requested weight changes to Python, which programs the devices through the device protocol and writes the
new weights back; inference runs whole batches of images without returning.

Random numbers: a splitmix64 Weyl stream per replica and image, keyed from the caller's torch.Generator.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..._threads import run_split
from ...devices._dw_calibrated_kernel import program_column
from ...rng._kernels import splitmix as _splitmix

# float state rows, per replica: (N_F, n_neurons)
V_E, GE_E, GI_E, A_E, TH_E, V_I, GE_I, GI_I, A_I, POST1, POST2, S_E, S_I, COUNT, COUNT_I = range(15)
N_F = 15
# int state rows, per replica: (N_I, n_neurons)
REF_E, REF_I, CLOSE_T = range(3)
N_I = 3
NO_SPIKE = -(1 << 40)


@njit(cache=True, inline="always")
def _uniform(x):  # pragma: no cover - compiled
    x, z = _splitmix(x)
    return x, ((z >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def encode(rates, n_steps, key, ptr, idx, times):  # pragma: no cover - compiled
    """Poisson (Bernoulli per step) spike trains of the inputs with per-step probabilities ``rates`` over
    ``n_steps`` steps into buckets: inputs spiking at step t are ``idx[ptr[t]:ptr[t+1]]`` (ascending input)."""
    x = np.uint64(key)
    n_in = rates.shape[0]
    n = 0
    for i in range(n_in):
        p = rates[i]
        if p <= 0.0:
            continue
        if p >= 1.0:
            for t in range(n_steps):
                times[n] = t
                idx[n] = i
                n += 1
            continue
        inv = 1.0 / np.log1p(-p)
        t = -1
        while True:
            x, u = _uniform(x)
            t += int(np.floor(np.log(u) * inv)) + 1
            if t >= n_steps:
                break
            times[n] = t
            idx[n] = i
            n += 1
    for t in range(n_steps + 1):
        ptr[t] = 0
    for k in range(n):
        ptr[times[k] + 1] += 1
    for t in range(n_steps):
        ptr[t + 1] += ptr[t]
    # stable counting sort by step (inputs stay ascending within a step); times reused as the output cursor
    fill = ptr.copy()
    out = np.empty(n, dtype=idx.dtype)
    for k in range(n):
        out[fill[times[k]]] = idx[k]
        fill[times[k]] += 1
    idx[:n] = out
    return n


@njit(cache=True, inline="always")
def _population(fs, ints, v_row, ge_row, gi_row, a_row, th_row, ref_row, exc_in, inh_in, c, learn, spikes):
    """`neurons.lif_step` for one population of one replica, in place; spikes written to ``spikes`` (0/1)."""
    v_rest, v_reset, v_th, k_mem = c[0], c[1], c[2], c[3]
    d_exc, d_inh, d_adapt, a_plus, d_theta, th_plus, e_exc, e_inh = c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]
    refr = int(c[12])
    cond = c[13] != 0.0
    n = fs.shape[1]
    for j in range(n):
        ge = fs[ge_row, j] * d_exc + exc_in[j]
        gi = fs[gi_row, j] * d_inh + inh_in[j]
        fs[ge_row, j] = ge
        fs[gi_row, j] = gi
        v = fs[v_row, j]
        a = fs[a_row, j]
        if cond:
            drive = (v_rest - v) * (1.0 + a) + ge * (e_exc - v) + gi * (e_inh - v)
        else:
            drive = (v_rest - v) * (1.0 + a) + ge - gi
        free = ints[ref_row, j] == 0
        if free:
            v = v + k_mem * drive
        else:
            ints[ref_row, j] -= 1
        a = a * d_adapt
        th = fs[th_row, j] * d_theta if th_row >= 0 else 0.0
        s = 0.0
        if free and v > v_th + th:
            s = 1.0
            v = v_reset
            ints[ref_row, j] = refr
            a = a + a_plus
            if learn and th_row >= 0:
                th = th + th_plus
        fs[v_row, j] = v
        fs[a_row, j] = a
        if th_row >= 0:
            fs[th_row, j] = th
        spikes[j] = s


@njit(cache=True, inline="always")
def _step(t, w, gain, fs, ints, t_last, ptr, idx, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw, n_ev, learn,
          exc_in, inh_in, inh_exc_in, s_e, s_i):
    """One step of one replica (see the module docstring for the order of operations)."""
    n_in, n = w.shape
    in_scale, w_ei, w_ie, eta_post, eta_pre, d_post1, d_post2, triplet, window = (
        net[0], net[1], net[2], net[3], net[4], net[5], net[6], net[7] != 0.0, int(net[8]))
    for j in range(n):
        exc_in[j] = 0.0
        fs[POST1, j] *= d_post1
        fs[POST2, j] *= d_post2
    for k in range(ptr[t], ptr[t + 1]):
        i = idx[k]
        for j in range(n):
            exc_in[j] += w[i, j]
        if learn:
            for j in range(n):
                if ints[CLOSE_T, j] >= 0:
                    win_d[j, i] += eta_pre * fs[POST1, j]
            t_last[i] = t
    total_inh = 0.0
    for j in range(n):
        exc_in[j] *= in_scale * gain[j]
        total_inh += fs[S_I, j]
    for j in range(n):
        inh_in[j] = w_ie * (total_inh - fs[S_I, j])
        inh_exc_in[j] = w_ei * fs[S_E, j]
    _population(fs, ints, V_E, GE_E, GI_E, A_E, TH_E, REF_E, exc_in, inh_in, ce, learn, s_e)
    for j in range(n):
        inh_in[j] = 0.0
    _population(fs, ints, V_I, GE_I, GI_I, A_I, -1, REF_I, inh_exc_in, inh_in, ci, learn, s_i)
    for j in range(n):
        fs[S_E, j] = s_e[j]
        fs[S_I, j] = s_i[j]
        fs[COUNT_I, j] += s_i[j]
        if s_e[j] == 0.0:
            continue
        fs[COUNT, j] += 1.0
        if not learn:
            continue
        if ints[CLOSE_T, j] >= 0:
            _close(j, win_p, win_d, ev_j, ev_dw, n_ev, ints)
        scale = eta_post * (fs[POST2, j] if triplet else 1.0)
        n_tab = pw_pre.shape[0]
        for i in range(n_in):
            age = t - t_last[i]
            win_p[j, i] = scale * pw_pre[age] if age < n_tab else 0.0
            win_d[j, i] = 0.0
        ints[CLOSE_T, j] = t + window
        fs[POST1, j] = 1.0
        fs[POST2, j] = 1.0
    if learn:
        for j in range(n):
            if ints[CLOSE_T, j] == t:
                _close(j, win_p, win_d, ev_j, ev_dw, n_ev, ints)


@njit(cache=True, inline="always")
def _close(j, win_p, win_d, ev_j, ev_dw, n_ev, ints):
    """Close neuron j's STDP window: its requested change P - D becomes an event of this replica."""
    e = n_ev[0]
    ev_j[e] = j
    for i in range(win_p.shape[1]):
        ev_dw[e, i] = win_p[j, i] - win_d[j, i]
    n_ev[0] = e + 1
    ints[CLOSE_T, j] = -1


@njit(parallel=True, cache=True)
def train_run(t_now, n_steps, w, gain, fs, ints, t_last, ptr, idx, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw,
              n_ev):  # pragma: no cover - compiled
    """Advance every replica r from step ``t_now[r]`` until the end of a step in which one of its STDP windows
    closed (events in ``ev_j[r, :n_ev[r]]``, ``ev_dw[r, e]``) or until ``n_steps``; ``t_now`` is advanced."""
    n_rep, n = gain.shape
    for r in prange(n_rep):
        exc_in = np.empty(n)
        inh_in = np.empty(n)
        inh_exc_in = np.empty(n)
        s_e = np.empty(n)
        s_i = np.empty(n)
        n_ev[r, 0] = 0
        t = t_now[r]
        while t < n_steps:
            _step(t, w[r], gain[r], fs[r], ints[r], t_last[r], ptr[r], idx[r], ce, ci, net, pw_pre, win_p[r], win_d[r],
                  ev_j[r], ev_dw[r], n_ev[r], True, exc_in, inh_in, inh_exc_in, s_e, s_i)
            t += 1
            if n_ev[r, 0] > 0:
                break
        t_now[r] = t


@njit(parallel=True, cache=True)
def close_windows(fs, ints, win_p, win_d, ev_j, ev_dw, n_ev):  # pragma: no cover - compiled
    """Close every open STDP window (end of a presentation): events as in `train_run`."""
    n_rep, _, n = fs.shape
    for r in prange(n_rep):
        n_ev[r, 0] = 0
        for j in range(n):
            if ints[r, CLOSE_T, j] >= 0:
                _close(j, win_p[r], win_d[r], ev_j[r], ev_dw[r], n_ev[r], ints[r])


@njit(cache=True, inline="always")
def _rest_population(fs, ints, v_row, ge_row, gi_row, a_row, ref_row, c, j, n_rest):  # pragma: no cover - compiled
    fs[ge_row, j] *= c[4] ** n_rest
    fs[gi_row, j] *= c[5] ** n_rest
    fs[v_row, j] = c[0] + (fs[v_row, j] - c[0]) * (1.0 - c[3] * (1.0 + fs[a_row, j])) ** n_rest
    fs[a_row, j] *= c[6] ** n_rest
    ints[ref_row, j] = max(0, ints[ref_row, j] - n_rest)


@njit(cache=True, inline="always")
def rest(fs, ints, t_last, ce, ci, d_post1_rest, d_post2_rest, n_rest, shift):  # pragma: no cover - compiled
    """``n_rest`` steps without input, in closed form: inputs and traces decay by their factors**n_rest, the
    membrane by the Euler leak (1 - k_mem (1 + a))**n_rest with a held at its start value, refractory counters
    run down; spikes of the previous step are dropped; input-trace ages grow by ``shift`` steps."""
    n = fs.shape[1]
    for j in range(n):
        _rest_population(fs, ints, V_E, GE_E, GI_E, A_E, REF_E, ce, j, n_rest)
        _rest_population(fs, ints, V_I, GE_I, GI_I, A_I, REF_I, ci, j, n_rest)
        fs[TH_E, j] *= ce[8] ** n_rest
        fs[POST1, j] *= d_post1_rest
        fs[POST2, j] *= d_post2_rest
        fs[S_E, j] = 0.0
        fs[S_I, j] = 0.0
    for i in range(t_last.shape[0]):
        if t_last[i] > NO_SPIKE:
            t_last[i] -= shift


@njit(cache=True)
def rest_all(mask, fs, ints, t_last, ce, ci, d_post1_rest, d_post2_rest, n_rest, shift):  # pragma: no cover
    """`rest` for every replica r with ``mask[r]``."""
    for r in range(fs.shape[0]):
        if mask[r]:
            rest(fs[r], ints[r], t_last[r], ce, ci, d_post1_rest, d_post2_rest, n_rest, shift)


@njit(cache=True, nogil=True, error_model="numpy")
def _infer_range(lo, hi, images, p_max, keys, n_steps, w, gain, fs0, ce, ci, net, min_spikes, boost, max_tries,
                 counts):  # pragma: no cover - compiled
    """Items lo..hi-1 of `infer` (item = replica x n_img + image), one after another (one thread's share)."""
    n_img = images.shape[0]
    for flat in range(lo, hi):
        _infer_one(flat // n_img, flat % n_img, images, p_max, keys, n_steps, w, gain, fs0, ce, ci, net, min_spikes,
                   boost, max_tries, counts)


@njit(cache=True, error_model="numpy")  # no division checks in the hot loop
def _infer_one(r, m, images, p_max, keys, n_steps, w, gain, fs0, ce, ci, net, min_spikes, boost, max_tries,
               counts):  # pragma: no cover - compiled
    """Replica r on image m of `infer`."""
    n = gain.shape[1]
    n_in = images.shape[1]
    exc_in = np.empty(n)
    inh_in = np.empty(n)
    inh_exc_in = np.empty(n)
    s_e = np.empty(n)
    s_i = np.empty(n)
    ptr = np.empty(n_steps + 1, dtype=np.int64)
    idx = np.empty(n_in * n_steps, dtype=np.int32)
    times = np.empty(n_in * n_steps, dtype=np.int64)
    t_last = np.full(n_in, NO_SPIKE, dtype=np.int64)
    dummy_p = np.empty((1, 1))
    dummy_j = np.empty(1, dtype=np.int64)
    dummy_n = np.zeros(1, dtype=np.int64)
    pw = np.ones(1)
    p = p_max
    key = np.uint64(keys[r, m])
    for _ in range(max_tries):
        fs = fs0[r].copy()
        ints = np.zeros((N_I, n), dtype=np.int64)
        ints[CLOSE_T, :] = -1
        _, key = _splitmix(key ^ np.uint64(0xA0761D6478BD642F))
        encode(np.minimum(images[m] * p, 1.0), n_steps, key, ptr, idx, times)
        t_last[:] = NO_SPIKE
        for t in range(n_steps):
            _step(t, w[r], gain[r], fs, ints, t_last, ptr, idx, ce, ci, net, pw, dummy_p, dummy_p, dummy_j, dummy_p,
                  dummy_n, False, exc_in, inh_in, inh_exc_in, s_e, s_i)
        total = 0.0
        for j in range(n):
            total += fs[COUNT, j]
        if total >= min_spikes:
            break
        p += boost
    for j in range(n):
        counts[r, m, j] = fs[COUNT, j]


def infer(images, p_max, keys, n_steps, w, gain, fs0, ce, ci, net, min_spikes, boost, max_tries,
          counts):
    """Spike counts ``counts[r, m, :]`` of every replica r for every image m, learning off. Input i of image m
    spikes with probability ``images[m, i] * p_max`` per step. Each image starts from ``fs0[r]`` (neurons at
    rest, theta frozen) and is presented again with ``p_max`` raised by ``boost`` while the layer fires fewer
    than ``min_spikes`` spikes (at most ``max_tries`` presentations). ``keys[r, m]`` seeds the image's inputs."""
    run_split(_infer_range, gain.shape[0] * images.shape[0], images, p_max, keys, n_steps, w, gain, fs0, ce, ci,
              net, min_spikes, boost, max_tries, counts)


@njit(cache=True)
def next_key(key):  # pragma: no cover - compiled
    """Key of the next presentation of an image (a re-presentation draws fresh input spikes)."""
    _, k = _splitmix(np.uint64(key) ^ np.uint64(0xA0761D6478BD642F))
    return k


@njit(cache=True)
def _program_events(r, ev_j, ev_dw, n_ev, w, q, g_p, g_ap, kp, fwd_i, fwd_d, inv_d, inv_i, col, acc,
                    slot):  # pragma: no cover - compiled
    """Program replica r's pending events with the compiled calibrated DW response; counters to acc[r, slot..]."""
    n_in = w.shape[1]
    for e in range(n_ev[r, 0]):
        j = ev_j[r, e]
        en, su, k = program_column(q[r, j], g_p[r, j], g_ap[r, j], ev_dw[r, e], col, kp, fwd_i, fwd_d, inv_d, inv_i)
        for i in range(n_in):
            if ev_dw[r, e, i] != 0.0:
                w[r, i, j] = col[i]
        acc[r, slot] += en
        acc[r, slot + 1] += su
        acc[r, slot + 2] += k
    n_ev[r, 0] = 0


@njit(cache=True, nogil=True, error_model="numpy")
def _train_replicas(lo, hi, images, keys, p_max, boost, min_spikes, max_pres, n_steps, n_rest, w, gain, fs, ints,
                    t_last, ptr, idx, times, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw, n_ev, q, g_p, g_ap, kp,
                    fwd_i, fwd_d, inv_d, inv_i, norm_mode, norm_target, d1, d2, acc):  # pragma: no cover - compiled
    """Replicas lo..hi-1 of `train_images`, one after another (one thread's share)."""
    for r in range(lo, hi):
        _train_replica(r, images, keys, p_max, boost, min_spikes, max_pres, n_steps, n_rest, w, gain, fs, ints,
                       t_last, ptr, idx, times, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw, n_ev, q, g_p, g_ap, kp,
                       fwd_i, fwd_d, inv_d, inv_i, norm_mode, norm_target, d1, d2, acc)


@njit(cache=True, error_model="numpy")  # no division checks in the hot loop
def _train_replica(r, images, keys, p_max, boost, min_spikes, max_pres, n_steps, n_rest, w, gain, fs, ints, t_last,
                   ptr, idx, times, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw, n_ev, q, g_p, g_ap, kp, fwd_i,
                   fwd_d, inv_d, inv_i, norm_mode, norm_target, d1, d2, acc):  # pragma: no cover - compiled
    """Replica r of `train_images`."""
    n = gain.shape[1]
    n_img, n_in = images.shape
    exc_in = np.empty(n)
    inh_in = np.empty(n)
    inh_exc_in = np.empty(n)
    s_e = np.empty(n)
    s_i = np.empty(n)
    col = np.empty(n_in)
    dw = np.empty(n_in)
    rates = np.empty(n_in)
    learned = np.zeros(n, dtype=np.bool_)
    for m in range(n_img):
        p = p_max
        key = np.uint64(keys[m, r])
        learned[:] = False
        for pres in range(max_pres):
            if pres > 0:
                key = next_key(key)
            fs[r, COUNT, :] = 0.0
            fs[r, COUNT_I, :] = 0.0
            for i in range(n_in):
                rates[i] = min(images[m, i] * p, 1.0)
            encode(rates, n_steps, key, ptr[r], idx[r], times[r])
            for t in range(n_steps):
                _step(t, w[r], gain[r], fs[r], ints[r], t_last[r], ptr[r], idx[r], ce, ci, net, pw_pre, win_p[r],
                      win_d[r], ev_j[r], ev_dw[r], n_ev[r], True, exc_in, inh_in, inh_exc_in, s_e, s_i)
                if n_ev[r, 0] > 0:
                    for e in range(n_ev[r, 0]):
                        learned[ev_j[r, e]] = True
                    _program_events(r, ev_j, ev_dw, n_ev, w, q, g_p, g_ap, kp, fwd_i, fwd_d, inv_d, inv_i, col,
                                    acc, 0)
            n_ev[r, 0] = 0
            for j in range(n):
                if ints[r, CLOSE_T, j] >= 0:
                    _close(j, win_p[r], win_d[r], ev_j[r], ev_dw[r], n_ev[r], ints[r])
                    learned[j] = True
            _program_events(r, ev_j, ev_dw, n_ev, w, q, g_p, g_ap, kp, fwd_i, fwd_d, inv_d, inv_i, col, acc, 0)
            total = 0.0
            for j in range(n):
                total += fs[r, COUNT, j]
            acc[r, 6] += total
            acc[r, 7] += 1.0
            for j in range(n):
                acc[r, 8] += fs[r, COUNT_I, j]
            rest(fs[r], ints[r], t_last[r], ce, ci, d1, d2, n_rest, n_steps + n_rest)
            if total >= min_spikes:
                break
            p += boost
        if norm_mode == 2:
            continue
        for j in range(n):
            if not learned[j]:
                continue
            s = 0.0
            for i in range(n_in):
                s += w[r, i, j]
            if norm_mode == 1:
                gain[r, j] = norm_target / max(s, 1e-12)
                continue
            scale = norm_target / max(s, 1e-12)
            for i in range(n_in):
                dw[i] = min(max(w[r, i, j] * scale, 0.0), 1.0) - w[r, i, j]
            ev_j[r, 0] = j
            ev_dw[r, 0, :] = dw
            n_ev[r, 0] = 1
            _program_events(r, ev_j, ev_dw, n_ev, w, q, g_p, g_ap, kp, fwd_i, fwd_d, inv_d, inv_i, col, acc, 3)


def train_images(images, keys, p_max, boost, min_spikes, max_pres, n_steps, n_rest, w, gain, fs, ints, t_last, ptr,
                 idx, times, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw, n_ev, q, g_p, g_ap, kp, fwd_i, fwd_d,
                 inv_d, inv_i, norm_mode, norm_target, d1, d2, acc):
    """The whole training of `STDPNetwork` on ``images`` for a device with a compiled programming response:
    the same presentations, windows, rests and normalisation as the Python-driven path (``keys[m, r]``: the
    first presentation's key of image m for replica r). ``norm_mode``: 0 reprogram, 1 gain, 2 none. ``acc[r]``:
    programming energy, supply energy, pulses, normalisation energy, normalisation supply, normalisation
    pulses, excitatory spikes, presentations, inhibitory spikes. ``d1``, ``d2``: the post traces' decay over
    the rest (computed by the caller, as for `rest_all`)."""
    run_split(_train_replicas, gain.shape[0], images, keys, p_max, boost, min_spikes, max_pres, n_steps, n_rest, w,
              gain, fs, ints, t_last, ptr, idx, times, ce, ci, net, pw_pre, win_p, win_d, ev_j, ev_dw, n_ev, q, g_p,
              g_ap, kp, fwd_i, fwd_d, inv_d, inv_i, norm_mode, norm_target, d1, d2, acc)
