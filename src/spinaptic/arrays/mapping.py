"""Signed weights <-> device conductances: level sets, quantisation, differential / reference columns.

A device offers a set of programmable conductance levels (`LevelSet`): the Q + 1 equally spaced levels
of a compound synapse (paper 000, eq. 1), the measured states of a lookup-table device, or a uniform
grid over any device's `conductance_range`. `map_weights` turns a weight matrix W [rows, cols] into the
conductances of a crossbar:

* **differential** (default; PIN-Sim's choice, two columns per output): w >= 0 goes on G+ at the level
  nearest G_min + (w / w_max)(G_max - G_min) with G- at G_min, and the reverse for w < 0. The effective
  weight is (G+ - G-) / g_per_weight, g_per_weight = (G_max - G_min) / w_max: 2L - 1 signed values from
  L levels, and the common mode G_min cancels exactly in the nominal circuit.
* **reference**: one column per output at G_min + (w / w_max + 1)/2 (G_max - G_min) against a shared
  reference column at mid-range (G_min + G_max) / 2: half the cells, half the resolution.

``w_max`` is the clipping point: by default the ``clip_quantile`` quantile of |W| (1.0 = max |W|); weights
beyond it saturate at the extreme level. The "linear mapping" of paper 000 uses every level; a
"nonlinear mapping" passes ``index_map`` (level the mapping asks for -> level the programming scheme
really reaches, e.g. `devices.compound_synapse.identical_pulse_level_map`). Device-to-device variation is
a per-level sigma (`LevelSet.g_std`) drawn once at programming.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ConfigError, check_choice, check_range
from ..devices.base import Device


@dataclass(frozen=True, eq=False)
class LevelSet:
    """Programmable conductance levels of one device, ascending.

    Attributes:
        g: level conductances [S], 1-D, strictly ascending, >= 0, at least 2 levels.
        g_std: device-to-device sigma of each level [S] (same shape), or None for ideal devices.
    """

    g: torch.Tensor
    g_std: torch.Tensor | None = None

    def __post_init__(self) -> None:
        g = torch.as_tensor(self.g, dtype=torch.float64)
        object.__setattr__(self, "g", g)
        if g.dim() != 1 or g.numel() < 2:
            raise ConfigError(f"LevelSet.g must be 1-D with >= 2 levels, got shape {tuple(g.shape)}")
        if bool((g < 0).any()) or not bool((g[1:] > g[:-1]).all()):
            raise ConfigError("LevelSet.g must be non-negative and strictly ascending [S]")
        if self.g_std is not None:
            s = torch.as_tensor(self.g_std, dtype=torch.float64)
            if s.shape != g.shape or bool((s < 0).any()):
                raise ConfigError("LevelSet.g_std must match g's shape and be >= 0 [S]")
            object.__setattr__(self, "g_std", s)

    @classmethod
    def uniform(cls, g_min: float, g_max: float, n_levels: int) -> LevelSet:
        """``n_levels`` equally spaced conductances from ``g_min`` to ``g_max`` [S]."""
        if not 0 <= g_min < g_max:
            raise ConfigError(f"need 0 <= g_min < g_max [S], got {g_min!r}, {g_max!r}")
        if n_levels < 2:
            raise ConfigError(f"n_levels must be >= 2, got {n_levels}")
        return cls(torch.linspace(g_min, g_max, int(n_levels), dtype=torch.float64))

    @classmethod
    def from_device(cls, device: Device, *, n_levels: int | None = None, mtj_sigma: float = 0.0) -> LevelSet:
        """The device's own levels (``device.levels()``, e.g. eq. 1 for a compound synapse, with
        ``device.level_std(mtj_sigma)`` when it has one), else ``n_levels`` uniform levels over its
        `conductance_range`."""
        g = device.levels() if n_levels is None else None
        if g is not None:
            std = device.level_std(mtj_sigma) if (mtj_sigma > 0 and hasattr(device, "level_std")) else None
            return cls(g, std)
        if n_levels is None:
            raise ConfigError(f"{type(device).__name__} has no discrete levels: pass n_levels")
        lo, hi = device.conductance_range()
        lv = cls.uniform(min(lo, hi), max(lo, hi), n_levels)
        if mtj_sigma > 0:
            return cls(lv.g, mtj_sigma * lv.g)
        return lv

    @property
    def n_levels(self) -> int:
        return int(self.g.numel())

    @property
    def g_min(self) -> float:
        return float(self.g[0])

    @property
    def g_max(self) -> float:
        return float(self.g[-1])

    def nearest(self, target: torch.Tensor) -> torch.Tensor:
        """Index (int64) of the level nearest to each ``target`` conductance [S]."""
        mids = 0.5 * (self.g[1:] + self.g[:-1])
        return torch.bucketize(target.to(torch.float64), mids.to(target.device))


@dataclass(frozen=True)
class MappingConfig:
    """Attributes:
    signed: "differential" (G+ / G- column pair per output, PIN-Sim) or "reference" (one column per
        output against a mid-range reference column).
    clip_quantile: w_max = this quantile of |W| (in (0, 1]; 1.0 = max |W|, no clipping).
    """

    signed: str = "differential"
    clip_quantile: float = 1.0

    def __post_init__(self) -> None:
        check_choice("signed", self.signed, ("differential", "reference"))
        check_range("clip_quantile", self.clip_quantile, 0.0, 1.0, lo_open=True)


@dataclass
class MappedWeights:
    """Conductances of a programmed array and how to read them back as weights.

    Attributes:
        g_pos, g_neg: conductances [S] of the + and - (or reference) columns, shape [rows, cols].
        idx_pos, idx_neg: programmed level indices (int64; None for the fixed reference column).
        w_max: clipping weight.
        g_per_weight: nominal conductance difference per unit weight [S].
        g_full_scale_per_weight: largest cell conductance G_max per w_max [S] (for full-scale amplifier
            design rules, see `arrays.crossbar`).
    """

    g_pos: torch.Tensor
    g_neg: torch.Tensor
    idx_pos: torch.Tensor
    idx_neg: torch.Tensor | None
    w_max: float
    g_per_weight: float
    g_full_scale_per_weight: float

    def weights(self) -> torch.Tensor:
        """Effective weights (G+ - G-) / g_per_weight, including quantisation and variation."""
        return (self.g_pos - self.g_neg) / self.g_per_weight


def weight_scale(w: torch.Tensor, clip_quantile: float = 1.0) -> float:
    """w_max: the ``clip_quantile`` quantile of |w| (max |w| for 1.0); never 0."""
    a = w.detach().abs().flatten().to(torch.float64)
    if clip_quantile >= 1.0 or a.numel() < 2:
        v = float(a.max()) if a.numel() else 0.0
    else:
        k = max(1, int(math.ceil(clip_quantile * a.numel())))
        v = float(a.kthvalue(k).values)
    return v if v > 0 else 1.0


def _program(levels: LevelSet, idx: torch.Tensor, variation: bool, generator) -> torch.Tensor:
    g = levels.g.to(idx.device)[idx]
    if variation and levels.g_std is not None:
        std = levels.g_std.to(idx.device)[idx]
        g = (g + std * torch.randn(g.shape, generator=generator, dtype=g.dtype, device=g.device)).clamp_min(0.0)
    return g


def map_weights(
    w: torch.Tensor,
    levels: LevelSet,
    config: MappingConfig | None = None,
    *,
    w_max: float | None = None,
    index_map: torch.Tensor | None = None,
    variation: bool = True,
    generator: torch.Generator | None = None,
) -> MappedWeights:
    """Program weights ``w`` [rows, cols] (any shape) onto ``levels``; see the module docstring.

    Args:
        w_max: clipping weight (default: ``config.clip_quantile`` quantile of |w|).
        index_map: optional int64 tensor [n_levels]: intended level -> level actually reached
            (nonlinear mapping); must map 0 -> 0 for the differential scheme's idle column.
        variation: draw device-to-device variation from ``levels.g_std`` (if it has one).
    """
    cfg = config or MappingConfig()
    w = torch.as_tensor(w)
    wm = float(w_max) if w_max is not None else weight_scale(w, cfg.clip_quantile)
    if not wm > 0:
        raise ConfigError(f"w_max must be > 0, got {wm!r}")
    span = levels.g_max - levels.g_min
    if not math.isfinite(span / wm):
        raise ConfigError(f"w_max = {wm!r} is too small for a conductance span of {span!r} S")
    x = (w.to(torch.float64) / wm).clamp(-1.0, 1.0)
    if index_map is not None:
        index_map = torch.as_tensor(index_map, dtype=torch.int64, device=w.device)
        if index_map.shape != (levels.n_levels,):
            raise ConfigError(f"index_map must have shape ({levels.n_levels},), got {tuple(index_map.shape)}")
    remap = (lambda i: index_map[i]) if index_map is not None else (lambda i: i)
    if cfg.signed == "differential":
        idx = levels.nearest(levels.g_min + x.abs() * span)
        zero = torch.zeros_like(idx)
        ip, ineg = remap(torch.where(x >= 0, idx, zero)), remap(torch.where(x < 0, idx, zero))
        gp = _program(levels, ip, variation, generator)
        gn = _program(levels, ineg, variation, generator)
        return MappedWeights(gp, gn, ip, ineg, wm, span / wm, levels.g_max / wm)
    idx = remap(levels.nearest(levels.g_min + 0.5 * (x + 1.0) * span))
    gp = _program(levels, idx, variation, generator)
    gref = torch.full_like(gp, 0.5 * (levels.g_min + levels.g_max))
    return MappedWeights(gp, gref, idx, None, wm, 0.5 * span / wm, levels.g_max / wm)


def quantize_weights(w: torch.Tensor, levels: LevelSet, config: MappingConfig | None = None, *,
                     w_max: float | None = None, index_map: torch.Tensor | None = None) -> torch.Tensor:
    """Nominal effective weights after mapping (no variation): what the array represents."""
    return map_weights(w, levels, config, w_max=w_max, index_map=index_map, variation=False).weights().to(w.dtype)


def bias_rows(w: torch.Tensor, b: torch.Tensor, w_max: float) -> tuple[torch.Tensor, int]:
    """Append always-on bias rows to ``w`` [in, out]: b is split over n_b = ceil(max|b| / w_max) rows
    (each carrying b / n_b, so no bias clips). Returns (w_aug [in + n_b, out], n_b)."""
    if not w_max > 0:
        raise ConfigError(f"w_max must be > 0, got {w_max!r}")
    n_b = max(1, int(math.ceil(float(b.detach().abs().max()) / w_max - 1e-9))) if b.numel() else 1
    rows = (b / n_b).reshape(1, -1).expand(n_b, -1)
    return torch.cat([w, rows.to(w.dtype)], dim=0), n_b
