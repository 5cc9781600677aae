"""The STDP network of `network.STDPNetwork` as a plain-torch loop: the speed baseline and a cross-check.

What a user writes in plain PyTorch (as BindsNET does it): dense tensor operations every step, one Python
iteration per step, both populations stepped by `neurons.lif_step`. The order of operations per step is that
of the compiled kernel (`_kernels._step`):

1. post-synaptic traces decay;
2. this step's input spikes: ``exc_in = spikes @ W * (input_scale * gain)``; while learning every open STDP
   window of neuron j adds ``eta_pre * post1[j]`` to its negative request D[j, i] for each spiking input i;
   the presynaptic trace decays and is set to 1 where an input spikes;
3. lateral inhibition from the previous step's inhibitory spikes, ``w_inh_exc * (sum - own)``; the
   inhibitory neurons receive ``w_exc_inh`` times their partner's previous excitatory spike;
4. the excitatory population steps, then the inhibitory one;
5. an excitatory spike is counted; while learning it closes the neuron's open window (column j programmed by
   P - D, clipped to [0, 1]) and opens a new one, ``P = eta_post * (post2 if triplet else 1) * pre``, D = 0,
   to close ``window`` steps later; both post traces are set to 1;
6. windows due this step close.

The synapses are ideal floats (weights changed directly). After a presentation every open window closes and
the rest period runs in closed form with the kernel's formulas (`_kernels.rest`; integer powers by
squaring, as numba computes them). The only intended difference to the kernel: its presynaptic trace is
read from a table of ``steps_per_image + rest_steps + 1`` entries and is 0 beyond (decay**501 ~ 1e-11 for
the default 20 ms); the dense trace here keeps decaying instead.
"""

from __future__ import annotations

import math

import torch

from .config import SNNConfig
from .neurons import LIFState, lif_rest_state, lif_step

_F64 = torch.float64


def _ipow(x, n: int):
    """x**n by binary exponentiation (numba's algorithm for a float to an integer power); x float or tensor."""
    r = torch.ones_like(x) if isinstance(x, torch.Tensor) else 1.0
    while n:
        if n & 1:
            r = r * x
        n >>= 1
        x = x * x
    return r


class TorchLoop:
    """``replicas`` independent copies of the network (leading dimension R everywhere) on ``device``.

    Args:
        config: the network.
        weights: initial weights (R, n_inputs, n_exc) in [0, 1].
        gain: input gains (R, n_exc).
        theta: homeostatic threshold offsets [V] (R, n_exc).
    """

    def __init__(self, config: SNNConfig, weights: torch.Tensor, gain: torch.Tensor, theta: torch.Tensor, *,
                 device: torch.device | str = "cpu") -> None:
        c, s = config, config.stdp
        self.config, self.device = c, torch.device(device)
        self.w = torch.as_tensor(weights, dtype=_F64).to(self.device).clone()
        R, n_in, n = self.w.shape
        if (R, n_in, n) != (R, c.n_inputs, c.n_exc):
            raise ValueError(f"weights: need (R, {c.n_inputs}, {c.n_exc}), got {tuple(self.w.shape)}")
        self.replicas = R
        self.gain = torch.as_tensor(gain, dtype=_F64).to(self.device).clone().reshape(R, n)
        self.ce, self.ci = c.exc.coefficients(c.dt_s), c.inh.coefficients(c.dt_s)
        self.d_pre = math.exp(-c.dt_s / s.tau_pre_s)
        self.d_post1 = math.exp(-c.dt_s / s.tau_post1_s)
        self.d_post2 = math.exp(-c.dt_s / s.tau_post2_s)
        self.window = c.steps(s.window_s)
        z = torch.zeros((R, n), dtype=_F64, device=self.device)
        self.exc = lif_rest_state((R, n), c.exc, theta=torch.as_tensor(theta, dtype=_F64).to(self.device).clone()
                                  .reshape(R, n), device=self.device)
        self.inh = lif_rest_state((R, n), c.inh, device=self.device)
        self.pre = torch.zeros((R, n_in), dtype=_F64, device=self.device)
        self.post1, self.post2, self.s_e, self.s_i = z.clone(), z.clone(), z.clone(), z.clone()
        self.win_p = torch.zeros((R, n, n_in), dtype=_F64, device=self.device)
        self.win_d = torch.zeros_like(self.win_p)
        self.close_t = torch.full((R, n), -1, dtype=torch.int64, device=self.device)
        self.learned = torch.zeros((R, n), dtype=torch.bool, device=self.device)

    # ------------------------------------------------------------------------------------------- state
    _FIELDS = ("w", "gain", "pre", "post1", "post2", "s_e", "s_i", "win_p", "win_d", "close_t", "learned")

    def _snapshot(self) -> dict:
        snap = {k: getattr(self, k).clone() for k in self._FIELDS}
        snap["exc"] = LIFState(*(x.clone() for x in self.exc))
        snap["inh"] = LIFState(*(x.clone() for x in self.inh))
        return snap

    def _restore(self, snap: dict, keep: torch.Tensor | None = None) -> None:
        """Back to ``snap``, except replicas with ``keep`` (R,) True, which keep their current state."""
        def pick(now: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
            return old if keep is None else torch.where(keep.reshape((-1,) + (1,) * (now.dim() - 1)), now, old)

        for k in self._FIELDS:
            setattr(self, k, pick(getattr(self, k), snap[k]))
        self.exc = LIFState(*(pick(a, b) for a, b in zip(self.exc, snap["exc"], strict=True)))
        self.inh = LIFState(*(pick(a, b) for a, b in zip(self.inh, snap["inh"], strict=True)))

    def theta(self) -> torch.Tensor:
        """Homeostatic threshold offsets [V] (R, n_exc)."""
        return self.exc.theta

    # ------------------------------------------------------------------------------------------- dynamics
    def _apply(self, mask: torch.Tensor) -> None:
        """Close the windows of neurons ``mask`` (R, n): program their columns by P - D, clipped to [0, 1]."""
        dw = (self.win_p - self.win_d).transpose(1, 2)
        self.w = torch.where(mask[:, None, :], (self.w + dw).clamp(0.0, 1.0), self.w)
        self.close_t = torch.where(mask, -1, self.close_t)
        self.learned |= mask

    def present(self, raster: torch.Tensor, learn: bool, *, active: torch.Tensor | None = None,
                rest: bool = True) -> torch.Tensor:
        """One presentation of input spikes ``raster`` (steps, R, n_inputs) bool; returns the excitatory spike
        counts (R, n_exc). Open windows close at its end, then the rest period (``rest``). Replicas with
        ``active`` (R,) False are left as they were (their counts are returned as zeros)."""
        c = self.config
        s = c.stdp
        raster = raster.to(self.device)
        snap = self._snapshot() if active is not None else None
        in_scale, w_ei, w_ie, eta_post, eta_pre = c.input_scale, c.w_exc_inh, c.w_inh_exc, s.eta_post, s.eta_pre
        zero = torch.zeros_like(self.s_i)
        counts = torch.zeros_like(self.s_e)
        for t in range(raster.shape[0]):
            x = raster[t]
            xf = x.to(_F64)
            # (1) post traces decay
            self.post1 = self.post1 * self.d_post1
            self.post2 = self.post2 * self.d_post2
            # (2) input spikes: drive, negative window, presynaptic trace
            exc_in = torch.bmm(xf[:, None, :], self.w)[:, 0] * (in_scale * self.gain)
            self.pre = self.pre * self.d_pre
            if learn:
                open_ = self.close_t >= 0
                if open_.any():
                    self.win_d = self.win_d + (eta_pre * self.post1 * open_)[:, :, None] * xf[:, None, :]
                self.pre = torch.where(x, 1.0, self.pre)
            # (3) lateral inhibition and the inhibitory drive, from the previous step's spikes
            inh_in = w_ie * (self.s_i.sum(1, keepdim=True) - self.s_i)
            inh_exc_in = w_ei * self.s_e
            # (4) the two populations
            self.exc, se = lif_step(self.exc, exc_in, inh_in, self.ce, learn=learn)
            self.inh, si = lif_step(self.inh, inh_exc_in, zero, self.ci, learn=learn)
            self.s_e, self.s_i = se.to(_F64), si.to(_F64)
            counts = counts + self.s_e
            # (5) excitatory spikes close and open windows
            if learn and se.any():
                closing = se & (self.close_t >= 0)
                if closing.any():
                    self._apply(closing)
                scale = eta_post * (self.post2 if s.triplet else torch.ones_like(self.post2))
                m = se[:, :, None]
                self.win_p = torch.where(m, scale[:, :, None] * self.pre[:, None, :], self.win_p)
                self.win_d = torch.where(m, 0.0, self.win_d)
                self.close_t = torch.where(se, t + self.window, self.close_t)
                self.post1 = torch.where(se, 1.0, self.post1)
                self.post2 = torch.where(se, 1.0, self.post2)
            # (6) windows due now
            if learn:
                due = self.close_t == t
                if due.any():
                    self._apply(due)
        if learn:
            self._apply(self.close_t >= 0)
        if rest:
            self._rest()
        if snap is not None:
            self._restore(snap, keep=active)
            counts = counts * active[:, None]
        return counts

    def _rest(self) -> None:
        """``rest_steps`` without input in closed form (`_kernels.rest`)."""
        n = self.config.rest_steps

        def population(st: LIFState, c) -> LIFState:
            v = c[0] + (st.v - c[0]) * _ipow(1.0 - c[3] * (1.0 + st.adapt), n)
            return LIFState(v, st.g_exc * _ipow(c[4], n), st.g_inh * _ipow(c[5], n), st.adapt * _ipow(c[6], n),
                            st.theta, (st.refractory - n).clamp(min=0))

        ce = [float(v) for v in self.ce]
        self.exc = population(self.exc, ce)._replace(theta=self.exc.theta * _ipow(ce[8], n))
        self.inh = population(self.inh, [float(v) for v in self.ci])
        self.post1 = self.post1 * _ipow(self.d_post1, n)
        self.post2 = self.post2 * _ipow(self.d_post2, n)
        self.s_e = torch.zeros_like(self.s_e)
        self.s_i = torch.zeros_like(self.s_i)
        for _ in range(n):  # the kernel's trace table is built by repeated multiplication
            self.pre = self.pre * self.d_pre

    def normalise(self) -> None:
        """Normalise the columns that had a window applied since the last call (`SNNConfig.normalisation`)."""
        c = self.config
        mask = self.learned
        self.learned = torch.zeros_like(mask)
        if c.normalisation == "none" or not mask.any():
            return
        sums = torch.cumsum(self.w, dim=1)[:, -1, :]  # left to right, as the kernel sums
        scale = c.norm_target / sums.clamp(min=1e-12)
        if c.normalisation == "gain":
            self.gain = torch.where(mask, scale, self.gain)
        else:
            self.w = torch.where(mask[:, None, :], (self.w * scale[:, None, :]).clamp(0.0, 1.0), self.w)

    def _rest_neurons(self, theta: torch.Tensor) -> None:
        """Neurons and traces at rest, threshold offsets ``theta``, no window open (an inference start)."""
        R, n = self.s_e.shape
        self.exc = lif_rest_state((R, n), self.config.exc, theta=theta.clone(), device=self.device)
        self.inh = lif_rest_state((R, n), self.config.inh, device=self.device)
        self.pre = torch.zeros_like(self.pre)
        for k in ("post1", "post2", "s_e", "s_i"):
            setattr(self, k, torch.zeros_like(self.s_e))
        self.close_t = torch.full_like(self.close_t, -1)

    # ------------------------------------------------------------------------------------------- images
    def train_image(self, image: torch.Tensor, generator: torch.Generator, learn: bool = True) -> torch.Tensor:
        """Show one image (n_inputs,) in [0, 1]: Bernoulli inputs of probability ``image * p``, ``p = p_max``
        raised by ``boost`` and shown again to the replicas that fired fewer than ``min_spikes`` (at most
        ``max_presentations`` times); with ``learn`` then normalise, without it (inference, `_kernels.infer`)
        every presentation starts from rest with theta frozen and the state is left unchanged. Returns the
        counts (R, n_exc) of each replica's last presentation."""
        c = self.config
        image = torch.as_tensor(image, dtype=_F64).reshape(-1)
        R = self.replicas
        gdev = generator.device
        snap = None if learn else self._snapshot()
        theta0 = self.exc.theta.clone()
        todo = torch.ones(R, dtype=torch.bool, device=self.device)
        counts = torch.zeros_like(self.s_e)
        p = c.p_max
        for _ in range(c.max_presentations):
            rates = (image.to(gdev) * p).clamp(max=1.0)
            raster = torch.rand((c.steps_per_image, R, c.n_inputs), generator=generator, dtype=_F64,
                                device=gdev) < rates
            if learn:
                got = self.present(raster, True, active=None if bool(todo.all()) else todo)
            else:
                self._rest_neurons(theta0)
                got = self.present(raster, False, rest=False)
            counts = torch.where(todo[:, None], got, counts)
            todo = todo & (got.sum(1) < c.min_spikes)
            if not bool(todo.any()):
                break
            p += c.boost
        if learn:
            self.normalise()
        else:
            self._restore(snap)
        return counts
