"""A multilayer perceptron trained by backpropagation through analog tiles (paper 003's network, CrossSim's
"backprop" application), batch size 1, with the hot loop written out by hand.

Network (paper 003): every layer is an `arrays.tile.AnalogTile` of shape [out, in + 1] whose last column is
the bias (an always-on input of 1), so 784-300-10 gives the paper's 785 x 300 and 301 x 10 matrices. Hidden
activations are sigmoids, the output a softmax (both computed digitally in floating point); the loss is the
cross-entropy, so the output error is p - onehot(y). Backward: exact transposed effective weights ("ideal")
or a read of the error through the transposed tile (``backward="transposed-read"``). Every sample's update
Delta-W = -lr d x^T is programmed into the devices by `AnalogTile.update_outer` (never formed on the
compiled path); with ``batch_size > 1`` the summed outer products of the batch are programmed once (a
deviation from the paper's per-sample updates).

The loop avoids autograd and module overhead (a few tensor ops per layer and sample): this is the path for
long training studies; `nn.AnalogLinear` + `nn.DeviceSGD` program the same tiles from any torch model.
Learning-rate schedule: lr = lr0 / divisor, with the divisor from ``lr_schedule`` ((epoch, divisor) pairs:
from that epoch on; paper 003: alpha, then alpha/2, /3, /4, /5 after epochs 3, 5, 8 and 10).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..arrays.tile import AnalogTile, TileConfig
from ..config import ConfigError, check_choice, check_int, check_positive
from ..devices.base import Device
from ..rng import draw_key

PAPER003_SCHEDULE = ((3, 2.0), (5, 3.0), (8, 4.0), (10, 5.0))
"""Paper 003: "the learning rate begins as alpha and is reduced to alpha/2, alpha/3, alpha/4, and alpha/5
after the third, fifth, eighth, and tenth training epochs, respectively" (epochs counted from 0 here: the
divisor applies from epoch index 3, 5, 8, 10)."""


@dataclass(frozen=True)
class MLPConfig:
    """Attributes:
    sizes: layer widths, inputs first (paper 003: 784, 300, 10).
    lr: initial learning rate alpha (> 0).
    lr_schedule: (epoch index, divisor) pairs, increasing epochs: lr = lr / divisor from that epoch on.
    batch_size: samples per programmed update (1 = the paper's SGD).
    init_scale: initial weights ~ U(-s, s) with s = init_scale / sqrt(fan_in + 1) (1.0 = nn.Linear's default).
    backward: "ideal" (exact transposed weights) or "transposed-read" (error read through the tile).
    """

    sizes: tuple[int, ...] = (784, 300, 10)
    lr: float = 0.1
    lr_schedule: tuple[tuple[int, float], ...] = PAPER003_SCHEDULE
    batch_size: int = 1
    init_scale: float = 1.0
    backward: str = "ideal"

    def __post_init__(self) -> None:
        sizes = tuple(int(s) for s in self.sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ConfigError(f"sizes must list >= 2 positive layer widths, got {self.sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        check_positive("lr (initial learning rate)", self.lr)
        sched = tuple((int(e), float(d)) for e, d in self.lr_schedule)
        if any(d <= 0 for _, d in sched) or any(b[0] <= a[0] for a, b in zip(sched, sched[1:], strict=False)):
            raise ConfigError(f"lr_schedule must be (epoch, divisor > 0) pairs with increasing epochs, got {self.lr_schedule!r}")
        object.__setattr__(self, "lr_schedule", sched)
        check_int("batch_size", self.batch_size, 1, 1 << 20)
        check_positive("init_scale", self.init_scale)
        check_choice("backward", self.backward, ("ideal", "transposed-read"))

    def lr_at(self, epoch: int) -> float:
        """Learning rate of epoch index ``epoch`` (0-based)."""
        div = 1.0
        for e, d in self.lr_schedule:
            if epoch >= e:
                div = d
        return self.lr / div


class DeviceMLP:
    """Sigmoid MLP with softmax output on analog tiles (see the module docstring).

    Args:
        config: `MLPConfig`.
        tile_config: `TileConfig` of every layer (device, mapping, read, update rule, carry).
        device: a ready device instance for every layer (e.g. a `LookupTableDevice` of a table object).
        weights: initial weights per layer [out, in + 1] (default: uniform, ``init_scale``).
        generator: RNG of initialisation, device variation, reads and updates.
        compiled: let `train_epoch` run whole stretches of samples in one compiled call
            (`networks.mlp_compiled`) when the network allows it: two layers, batch size 1, ideal backward,
            noiseless reads without ADC, lookup-table tiles on the CPU. Same rule and random stream as
            `train_step` (see that module); False always steps sample by sample.
    """

    def __init__(self, config: MLPConfig | None = None, tile_config: TileConfig | None = None, *,
                 device: Device | None = None, weights: Sequence[torch.Tensor] | None = None,
                 generator: torch.Generator | None = None, compiled: bool = True) -> None:
        self.config = config or MLPConfig()
        self.compiled = bool(compiled)
        self.tile_config = tile_config or TileConfig()
        self.generator = generator
        sizes = self.config.sizes
        if weights is not None and len(weights) != len(sizes) - 1:
            raise ConfigError(f"weights: {len(sizes) - 1} layers expected, got {len(weights)}")
        self.tiles: list[AnalogTile] = []
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            if weights is None:
                s = self.config.init_scale / math.sqrt(n_in + 1)
                w = (2 * torch.rand((n_out, n_in + 1), generator=generator, dtype=torch.float64) - 1) * s
            else:
                w = torch.as_tensor(weights[k], dtype=torch.float64)
            self.tiles.append(AnalogTile((n_out, n_in + 1), self.tile_config, weights=w, device=device,
                                         generator=generator))
        self.samples_seen = 0
        self.program_energy_j = 0.0
        self.read_energy_j = 0.0

    # ------------------------------------------------------------------ forward
    @staticmethod
    def _with_bias(a: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, torch.ones((*a.shape[:-1], 1), dtype=a.dtype, device=a.device)], dim=-1)

    def _layer(self, k: int, a: torch.Tensor) -> torch.Tensor:
        y, e = self.tiles[k].mvm(a, generator=self.generator)
        self.read_energy_j += float(e.sum()) if torch.is_tensor(e) else float(e)
        return y

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations of every layer for inputs x [B, sizes[0]]: [x+1, h1+1, ..., logits]."""
        acts = [self._with_bias(x.to(torch.float32))]
        for k in range(len(self.tiles)):
            z = self._layer(k, acts[-1])
            acts.append(z if k == len(self.tiles) - 1 else self._with_bias(torch.sigmoid(z)))
        return acts

    @torch.no_grad()
    def predict(self, x: torch.Tensor, chunk: int = 2000) -> torch.Tensor:
        """Class indices for x [N, sizes[0]] (batched reads)."""
        return torch.cat([self.forward(x[i:i + chunk])[-1].argmax(-1) for i in range(0, x.shape[0], chunk)])

    def accuracy(self, x: torch.Tensor, y: torch.Tensor, chunk: int = 2000) -> float:
        return float((self.predict(x, chunk) == y.to(torch.int64)).to(torch.float64).mean())

    # ------------------------------------------------------------------ training
    def _backward_errors(self, acts: list[torch.Tensor], y: torch.Tensor) -> list[torch.Tensor]:
        """dL/dz of every layer (cross-entropy of the softmax output), last layer last."""
        p = torch.softmax(acts[-1], dim=-1)
        d = p.sub_(torch.nn.functional.one_hot(y, p.shape[-1]).to(p.dtype))
        errs = [d]
        for k in range(len(self.tiles) - 1, 0, -1):
            t = self.tiles[k]
            if self.config.backward == "ideal":
                back = d @ t.weight_cache()[0][:, :-1]
            else:
                back = t.mvm(d, generator=self.generator, transpose=True)[0][..., :-1]
            h = acts[k][..., :-1]
            d = back * h * (1.0 - h)
            errs.append(d)
        return errs[::-1]

    @torch.no_grad()
    def train_step(self, x: torch.Tensor, y: torch.Tensor, lr: float) -> None:
        """One programmed update from the samples x [B, sizes[0]], labels y [B]."""
        acts = self.forward(x)
        errs = self._backward_errors(acts, y)
        for k, t in enumerate(self.tiles):
            self.program_energy_j += t.update_outer(acts[k], errs[k], -lr, generator=self.generator)
        self.samples_seen += x.shape[0]

    @torch.no_grad()
    def train_epoch(self, x: torch.Tensor, y: torch.Tensor, epoch: int, *, order: torch.Tensor | None = None,
                    callback: Callable[[int], None] | None = None, callback_every: int = 1000) -> float:
        """One pass over x [N, sizes[0]] in ``order`` (default: a permutation from the generator) with the
        epoch's learning rate; ``callback(samples_done)`` every ``callback_every`` samples. Returns the wall
        time [s]."""
        t0 = time.perf_counter()
        n = x.shape[0]
        order = torch.randperm(n, generator=self.generator) if order is None else order
        lr = self.config.lr_at(epoch)
        b = self.config.batch_size
        x = x.to(torch.float32)
        y = y.to(torch.int64)
        if self.compiled_path():
            self._train_compiled(x, y, order, lr, callback, callback_every)
            return time.perf_counter() - t0
        for s in range(0, n, b):
            idx = order[s:s + b]
            self.train_step(x[idx], y[idx], lr)
            if callback is not None and (s // b + 1) % max(1, callback_every // b) == 0:
                callback(min(s + b, n))
        return time.perf_counter() - t0

    def compiled_path(self) -> bool:
        """True when `train_epoch` runs compiled (see ``compiled`` in the class docstring)."""
        return (self.compiled and len(self.tiles) == 2 and self.config.batch_size == 1
                and self.config.backward == "ideal" and all(t.reads_from_cache for t in self.tiles)
                and all(t._fused_path() is not None for t in self.tiles))

    def _train_compiled(self, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor, lr: float,
                        callback: Callable[[int], None] | None, callback_every: int) -> None:
        """`train_epoch` through `mlp_compiled.train_segment`, in segments that end at callbacks and carries."""
        import numba

        from .mlp_compiled import train_segment

        # the compiled loop indexes without bounds checks: shapes and labels are checked here
        if x.dim() != 2 or x.shape[1] != self.config.sizes[0] or y.shape != (x.shape[0],):
            raise ConfigError(f"train_epoch: x must be [N, {self.config.sizes[0]}] and y [N], got {tuple(x.shape)} "
                              f"and {tuple(y.shape)}")
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.config.sizes[-1]):
            raise ConfigError(f"train_epoch: labels must lie in [0, {self.config.sizes[-1]}), got {int(y.min())}..{int(y.max())}")
        if order.numel() and (int(order.min()) < 0 or int(order.max()) >= x.shape[0]):
            raise ConfigError(f"train_epoch: order indexes rows outside [0, {x.shape[0]})")
        xn = x.contiguous().numpy()
        yn = y.contiguous().numpy()
        on = order.to(torch.int64).contiguous().numpy()
        n = on.size
        coef = np.array([t.config.crossbar.t_read_s * t.config.crossbar.v_read_v**2 for t in self.tiles])
        carry = self.tiles[0].n_pairs > 1
        every = self.tiles[0].config.carry_every
        s = 0
        while s < n:
            m = n - s
            if callback is not None:
                m = min(m, callback_every - s % callback_every)
            if carry:
                m = min(m, every - self.tiles[0].n_updates % every)
            # one key per layer and sample, in train_step's order (randint draws one value after another)
            keys = draw_key(self.generator, (m, 2))
            fused = [t._fused_path() for t in self.tiles]
            layers = [f.layer_args(t.state, *t.weight_cache()) for f, t in zip(fused, self.tiles, strict=True)]
            p0, p1, read = train_segment(xn, yn, on[s:s + m], float(lr), keys, numba.get_num_threads(),
                                         self.tiles[0]._mode(), coef, layers[0], layers[1], fused[0].tables,
                                         fused[1].tables)
            self.read_energy_j += float(read)
            for t, f, pulses in zip(self.tiles, fused, (p0, p1), strict=True):
                t._after_fused()
                e = float(pulses) * f.energy_per_pulse_j
                t.n_updates += m - 1
                e = t._after_update(e, self.generator)  # the last sample's update: carry when due, energy
                self.program_energy_j += e
            self.samples_seen += m
            s += m
            if callback is not None and s % callback_every == 0:
                callback(s)

    def fit(self, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor, epochs: int, *,
            callback: Callable[[int, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Train ``epochs`` epochs; returns per epoch {epoch, lr, test_accuracy, seconds, program_energy_j}."""
        check_int("epochs", epochs, 0, 10_000)
        history = []
        for ep in range(epochs):
            secs = self.train_epoch(x, y, ep)
            row = {"epoch": ep + 1, "lr": self.config.lr_at(ep), "test_accuracy": self.accuracy(x_test, y_test),
                   "seconds": secs, "program_energy_j": self.program_energy_j}
            history.append(row)
            if callback is not None:
                callback(ep, row)
        return history

    def state_dict(self) -> dict[str, Any]:
        """Everything training changes (device states of every tile, update and carry counters, energies,
        samples seen), as tensors and numbers for ``torch.save``; the configs are the constructor's."""
        return {"tiles": [{"state": {k: v.detach().clone() for k, v in t.state_tensors().items()},
                           "n_updates": t.n_updates, "n_carries": t.n_carries, "program_energy_j": t.program_energy_j}
                          for t in self.tiles],
                "samples_seen": self.samples_seen, "program_energy_j": self.program_energy_j,
                "read_energy_j": self.read_energy_j}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict` into this network's tiles (in place: the state tensors stay the same objects)."""
        tiles = state["tiles"]
        if len(tiles) != len(self.tiles):
            raise ConfigError(f"load_state_dict: {len(tiles)} layers in the state, the network has {len(self.tiles)}")
        for t, s in zip(self.tiles, tiles, strict=True):
            cur = t.state_tensors()
            if set(cur) != set(s["state"]) or any(cur[k].shape != v.shape for k, v in s["state"].items()):
                raise ConfigError("load_state_dict: device state names or shapes differ from this network's tiles")
            for k, v in s["state"].items():
                cur[k].copy_(v)
            t.invalidate_weight_cache()
            t.n_updates, t.n_carries = int(s["n_updates"]), int(s["n_carries"])
            t.program_energy_j = float(s["program_energy_j"])
        self.samples_seen = int(state["samples_seen"])
        self.program_energy_j = float(state["program_energy_j"])
        self.read_energy_j = float(state["read_energy_j"])

    def weights(self) -> list[torch.Tensor]:
        """Effective weights of every layer [out, in + 1] (float64)."""
        return [t.weights() for t in self.tiles]


def float_mlp_weights(config: MLPConfig, generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """The initial weights `DeviceMLP` draws for ``config`` (so an ideal-device run and a float reference
    can start from the same point)."""
    out = []
    for n_in, n_out in zip(config.sizes[:-1], config.sizes[1:], strict=True):
        s = config.init_scale / math.sqrt(n_in + 1)
        out.append((2 * torch.rand((n_out, n_in + 1), generator=generator, dtype=torch.float64) - 1) * s)
    return out


__all__ = ["PAPER003_SCHEDULE", "DeviceMLP", "MLPConfig", "float_mlp_weights"]
