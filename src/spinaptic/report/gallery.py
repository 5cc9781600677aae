"""The README's figure gallery, generated from run directories instead of copied by hand.

`write_gallery` takes one run per experiment (a ``paper``-preset run when there is one, else the latest), picks
its first figure (or the figures named in ``pick``), copies each to ``docs/gallery/`` beside the README under a
stable name (``EXPERIMENT_FIGURE.png``) and rewrites the README between ``<!-- gallery:start -->`` and
``<!-- gallery:end -->`` as the two-column figure table the hand-made gallery used. Figures already in
``docs/gallery/`` that the new gallery does not use are left alone (they may be linked from elsewhere). With
``keep=True`` the figures of experiments that none of the given runs covers stay in the gallery as they were, so
one long run can be added without re-running every experiment.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

from ..fileio import atomic_write_text
from .collect import Figure, ReportError, Run, gather, slug
from .render import environment

START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"


def choose(runs: list[Run], pick: dict[str, list[str]] | None = None) -> list[tuple[Run, Figure]]:
    """The gallery's (run, figure) pairs in report order. ``pick`` maps an experiment to the names of the
    figures to show (``[]``: leave the experiment out); other experiments show their first present figure."""
    pick = pick or {}
    best: dict[str, Run] = {}
    for r in runs:
        old = best.get(r.experiment)
        rank = (r.preset == "paper", dict(r.facts).get("started", ""))
        if old is None or rank > (old.preset == "paper", dict(old.facts).get("started", "")):
            best[r.experiment] = r
    unknown = sorted(set(pick) - set(best))
    if unknown:
        raise ReportError(f"--gallery-figure names experiment(s) with no run: {', '.join(unknown)}")
    out: list[tuple[Run, Figure]] = []
    for r in sorted(best.values(), key=lambda r: (r.paper, r.experiment)):
        present = [f for f in r.figures if not f.missing]
        if r.experiment not in pick:
            out += [(r, present[0])] if present else []
            continue
        for name in pick[r.experiment]:
            hit = [f for f in present if name in (f.name, Path(f.name).stem)]
            if not hit:
                raise ReportError(f"{r.experiment} ({r.path}) has no figure {name!r}; it has: "
                                  f"{', '.join(f.name for f in present) or 'none'}")
            out.append((r, hit[0]))
    return out


def gallery_markdown(items: list[tuple[Run, str, str]]) -> str:
    """The gallery section: ``items`` are (run, figure name, image path relative to the README); kept items of an
    earlier gallery carry ``preset=None``."""
    presets = sorted({r.preset for r, _, _ in items if r.preset is not None})
    kept = sum(r.preset is None for r, _, _ in items)
    return environment().get_template("gallery.md.j2").render(items=items, presets=presets, kept=kept)


_CELL = re.compile(r"!\[(?P<alt>(?:\\.|[^\]\\])*)\]\((?P<path>[^)\s]+)\) (?P<title>.*)")


def _unescape(s: str) -> str:
    return html.unescape(re.sub(r"\\([\\`*_\[\]|$])", r"\1", s))


def existing_items(block: str, base: Path) -> list[tuple[SimpleNamespace, str, str]]:
    """The (experiment, figure, path) cells of a gallery block written by `gallery_markdown` whose image exists
    under ``base`` (the README's folder)."""
    items = []
    for line in block.splitlines():
        if not line.startswith("|") or "![" not in line:
            continue
        for cell in re.split(r"(?<!\\)\|", line):
            m = _CELL.search(cell.strip())
            if m and (base / m["path"]).is_file():
                exp, _, fig = _unescape(m["alt"]).partition(": ")
                items.append((SimpleNamespace(experiment=exp, title=_unescape(m["title"].strip()), preset=None), fig,
                              m["path"]))
    return items


def _merge(old: list, new: list) -> list:
    """``old`` with each re-run experiment's figures replaced by ``new``'s (at its first place); new experiments
    appended."""
    fresh: dict[str, list] = {}
    for it in new:
        fresh.setdefault(it[0].experiment, []).append(it)
    out, done = [], set()
    for it in old:
        e = it[0].experiment
        if e in fresh:
            if e not in done:
                out += fresh[e]
                done.add(e)
        else:
            out.append(it)
    return out + [it for e, its in fresh.items() if e not in done for it in its]


def write_gallery(dirs: list[str | Path], readme: str | Path, *, gallery_dir: str | Path | None = None,
                  pick: dict[str, list[str]] | None = None, keep: bool = False) -> list[Path]:
    """Copy the chosen figures of the runs under ``dirs`` to ``gallery_dir`` (default ``docs/gallery`` beside
    ``readme``) and rewrite ``readme`` between the gallery markers (``keep``: leaving the figures of experiments
    the runs do not cover); return the copied files.

    Raises `ReportError` if the README lacks the markers (nothing is copied then) or a picked figure is missing.
    """
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ReportError(f"{readme} needs exactly one {START} ... {END} pair around its gallery")
    gdir = Path(gallery_dir) if gallery_dir is not None else readme.parent / "docs" / "gallery"
    runs, _, _ = gather([Path(d) for d in dirs])
    chosen = choose(runs, pick)
    if not chosen:
        raise ReportError("no figures to put in the gallery")
    gdir.mkdir(parents=True, exist_ok=True)
    items, written = [], []
    for run, fig in chosen:
        dest = gdir / f"{slug(run.experiment)}_{slug(fig.name)}"
        shutil.copyfile(fig.src, dest)
        written.append(dest)
        items.append((run, fig.name, Path(os.path.relpath(dest, readme.parent)).as_posix()))
    i, j = text.index(START) + len(START), text.index(END)
    if keep:
        items = _merge(existing_items(text[i:j], readme.parent), items)
    atomic_write_text(readme, text[:i] + "\n" + gallery_markdown(items).strip("\n") + "\n" + text[j:])
    return written
