"""Deep belief network with p-bit neurons on compound-synapse crossbars (paper 000, Fig. 1; PIN-Sim).

Software part (float, torch, vectorised over minibatches), following the Tanaka toolbox recipe that
PIN-Sim used (algorithms reference, part B):

1. RBM pre-training of every layer but the top by contrastive divergence (CD-1) with binary stochastic
   hidden units: h0 = sigma(v0 W + b), hs ~ Bernoulli(h0), v1 = sigma(hs W^T + c), h1 = sigma(v1 W + b);
   dW = (v0^T h0 - v1^T h1) / N_batch, momentum 0.5 -> 0.9, weight cost 2e-4.
2. The top layer is initialised by least squares from the last hidden activations to one-hot labels
   (toolbox `SetLinearMapping`), then all layers are fine-tuned by backprop with softmax cross-entropy.

Hardware part (`HardwareDBN`): every layer's weights and biases (bias on always-on rows) are mapped to
target levels of the device (`arrays.mapping`, differential columns) and programmed into an
`arrays.tile.AnalogTile` of those devices by write-and-verify with the device's own pulses, so stochastic
switching, write noise and unconverged verifies reach the weights; the programmed conductances are read by
a `arrays.crossbar.Crossbar` with thermal / shot / amplifier noise, amplified by a gain from a documented
design rule (`arrays.crossbar.amplifier_gain`) and sampled by p-bits m = sgn(tanh(I/I0) - r) (`devices.pbit`).
Hidden p-bits drive the next layer's rows with V_read (m = +1) or 0 (m = -1): h = (m + 1)/2. The class is
the average of the 10 output p-bits over ``n_samples`` full stochastic passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..arrays.crossbar import Crossbar, CrossbarConfig, amplifier_gain
from ..arrays.mapping import LevelSet, MappingConfig, bias_rows, map_weights, weight_scale
from ..arrays.tile import AnalogTile, TileConfig
from ..config import ConfigError, check_choice, check_int, check_nonnegative, check_positive, check_range
from ..devices.base import Device
from ..devices.compound_programming import AmplitudeVerifiedCompound
from ..devices.compound_synapse import CompoundSynapse
from ..devices.pbit import PBit, PBitConfig
from ..devices.write_noise import with_write_noise


# ----------------------------------------------------------------------------------------------- software DBN
@dataclass(frozen=True)
class DBNConfig:
    """Training recipe (defaults: Tanaka toolbox / PIN-Sim, 784 x 200 x 10).

    Attributes:
        sizes: layer widths, input first (784, 200, 10).
        batch_size: minibatch size (100).
        pretrain_epochs: CD-1 epochs per pre-trained RBM (>= 0).
        pretrain_lr: CD learning rate per batch-averaged gradient (0.1).
        momentum_initial, momentum_final: RBM momentum for the first epoch / afterwards (0.5, 0.9).
        weight_cost: L2 weight decay per step in pre-training (2e-4).
        finetune_epochs: backprop epochs (>= 0).
        finetune_lr: initial SGD learning rate (cosine-decayed to 0 over the fine-tuning).
        finetune_momentum: SGD momentum in fine-tuning.
        finetune_weight_decay: L2 penalty in fine-tuning.
    """

    sizes: tuple[int, ...] = (784, 200, 10)
    batch_size: int = 100
    pretrain_epochs: int = 5
    pretrain_lr: float = 0.1
    momentum_initial: float = 0.5
    momentum_final: float = 0.9
    weight_cost: float = 2e-4
    finetune_epochs: int = 30
    finetune_lr: float = 0.1
    finetune_momentum: float = 0.9
    finetune_weight_decay: float = 1e-5

    def __post_init__(self) -> None:
        if len(self.sizes) < 2:
            raise ConfigError("sizes needs at least an input and an output layer")
        for s in self.sizes:
            check_int("sizes", s, 1, 100_000)
        check_int("batch_size", self.batch_size, 1, 1_000_000)
        check_int("pretrain_epochs", self.pretrain_epochs, 0, 10_000)
        check_int("finetune_epochs", self.finetune_epochs, 0, 10_000)
        check_positive("pretrain_lr", self.pretrain_lr)
        check_positive("finetune_lr", self.finetune_lr)
        for n in ("momentum_initial", "momentum_final", "finetune_momentum"):
            check_range(n, getattr(self, n), 0.0, 1.0, hi_open=True)
        check_nonnegative("weight_cost", self.weight_cost)
        check_nonnegative("finetune_weight_decay", self.finetune_weight_decay)


@dataclass
class DBN:
    """A trained network: ``weights[l]`` [n_l, n_{l+1}], ``biases[l]`` [n_{l+1}]; sigmoid hidden units,
    softmax (equivalently argmax of sigmoid) output."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    history: dict[str, list[float]] = field(default_factory=dict)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Mean-field (deterministic) pass: sigmoid hidden layers, output pre-activations."""
        h = x.reshape(x.shape[0], -1).to(self.weights[0].dtype)
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            h = torch.sigmoid(h @ w + b)
        return h @ self.weights[-1] + self.biases[-1]

    def predict(self, x: torch.Tensor, chunk: int = 5000) -> torch.Tensor:
        return torch.cat([self.logits(x[i:i + chunk]).argmax(1) for i in range(0, x.shape[0], chunk)])

    def error_rate(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of misclassified samples (mean-field inference)."""
        return float((self.predict(x) != y.to(x.device)).to(torch.float64).mean())

    def state_dict(self) -> dict[str, Any]:
        return {"weights": [w.detach().cpu() for w in self.weights], "biases": [b.detach().cpu() for b in self.biases],
                "history": self.history}

    @classmethod
    def from_state_dict(cls, d: dict[str, Any], device=None) -> DBN:
        return cls([w.to(device) for w in d["weights"]], [b.to(device) for b in d["biases"]], dict(d.get("history", {})))


def pretrain_rbm(v: torch.Tensor, n_hidden: int, cfg: DBNConfig, *, generator: torch.Generator | None = None,
                 progress: Callable | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[float]]:
    """CD-1 training of a Bernoulli RBM on visible data ``v`` [N, n_visible] in [0, 1].

    Returns (W [n_visible, n_hidden], hidden bias, visible bias, reconstruction error per epoch).
    """
    n, nv = v.shape
    dt, dev = v.dtype, v.device
    w = 0.01 * torch.randn(nv, n_hidden, generator=generator, dtype=dt, device=dev)
    b = torch.zeros(n_hidden, dtype=dt, device=dev)
    mean_v = v.mean(0).clamp(1e-3, 1 - 1e-3)
    c = torch.log(mean_v / (1 - mean_v))
    dw, db, dc = torch.zeros_like(w), torch.zeros_like(b), torch.zeros_like(c)
    recon: list[float] = []
    epochs = range(cfg.pretrain_epochs)
    for ep in (progress(epochs, desc="RBM CD-1") if progress else epochs):
        mom = cfg.momentum_initial if ep == 0 else cfg.momentum_final
        perm = torch.randperm(n, generator=generator, device=dev)
        err = 0.0
        for s in range(0, n, cfg.batch_size):
            v0 = v[perm[s:s + cfg.batch_size]]
            h0 = torch.sigmoid(v0 @ w + b)
            hs = (torch.rand(h0.shape, generator=generator, dtype=dt, device=dev) < h0).to(dt)
            v1 = torch.sigmoid(hs @ w.T + c)
            h1 = torch.sigmoid(v1 @ w + b)
            m = v0.shape[0]
            dw = mom * dw + cfg.pretrain_lr * ((v0.T @ h0 - v1.T @ h1) / m - cfg.weight_cost * w)
            db = mom * db + cfg.pretrain_lr * (h0 - h1).mean(0)
            dc = mom * dc + cfg.pretrain_lr * (v0 - v1).mean(0)
            w, b, c = w + dw, b + db, c + dc
            err += float(((v0 - v1) ** 2).sum())
        recon.append(err / n)
    return w, b, c, recon


def _softmax_ce_grads(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
    """Loss and gradients of a sigmoid MLP with softmax cross-entropy (manual backprop, no autograd graph)."""
    n_layers = len(params) // 2
    acts = [x]
    h = x
    for i in range(n_layers - 1):
        h = torch.sigmoid(h @ params[2 * i] + params[2 * i + 1])
        acts.append(h)
    z = h @ params[-2] + params[-1]
    logp = torch.log_softmax(z, dim=1)
    m = x.shape[0]
    loss = float(-logp.gather(1, y[:, None]).mean())
    delta = logp.exp()
    delta[torch.arange(m, device=x.device), y] -= 1.0
    delta /= m
    grads: list[torch.Tensor] = [torch.empty(0)] * len(params)
    for i in range(n_layers - 1, -1, -1):
        grads[2 * i] = acts[i].T @ delta
        grads[2 * i + 1] = delta.sum(0)
        if i > 0:
            a = acts[i]
            delta = (delta @ params[2 * i].T) * a * (1 - a)
    return loss, grads


def finetune(dbn: DBN, x: torch.Tensor, y: torch.Tensor, cfg: DBNConfig, *, generator: torch.Generator | None = None,
             progress: Callable | None = None, x_val: torch.Tensor | None = None,
             y_val: torch.Tensor | None = None) -> dict[str, list[float]]:
    """Backprop fine-tuning (SGD + momentum, cosine learning-rate decay, softmax cross-entropy)."""
    params = [p for wb in zip(dbn.weights, dbn.biases) for p in wb]
    vel = [torch.zeros_like(p) for p in params]
    n = x.shape[0]
    hist: dict[str, list[float]] = {"finetune_loss": [], "finetune_val_error": []}
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total = max(1, cfg.finetune_epochs * steps_per_epoch)
    step = 0
    epochs = range(cfg.finetune_epochs)
    for _ in (progress(epochs, desc="fine-tune") if progress else epochs):
        perm = torch.randperm(n, generator=generator, device=x.device)
        tot = 0.0
        for s in range(0, n, cfg.batch_size):
            idx = perm[s:s + cfg.batch_size]
            loss, grads = _softmax_ce_grads(params, x[idx], y[idx])
            lr = cfg.finetune_lr * 0.5 * (1 + math.cos(math.pi * step / total))
            for p, g, v in zip(params, grads, vel):
                g = g + cfg.finetune_weight_decay * p
                v.mul_(cfg.finetune_momentum).add_(g, alpha=-lr)
                p.add_(v)
            tot += loss * idx.numel()
            step += 1
        hist["finetune_loss"].append(tot / n)
        if x_val is not None and y_val is not None:
            dbn.weights, dbn.biases = params[0::2], params[1::2]
            hist["finetune_val_error"].append(dbn.error_rate(x_val, y_val))
    dbn.weights, dbn.biases = params[0::2], params[1::2]
    return hist


def train_dbn(x: torch.Tensor, y: torch.Tensor, cfg: DBNConfig | None = None, *,
              generator: torch.Generator | None = None, progress: Callable | None = None,
              x_val: torch.Tensor | None = None, y_val: torch.Tensor | None = None) -> DBN:
    """Pre-train (CD-1) every layer but the top, least-squares the top layer, fine-tune with backprop.

    ``x`` [N, ...] in [0, 1] (flattened here), ``y`` [N] int labels. float32 throughout.
    """
    cfg = cfg or DBNConfig()
    x = x.reshape(x.shape[0], -1).to(torch.float32)
    y = y.to(torch.int64).to(x.device)
    if x.shape[1] != cfg.sizes[0]:
        raise ConfigError(f"input has {x.shape[1]} features, sizes[0] = {cfg.sizes[0]}")
    xv = x_val.reshape(x_val.shape[0], -1).to(torch.float32) if x_val is not None else None
    weights, biases, hist = [], [], {}
    h = x
    for i, n_h in enumerate(cfg.sizes[1:-1]):
        w, b, _, recon = pretrain_rbm(h, n_h, cfg, generator=generator, progress=progress)
        weights.append(w)
        biases.append(b)
        hist[f"rbm{i}_recon_error"] = recon
        h = torch.sigmoid(h @ w + b)
    # top layer: least squares from the last hidden activations to one-hot targets (toolbox SetLinearMapping)
    n_out = cfg.sizes[-1]
    onehot = torch.nn.functional.one_hot(y, n_out).to(x.dtype)
    a = torch.cat([h, torch.ones(h.shape[0], 1, dtype=h.dtype, device=h.device)], 1).to(torch.float64)
    sol = torch.linalg.lstsq(a, onehot.to(torch.float64)).solution.to(x.dtype)
    # x4: least squares fits 0/1 targets; softmax needs logit gaps of a few units to start sensibly
    weights.append(4.0 * sol[:-1])
    biases.append(4.0 * sol[-1])
    dbn = DBN(weights, biases)
    hist["error_after_pretraining"] = [dbn.error_rate(x_val, y_val)] if xv is not None else []
    hist.update(finetune(dbn, x, y, cfg, generator=generator, progress=progress, x_val=xv, y_val=y_val))
    dbn.history = hist
    return dbn


def pbit_error_rate(dbn: DBN, x: torch.Tensor, y: torch.Tensor, n_samples: int, *,
                    generator: torch.Generator | None = None, chunk: int = 1000) -> float:
    """Float weights, p-bit (binary stochastic) hidden and output units averaged over ``n_samples``:
    the software reference of the hardware network without any device or circuit effect."""
    pb = PBit(PBitConfig(i0_a=1.0))
    wrong = 0
    x = x.reshape(x.shape[0], -1).to(dbn.weights[0].dtype)
    for s in range(0, x.shape[0], chunk):
        h = x[s:s + chunk].expand(n_samples, -1, -1)
        for w, b in zip(dbn.weights[:-1], dbn.biases[:-1]):
            h = (pb.sample((h @ w + b) / 2, generator=generator) + 1) / 2
        z = h @ dbn.weights[-1] + dbn.biases[-1]
        m = pb.sample(z / 2, generator=generator).mean(0)
        score = m + 1e-4 * torch.tanh(z.mean(0) / 8)
        wrong += int((score.argmax(1) != y[s:s + chunk].to(x.device)).sum())
    return wrong / x.shape[0]


# ----------------------------------------------------------------------------------------------- hardware DBN
@dataclass(frozen=True)
class HardwareConfig:
    """Circuit of the hardware DBN.

    Attributes:
        n_samples: stochastic passes averaged per classification (p-bit samples per output).
        mapping: weight -> conductance mapping (differential columns; clip quantile).
        crossbar: read voltage, read time, noise.
        pbit: p-bit neuron (I0).
        mtj_sigma: relative device-to-device sigma of every MTJ's conductance (RA / area spread), drawn
            once when the weights are programmed (>= 0; assumed 3 %). The compound synapse's own ``*_dtod``
            knobs spread its magnets' switching (barrier, I_c0), not the read-out conductance, so this is
            the per-level sigma of `LevelSet.from_device` (``level_std``) added to the programmed level.
        write_noise_std: Gaussian cycle-to-cycle write noise per programming pulse, relative sigma in
            units of the synapse's nominal step `Device.mean_step` (`devices.write_noise.with_write_noise`,
            aihwkit's ``dw_min_std``; at Q = 16 one nominal step is ~2.1 level spacings); >= 0. Default 0:
            the paper adds no write noise to the magnets' own stochastic switching, which is always on.
        program_iterations: write-and-verify cycles per device (`arrays.tile.AnalogTile.program_conductances`;
            >= 1; 1 = a single open-loop pulse, no correction). Default 30: >= 99.9 % of the devices then
            reach their level at 1-8 bits.
        gain_rule: amplifier design rule, "full-scale" or "window" (`arrays.crossbar.amplifier_gain`).
        input_mode: "analog": first-layer rows get x V_read (pixel level, a DAC); "binary": pixel > 0.5.
    """

    n_samples: int = 32
    mapping: MappingConfig = MappingConfig()
    crossbar: CrossbarConfig = CrossbarConfig()
    pbit: PBitConfig = PBitConfig()
    mtj_sigma: float = 0.03
    write_noise_std: float = 0.0
    program_iterations: int = 30
    gain_rule: str = "full-scale"
    input_mode: str = "analog"

    def __post_init__(self) -> None:
        check_int("n_samples", self.n_samples, 1, 100_000)
        check_nonnegative("mtj_sigma", self.mtj_sigma, unit="(relative sigma)")
        check_nonnegative("write_noise_std", self.write_noise_std, unit="(relative to the nominal step)")
        check_int("program_iterations (write-and-verify cycles)", self.program_iterations, 1, 10_000)
        check_choice("gain_rule", self.gain_rule, ("window", "full-scale"))
        check_choice("input_mode", self.input_mode, ("analog", "binary"))


@dataclass
class HardwareLayer:
    """One programmed layer: the tile (G+ / G- device pairs, [out, rows]), the crossbar read of its
    conductances with the MTJ spread ([rows, out]), the target conductances [S] the mapping chose and the
    converged flag of every device (both [2, out, rows], G+ then G-, as the tile), the programming energy [J]."""

    tile: AnalogTile
    crossbar: Crossbar
    gain: float
    n_bias_rows: int
    w_max: float
    effective_weights: torch.Tensor
    target_g: torch.Tensor
    program_energy_j: float
    converged: torch.Tensor


def programming_device(device: Device, write_noise_std: float = 0.0) -> Device:
    """The device a `HardwareDBN` tile programs: ``device`` (with `with_write_noise` when
    ``write_noise_std`` > 0); a `CompoundSynapse` is programmed by amplitude write-and-verify."""
    inner = with_write_noise(device, write_noise_std) if write_noise_std > 0 else device
    return AmplitudeVerifiedCompound(inner, device) if isinstance(device, CompoundSynapse) else inner


class HardwareDBN:
    """A trained `DBN` programmed, pulse by pulse, onto tiles of synapse devices, with p-bit neurons.

    Every layer (weights and bias rows, [rows, out]) is an `arrays.tile.AnalogTile` of shape (out, rows)
    whose device is ``device``. The mapping (`arrays.mapping.map_weights`: linear, or nonlinear through
    ``index_map``) chooses the target level of each G+ and G-; `AnalogTile.program_conductances` writes it
    with the device's own pulses (write-and-verify, `programming_device`), so the devices' stochastic
    switching, ``config.write_noise_std`` and the verifies that do not converge within
    ``config.program_iterations`` reach the weights. The read adds the MTJs' device-to-device spread
    (``config.mtj_sigma``) and goes through `arrays.crossbar.Crossbar` (rows driven at x V_read, bias rows
    always on, differential columns, amplifier gain, p-bits).

    Args:
        dbn: the float network.
        device: the synapse (e.g. `CompoundSynapse(CompoundSynapseConfig(n_magnets=16, mtj=...))`); it must
            have discrete `levels`. Its ``*_dtod`` spreads are drawn per tile.
        config: circuit and programming parameters.
        index_map: optional nonlinear-mapping index map (`devices.compound_synapse.identical_pulse_level_map`).
        generator: draws the device spreads, the programming pulses' outcomes and the MTJ spread.
    """

    def __init__(self, dbn: DBN, device: Device, config: HardwareConfig | None = None, *,
                 index_map: torch.Tensor | None = None, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        self.config = cfg = config or HardwareConfig()
        self.pbit = PBit(cfg.pbit)
        self.dtype = dtype
        levels = LevelSet.from_device(device, mtj_sigma=cfg.mtj_sigma)
        nominal = LevelSet(levels.g)
        tol = 0.5 * float((levels.g[1:] - levels.g[:-1]).min())
        prog = programming_device(device, cfg.write_noise_std)
        tcfg = TileConfig(device=device.name, reference="min", crossbar=cfg.crossbar,
                          program_iterations=cfg.program_iterations)
        self.layers: list[HardwareLayer] = []
        for w, b in zip(dbn.weights, dbn.biases):
            w_max = weight_scale(w, cfg.mapping.clip_quantile)
            w_aug, n_b = bias_rows(w.detach().to(torch.float64), b.detach().to(torch.float64), w_max)
            mapped = map_weights(w_aug, nominal, cfg.mapping, w_max=w_max, index_map=index_map, variation=False)
            tile = AnalogTile((w_aug.shape[1], w_aug.shape[0]), tcfg, device=prog, generator=generator)
            energy, ok = tile.program_conductances(mapped.g_pos.T, mapped.g_neg.T, tolerance_s=tol,
                                                   generator=generator)
            g_pos, g_neg = (_mtj_spread(g.T.contiguous(), levels, generator) for g in tile.conductances())
            gain = amplifier_gain(cfg.pbit.i0_a, cfg.crossbar.v_read_v, mapped.g_per_weight,
                                  mapped.g_full_scale_per_weight, cfg.gain_rule)
            self.layers.append(HardwareLayer(tile, Crossbar(g_pos, g_neg, cfg.crossbar), gain, n_b, w_max,
                                             (g_pos - g_neg) / mapped.g_per_weight,
                                             torch.stack([mapped.g_pos.T, mapped.g_neg.T]), energy, ok))

    @property
    def program_energy_j(self) -> float:
        """Energy [J] of all programming pulses of the network."""
        return sum(layer.program_energy_j for layer in self.layers)

    @property
    def converged_fraction(self) -> float:
        """Fraction of the network's devices whose write-and-verify reached the target level."""
        ok = sum(int(layer.converged.sum()) for layer in self.layers)
        return ok / sum(layer.converged.numel() for layer in self.layers)

    def _augment(self, h: torch.Tensor, n_b: int) -> torch.Tensor:
        return torch.cat([h, torch.ones((*h.shape[:-1], n_b), dtype=h.dtype, device=h.device)], dim=-1)

    def _drive(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1).to(self.dtype)
        return (x > 0.5).to(self.dtype) if self.config.input_mode == "binary" else x.clamp(0.0, 1.0)

    def forward(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
                n_samples: int | None = None) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Stochastic passes for a batch ``x`` [B, ...].

        Returns (mean output p-bit m over samples [B, n_out], mean output p-bit input current [B, n_out] [A],
        the row drives of every layer [S, B, rows] (for energy) -- the first layer's without a sample axis).
        """
        s = n_samples or self.config.n_samples
        drives = []
        h = self._augment(self._drive(x), self.layers[0].n_bias_rows)
        drives.append(h)
        cur = None
        for li, layer in enumerate(self.layers):
            if li == 0:
                i_diff = layer.crossbar.read(h, generator=generator, n_samples=s)
            else:
                i_diff = layer.crossbar.read(h, generator=generator)
            cur = layer.gain * i_diff
            m = self.pbit.sample(cur, generator=generator)
            if li < len(self.layers) - 1:
                h = self._augment((m + 1) / 2, self.layers[li + 1].n_bias_rows)
                drives.append(h)
        return m.mean(0), cur.mean(0), drives

    def predict(self, x: torch.Tensor, *, generator: torch.Generator | None = None, chunk: int = 500) -> torch.Tensor:
        """Class = argmax of the averaged output p-bits (ties broken by the mean p-bit input current)."""
        out = []
        i0 = self.config.pbit.i0_a
        for st in range(0, x.shape[0], chunk):
            m, cur, _ = self.forward(x[st:st + chunk], generator=generator)
            out.append((m + 1e-4 * torch.tanh(cur / (8 * i0))).argmax(1))
        return torch.cat(out)

    def error_rate(self, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator | None = None,
                   chunk: int = 500) -> float:
        return float((self.predict(x, generator=generator, chunk=chunk) != y.to(x.device)).to(torch.float64).mean())

    def read_energy(self, x: torch.Tensor, *, generator: torch.Generator | None = None, chunk: int = 500) -> dict[str, float]:
        """Mean crossbar read energy [J] of one stochastic pass per input, by layer, plus p-bit energy.

        Hidden-layer drives come from the sampled p-bits (their real activity)."""
        tot = [0.0] * len(self.layers)
        n = 0
        for st in range(0, x.shape[0], chunk):
            xb = x[st:st + chunk]
            _, _, drives = self.forward(xb, generator=generator, n_samples=1)
            for li, (layer, d) in enumerate(zip(self.layers, drives)):
                e = layer.crossbar.read_energy(d.to(torch.float64))
                tot[li] += float(e.sum()) / (e.numel() / xb.shape[0])
            n += xb.shape[0]
        out = {f"layer{li + 1}_read_J": t / n for li, t in enumerate(tot)}
        n_neurons = sum(layer.crossbar.shape[1] for layer in self.layers)
        out["pbit_J"] = n_neurons * self.config.pbit.energy_per_sample_j
        out["crossbar_total_J"] = sum(out[f"layer{li + 1}_read_J"] for li in range(len(self.layers)))
        return out


def _mtj_spread(g: torch.Tensor, levels: LevelSet, generator: torch.Generator | None) -> torch.Tensor:
    """Conductances ``g`` [S] plus the read-out MTJs' device-to-device spread: the sigma of the nearest
    level (``levels.g_std``), drawn once; ``g`` itself without a sigma."""
    if levels.g_std is None:
        return g
    std = levels.g_std.to(g.device)[levels.nearest(g)]
    return (g + std * torch.randn(g.shape, generator=generator, dtype=g.dtype, device=g.device)).clamp_min(0.0)
