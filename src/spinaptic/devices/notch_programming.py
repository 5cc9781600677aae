"""Programming a notched DW-MTJ as a Markov chain over its notches (paper 002, Fig. 3c and Fig. 6).

`NotchTransitionTable` measures P(final notch | start notch, |V|, polarity) of a notched DW device (default
paper 002's straight track, `dw-straight`: five identical notches, 50 ns voltage pulses) by Monte-Carlo of its
1D model at its temperature: ``replicas`` walls per (polarity, amplitude, start notch), all in one
``apply`` call, plus the thermal spread of the read conductance of the walls pinned at each notch.

`NotchLevelModel` turns the table into the jump law of a device with ``n_levels`` notches:

* ``n_levels`` = the source's notch count: the table itself, row by row;
* any other count: the source's notches are identical in depth, so we take the jump distribution to depend
  only on the displacement. It is read from an interior start (notch 1 for + pulses, notch S-2 for -), which
  gives displacements 0 .. S-2 (3 on the five-notch track); a wall that reached the source's last notch
  counts as exactly S-2 notches (a lower bound: the measured track cannot show longer hops), and jumps are
  clamped at the ends of the longer track (a wall stops at its end notch).

`write_verify` programs any number of devices at once: read the notch, send the pulse (polarity toward the
target, amplitude of the grid most likely to land on it; for targets beyond the longest modelled hop, the one
with the largest expected progress) until every device is on target or ``max_pulses``. `NotchLevels`
(registered ``dw-notch-levels``) is the weight device of paper 002's CIFAR-100 study: ``n_levels`` notches
with conductances evenly spaced over [0.94, 1.1] mS (paper 002 Methods), programmed through the table, with
Gaussian cycle-to-cycle error ``write_noise_s`` (2.53 uS, paper 002 Fig. 6a) re-drawn at every write
(initialisation included) and an optional device-to-device spread of the conductance scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..config import ConfigError, check_choice, check_int, check_order, check_range
from .base import Device, DeviceState, Pulses, register_device
from .variation import draw_spread

TABLE_SEED = 20240611
"""Seed of the thermal field of a default table (reproducible, independent of any caller's generator)."""
SOURCES = ("dw-straight", "dw-trapezoid")
"""Voltage-driven notched DW devices a table can be measured on."""


@dataclass(frozen=True, eq=False)
class NotchTransitionTable:
    """Attributes:
    amplitudes_v: ascending pulse amplitudes |V| [V], first entry 0 (the wall stays).
    probs: [2, A, S, S] float64, P(final | start) per polarity (0: + toward the last notch, 1: -) and amplitude.
    width_s: pulse width [s]; energy_per_v2_j: pulse energy per V^2 [J / V^2] (`DWSynapse.programming_energy`).
    g_mean_s, g_std_s: [S] mean and thermal sd [S] of the read conductance of walls pinned at each notch.
    stranded_fraction: fraction of walls that ended between notches (counted in the nearest notch).
    replicas: walls per (polarity, amplitude, start); source: the device's registry name.
    """

    amplitudes_v: torch.Tensor
    probs: torch.Tensor
    width_s: float
    energy_per_v2_j: float
    g_mean_s: torch.Tensor
    g_std_s: torch.Tensor
    stranded_fraction: float
    replicas: int
    source: str = "dw-straight"

    @property
    def n_notches(self) -> int:
        return int(self.probs.shape[-1])

    def to_dict(self) -> dict[str, Any]:
        """Tensors, numbers and strings only (for `RunContext.cached`); `from_dict` inverts it."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NotchTransitionTable:
        return cls(**d)

    def displacement_pmf(self) -> torch.Tensor:
        """[2, A, D + 1]: P(displacement d toward the pulse's side), d = 0 .. D = S - 2, from an interior start
        (see the module docstring); a backward move counts as 0."""
        s = self.n_notches
        start = 1 if s >= 3 else 0
        d_max = s - 1 - start
        up = self.probs[0, :, start, start:]  # finals start .. S-1
        down = self.probs[1, :, s - 1 - start, : s - start].flip(-1)  # finals S-1-start .. 0
        out = torch.stack([up, down])
        back = torch.stack([self.probs[0, :, start, :start].sum(-1), self.probs[1, :, s - 1 - start, s - start:].sum(-1)])
        out[..., 0] += back
        return out[..., : d_max + 1]


def build_transition_table(device: Any = None, *, amplitudes_v: torch.Tensor | None = None, width_s: float = 50e-9,
                           replicas: int = 128, seed: int = TABLE_SEED) -> NotchTransitionTable:
    """Measure a `NotchTransitionTable` on ``device`` (a voltage-driven notched `DWSynapse`; default
    `dw-straight`) over ``amplitudes_v`` [V] (default 1.2 .. 2.0 V in 17 steps, which spans the straight
    track's 300 K window: no hop below 1.25 V, every wall at the last notch above 1.85 V), pulses of
    ``width_s`` [s], ``replicas`` thermal walls per cell, one vectorised ``apply``."""
    from ..physics.dw_tracks import near_notch
    from .base import make_device

    dev = make_device("dw-straight") if device is None else device
    xs = sorted(dev.config.track.notch_positions_m)
    if len(xs) < 2:
        raise ConfigError(f"device {dev.name!r} needs at least two notches for a transition table")
    check_int("replicas (walls per table cell)", replicas, 1, 100_000)
    amps = torch.linspace(1.2, 2.0, 17, dtype=torch.float64) if amplitudes_v is None else \
        torch.as_tensor(amplitudes_v, dtype=torch.float64)
    if amps.dim() != 1 or bool((amps <= 0).any()) or not bool((amps[1:] > amps[:-1]).all()):
        raise ConfigError("amplitudes_v must be strictly ascending and > 0 V")
    s, a, r = len(xs), amps.numel(), int(replicas)
    pol = torch.tensor([1.0, -1.0], dtype=torch.float64).view(2, 1, 1, 1)
    amp = (pol * amps.view(1, a, 1, 1)).expand(2, a, s, r).reshape(-1)
    q0 = torch.tensor(xs, dtype=torch.float64).view(1, 1, s, 1).expand(2, a, s, r).reshape(-1)
    gen = torch.Generator().manual_seed(int(seed))
    st = dev.init_state((amp.numel(),), generator=gen)
    st["q"] = q0.clone()
    st, _ = dev.apply(st, Pulses(amp, width_s=width_s, kind="voltage"), generator=gen)
    final = dev.notch_index(st["q"])
    on = torch.from_numpy(near_notch(dev.config.track, st["q"].numpy(), 2.0))
    counts = torch.nn.functional.one_hot(final, s).to(torch.float64).reshape(2, a, s, r, s).sum(3)
    probs = torch.cat([torch.eye(s, dtype=torch.float64).expand(2, 1, s, s), counts / r], dim=1)
    g = dev.conductance(st)
    g_mean, g_std = torch.full((s,), float("nan"), dtype=torch.float64), torch.full((s,), float("nan"), dtype=torch.float64)
    for k in range(s):  # a loop over notches only
        gk = g[(final == k) & on]
        if gk.numel():
            g_mean[k], g_std[k] = gk.mean(), gk.std(unbiased=False)
    return NotchTransitionTable(torch.cat([torch.zeros(1, dtype=torch.float64), amps]), probs, float(width_s),
                                float(dev.programming_energy(1.0, width_s, "voltage")), g_mean, g_std,
                                float(1.0 - on.double().mean()), r, dev.name)


_TABLES: dict[tuple, NotchTransitionTable] = {}


def cached_table(source: str = "dw-straight", v_min_v: float = 1.2, v_max_v: float = 2.0, n_amplitudes: int = 17,
                 width_s: float = 50e-9, replicas: int = 128, seed: int = TABLE_SEED) -> NotchTransitionTable:
    """`build_transition_table` on the default ``source`` device, measured once per process per argument set."""
    key = (source, float(v_min_v), float(v_max_v), int(n_amplitudes), float(width_s), int(replicas), int(seed))
    if key not in _TABLES:
        from .base import make_device

        amps = torch.linspace(v_min_v, v_max_v, n_amplitudes, dtype=torch.float64)
        _TABLES[key] = build_transition_table(make_device(source), amplitudes_v=amps, width_s=width_s,
                                              replicas=replicas, seed=seed)
    return _TABLES[key]


class NotchLevelModel:
    """The jump law of a device with ``n_levels`` notches built from ``table`` (module docstring); tensors on
    ``device``."""

    def __init__(self, table: NotchTransitionTable, n_levels: int, device: torch.device | str | None = None) -> None:
        self.table, self.n = table, int(n_levels)
        self.full = self.n == table.n_notches
        self.amps = table.amplitudes_v.to(device)
        p = table.probs if self.full else table.displacement_pmf()
        self.cdf = p.cumsum(-1).to(device)
        self.best = self._best_amplitudes(p).to(device)

    def _best_amplitudes(self, p: torch.Tensor) -> torch.Tensor:
        """Grid index of the pulse most likely to land on the target: [S, S] (start, target) for the full table,
        else [N, 2] (distance k, target at the track end in that direction)."""
        if self.full:
            idx = torch.arange(self.n)
            s_, f_, t_ = idx.view(-1, 1, 1), idx.view(1, -1, 1), idx.view(1, 1, -1)
            up = t_ > s_  # [start, 1, target]
            between = torch.where(up, (f_ > s_) & (f_ <= t_), (f_ < s_) & (f_ >= t_))  # no overshoot
            pp = torch.where(up, p[0].unsqueeze(-1), p[1].unsqueeze(-1))  # [A, start, final, target]
            prog = (pp * between * (f_ - s_).abs().to(p.dtype)).sum(-2)
            land = torch.where(up.squeeze(1), p[0], p[1])  # [A, start, target]: final = target
            return self._argmax(land, prog)
        d = torch.arange(p.shape[-1], dtype=p.dtype)
        k = torch.arange(self.n).view(-1, 1)
        tail = p.flip(-1).cumsum(-1).flip(-1)  # P(d >= j)
        kk = k.clamp(max=p.shape[-1] - 1).view(-1)
        exact = torch.where(k.view(1, 1, -1) < p.shape[-1], p[..., kk], torch.zeros(()))  # [2, A, N]
        at_end = torch.where(k.view(1, 1, -1) < p.shape[-1], tail[..., kk], torch.zeros(()))
        prog = (p[..., None, :] * torch.minimum(d, k.to(p.dtype)) * (d <= k)).sum(-1)  # [2, A, N]
        land = torch.stack([exact, at_end], -1)  # [2, A, N, 2]
        return self._argmax(land, prog[..., None].expand_as(land))  # [2, N, 2]

    @staticmethod
    def _argmax(land: torch.Tensor, prog: torch.Tensor) -> torch.Tensor:
        """Argmax over the amplitude axis (dim -3 or 1) of the landing probability, or of the expected progress
        where no amplitude can land; the 0-V entry never wins."""
        dim = 0 if land.dim() == 3 else 1
        land, prog = land.clone(), prog.clone()
        land.select(dim, 0).fill_(-1.0)
        prog.select(dim, 0).fill_(-1.0)
        use_prog = land.amax(dim, keepdim=True) <= 1e-12
        return torch.where(use_prog, prog, land).argmax(dim)

    def best_index(self, start: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Amplitude-grid index of the write-and-verify pulse from ``start`` to ``target`` (int64 tensors)."""
        if self.full:
            return self.best[start, target]
        up = target > start
        end = torch.where(up, target == self.n - 1, target == 0).to(torch.int64)
        return self.best[(~up).to(torch.int64), (target - start).abs(), end]

    def step(self, start: torch.Tensor, amplitude_v: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Notch after one pulse of signed ``amplitude_v`` [V] from ``start`` (int64); amplitudes between grid
        points interpolate the CDFs linearly, beyond the grid take its last point."""
        a = amplitude_v.abs().to(self.amps.dtype)
        k0 = (torch.bucketize(a, self.amps) - 1).clamp(0, self.amps.numel() - 2)
        w = ((a - self.amps[k0]) / (self.amps[k0 + 1] - self.amps[k0])).clamp(0.0, 1.0).unsqueeze(-1)
        pol = (amplitude_v < 0).to(torch.int64)
        if self.full:
            cdf = (1 - w) * self.cdf[pol, k0, start] + w * self.cdf[pol, k0 + 1, start]
        else:
            cdf = (1 - w) * self.cdf[pol, k0] + w * self.cdf[pol, k0 + 1]
        u = torch.rand(start.shape, generator=generator, dtype=cdf.dtype, device=start.device).unsqueeze(-1)
        jump = (u >= cdf[..., :-1]).sum(-1)
        if self.full:
            return torch.where(amplitude_v == 0, start, jump)
        return (start + torch.where(pol == 1, -jump, jump)).clamp(0, self.n - 1)

    def pulse_energy(self, amplitude_v: torch.Tensor) -> torch.Tensor:
        """Energy [J] of one pulse of ``amplitude_v`` [V] (E ~ V^2 on the DW write path)."""
        return self.table.energy_per_v2_j * amplitude_v.to(torch.float64) ** 2


def write_verify(model: NotchLevelModel | NotchTransitionTable, target_index: torch.Tensor, *, max_pulses: int,
                 generator: torch.Generator | None = None, start_index: torch.Tensor | None = None,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Write-and-verify every device (any shape) from ``start_index`` (default notch 0) to ``target_index``:
    one pulse per verify cycle toward the target (`NotchLevelModel.best_index`) until all are on target or
    ``max_pulses``. A table is used with its own notch count. Returns (final notch int64, pulses used int64,
    energy [J] float64)."""
    m = model if isinstance(model, NotchLevelModel) else NotchLevelModel(model, model.n_notches)
    check_int("max_pulses (verify cycles)", max_pulses, 0, 10**7)
    target = torch.as_tensor(target_index).to(torch.int64)
    if bool((target < 0).any()) or bool((target >= m.n).any()):
        raise ConfigError(f"target_index must lie in [0, {m.n - 1}]")
    idx = (torch.zeros_like(target) if start_index is None else torch.as_tensor(start_index).to(target)).reshape(-1).clone()
    tgt = target.reshape(-1).to(idx.device)
    pulses = torch.zeros_like(idx)
    energy = torch.zeros(idx.shape, dtype=torch.float64, device=idx.device)
    for _ in range(max_pulses):
        todo = (idx != tgt).nonzero().squeeze(1)
        if todo.numel() == 0:
            break
        s, t = idx[todo], tgt[todo]
        amp = m.amps[m.best_index(s, t)] * torch.where(t > s, 1.0, -1.0).to(m.amps.dtype)
        idx[todo] = m.step(s, amp, generator)
        pulses[todo] += 1
        energy[todo] += m.pulse_energy(amp)
    shape = target.shape
    return idx.reshape(shape), pulses.reshape(shape), energy.reshape(shape)


@dataclass(frozen=True)
class NotchLevelsConfig:
    """Attributes:
    n_levels: notches = conductance levels per device (paper 002: 2^(N-1) for an N-bit signed weight; 5 measured).
    g_min_s: conductance of the first notch [S] (paper 002 Methods: 0.94 mS).
    g_max_s: conductance of the last notch [S] (paper 002 Methods: 1.1 mS).
    write_noise_s: sigma [S] of the Gaussian cycle-to-cycle conductance error, re-drawn at every write
        (paper 002 Fig. 6a: 2.53 uS).
    d2d_spread: relative device-to-device sigma of each device's conductance scale (drawn in ``init_state``).
    nominal_amplitude_v: |V| [V] of `nominal_pulses`; None = the grid amplitude most likely to hop one notch.
    source: device the transition table is measured on (`dw-straight`: paper 002's straight track).
    v_min_v: lowest amplitude of the table's grid [V].
    v_max_v: highest amplitude of the table's grid [V].
    n_amplitudes: points of the table's amplitude grid.
    pulse_width_s: pulse width [s] (paper 002: 50 ns).
    table_replicas: thermal walls per table cell.
    table_seed: seed of the table's thermal field.
    """

    n_levels: int = 5
    g_min_s: float = 0.94e-3
    g_max_s: float = 1.1e-3
    write_noise_s: float = 2.53e-6
    d2d_spread: float = 0.0
    nominal_amplitude_v: float | None = None
    source: str = "dw-straight"
    v_min_v: float = 1.2
    v_max_v: float = 2.0
    n_amplitudes: int = 17
    pulse_width_s: float = 50e-9
    table_replicas: int = 128
    table_seed: int = TABLE_SEED

    def __post_init__(self) -> None:
        check_int("n_levels (notches per device)", self.n_levels, 2, 4096)
        check_range("g_min_s (first-notch conductance)", self.g_min_s, 0.0, 1.0, unit="S")
        check_range("g_max_s (last-notch conductance)", self.g_max_s, 0.0, 1.0, unit="S")
        check_order("g_min_s", self.g_min_s, "g_max_s", self.g_max_s, unit="S")
        check_range("write_noise_s (cycle-to-cycle sigma)", self.write_noise_s, 0.0, 1e-3, unit="S")
        check_range("d2d_spread (relative device-to-device sigma)", self.d2d_spread, 0.0, 0.5)
        check_choice("source", self.source, SOURCES)
        check_range("v_min_v (lowest table amplitude)", self.v_min_v, 0.0, 50.0, unit="V", lo_open=True)
        check_range("v_max_v (highest table amplitude)", self.v_max_v, 0.0, 50.0, unit="V", lo_open=True)
        check_order("v_min_v", self.v_min_v, "v_max_v", self.v_max_v, unit="V")
        check_int("n_amplitudes (table grid points)", self.n_amplitudes, 2, 201)
        check_range("pulse_width_s", self.pulse_width_s, 1e-10, 1e-6, unit="s")
        check_int("table_replicas (walls per table cell)", self.table_replicas, 1, 100_000)
        check_int("table_seed", self.table_seed, 0, 2**63 - 1)
        if self.nominal_amplitude_v is not None:
            check_range("nominal_amplitude_v", self.nominal_amplitude_v, self.v_min_v, self.v_max_v, unit="V")


@register_device("dw-notch-levels")
class NotchLevels(Device):
    """Notched straight DW-MTJ weight device: ``n_levels`` notches over [0.94, 1.1] mS, programmed by table.

    State: ``DeviceState(notch int64, dg [S] (error of the last write), scale (device-to-device factor),
    n_pulses int64 (pulses received))``; see the module docstring."""

    config: NotchLevelsConfig
    is_synapse = True

    def __init__(self, config: NotchLevelsConfig | None = None, *, table: NotchTransitionTable | None = None,
                 **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self._table = table

    @classmethod
    def config_class(cls) -> type:
        return NotchLevelsConfig

    @property
    def table(self) -> NotchTransitionTable:
        """The transition table (given, or measured once per process from the config)."""
        if self._table is None:
            c = self.config
            self._table = cached_table(c.source, c.v_min_v, c.v_max_v, c.n_amplitudes, c.pulse_width_s,
                                       c.table_replicas, c.table_seed)
        return self._table

    def model(self, device: torch.device | str | None = None) -> NotchLevelModel:
        """`NotchLevelModel` of ``n_levels`` on ``device`` (cached)."""
        key = str(torch.device(device or "cpu"))
        cache = self.__dict__.setdefault("_models", {})
        if key not in cache:
            cache[key] = NotchLevelModel(self.table, self.config.n_levels, device)
        return cache[key]

    @property
    def nominal_amplitude_v(self) -> float:
        if self.config.nominal_amplitude_v is not None:
            return float(self.config.nominal_amplitude_v)
        pmf = self.table.displacement_pmf()
        return float(self.table.amplitudes_v[int(pmf[:, :, 1].mean(0).argmax())])

    def _noise(self, shape, generator, device) -> torch.Tensor:
        """Write errors [S] (no draw at sigma 0)."""
        z = torch.zeros(shape, dtype=torch.float64, device=device)
        return z if self.config.write_noise_s == 0 else z.normal_(0.0, self.config.write_noise_s, generator=generator)

    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        """Walls at the first notch (G_min), each read with the error of its initialising write."""
        shape = tuple(shape)
        return DeviceState(notch=torch.zeros(shape, dtype=torch.int64, device=device),
                           dg=self._noise(shape, generator, device),
                           scale=draw_spread(1.0, self.config.d2d_spread, shape, generator, device, torch.float64),
                           n_pulses=torch.zeros(shape, dtype=torch.int64, device=device))

    def conductance(self, state: DeviceState) -> torch.Tensor:
        lv = self.levels().to(state["dg"].device)
        return (lv[state["notch"]] * state["scale"] + state["dg"]).clamp_min(0.0)

    def _written(self, state: DeviceState, notch: torch.Tensor, pulses: torch.Tensor, generator) -> DeviceState:
        out = DeviceState(state)
        hit = pulses > 0
        out["notch"], out["n_pulses"] = notch, state["n_pulses"] + pulses
        out["dg"] = state["dg"].clone()
        out["dg"][hit] = self._noise((int(hit.sum()),), generator, notch.device)
        return out

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        if pulses.kind != "voltage" or not bool((torch.as_tensor(pulses.width_s) - self.table.width_s).abs().max()
                                                <= 1e-6 * self.table.width_s):
            raise ConfigError(f"dw-notch-levels takes {self.table.width_s:g} s voltage pulses (its table), got "
                              f"{pulses.kind} pulses of {pulses.width_s} s")
        notch = state["notch"]
        amp, count = pulses.amplitude_like(state["dg"]), pulses.count_like(notch)
        m, flat = self.model(notch.device), notch.reshape(-1).clone()
        a, c = amp.reshape(-1), count.reshape(-1)
        for k in range(int(c.max()) if c.numel() else 0):  # a loop over pulse indices, not devices
            act = (c > k).nonzero().squeeze(1)
            flat[act] = m.step(flat[act], a[act], generator)
        energy = torch.where(count > 0, m.pulse_energy(amp) * count, torch.zeros_like(amp))
        return self._written(state, flat.reshape(notch.shape), count, generator), energy

    def nominal_pulses(self, direction) -> Pulses:
        d = torch.as_tensor(direction)
        return Pulses(amplitude=self.nominal_amplitude_v * d.sign().to(torch.float64), width_s=self.table.width_s,
                      count=(d != 0).to(torch.int64), kind="voltage")

    def conductance_range(self) -> tuple[float, float]:
        return (float(self.config.g_min_s), float(self.config.g_max_s))

    def levels(self) -> torch.Tensor:
        """The ``n_levels`` notch conductances [S], evenly spaced over [g_min_s, g_max_s]."""
        c = self.config
        return torch.linspace(c.g_min_s, c.g_max_s, c.n_levels, dtype=torch.float64)

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        s = self.init_state(shape, generator=generator)
        s["notch"] = torch.full_like(s["notch"], (self.config.n_levels - 1) // 2)
        return s

    def program_levels(self, state: DeviceState, target_index: torch.Tensor, *, max_pulses: int = 50,
                       generator=None) -> tuple[DeviceState, torch.Tensor, torch.Tensor]:
        """Write-and-verify to notch ``target_index`` (`write_verify`); every pulsed device gets a new write
        error. Returns (state, energy [J], pulses used)."""
        m = self.model(state["notch"].device)
        final, n, e = write_verify(m, target_index, max_pulses=max_pulses, generator=generator,
                                   start_index=state["notch"])
        return self._written(state, final, n, generator), e, n

    def program(self, state, target_g, *, tolerance_s=None, max_iterations=50, generator=None):
        """`program_levels` to the level nearest ``target_g`` [S] (``max_iterations`` pulses at most); converged
        where |G - target| <= ``tolerance_s`` (default half the smaller mean step, as `Device.program`)."""
        if not isinstance(max_iterations, int) or max_iterations < 0:
            raise ConfigError(f"program: max_iterations must be an int >= 0, got {max_iterations!r}")
        tol = 0.5 * min(self.mean_step(1), self.mean_step(-1)) if tolerance_s is None else float(tolerance_s)
        lv = self.levels().to(state["dg"].device)
        target = torch.as_tensor(target_g, dtype=torch.float64, device=lv.device).expand(state["notch"].shape)
        idx = torch.bucketize(target, 0.5 * (lv[1:] + lv[:-1]))
        new, e, _ = self.program_levels(state, idx, max_pulses=max_iterations, generator=generator)
        return new, e, (self.conductance(new) - target).abs() <= tol


__all__ = ["SOURCES", "NotchLevelModel", "NotchLevels", "NotchLevelsConfig", "NotchTransitionTable",
           "build_transition_table", "cached_table", "write_verify"]
