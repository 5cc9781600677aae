"""One analog-layer configuration: device, mapping, read, update rule and backward pass, with named presets
and a JSON round trip so that a run can record exactly what it trained on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..arrays.tile import TileConfig
from ..config import ConfigError, check_choice, to_dict

BACKWARDS = ("ideal", "transposed-read")


@dataclass(frozen=True)
class AnalogLayerConfig:
    """Attributes:
    tile: device, weight mapping (w_max, reference), read (crossbar noise, ADC) and update rule.
    backward: "ideal" (default: exact transposed effective weights, as aihwkit's default with a noise-free
        backward) or "transposed-read" (the error is read through the same noisy crossbar, transposed; its
        read energy is charged too).
    """

    tile: TileConfig = field(default_factory=TileConfig)
    backward: str = "ideal"

    def __post_init__(self) -> None:
        if not isinstance(self.tile, TileConfig):
            raise ConfigError(f"tile must be a TileConfig, got {type(self.tile).__name__}")
        check_choice("backward", self.backward, BACKWARDS)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnalogLayerConfig:
        d = dict(d)
        unknown = set(d) - {"tile", "backward"}
        if unknown:
            raise ConfigError(f"unknown AnalogLayerConfig fields: {', '.join(sorted(unknown))}")
        tile = d.get("tile", {})
        return cls(tile=tile if isinstance(tile, TileConfig) else TileConfig.from_dict(tile),
                   backward=d.get("backward", "ideal"))

    @classmethod
    def from_json(cls, text: str) -> AnalogLayerConfig:
        return cls.from_dict(json.loads(text))


PRESETS: dict[str, AnalogLayerConfig] = {
    # float-like reference: fine-step ideal device (10^4 steps per half), noiseless read
    "ideal": AnalogLayerConfig(TileConfig(device="ideal", device_overrides={"step_s": 1e-8}, read_noise=False)),
    # paper 003's notched STT DW-MTJ at 300 K through the 1D model, noisy read
    "dw-stt-300K-1d": AnalogLayerConfig(TileConfig(device="dw-notched", device_overrides={"temperature_k": 300.0})),
    # paper 000's 4-bit compound synapse: Q = 2^4 = 16 SOT magnets on one channel (Q + 1 levels, eq. 1)
    "compound-synapse-4bit": AnalogLayerConfig(TileConfig(device="compound-synapse",
                                                          device_overrides={"n_magnets": 16})),
}

TABLE_PRESETS: dict[str, str] = {
    # paper 003's genuine MuMax3 lookup tables (20 R_P / TMR perturbed instances each), found in the data
    # directory when the preset is asked for (`spinaptic data` lists them)
    "dw-stt-300K-mumax3": "dwmtj_stt_300K",
    "dw-sot-300K-mumax3": "dwmtj_sot_300K",
    "dw-stt-400K-mumax3": "dwmtj_stt_400K",
    "dw-sot-400K-mumax3": "dwmtj_sot_400K",
}


def _table_preset(name: str) -> AnalogLayerConfig:
    from ..data import lookup_table_status

    table = TABLE_PRESETS[name]
    rows = [r for r in lookup_table_status(verify=False) if r["name"] == table and r["form"] == "npz"]
    if not rows:
        raise ConfigError(f"preset {name!r} needs paper 003's table {table}.npz: not found in the data directories "
                          "(set SPINAPTIC_DATA to the folder holding dwmtj-lookup-tables/; `spinaptic data` lists them)")
    return AnalogLayerConfig(TileConfig(device="lookup-table", device_overrides={"path": str(rows[0]["path"])}))


def preset(name: str, **tile_overrides: Any) -> AnalogLayerConfig:
    """A named configuration (`PRESETS`, or `TABLE_PRESETS` built from the genuine tables in the data
    directory), optionally with TileConfig fields changed."""
    check_choice("preset", name, (*PRESETS, *TABLE_PRESETS))
    cfg = PRESETS[name] if name in PRESETS else _table_preset(name)
    if tile_overrides:
        import dataclasses

        cfg = dataclasses.replace(cfg, tile=dataclasses.replace(cfg.tile, **tile_overrides))
    return cfg


def as_config(config: AnalogLayerConfig | TileConfig | str | None) -> AnalogLayerConfig:
    """Accept a layer config, a tile config, a preset name or None (the "ideal" preset)."""
    if config is None:
        return PRESETS["ideal"]
    if isinstance(config, str):
        return preset(config)
    if isinstance(config, TileConfig):
        return AnalogLayerConfig(tile=config)
    if isinstance(config, AnalogLayerConfig):
        return config
    raise ConfigError(f"expected an AnalogLayerConfig, TileConfig or preset name, got {type(config).__name__}")


__all__ = ["BACKWARDS", "PRESETS", "TABLE_PRESETS", "AnalogLayerConfig", "as_config", "preset"]
