"""The plain-torch loop `reference.TorchLoop` against the compiled kernel on the same input spikes: one
presentation with learning (spike counts equal, weights within the device's interpolation rounding, state
after the rest period) and inference (counts equal); `train_image` with and without learning."""

import warnings

import numpy as np
import pytest
import torch

from spinaptic.networks.snn import STDPNetwork, diehl_cook
from spinaptic.networks.snn import _kernels as K
from spinaptic.networks.snn.config import step_jump
from spinaptic.networks.snn.reference import TorchLoop

R = 2


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def image():
    from spinaptic.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, _ = load_dataset("mnist-sample", "train", flatten=True, scale="unit")
    return x[0].double()


def _pair(seed=0):
    # Diehl & Cook's full input scale: the 20-neuron layer fires on every test image (the default half does not)
    net = STDPNetwork(diehl_cook(n_exc=20, synapse="dw-continuous", input_scale=step_jump(1.0, 1e-3, 1e-3)), replicas=R,
                      generator=torch.Generator().manual_seed(seed))
    loop = TorchLoop(net.config, torch.from_numpy(net.w.copy()), torch.from_numpy(net.gain.copy()), net.theta())
    return net, loop


def _buckets(raster_r: torch.Tensor, ptr: np.ndarray, idx: np.ndarray) -> None:
    """Dense (steps, n_inputs) raster of one replica -> the kernel's buckets (`_kernels.encode`'s format)."""
    t, i = torch.nonzero(raster_r, as_tuple=True)  # row-major: steps ascending, inputs ascending within a step
    ptr[0] = 0
    ptr[1:] = np.cumsum(raster_r.sum(1).numpy())
    idx[:len(i)] = i.numpy().astype(np.int32)


def _dense(ptr: np.ndarray, idx: np.ndarray, steps: int, n_in: int) -> torch.Tensor:
    out = torch.zeros((steps, n_in), dtype=torch.bool)
    for t in range(steps):
        out[t, torch.from_numpy(idx[ptr[t]:ptr[t + 1]].astype(np.int64))] = True
    return out


def test_one_presentation_with_learning_matches_kernel(image):
    net, loop = _pair()
    c = net.config
    steps = c.steps_per_image
    rates = (image * c.p_max).clamp(max=1.0)
    raster = torch.rand((steps, R, c.n_inputs), generator=torch.Generator().manual_seed(5),
                        dtype=torch.float64) < rates
    for r in range(R):
        _buckets(raster[:, r], net._ptr[r], net._idx[r])
    w0 = net.w.copy()
    # the kernel, driven as STDPNetwork._present does (without encode)
    t_now = np.zeros(R, dtype=np.int64)
    net.fs[:, K.COUNT] = 0.0
    net.fs[:, K.COUNT_I] = 0.0
    n_events = 0
    while (t_now < steps).any():
        K.train_run(t_now, steps, net.w, net.gain, net.fs, net.ints, net.t_last, net._ptr, net._idx, net.ce, net.ci,
                    net.net, net.pw_pre, net._win_p, net._win_d, net._ev_j, net._ev_dw, net._n_ev)
        n_events += net._handle_events()
    K.close_windows(net.fs, net.ints, net._win_p, net._win_d, net._ev_j, net._ev_dw, net._n_ev)
    n_events += net._handle_events()
    counts = loop.present(raster, learn=True)  # with the rest period
    assert n_events > 0 and counts.sum() >= 2 * c.min_spikes
    assert torch.equal(counts, torch.from_numpy(net.fs[:, K.COUNT]))
    assert np.abs(net.w - w0).max() > 1e-3
    np.testing.assert_allclose(loop.w.numpy(), net.w, rtol=0, atol=1e-9)
    # the rest period in closed form
    n_rest = c.rest_steps
    K.rest_all(np.ones(R, dtype=bool), net.fs, net.ints, net.t_last, net.ce, net.ci, net.net[5] ** n_rest,
               net.net[6] ** n_rest, n_rest, steps + n_rest)
    for row, got in ((K.V_E, loop.exc.v), (K.GE_E, loop.exc.g_exc), (K.GI_E, loop.exc.g_inh), (K.V_I, loop.inh.v),
                     (K.GE_I, loop.inh.g_exc), (K.POST1, loop.post1), (K.POST2, loop.post2)):
        np.testing.assert_allclose(got.numpy(), net.fs[:, row], rtol=1e-12, atol=1e-12, err_msg=f"row {row}")
    # theta: lif_step adds theta_plus rounded to float32 (``th_plus * spikes`` of a bool tensor), 1.3e-12 V
    # (2.5e-8 relative) below the kernel's per spike
    np.testing.assert_allclose(loop.theta().numpy(), net.fs[:, K.TH_E], rtol=6e-8, atol=0)
    assert torch.equal(loop.exc.refractory, torch.from_numpy(net.ints[:, K.REF_E]))
    # the presynaptic trace the kernel reads at the next presentation's first step (age -t_last)
    spiked = net.t_last > K.NO_SPIKE
    pre_kernel = np.where(spiked, net.pw_pre[np.where(spiked, -net.t_last, 0)], 0.0)
    assert np.array_equal(loop.pre.numpy() * loop.d_pre, pre_kernel)


def test_inference_matches_kernel(image):
    net, loop = _pair(1)
    c = net.config
    steps = c.steps_per_image
    keys = np.array([[11], [12]], dtype=np.uint64)
    fs0 = np.zeros_like(net.fs)
    fs0[:, K.V_E], fs0[:, K.V_I], fs0[:, K.TH_E] = c.exc.v_rest_v, c.inh.v_rest_v, net.fs[:, K.TH_E]
    x = np.ascontiguousarray(image.numpy()[None])
    counts = np.zeros((R, 1, c.n_exc))
    K.infer(x, c.p_max, keys, steps, net.w, net.gain, fs0, net.ce, net.ci, net.net, float(c.min_spikes), c.boost, 1,
            counts)
    # the same input spikes: infer's first presentation is encoded with next_key(key)
    rates = np.minimum(x[0] * c.p_max, 1.0)
    raster = torch.zeros((steps, R, c.n_inputs), dtype=torch.bool)
    ptr, idx, times = np.zeros(steps + 1, dtype=np.int64), np.zeros(784 * steps, np.int32), np.zeros(784 * steps, int)
    for r in range(R):
        K.encode(rates, steps, K.next_key(keys[r, 0]), ptr, idx, times)
        raster[:, r] = _dense(ptr, idx, steps, c.n_inputs)
    w0 = loop.w.clone()
    got = loop.present(raster, learn=False)
    assert counts.sum() > 0
    assert torch.equal(got, torch.from_numpy(counts[:, 0]))
    assert torch.equal(loop.w, w0)


def test_train_image(image):
    net, loop = _pair(2)
    g = torch.Generator().manual_seed(3)
    state = (loop.w.clone(), loop.theta().clone())
    inf = loop.train_image(image, g, learn=False)
    assert inf.shape == (R, 20) and torch.equal(loop.w, state[0]) and torch.equal(loop.theta(), state[1])
    counts = loop.train_image(image, g)
    assert (counts.sum(1) >= net.config.min_spikes).all()
    changed = (loop.w != state[0]).any(1)
    sums = loop.w.sum(1)
    assert changed.any() and torch.allclose(sums[changed], torch.full_like(sums[changed], 78.0), atol=1e-9)
    assert (loop.theta() > state[1]).any()
