"""The sweep's tidy table, plots and summary, built only from ``sweep.json`` and the points' ``result.json``.

``results.csv`` has one row per point: id, the swept values, seed, status, error, every scalar metric
(nested dicts flattened with dotted names; lists are left to the point's own result.json) and, for every
comparison row, ``cmp.<slug of its quantity>.ours`` and ``.verdict``. Wall times are kept out of it (they
are in sweep.json), so the same sweep gives the same file byte for byte whichever executor ran it.
``results.parquet`` is the same table when pyarrow is importable. Plots show each numeric metric against each
numeric swept parameter: mean over seeds with their standard deviation as error bars, one line per
combination of the other parameters.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_bytes, atomic_write_text

FIXED = ("id", "seed", "status", "error")


def slug(text: str) -> str:
    """``"Monte-Carlo vs Néel-Brown (worst)"`` -> ``"monte_carlo_vs_neel_brown_worst"``."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", t.lower()).strip("_") or "row"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | dict | tuple):
        return json.dumps(v)
    return str(v)


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> bool:
    """Write ``rows`` (dicts; missing keys empty) as CSV atomically, floats at full precision; returns whether
    the content changed (an unchanged file is left alone)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    text = buf.getvalue()
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    atomic_write_text(path, text)
    return True


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif not isinstance(v, list):
            out[prefix + str(k)] = v
    return out


def point_row(entry: dict[str, Any], result: dict[str, Any] | None) -> tuple[dict[str, Any], list[str], list[str]]:
    """One table row of a point (sweep.json entry + its result.json) and its metric / comparison columns."""
    row = {"id": entry["id"], **entry["params"], "seed": entry["seed"], "status": entry["status"],
           "error": entry.get("error", "")}
    metrics = _flatten(result.get("metrics") or {}) if result else {}
    row.update(metrics)
    cmp_cols: list[str] = []
    seen: dict[str, int] = {}
    for c in (result or {}).get("comparisons") or []:
        s = slug(c.get("quantity", ""))
        seen[s] = seen.get(s, 0) + 1
        s = s if seen[s] == 1 else f"{s}_{seen[s]}"
        row[f"cmp.{s}.ours"], row[f"cmp.{s}.verdict"] = c.get("ours"), c.get("verdict")
        cmp_cols += [f"cmp.{s}.ours", f"cmp.{s}.verdict"]
    return row, list(metrics), cmp_cols


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def results_table(out: Path, doc: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """(columns, rows, metric columns) of the sweep, reading each finished point's result.json."""
    params = list(doc["params"])
    rows, metric_cols, cmp_cols = [], {}, {}
    for e in doc["points"]:
        result = _read_result(out / e["dir"] / "result.json") if e["status"] == "done" else None
        row, m, c = point_row(e, result)
        rows.append(row)
        metric_cols.update(dict.fromkeys(m))
        cmp_cols.update(dict.fromkeys(c))
    columns = ["id", *params, "seed", "status", "error", *metric_cols, *cmp_cols]
    return columns, rows, list(metric_cols)


def _write_parquet(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> bool:
    """The table as Parquet (numeric columns typed, mixed ones as strings); False without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    arrays = {}
    for c in columns:
        vals = [r.get(c) for r in rows]
        present = [v for v in vals if v is not None]
        if present and all(isinstance(v, bool) for v in present):
            arrays[c] = pa.array(vals, pa.bool_())
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            arrays[c] = pa.array(vals, pa.int64())
        elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            arrays[c] = pa.array([None if v is None else float(v) for v in vals], pa.float64())
        else:
            arrays[c] = pa.array([None if v is None else _cell(v) for v in vals], pa.string())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(arrays), sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return True


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def plot_name(metric: str, param: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._+-]+", "_", f"{metric}_vs_{param}")
    return f"{safe}.png"


def plot_names(params: dict[str, list[Any]], rows: list[dict[str, Any]], metrics: list[str]
               ) -> list[tuple[str, str, str]]:
    """``(file name, metric, param)`` of every plot: numeric metrics x numeric swept parameters. A metric with
    the same value at every point is left out (a flat line says nothing the table does not)."""
    done = [r for r in rows if r["status"] == "done"]
    numeric_params = [p for p, vals in params.items() if all(_number(v) is not None for v in vals)]
    numeric_metrics = [m for m in metrics
                       if all(r.get(m) is None or _number(r.get(m)) is not None or r.get(m) in ("inf", "-inf")
                              for r in done) and len({_number(r.get(m)) for r in done} - {None}) > 1]
    return [(plot_name(m, p), m, p) for p in numeric_params for m in numeric_metrics]


def write_plots(out: Path, params: dict[str, list[Any]], rows: list[dict[str, Any]],
                plots: list[tuple[str, str, str]]) -> None:
    """Draw ``plots`` (from `plot_names`) into ``out/plots/``: mean over seeds, std error bars, one line per
    combination of the other swept parameters."""
    import numpy as np
    from matplotlib.figure import Figure

    done = [r for r in rows if r["status"] == "done"]
    n_seeds = len({r["seed"] for r in done})
    for name, metric, param in plots:
        others = [p for p in params if p != param]
        xs = sorted({float(v) for v in params[param]})
        groups: dict[tuple, dict[float, list[float]]] = {}
        for r in done:
            y = _number(r.get(metric))
            if y is not None:
                key = tuple(_cell(r[o]) for o in others)
                groups.setdefault(key, {}).setdefault(float(r[param]), []).append(y)
        fig = Figure(figsize=(5.5, 4))
        fig.subplots_adjust(left=0.16, right=0.97, bottom=0.12, top=0.91)
        ax = fig.subplots()
        for key, by_x in groups.items():
            x = [v for v in xs if v in by_x]
            ys = [np.asarray(by_x[v]) for v in x]
            mean = [float(a.mean()) for a in ys]
            std = [float(a.std(ddof=1)) if a.size > 1 else 0.0 for a in ys]
            label = ", ".join(f"{o}={k}" for o, k in zip(others, key)) or None
            ax.errorbar(x, mean, yerr=std, marker="o", ms=4, capsize=3, label=label)
        ax.set_xlabel(param)
        ax.set_ylabel(metric)
        ax.set_title(f"mean ± std over {n_seeds} seed(s)", fontsize=8, loc="right")
        if len(xs) > 2 and xs[0] > 0 and xs[-1] / xs[0] >= 100:
            ax.set_xscale("log")
        if any(k for k in groups):
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        atomic_write_bytes(out / "plots" / name, buf.getvalue())


def _md_table(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    def fmt(v: Any) -> str:
        s = f"{v:.4g}" if isinstance(v, float) else _cell(v)
        return s.replace("|", "\\|").replace("\n", " ")[:80]

    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *("| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows)]


def render_summary(doc: dict[str, Any], columns: list[str], rows: list[dict[str, Any]], metrics: list[str],
                   plots: list[str], head: int = 10) -> str:
    """``summary.md``: the spec, counts, every point (linked to its own summary), the table head, the plots."""
    c = doc["counts"]
    lines = [f"# Sweep: {doc['experiment']} [{doc['preset']}]", "",
             f"Status **{doc['status']}**: {c['done']} done, {c['failed']} failed, {c['total']} points "
             f"({len(doc['params'])} parameter(s) x {doc['seeds']} seed(s)); executor {doc['executor']}, device "
             f"{doc['device']}; started {doc['started']}, finished {doc['finished']}.", ""]
    for name, vals in doc["params"].items():
        lines.append(f"- `{name}`: {', '.join(_cell(v) for v in vals)}")
    for name, v in doc["overrides"].items():
        lines.append(f"- fixed `{name}` = {_cell(v)}")
    lines += ["", "## Points", ""]
    params = list(doc["params"])
    point_rows = [{**e["params"], "seed": e["seed"], "status": e["status"] + (" (reused)" if e["reused"] else ""),
                   "point": f"[{e['id']}]({e['dir']}/summary.md)", "error": e["error"]} for e in doc["points"]]
    lines += _md_table(["point", *params, "seed", "status", "error"], point_rows)
    shown = [*params, "seed", "status", *metrics[:6]]
    lines += ["", f"## results.csv (first {min(head, len(rows))} of {len(rows)} rows, {len(columns)} columns; "
              f"first {min(6, len(metrics))} metrics shown)", ""]
    lines += _md_table(shown, rows[:head])
    if plots:
        lines += ["", "## Plots", "", *(f"- [{p}](plots/{p})" for p in plots)]
    return "\n".join(lines) + "\n"


def write_outputs(out: Path, doc: dict[str, Any]) -> None:
    """results.csv (+ .parquet), plots/ and summary.md of the sweep recorded in ``doc``."""
    columns, rows, metrics = results_table(out, doc)
    changed = write_csv(out / "results.csv", columns, rows)
    if (changed or not (out / "results.parquet").exists()) and not _write_parquet(out / "results.parquet", columns, rows):
        (out / "results.parquet").unlink(missing_ok=True)  # no pyarrow: never leave a stale table beside the csv
    params = doc["params"]
    plots = plot_names(params, rows, metrics)
    # Plots depend only on the table: redrawn when it changed or one is missing (a rerun that recomputed
    # nothing redraws nothing).
    if changed or not all((out / "plots" / name).exists() for name, _, _ in plots):
        write_plots(out, params, rows, plots)
    atomic_write_text(out / "summary.md", render_summary(doc, columns, rows, metrics, [n for n, _, _ in plots]))
