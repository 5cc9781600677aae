"""Figures of the STDP spiking-network experiment (paper 001; Diehl & Cook 2015): learned conductance maps,
STDP programming window, confusion matrix, accuracy vs training images, accuracy vs device variation and
energy per image. Drawing only: every number comes from the caller.

Each function writes one PNG (house style of `RunContext.save_figure`: 120 dpi, tight box, no software tag,
written atomically) to ``path`` and returns it as a `Path`. Figures are built on a bare
`matplotlib.figure.Figure` (Agg rendering, no pyplot state), so they are safe in workers and headless runs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError
from ..fileio import atomic_write_bytes


def _figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _save(fig: Any, path: str | Path) -> Path:
    """Render ``fig`` to PNG and write it atomically to ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _finish(ax: Any, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _mosaic(weights: np.ndarray, n_cols: int) -> np.ndarray:
    """(n_inputs, N) -> one image of the N square receptive fields on a grid, separated by NaN lines."""
    n_in, n = weights.shape
    side = math.isqrt(n_in)
    n_rows = -(-n // n_cols)
    maps = np.full((n_rows * n_cols, side, side), np.nan)
    maps[:n] = weights.T.reshape(n, side, side)
    maps = np.pad(maps, ((0, 0), (0, 1), (0, 1)), constant_values=np.nan)
    grid = maps.reshape(n_rows, n_cols, side + 1, side + 1).transpose(0, 2, 1, 3)
    return grid.reshape(n_rows * (side + 1), n_cols * (side + 1))[:-1, :-1]


def plot_conductance_maps(weights: Any, path: str | Path, *, title: str, n_cols: int = 10,
                          unit: str = "normalised weight", cmap: str = "hot_r") -> Path:
    """Receptive fields of the N excitatory neurons: ``weights`` (784, N) (conductance [S] or normalised
    weight) shown as N 28x28 images tiled ``n_cols`` wide with one shared colour scale (Diehl & Cook 2015
    Fig. 2A; paper 001 Fig. 13). Any square number of inputs works."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[1] < 1 or math.isqrt(w.shape[0]) ** 2 != w.shape[0]:
        raise ConfigError(f"weights: expected shape (n_pixels, n_neurons) with a square n_pixels, got {w.shape}")
    if n_cols < 1:
        raise ConfigError(f"n_cols must be >= 1, got {n_cols}")
    n_cols = min(n_cols, w.shape[1])
    img = _mosaic(w, n_cols)
    n_rows = -(-w.shape[1] // n_cols)
    cell = min(0.5, 12.0 / n_cols)
    fig = _figure((cell * n_cols + 1.4, cell * n_rows + 0.7))
    ax = fig.add_subplot()
    import matplotlib as mpl

    cm = mpl.colormaps[cmap].with_extremes(bad="white")
    lo, hi = float(np.nanmin(w)), float(np.nanmax(w))
    im = ax.imshow(img, cmap=cm, vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02).set_label(unit)
    return _save(fig, path)


def plot_stdp_window(dt_steps: Any, current_a: Any, path: str | Path, *, title: str) -> Path:
    """Programming current [A] (drawn in uA) vs Delta t = t_post - t_pre [steps] of the STDP rule.

    Several curves: pass a dict label -> (dt, current) as ``dt_steps`` and None as ``current_a``."""
    if isinstance(dt_steps, Mapping):
        if current_a is not None:
            raise ConfigError("current_a: must be None when dt_steps is a dict of curves")
        curves = dict(dt_steps)
    else:
        curves = {"": (dt_steps, current_a)}
    fig = _figure((6.2, 4.2))
    ax = fig.add_subplot()
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(0, color="0.5", lw=0.8, ls=":")
    for i, (label, (dt, cur)) in enumerate(curves.items()):
        dt, cur = np.asarray(dt, dtype=float), np.asarray(cur, dtype=float)
        if dt.shape != cur.shape:
            raise ConfigError(f"current_a{f' [{label}]' if label else ''}: shape {cur.shape} differs from dt {dt.shape}")
        order = np.argsort(dt, kind="stable")
        ax.plot(dt[order], cur[order] * 1e6, "o-", ms=3, color=f"C{i % 10}", label=label or None)
    _finish(ax, title, r"$\Delta t = t_\mathrm{post} - t_\mathrm{pre}$ (steps)", "programming current (uA)")
    return _save(fig, path)


def plot_confusion(conf: Any, path: str | Path, *, title: str) -> Path:
    """Confusion matrix (rows = true class, columns = predicted): colour = fraction of the row, text = count."""
    c = np.asarray(conf)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ConfigError(f"conf: expected a square (n_classes, n_classes) matrix, got shape {c.shape}")
    rows = c.sum(1, keepdims=True)
    frac = np.divide(c, rows, out=np.zeros(c.shape), where=rows > 0)
    n = c.shape[0]
    fig = _figure((5.4, 4.6))
    ax = fig.add_subplot()
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    ii, jj = np.nonzero(c)
    for i, j in zip(ii, jj):
        ax.text(j, i, f"{c[i, j]:g}", ha="center", va="center", fontsize=7,
                color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).set_label("fraction of true class")
    return _save(fig, path)


def _xy_err(label: str, pts: Sequence[Any], name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if len(pts) not in (2, 3):
        raise ConfigError(f"{name} [{label}]: expected (x, y) or (x, y, spread), got {len(pts)} items")
    x, y = np.asarray(pts[0], dtype=float), np.asarray(pts[1], dtype=float)
    err = np.asarray(pts[2], dtype=float) if len(pts) == 3 and pts[2] is not None else None
    if x.shape != y.shape or (err is not None and err.shape != y.shape):
        raise ConfigError(f"{name} [{label}]: x, y and spread must have the same length")
    order = np.argsort(x, kind="stable")
    return x[order], y[order], None if err is None else err[order]


def _errorbars(ax: Any, series: Mapping[str, Sequence[Any]], name: str) -> None:
    for i, (label, pts) in enumerate(series.items()):
        x, y, err = _xy_err(label, pts, name)
        ax.errorbar(x, y, yerr=err if err is not None and err.any() else None, fmt="o-", ms=4, capsize=2,
                    color=f"C{i % 10}", label=label)


def plot_learning_curve(series: Mapping[str, Sequence[Any]], path: str | Path, *, title: str,
                        paper_lines: Mapping[str, float] | None = None) -> Path:
    """Test accuracy (%) vs number of training images (log x), one curve per label
    (n_train, accuracy[, spread]) with error bars; ``paper_lines`` label -> accuracy (%) as dashed lines
    (e.g. {"Diehl & Cook 2015, 100 neurons": 82.9})."""
    fig = _figure((6.5, 4.3))
    ax = fig.add_subplot()
    _errorbars(ax, series, "series")
    for i, (label, acc) in enumerate((paper_lines or {}).items()):
        ax.axhline(acc, ls="--", lw=1, color=f"C{(len(series) + i) % 10}", label=f"{label} ({acc:g} %)")
    ax.set_xscale("log")
    _finish(ax, title, "training images presented", "test accuracy (%)")
    return _save(fig, path)


def plot_variation(series: Mapping[str, Sequence[Any]], path: str | Path, *, title: str) -> Path:
    """Test accuracy (%) vs device-to-device variation (%), one curve per label (variation, mean, std)."""
    fig = _figure((6.5, 4.3))
    ax = fig.add_subplot()
    _errorbars(ax, series, "series")
    _finish(ax, title, "device-to-device variation (%)", "test accuracy (%)")
    return _save(fig, path)


def plot_energy_bars(items: Mapping[str, float], path: str | Path, *, title: str) -> Path:
    """Energy per classified image [J] per label as a log-scale bar chart, each bar annotated."""
    from matplotlib.ticker import EngFormatter

    labels, energy = list(items), np.asarray(list(items.values()), dtype=float)
    if not labels or not np.all(np.isfinite(energy) & (energy > 0)):
        raise ConfigError("items: expected a non-empty dict label -> positive finite energy [J]")
    fmt = EngFormatter(unit="J")
    fig = _figure((max(4.5, 0.9 * len(labels) + 2), 4.3))
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    ax.bar(x, energy, color=[f"C{i % 10}" for i in x])
    for xi, e in zip(x, energy):
        ax.text(xi, e * 1.15, fmt(e), ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(energy.min() / 3, energy.max() * 4)
    ax.yaxis.set_major_formatter(EngFormatter(unit="J"))
    ax.set_xticks(x, labels, rotation=20 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center")
    _finish(ax, title, "", "energy per image", legend=False)
    ax.grid(alpha=0.3, axis="y")
    ax.grid(False, axis="x")
    return _save(fig, path)
