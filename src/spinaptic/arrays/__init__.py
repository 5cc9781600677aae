"""Arrays: weight <-> conductance mapping, crossbar reads with noise, outer-product updates, periodic carry.

Knows devices, not networks.
"""

from .tile import AnalogTile, TileConfig

__all__ = ["AnalogTile", "TileConfig"]
