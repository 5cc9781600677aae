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
    # 15 SOT magnets per synapse: 16 levels = 4 bits (paper 000)
    "compound-synapse-4bit": AnalogLayerConfig(TileConfig(device="compound-synapse",
                                                          device_overrides={"n_magnets": 15})),
}


def preset(name: str, **tile_overrides: Any) -> AnalogLayerConfig:
    """A named configuration (`PRESETS`), optionally with TileConfig fields changed."""
    check_choice("preset", name, tuple(PRESETS))
    cfg = PRESETS[name]
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


__all__ = ["BACKWARDS", "PRESETS", "AnalogLayerConfig", "as_config", "preset"]
