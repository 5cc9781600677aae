"""Figures of the dw-cnn-inference experiment (paper 002, Fig. 6): each function writes one PNG into ``out_dir`` and
returns its file name."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fileio import atomic_write_bytes
from ._dw_shapes_targets import STRAIGHT_LEVELS_OHM


def _save(fig, out_dir: Path, name: str) -> str:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(Path(out_dir) / name, buf.getvalue())
    return name


def fig6a(out_dir: Path, h: dict, table, cfg) -> str:
    """Histograms of the read conductance after write-and-verify: the 1D model's walls (thermal jitter) and the
    five-level notch device with the measured write noise; the paper's measured levels dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    paper_g = [1e3 / r for r in STRAIGHT_LEVELS_OHM]
    for a, g, title in ((ax[0], h["g_1d"], f"1D model of the straight track, 300 K: {h['target'].numel()} walls"),
                        (ax[1], h["g_dev"], f"dw-notch-levels (5 levels, sigma {cfg.write_noise_s * 1e6:g} uS)")):
        a.hist(np.asarray(g) * 1e3, bins=400, color="C0")
        a.set(xlabel="conductance G (mS)", ylabel="count", title=title)
    for gp in paper_g:
        ax[0].axvline(gp, color="k", ls="--", lw=0.6)
    for gl in np.asarray(h["levels_dev"]) * 1e3:
        ax[1].axvline(gl, color="k", ls=":", lw=0.6)
    ax[0].text(0.02, 0.95, "dashed: paper's measured levels", transform=ax[0].transAxes, fontsize=8, va="top")
    ax[1].text(0.02, 0.95, "dotted: levels over [0.94, 1.1] mS", transform=ax[1].transAxes, fontsize=8, va="top")
    fig.suptitle("Paper 002, Fig. 6a: programmed conductances after write-and-verify (five notches)")
    fig.tight_layout()
    return _save(fig, out_dir, "p002_fig6a_conductance_histogram.png")


def fig6b(out_dir: Path, curves: dict, cfg, float_acc: float) -> str:
    """Accuracy against notches per device for each noise factor: mean and seed sd."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = {0.0: ("C0", "o", "-"), 1.0: ("C1", "D", "-"), 10.0: ("C1", "D", ":")}
    for k, (f, c) in enumerate(curves.items()):
        ns = sorted(c)
        mean = [float(np.mean(c[n])) for n in ns]
        sd = [float(np.std(c[n], ddof=1)) if len(c[n]) > 1 else 0.0 for n in ns]
        color, marker, ls = styles.get(f, (f"C{k + 2}", "s", "--"))
        label = "no error" if f == 0 else f"{f:g} x measured write noise ({f * cfg.write_noise_s * 1e6:g} uS)"
        ax.errorbar(ns, mean, yerr=sd, color=color, marker=marker, ls=ls, capsize=3, label=label)
    ax.axhline(float_acc, color="k", lw=0.8, label=f"float model ({float_acc:.1f} %)")
    ax.axhline(100.0 / cfg.n_classes, color="grey", lw=0.8, ls="--", label="chance")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="notches per device (2^(N-1) levels)", ylabel="test accuracy (%)", ylim=(0, 100),
           title=f"{cfg.dataset}, {cfg.network.label}: "
                 f"{cfg.n_test_sweep} test images")
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Paper 002, Fig. 6b: accuracy against the number of notches", fontsize=10)
    fig.tight_layout()
    return _save(fig, out_dir, "p002_fig6b_accuracy_vs_notches.png")


def mapping(out_dir: Path, points: dict, cfg) -> str:
    """First layer: programmed effective weight against the float weight at the claim's notch count (or the
    nearest swept), for every noise factor (first seed)."""
    import matplotlib.pyplot as plt

    n = min(cfg.notches, key=lambda x: abs(x - cfg.targets.claim_notches))
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    for k, f in enumerate(cfg.noise_factors):
        r = points[(n, f)][0]
        ax.plot(np.asarray(r["w_float"]), np.asarray(r["w_real"]), ".", ms=2, alpha=0.5, color=f"C{k}",
                label=f"{f:g} x write noise")
    ax.set(xlabel="float weight (folded)", ylabel="programmed weight (G+ - G-) / g_per_weight",
           title=f"first layer, {n} notches per device")
    ax.legend(fontsize=8, markerscale=4)
    fig.tight_layout()
    return _save(fig, out_dir, "weight_mapping.png")


def transition(out_dir: Path, table) -> str:
    """The transition table from the interior start notch 1: P(final notch) against the + pulse amplitude."""
    import matplotlib.pyplot as plt

    amps = np.asarray(table.amplitudes_v)[1:]
    start = 1 if table.n_notches >= 3 else 0
    p = np.asarray(table.probs[0, 1:, start, :])
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    ax.stackplot(amps, p.T, labels=[f"notch {k + 1}" for k in range(table.n_notches)], alpha=0.85)
    ax.set(xlabel="pulse amplitude |V| (V), 50 ns", ylabel="probability", ylim=(0, 1), xlim=(amps[0], amps[-1]),
           title=f"one pulse from notch {start + 1}: {table.replicas} walls per amplitude, 1D model")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return _save(fig, out_dir, "notch_transition_table.png")
