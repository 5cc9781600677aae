"""Metaplastic binarized network of paper 002 (Leonard et al. 2022, Fig. 4-5), after Laborieux et al. 2021.

The hidden weight W_h of every synapse is a domain-wall position in [-1, 1]; the forward pass uses sign(W_h).
Adam proposes a step; eq. 1's metaplastic function

    f_meta(W_h) = (1 - |W_h|) (w2 - w1) / w2 + w1 / w2          (w1:w2 the track's end widths)

damps the steps that move W_h toward 0 (the only ones that can flip the binary weight, as in Laborieux's
Adam_meta), the asymmetry delta multiplies the steps that grow |W_h| ("for updates that prescribe to increase
the magnitude of the weight, an additional asymmetry parameter delta is multiplied"), W_h is clipped to
[-1, 1] and rounded to the notches' levels (stochastic rounding; deterministic as a control).

Readings where paper 002 is silent (its Supplementary Section 3 is not available here):
* f_meta multiplies only |W_h|-decreasing steps (Laborieux's rule, which paper 002 says it adapts);
  ``meta_on="all"`` applies it to every step instead (the literal "multiplying the metaplastic function by
  the optimizer update").
* The L levels are evenly spaced on [-1, 1] including both ends (4 levels: -1, -1/3, 1/3, 1).
* BatchNorm without affine parameters and with running statistics for testing (Laborieux's stream code);
  the 784 inputs stay real-valued in [0, 1]; minibatch 100; Adam betas (0.9, 0.999), eps 1e-8, no decay.

Replicas (seeds x synapse rules) train side by side in one batched computation: weights are [R, out, in]
and every product is a batched matmul; each replica has its own rule, initial weights, minibatch order
and rounding draws, all from one `torch.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..config import ConfigError, check_choice, check_int, check_positive, check_range
from ..rng import draw_key

ROUNDINGS = ("stochastic", "deterministic")
META_ON = ("decrease", "all")


@dataclass(frozen=True)
class MetaplasticRule:
    """One synapse model of paper 002 Fig. 5.

    Attributes:
        width_ratio: w2 / w1, the track's wide-to-narrow end width (1 = straight, 4 = the trapezoid, paper 002
            "a 1:4 ratio between w_1 and w_2"); f_meta falls from 1 at W_h = 0 to w1/w2 at |W_h| = 1.
        delta: asymmetry multiplying |W_h|-increasing steps (paper 002 Fig. 5a: 1 or 3).
        levels: notch levels of W_h on [-1, 1] (paper 002: 4; supplementary 8, 16; Fig. 5b's linear synapse
            32); 0 = unquantised.
        rounding: "stochastic" (paper 002) or "deterministic" (nearest level; its Supplementary Fig. 3 control).
        binarized: forward with sign(W_h) (the BNN) or with W_h itself (Fig. 5b's non-binarized synapse).
        meta_on: "decrease" (f_meta damps steps toward 0, Laborieux) or "all" (every step).
        meta_knots: f_meta as a measured function instead of eq. 1: knots (|W_h|, f) with |W_h| ascending from 0
            to 1 and f in (0, 1], joined linearly (`devices.dw_metaplasticity` derives them from a device's
            depinning voltages); empty = eq. 1 from ``width_ratio``.
    """

    width_ratio: float = 1.0
    delta: float = 1.0
    levels: int = 4
    rounding: str = "stochastic"
    binarized: bool = True
    meta_on: str = "decrease"
    meta_knots: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        check_range("width_ratio (w2/w1, track end widths)", self.width_ratio, 1.0, 1000.0)
        check_range("delta (asymmetry of |W_h|-increasing steps)", self.delta, 1e-3, 1e3)
        if self.levels != 0:
            check_int("levels (notch levels of W_h, 0 = none)", self.levels, 2, 1 << 16)
        check_choice("rounding", self.rounding, ROUNDINGS)
        if not isinstance(self.binarized, bool):
            raise ConfigError(f"binarized must be true or false, got {self.binarized!r}")
        check_choice("meta_on", self.meta_on, META_ON)
        knots = tuple((float(x), float(f)) for x, f in self.meta_knots)
        object.__setattr__(self, "meta_knots", knots)
        if knots:
            xs = [x for x, _ in knots]
            if len(knots) < 2 or xs[0] != 0.0 or xs[-1] != 1.0 or any(b <= a for a, b in zip(xs, xs[1:])):
                raise ConfigError(f"meta_knots: |W_h| must ascend strictly from 0 to 1 (>= 2 knots), got {xs}")
            for _, f in knots:
                check_range("meta_knots f (update efficiency)", f, 0.0, 1.0, lo_open=True)

    def f_meta(self, w: torch.Tensor) -> torch.Tensor:
        """f_meta at hidden weights ``w``: eq. 1 of paper 002, or the piecewise-linear ``meta_knots``."""
        if self.meta_knots:
            xs, fs = (torch.tensor([c], dtype=w.dtype, device=w.device) for c in zip(*self.meta_knots))
            return _interp_knots(w.abs().reshape(1, -1), xs, fs).view_as(w)
        a = (self.width_ratio - 1.0) / self.width_ratio
        return (1.0 - w.abs()) * a + 1.0 / self.width_ratio


def _interp_knots(x: torch.Tensor, xs: torch.Tensor, fs: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation at x [R, n] of knots xs [R, K] (ascending rows), fs [R, K]; constant beyond
    the ends."""
    xc = torch.minimum(torch.maximum(x, xs[:, :1]), xs[:, -1:])
    k = torch.searchsorted(xs.contiguous(), xc.contiguous()).clamp(1, xs.shape[1] - 1)
    x0, x1, f0, f1 = xs.gather(1, k - 1), xs.gather(1, k), fs.gather(1, k - 1), fs.gather(1, k)
    return f0 + (xc - x0) / (x1 - x0) * (f1 - f0)


RULES: dict[str, MetaplasticRule] = {
    "linear": MetaplasticRule(1.0, 1.0),  # straight track, symmetric updates (Fig. 5a blue)
    "linear-asym": MetaplasticRule(1.0, 3.0),  # straight track, delta = 3 (Fig. 5a orange)
    "trapezoid": MetaplasticRule(4.0, 3.0),  # 1:4 trapezoid, delta = 3 (Fig. 5a green)
    "linear-32-float": MetaplasticRule(1.0, 1.0, levels=32, binarized=False),  # Fig. 5b's non-binarized synapse
}


@dataclass(frozen=True)
class BNNConfig:
    """Attributes:
    layers: widths, input first (paper 002 Methods: 784-512-512-10).
    lr: Adam learning rate (paper 002 Methods: 0.005).
    betas, eps: Adam's (Laborieux's defaults).
    weight_decay: L2 term added to the gradient (Laborieux's stream runs: 1e-7; paper 002 states none: 0).
    batch_size: minibatch (Laborieux: 100).
    init_width: initial W_h uniform in +- init_width / 2 before rounding (Laborieux's stream default 0.1).
    bn_momentum, bn_eps: running-statistics momentum and epsilon of the affine-free batch norms.
    """

    layers: tuple[int, ...] = (784, 512, 512, 10)
    lr: float = 0.005
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    batch_size: int = 100
    init_width: float = 0.1
    bn_momentum: float = 0.1
    bn_eps: float = 1e-5

    def __post_init__(self) -> None:
        if len(self.layers) < 2:
            raise ConfigError("layers needs at least an input and an output width")
        for n in self.layers:
            check_int("layers (widths)", n, 1, 1 << 16)
        check_range("lr (Adam learning rate)", self.lr, 1e-7, 10.0)
        for b in self.betas:
            check_range("betas (Adam)", b, 0.0, 0.999999)
        check_positive("eps (Adam)", self.eps)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_int("batch_size", self.batch_size, 1, 1 << 20)
        check_range("init_width (initial W_h spread)", self.init_width, 0.0, 2.0)
        check_range("bn_momentum", self.bn_momentum, 0.0, 1.0)
        check_positive("bn_eps", self.bn_eps)


class _SignSTE(torch.autograd.Function):
    """sign forward; straight-through gradient zeroed where |x| > 1 (Laborieux's SignActivation)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def _rule_arrays(rules: Sequence[MetaplasticRule]) -> dict[str, torch.Tensor]:
    ratio = torch.tensor([r.width_ratio for r in rules], dtype=torch.float32)
    K = max([len(r.meta_knots) for r in rules] + [1])
    kx, kf = torch.ones((len(rules), K)), torch.ones((len(rules), K))
    for i, r in enumerate(rules):
        if r.meta_knots:
            n = len(r.meta_knots)
            kx[i, :n], kf[i, :n] = (torch.tensor(c) for c in zip(*r.meta_knots))
            kx[i, n:] = 1.0 + torch.arange(1, K - n + 1)  # padding beyond |W_h| = 1 keeps the rows ascending
            kf[i, n:] = kf[i, n - 1]
    return {"slope": (ratio - 1) / ratio, "floor": 1 / ratio,
            "knot_x": kx.contiguous(), "knot_f": kf.contiguous(),
            "n_knots": torch.tensor([len(r.meta_knots) for r in rules], dtype=torch.int64),
            "delta": torch.tensor([r.delta for r in rules], dtype=torch.float32),
            "levels": torch.tensor([r.levels for r in rules], dtype=torch.float32),
            "stochastic": torch.tensor([r.rounding == "stochastic" for r in rules], dtype=torch.uint8),
            "binarized": torch.tensor([r.binarized for r in rules], dtype=torch.uint8),
            "meta_all": torch.tensor([r.meta_on == "all" for r in rules], dtype=torch.uint8)}


def quantise(w: torch.Tensor, levels: torch.Tensor, stochastic: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Round ``w`` [R, ...] in [-1, 1] to ``levels[r]`` even levels (0 = leave), stochastically where
    ``stochastic[r]`` (probability proportional to proximity, with uniforms ``u``), else to the nearest."""
    shape = (-1,) + (1,) * (w.dim() - 1)
    nl = levels.to(w).view(shape)
    half = 0.5 * (nl - 1).clamp(min=1)
    x = (w + 1) * half
    lo = x.floor()
    p = x - lo
    up = torch.where(stochastic.view(shape).bool(), u < p, p >= 0.5)
    q = torch.minimum(lo + up.to(w), nl - 1) / half - 1
    return torch.where(nl > 1, q, w)


class MetaplasticBNN:
    """R replicas of the binarized network, each with its own `MetaplasticRule` (see the module docstring).

    Args:
        config: `BNNConfig`.
        rules: one rule per replica.
        generator: source of initial weights, minibatch orders and rounding draws.
        device: torch device; the fused numba update runs on CPU, torch ops elsewhere.
        compiled: use the fused kernel on CPU (False: the eager torch twin, same rule).
    """

    def __init__(self, config: BNNConfig, rules: Sequence[MetaplasticRule], *, generator: torch.Generator,
                 device: str | torch.device = "cpu", compiled: bool = True) -> None:
        if not rules:
            raise ConfigError("rules: at least one replica")
        self.config, self.rules = config, tuple(rules)
        self.device = torch.device(device)
        self.generator = generator
        self.replicas = len(self.rules)
        self.compiled = compiled and self.device.type == "cpu"
        self._rule = {k: t.to(self.device) for k, t in _rule_arrays(self.rules).items()}
        R, L = self.replicas, config.layers
        self.hidden: list[torch.Tensor] = []
        self.forward_w: list[torch.Tensor] = []
        self.m: list[torch.Tensor] = []
        self.v: list[torch.Tensor] = []
        for n_in, n_out in zip(L[:-1], L[1:]):
            w0 = (torch.rand((R, n_out, n_in), generator=generator, device=self.device) - 0.5) * config.init_width
            u = torch.rand(w0.shape, generator=generator, device=self.device)
            w = quantise(w0, self._rule["levels"], self._rule["stochastic"], u).contiguous()
            self.hidden.append(w)
            self.forward_w.append(self._forward_weight(w))
            self.m.append(torch.zeros_like(w))
            self.v.append(torch.zeros_like(w))
        self.running_mean = [torch.zeros((R, n), device=self.device) for n in L[1:]]
        self.running_var = [torch.ones((R, n), device=self.device) for n in L[1:]]
        self.t = 0

    def _forward_weight(self, w: torch.Tensor) -> torch.Tensor:
        b = self._rule["binarized"].view(-1, 1, 1).bool()
        return torch.where(b, torch.where(w >= 0, 1.0, -1.0), w).contiguous()

    # ------------------------------------------------------------------------------------------ forward
    def _bn(self, h: torch.Tensor, k: int, train: bool) -> torch.Tensor:
        if train:
            mean = h.mean(dim=1)
            var = h.var(dim=1, unbiased=False)
            with torch.no_grad():
                mom, n = self.config.bn_momentum, h.shape[1]
                self.running_mean[k].mul_(1 - mom).add_(mom * mean.detach())
                self.running_var[k].mul_(1 - mom).add_(mom * var.detach() * n / max(n - 1, 1))
        else:
            mean, var = self.running_mean[k], self.running_var[k]
        return (h - mean.unsqueeze(1)) * torch.rsqrt(var.unsqueeze(1) + self.config.bn_eps)

    def logits(self, x: torch.Tensor, weights: Sequence[torch.Tensor] | None = None,
               train: bool = False) -> torch.Tensor:
        """Outputs [R, B, classes] for inputs [R, B, in] (or [B, in], shared by every replica)."""
        ws = self.forward_w if weights is None else weights
        h = x.to(ws[0].dtype)
        if h.dim() == 2:
            h = h.unsqueeze(0).expand(self.replicas, -1, -1)
        for k, w in enumerate(ws):
            h = self._bn(torch.bmm(h, w.transpose(1, 2)), k, train)
            if k < len(ws) - 1:
                h = _SignSTE.apply(h)
        return h

    # ------------------------------------------------------------------------------------------ training
    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One minibatch per replica: x [R, B, in], y [R, B]; returns each replica's mean loss [R]."""
        ws = [w.detach().requires_grad_(True) for w in self.forward_w]
        out = self.logits(x, ws, train=True)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1).to(self.device), reduction="none")
        loss = loss.view(self.replicas, -1).mean(dim=1)
        grads = torch.autograd.grad(loss.sum(), ws)
        self._update([g.detach() for g in grads])
        return loss.detach()

    def _update(self, grads: Sequence[torch.Tensor]) -> None:
        c = self.config
        self.t += 1
        b1, b2 = c.betas
        lr_t = c.lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for k, g in enumerate(grads):
            if self.compiled:
                self._update_compiled(k, g.contiguous(), lr_t)
            else:
                self._update_torch(k, g, lr_t)

    def _update_compiled(self, k: int, g: torch.Tensor, lr_t: float) -> None:
        from ._metaplastic_kernels import adam_meta_step

        c, ru = self.config, self._rule
        w = self.hidden[k]
        flat = lambda t: t.view(-1, t.shape[-1]).numpy()  # noqa: E731
        key = draw_key(self.generator)
        adam_meta_step(flat(w), flat(self.m[k]), flat(self.v[k]), flat(g), flat(self.forward_w[k]), w.shape[1],
                       ru["slope"].numpy(), ru["floor"].numpy(), ru["delta"].numpy(), ru["levels"].numpy(),
                       ru["stochastic"].numpy(), ru["binarized"].numpy(), ru["meta_all"].numpy(),
                       ru["knot_x"].numpy(), ru["knot_f"].numpy(), ru["n_knots"].numpy(),
                       float(lr_t), float(c.betas[0]), float(c.betas[1]), float(c.eps), float(c.weight_decay),
                       key)

    def _update_torch(self, k: int, g: torch.Tensor, lr_t: float) -> None:
        c, ru = self.config, self._rule
        w, m, v = self.hidden[k], self.m[k], self.v[k]
        b1, b2 = c.betas
        g = g + c.weight_decay * w
        m.mul_(b1).add_((1 - b1) * g)
        v.mul_(b2).add_((1 - b2) * g * g)
        step = lr_t * m / (v.sqrt() + c.eps)
        view = lambda t: t.view(-1, 1, 1)  # noqa: E731
        fm = view(ru["slope"]) * (1 - w.abs()) + view(ru["floor"])
        if bool((ru["n_knots"] > 0).any()):
            R = w.shape[0]
            fk = _interp_knots(w.abs().view(R, -1), ru["knot_x"], ru["knot_f"]).view_as(w)
            fm = torch.where(view(ru["n_knots"] > 0), fk, fm)
        sgn = torch.where(w >= 0, 1.0, -1.0)
        dec = sgn * step > 0
        grow = view(ru["delta"]) * torch.where(view(ru["meta_all"]).bool(), fm, torch.ones_like(fm))
        wn = (w - step * torch.where(dec, fm, grow)).clamp(-1, 1)
        u = torch.rand(w.shape, generator=self.generator, device=self.device)
        w.copy_(quantise(wn, ru["levels"], ru["stochastic"], u))
        self.forward_w[k].copy_(self._forward_weight(w))

    def train_epoch(self, x: torch.Tensor, y: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """One epoch over (x [N, in], y [N]) (rows ``index`` of them), each replica in its own shuffled order;
        the last partial minibatch is dropped when N is not a multiple of the batch size. Mean loss [R]."""
        n = x.shape[0] if index is None else index.numel()
        B = self.config.batch_size
        perm = torch.argsort(torch.rand((self.replicas, n), generator=self.generator, device=self.device), dim=1)
        if index is not None:
            perm = index.to(self.device)[perm]
        total = torch.zeros(self.replicas, device=self.device)
        steps = max(n // B, 1)
        for s in range(steps):
            idx = perm[:, s * B:(s + 1) * B]
            total += self.train_step(x[idx], y[idx])
        return total / steps

    # ------------------------------------------------------------------------------------------ test
    @torch.no_grad()
    def accuracy(self, x: torch.Tensor, y: torch.Tensor, chunk: int = 2000) -> torch.Tensor:
        """Test accuracy [R] in [0, 1] of every replica on (x [N, in], y [N]), batch norms on running stats."""
        correct = torch.zeros(self.replicas, device=self.device)
        for s in range(0, x.shape[0], chunk):
            out = self.logits(x[s:s + chunk].to(self.device))
            correct += (out.argmax(-1) == y[s:s + chunk].to(self.device)).sum(dim=1)
        return correct / x.shape[0]

    # ------------------------------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Everything that continues training bit-identically (with the generator's state, saved apart)."""
        return {"hidden": [w.clone() for w in self.hidden], "m": [t.clone() for t in self.m],
                "v": [t.clone() for t in self.v], "running_mean": [t.clone() for t in self.running_mean],
                "running_var": [t.clone() for t in self.running_var], "t": self.t}

    def load_state_dict(self, sd: dict) -> None:
        for name in ("hidden", "m", "v", "running_mean", "running_var"):
            for dst, src in zip(getattr(self, name), sd[name]):
                dst.copy_(src.to(dst.device))
        self.t = int(sd["t"])
        for k, w in enumerate(self.hidden):
            self.forward_w[k].copy_(self._forward_weight(w))


__all__ = ["BNNConfig", "META_ON", "ROUNDINGS", "RULES", "MetaplasticBNN", "MetaplasticRule", "quantise"]
