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

Synapse devices (``is_synapse = True``, listed by `synapse_device_names`) add the programming protocol a
network or a device-aware layer uses, with one convention for all of them: **a + count raises the
conductance** (potentiates), a - count lowers it, 0 leaves the device untouched:

* ``program_counts(state, counts, generator=)`` -> (state, energy [J]): signed nominal-pulse counts, one per
  device, in one call (default: ``apply(nominal_pulses(sign), count=|counts|)``);
* ``mean_step(direction)`` -> mean |Delta G| [S] of one nominal pulse at mid-range (aihwkit's ``dw_min``);
* ``levels()`` -> the discrete conductance levels [S] ascending, or None for an (quasi-)analog device;
* ``program(state, target_g, ...)`` -> (state, energy [J], converged): write-and-verify to target conductances;
* ``conductance_range()`` -> (G_min, G_max) [S].

Variation knobs follow aihwkit's naming: ``*_dtod`` is a device-to-device relative sigma (drawn once, in
``init_state``), ``*_std`` a cycle-to-cycle one (drawn at every write). `with_write_noise` adds Gaussian
cycle-to-cycle write noise to any synapse device. States are tensors or `DeviceState` bundles; both move with
``.to(device, dtype)`` and live in module buffers (`state_to_buffers`, `state_from_buffers`), so a layer's
``state_dict()`` checkpoints its devices.

Devices are registered by name (`register_device`, `make_device`): the modules of this package, plus the
devices other packages declare in the ``spinaptic.devices`` entry-point group (see `refresh_plugins`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
import pkgutil
import sys
import threading
import types
import warnings
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

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> DeviceState:
        """A copy on ``device``; ``dtype`` (a floating dtype) converts the floating-point tensors only (bits
        and indices keep their bool / integer dtype). The physics devices keep float64 state by default."""
        if dtype is not None and not dtype.is_floating_point:
            raise ConfigError(f"DeviceState.to: dtype must be a floating dtype, got {dtype}")
        return DeviceState({k: v.to(device=device, dtype=dtype if (dtype is not None and v.is_floating_point())
                                    else v.dtype) for k, v in self.items()})

    def clone(self) -> DeviceState:
        """A deep copy (every tensor cloned)."""
        return DeviceState({k: v.clone() for k, v in self.items()})


State = torch.Tensor | DeviceState

_SEP = "__"  # buffer name of state key k under prefix p: f"{p}__{k}"; a plain-tensor state is the buffer p


def state_to_buffers(module: Any, prefix: str, state: State, *, persistent: bool = True) -> None:
    """Register ``state`` as buffers of the ``torch.nn.Module`` ``module`` (so ``state_dict()`` checkpoints it
    and ``module.to(device)`` moves it): a tensor state as the buffer ``prefix``, a `DeviceState` as one
    buffer ``f"{prefix}__{key}"`` per entry. Calling it again replaces the buffers (stale keys are dropped).
    To restore a checkpoint, register a state of the same shapes (``init_state``), then ``load_state_dict``."""
    if not prefix or "." in prefix:
        raise ConfigError(f"state_to_buffers: prefix must be a non-empty name without '.', got {prefix!r}")
    for name in [n for n in module._buffers if n == prefix or n.startswith(prefix + _SEP)]:
        del module._buffers[name]
        module._non_persistent_buffers_set.discard(name)
    if isinstance(state, DeviceState):
        for k, v in state.items():
            module.register_buffer(prefix + _SEP + k, v, persistent=persistent)
    elif isinstance(state, torch.Tensor):
        module.register_buffer(prefix, state, persistent=persistent)
    else:
        raise ConfigError(f"state_to_buffers: state must be a tensor or DeviceState, got {type(state).__name__}")


def state_from_buffers(module: Any, prefix: str) -> State:
    """The state `state_to_buffers` registered under ``prefix`` (the module's current buffers, so after
    ``module.to(...)`` or ``load_state_dict`` it is the moved / loaded state); the tensors are the buffers
    themselves, not copies."""
    bufs = module._buffers
    if prefix in bufs:
        return bufs[prefix]
    keys = {n[len(prefix) + len(_SEP):]: v for n, v in bufs.items() if n.startswith(prefix + _SEP)}
    if not keys:
        raise ConfigError(f"state_from_buffers: module has no state buffers under {prefix!r}")
    return DeviceState(keys)


MEAN_STEP_SEED = 20240610
"""Fixed seed of the Monte-Carlo `Device.mean_step` estimates (reproducible, independent of any generator)."""
MEAN_STEP_DEVICES = 256
"""Devices in a Monte-Carlo `Device.mean_step` estimate."""
MAX_PULSES_PER_VERIFY = 1000
"""Upper bound on the pulse count of one write-and-verify iteration of `Device.program`."""


def _counts_tensor(counts: torch.Tensor | int, device=None) -> torch.Tensor:
    c = torch.as_tensor(counts, device=device)
    if c.is_floating_point() or c.is_complex() or c.dtype == torch.bool:
        raise ConfigError(f"program_counts: counts must be an integer tensor, got {c.dtype}")
    return c.to(torch.int64)


MID_RANGE_MAX_PULSES = 4096
"""Pulses the default `Device.mid_range_state` applies at most per device."""


class Device(ABC):
    """Base class of all devices; see the module docstring for the protocol."""

    name: ClassVar[str] = "device"
    is_synapse: ClassVar[bool] = False
    """True for devices a network can program as a weight (they implement the programming protocol)."""
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

    # ------------------------------------------------------------------------ programming protocol
    def program_counts(self, state: State, counts: torch.Tensor, *,
                       generator: torch.Generator | None = None) -> tuple[State, torch.Tensor]:
        """Program every device with its signed nominal-pulse count: ``counts`` (integer tensor of the
        array's shape) > 0 potentiates (raises the conductance) with ``counts`` pulses, < 0 depresses, 0
        leaves the device bitwise untouched at no energy. Returns (new state, energy [J] per device).

        Default: ``apply(nominal_pulses(sign(counts)), count=|counts|)``; devices whose + pulse does not
        raise the conductance override it.
        """
        c = _counts_tensor(counts)
        pulses = dataclasses.replace(self.nominal_pulses(c.sign()), count=c.abs())
        return self.apply(state, pulses, generator=generator)

    def program_fractional(self, state: State, delta_g: torch.Tensor, *,
                           generator: torch.Generator | None = None) -> tuple[State, torch.Tensor]:
        """Fractional programming, CrossSim's lookup-table update: every device with a non-zero requested
        change ``delta_g`` [S] (signed, array-shaped) moves by m = |delta_g| / its mean step of fractional
        pulses, with the mean and variance of m pulses, from one draw (0 leaves it untouched). Returns (new
        state, energy [J] per device). Only devices that know their per-state step statistics offer it
        (`supports_fractional`)."""
        raise ConfigError(f"device {self.name!r} has no fractional programming (update_rule 'fractional'); use "
                          "'stochastic' or 'deterministic'")

    @classmethod
    def supports_fractional(cls) -> bool:
        """Whether the device overrides `program_fractional`."""
        return cls.program_fractional is not Device.program_fractional

    def mid_range_state(self, shape: tuple[int, ...], *, generator: torch.Generator | None = None) -> State:
        """A state of ``shape`` devices at mid-range (where `mean_step` is measured).

        Default: a fresh state driven by single nominal pulses toward the middle of `conductance_range`
        until each device reaches or crosses it (at most `MID_RANGE_MAX_PULSES`); a device with a faster
        or exact way to get there overrides this."""
        state = self.init_state(shape, generator=generator)
        lo, hi = self.conductance_range()
        mid = 0.5 * (lo + hi)
        g = self.conductance(state)
        direction = torch.sign(mid - g).to(torch.int64)
        for _ in range(MID_RANGE_MAX_PULSES):
            todo = (mid - g) * direction > 0
            if not bool(todo.any()):
                break
            state, _ = self.program_counts(state, torch.where(todo, direction, torch.zeros_like(direction)),
                                           generator=generator)
            g = self.conductance(state)
        return state

    def mean_step(self, direction: int) -> float:
        """Mean |Delta G| [S] of one nominal pulse in ``direction`` (+1 raises G, -1 lowers it) at mid-range:
        aihwkit's ``dw_min``. Default: a cached Monte-Carlo estimate over `MEAN_STEP_DEVICES` devices from
        `mid_range_state`, with the fixed seed `MEAN_STEP_SEED` (independent of the caller's RNG)."""
        d = 1 if direction > 0 else -1
        cache = self.__dict__.setdefault("_mean_step_cache", {})
        if d not in cache:
            gen = torch.Generator().manual_seed(MEAN_STEP_SEED)
            s0 = self.mid_range_state((MEAN_STEP_DEVICES,), generator=gen)
            s1, _ = self.program_counts(s0, torch.full((MEAN_STEP_DEVICES,), d, dtype=torch.int64), generator=gen)
            dg = (self.conductance(s1).to(torch.float64) - self.conductance(s0).to(torch.float64)).abs()
            cache[d] = float(dg.mean())
        return cache[d]

    def levels(self) -> torch.Tensor | None:
        """The discrete programmable conductances [S], ascending, or None (analog or not a synapse)."""
        return None

    def program(self, state: State, target_g: torch.Tensor, *, tolerance_s: float | None = None,
                max_iterations: int = 50,
                generator: torch.Generator | None = None) -> tuple[State, torch.Tensor, torch.Tensor]:
        """Write-and-verify to ``target_g`` [S] (array-shaped): read G, program sign(target - G) with
        round(|target - G| / mean_step) pulses (1 .. `MAX_PULSES_PER_VERIFY`), repeat until every device is
        within ``tolerance_s`` [S] (default: half the smaller of the two mean steps) or ``max_iterations``
        verify cycles. Devices within tolerance are not pulsed again. Vectorised over devices.

        Returns (new state, total programming energy [J] per device, converged: bool per device). A
        target the device cannot hold (between the levels of a binary device, inside a step larger than
        the tolerance) may not converge; the flag says so.
        """
        if not isinstance(max_iterations, int) or max_iterations < 0:
            raise ConfigError(f"program: max_iterations must be an int >= 0, got {max_iterations!r}")
        up, down = self.mean_step(1), self.mean_step(-1)
        tol = 0.5 * min(up, down) if tolerance_s is None else float(tolerance_s)
        if not tol >= 0:
            raise ConfigError(f"program: tolerance_s must be >= 0 S, got {tolerance_s!r}")
        g = self.conductance(state).to(torch.float64)
        target = torch.as_tensor(target_g, dtype=torch.float64, device=g.device).expand(g.shape)
        energy = torch.zeros(g.shape, dtype=torch.float64, device=g.device)
        for _ in range(max_iterations):
            err = target - g
            todo = err.abs() > tol
            if not bool(todo.any()):
                break
            step = torch.where(err > 0, torch.tensor(up, dtype=torch.float64, device=g.device),
                               torch.tensor(down, dtype=torch.float64, device=g.device)).clamp_min(1e-300)
            n = (err.abs() / step).round().clamp(1, MAX_PULSES_PER_VERIFY).to(torch.int64)
            counts = torch.where(todo, n * err.sign().to(torch.int64), torch.zeros_like(n))
            state, e = self.program_counts(state, counts, generator=generator)
            energy = energy + e.to(torch.float64)
            g = self.conductance(state).to(torch.float64)
        return state, energy, (target - g).abs() <= tol

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: registry name and configuration."""
        from ..config import to_dict

        return {"device": self.name, "config": to_dict(self.config)}


# ------------------------------------------------------------------------------------------ registry
# Built-in devices are this package's modules, imported on first use. Devices of other packages come from
# the ``spinaptic.devices`` entry-point group, scanned once per process (`refresh_plugins` scans again).
# A plugin never breaks the library: one that fails to load, or whose name is taken, is skipped with one
# `DevicePluginWarning` line naming the entry point and the reason, and registers none of its devices.

ENTRY_POINT_GROUP = "spinaptic.devices"


class DevicePluginWarning(UserWarning):
    """A ``spinaptic.devices`` entry point was skipped (import error, bad value or name collision)."""


_REGISTRY: dict[str, type[Device]] = {}
_BY_MODULE: dict[str, tuple[Any, dict[str, type[Device]]]] = {}  # module name -> (module, {name: class})
_PLUGINS: dict[str, str] = {}  # device name -> "distribution: entry point" that provided it
_EP_CACHE: dict[tuple[str, str, str], dict[str, type[Device]]] = {}  # what each entry point provided
_LOCK = threading.RLock()
_builtins_loaded = False
_plugins_loaded = False


def _is_builtin(cls: type) -> bool:
    return cls.__module__.startswith(__package__ + ".")


def _where(cls: type) -> str:
    return f"{'built-in ' if _is_builtin(cls) else ''}{cls.__module__}.{cls.__qualname__}"


def register_device(name: str) -> Callable[[type[Device]], type[Device]]:
    """Class decorator adding a device to the registry under ``name``.

    A name taken by another class raises `ConfigError` naming both (re-running the same definition, as a
    module reload does, replaces it). For classes outside this package the built-ins are loaded first, so a
    clash with a built-in is always reported against the newcomer.
    """

    def deco(cls: type[Device]) -> type[Device]:
        if not (isinstance(cls, type) and issubclass(cls, Device)):
            raise ConfigError(f"register_device({name!r}) needs a Device subclass, got {cls!r}")
        with _LOCK:
            if not _is_builtin(cls):
                _import_builtins()
            old = _REGISTRY.get(name)
            redefined = old is not None and (old.__module__, old.__qualname__) == (cls.__module__, cls.__qualname__)
            if old is not None and old is not cls and not redefined:
                raise ConfigError(f"device name {name!r} registered twice: by {_where(old)} and by {_where(cls)}; "
                                  "choose another name")
            cls.name = name
            _REGISTRY[name] = cls
            mod = sys.modules.get(cls.__module__)
            entry = _BY_MODULE.get(cls.__module__)
            if entry is None or entry[0] is not mod:
                entry = _BY_MODULE[cls.__module__] = (mod, {})
            entry[1][name] = cls
        return cls

    return deco


def device_names() -> list[str]:
    """Names of all registered devices, built-in and from plugins."""
    _import_all()
    return sorted(_REGISTRY)


def synapse_device_names() -> list[str]:
    """Names of the registered devices a network can program as a weight (``is_synapse``)."""
    _import_all()
    return sorted(n for n, c in _REGISTRY.items() if c.is_synapse)


def device_class(name: str) -> type[Device]:
    """The device class registered as ``name``; unknown names raise with the list of known ones."""
    _import_builtins()
    if name not in _REGISTRY:  # plugins are scanned only when needed: a built-in never waits for them
        _load_plugins()
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


def plugin_devices() -> dict[str, str]:
    """Devices provided by ``spinaptic.devices`` entry points: name -> "distribution: entry point"."""
    _import_all()
    return dict(_PLUGINS)


def refresh_plugins() -> list[str]:
    """Drop the plugin devices and scan the entry points again (after installing a package, or in tests
    that change ``sys.path``); returns the plugin device names now registered."""
    global _plugins_loaded
    with _LOCK:
        for name in _PLUGINS:
            _REGISTRY.pop(name, None)
        _PLUGINS.clear()
        _plugins_loaded = False
        importlib.invalidate_caches()  # the metadata finder caches directory listings
        _import_all()
        return sorted(_PLUGINS)


def _import_all() -> None:
    _import_builtins()
    _load_plugins()


def _import_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _LOCK:
        if _builtins_loaded:
            return
        _builtins_loaded = True  # first: the built-in modules call register_device while importing
        from .. import devices as pkg

        try:
            for mod in pkgutil.iter_modules(pkg.__path__):
                if not mod.name.startswith("_"):
                    importlib.import_module(f"{pkg.__name__}.{mod.name}")
        except BaseException:
            _builtins_loaded = False
            raise


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    with _LOCK:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        try:
            eps = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        except Exception as e:  # broken metadata elsewhere in the environment
            _plugin_warning(f"could not read the {ENTRY_POINT_GROUP!r} entry points", e)
            return
        for ep in sorted(eps, key=lambda e: (e.name, e.value)):
            _load_plugin(ep)


def _plugin_warning(what: str, err: BaseException) -> None:
    warnings.warn(" ".join(f"spinaptic: {what}: {type(err).__name__}: {err}".split()), DevicePluginWarning,
                  stacklevel=3)


def _current(cls: type[Device]) -> bool:
    """``cls`` is still its module's registered definition (the module was not re-imported since)."""
    entry = _BY_MODULE.get(cls.__module__)
    return entry is not None and entry[0] is sys.modules.get(cls.__module__) and cls in entry[1].values()


def _load_plugin(ep: importlib.metadata.EntryPoint) -> None:
    """Register the devices of one entry point (a module: its ``@register_device`` classes; a `Device`
    subclass: that class as ``ep.name``), or warn and register none of them."""
    dist = getattr(ep.dist, "name", None) or "?"
    key = (dist, ep.name, ep.value)
    before = set(_REGISTRY)
    try:
        obj = ep.load()
        if isinstance(obj, types.ModuleType):  # decorators ran on import, maybe before this scan
            found = {n: c for m, (mod, d) in list(_BY_MODULE.items())
                     if (m == obj.__name__ or m.startswith(obj.__name__ + ".")) and mod is sys.modules.get(m)
                     for n, c in d.items()}
        elif isinstance(obj, type) and issubclass(obj, Device):
            if inspect.isabstract(obj):
                missing = ", ".join(sorted(obj.__abstractmethods__))
                raise ConfigError(f"{obj.__qualname__} is abstract (it does not implement {missing})")
            found = {ep.name: obj}
        else:
            raise ConfigError(f"the entry point must name a module or a Device subclass, got {obj!r}")
        found.update({n: c for n, c in _EP_CACHE.get(key, {}).items() if _current(c)})
        for n, c in found.items():
            register_device(n)(c)
    except Exception as e:
        for n in set(_REGISTRY) - before:  # all or nothing
            cls = _REGISTRY.pop(n)
            _BY_MODULE.get(cls.__module__, (None, {}))[1].pop(n, None)
        _plugin_warning(f"skipped device plugin {ep.name!r} ({ep.value}, distribution {dist})", e)
        return
    provided = {n: _REGISTRY[n] for n in (set(_REGISTRY) - before) | set(found) if not _is_builtin(_REGISTRY[n])}
    _EP_CACHE[key] = provided
    for n in provided:
        _PLUGINS[n] = f"{dist}: {ep.name} = {ep.value}"


def iter_chunks(n: int, chunk: int) -> Iterator[slice]:
    """Slices covering range(n) in blocks of ``chunk`` (memory-bounded vectorised work)."""
    for start in range(0, n, chunk):
        yield slice(start, min(n, start + chunk))
