"""What a comparison row is, so that a reader can tell a reproduction from a self-check.

Every row has a ``kind``:

* ``paper``: a number or statement printed in the paper. ``source`` names the figure, table or section,
  ``paper`` holds the value as the paper states it and ``quote`` a short verbatim piece of the paper's text
  containing it (a test checks every quote against the paper, so nothing else can be labelled as the paper's).
* ``reference``: a literature or textbook value (an analytic formula, another paper); ``source`` cites it.
* ``check``: self-consistency of our own code (integrator vs our analytic formula, Monte-Carlo vs its law).
* ``calibrated``: a quantity we fitted to a target; shown with that target, never counted as a pass.

Only paper and reference rows are reproductions; `count_line` counts the kinds apart, e.g.
``paper: 9 pass, 3 short · reference: 2 pass · checks: 12 pass · calibrated: 4``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERDICTS = ("pass", "short", "not-comparable", "info")
KINDS = ("paper", "reference", "check", "calibrated")
KIND_TITLES = {"paper": "Against the paper", "reference": "Against reference values",
               "check": "Self-consistency checks (our code against itself; not reproductions)",
               "calibrated": "Calibrated quantities (fitted to a target; never a pass)"}


@dataclass
class Comparison:
    """One row of the comparison table.

    Attributes:
        quantity: what is compared, with the run's own settings in the label (e.g. "TMR 150 %").
        paper: the paper's value as printed (``kind="paper"``), the reference value, the expected value of a
            check, or the target a calibrated quantity was fitted to.
        ours: our value.
        unit: unit of both values.
        target: the pass criterion, fixed before the run (from a config field; its justification in ``note``
            or in the field's docstring).
        verdict: "pass" (meets the target), "short" (misses it; ``note`` states the gap and why),
            "not-comparable" (``note`` says why) or "info" (shown, not judged). Calibrated rows are "info".
        note: gap, reason, caveats.
        kind: "paper", "reference", "check" or "calibrated" (see the module docstring).
        source: figure / table / section of the paper, or the citation of a reference value.
        quote: verbatim text of the paper containing its value (paper rows only).
    """

    quantity: str
    paper: Any
    ours: Any
    unit: str = ""
    target: str = ""
    verdict: str = "info"
    note: str = ""
    kind: str = ""
    source: str = ""
    quote: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} not in {VERDICTS}")
        if self.kind not in KINDS:
            raise ValueError(f"comparison {self.quantity!r}: kind {self.kind!r} not in {KINDS}")
        if self.kind == "paper" and not (self.source and self.quote):
            raise ValueError(f"paper row {self.quantity!r} needs a source (figure/table/section) and a verbatim quote")
        if self.kind == "reference" and not self.source:
            raise ValueError(f"reference row {self.quantity!r} needs a source (citation)")
        if self.kind == "calibrated" and self.verdict not in ("info", "not-comparable"):
            raise ValueError(f"calibrated row {self.quantity!r} cannot carry verdict {self.verdict!r}")
        if self.kind != "paper" and self.quote:
            raise ValueError(f"row {self.quantity!r}: only paper rows quote the paper")
        if not self.source:
            self.source = {"check": "self-consistency of spinaptic's own code", "calibrated": "calibration"}[self.kind]


def _verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("pass" if ok else "short")


def _note(ok: bool | None, gap: str, note: str, ours: Any, target: str) -> str:
    if ok is False:
        gap = gap or f"ours {ours} vs target {target}"
        return f"{gap}; {note}" if note else gap
    return note


def paper_row(quantity: str, paper: Any, ours: Any, ok: bool | None, *, source: str, quote: str, unit: str = "",
              target: str = "", gap: str = "", note: str = "") -> Comparison:
    """A row against a value printed in the paper (``ok=None``: shown without a verdict)."""
    return Comparison(quantity, paper, ours, unit, target, _verdict(ok), _note(ok, gap, note, ours, target),
                      "paper", source, quote)


def reference_row(quantity: str, reference: Any, ours: Any, ok: bool | None, *, source: str, unit: str = "",
                  target: str = "", gap: str = "", note: str = "") -> Comparison:
    """A row against a literature / textbook / analytic value cited in ``source``."""
    return Comparison(quantity, reference, ours, unit, target, _verdict(ok), _note(ok, gap, note, ours, target),
                      "reference", source)


def check_row(quantity: str, expected: Any, ours: Any, ok: bool | None, *, unit: str = "", target: str = "",
              gap: str = "", note: str = "") -> Comparison:
    """A self-consistency check of our own code (not a reproduction)."""
    return Comparison(quantity, expected, ours, unit, target, _verdict(ok), _note(ok, gap, note, ours, target), "check")


def calibrated_row(quantity: str, fitted_to: Any, ours: Any, *, unit: str = "", note: str = "",
                   source: str = "") -> Comparison:
    """A quantity fitted to ``fitted_to`` (shown beside it; never a pass)."""
    return Comparison(quantity, fitted_to, ours, unit, "fitted", "info", note, "calibrated", source)


def counts(rows: list[dict[str, Any]] | list[Comparison]) -> dict[str, dict[str, int]]:
    """``{kind: {verdict: n}}`` of a list of rows (dicts as in result.json, or Comparison objects)."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        kind, verdict = (r["kind"], r["verdict"]) if isinstance(r, dict) else (r.kind, r.verdict)
        out.setdefault(kind, {}).setdefault(verdict, 0)
        out[kind][verdict] += 1
    return out


def count_line(rows: list[dict[str, Any]] | list[Comparison]) -> str:
    """E.g. ``paper: 9 pass, 3 short · reference: 2 pass · checks: 12 pass · calibrated: 4``."""
    c = counts(rows)
    parts = []
    for kind, label in (("paper", "paper"), ("reference", "reference"), ("check", "checks")):
        if kind in c:
            v = c[kind]
            items = [f"{v[k]} {k}" for k in ("pass", "short", "not-comparable", "info") if v.get(k)]
            parts.append(f"{label}: {', '.join(items)}")
    if "calibrated" in c:
        parts.append(f"calibrated: {sum(c['calibrated'].values())}")
    return " · ".join(parts) if parts else "no comparisons"


# ----------------------------------------------------------------------------------------- paper quotes
def normalise_text(text: str) -> str:
    """Text as compared for quotes: NFKC, one kind of dash and quote mark, hyphenation and spacing undone."""
    t = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    t = re.sub(r"[\u2010-\u2015\u2212]", "-", t)
    t = re.sub(r"[\u2018\u2019\u201b\u2032]", "'", t)
    t = re.sub(r"[\u201c\u201d\u201f\u2033]", '"', t)
    t = re.sub(r"-\s*\n\s*", "-", t)
    return re.sub(r"\s+", " ", t).strip().lower()


def find_paper_text(paper_id: str, papers_dir: str | Path | None = None) -> str | None:
    """The plain text of paper ``paper_id`` ("000"...) from ``papers_dir`` / ``$SPINAPTIC_PAPERS`` /
    ``../shared/papers`` near the working directory, or None when no copy is found."""
    import os

    cands = [Path(p) for p in (papers_dir, os.environ.get("SPINAPTIC_PAPERS")) if p]
    here = Path.cwd().resolve()
    cands += [d / "shared" / "papers" for d in (here, *here.parents)]
    for d in cands:
        hits = sorted(d.glob(f"{paper_id}_*.txt")) if d.is_dir() else []
        if hits:
            return hits[0].read_text(encoding="utf-8", errors="replace")
    return None


def quote_in_text(quote: str, text: str) -> bool:
    """Whether ``quote`` occurs (after `normalise_text`) in ``text``."""
    return normalise_text(quote) in normalise_text(text)
