"""Small synthetic inputs shared by several test files."""

import numpy as np


def synthetic_lookup_table_device():
    """The lookup-table device has no usable default (it needs a table): a synthetic two-instance table,
    dG ~ U(1, 3) uS up and U(-3, -1) uS down on 10..50 uS (20 % wider for instance 1)."""
    from spinaptic.devices.lookup_table import LookupTable, LookupTableDevice

    k, m = 51, 21
    col = 1e-6 + 2e-6 * np.linspace(0, 1, k)
    inc = np.broadcast_to(col[None, :, None], (2, k, m)).copy()
    dec = np.broadcast_to(-col[::-1][None, :, None], (2, k, m)).copy()
    g = np.stack([np.linspace(10e-6, 50e-6, m), np.linspace(12e-6, 60e-6, m)])
    return LookupTableDevice(table=LookupTable(g, np.linspace(0, 1, k), inc, dec, name="synthetic"), init="mid")
