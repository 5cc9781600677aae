"""Figures of the dw-mlp-training experiment (paper 003, Fig. 5): accuracy per epoch per panel, SOT vs STT,
best accuracy vs notches, physics in the loop. Drawing only: every number comes from the run's statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._dw_mlp_training_targets import DATASETS
from .base import RunContext

if TYPE_CHECKING:
    from ._dw_mlp_training_config import DWMLPTrainingConfig


def _save_panels(ctx: RunContext, stats: dict[str, dict[str, Any]], panels: list[tuple[list[str], str]],
                 name: str) -> None:
    """One figure of accuracy-vs-epoch panels ((keys, title) each), saved as ``name``; nothing if empty."""
    if not panels:
        return
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.3), squeeze=False)
    for ax, (keys, title) in zip(axes[0], panels):
        _plot_curves(ax, stats, keys, title)
    fig.tight_layout()
    ctx.save_figure(fig, name)


def _plot_curves(ax, stats: dict[str, dict[str, Any]], keys: list[str], title: str) -> None:
    for i, k in enumerate(keys):
        s = stats[k]
        ep = np.arange(1, len(s["curve"]) + 1)
        m, sd = np.array(s["curve"]), np.array(s["curve_std"])
        ls = "--" if s["spec"].tables == "ours" else "-"
        ax.plot(ep, m, ls, marker="o", ms=3, color=f"C{i % 10}", label=s["spec"].label)
        if sd.any():
            ax.fill_between(ep, m - sd, m + sd, color=f"C{i % 10}", alpha=0.2, lw=0)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def draw_figures(ctx: RunContext, cfg: DWMLPTrainingConfig, stats: dict[str, dict[str, Any]],
                 loop: dict[str, Any] | None, search: list[dict[str, Any]]) -> None:
    import matplotlib.pyplot as plt

    def sel(pred) -> list[str]:
        return [k for k, s in stats.items() if pred(s["spec"])]

    if search:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for i, base in enumerate(dict.fromkeys(r["configuration"] for r in search)):
            rs = sorted((r for r in search if r["configuration"] == base), key=lambda r: r["lr"])
            ax.plot([r["lr"] for r in rs], [r["validation_accuracy"] for r in rs], "o-", color=f"C{i % 10}", label=base)
        ax.set_xscale("log")
        ax.set_xlabel("initial learning rate alpha")
        ax.set_ylabel("validation accuracy, final epoch (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ctx.save_figure(fig, "lr_search.png")
        return
    panels = []
    for ds, tag in (("mnist", "5a MNIST"), ("fashion", "5b Fashion-MNIST")):
        keys = sel(lambda s, ds=ds: s.dataset == ds and (s.tables == "numeric" or (
            s.technology == "stt" and s.temperature_k == 300 and s.n_levels in (0, 32) and s.family == s.default_family)))
        if keys:
            panels.append((keys, f"Fig. {tag}: STT 300 K (dashed: our 1D-model tables)"))
    _save_panels(ctx, stats, panels, "fig5ab_accuracy_vs_epoch.png")
    panels = []
    for lv, tag in ((0, "5c continuous levels"), (32, "5d 32 notches + periodic carry")):
        keys = sel(lambda s, lv=lv: s.dataset == "fashion" and s.tables != "numeric" and s.n_levels == lv
                   and s.carry == (lv == 32) and s.family == s.default_family)
        if len({stats[k]["spec"].device_name for k in keys}) > 1:
            panels.append((keys, f"Fig. {tag}, Fashion-MNIST"))
    _save_panels(ctx, stats, panels, "fig5cd_technology_temperature.png")
    series: dict[tuple[str, str, str], list[tuple[int, float, float]]] = {}
    for s in stats.values():
        sp = s["spec"]
        if sp.dataset == "fashion" and sp.tables != "numeric" and sp.n_levels and sp.temperature_k == 300 and not sp.carry \
                and sp.family in ("continuous", "notched") and (sp.family == "continuous" or sp.technology == "stt"):
            series.setdefault((sp.technology, sp.family, sp.tables), []).append((sp.n_levels, s["best"], s["best_std"]))
    if any(len(v) > 1 for v in series.values()):
        fig, ax = plt.subplots(figsize=(6.5, 4.3))
        for (k, fam, tabs), pts in sorted(series.items()):
            pts.sort()
            n, m, sd = (np.array(v) for v in zip(*pts))
            alpha = getattr(cfg, f"lr_{fam}")
            ls = ("--" if fam == "notched" else "-") + ("" if tabs == "genuine" else ".")
            ax.errorbar(n, m, yerr=sd if sd.any() else None, fmt="o" + ls, color="C0" if k == "stt" else "C1",
                        alpha=1.0 if tabs == "genuine" else 0.6, capsize=2,
                        label=f"{k.upper()} alpha {alpha:g}" + ("" if tabs == "genuine" else " (our tables)"))
        ax.set_xscale("log", base=2)
        ax.set_xlabel("number of notches (levels)")
        ax.set_ylabel("best test accuracy over epochs (%)")
        ax.set_title("Fig. 5e: Fashion-MNIST, 300 K, no periodic carry", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ctx.save_figure(fig, "fig5e_accuracy_vs_notches.png")
    if loop:
        fig, ax = plt.subplots(figsize=(6, 4))
        for i, name in enumerate(("1D model in the loop", "its lookup table")):
            h = loop[name]["history"]
            ax.plot([r["epoch"] for r in h], [r["accuracy"] for r in h], "o-" if i == 0 else "s--", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"Physics in the loop: 784 x 10 on {cfg.loop_n_train} {DATASETS[cfg.loop_dataset]} images", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ctx.save_figure(fig, "physics_in_the_loop.png")
