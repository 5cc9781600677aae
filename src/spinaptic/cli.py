"""The ``spinaptic`` command: list what exists, describe its fields, check datasets, run experiments.

Every error reaches the user as one line on stderr and a non-zero exit status (``--debug`` shows the
traceback instead).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .report.cli import report_cmd
from .sweeps.cli import sweep_cmd


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


def _is_oom(e: BaseException) -> bool:
    return isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and (
        "can't allocate memory" in str(e) or "out of memory" in str(e).lower()))


class _Group(click.Group):
    """Turns the library's errors into one-line messages (exit 1) unless ``--debug`` is given."""

    def invoke(self, ctx: click.Context) -> Any:
        from .config import ConfigError
        from .data import DataError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            if isinstance(e, ConfigError | DataError):
                msg = _one_line(e)
            elif _is_oom(e):
                msg = ("out of memory: the configured sizes do not fit in this machine's memory; reduce them "
                       f"(e.g. the n_* fields shown by `spinaptic describe`) ({_one_line(e)[:200]})")
            elif isinstance(e, OSError):
                msg = f"{type(e).__name__}: {_one_line(e)}"
            else:
                msg = f"internal error ({type(e).__name__}: {_one_line(e)[:300]}); rerun with --debug for the traceback"
            click.echo(f"Error: {msg}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="spinaptic")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """spinaptic: spintronic neuromorphic hardware from MTJ device physics to network accuracy and energy.

    \b
    Typical use:
      spinaptic list                                   what can be run (experiments, devices, datasets)
      spinaptic describe compound-dbn                  every config field: type, unit, default, range
      spinaptic run switching-probability              reproduce paper 000, Fig. 2b (quick preset)
      spinaptic run compound-dbn --preset paper --out runs/dbn --set tmr_fixed=1.5
      spinaptic run compound-dbn --set hardware.crossbar.v_read_v=0.2   nested fields by dotted name
      spinaptic data                                   where each dataset was found, checksums
      spinaptic sweep switching-probability --param n_trials=200,400 --seeds 3 --out runs/sweep
                                                       a parameter grid x seeds (local processes or --executor ray)
      spinaptic report runs/ --out report/             one HTML + Markdown page of every run beside its paper

    Every run writes result.json (one schema for all experiments), PNG figures and summary.md
    (our numbers beside the paper's) into its output directory, and resumes from its checkpoints
    when run again with the same command. Datasets are looked up in --data-dir / $SPINAPTIC_DATA /
    the user cache / /usr/share/datasets and downloaded (checksummed) only when found nowhere
    ($SPINAPTIC_OFFLINE=1: never).
    """
    ctx.ensure_object(dict)["debug"] = debug


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
    click.echo("Experiments (spinaptic run NAME --preset PRESET; spinaptic describe NAME):")
    for n, s in exps.items():
        click.echo(f"  {n:<24} paper {s.paper}  [{'|'.join(s.presets)}]  {s.title}")
    click.echo("\nDevices (spinaptic.devices.make_device(NAME, ...); spinaptic describe NAME):")
    from .devices.base import device_class, plugin_devices

    plugins = plugin_devices()
    for n in device_names():
        doc = (device_class(n).__doc__ or "").strip().splitlines()
        origin = f" [plugin: {plugins[n]}]" if n in plugins else ""
        click.echo(f"  {n:<24} {doc[0] if doc else ''}{origin}")
    click.echo("\nDatasets (spinaptic.data.load_dataset(NAME)):")
    for n in available_datasets():
        click.echo(f"  {n}")


def describe_text(name: str) -> str:
    """Field table of experiment or device ``name`` (type, unit, default, allowed values, presets, doc)."""
    from .config import ConfigError
    from .config_fields import field_table, leaf_values
    from .devices import device_names
    from .devices.base import device_class
    from .experiments import experiments

    exps = experiments()
    if name in exps:
        spec = exps[name]
        default = spec.config_cls()
        presets = {p: leaf_values(c) for p, c in spec.presets.items()}
        head = [f"{name}: {spec.title}", f"paper {spec.paper}; presets: {', '.join(spec.presets)}; "
                f"config {spec.config_cls.__name__}", "",
                f"Set any field with: spinaptic run {name} --set FIELD=VALUE (nested fields by dotted name)", ""]
    elif name in device_names():
        cls = device_class(name)
        default = cls.config_class()()
        presets = {}
        doc = (cls.__doc__ or "").strip().splitlines()
        head = [f"{name}: {doc[0] if doc else cls.__name__}", f"config {type(default).__name__} "
                f"(make_device({name!r}, FIELD=VALUE, ...))", ""]
    else:
        raise ConfigError(f"{name!r} is neither an experiment ({', '.join(exps)}) nor a device "
                          f"({', '.join(device_names())})")
    rows = field_table(default)
    lines = list(head)
    for r in rows:
        lines.append(f"{r.path}  ({r.type}{', ' + r.unit if r.unit else ''})")
        lines.append(f"    default: {_short(r.default)}")
        for p, vals in presets.items():
            v = vals.get(r.path, r.default)
            if v != r.default:
                lines.append(f"    preset {p}: {_short(v)}")
        if r.allowed:
            lines.append(f"    allowed: {r.allowed}")
        if r.doc:
            lines.append(f"    {r.doc}")
    return "\n".join(lines)


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 100 else s[:97] + "..."


@main.command("describe")
@click.argument("name")
def describe_cmd(name: str) -> None:
    """Show every config field of experiment or device NAME: type, unit, default, allowed range, presets."""
    click.echo(describe_text(name))


@main.command("data")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Directory searched first.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def data_cmd(data_dir: Path | None, as_json: bool) -> None:
    """Show where each dataset and DW-MTJ lookup table was found and whether its checksum matches.

    Exits 1 when a copy's checksum does not match the canonical data (a known non-canonical copy, such as the
    shared lossy CIFAR-10, is named as such but does not fail).
    """
    from .data import dataset_status, lookup_table_status, status_exit_code

    rows = dataset_status(data_dir)
    tables = lookup_table_status(data_dir)
    if as_json:
        click.echo(json.dumps({"datasets": rows, "lookup_tables": tables}, indent=2, default=str))
    else:
        click.echo("Datasets:")
        for r in rows:
            click.echo(f"  {r.get('name', '?'):<16} {r.get('checksum', '-'):<11} {r.get('source', '-'):<14} "
                       f"{r.get('path') or 'missing'}")
            if r.get("note"):
                click.echo(f"  {'':<16} note: {r['note']}")
        click.echo("\nDW-MTJ lookup tables (paper 003):")
        if not tables:
            click.echo("  none found")
        for t in tables:
            click.echo(f"  {t.get('name', '?'):<24} {t.get('checksum', '-'):<11} {t.get('form', '-'):<14} {t.get('path')}")
    code = status_exit_code(rows, tables)
    if code:
        bad = [r.get("name", "?") for r in [*rows, *tables] if r.get("checksum") == "mismatch"]
        click.echo(f"Error: checksum mismatch for {', '.join(bad)}: not the canonical copy", err=True)
        sys.exit(code)


def _parse_overrides(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items:
        if "=" not in it:
            raise click.BadParameter(f"expects KEY=VALUE (e.g. n_trials=200), got {it!r}", param_hint="--set")
        k, v = it.split("=", 1)
        if not k.strip():
            raise click.BadParameter(f"empty field name in {it!r}", param_hint="--set")
        out[k.strip()] = v
    return out


class _RunCommand(click.Command):
    """``spinaptic run NAME --help`` appends NAME's config fields to the usual help."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = [a for a in args if not a.startswith("-")]
        if names and any(a in ("-h", "--help") for a in args):
            ctx.meta["spinaptic_experiment"] = names[0]
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        name = ctx.meta.get("spinaptic_experiment")
        if name:
            try:
                text = describe_text(name)
            except Exception as e:  # noqa: BLE001 - help must never crash
                text = f"({_one_line(e)})"
            formatter.write("\n" + text + "\n")


@main.command("run", cls=_RunCommand)
@click.argument("name")
@click.option("--preset", default="quick", show_default=True, help="Preset: 'quick' (minutes, CI) or 'paper' (full reproduction).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**63 - 1), help="Seed of every random stream of the run.")
@click.option("--device", default="cpu", show_default=True, help="torch device: cpu or cuda[:N].")
@click.option("--out", "out_dir", default=None, help="Output directory [default: runs/NAME].")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config field (repeatable; dotted names reach nested configs), e.g. --set n_trials=200. "
                   "`spinaptic run NAME --help` lists NAME's fields.")
@click.option("--no-resume", is_flag=True, help="Ignore checkpoints of an earlier run in the output directory.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--threads", type=click.IntRange(1, None), default=None, help="CPU threads for torch and numba [default: library defaults].")
def run_cmd(name: str, preset: str, seed: int, device: str, out_dir: str | None, overrides: tuple[str, ...],
            no_resume: bool, quiet: bool, threads: int | None) -> None:
    """Run experiment NAME; write result.json, figures and summary.md to the output directory.

    A rerun of the same command resumes from the checkpoints of finished stages (they are keyed on the
    config, seed, device, backend and code, so a changed run never reuses a foreign stage).
    """
    from .experiments import run_experiment

    out = Path("runs") / name if out_dir is None else out_dir
    if isinstance(out, str) and not out.strip():
        raise click.BadParameter("must name a directory, got an empty string", param_hint="--out")
    doc = run_experiment(name, preset=preset, seed=seed, device=device, out_dir=out,
                         overrides=_parse_overrides(overrides), resume=not no_resume, quiet=quiet, threads=threads)
    from .experiments.comparison import count_line

    resumed = doc["resume"]["resumed_stages"]
    click.echo(f"{name} [{preset}] finished in {doc['wall_time_s']:.1f} s -> {out}/result.json, summary.md, "
               f"{len(doc['figures'])} figure(s); {count_line(doc['comparisons'])}"
               + (f"; resumed {len(resumed)} stage(s)" if resumed else ""))


@main.command("show")
@click.argument("run_dir", type=click.Path(path_type=Path))
def show_cmd(run_dir: Path) -> None:
    """Print the summary of a finished run directory."""
    if not run_dir.is_dir():
        raise click.ClickException(f"{run_dir} is not a directory")
    f = run_dir / "summary.md"
    if not f.exists():
        raise click.ClickException(f"{run_dir} is not a finished run directory (no summary.md)")
    click.echo(f.read_text())


main.add_command(report_cmd)
main.add_command(sweep_cmd)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
