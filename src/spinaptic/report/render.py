"""Render the report: copy the figures, fill the Jinja2 templates, write ``index.html`` and ``report.md``.

The HTML template is autoescaped (every string from a result.json is text, never markup). Markdown has no
autoescape, so its template passes every string through `md_text` (or `md_code` / `md_fence` for code), which
neutralises HTML and table syntax; the tests feed both templates hostile text to keep it that way.
"""

from __future__ import annotations

import datetime as _dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..experiments.comparison import KIND_TITLES
from ..fileio import atomic_write_text
from .collect import NOT_REPRODUCTIONS, Figure, gather, paper_summaries, slug, total

TEMPLATES = Path(__file__).parent / "templates"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|$])")


def md_block(v: Any) -> str:
    """``v`` as literal Markdown text: HTML characters as entities, emphasis, link, code and table syntax
    backslash-escaped, line breaks kept (a run's notes)."""
    s = str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_text(v: Any) -> str:
    """`md_block` on one line: safe in a table cell, a heading or an image's alt text."""
    return " ".join(md_block(v).split())


def md_code(v: Any) -> str:
    """``v`` as an inline code span, with a backtick fence longer than any backtick run inside it."""
    s = " ".join(str(v).split())
    tick = "`" * (max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{tick}{pad}{s}{pad}{tick}"


def md_fence(v: Any, lang: str = "") -> str:
    """``v`` as a fenced code block that its own content cannot close."""
    s = str(v)
    tick = "`" * max(3, max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    return f"{tick}{lang}\n{s}\n{tick}"


def environment():
    """The Jinja2 environment of the report templates (strict: a misspelt field is an error, not a blank)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(md=md_text, mdblock=md_block, mdcode=md_code, mdfence=md_fence)
    return env


def copy_figures(figures: list[Figure], prefix: str, fig_dir: Path, used: set[str]) -> None:
    """Copy each present figure to ``fig_dir`` under a unique name ``PREFIX-NAME`` and set its ``href``."""
    for f in figures:
        if f.missing:
            continue
        name = f"{slug(prefix)}-{slug(f.name)}"
        stem, ext, i = Path(name).stem, Path(name).suffix, 1
        while name in used:
            i += 1
            name = f"{stem}-{i}{ext}"
        used.add(name)
        fig_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f.src, fig_dir / name)
        f.href = f"figures/{name}"


def build_report(dirs: list[str | Path], out_dir: str | Path, *, on_warning: Callable[[str], None] | None = None) -> Path:
    """Write ``index.html``, ``report.md`` and ``figures/`` for the runs and sweeps under ``dirs``; return the
    path of ``index.html``. Unreadable runs and missing figures are listed as warnings at the top of the report
    (and passed to ``on_warning``, e.g. to print them).

    Raises `ReportError` when a path is not a directory or nothing under ``dirs`` is a run or a sweep.
    """
    out = Path(out_dir)
    runs, sweeps, warnings = gather([Path(d) for d in dirs], exclude=out)
    for w in warnings if on_warning else ():
        on_warning(w)
    used: set[str] = set()
    for item in [*runs, *sweeps]:
        copy_figures(item.figures, item.anchor, out / "figures", used)
    summaries = paper_summaries(runs)
    ctx = {"runs": runs, "sweeps": sweeps, "warnings": warnings, "summaries": summaries,
           "total": total(summaries), "version": __version__, "kind_titles": KIND_TITLES,
           "other_kinds": NOT_REPRODUCTIONS, "inputs": [str(d) for d in dirs],
           "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    env = environment()
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "report.md", env.get_template("report.md.j2").render(ctx))
    atomic_write_text(out / "index.html", env.get_template("report.html.j2").render(ctx))
    return out / "index.html"
