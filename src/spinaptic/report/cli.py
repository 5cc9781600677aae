"""``spinaptic report DIRS... --out report/ [--gallery README.md]``: the command-line front of `build_report`.

``spinaptic``'s command line is a click group, so this module provides a click command (`report_cmd`, added to
the group with ``main.add_command(report_cmd)``) and `main` (argv -> exit status) for running it on its own
(``python -m spinaptic.report.cli``). Bad input ends in one ``Error:`` line and exit status 1, like every
other spinaptic command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _picks(items: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for it in items:
        exp, sep, fig = it.partition("=")
        if not sep or not exp.strip():
            raise click.BadParameter(f"expects EXPERIMENT=FIGURE (e.g. mtj-rng=telegraph_trace.png), got {it!r}",
                                     param_hint="--gallery-figure")
        out.setdefault(exp.strip(), [])
        if fig.strip():
            out[exp.strip()].append(fig.strip())
    return out


@click.command("report")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="report", show_default=True, type=click.Path(path_type=Path),
              help="Output directory: index.html, report.md, figures/.")
@click.option("--gallery", "readme", default=None, type=click.Path(path_type=Path),
              help="Also regenerate this README's gallery (between <!-- gallery:start --> and <!-- gallery:end -->), "
                   "copying the figures to docs/gallery/ beside it.")
@click.option("--gallery-figure", "picks", multiple=True, metavar="EXPERIMENT=FIGURE",
              help="Show FIGURE of EXPERIMENT in the gallery instead of its first figure (repeatable; "
                   "EXPERIMENT= leaves it out).")
@click.option("--gallery-keep", "keep", is_flag=True,
              help="Keep the gallery's figures of experiments that DIRS hold no run of (add one run to it).")
def report_cmd(dirs: tuple[Path, ...], out_dir: Path, readme: Path | None, picks: tuple[str, ...],
               keep: bool) -> None:
    """Build one static HTML + Markdown report of run and sweep directories.

    Each DIR is a run directory (result.json), a sweep directory (sweep.json, results.csv, plots/) or a folder
    searched recursively for them. The report shows, per experiment, the rows against the paper (with the
    paper's quote and the difference), the checks, reference and calibrated rows apart, the figures, versions
    and the command that reproduces the run. It needs no network and no external assets (open index.html).
    """
    from .collect import ReportError
    from .gallery import write_gallery
    from .render import build_report

    pick = _picks(picks)
    if (pick or keep) and readme is None:
        raise click.BadParameter("needs --gallery README.md", param_hint="--gallery-figure / --gallery-keep")
    try:
        index = build_report(list(dirs), out_dir, on_warning=lambda w: click.echo(f"warning: {w}", err=True))
        click.echo(f"report -> {index} and {index.parent / 'report.md'}")
        if readme is not None:
            files = write_gallery(list(dirs), readme, pick=pick, keep=keep)
            click.echo(f"gallery: {len(files)} figure(s) -> {files[0].parent}; rewrote {readme}")
    except ReportError as e:
        raise click.ClickException(" ".join(str(e).split())) from None


def main(args: list[str] | None = None) -> int:
    """Run ``spinaptic report`` with ``args`` (default: the process's arguments); return the exit status."""
    try:
        report_cmd.main(args=args, prog_name="spinaptic report", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
