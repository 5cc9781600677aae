"""Pass criteria, paper quotes and notes text of the dw-mlp-training experiment (kept apart from the wiring)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import check_range
from ._dw_lookup_tables_targets import GENUINE_SOURCE
from .comparison import Comparison, check_row, paper_row, reference_row

__all__ = ["N_TRAIN_FULL", "N_TEST_FULL", "PAPER_5E", "QUOTES", "TECHNOLOGIES", "TEMPERATURES_K", "DWMLPTrainingTargets",
           "Rows", "notes_text"]

TECHNOLOGIES = ("stt", "sot")
TEMPERATURES_K = (300, 400)
DATASETS = {"mnist": "mnist", "fashion": "fashion-mnist"}
"""Dataset short names of the configuration names -> `spinaptic.data` names."""
N_TRAIN_FULL, N_TEST_FULL = 60000, 10000

QUOTES = {
    "continuous": "If the DW-MTJ is idealized to have continuous levels without drift, the performance is very close to "
                  "ideal even with cycle-to-cycle and device-to-device variations",
    "mnist": "leading to classification accuracies approaching ideal numeric performance on the MNIST task",
    "notched": "In both classification tasks, the notched synapses suffer a significant performance loss even with an "
               "optimized learning rate, with a greater loss (>20%) for the Fashion-MNIST task",
    "carry": "The accuracy can be partially recovered using periodic carry",
    "fig5e": "with just 32 notches, an accuracy of 72% is achieved on Fashion-MNIST compared to 10% using STT at the "
             "same learning rate",
    "fig5e_small": "the SOT device attains a much higher accuracy than the STT device when the number of notches is small",
    "fig5e_more": "an alternative to periodic carry is to use a longer FM wire with more notches to increase the "
                  "available number of weight levels",
    "fig5e_high": "This benefit can be approximated using STT with a higher learning rate (dashed curve), but with a "
                  "lower accuracy at both a small and large number of notches relative to SOT",
    "fig5c": "In the continuous case, the superior accuracy of STT devices in Fig. 5(c) results from their smaller "
             "cycle-to-cycle variability",
    "fig5d": "for the notched devices in Fig. 5(d), a higher accuracy is attained with SOT than with STT",
    "temperature": "For both device types, the accuracy is roughly the same for 300 K and 400 K",
    "lr_notched": "the learning rate α is increased to prevent a large number of small updates from being reduced to zero",
}
"""Verbatim pieces of paper 003 (Liu et al., APL 118, 202405 (2021)), network section and Fig. 5 caption text."""

PAPER_5E = {"sot": 72.0, "stt": 10.0}
"""Fig. 5e at 32 notches, Fashion-MNIST best-of-20-epochs accuracy [%] (printed in the text)."""


@dataclass(frozen=True)
class DWMLPTrainingTargets:
    """Pass criteria, fixed before the runs (accuracies and gaps in percentage points of test accuracy).

    Absolute accuracies are judged only on the paper's protocol (the full 60,000 training images, >= 20 epochs);
    on a subset they are shown as "not-comparable". Differences between configurations are judged on every
    run: all configurations of a seed share the initial weights and the image order, so a difference is paired.

    Attributes:
    numeric_mnist_min, numeric_fashion_min: ideal numeric (float SGD) test accuracy: >= 97.5 % MNIST and >= 87 %
        Fashion-MNIST (issue 11; a float 784-300-10 sigmoid MLP with this schedule reaches ~98 % / ~88 %).
    continuous_gap_max: continuous-level STT DW within this many points of ideal numeric ("very close to ideal").
    notched_loss_fashion_min: 32 notches without carry lose more than this on Fashion-MNIST (paper ">20%"; issue
        11 asks for > 10 points).
    notched_loss_mnist_min: ... and more than this on MNIST ("a significant performance loss": 2 points, several
        times the ~0.2-point seed spread of a 10k-image test accuracy).
    carry_recovery_min: periodic carry recovers at least this fraction of the notched loss ("partially recovered";
        issue 11: "most of that loss").
    sot_over_stt_32_min: Fig. 5e at 32 notches, the same learning rate: SOT at least this far above STT (paper
        72 % vs 10 %, 62 points; 20 points = "far above").
    converge_max: Fig. 5e: |SOT - STT| at the largest notch count of the run at most this, and below the gap at 32.
    stt_over_sot_continuous_min, sot_over_stt_carry_min: Fig. 5c / 5d orderings: STT - SOT (continuous) and
        SOT - STT (32 notches + carry) above this (0: the stated order).
    temperature_max: |acc(300 K) - acc(400 K)| at most this ("roughly the same"; ~3 x the seed spread).
    ours_continuous_max, ours_notched_max: our 1D-model tables vs the genuine MuMax3 tables, the same
        configuration: |difference| at most this (continuous 1.5 points; notched 5 points, where the result is
        set by the step spread, and the 1D model's SOT spread is 1.6 x MuMax3's, see dw-lookup-tables).
    loop_vs_table_max: physics in the loop: the layer trained through the 1D model vs through the table that
        model generates, within this (2 points: table sampling vs continuous device-to-device draws).
    learn_floor_continuous, learn_floor_notched: "learning works" floors [%] for numeric / continuous and for
        notched (at their own learning rate) configurations (chance is 10 %).
    """

    numeric_mnist_min: float = 97.5
    numeric_fashion_min: float = 87.0
    continuous_gap_max: float = 1.0
    notched_loss_fashion_min: float = 10.0
    notched_loss_mnist_min: float = 2.0
    carry_recovery_min: float = 0.5
    sot_over_stt_32_min: float = 20.0
    converge_max: float = 3.0
    stt_over_sot_continuous_min: float = 0.0
    sot_over_stt_carry_min: float = 0.0
    temperature_max: float = 1.5
    ours_continuous_max: float = 1.5
    ours_notched_max: float = 5.0
    loop_vs_table_max: float = 2.0
    learn_floor_continuous: float = 70.0
    learn_floor_notched: float = 15.0

    def __post_init__(self) -> None:
        for name in ("numeric_mnist_min", "numeric_fashion_min", "learn_floor_continuous", "learn_floor_notched"):
            check_range(name, getattr(self, name), 0.0, 100.0, unit="%")
        for name in ("continuous_gap_max", "notched_loss_fashion_min", "notched_loss_mnist_min", "sot_over_stt_32_min",
                     "converge_max", "temperature_max", "ours_continuous_max", "ours_notched_max", "loop_vs_table_max"):
            check_range(name, getattr(self, name), 0.0, 100.0, unit="points")
        for name in ("stt_over_sot_continuous_min", "sot_over_stt_carry_min"):
            check_range(name, getattr(self, name), -100.0, 100.0, unit="points")
        check_range("carry_recovery_min", self.carry_recovery_min, 0.0, 1.0)


class Rows:
    """The comparison rows from the per-configuration statistics ``stats`` (canonical key -> final / best accuracy
    [%], their seed spreads and the parsed ``spec``); ``key_of`` maps a configuration name to its key."""

    def __init__(self, cfg: Any, stats: dict[str, dict[str, Any]], key_of: Callable[[str], str]) -> None:
        self.cfg, self.stats, self.tg, self.key_of = cfg, stats, cfg.targets, key_of
        self.rows: list[Comparison] = []
        n = cfg.n_train or N_TRAIN_FULL
        self.protocol = (f"{n} training images x {cfg.epochs} epochs x {len(cfg.seed_list)} seed(s)"
                         + ("" if not cfg.n_test else f", {cfg.n_test} test images"))
        self.off = (f"absolute accuracy on {self.protocol}, the paper trains 60000 x 20 epochs (x 3 seeds): not "
                    "comparable")

    def acc(self, name: str, what: str = "final") -> float | None:
        s = self.stats.get(self.key_of(name))
        return None if s is None else s[what]

    def fmt(self, name: str, what: str = "final") -> str:
        s = self.stats[self.key_of(name)]
        return f"{s[what]:.2f}" + (f" +- {s[what + '_std']:.2f}" if len(self.cfg.seed_list) > 1 else "")

    def absolute(self, ok: bool) -> bool | None:
        return ok if self.cfg.full_protocol else None

    def add(self, row: Comparison, absolute: bool = False) -> None:
        if absolute and not self.cfg.full_protocol and row.verdict == "info":
            row.verdict, row.note = "not-comparable", (f"{row.note}; " if row.note else "") + self.off
        elif not absolute and not self.cfg.full_protocol:
            row.note = (f"{row.note}; " if row.note else "") + f"paired difference on {self.protocol}"
        self.rows.append(row)

    def build(self) -> list[Comparison]:
        tg = self.tg
        names = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
        for ds, dsn in names.items():
            num, cont, notch, pc = (f"{ds}/numeric", f"{ds}/stt-300K/cont", f"{ds}/stt-300K/32", f"{ds}/stt-300K/32+pc")
            a_num, a_cont, a_notch, a_pc = (self.acc(c) for c in (num, cont, notch, pc))
            if a_num is not None:
                lim = tg.numeric_mnist_min if ds == "mnist" else tg.numeric_fashion_min
                self.add(check_row(f"{dsn} ideal numeric test accuracy (final epoch)", f">= {lim:g}", self.fmt(num),
                                   self.absolute(a_num >= lim), unit="%", target=f">= {lim:g} %",
                                   note="float SGD through the device engine (ideal table, fractional update); "
                                        "issue 11's target for a working trainer"), absolute=True)
            if a_num is not None and a_cont is not None:
                gap = a_num - a_cont
                self.add(paper_row(f"{dsn}: ideal numeric - STT 300 K continuous levels (final epoch)",
                                   "very close to ideal", round(gap, 2), gap <= tg.continuous_gap_max,
                                   source="paper 003 Fig. 5a/5b and text", unit="points",
                                   quote=QUOTES["continuous"] if ds == "fashion" else QUOTES["mnist"],
                                   target=f"<= {tg.continuous_gap_max:g} points",
                                   note=f"numeric {a_num:.2f} %, continuous {a_cont:.2f} %"))
            ref, ref_name = (a_num, "ideal numeric") if a_num is not None else (a_cont, "continuous levels")
            if ref is not None and a_notch is not None:
                loss = ref - a_notch
                lim = tg.notched_loss_fashion_min if ds == "fashion" else tg.notched_loss_mnist_min
                self.add(paper_row(f"{dsn}: accuracy lost by 32 notches without carry (vs {ref_name}, final epoch)",
                                   ">20% (Fashion-MNIST)" if ds == "fashion" else "a significant performance loss",
                                   round(loss, 2), loss > lim, source="paper 003 Fig. 5a/5b and text", unit="points",
                                   quote=QUOTES["notched"], target=f"> {lim:g} points",
                                   note=f"{ref_name} {ref:.2f} %, 32 notches {a_notch:.2f} % at the notched alpha "
                                        f"{self.cfg.lr_notched:g}"))
                if a_pc is not None and loss > 0:
                    rec = (a_pc - a_notch) / loss
                    self.add(paper_row(f"{dsn}: fraction of the notched loss recovered by periodic carry",
                                       "partially recovered", round(rec, 3), rec >= tg.carry_recovery_min,
                                       source="paper 003 Fig. 5a/5b and text", quote=QUOTES["carry"],
                                       target=f">= {tg.carry_recovery_min:g} (issue 11: most of the loss)",
                                       note=f"32 notches + carry {a_pc:.2f} %"))
        self._fig5cd()
        self._fig5e()
        self._ours()
        self._learns()
        return self.rows

    def _fig5cd(self) -> None:
        tg = self.tg
        for lv, quote, sign, lim, fig in (("cont", QUOTES["fig5c"], 1, tg.stt_over_sot_continuous_min, "5c"),
                                          ("32+pc", QUOTES["fig5d"], -1, tg.sot_over_stt_carry_min, "5d")):
            for t in TEMPERATURES_K:
                a_stt, a_sot = self.acc(f"fashion/stt-{t}K/{lv}"), self.acc(f"fashion/sot-{t}K/{lv}")
                if a_stt is None or a_sot is None:
                    continue
                d = sign * (a_stt - a_sot)
                what = "STT - SOT, continuous levels" if sign > 0 else "SOT - STT, 32 notches + periodic carry"
                self.add(paper_row(f"Fashion-MNIST {t} K: {what} (final epoch)",
                                   "STT superior" if sign > 0 else "SOT higher", round(d, 2), d > lim,
                                   source=f"paper 003 Fig. {fig} and text", quote=quote, unit="points",
                                   target=f"> {lim:g} points", note=f"STT {a_stt:.2f} %, SOT {a_sot:.2f} %"))
            for k in TECHNOLOGIES:
                a3, a4 = self.acc(f"fashion/{k}-300K/{lv}"), self.acc(f"fashion/{k}-400K/{lv}")
                if a3 is None or a4 is None:
                    continue
                d = a3 - a4
                self.add(paper_row(f"Fashion-MNIST {k.upper()} {'continuous' if lv == 'cont' else '32 notches + carry'}: "
                                   "300 K - 400 K (final epoch)", "roughly the same", round(d, 2),
                                   abs(d) <= tg.temperature_max, source=f"paper 003 Fig. {fig} and text",
                                   quote=QUOTES["temperature"], unit="points", target=f"|.| <= {tg.temperature_max:g} points",
                                   note=f"300 K {a3:.2f} %, 400 K {a4:.2f} %"))

    def _fig5e(self) -> None:
        tg = self.tg
        levels = sorted({s["spec"].n_levels for s in self.stats.values()
                         if s["spec"].dataset == "fashion" and s["spec"].tables == "genuine" and s["spec"].n_levels
                         and s["spec"].temperature_k == 300 and not s["spec"].carry and s["spec"].family == "continuous"})

        def best(k: str, n: int, fam: str = "continuous") -> float | None:
            return self.acc(f"fashion/{k}-300K/{n}@{fam}", "best")

        pairs = [n for n in levels if best("stt", n) is not None and best("sot", n) is not None]
        if 32 in pairs:
            a_sot, a_stt = best("sot", 32), best("stt", 32)
            for k, v in (("SOT", a_sot), ("STT", a_stt)):
                self.add(paper_row(f"Fig. 5e: {k} 300 K, 32 notches, no carry, alpha {self.cfg.lr_continuous:g} (best of "
                                   f"{self.cfg.epochs} epochs)", f"{PAPER_5E[k.lower()]:g}%", round(v, 2), None,
                                   source="paper 003 Fig. 5e and text", quote=QUOTES["fig5e"], unit="%"), absolute=True)
            d = a_sot - a_stt
            self.add(paper_row("Fig. 5e: SOT - STT at 32 notches, the same alpha (best of epochs)",
                               f"{PAPER_5E['sot'] - PAPER_5E['stt']:g} (72% vs 10%)", round(d, 2),
                               d >= tg.sot_over_stt_32_min, source="paper 003 Fig. 5e and text", quote=QUOTES["fig5e"],
                               unit="points", target=f">= {tg.sot_over_stt_32_min:g} points",
                               note=f"SOT {a_sot:.2f} %, STT {a_stt:.2f} %"))
        if len(pairs) >= 2 and pairs[0] < pairs[-1]:
            lo, hi = pairs[0], pairs[-1]
            g_lo, g_hi = best("sot", lo) - best("stt", lo), best("sot", hi) - best("stt", hi)
            self.add(paper_row(f"Fig. 5e: SOT - STT converges with more notches ({lo} -> {hi} notches)",
                               "SOT much higher when the number of notches is small", f"{g_lo:.2f} -> {g_hi:.2f}",
                               abs(g_hi) <= tg.converge_max and abs(g_hi) < abs(g_lo),
                               source="paper 003 Fig. 5e and text", quote=QUOTES["fig5e_small"], unit="points",
                               target=f"|gap at {hi}| <= {tg.converge_max:g} points and below the gap at {lo}"))
            h_lo, h_hi = best("stt", lo, "notched"), best("stt", hi, "notched")
            if h_lo is not None and h_hi is not None:
                ok = best("stt", lo) < h_lo < best("sot", lo) and h_hi < best("sot", hi)
                self.add(paper_row(f"Fig. 5e: STT at the higher alpha {self.cfg.lr_notched:g} (dashed) between STT and SOT "
                                   f"at {lo} notches, below SOT at {hi}", "approximates the SOT benefit, lower at both ends",
                                   f"{h_lo:.2f} / {h_hi:.2f}", ok, source="paper 003 Fig. 5e and text",
                                   quote=QUOTES["fig5e_high"], unit="%",
                                   target=f"STT < STT(high alpha) < SOT at {lo}; STT(high alpha) < SOT at {hi}",
                                   note=f"at {lo}: STT {best('stt', lo):.2f}, SOT {best('sot', lo):.2f}; at {hi}: SOT "
                                        f"{best('sot', hi):.2f}"))

    def _ours(self) -> None:
        tg = self.tg
        for key, s in self.stats.items():
            spec = s["spec"]
            if spec.tables != "ours":
                continue
            gen_key = self.key_of(key.replace("-ours", ""))
            if gen_key not in self.stats:
                continue
            g, o = self.stats[gen_key]["final"], s["final"]
            gen_label = self.stats[gen_key]["spec"].label
            lim = tg.ours_continuous_max if spec.n_levels == 0 else tg.ours_notched_max
            self.rows.append(reference_row(
                f"{gen_label}: our 1D-model tables - the genuine MuMax3 tables (final epoch)", round(g, 2), round(o, 2),
                abs(o - g) <= lim, source=GENUINE_SOURCE, unit="%", target=f"|.| <= {lim:g} points",
                gap=f"ours - MuMax3 = {o - g:+.2f} points", note="same initial weights, image order and alpha"))

    def _learns(self) -> None:
        tg = self.tg
        for s in self.stats.values():
            spec = s["spec"]
            if spec.family != spec.default_family:
                continue
            lim = tg.learn_floor_notched if spec.n_levels else tg.learn_floor_continuous
            self.rows.append(check_row(f"{spec.label} learns (final-epoch test accuracy)", f">= {lim:g}",
                                       round(s["final"], 2), s["final"] >= lim, unit="%", target=f">= {lim:g} %",
                                       note=f"chance is 10 %; {self.protocol}"))



def notes_text(cfg: Any, lr_families: dict[str, float], energies: dict[str, float], *, full_protocol: bool) -> list[str]:
    """The notes paragraphs: protocol, the choices the paper does not state, and the differences from it."""
    n_train = cfg.n_train or 60000
    notes = [
        "**Protocol (paper 003).** A 784-300-10 MLP (785 x 300 and 301 x 10 matrices with the bias column), sigmoid "
        "hidden layer and softmax output in floating point, cross-entropy, SGD with batch size "
        f"{cfg.batch_size}, learning rate alpha then alpha/2, /3, /4, /5 from epochs 4, 6, 9, 11 (\"after the third, "
        "fifth, eighth and tenth\"), signed weights W = G+ - G- on two arrays with every update on the half with "
        "more headroom, device-to-device variation by 20 table instances per technology and temperature assigned "
        "at random (the genuine 300 K tables carry 20; the 400 K tables and our 1D-model tables hold one, perturbed "
        "to 20 by `devices.lookup_table.perturb_table`, R_P 12.8 %, TMR 6.9 %, normal). Updates are CrossSim's "
        "lookup-table rule (`TileConfig.update_rule='fractional'`): every device with a requested Delta-G draws "
        "once from its table, scaled to that fraction of the instance's mean step (mean and variance of m pulses); "
        "notched devices then round G to the nearest of N evenly spaced levels of the instance's range. Test "
        f"accuracy after every epoch on {'the 10,000' if not cfg.n_test else cfg.n_test} test images (the paper "
        f"validates on the test sets); this run: {n_train} training images x {cfg.epochs} epochs x {len(cfg.seed_list)} "
        "seed(s). All configurations of a seed share the initial weights and the image order.",
        f"**Choices the paper does not state.** Weight range: w_max = {cfg.w_max:g} per full conductance window "
        "on both layers (weights clip at +-w_max; CrossSim's normalised [-1, 1] range is assumed). Initial weights "
        "U(-1/sqrt(fan_in + 1), +): nn.Linear's default. No read noise and no ADC (the paper states neither). "
        "Periodic carry: two device pairs per weight, significance ratio "
        f"{cfg.significance_base:g}, a carry every {cfg.carry_every} updates of pairs past {cfg.carry_threshold:g} "
        "of their range (`TileConfig` defaults; CrossSim's own carry parameters could not be checked here). The "
        "backward pass uses the exact transposed weights (identical to a noiseless transposed read), so the "
        "read energy counts forward reads only.",
        "**Learning rates.** Paper 003 prints no alpha (\"alpha is the initial learning rate\"; increased for notched "
        "devices). Ours, per family: " + ", ".join(f"{k} {v:g}" for k, v in lr_families.items())
        + ". They come from a short search on a validation split held out of the training set (the `lr-search` "
        "preset; the test set untouched; table in the docstring of `experiments.dw_mlp_training`): best of 0.01 - 3 "
        "after 2 epochs on 4,000 Fashion-MNIST images. Fig. 5e's solid curves use the continuous alpha for both "
        "technologies (\"at the same learning rate\"), its dashed STT curve the notched alpha.",
        "**Energy.** Programming: the fraction of a pulse each fractional update draws, times the energy of the "
        f"paper's pulse I^2 R_write t on our track model (STT 50 uA x 1 ns: {energies['stt']:.3g} J; SOT 27 uA x "
        f"0.5 ns: {energies['sot']:.3g} J; `physics.dw_tracks` resistivities, an assumption of that module). Read: "
        "the crossbar's Joule energy of every forward read (`arrays.crossbar` defaults, V_read and t_read not from "
        "the paper). Initial programming of the weights is excluded from the per-image figures.",
    ]
    notes.append(
        "**Differences from the paper, and why.** (1) The learning rates, the weight range and the carry parameters "
        "are ours (above): the paper prints none, and the size of the notched loss depends on alpha / (w_max / 31), "
        "the requested update in units of one level. (2) Fig. 5e at 32 notches: the paper's STT stays at chance "
        f"(10 %) at its base alpha, i.e. every update rounded to zero; at our continuous alpha ({cfg.lr_continuous:g} "
        f"against a level of {cfg.w_max / 31:.3g}) the largest output-layer updates still pass half a level, so our "
        "STT can learn part of the task and the SOT - STT gap can be smaller than the paper's 62 points. (3) 400 K and our tables: 20 instances we perturbed from one "
        "table (the paper's own 400 K instances are not published). (4) Our 1D-model SOT steps spread 1.6 x MuMax3's "
        "(dw-lookup-tables), so SOT configurations on our tables are noisier updaters than the genuine ones. (5) The "
        "ideal numeric curve runs through the device engine (float32 conductances, weights clipped at +-w_max), not "
        "float64 SGD. (6) The paper preset needs the sweep executor of issue 14 to spread its configuration-seeds "
        "over processes; until then each is a resumable `--set configurations=...` run.")
    if not full_protocol:
        notes.append("**Not the paper's protocol.** This run trains on a subset and/or fewer epochs than the paper "
                     "(60,000 images x 20 epochs x 3 seeds): absolute accuracies are not comparable with the paper's "
                     "and are shown as such; differences between configurations (paired) are judged.")
    notes.append("**Time.** Measured samples/s, epoch times and the projected CPU-hours of the paper preset are in "
                 "the Timings section (they describe this execution, not the result).")
    return notes
