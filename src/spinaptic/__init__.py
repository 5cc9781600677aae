"""spinaptic: spintronic neuromorphic hardware, from MTJ device physics to network accuracy and energy.

Layers (imports point down only)::

    physics/  -> devices/ -> arrays/ -> nn/ -> networks/ -> experiments/
    data/, energy, config are shared utilities; cli sits on top.

The public API is importable from the top level (loaded on first use, so ``import spinaptic`` stays light):
``make_device``, ``device_names``, ``synapse_device_names``, ``Pulses``, ``with_write_noise``, the bit-stream
sources ``IdealSource``, ``MTJSource``, ``ReuseSource``, ``AnalogLinear``, ``AnalogConv2d``,
``convert_to_analog``, ``DeviceSGD``, ``device_optimizer``, ``energy_report``, ``AnalogLayerConfig``,
``TileConfig``, ``load_dataset``, ``run_experiment``, ``experiments``.
"""

__version__ = "0.1.0"

_API = {
    "make_device": "devices", "device_names": "devices", "synapse_device_names": "devices", "Pulses": "devices",
    "Device": "devices", "DeviceState": "devices", "register_device": "devices",
    "with_write_noise": "devices.write_noise",
    "IdealSource": "devices.bitstream", "MTJSource": "devices.bitstream", "ReuseSource": "devices.bitstream",
    "AnalogLinear": "nn", "AnalogConv2d": "nn", "convert_to_analog": "nn", "DeviceSGD": "nn",
    "device_optimizer": "nn", "energy_report": "nn", "AnalogLayerConfig": "nn",
    "TileConfig": "arrays.tile", "AnalogTile": "arrays.tile",
    "load_dataset": "data", "run_experiment": "experiments", "experiments": "experiments",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spinaptic' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


def _default_numba_cache() -> None:
    """Send numba's on-disk cache to ``<user cache>/spinaptic/numba`` unless ``NUMBA_CACHE_DIR`` is set.

    numba caches next to the sources by default, which fails on read-only installs. This runs on the first
    import of spinaptic, before any kernel is compiled; a numba imported earlier is told directly.
    """
    import os
    import sys

    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - a declared dependency
        return
    base = platformdirs.user_cache_dir("spinaptic", appauthor=False)
    if not os.path.isabs(base):  # e.g. a relative XDG_CACHE_HOME, which the XDG spec says to ignore
        return
    path = os.path.join(base, "numba")
    os.environ["NUMBA_CACHE_DIR"] = path
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None and not getattr(numba_config, "CACHE_DIR", ""):
        numba_config.CACHE_DIR = path


_default_numba_cache()
