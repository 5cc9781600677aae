"""``spinaptic sweep``: the command-line face of `run_sweep` (a click command the main group adds).

Only click is imported here at module level; the sweep machinery (torch, the experiments) loads when the
command runs, so ``spinaptic --help`` stays fast. Errors are raised as the library's ConfigError, which the
main group turns into one line on stderr.
"""

from __future__ import annotations

from typing import Any

import click


def parse_params(items: tuple[str, ...]) -> dict[str, list[str]]:
    """``("n_trials=100,200", "pulse_widths_s=(2e-5,5e-5),(2e-5,5e-5,1e-4)")`` -> ``{name: [raw values]}``."""
    from .spec import split_values

    out: dict[str, list[str]] = {}
    for it in items:
        name, eq, values = it.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(f"expects NAME=V1,V2,... (e.g. n_trials=100,200), got {it!r}", param_hint="--param")
        if name.strip() in out:
            raise click.BadParameter(f"{name.strip()} is given twice; list all its values in one --param",
                                     param_hint="--param")
        vals = split_values(values)
        if any(not v for v in vals):
            raise click.BadParameter(f"empty value in {it!r}", param_hint="--param")
        out[name.strip()] = vals
    return out


@click.command("sweep")
@click.argument("experiment")
@click.option("--param", "params", multiple=True, metavar="NAME=V1,V2,...",
              help="A swept config field and its values (repeatable; points are the cartesian product). Dotted "
                   "names and typing as in --set; a tuple value goes in brackets: NAME=(1,2),(3,4). Without "
                   "--param, the preset's declared sweep axes.")
@click.option("--seeds", type=click.IntRange(1, None), required=True, help="Seeds 0..N-1 for every combination.")
@click.option("--preset", default="quick", show_default=True, help="Preset every point starts from.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Fix a config field for all points.")
@click.option("--device", default="cpu", show_default=True, help="torch device of every point: cpu or cuda[:N].")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a process pool on this machine; ray: Ray tasks (pip install ray).")
@click.option("--workers", type=click.IntRange(1, None), default=None,
              help="Points run at once [default: all CPUs; for ray, as many as the cluster schedules].")
@click.option("--address", default=None, help="Ray cluster: auto or HOST:PORT [default: start a local instance].")
@click.option("--out", "out_dir", required=True, help="Sweep directory (points/, results.csv, plots/, summary.md).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def sweep_cmd(experiment: str, params: tuple[str, ...], seeds: int, preset: str, overrides: tuple[str, ...],
              device: str, executor: str, workers: int | None, address: str | None, out_dir: str, quiet: bool) -> None:
    """Run EXPERIMENT at every combination of --param values x seeds; one run directory per point.

    Finished points are reused and interrupted ones resume from their checkpoints when the same command is
    run again. Writes sweep.json, points.csv, results.csv (one row per point: values, seed, status, scalar
    metrics, comparison verdicts), plots/ and summary.md; exits 1 if any point failed. Field names:
    `spinaptic describe EXPERIMENT`.
    """
    from ..cli import _parse_overrides
    from .engine import run_sweep

    doc: dict[str, Any] = run_sweep(experiment, parse_params(params), seeds, preset=preset,
                                    overrides=_parse_overrides(overrides), device=device, executor=executor,
                                    workers=workers, address=address, out_dir=out_dir, quiet=quiet)
    c = doc["counts"]
    click.echo(f"sweep {experiment} [{preset}] {doc['status']}: {c['done']} done, {c['failed']} failed of "
               f"{c['total']} -> {out_dir}/results.csv, summary.md")
    if c["failed"]:
        raise click.exceptions.Exit(1)
