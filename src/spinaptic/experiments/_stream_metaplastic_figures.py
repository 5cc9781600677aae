"""Figures of the stream-metaplastic experiment: Fig. 5a (accuracy after each subset, seed bands, full-data
ticks) and Fig. 5b (the binarized trapezoid against the non-binarized 32-level linear synapse)."""

from __future__ import annotations

import numpy as np

COLOURS = {"linear": "tab:blue", "linear-asym": "tab:orange", "trapezoid": "tab:green",
           "linear-32-float": "tab:purple"}
MARKERS = {"linear": "o", "linear-asym": "D", "trapezoid": "^", "linear-32-float": "s"}


def _curves(ax, per_rule: dict[str, np.ndarray], names) -> None:
    for r in names:
        a = per_rule[r]
        x = np.arange(1, a.shape[0] + 1)
        c = COLOURS.get(r)
        ax.plot(x, a.mean(axis=1), marker=MARKERS.get(r, "."), ms=3, color=c, label=r)
        ax.fill_between(x, a.min(axis=1), a.max(axis=1), color=c, alpha=0.25, lw=0)
    ax.set_xlabel("subsets presented")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)


def fig5a(ctx, per_rule: dict[str, np.ndarray], full: dict[str, np.ndarray], cfg) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    _curves(ax, per_rule, cfg.rules)
    for r, a in full.items():
        ax.plot([cfg.subsets + 1], [a.mean()], marker="_", ms=18, mew=3, color=COLOURS.get(r),
                label=f"{r}, full data ({cfg.full_epochs} epochs)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Fig. 5a: stream Fashion-MNIST, {cfg.subsets} x {cfg.subset_size} images x {cfg.epochs} epochs, "
                 f"{cfg.seeds} seeds (band: min-max)", fontsize=9)
    ctx.save_figure(fig, "fig5a_stream.png")


def fig5b(ctx, per_rule: dict[str, np.ndarray], cfg) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = [r for r in per_rule if r not in cfg.rules or r == "trapezoid"]
    _curves(ax, per_rule, names)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Fig. 5b and supplementary: binarized trapezoid (4 levels) vs other synapses", fontsize=9)
    ctx.save_figure(fig, "fig5b_binarized_vs_multilevel.png")


def fig4b(ctx, responses: dict[str, dict], eq1: dict[str, object]) -> None:
    """f_meta against |W_h|: eq. 1's lines (``eq1``: label -> rule) beside the knots measured on each device."""
    import matplotlib.pyplot as plt
    import torch

    fig, ax = plt.subplots(figsize=(6, 4))
    x = torch.linspace(0, 1, 101)
    for label, rule in eq1.items():
        ax.plot(x.numpy(), rule.f_meta(x).numpy(), "k-" if "trapezoid" in label else "k--", label=f"eq. 1, {label}")
    for r in responses.values():
        kx, kf = zip(*r["knots"])
        ax.plot(kx, kf, marker="o", label=f"{r['device']} 1D model (V_C ratio)")
    for w in (1 / 3, 1.0):
        ax.axvline(w, color="0.7", lw=0.8, ls=":")
    ax.set_xlabel("|W_h| (wall place between the first and last level notch)")
    ax.set_ylabel("f_meta (update efficiency)")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Fig. 4b: metaplastic function, eq. 1 vs the device model (dotted: the 4-level |W_h|)", fontsize=9)
    ctx.save_figure(fig, "fig4b_device_f_meta.png")
