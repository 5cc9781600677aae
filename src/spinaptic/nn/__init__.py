"""PyTorch layers on analog tiles: `AnalogLinear`, `AnalogConv2d`, `convert_to_analog`, device-aware
optimisers and the layer configuration with presets. Sits between arrays/ and networks/."""

from .analog_conv import AnalogConv2d
from .analog_linear import AnalogLinear, analog_layers, convert_to_analog, energy_report
from .config import BACKWARDS, PRESETS, AnalogLayerConfig, as_config, preset
from .optim import DeviceSGD, device_optimizer

__all__ = ["BACKWARDS", "PRESETS", "AnalogConv2d", "AnalogLayerConfig", "AnalogLinear", "DeviceSGD", "analog_layers", "as_config",
           "convert_to_analog", "device_optimizer", "energy_report", "preset"]
