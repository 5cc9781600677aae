"""Device-aware optimisers: any torch optimiser's step becomes device programming.

`device_optimizer(cls)` subclasses a ``torch.optim.Optimizer`` (so torch's LR schedulers accept it): its
``step`` runs the optimiser's own rule (momentum, weight decay, Adam moments...), takes the change it made to
each `AnalogLinear.analog_weight` as the requested Delta-W, programs it into the devices
(`AnalogLinear.program_delta`) and resets the parameter to the weights the devices actually reached. Other
parameters (digital biases, non-analog layers) are updated as usual. Layers with ``update_rule="pulse-train"``
are programmed from their stored inputs and errors with the group's ``lr`` (coincident pulse trains, plain
SGD). With plain SGD (no momentum, weight decay or maximize) and an untouched gradient, Delta-W = -lr dL/dW is
programmed straight from the layer's stored inputs and errors (`AnalogLinear.program_sgd_step`): the same
pulses, without forming Delta-W (the batch-1 fast path). `DeviceSGD` = ``device_optimizer(SGD)``.
"""

from __future__ import annotations

import torch


class _DeviceStepMixin:
    def __init__(self, *args, generator: torch.Generator | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.last_programming_energy_j = 0.0

    @staticmethod
    def _plain_sgd(group: dict) -> bool:
        """The group's rule is Delta-W = -lr grad (SGD without momentum, weight decay or maximize)."""
        return (not group.get("momentum", 0) and not group.get("weight_decay", 0) and not group.get("maximize", False))

    def step(self, closure=None):
        analog, trains, factored = [], [], []
        sgd = isinstance(self, torch.optim.SGD)
        for g in self.param_groups:
            for p in g["params"]:
                if getattr(p, "_analog_layer", None) is None or p.grad is None:
                    continue
                layer = p._analog_layer
                if layer.config.tile.update_rule == "pulse-train":
                    trains.append((p, float(g["lr"])))
                elif sgd and self._plain_sgd(g) and layer.factors_match_grad():
                    factored.append((p, float(g["lr"])))
                else:
                    analog.append(p)
        with torch.no_grad():
            before = [p.detach().clone() for p in analog]
            saved = [p.grad for p, _ in trains + factored]
            for p, _ in trains + factored:  # programmed from the outer-product factors below, not by the rule
                p.grad = None
        loss = super().step(closure)
        energy = 0.0
        with torch.no_grad():
            for p, b in zip(analog, before, strict=True):
                energy += p._analog_layer.program_delta(p.detach() - b, generator=self.generator)
            for (p, lr), grad in zip(trains + factored, saved, strict=True):
                p.grad = grad
                layer = p._analog_layer
                if layer.config.tile.update_rule == "pulse-train":
                    energy += layer.program_pulse_train(lr, generator=self.generator)
                else:
                    energy += layer.program_sgd_step(lr, generator=self.generator)
        self.last_programming_energy_j = energy
        return loss


_CACHE: dict[type, type] = {}


def device_optimizer(cls: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """A subclass of ``cls`` whose ``step`` programs the analog layers' devices (see the module docstring);
    construct it as ``cls`` plus an optional ``generator=`` for the stochastic pulse rounding and devices."""
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise TypeError(f"device_optimizer needs a torch.optim.Optimizer subclass, got {cls!r}")
    if cls not in _CACHE:
        _CACHE[cls] = type(f"Device{cls.__name__}", (_DeviceStepMixin, cls),
                           {"__doc__": f"{cls.__name__} whose step programs analog devices (`device_optimizer`).",
                            "__module__": __name__})
    return _CACHE[cls]


DeviceSGD = device_optimizer(torch.optim.SGD)
"""``torch.optim.SGD`` (lr, momentum, weight_decay, nesterov) whose step programs the analog devices."""

__all__ = ["DeviceSGD", "device_optimizer"]
