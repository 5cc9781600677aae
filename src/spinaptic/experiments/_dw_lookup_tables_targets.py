"""Pass criteria, paper numbers and notes text of the dw-lookup-tables experiment (kept apart from the wiring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import check_range

__all__ = ["GENUINE_SOURCE", "PAPER_TABLE_I", "TABLE_I_QUOTE", "DWLookupTablesTargets", "notes_text"]

PAPER_TABLE_I = {"stt": {"nl_plus": 0.07, "nl_minus": -0.15, "c2c_percent": 0.77},
                 "sot": {"nl_plus": 0.80, "nl_minus": -0.81, "c2c_percent": 3.23}}
"""Paper 003 Table I (300 K): nonlinearity (+/- updates, NeuroSim label via Sun & Yu 2019) and cycle-to-cycle
variation."""

TABLE_I_QUOTE = {"stt": "Domain wall STT +0.07/-0.15 0.77%", "sot": "Domain wall SOT +0.80/-0.81 3.23%"}
GENUINE_SOURCE = "paper 003's MuMax3 lookup tables (CrossSim data release, BSD-3; `dwmtj-lookup-tables/`)"


@dataclass(frozen=True)
class DWLookupTablesTargets:
    """Pass criteria, fixed before the run.

    Attributes:
    nl_abs_tol: Table I nonlinearity, |ours - paper| <= 0.25: our NeuroSim extraction applied to the paper's own
        MuMax3 tables differs from Table I by up to 0.23 (SOT +), the uncertainty of the definition itself.
    c2c_factor: Table I cycle-to-cycle, ours within this factor either way: the same extraction gives 0.73-0.78 x
        Table I on the paper's own tables (~30 %), plus ~5 % spread between seeds of 30 ramps.
    spread_factor: step spread (sigma of Delta-G) of the 1D model vs the MuMax3 tables, within this factor either
        way (issue 9: 1.3; the 30-ramp seed spread of our sigma is ~10 %).
    sot_over_stt_min: "significantly more pronounced in the SOT devices": SOT c2c at least twice STT's (Table I 4.2).
    """

    nl_abs_tol: float = 0.25
    c2c_factor: float = 1.35
    spread_factor: float = 1.3
    sot_over_stt_min: float = 2.0

    def __post_init__(self) -> None:
        check_range("nl_abs_tol", self.nl_abs_tol, 0.0, 10.0, lo_open=True)
        check_range("c2c_factor", self.c2c_factor, 1.0, 10.0)
        check_range("spread_factor", self.spread_factor, 1.0, 10.0)
        check_range("sot_over_stt_min", self.sot_over_stt_min, 0.0, 100.0)


def notes_text(params: dict[str, Any], metrics: dict[str, Any], *, calibrated_here: bool, n_instances: int,
               rp_sigma: float, tmr_sigma: float, save_tables: bool) -> list[str]:
    """The notes paragraphs of the result: definitions, the fitted 1D-model parameters (``params`` by kind and the
    run's ``metrics``), temperature and device-to-device variation."""
    fitted = ", ".join(f"{k.upper()}: notch depth {params[k].notch_depth_j:.3g} J "
                       f"({metrics[f'{k}_notch_depth_kBT300']:.1f} k_BT at 300 K), notch range {params[k].notch_width_m * 1e9:.3g} nm, "
                       f"current x{params[k].current_scale:.3g} ({metrics[f'{k}_pulse_current_uA']:.1f} uA, i.e. effective "
                       f"cross-section {metrics[f'{k}_effective_cross_section_nm2']:.0f} nm^2)" for k in params)
    notes = [
        "**Definitions.** Nonlinearity: the mean conductance response of 4000 Monte-Carlo devices sampled from the table, "
        "from G_min (potentiation) or G_max (depression), over round((G_max-G_min)/|mean step|) pulses, normalised to its "
        "end points and fitted with NeuroSim's G(P) = B(1 - exp(-P/A)) + G_min (depression in the same frame); the fitted A "
        "is turned into NeuroSim's nonlinearity label (10.1015 x the largest deviation from a straight line, which "
        "reproduces NeuroSim's label-to-A table; Sun & Yu 2019 = paper 003's Ref. 12). Cycle-to-cycle: standard deviation "
        "of the per-pulse Delta-G at fixed G over G_max - G_min, averaged over bins, directions and instances.",
        "**Genuine tables vs Table I.** Applied to the published MuMax3 tables, these definitions give the nonlinearity "
        "of Table I within ~0.05 (STT) and ~0.25 (SOT), but cycle-to-cycle values ~0.75 x the paper's: the paper computed "
        "them from its raw 930 ramp points (not published), which the smoothed tables do not fully retain.",
        f"**Fitted 1D-model parameters** ({'grid search in this run' if calibrated_here else 'the shared paper-003 calibration of `physics.dw_tracks` = an earlier grid search of the paper preset'}; "
        f"targets: the genuine 300 K instance-0 mean step and step spread over the range, both directions): {fitted}. "
        "Paper 003 gives the notch geometry (semicircles, r = 5 nm) but not its pinning energy; the current "
        "cross-section multiplier absorbs the 1D model's drive efficiency. The MTJ R_P / TMR (not given in the paper) "
        "are set so that the first and last notch read the genuine G range; 0 K and 400 K tables are predictions.",
        "**Temperature.** The MuMax3 tables step further per pulse at 0 K (about 1.8 notch pitches for STT, 2.1 for SOT, "
        "deterministically) than at 300 K (1.1 and 1.4): thermal noise *shortens* their mean step. The 1D model, calibrated "
        "at 300 K, steps exactly one notch per pulse at 0 K (the design intent of paper 003: 'to shift the DW-MTJ by one "
        "weight level') and a little more at 300-400 K. Its SOT steps are bimodal (pinned, or several notches at once: the "
        "wall runs near the DMI saturation velocity and keeps moving after the pulse), so with the mean step matched its "
        "step spread is ~1.6 x MuMax3's (cycle-to-cycle ~4 % against MuMax3's 2.5 % and the paper's 3.23 %).",
        "**Device-to-device.** Our 300 K tables carry "
        f"{n_instances} instances with R_P and TMR drawn with sigma {rp_sigma:.1%} / {tmr_sigma:.1%} "
        "(G = f G_P + (1-f) G_AP kept at the same wall position f); instance 0 is nominal.",
    ]
    if save_tables:
        notes.append("Our tables are saved as NPZ in `tables/` (readable by `spinaptic.devices.lookup_table.load_table`).")
    return notes
