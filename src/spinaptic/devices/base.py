"""The one device protocol every synapse, neuron and random-number device implements.

A device is a small object holding a validated, frozen config. Its *state* lives in tensors outside the
object (one entry per device of an array, any leading shape), so a network can hold millions of devices
and checkpoint them:

* ``init_state(shape, generator=, device=)`` -> state (a tensor, or a `DeviceState` of tensors when a
  conductance is not enough: domain-wall position and angle, per-magnet bits, ...);
* ``conductance(state)`` -> read conductance [S], same shape as the array;
* ``apply(state, pulses, generator=)`` -> (new state, programming energy [J] per device).

Devices that networks program with abstract +/- steps (lookup tables, compound synapses) also offer
``nominal_pulses(direction)``: the paper's standard potentiating (+1) or depressing (-1) pulse. An ideal
float synapse is just another device, so every network accepts every device.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ..config import ConfigError


@dataclass(frozen=True)
class Pulses:
    """Programming pulses, broadcast over an array of devices.

    Attributes:
        amplitude: signed pulse amplitude per device, in amperes (``kind="current"``) or volts
            (``kind="voltage"``); the sign is the polarity (+ potentiates by convention). A tensor
            broadcastable to the state's shape, or a float.
        width_s: pulse width [s] (> 0), a float or broadcastable tensor.
        count: number of identical consecutive pulses per device (a non-negative integer tensor or int);
            0 means no pulse, so one call can program a whole array with per-device pulse counts.
        kind: "current" or "voltage".
    """

    amplitude: torch.Tensor | float
    width_s: torch.Tensor | float = 1e-9
    count: torch.Tensor | int = 1
    kind: str = "current"

    def __post_init__(self) -> None:
        if self.kind not in ("current", "voltage"):
            raise ConfigError(f"Pulses.kind = {self.kind!r} is not one of 'current', 'voltage'")
        w = torch.as_tensor(self.width_s)
        if w.numel() and bool((w <= 0).any()):
            raise ConfigError(f"Pulses.width_s must be > 0 s, got min {float(w.min())!r} s")
        c = torch.as_tensor(self.count)
        if c.numel() and bool((c < 0).any()):
            raise ConfigError("Pulses.count must be >= 0")

    def amplitude_like(self, ref: torch.Tensor) -> torch.Tensor:
        """Amplitude as a tensor broadcast to ``ref``'s shape, dtype and device."""
        return torch.as_tensor(self.amplitude, dtype=ref.dtype, device=ref.device).expand_as(ref)

    def count_like(self, ref: torch.Tensor) -> torch.Tensor:
        """Pulse count as an int64 tensor broadcast to ``ref``'s shape and device."""
        return torch.as_tensor(self.count, dtype=torch.int64, device=ref.device).expand(ref.shape)


class DeviceState(dict):
    """A named bundle of state tensors (``state["q"]``, ``state["bits"]``...), all with the array's shape
    as their leading dimensions. Plain dict so that `torch.save` checkpoints it."""

    def map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> DeviceState:
        """Apply ``fn`` to every tensor (e.g. ``.to(device)``, indexing)."""
        return DeviceState({k: fn(v) for k, v in self.items()})


State = torch.Tensor | DeviceState


class Device(ABC):
    """Base class of all devices; see the module docstring for the protocol."""

    name: ClassVar[str] = "device"
    config: Any

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        cfg_cls = type(self).config_class()
        if config is None:
            config = cfg_cls(**overrides)
        elif overrides:
            config = dataclasses.replace(config, **overrides)
        if not isinstance(config, cfg_cls):
            raise ConfigError(f"{type(self).__name__} needs a {cfg_cls.__name__}, got {type(config).__name__}")
        self.config = config

    @classmethod
    def config_class(cls) -> type:
        """The frozen dataclass type of this device's configuration."""
        raise NotImplementedError

    @abstractmethod
    def init_state(
        self, shape: tuple[int, ...], *, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> State:
        """Fresh state for an array of ``shape`` devices (device-to-device variation drawn here)."""

    @abstractmethod
    def conductance(self, state: State) -> torch.Tensor:
        """Read conductance [S] of every device."""

    @abstractmethod
    def apply(self, state: State, pulses: Pulses, *, generator: torch.Generator | None = None) -> tuple[State, torch.Tensor]:
        """Apply ``pulses``; return the new state and the programming energy [J] per device."""

    def nominal_pulses(self, direction: torch.Tensor | int) -> Pulses:
        """The paper's standard potentiating (+1) / depressing (-1) pulse; 0 means none."""
        raise NotImplementedError(f"{type(self).__name__} defines no nominal pulse")

    def conductance_range(self) -> tuple[float, float]:
        """(G_min, G_max) [S] that the device can reach, for weight mapping."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: registry name and configuration."""
        from ..config import to_dict

        return {"device": self.name, "config": to_dict(self.config)}


_REGISTRY: dict[str, type[Device]] = {}


def register_device(name: str) -> Callable[[type[Device]], type[Device]]:
    """Class decorator adding a device to the registry under ``name``."""

    def deco(cls: type[Device]) -> type[Device]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"device name {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def device_names() -> list[str]:
    """Names of all registered devices."""
    _import_all()
    return sorted(_REGISTRY)


def device_class(name: str) -> type[Device]:
    """The device class registered as ``name``; unknown names raise with the list of known ones."""
    _import_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown device {name!r}; known devices: {', '.join(sorted(_REGISTRY))}") from None


def make_device(name: str, config: Any = None, **overrides: Any) -> Device:
    """Build a registered device by name, e.g. ``make_device("compound-synapse", n_magnets=16)``."""
    return device_class(name)(config, **overrides)


def registered() -> Mapping[str, type[Device]]:
    """Read-only view of the registry."""
    _import_all()
    return dict(_REGISTRY)


def _import_all() -> None:
    import importlib
    import pkgutil

    from .. import devices as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")


def iter_chunks(n: int, chunk: int) -> Iterator[slice]:
    """Slices covering range(n) in blocks of ``chunk`` (memory-bounded vectorised work)."""
    for start in range(0, n, chunk):
        yield slice(start, min(n, start + chunk))
