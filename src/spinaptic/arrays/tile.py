"""An analog tile: one device type, a G+ / G- pair per weight, a crossbar read and outer-product updates
executed as device programming.

Weights ``W`` [out, in] (``nn.Linear`` layout) live in the conductances of two devices per weight,

    W = (G+ - G-) / g_per_weight,   g_per_weight = (G_max - G_min) / w_max

with (G_min, G_max) the device's `conductance_range`. Initial weights are programmed by write-and-verify on
the weights (`AnalogTile.program_weights`), starting from the window centre (``reference="mid"``, the default:
both halves can then move both ways) or from the fresh devices (``reference="min"``: a DW track starts at
its first notch, so zero weights cost no pulse).

**Read** (`AnalogTile.mvm`): signed inputs are applied in two phases (positive and negative parts, each
normalised by max |x| of its vector to a drive in [0, 1] of V_read) on `arrays.crossbar.Crossbar`, so each
phase has that module's Johnson, shot and amplifier noise and Joule read energy; an optional ADC clips the
normalised column output to +-``adc_full_scale`` and quantises it to ``2**adc_bits`` levels.

**Update** (`AnalogTile.update`): a requested Delta-W becomes a conductance change Delta-W g_per_weight on
the half with more headroom in the needed direction (G+ up or G- down for Delta-W > 0, the reverse for
Delta-W < 0: the complementary update, so the pair re-centres itself and neither half saturates), as a
signed pulse count n = Delta-G / mean step of that device and direction (`Device.mean_step`), rounded by
``update_rule``:

* ``"stochastic"`` (default): floor(n) + Bernoulli(frac(n)). Unbiased (E[pulses] = n), so updates much
  smaller than one device step still move the weights on average, which is what SGD with small learning
  rates on coarse devices (2-level DW tracks, binary magnets) needs; aihwkit and CrossSim default to
  stochastic pulsing for the same reason.
* ``"deterministic"``: round(n) (ties to even); reproduces float SGD exactly when every Delta-W is a
  multiple of the step, and drops every update below half a step.
* ``"pulse-train"``: coincident stochastic pulse trains (aihwkit's default analog SGD, Gokmen & Vlasov 2016,
  CrossSim's stochastic update): `AnalogTile.pulse_train_update` takes the outer-product factors (inputs x
  and errors d of a batch), sends Bernoulli bit streams of length ``pulse_train_length`` on rows and
  columns, and every coincidence is one pulse, E[Delta-W] = lr sum_b d_b x_b^T (update management balances
  the two streams). The tile never forms Delta-W; a Delta-W given to `update` is stochastically rounded.
* ``"fractional"``: CrossSim's lookup-table update (paper 003 trained this way): no pulse counting; each
  device with a non-zero request moves by the requested Delta-G (capped at its headroom) through one draw
  of the device scaled to that fraction of a mean step (`Device.program_fractional`: mean and variance of
  m pulses for m = |Delta-G| / mean step). Lookup-table devices only.

Counts are limited to the pulses that fit before the device's nominal bound; the device's own stochastic
response realises them (`Device.program_counts`), clipping physically at its limits, and the programming energy is the sum of
`apply`'s energies. Everything is vectorised: one `program_counts` call programs the whole tile.

**Periodic carry** (``n_significance`` > 1; Agarwal et al. 2017, CrossSim's "periodic carry"): each weight
has several G+ / G- pairs, pair k counting ``significance_base**k`` times pair 0. Updates go to pair 0; every
``carry_every`` updates each pair whose |weight| reaches ``carry_threshold`` of its range hands the whole
number of next-pair steps it holds to the next pair (programmed there, and programmed away from it), so the
fine pair keeps headroom and the coarse pairs give the range. The pairs are read as separate crossbars whose
outputs are combined with their significances.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from ..config import ConfigError, check_choice, check_int, check_positive
from ..devices.base import Device, DeviceState, State, make_device
from .crossbar import Crossbar, CrossbarConfig
from .fused_update import DETERMINISTIC, FRACTIONAL, STOCHASTIC, FusedTableUpdate

UPDATE_RULES = ("stochastic", "deterministic", "pulse-train", "fractional")
REFERENCES = ("mid", "min")


@dataclass(frozen=True)
class TileConfig:
    """Attributes:
    device: registered device name (`devices.device_names`).
    device_overrides: fields of the device's config to change (JSON scalars), e.g. ``{"n_magnets": 15}``.
    w_max: largest |weight|, a full-window difference G_max - G_min on every pair (> 0); None =
        2 max |W_init| (1.0 for all-zero initial weights), fixed when the tile is built.
    reference: where initial programming starts: "mid" (every device pulsed to the window centre first) or
        "min" (the fresh devices as `init_state` leaves them, G_min for most).
    update_rule: "stochastic" (default, unbiased) or "deterministic" rounding of pulse counts, or
        "pulse-train" (coincident stochastic pulse trains from the outer-product factors).
    pulse_train_length: bits per stream of the "pulse-train" rule (aihwkit's BL).
    read_noise: read through the crossbar's noise model (``crossbar``); False = noiseless reads.
    crossbar: read voltage, read time and noise terms (`arrays.crossbar.CrossbarConfig`).
    adc_bits: ADC resolution of each column output (None = no ADC).
    adc_full_scale: ADC range +- this many w_max x max|x| units of dot product (aihwkit's out_bound).
    program_tolerance: write-and-verify of the initial weights stops within this fraction of one device
        step (at least half a level spacing on a discrete device).
    program_iterations: verify cycles of the initial programming (0 = open loop only).
    n_significance: device pairs per weight (1 = no carry); pair k counts ``significance_base**k`` times
        pair 0, and the pairs together span +-w_max.
    significance_base: significance ratio of consecutive pairs (> 1).
    carry_every: updates between two periodic carries (>= 1).
    carry_threshold: a pair whose |weight| reaches this fraction of its range is carried into the next one.
    """

    device: str = "ideal"
    device_overrides: Mapping[str, Any] = field(default_factory=dict)
    w_max: float | None = None
    reference: str = "mid"
    update_rule: str = "stochastic"
    pulse_train_length: int = 31
    read_noise: bool = True
    crossbar: CrossbarConfig = field(default_factory=CrossbarConfig)
    adc_bits: int | None = None
    adc_full_scale: float = 12.0
    program_tolerance: float = 0.5
    program_iterations: int = 10
    n_significance: int = 1
    significance_base: float = 4.0
    carry_every: int = 10
    carry_threshold: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.device, str) or not self.device:
            raise ConfigError(f"device must be a registered device name, got {self.device!r}")
        if not isinstance(self.device_overrides, Mapping):
            raise ConfigError("device_overrides must be a mapping of device config fields")
        object.__setattr__(self, "device_overrides", dict(self.device_overrides))
        if self.w_max is not None:
            check_positive("w_max (weight of a full conductance window)", self.w_max)
        check_choice("reference", self.reference, REFERENCES)
        check_choice("update_rule", self.update_rule, UPDATE_RULES)
        check_int("pulse_train_length (bits per pulse train)", self.pulse_train_length, 1, 4096)
        if not isinstance(self.crossbar, CrossbarConfig):
            raise ConfigError(f"crossbar must be a CrossbarConfig, got {type(self.crossbar).__name__}")
        if self.adc_bits is not None:
            check_int("adc_bits", self.adc_bits, 1, 24)
        check_positive("adc_full_scale", self.adc_full_scale)
        check_positive("program_tolerance (fraction of a device step)", self.program_tolerance)
        check_int("program_iterations (verify cycles of initial programming)", self.program_iterations, 0, 10_000)
        check_int("n_significance (device pairs per weight)", self.n_significance, 1, 8)
        if not self.significance_base > 1:
            raise ConfigError(f"significance_base must be > 1, got {self.significance_base!r}")
        check_int("carry_every (updates between carries)", self.carry_every, 1, 10**9)
        from ..config import check_range

        check_range("carry_threshold (fraction of a pair's range)", self.carry_threshold, 0.0, 1.0, lo_open=True)

    def make_device(self) -> Device:
        return make_device(self.device, **self.device_overrides)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TileConfig:
        """Inverse of `config.to_dict` (nested crossbar config included)."""
        d = dict(d)
        if isinstance(d.get("crossbar"), Mapping):
            d["crossbar"] = CrossbarConfig(**d["crossbar"])
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"unknown TileConfig fields: {', '.join(sorted(unknown))}")
        return cls(**d)


# ------------------------------------------------------------------------------------------ the tile
class AnalogTile:
    """A [out, in] weight matrix on G+ / G- device pairs (see the module docstring).

    Args:
        shape: (out_features, in_features).
        config: `TileConfig`.
        weights: initial weights [out, in] (default zeros), programmed at construction.
        device: a ready device instance instead of ``config.device`` (e.g. a lookup-table device built
            from a table object).
        generator: RNG of device-to-device variation and initial programming.
        fused: allow the compiled update path of lookup-table devices (`arrays.fused_update`; same rule and
            distribution as the generic path, different random streams). False forces the generic path.

    State: ``self.state``, the device state of shape (n_significance, 2, out, in) (pair k of significance
    b^k, index 0 = G+, 1 = G-); its tensors are updated in place, so a module can register them as buffers
    (`state_tensors`).
    """

    def __init__(self, shape: tuple[int, int], config: TileConfig | None = None, *,
                 weights: torch.Tensor | None = None, device: Device | None = None,
                 generator: torch.Generator | None = None, tensor_device: torch.device | str | None = None,
                 fused: bool = True) -> None:
        self.config = config or TileConfig()
        self.fused = bool(fused)
        if len(shape) != 2:
            raise ConfigError(f"tile shape must be (out, in), got {shape!r}")
        self.shape = (int(shape[0]), int(shape[1]))
        self.device = device if device is not None else self.config.make_device()
        lo, hi = self.device.conductance_range()
        self.g_min, self.g_max = float(min(lo, hi)), float(max(lo, hi))
        if weights is None:
            weights = torch.zeros(self.shape, dtype=torch.float64)
        weights = torch.as_tensor(weights).detach().to(torch.float64)
        if tuple(weights.shape) != self.shape:
            raise ConfigError(f"initial weights have shape {tuple(weights.shape)}, tile is {self.shape}")
        amax = float(weights.abs().max()) if weights.numel() else 0.0
        self.w_max = float(self.config.w_max) if self.config.w_max is not None else (2.0 * amax if amax > 0 else 1.0)
        self._set_w_max(self.w_max)
        if not getattr(type(self.device), "is_synapse", False):
            raise ConfigError(f"device {self.device.name!r} is not a synapse device (devices.synapse_device_names())")
        if self.config.update_rule == "fractional" and not type(self.device).supports_fractional():
            raise ConfigError(f"update_rule 'fractional' needs a device with fractional programming (lookup-table); "
                              f"{self.device.name!r} has none: use 'stochastic' or 'deterministic'")
        self.step_up, self.step_down = float(self.device.mean_step(1)), float(self.device.mean_step(-1))
        lv = self.device.levels()
        self.levels = None if lv is None else torch.as_tensor(lv, dtype=torch.float64).flatten().sort().values
        self.n_pairs = self.config.n_significance
        self.state = self.device.init_state((self.n_pairs, 2, *self.shape), generator=generator, device=tensor_device)
        self._cache_key: tuple | None = None
        self._g: torch.Tensor | None = None
        self._w_key: tuple | None = None
        self._w32: torch.Tensor | None = None
        self._row_g: torch.Tensor | None = None
        self._fused: FusedTableUpdate | None = None
        self._generation = 0
        self._xbars: tuple[tuple, list[Crossbar]] | None = None
        self._fused_w_max: float | None = None
        self.program_energy_j = 0.0
        self.n_updates = 0
        self.n_carries = 0
        self.program_weights(weights.to(self._g_tensor().device), generator=generator)

    def _set_w_max(self, w_max: float) -> None:
        """Weight ranges of the significance pairs: pair k spans +-w_max b^k / sum_j b^j."""
        self.w_max = float(w_max)
        b, p = self.config.significance_base, self.config.n_significance
        sig = torch.tensor([b**k for k in range(p)], dtype=torch.float64)
        self.pair_w_max = self.w_max * sig / sig.sum()
        self.pair_g_per_weight = (self.g_max - self.g_min) / self.pair_w_max
        self.g_per_weight = float(self.pair_g_per_weight[0])
        self._w_key = None

    # ---------------------------------------------------------------- device state
    def _state_key(self) -> tuple:
        """Changes whenever the state does: tensor identities and versions, and a generation counter for the
        compiled path (it writes through numpy views, which torch's version counters do not see)."""
        return (self._generation, *((id(t), t._version) for t in self.state_tensors().values()))

    def _after_fused(self) -> None:
        """After a compiled update: new generation; the weight cache, updated in place, stays valid."""
        self._generation += 1
        self._w_key = self._state_key()

    def _fused_path(self) -> FusedTableUpdate | None:
        """The compiled update path (`arrays.fused_update`) when the device and state allow it, else None."""
        if not (self.fused and FusedTableUpdate.supports(self.device, self.state)):
            return None
        if self._fused is None or self._fused_w_max != self.w_max:
            self._fused = FusedTableUpdate(self.device, g_min=self.g_min, g_max=self.g_max, step_up=self.step_up,
                                           step_down=self.step_down, pair_g_per_weight=self.pair_g_per_weight,
                                           pair_w_max=self.pair_w_max)
            self._fused_w_max = self.w_max
        return self._fused

    def _mode(self) -> int:
        rule = self.config.update_rule
        return FRACTIONAL if rule == "fractional" else DETERMINISTIC if rule == "deterministic" else STOCHASTIC

    def weight_cache(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W [out, in] float32, read-energy row sums sum over pairs, halves and outputs of G [S], [in]
        float64): recomputed when the state tensors change, updated in place by the fused update path. Do not
        modify."""
        key = self._state_key()
        if key != self._w_key or self._w32 is None:
            g = self._g_tensor()
            w = self.weights().to(torch.float32)
            if self._w32 is not None and self._w32.shape == w.shape and self._w32.device == w.device:
                self._w32.copy_(w)  # in place: a layer's parameter may share this storage
            else:
                self._w32 = w.contiguous()
            self._row_g = g.sum(dim=(0, 1, 2)).contiguous()
            self._w_key = key
        return self._w32, self._row_g

    def invalidate_weight_cache(self) -> None:
        """Recompute the weight cache from the conductances at its next use (after it was written to)."""
        self._w_key = None

    def _program_counts(self, counts: torch.Tensor, generator) -> torch.Tensor:
        new, energy = self.device.program_counts(self.state, counts, generator=generator)
        self._store(new)
        return energy

    def _store(self, new: State) -> None:
        """Write a new device state into the tile's tensors in place (buffers stay the same objects)."""
        if isinstance(self.state, torch.Tensor):
            self.state.copy_(new)
        else:
            for k, v in new.items():
                if k in self.state and self.state[k].shape == v.shape:
                    self.state[k].copy_(v)
                else:
                    self.state[k] = v
        self._cache_key = None

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The state tensors by name ("g" for a plain tensor state)."""
        return {"g": self.state} if isinstance(self.state, torch.Tensor) else dict(self.state)

    def set_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """Rebind the state to ``tensors`` (e.g. a module's buffers after ``.to(device)``)."""
        if isinstance(self.state, torch.Tensor):
            self.state = tensors["g"]
        else:
            self.state = DeviceState(dict(tensors))
        self._cache_key = None

    # ---------------------------------------------------------------- conductances and weights
    def _g_tensor(self) -> torch.Tensor:
        """Conductances [S], shape (n_significance, 2, out, in), cached until the state changes."""
        key = self._state_key()
        if key != self._cache_key or self._g is None:
            self._g = self.device.conductance(self.state).to(torch.float64, copy=True)
            self._cache_key = key
        return self._g

    def conductances(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(G+, G-) [S], each [out, in] ([n_significance, out, in] with carry)."""
        g = self._g_tensor()
        if self.n_pairs == 1:
            return g[0, 0], g[0, 1]
        return g[:, 0], g[:, 1]

    def pair_weights(self) -> torch.Tensor:
        """Weight held by each significance pair, (G+_k - G-_k) / g_per_weight_k, [n_significance, out, in]."""
        g = self._g_tensor()
        return (g[:, 0] - g[:, 1]) / self._gpw(g)

    def _gpw(self, ref: torch.Tensor) -> torch.Tensor:
        return self.pair_g_per_weight.to(ref.device).reshape(-1, 1, 1)

    def weights(self) -> torch.Tensor:
        """Effective weights sum_k (G+_k - G-_k) / g_per_weight_k [out, in] (float64)."""
        return self.pair_weights().sum(0)

    @property
    def weight_step(self) -> float:
        """Mean weight change of one potentiating pulse on one device."""
        return self.step_up / self.g_per_weight

    def program_weights(self, w: torch.Tensor, *, generator: torch.Generator | None = None) -> float:
        """Program weights ``w`` [out, in]; returns the energy [J].

        With ``reference="mid"`` every device is first pulsed open-loop to the window centre (the level nearest
        to it on a discrete device); then write-and-verify on the *weights*: read W, program the error
        W_target - W as a deterministic update (`pulse_counts`), until every weight is within
        ``program_tolerance`` device steps (half a level spacing on a discrete device) or after
        ``program_iterations`` verify cycles.
        """
        w = torch.as_tensor(w).detach().to(torch.float64).to(self._g_tensor().device).clamp(-self.w_max, self.w_max)
        e = 0.0
        if self.config.reference == "mid":
            mid = torch.tensor(0.5 * (self.g_min + self.g_max), dtype=torch.float64)
            if self.levels is not None:
                mid = self._nearest(self.levels, mid)
            diff = mid.to(w.device) - self._g_tensor()
            counts = torch.round(diff / torch.where(diff > 0, self.step_up, self.step_down))
            if bool((counts != 0).any()):
                e += float(self._program_counts(counts.to(torch.int64), generator).sum())
        tol_g = self.config.program_tolerance * min(self.step_up, self.step_down)
        if self.levels is not None and self.levels.numel() > 1:
            tol_g = max(tol_g, 0.5 * float((self.levels[1:] - self.levels[:-1]).min()))
        # targets per pair: the most significant pair takes what it can hold, the next ones the residual
        targets, rest = [], w
        for k in reversed(range(self.n_pairs)):
            t = rest.clamp(-float(self.pair_w_max[k]), float(self.pair_w_max[k])) if k else rest
            targets.append(t)
            rest = rest - t
        target = torch.stack(targets[::-1])
        gpw = self._gpw(target)
        for _ in range(self.config.program_iterations):
            err = target - self.pair_weights()
            err = torch.where(err.abs() * gpw > tol_g, err, torch.zeros_like(err))
            counts = self._pair_counts(err, rule="deterministic")
            if not bool((counts != 0).any()):
                break
            e += float(self._program_counts(counts, generator).sum())
        self.program_energy_j += e
        return e

    def program_conductances(self, g_pos: torch.Tensor, g_neg: torch.Tensor, *, tolerance_s: float | None = None,
                             max_iterations: int | None = None,
                             generator: torch.Generator | None = None) -> tuple[float, torch.Tensor]:
        """Program target conductances [S] ([out, in] each) into the least significant pair's G+ and G- by
        the device's own write-and-verify (`Device.program`: pulses of the device, so its write variation
        lands in the result); for mappings that choose conductances themselves (e.g. a nonlinear level
        map). Returns (energy [J], converged flag per device [2, out, in])."""
        target = torch.stack([torch.as_tensor(g_pos), torch.as_tensor(g_neg)]).to(torch.float64)
        if tuple(target.shape[1:]) != self.shape:
            raise ConfigError(f"target conductances have shape {tuple(target.shape[1:])}, tile is {self.shape}")
        full = self._g_tensor().clone()
        full[0] = target.to(full.device)
        iters = self.config.program_iterations if max_iterations is None else max_iterations
        new, energy, ok = self.device.program(self.state, full, tolerance_s=tolerance_s, max_iterations=iters,
                                              generator=generator)
        self._store(new)
        e = float(energy.sum())
        self.program_energy_j += e
        return e, ok[0]

    @staticmethod
    def _nearest(lv: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        lv = lv.to(g.device)
        return lv[torch.bucketize(g, 0.5 * (lv[1:] + lv[:-1]))]

    # ---------------------------------------------------------------- update
    def pulse_counts(self, delta_w: torch.Tensor, *, generator: torch.Generator | None = None,
                     rule: str | None = None) -> torch.Tensor:
        """Signed pulse counts (int64, shape (n_significance, 2, out, in), + raises conductance) realising
        ``delta_w`` [out, in] on the least significant pair.

        Each weight's change goes to the half with more headroom in the needed direction (G+ up or G- down
        for Delta-W > 0, the reverse for Delta-W < 0), as n = |Delta-W| g_per_weight / mean step pulses,
        rounded by ``rule`` (default ``config.update_rule``) and limited to the pulses that fit before the
        device's nominal bound.
        """
        dw = torch.as_tensor(delta_w).detach().to(torch.float64).to(self._g_tensor().device)
        if tuple(dw.shape) != self.shape:
            raise ConfigError(f"delta_w has shape {tuple(dw.shape)}, tile is {self.shape}")
        full = torch.zeros((self.n_pairs, *self.shape), dtype=torch.float64, device=dw.device)
        full[0] = dw
        return self._pair_counts(full, generator=generator, rule=rule)

    def fractional_requests(self, delta_w: torch.Tensor) -> torch.Tensor:
        """Signed Delta-G requests [S] (shape (n_significance, 2, out, in)) of the "fractional" rule for
        ``delta_w`` [out, in] on the least significant pair: each weight's |Delta-W| g_per_weight on the half
        with more headroom (as `pulse_counts`), capped at that headroom."""
        dw = torch.as_tensor(delta_w).detach().to(torch.float64).to(self._g_tensor().device)
        if tuple(dw.shape) != self.shape:
            raise ConfigError(f"delta_w has shape {tuple(dw.shape)}, tile is {self.shape}")
        full = torch.zeros((self.n_pairs, *self.shape), dtype=torch.float64, device=dw.device)
        full[0] = dw
        return self._pair_requests(full)

    def _headroom(self, dw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The complementary choice for per-pair weight changes ``dw`` [n_significance, out, in]: (dw >= 0,
        True where G+ is programmed, headroom of G+ and of G- [S] in the needed direction)."""
        g = self._g_tensor()
        gp, gn = g[:, 0], g[:, 1]
        up = dw >= 0
        room_p = torch.where(up, self.g_max - gp, gp - self.g_min).clamp_min(0.0)
        room_n = torch.where(up, gn - self.g_min, self.g_max - gn).clamp_min(0.0)
        return up, room_p >= room_n, room_p, room_n

    def _pair_requests(self, dw: torch.Tensor) -> torch.Tensor:
        """`fractional_requests` for per-pair weight changes ``dw`` [n_significance, out, in]."""
        up, use_p, room_p, room_n = self._headroom(dw)
        a = torch.minimum(dw.abs() * self._gpw(dw), torch.where(use_p, room_p, room_n))
        signed = torch.where(use_p == up, a, -a)
        zero = torch.zeros_like(signed)
        return torch.stack([torch.where(use_p, signed, zero), torch.where(use_p, zero, signed)], dim=1)

    def _pair_counts(self, dw: torch.Tensor, *, generator: torch.Generator | None = None,
                     rule: str | None = None) -> torch.Tensor:
        """`pulse_counts` for per-pair weight changes ``dw`` [n_significance, out, in]."""
        rule = self.config.update_rule if rule is None else check_choice("rule", rule, UPDATE_RULES)
        up, use_p, room_p, room_n = self._headroom(dw)
        # G+ rises / G- falls for Delta-W > 0: the step of the direction the chosen device moves in
        step = torch.where(use_p == up, self.step_up, self.step_down)
        n = dw.abs() * self._gpw(dw) / step
        if rule != "deterministic":
            fl = torch.floor(n)
            u = torch.rand(n.shape, generator=generator, dtype=n.dtype, device=n.device)
            n = fl + (u < (n - fl)).to(n.dtype)
        else:
            n = torch.round(n)
        n = torch.minimum(n, torch.ceil(torch.where(use_p, room_p, room_n) / step))
        signed = torch.where(up, n, -n).to(torch.int64)
        zero = torch.zeros_like(signed)
        return torch.stack([torch.where(use_p, signed, zero), torch.where(use_p, zero, -signed)], dim=1)

    def update(self, delta_w: torch.Tensor, *, generator: torch.Generator | None = None) -> float:
        """Program the outer-product update ``delta_w`` [out, in] into the least significant pair (then a
        periodic carry every ``carry_every`` updates with ``n_significance > 1``); returns the programming
        energy [J]. Lookup-table devices on the CPU take the compiled path (`arrays.fused_update`)."""
        fused = self._fused_path()
        if fused is not None:
            dw = torch.as_tensor(delta_w).detach()
            if tuple(dw.shape) != self.shape:
                raise ConfigError(f"delta_w has shape {tuple(dw.shape)}, tile is {self.shape}")
            w, row_g = self.weight_cache()
            _, e = fused.dense(self.state, w, row_g, dw, self._mode(), generator)
            self._after_fused()
        elif self.config.update_rule == "fractional":
            dg = self.fractional_requests(delta_w)
            new, energy = self.device.program_fractional(self.state, dg, generator=generator)
            self._store(new)
            e = float(energy.sum())
        else:
            counts = self.pulse_counts(delta_w, generator=generator)
            e = float(self._program_counts(counts, generator).sum()) if bool((counts != 0).any()) else 0.0
        return self._after_update(e, generator)

    def update_outer(self, x: torch.Tensor, d: torch.Tensor, scale: float, *,
                     generator: torch.Generator | None = None) -> float:
        """Program Delta-W = scale sum_b d_b x_b^T (x [B, in] or [in], d [B, out] or [out]; an SGD step is
        scale = -lr with d = dL/dy). Same rule as `update`; for B = 1 on the compiled path Delta-W is never
        formed (only weights with x_j != 0 and d_i != 0 are visited). Returns the programming energy [J]."""
        x = x.detach().reshape(-1, self.shape[1])
        d = d.detach().reshape(-1, self.shape[0])
        if x.shape[0] != d.shape[0]:
            raise ConfigError(f"update_outer: {x.shape[0]} input vectors but {d.shape[0]} error vectors")
        fused = self._fused_path()
        if fused is None or x.shape[0] != 1 or x.device.type != "cpu":
            return self.update(scale * (d.to(torch.float64).T @ x.to(torch.float64)), generator=generator)
        w, row_g = self.weight_cache()
        _, e = fused.outer(self.state, w, row_g, x, d, scale, self._mode(), generator)
        self._after_fused()
        return self._after_update(e, generator)

    def _after_update(self, e: float, generator: torch.Generator | None) -> float:
        self.n_updates += 1
        if self.n_pairs > 1 and self.n_updates % self.config.carry_every == 0:
            e += self.carry(generator=generator)
        self.program_energy_j += e
        return e

    def pulse_train_update(self, x: torch.Tensor, d: torch.Tensor, lr: float, *,
                           generator: torch.Generator | None = None) -> float:
        """Coincident stochastic pulse trains for Delta-W = lr sum_b d_b x_b^T (x [B, in], d [B, out]; pass
        d = -dL/dy for gradient descent). Per sample b, row j fires with probability C_x |x_bj| and column i
        with C_d |d_bi| in each of BL = ``pulse_train_length`` slots, C_x C_d = lr / (BL dW_min) with
        C_x / C_d = sqrt(max|d_b| / max|x_b|) (update management); every coincidence is one pulse of sign
        sign(x_bj d_bi) on the least significant pair. Returns the programming energy [J]."""
        x = torch.as_tensor(x).detach().to(torch.float64).reshape(-1, self.shape[1])
        d = torch.as_tensor(d).detach().to(torch.float64).reshape(-1, self.shape[0])
        bl, dw_min = self.config.pulse_train_length, self.weight_step
        xm = x.abs().amax(1, keepdim=True).clamp_min(1e-300)
        dm = d.abs().amax(1, keepdim=True).clamp_min(1e-300)
        c = (abs(lr) / (bl * dw_min)) ** 0.5
        cx, cd = c * (dm / xm).sqrt(), c * (xm / dm).sqrt()
        px, pd = (cx * x.abs()).clamp_max(1.0), (cd * d.abs()).clamp_max(1.0)
        bx = (torch.rand((x.shape[0], bl, x.shape[1]), generator=generator, dtype=x.dtype, device=x.device)
              < px[:, None]).to(x.dtype) * x.sign()[:, None]
        bd = (torch.rand((d.shape[0], bl, d.shape[1]), generator=generator, dtype=d.dtype, device=d.device)
              < pd[:, None]).to(d.dtype) * d.sign()[:, None]
        n = torch.einsum("bti,btj->ij", bd, bx) * (1.0 if lr >= 0 else -1.0)  # signed coincidences [out, in]
        return self.update(n * dw_min, generator=generator)

    def carry(self, *, generator: torch.Generator | None = None) -> float:
        """Periodic carry: every pair k < n_significance - 1 whose |weight| reaches ``carry_threshold`` of its
        range hands the whole number of pair-(k+1) steps it holds (as far as pair k + 1 has room) to pair k + 1
        (programmed there), and is programmed down by the same amount; the total weight is unchanged up to the devices' own spread.
        Returns the programming energy [J] (not added to ``program_energy_j``; `update` does that)."""
        fused = self._fused_path()
        if fused is not None:
            w, row_g = self.weight_cache()
            mode = FRACTIONAL if self.config.update_rule == "fractional" else DETERMINISTIC
            n, e = fused.carry(self.state, w, row_g, self.config.carry_threshold, mode, generator)
            self._after_fused()
            self.n_carries += int(n > 0)
            return e
        wk = self.pair_weights()
        dw = torch.zeros_like(wk)
        for k in range(self.n_pairs - 1):  # a loop over significance levels only
            hi_step = self.step_up / float(self.pair_g_per_weight[k + 1])
            top = float(self.pair_w_max[k + 1])  # no more than the next pair can still hold
            move = torch.trunc(torch.minimum(torch.maximum(wk[k], -top - wk[k + 1]), top - wk[k + 1]) / hi_step)
            move = move * hi_step
            move = torch.where(wk[k].abs() >= self.config.carry_threshold * float(self.pair_w_max[k]), move,
                               torch.zeros_like(move))
            dw[k] -= move
            dw[k + 1] += move
        if self.config.update_rule == "fractional":
            req = self._pair_requests(dw)
            if not bool((req != 0).any()):
                return 0.0
            new, energy = self.device.program_fractional(self.state, req, generator=generator)
            self._store(new)
            self.n_carries += 1
            return float(energy.sum())
        counts = self._pair_counts(dw, rule="deterministic")
        if not bool((counts != 0).any()):
            return 0.0
        self.n_carries += 1
        return float(self._program_counts(counts, generator).sum())

    # ---------------------------------------------------------------- read
    def _crossbars(self, transpose: bool) -> list[Crossbar]:
        """One `Crossbar` per significance pair, cached until the state changes (reads between updates,
        e.g. inference, reuse its converted conductances)."""
        key = (self._state_key(), transpose)
        if self._xbars is not None and self._xbars[0] == key:
            return self._xbars[1]
        g = self._g_tensor()
        cfg = self.config.crossbar
        if not self.config.read_noise:
            cfg = dataclasses.replace(cfg, thermal_noise=False, shot_noise=False, amp_noise_a=0.0)
        if transpose:  # rows = out, cols = in
            xbars = [Crossbar(g[k, 0], g[k, 1], cfg) for k in range(self.n_pairs)]
        else:
            xbars = [Crossbar(g[k, 0].T, g[k, 1].T, cfg) for k in range(self.n_pairs)]
        self._xbars = (key, xbars)
        return xbars

    @property
    def reads_from_cache(self) -> bool:
        """True when a forward read is exactly the effective weights (noiseless read, no ADC): `mvm` then
        multiplies by the weight cache."""
        return self.config.adc_bits is None and (not self.config.read_noise or self.config.crossbar.noiseless)

    def mvm(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
            transpose: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Analog y = x W^T (x [..., in] -> y [..., out]; ``transpose``: x [..., out] -> x W [..., in]).

        Every significance pair is a crossbar of its own, read in two phases (x+ and x-); the outputs are
        combined digitally with the pairs' significances. Returns (y in x's dtype, read energy [J] per input
        vector).
        """
        x = torch.as_tensor(x)
        dtype = x.dtype if x.is_floating_point() else torch.float32
        x = x.to(dtype)
        scale = x.abs().amax(dim=-1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
        cfg = self.config.crossbar
        if not transpose and self.reads_from_cache:
            # noiseless read without ADC: exactly the effective weights, from the cache
            w, row_g = self.weight_cache()
            w = w.to(device=x.device, dtype=dtype)
            xs = x / scale
            energy = cfg.t_read_s * cfg.v_read_v**2 * ((xs * xs).to(row_g.dtype) @ row_g.to(x.device))
            return x @ w.T, energy
        xp, xn = (x / scale).clamp_min(0.0), (-x / scale).clamp_min(0.0)
        y = energy = 0.0
        for k, cb in enumerate(self._crossbars(transpose)):  # a loop over significance levels only
            i = cb.read(xp, generator=generator) - cb.read(xn, generator=generator)
            energy = energy + cb.read_energy(xp) + cb.read_energy(xn)
            yk = i / (cb.config.v_read_v * (self.g_max - self.g_min))  # in pair-range x max|x| units
            if self.config.adc_bits is not None:
                fs = self.config.adc_full_scale
                lsb = 2.0 * fs / (2**self.config.adc_bits - 1)
                yk = torch.round(yk.clamp(-fs, fs) / lsb) * lsb
            y = y + yk * float(self.pair_w_max[k])
        return y * scale, energy

    # ---------------------------------------------------------------- misc
    def describe(self) -> dict[str, Any]:
        from ..config import to_dict

        return {"shape": list(self.shape), "config": to_dict(self.config), "device": self.device.describe(),
                "w_max": self.w_max, "g_per_weight_s": self.g_per_weight, "step_up_s": self.step_up,
                "step_down_s": self.step_down, "levels_per_half": math.floor((self.g_max - self.g_min) / self.step_up)}


__all__ = ["REFERENCES", "UPDATE_RULES", "AnalogTile", "TileConfig"]
