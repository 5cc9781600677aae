"""Devices: physics wrapped as "apply pulses -> new state, energy". One protocol (`base.Device`), one registry
(built-ins plus devices of other packages from the ``spinaptic.devices`` entry-point group)."""

from .base import (
    Device,
    DevicePluginWarning,
    DeviceState,
    Pulses,
    device_class,
    device_names,
    make_device,
    plugin_devices,
    refresh_plugins,
    register_device,
)

__all__ = ["Device", "DevicePluginWarning", "DeviceState", "Pulses", "device_class", "device_names", "make_device",
           "plugin_devices", "refresh_plugins", "register_device"]
