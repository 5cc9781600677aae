"""The "lookup-table" device: a synapse whose per-pulse Delta-G is drawn from a `LookupTable`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ...config import ConfigError, check_choice, check_nonnegative
from ..base import Device, DeviceState, Pulses, register_device
from .formats import load_table, save_npz
from .sampler import TableSampler
from .table import LookupTable


@dataclass(frozen=True)
class LookupTableConfig:
    """Attributes:
    path: table file (our NPZ, a CrossSim ``dG_increasing<i>.txt[.gz]``) or a CrossSim folder; "" when the
        table is passed to the constructor (``LookupTableDevice(table=...)``).
    init: initial conductance of a fresh device: "min" (instance's G_min), "mid", "max" or "uniform"
        (uniform in the instance's range).
    dtype: "float32" (fast, what networks use) or "float64" conductance state and sampling.
    energy_per_pulse_j: programming energy per pulse [J] (>= 0; 0 = not modelled here).
    n_levels: discrete conductance levels (a notched track's positions, paper 003 Fig. 5: "the updated
        conductance is rounded to the closest discrete level"): after every update G snaps to the nearest of
        ``n_levels`` evenly spaced levels of the instance's range (CrossSim's Nlevels); 0 = continuous.

    Variation knobs: none in the config; device-to-device variation is the table's instances (each device
    draws one), cycle-to-cycle variation is the table's per-bin Delta-G distribution (see `cycle_to_cycle`).
    Extra Gaussian write noise: `devices.write_noise.with_write_noise`.
    """

    path: str = ""
    init: str = "min"
    dtype: str = "float32"
    energy_per_pulse_j: float = 0.0
    n_levels: int = 0

    def __post_init__(self) -> None:
        from ...config import check_int

        if self.n_levels != 0:
            check_int("n_levels (discrete conductance levels; 0 = continuous)", self.n_levels, 2, 1 << 20)
        check_choice("init", self.init, ("min", "mid", "max", "uniform"))
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_nonnegative("energy_per_pulse_j", self.energy_per_pulse_j, unit="J")


@register_device("lookup-table")
class LookupTableDevice(Device):
    """Synapse whose per-pulse Delta-G is drawn from a probabilistic lookup table (paper 003, CrossSim).

    State: ``DeviceState(g=conductance [S], instance=int64 table instance)``; each device draws its
    instance uniformly at `init_state` (device-to-device variation). `apply` takes the pulse polarity from
    sign(amplitude) and the number of pulses from ``count``; `step` does the same from a signed pulse-count
    tensor without building `Pulses` (the fast path for training).
    """

    config: LookupTableConfig
    is_synapse = True

    def __init__(self, config: LookupTableConfig | None = None, *, table: LookupTable | None = None,
                 **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if table is None:
            if not self.config.path:
                raise ConfigError("LookupTableDevice needs a table: pass table=LookupTable(...) or path=<file or folder>")
            table = load_table(self.config.path)
        if not isinstance(table, LookupTable):
            raise ConfigError(f"LookupTableDevice: table must be a LookupTable, got {type(table).__name__}")
        self.table = table
        self._samplers: dict[tuple[str, torch.dtype], TableSampler] = {}
        self._mean_steps: dict[str, float] = {}

    @classmethod
    def config_class(cls) -> type:
        return LookupTableConfig

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **config: Any) -> LookupTableDevice:
        """Device from a table file or CrossSim folder."""
        return cls(LookupTableConfig(path=str(path), **config))

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32 if self.config.dtype == "float32" else torch.float64

    def sampler(self, device: torch.device | str | None = None) -> TableSampler:
        """The (cached) `TableSampler` of this table on ``device``."""
        dev = torch.device(device) if device is not None else torch.device("cpu")
        key = (str(dev), self.dtype)
        if key not in self._samplers:
            self._samplers[key] = TableSampler(self.table, device=dev, dtype=self.dtype, n_levels=self.config.n_levels)
        return self._samplers[key]

    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        s = self.sampler(device)
        dev = s.device
        if self.table.n_instances == 1:
            inst = torch.zeros(shape, dtype=torch.int64, device=dev)
        else:
            inst = torch.randint(self.table.n_instances, tuple(shape), generator=generator, device=dev)
        lo, hi = s.g_lo[inst], s.g_hi[inst]
        mode = self.config.init
        if mode == "min":
            g = lo.clone()
        elif mode == "max":
            g = hi.clone()
        elif mode == "mid":
            g = 0.5 * (lo + hi)
        else:
            g = lo + (hi - lo) * torch.rand(tuple(shape), generator=generator, dtype=self.dtype, device=dev)
        return DeviceState(g=s.settle_tensor(g, lo, hi) if self.config.n_levels else g, instance=inst)

    def conductance(self, state: DeviceState) -> torch.Tensor:
        return state["g"]

    def sample_dg(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor | int,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """Delta-G [S] of ``n_pulses`` (signed) consecutive pulses from conductance ``g`` (with clamping)."""
        new = self.sampler(g.device).step(g.to(self.dtype), instance, torch.as_tensor(n_pulses, device=g.device),
                                          generator)
        return new - g.to(self.dtype)

    def step(self, state: DeviceState, n_pulses: torch.Tensor | int, *,
             generator: torch.Generator | None = None) -> DeviceState:
        """New state after ``n_pulses`` (signed int tensor broadcastable to the array; 0 = untouched)."""
        g = state["g"]
        new = self.sampler(g.device).step(g, state["instance"], torch.as_tensor(n_pulses, device=g.device), generator)
        return DeviceState(g=new, instance=state["instance"])

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        g = state["g"]
        n = pulses.count_like(g) * pulses.amplitude_like(g).sign().to(torch.int64)
        new = self.step(state, n, generator=generator)
        energy = n.abs().to(g.dtype) * self.config.energy_per_pulse_j
        return new, energy

    def program_fractional(self, state: DeviceState, delta_g: torch.Tensor, *,
                           generator: torch.Generator | None = None) -> tuple[DeviceState, torch.Tensor]:
        """CrossSim's lookup-table update (`TableSampler.scaled_step`): a requested change ``delta_g`` [S] per
        device realised by one draw scaled to |delta_g| / the instance's mean step; energy = that fraction of
        a pulse x ``energy_per_pulse_j``."""
        g = state["g"]
        dg = torch.as_tensor(delta_g, device=g.device).to(torch.float64).expand(g.shape)
        new = self.sampler(g.device).scaled_step(g, state["instance"], dg, generator)
        steps = torch.where(dg > 0, dg / self.mean_step(1), -dg / self.mean_step(-1))
        return DeviceState(g=new, instance=state["instance"]), steps * self.config.energy_per_pulse_j

    def nominal_pulses(self, direction) -> Pulses:
        d = torch.as_tensor(direction)
        return Pulses(amplitude=d.sign().to(torch.float64), count=(d != 0).to(torch.int64))

    def conductance_range(self) -> tuple[float, float]:
        """Nominal (G_min, G_max) [S]: the instance ranges averaged (each device has its own range)."""
        return float(self.table.g_min.mean()), float(self.table.g_max.mean())

    def mean_step(self, direction: int = 1) -> float:
        """Mean |Delta-G| per pulse [S] over bins and instances, for potentiation (+1) or depression (-1)
        (the table's mean over its whole range rather than at mid-range: exact, no Monte-Carlo)."""
        key = "increasing" if direction > 0 else "decreasing"
        if key not in self._mean_steps:
            self._mean_steps[key] = abs(self.table.mean_step(key))
        return self._mean_steps[key]

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        """``init_state`` with every device in the middle of its instance's range."""
        st = self.init_state(shape, generator=generator)
        s = self.sampler(st["g"].device)
        lo, hi = s.g_lo[st["instance"]], s.g_hi[st["instance"]]
        st["g"] = s.settle_tensor(0.5 * (lo + hi), lo, hi)
        return st

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as NPZ (atomic); `load_table` / ``path=`` read it back."""
        return save_npz(self.table, path)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "table": self.table.describe()}
