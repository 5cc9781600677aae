"""Plots of probabilistic lookup tables (`spinaptic.devices.lookup_table`): the Delta-G heatmap of paper 003
Fig. 3a. Kept in the experiments layer so that devices/ never imports matplotlib."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..devices.lookup_table import LookupTable, density_map


def plot_heatmap(table: LookupTable, direction: str = "increasing", *, instance: int = 0, ax: Any = None,
                 kind: str = "density", dg_range: tuple[float, float] | None = None, n_dg: int = 120,
                 title: str | None = None, colorbar: bool = True) -> Any:
    """Heatmap of Delta-G against G like paper 003 Fig. 3a (G and Delta-G in uS); ``kind`` "density"
    (probability density, log colour scale) or "cdf" (the paper's colouring). Returns the axes."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    g, edges, z = density_map(table, direction, instance=instance, n_dg=n_dg, dg_range=dg_range, kind=kind)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    ge = np.concatenate([[g[0] - 0.5 * (g[1] - g[0])], 0.5 * (g[1:] + g[:-1]), [g[-1] + 0.5 * (g[-1] - g[-2])]])
    steps = np.diff(g)
    uniform = bool(np.abs(steps - steps.mean()).max() <= 1e-3 * steps.mean())
    if kind == "density":
        zz = z * 1e-6  # per uS
        pos = zz[zz > 0]
        vmax = float(pos.max()) if pos.size else 1.0
        opts = {"norm": LogNorm(vmin=vmax * 1e-3, vmax=vmax), "cmap": "viridis"}
        zz = np.where(zz > 0, zz, np.nan)
        label = "probability density (1/uS)"
    else:
        zz = z
        opts = {"vmin": 0.0, "vmax": 1.0, "cmap": "viridis"}
        label = "CDF"
    if uniform:  # one image: much faster to draw than a mesh
        im = ax.imshow(zz, origin="lower", aspect="auto", interpolation="nearest",
                       extent=(ge[0] * 1e6, ge[-1] * 1e6, edges[0] * 1e6, edges[-1] * 1e6), **opts)
    else:
        im = ax.pcolormesh(ge * 1e6, edges * 1e6, zz, shading="flat", rasterized=True, **opts)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_xlabel("conductance G (uS)")
    ax.set_ylabel(r"$\Delta G$ per pulse (uS)")
    ax.set_title(title if title is not None else f"{table.name or 'table'}: {direction}", fontsize=9)
    return ax

