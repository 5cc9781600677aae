"""``summary.md``: a run's numbers beside the paper's, its metrics, tables, figures, notes and configuration."""

from __future__ import annotations

import json
from typing import Any

from .comparison import KIND_TITLES, KINDS, count_line


def format_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(format_value(x) for x in v)
    return str(v)


def render_summary(doc: dict[str, Any]) -> str:
    """Markdown summary: our numbers beside the paper's, verdicts, figures, notes."""
    lines = [
        f"# {doc['title']} (`{doc['experiment']}`)",
        "",
        f"Paper {doc['paper']} · preset `{doc['preset']}` · seed {doc['seed']} · device {doc['device']} · "
        f"{doc['wall_time_s']:.1f} s · spinaptic {doc['spinaptic_version']}, torch {doc['torch_version']}",
        "",
    ]
    resumed = doc.get("resume", {}).get("resumed_stages", [])
    if resumed:
        lines += [f"Resumed from checkpoints: {', '.join(resumed)}.", ""]
    comps = doc["comparisons"]
    if comps:
        lines += [f"**Comparisons: {count_line(comps)}** (only paper and reference rows are reproductions)", ""]
        for kind in KINDS:
            rows = [c for c in comps if c.get("kind", "check") == kind]
            if not rows:
                continue
            lines += [f"## {KIND_TITLES[kind]}", ""]
            if kind == "paper":
                lines += ["| quantity | paper | ours | unit | target | verdict | source: quote | note |",
                          "|---|---|---|---|---|---|---|---|"]
            else:
                lines += ["| quantity | " + ("reference" if kind == "reference" else "fitted to" if kind == "calibrated"
                                            else "expected") + " | ours | unit | target | verdict | "
                          + ("source | " if kind != "check" else "") + "note |",
                          "|---|---|---|---|---|---|" + ("---|" if kind != "check" else "") + "---|"]
            for c in rows:
                verdict = f"**{c['verdict']}**" if c["verdict"] == "short" else c["verdict"]
                cells = [c["quantity"], format_value(c["paper"]), format_value(c["ours"]), c["unit"], c["target"], verdict]
                if kind == "paper":
                    cells.append(f"{c['source']}: \"{c['quote']}\"")
                elif kind != "check":
                    cells.append(c.get("source", ""))
                cells.append(c["note"])
                lines.append("| " + " | ".join(str(x).replace("|", "\\|").replace("\n", " ") for x in cells) + " |")
            lines.append("")
    if doc["metrics"]:
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        for k, v in doc["metrics"].items():
            if not isinstance(v, dict | list) or (isinstance(v, list) and len(v) <= 12):
                lines.append(f"| {k} | {format_value(v)} |")
        lines.append("")
    for tname, rows in doc.get("tables", {}).items():
        if rows:
            keys = list(rows[0])
            lines += [f"## {tname}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            lines += ["| " + " | ".join(format_value(r.get(k, "")) for k in keys) + " |" for r in rows]
            lines.append("")
    if doc["figures"]:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in doc["figures"]] + [""]
    timings = {k: v for k, v in doc.get("timings", {}).items() if k != "stages_s"}
    if timings or doc.get("timings", {}).get("stages_s"):
        lines += ["## Timings (this execution; not part of the result)", "", "| what | value |", "|---|---|"]
        lines += [f"| {k} | {format_value(v)} |" for k, v in timings.items()]
        lines += [f"| stage {k} [s] | {format_value(v)} |" for k, v in doc["timings"].get("stages_s", {}).items()]
        lines.append("")
    if doc["notes"]:
        lines += ["## Notes", "", doc["notes"].strip(), ""]
    lines += ["## Configuration", "", "```json", json.dumps(doc["config"], indent=1), "```", ""]
    return "\n".join(lines)
