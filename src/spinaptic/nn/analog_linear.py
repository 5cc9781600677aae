"""`AnalogLinear`: an ``nn.Linear`` whose weights are the conductances of an `arrays.tile.AnalogTile`.

* forward: the noisy analog read of the tile (`AnalogTile.mvm`: crossbar read noise, optional ADC), its read
  energy charged to the layer's `EnergyLedger` ("read", one event per input vector);
* backward (custom autograd function): ``config.backward = "ideal"`` (default) uses the exact transposed
  effective weights (G+ - G-) / g_per_weight; ``"transposed-read"`` reads the error through the same noisy
  crossbar transposed (charged as "read-backward"). The weight gradient is the usual outer product and lands
  on ``analog_weight``;
* update: a device-aware optimiser (`nn.optim.DeviceSGD`, `device_optimizer`) turns the change its rule makes
  to ``analog_weight`` into device programming (`AnalogTile.update`), charged as "program" with one event per
  training sample seen since the last update. With ``update_rule="pulse-train"`` it programs -lr dL/dW from
  the stored inputs and errors by coincident pulse trains instead (plain SGD: the optimiser's momentum,
  weight decay or adaptive steps are not applied to those layers). ``analog_weight`` is then reset to the realised weights; a plain
  torch optimiser would only move this float copy, not the devices.

``.weight`` is a read-only float32 snapshot of the effective weights. The device state lives in buffers
(``device_state_<name>``) and ``w_max`` in a buffer, so ``state_dict()`` checkpoints the devices. The bias is
digital (a float parameter any optimiser updates).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ..arrays.tile import AnalogTile
from ..devices.base import Device
from ..energy import EnergyLedger
from .config import AnalogLayerConfig, TileConfig, as_config


class _AnalogMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, layer: AnalogLinear) -> torch.Tensor:
        y, energy = layer.tile.mvm(x.detach(), generator=layer.generator)
        layer.ledger.charge("read", energy, events=layer._n_samples(x))
        ctx.layer = layer
        ctx.save_for_backward(x)
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx, gy: torch.Tensor):
        (x,) = ctx.saved_tensors
        layer: AnalogLinear = ctx.layer
        gx = gw = None
        if ctx.needs_input_grad[0]:
            if layer.config.backward == "ideal":
                gx = gy @ layer.tile.weight_cache()[0].to(gy.dtype)
            else:
                gx, energy = layer.tile.mvm(gy, generator=layer.generator, transpose=True)
                layer.ledger.charge("read-backward", energy, events=layer._n_samples(gy))
                gx = gx.to(gy.dtype)
        if ctx.needs_input_grad[1]:
            x2, g2 = x.reshape(-1, x.shape[-1]), gy.reshape(-1, gy.shape[-1])
            gw = g2.T @ x2
            # the outer-product factors: pulse trains and the plain-SGD fast path program from them
            prev = layer._factors if layer.factors_match_grad() else None  # None: after zero_grad
            layer._factors = (x2.detach(), g2.detach()) if prev is None else (
                torch.cat([prev[0], x2.detach()]), torch.cat([prev[1], g2.detach()]))
        return gx, gw, None


class AnalogLinear(nn.Module):
    """y = x W^T + b with W on an analog tile (see the module docstring).

    Args:
        in_features, out_features, bias: as ``nn.Linear``.
        config: `AnalogLayerConfig`, `TileConfig`, preset name or None ("ideal").
        weight: initial weights [out, in] (default: ``nn.Linear``'s Kaiming-uniform initialisation).
        device: a ready device instance instead of the config's device name (e.g. a lookup table object).
        generator: RNG of device variation, initial programming and reads.
        ledger: energy ledger to charge (default: a new one per layer, ``self.ledger``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 config: AnalogLayerConfig | TileConfig | str | None = None, *, weight: torch.Tensor | None = None,
                 bias_init: torch.Tensor | None = None, device: Device | None = None,
                 generator: torch.Generator | None = None, ledger: EnergyLedger | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.config = as_config(config)
        self.generator = generator
        self.ledger = ledger if ledger is not None else EnergyLedger()
        ref = nn.Linear(self.in_features, self.out_features, bias=bias)
        w0 = ref.weight.detach() if weight is None else torch.as_tensor(weight).detach()
        self.tile = AnalogTile((self.out_features, self.in_features), self.config.tile, weights=w0,
                               device=device, generator=generator)
        self.ledger.charge("program-initial", self.tile.program_energy_j, events=0)
        for k, t in self.tile.state_tensors().items():
            self.register_buffer(f"device_state_{k}", t)
        self.register_buffer("w_max", torch.tensor(self.tile.w_max, dtype=torch.float64))
        # shares the tile's float32 weight cache, which the compiled update path refreshes in place
        self.analog_weight = nn.Parameter(self.tile.weight_cache()[0])
        self.analog_weight._analog_layer = self  # how device optimisers find the tile
        if bias:
            b0 = ref.bias.detach() if bias_init is None else torch.as_tensor(bias_init).detach()
            self.bias = nn.Parameter(b0.clone().to(torch.float32))
        else:
            self.register_parameter("bias", None)
        self._samples = 0
        self._factors: tuple[torch.Tensor, torch.Tensor] | None = None
        self._grad_token: tuple | None = None
        self.analog_weight.register_post_accumulate_grad_hook(self._note_grad)
        self.register_load_state_dict_post_hook(AnalogLinear._after_load)

    # ------------------------------------------------------------------ state plumbing
    def _state_buffers(self) -> dict[str, torch.Tensor]:
        return {k[len("device_state_"):]: b for k, b in self._buffers.items() if k.startswith("device_state_")}

    def _apply(self, fn, recurse=True):  # .to(), .cuda(), .double(): keep the tile on the new buffers
        out = super()._apply(fn, recurse)
        self.tile.set_state_tensors(self._state_buffers())
        return out

    @staticmethod
    def _after_load(module: AnalogLinear, incompatible) -> None:
        module.tile.set_state_tensors(module._state_buffers())
        module.tile._set_w_max(float(module.w_max))
        module._refresh()

    @torch.no_grad()
    def _refresh(self) -> None:
        w = self.tile.weight_cache()[0]
        if self.analog_weight.data_ptr() != w.data_ptr():
            self.analog_weight.copy_(w)

    def _note_grad(self, p: torch.Tensor) -> None:
        """After autograd accumulates into ``analog_weight.grad``: remember which gradient the stored
        factors produced, so a gradient changed afterwards (clipping, a hook) disables the factor path."""
        self._grad_token = (id(p.grad), p.grad._version) if p.grad is not None else None

    def factors_match_grad(self) -> bool:
        """True when ``analog_weight.grad`` is exactly the outer product of the stored inputs and errors."""
        g = self.analog_weight.grad
        return (self._factors is not None and g is not None and self._grad_token == (id(g), g._version))

    @property
    def weight(self) -> torch.Tensor:
        """Effective weights [out, in] read from the conductances (a detached float32 copy)."""
        return self.tile.weights().to(torch.float32)

    # ------------------------------------------------------------------ compute
    def _n_samples(self, x: torch.Tensor) -> int:
        """Samples (energy events) in a tile input [..., in]: every input vector is one inference."""
        return int(math.prod(x.shape[:-1]))

    def _matmul(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            self._samples += self._n_samples(x)
        self.analog_weight._analog_layer = self  # again: deepcopy / unpickling drop tensor attributes
        return _AnalogMatmul.apply(x, self.analog_weight, self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._matmul(x)
        return y + self.bias if self.bias is not None else y

    @torch.no_grad()
    def program_delta(self, delta_w: torch.Tensor, *, generator: torch.Generator | None = None) -> float:
        """Program ``delta_w`` [out, in] into the devices; returns the energy [J] (also charged as "program")."""
        self._factors = None
        self.tile.invalidate_weight_cache()  # the optimiser's rule wrote into analog_weight (the cache)
        energy = self.tile.update(delta_w, generator=generator if generator is not None else self.generator)
        self.ledger.charge("program", energy, events=max(self._samples, 1))
        self._samples = 0
        self._refresh()
        return energy

    @torch.no_grad()
    def program_sgd_step(self, lr: float, *, generator: torch.Generator | None = None) -> float:
        """Program the plain SGD step -lr dL/dW from the stored outer-product factors (`AnalogTile.update_outer`:
        the same pulse rule as `program_delta`, without forming Delta-W at batch size 1); returns the energy [J].
        Needs `factors_match_grad`."""
        if not self.factors_match_grad():
            raise RuntimeError("program_sgd_step: the stored factors do not match analog_weight.grad")
        x, g = self._factors
        self._factors = None
        energy = self.tile.update_outer(x, g, -float(lr), generator=generator if generator is not None else self.generator)
        self.ledger.charge("program", energy, events=max(self._samples, 1))
        self._samples = 0
        self._refresh()
        return energy

    @torch.no_grad()
    def program_pulse_train(self, lr: float, *, generator: torch.Generator | None = None) -> float:
        """Program -lr dL/dW from the inputs and errors of the last backward pass(es) with coincident pulse
        trains (``update_rule="pulse-train"``, `AnalogTile.pulse_train_update`); returns the energy [J]."""
        if self._factors is None:
            return 0.0
        x, g = self._factors
        self._factors = None
        energy = self.tile.pulse_train_update(x, -g, lr, generator=generator if generator is not None else self.generator)
        self.ledger.charge("program", energy, events=max(self._samples, 1))
        self._samples = 0
        self._refresh()
        return energy

    # ------------------------------------------------------------------ energy
    def energy_per_inference(self) -> float:
        """Mean read energy per input vector [J]."""
        return self.ledger.per_event("read")

    def energy_per_training_sample(self) -> float:
        """Read + backward read + programming energy per training sample [J]."""
        return sum(self.ledger.per_event(c) for c in ("read", "read-backward", "program"))

    def extra_repr(self) -> str:
        t = self.config.tile
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
                f"device={t.device!r}, update_rule={t.update_rule!r}, backward={self.config.backward!r}")


def analog_layers(model: nn.Module) -> Iterator[AnalogLinear]:
    """The `AnalogLinear` (and `AnalogConv2d`) modules of ``model``."""
    return (m for m in model.modules() if isinstance(m, AnalogLinear))


def convert_to_analog(model: nn.Module, config: AnalogLayerConfig | TileConfig | str | None = None, *,
                      device: Device | None = None, generator: torch.Generator | None = None,
                      ledger: EnergyLedger | None = None) -> nn.Module:
    """Replace every ``nn.Linear`` of ``model`` (in place, recursively) by an `AnalogLinear`, and every
    ``nn.Conv2d`` with groups = 1 and zero padding by an `AnalogConv2d`, programmed with its weights and bias;
    returns ``model``. All new layers share ``ledger`` when given."""
    cfg = as_config(config)
    from .analog_conv import AnalogConv2d

    for name, child in list(model.named_children()):
        if isinstance(child, nn.Conv2d) and AnalogConv2d.supports(child):
            setattr(model, name, AnalogConv2d.from_conv(child, cfg, device=device, generator=generator, ledger=ledger))
        elif isinstance(child, nn.Linear):
            new = AnalogLinear(child.in_features, child.out_features, child.bias is not None, cfg,
                               weight=child.weight.detach(),
                               bias_init=child.bias.detach() if child.bias is not None else None,
                               device=device, generator=generator, ledger=ledger)
            setattr(model, name, new)
        else:
            convert_to_analog(child, cfg, device=device, generator=generator, ledger=ledger)
    return model


def energy_report(model: nn.Module) -> dict[str, Any]:
    """Energies of all analog layers [J]: totals by category, per inference and per training sample (sums
    over the layers; with a shared ledger, the per-event means times the number of layers, exact when every
    layer sees every sample, as in a feed-forward model)."""
    layers = list(analog_layers(model))
    seen: dict[int, EnergyLedger] = {id(m.ledger): m.ledger for m in layers}
    total = EnergyLedger()
    for led in seen.values():
        total.merge(led)
    shared = len(seen) < len(layers)
    return {
        "totals_j": total.as_dict(),
        "per_inference_j": (sum(m.energy_per_inference() for m in layers) if not shared
                            else total.per_event("read") * len(layers)),
        "per_training_sample_j": (sum(m.energy_per_training_sample() for m in layers) if not shared
                                  else sum(total.per_event(c) for c in ("read", "read-backward", "program"))
                                  * len(layers)),
    }


__all__ = ["AnalogLinear", "analog_layers", "convert_to_analog", "energy_report"]
