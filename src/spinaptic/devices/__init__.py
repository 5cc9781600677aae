"""Devices: physics wrapped as "apply pulses -> new state, energy". One protocol (`base.Device`), one registry
(built-ins plus devices of other packages from the ``spinaptic.devices`` entry-point group). Bipolar stochastic
bit-stream sources (ideal RNG, s-MTJ, paper 004's reuse bank) are in `bitstream`."""

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
    state_from_buffers,
    state_to_buffers,
    synapse_device_names,
)
from .bitstream import IdealSource, MTJSource, ReuseConfig, ReuseSource, StreamSource
from .write_noise import WriteNoise, with_write_noise

__all__ = ["Device", "DevicePluginWarning", "DeviceState", "IdealSource", "MTJSource", "Pulses", "ReuseConfig",
           "ReuseSource", "StreamSource", "WriteNoise", "device_class", "device_names", "make_device",
           "plugin_devices", "refresh_plugins", "register_device", "state_from_buffers", "state_to_buffers",
           "synapse_device_names", "with_write_noise"]
