"""Devices: physics wrapped as "apply pulses -> new state, energy". One protocol (`base.Device`), one registry."""

from .base import (
    Device,
    DeviceState,
    Pulses,
    device_class,
    device_names,
    make_device,
    register_device,
)

__all__ = ["Device", "DeviceState", "Pulses", "device_class", "device_names", "make_device", "register_device"]
