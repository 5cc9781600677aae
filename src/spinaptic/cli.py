"""The ``spinaptic`` command: list what exists, check datasets, run experiments."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="spinaptic")
def main() -> None:
    """spinaptic: spintronic neuromorphic hardware from MTJ device physics to network accuracy and energy.

    \b
    Typical use:
      spinaptic list                                   what can be run
      spinaptic run switching-probability              reproduce paper 000, Fig. 2b (quick preset)
      spinaptic run compound-dbn --preset paper --out runs/dbn
      spinaptic data                                   where each dataset was found

    Every run writes result.json (one schema for all experiments), PNG figures and summary.md
    (our numbers beside the paper's) into its output directory. Datasets are looked up in
    --data-dir / $SPINAPTIC_DATA / ~/.cache/spinaptic / /usr/share/datasets, then downloaded.
    """


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """List experiments (with presets), devices and datasets."""
    from .data import available_datasets
    from .devices import device_names
    from .experiments import experiments

    exps = experiments()
    if as_json:
        click.echo(json.dumps({
            "experiments": {n: {"paper": s.paper, "title": s.title, "presets": list(s.presets)} for n, s in exps.items()},
            "devices": device_names(),
            "datasets": available_datasets(),
        }, indent=2))
        return
    click.echo("Experiments (spinaptic run NAME --preset PRESET):")
    for n, s in exps.items():
        click.echo(f"  {n:<24} paper {s.paper}  [{'|'.join(s.presets)}]  {s.title}")
    click.echo("\nDevices (spinaptic.devices.make_device(NAME, ...)):")
    from .devices.base import device_class

    for n in device_names():
        doc = (device_class(n).__doc__ or "").strip().splitlines()
        click.echo(f"  {n:<24} {doc[0] if doc else ''}")
    click.echo("\nDatasets (spinaptic.data.load_dataset(NAME)):")
    for n in available_datasets():
        click.echo(f"  {n}")


@main.command("data")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Directory searched first.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def data_cmd(data_dir: Path | None, as_json: bool) -> None:
    """Show where each dataset was found and whether its checksums match."""
    from .data import dataset_status

    rows = dataset_status(data_dir)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        click.echo(f"{r.get('name', '?'):<16} {r.get('checksum', '-'):<11} {r.get('source', '-'):<14} {r.get('path', 'missing')}")


def _parse_overrides(items: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    for it in items:
        if "=" not in it:
            raise click.BadParameter(f"--set expects KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


@main.command("run")
@click.argument("name")
@click.option("--preset", default="quick", show_default=True, help="Preset: 'quick' (minutes, CI) or 'paper' (full reproduction).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random stream of the run.")
@click.option("--device", default="cpu", show_default=True, help="torch device: cpu or cuda[:N].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="Output directory [default: runs/NAME].")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config field (repeatable), e.g. --set tmr=1.5")
@click.option("--no-resume", is_flag=True, help="Ignore checkpoints of an earlier run in the output directory.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--threads", type=int, default=None, help="CPU threads for torch and numba [default: library defaults].")
def run_cmd(name: str, preset: str, seed: int, device: str, out_dir: Path | None, overrides: tuple[str, ...],
            no_resume: bool, quiet: bool, threads: int | None) -> None:
    """Run experiment NAME; write result.json, figures and summary.md to the output directory."""
    from .config import ConfigError
    from .experiments import run_experiment

    try:
        doc = run_experiment(name, preset=preset, seed=seed, device=device, out_dir=out_dir,
                             overrides=_parse_overrides(overrides), resume=not no_resume, quiet=quiet,
                             threads=threads)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    out = out_dir or Path("runs") / name
    verdicts = [c["verdict"] for c in doc["comparisons"]]
    click.echo(f"{name} [{preset}] finished in {doc['wall_time_s']:.1f} s -> {out}/result.json, summary.md, "
               f"{len(doc['figures'])} figure(s); comparisons: {verdicts.count('pass')} pass, {verdicts.count('short')} short")


@main.command("show")
@click.argument("run_dir", type=click.Path(exists=True, path_type=Path))
def show_cmd(run_dir: Path) -> None:
    """Print the summary of a finished run directory."""
    f = run_dir / "summary.md"
    if not f.exists():
        raise click.ClickException(f"{f} not found: the run did not finish")
    click.echo(f.read_text())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
