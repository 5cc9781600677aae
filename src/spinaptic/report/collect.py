"""Find run and sweep directories and turn their files into what the report shows.

Everything a reader sees is computed here (formatted values, paper-minus-ours differences, pass counts, the
command that reproduces a run), so that the HTML and Markdown templates only lay it out and cannot disagree.
Values are formatted with ``summary.md``'s own formatter, so a number reads the same in both places.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..experiments.comparison import KINDS, count_line, counts
from ..experiments.summary import format_value as fmt_value
from .reproduce import reproduce_command

SKIP_DIRS = frozenset({"checkpoints", "__pycache__", "node_modules"})
"""Never searched for runs: checkpoints hold no results; hidden directories (``.git``, ``.venv``) are skipped too."""
MAX_SWEEP_ROWS = 50
"""Rows of a sweep's ``results.csv`` shown in the report (the file itself has them all)."""
NOT_REPRODUCTIONS = ("check", "reference", "calibrated")


class ReportError(ValueError):
    """Input the report cannot use (no such directory, nothing to report); the CLI prints it as one line."""


@dataclass
class Row:
    """One comparison row, every cell already a string."""

    quantity: str
    paper: str
    ours: str
    unit: str
    target: str
    verdict: str
    note: str
    source: str
    quote: str
    diff: str


@dataclass
class Figure:
    """A figure of a run or sweep: ``src`` in the input directory, ``href`` its copy relative to the report."""

    name: str
    src: Path
    href: str = ""
    missing: str = ""


@dataclass
class Run:
    """One run directory, ready to render."""

    anchor: str
    path: Path
    experiment: str
    title: str
    paper: str
    preset: str
    seed: Any
    facts: list[tuple[str, str]]
    rows: dict[str, list[Row]]
    count_line: str
    figures: list[Figure]
    command: str
    command_notes: list[str]
    config_json: str
    notes: str
    counts: dict[str, dict[str, int]]


@dataclass
class Sweep:
    """One sweep directory: its description, the head of ``results.csv`` and its plots."""

    anchor: str
    path: Path
    title: str
    facts: list[tuple[str, str]]
    meta_json: str
    columns: list[str]
    rows: list[list[str]]
    n_rows: int
    figures: list[Figure]


@dataclass
class PaperSummary:
    """One line of the summary table (one paper, as the runs name it, e.g. ``000`` or ``001, 003``)."""

    paper: str
    experiments: list[tuple[str, str]] = field(default_factory=list)
    runs: int = 0
    paper_pass: int = 0
    paper_short: int = 0
    paper_total: int = 0
    reference_pass: int = 0
    reference_total: int = 0
    check_pass: int = 0
    check_total: int = 0
    calibrated: int = 0


# ----------------------------------------------------------------------------------------- finding
def find_dirs(paths: list[Path], exclude: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Run and sweep directories named by ``paths``: each is one, or a parent searched recursively.

    A sweep directory is not searched further (its points are summarised by its own table); neither is a run
    directory, ``checkpoints/``, a hidden directory or ``exclude`` (the report's own output directory).
    """
    runs: dict[Path, None] = {}
    sweeps: dict[Path, None] = {}
    skip = exclude.resolve() if exclude is not None else None

    def walk(d: Path) -> None:
        if d.resolve() == skip:
            return
        if (d / "sweep.json").is_file():
            sweeps[d.resolve()] = None
        elif (d / "result.json").is_file():
            runs[d.resolve()] = None
        else:
            for child in sorted(d.iterdir()):
                if child.is_dir() and not child.is_symlink() and child.name not in SKIP_DIRS \
                        and not child.name.startswith("."):
                    walk(child)

    for p in paths:
        p = Path(p)
        if p.is_file() and p.name in ("result.json", "sweep.json"):
            p = p.parent
        if not p.is_dir():
            raise ReportError(f"{p} is not a directory (expected a run or sweep directory, or a folder holding them)")
        walk(p)
    if not runs and not sweeps:
        raise ReportError(f"no result.json or sweep.json under {', '.join(str(p) for p in paths)}")
    return list(runs), list(sweeps)


# ----------------------------------------------------------------------------------------- values
_NUMBER = re.compile(r"^\s*(?:~|\u2248|about|approximately|approx\.)?\s*"
                     r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def as_number(v: Any, unit: str = "") -> float | None:
    """``v`` as a float when it is a number, or a string holding only a number and (optionally) ``unit``.

    ``"0.21 nJ"`` with unit ``nJ`` and ``"~80 uA"`` with ``uA`` are numbers; ``"0.21 nJ (one pass)"``,
    ``"+0.07/-0.15"`` and ``"linear"`` are not (the paper's words are shown, not reinterpreted).
    """
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, str):
        m = _NUMBER.match(v)
        if m and m.group(2).replace(" ", "") in ("", unit.replace(" ", "")):
            return float(m.group(1))
    return None


def difference(paper: Any, ours: Any, unit: str = "") -> str:
    """``ours - paper`` (and relative to the paper's value) when both are numeric, elementwise for lists; else ""."""
    u = f" {unit}" if unit else ""
    if isinstance(paper, list) and isinstance(ours, list):
        if not paper or len(paper) != len(ours):
            return ""
        pairs = [(as_number(p, unit), as_number(o, unit)) for p, o in zip(paper, ours)]
        if any(p is None or o is None for p, o in pairs):
            return ""
        return ", ".join(f"{o - p:+.4g}" for p, o in pairs) + u
    p, o = as_number(paper, unit), as_number(ours, unit)
    if p is None or o is None:
        return ""
    d = o - p
    return f"{d:+.4g}{u}" + (f" (rel. {d / abs(p) * 100:+.1f} %)" if p else "")


def duration(seconds: Any) -> str:
    """Wall time as ``2.2 s``, ``4 min 36 s`` or ``2 h 05 min``."""
    if not isinstance(seconds, int | float):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def slug(text: str) -> str:
    """File- and anchor-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "x"


# ----------------------------------------------------------------------------------------- loading
def _row(c: dict[str, Any]) -> Row:
    return Row(str(c.get("quantity", "")), fmt_value(c.get("paper", "")), fmt_value(c.get("ours", "")),
               str(c.get("unit", "")), str(c.get("target", "")), str(c.get("verdict", "")), str(c.get("note", "")),
               str(c.get("source", "")), str(c.get("quote", "")),
               difference(c.get("paper"), c.get("ours"), str(c.get("unit", ""))) if c.get("kind") == "paper" else "")


def _figures(base: Path, names: list[str]) -> list[Figure]:
    out = []
    root = base.resolve()
    for name in names:
        src = base / str(name)
        reason = ""
        if not src.resolve().is_relative_to(root):
            reason = "outside the run directory"
        elif not src.is_file():
            reason = "file missing"
        out.append(Figure(str(name), src, missing=reason))
    return out


def load_run(path: Path, anchor: str) -> Run:
    """The `Run` of directory ``path`` (ReportError if its result.json is unreadable)."""
    try:
        doc = json.loads((path / "result.json").read_text(encoding="utf-8"))
        comps = list(doc.get("comparisons", []))
        experiment = str(doc["experiment"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ReportError(f"{path}/result.json is not a spinaptic result ({type(e).__name__}: {e})") from None
    comps = [c for c in comps if isinstance(c, dict)]
    rows = {k: [_row(c) for c in comps if c.get("kind", "check") == k] for k in KINDS}
    rep = reproduce_command(doc)
    resumed = doc.get("resume", {}).get("resumed_stages", []) if isinstance(doc.get("resume"), dict) else []
    facts = [("preset", str(doc.get("preset", "?"))), ("seed", str(doc.get("seed", "?"))),
             ("run time", duration(doc.get("wall_time_s"))), ("started", str(doc.get("started", "?"))),
             ("device", f"{doc.get('device', '?')} ({doc.get('backend', '?')})"),
             ("spinaptic", str(doc.get("spinaptic_version", "?"))), ("torch", str(doc.get("torch_version", "?"))),
             ("python", str(doc.get("python_version", "?"))), ("source hash", str(doc.get("source_hash", "?"))),
             ("run directory", str(path))]
    if resumed:
        facts.append(("resumed stages", ", ".join(map(str, resumed))))
    return Run(anchor, path, experiment, str(doc.get("title", experiment)), str(doc.get("paper", "?")),
               str(doc.get("preset", "?")), doc.get("seed", "?"), facts, rows, count_line(comps),
               _figures(path, list(doc.get("figures", []))), rep.command, rep.notes, rep.config_json,
               str(doc.get("notes", "") or "").strip(), counts(comps))


def _short_json(v: Any, limit: int = 160) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def load_sweep(path: Path, anchor: str) -> Sweep:
    """The `Sweep` of directory ``path``: sweep.json's fields, the first `MAX_SWEEP_ROWS` rows, plots/*.png."""
    try:
        meta = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}/sweep.json is unreadable ({type(e).__name__}: {e})") from None
    columns: list[str] = []
    rows: list[list[str]] = []
    n = 0
    if (path / "results.csv").is_file():
        with open(path / "results.csv", newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            columns = next(reader, [])
            for r in reader:
                n += 1
                if n <= MAX_SWEEP_ROWS:
                    rows.append((r + [""] * len(columns))[: max(len(columns), len(r))])
    name = path.name
    facts: list[tuple[str, str]] = [("sweep directory", str(path))]
    if isinstance(meta, dict):
        name = str(meta.get("title") or meta.get("name") or meta.get("experiment") or name)
        facts += [(str(k), _short_json(v)) for k, v in meta.items() if not isinstance(v, dict | list)
                  or len(json.dumps(v)) <= 160]
    plots = sorted(p.name for p in (path / "plots").glob("*") if p.suffix.lower() in (".png", ".svg", ".jpg"))
    return Sweep(anchor, path, name, facts, json.dumps(meta, indent=1)[:20000], columns, rows, n,
                 _figures(path / "plots", plots))


def paper_summaries(runs: list[Run]) -> list[PaperSummary]:
    """The summary table: per paper (as named by its runs), the runs' rows counted by kind and verdict."""
    by: dict[str, PaperSummary] = {}
    for r in runs:
        s = by.setdefault(r.paper, PaperSummary(r.paper))
        if r.experiment not in [e for e, _ in s.experiments]:
            s.experiments.append((r.experiment, r.anchor))
        s.runs += 1
        c = r.counts
        s.paper_pass += c.get("paper", {}).get("pass", 0)
        s.paper_short += c.get("paper", {}).get("short", 0)
        s.paper_total += sum(c.get("paper", {}).values())
        s.reference_pass += c.get("reference", {}).get("pass", 0)
        s.reference_total += sum(c.get("reference", {}).values())
        s.check_pass += c.get("check", {}).get("pass", 0)
        s.check_total += sum(c.get("check", {}).values())
        s.calibrated += sum(c.get("calibrated", {}).values())
    return [by[k] for k in sorted(by)]


def total(summaries: list[PaperSummary]) -> PaperSummary:
    """The all-papers line of the summary table."""
    t = PaperSummary("all")
    for s in summaries:
        t.experiments += [e for e in s.experiments if e not in t.experiments]
        for k in ("runs", "paper_pass", "paper_short", "paper_total", "reference_pass", "reference_total",
                  "check_pass", "check_total", "calibrated"):
            setattr(t, k, getattr(t, k) + getattr(s, k))
    return t



def gather(paths: list[Path], exclude: Path | None = None) -> tuple[list[Run], list[Sweep], list[str]]:
    """Every run and sweep under ``paths`` (runs ordered by paper, experiment, preset, seed), unique anchors,
    and warnings for directories that could not be read (they are left out, not fatal)."""
    run_dirs, sweep_dirs = find_dirs(paths, exclude)
    warnings: list[str] = []
    runs: list[Run] = []
    sweeps: list[Sweep] = []
    for d in run_dirs:
        try:
            runs.append(load_run(d, ""))
        except ReportError as e:
            warnings.append(str(e))
    for d in sweep_dirs:
        try:
            sweeps.append(load_sweep(d, ""))
        except ReportError as e:
            warnings.append(str(e))
    runs.sort(key=lambda r: (r.paper, r.experiment, r.preset, str(r.seed), str(r.path)))
    used: set[str] = set()
    for item in [*runs, *sweeps]:
        base = slug(f"{item.experiment}-{item.preset}-seed{item.seed}" if isinstance(item, Run)
                    else f"sweep-{item.path.name}")
        item.anchor, i = base, 1
        while item.anchor in used:
            i += 1
            item.anchor = f"{base}-{i}"
        used.add(item.anchor)
    for item in [*runs, *sweeps]:
        where = "run" if isinstance(item, Run) else "sweep"
        warnings += [f"{where} {item.path}: figure {f.name!r} not shown ({f.missing})" for f in item.figures if f.missing]
    return runs, sweeps, warnings
