"""Experiment registry, run context and the one ``result.json`` schema every experiment writes.

An experiment is a function ``run(cfg, ctx) -> Result`` registered with `experiment`, with a frozen
config dataclass and named presets ("quick" fits CI, "paper" reproduces the paper). `run_experiment`
resolves the preset, builds a `RunContext` (seeded generator, torch device, output directory, progress
bars, resumable checkpoints), runs it and writes ``result.json``, the figures and ``summary.md``
atomically. Sweeps and the HTML report build on this without touching experiments.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..config import ConfigError, to_dict
from ..config_fields import apply_overrides
from ..fileio import atomic_write_bytes, atomic_write_text
from .checkpoint import CheckpointStore, compute_backend, source_hash
from .comparison import VERDICTS, Comparison, calibrated_row, check_row, paper_row, reference_row  # noqa: F401
from .progress import Progress
from .rundir import check_out_dir, locked_out_dir
from .summary import render_summary


@dataclass
class Result:
    """What an experiment returns: metrics, comparisons, figure file names, free-form notes (Markdown)."""

    metrics: dict[str, Any] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    notes: str = ""
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentSpec:
    """A registered experiment."""

    name: str
    func: Callable[[Any, RunContext], Result]
    config_cls: type
    presets: dict[str, Any]
    paper: str
    title: str
    description: str
    sweeps: dict[str, dict[str, list]] = field(default_factory=dict)
    """Default sweep axes per preset, ``{preset: {dotted field: [values]}}``: what ``spinaptic sweep NAME
    --preset P`` runs when no ``--param`` is given (a long preset split into independent points)."""


_EXPERIMENTS: dict[str, ExperimentSpec] = {}


def experiment(name: str, *, paper: str, title: str, config: type, presets: dict[str, Any],
               sweeps: dict[str, dict[str, list]] | None = None):
    """Decorator registering ``run(cfg, ctx) -> Result`` under ``name`` (presets must include "quick")."""
    if "quick" not in presets:
        raise ValueError(f"experiment {name!r} needs a 'quick' preset")

    def deco(func):
        if name in _EXPERIMENTS and _EXPERIMENTS[name].func is not func:
            raise ValueError(f"experiment {name!r} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        _EXPERIMENTS[name] = ExperimentSpec(name, func, config, presets, paper, title, doc[0] if doc else title,
                                            dict(sweeps or {}))
        return func

    return deco


def experiments() -> dict[str, ExperimentSpec]:
    """All registered experiments (importing every module of the package once)."""
    import importlib
    import pkgutil

    from .. import experiments as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_") and mod.name != "base":
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return dict(sorted(_EXPERIMENTS.items()))


def get_experiment(name: str) -> ExperimentSpec:
    """The spec of ``name``; unknown names raise with the list of known ones."""
    exps = experiments()
    if name not in exps:
        raise ConfigError(f"unknown experiment {name!r}; known: {', '.join(exps)}")
    return exps[name]


# ----------------------------------------------------------------------------------------- atomic I/O
def _jsonable(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return _jsonable(x.detach().cpu().tolist())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _jsonable(to_dict(x))
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        return _jsonable(x.item())
    if isinstance(x, Path):
        return str(x)
    return x


# ----------------------------------------------------------------------------------------- run context
VOLATILE_FIELDS = ("started", "wall_time_s", "timings", "resume")
"""Fields of ``result.json`` that describe one execution (clock times, which stages were resumed) rather than
the result: two runs of the same command and seed agree on everything else, byte for byte."""


class RunContext:
    """Everything an experiment needs besides its config.

    Attributes:
        seed: the run's seed; ``generator`` is a `torch.Generator` on ``device`` seeded with it.
        device: torch device for tensors ("cpu" or "cuda").
        out_dir: output directory (figures, result.json, summary.md; checkpoints under ``checkpoints/``).
        preset: preset name.
        resume: reuse checkpoints of an earlier, interrupted run with the same key (config, seed, device,
            backend, versions, source code).
        quiet: no progress output.
        timings: wall-clock measurements an experiment reports (seconds, rates); kept out of ``metrics``
            because they differ between two otherwise identical runs.
    """

    def __init__(self, *, seed: int, device: str | torch.device, out_dir: Path, preset: str, config: Any,
                 resume: bool = True, quiet: bool = False, experiment: str = "") -> None:
        self.seed = int(seed)
        self.device = torch.device(device)
        self.out_dir = Path(out_dir)
        self.preset = preset
        self.resume = resume
        self.quiet = quiet
        self._progress = Progress(quiet=quiet)
        self.checkpoints = CheckpointStore(self.out_dir, checkpoint_key(experiment, config, self.seed, self.device),
                                           resume=resume, device=self.device, log=self._progress.log)
        self.figures: list[str] = []
        self.timings: dict[str, Any] = {}
        self.generator = self.make_generator(0)

    def make_generator(self, stream: int | str = 0, device: str | torch.device | None = None) -> torch.Generator:
        """A generator seeded from (seed, stream): independent, reproducible streams per named stage."""
        dev = torch.device(device) if device is not None else self.device
        g = torch.Generator(device=dev)
        h = hashlib.sha256(f"{self.seed}:{stream}".encode()).digest()
        g.manual_seed(int.from_bytes(h[:8], "little") & ((1 << 63) - 1))
        return g

    def progress(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "") -> Any:
        """Wrap a loop: a tqdm bar on a terminal, periodic lines with an ETA otherwise, nothing when quiet."""
        return self._progress(iterable, total=total, desc=desc)

    def log(self, msg: str) -> None:
        """One line of run progress (stderr), unless quiet."""
        self._progress.log(msg)

    # checkpoints -------------------------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.checkpoints.dir

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """The checkpoint of stage ``key`` if this run's key has one (and resume is on), else compute and save it.

        Stages wrapped in `cached` make a long run resumable: an interrupted run restarted with the same
        command, seed, device and code skips every stage it already finished. Values must be tensors,
        numbers, strings and dicts/lists/tuples of them (dict subclasses come back as plain dicts).
        """
        return self.checkpoints.cached(key, compute)

    # figures ------------------------------------------------------------------------------------------
    def save_figure(self, fig: Any, name: str) -> str:
        """Save a matplotlib figure as PNG atomically; returns the file name to list in `Result.figures`."""
        import io

        import matplotlib.pyplot as plt

        if not name.endswith(".png"):
            name += ".png"
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        atomic_write_bytes(self.out_dir / name, buf.getvalue())
        self.figures.append(name)
        return name


def checkpoint_key(experiment: str, config: Any, seed: int, device: torch.device) -> dict[str, Any]:
    """Everything that changes a run's numbers; checkpoints are only reused when all of it matches."""
    import numpy

    return {"experiment": experiment, "config": _jsonable(config), "seed": int(seed), "device": str(device),
            "backend": compute_backend(device), "spinaptic": __version__, "source": source_hash(),
            "torch": torch.__version__, "numpy": numpy.__version__}


# ----------------------------------------------------------------------------------------- running
def resolve_config(spec: ExperimentSpec, preset: str, overrides: dict[str, Any] | None = None) -> Any:
    """The preset's config with dotted-name ``overrides`` applied, typed from the annotations and validated."""
    if preset not in spec.presets:
        raise ConfigError(f"experiment {spec.name!r} has no preset {preset!r}; presets: {', '.join(spec.presets)}")
    try:
        return apply_overrides(spec.presets[preset], overrides or {})
    except ConfigError as e:
        raise ConfigError(f"{spec.name}: {e}") from None


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch.device that exists here; ConfigError with one line otherwise."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"--device {str(device)!r} is not a torch device; use cpu or cuda[:N]") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {str(device)!r} requested but torch.cuda.is_available() is False; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type != "cpu":
        raise ConfigError(f"--device {str(device)!r} is not supported; use cpu or cuda[:N]")
    return dev


def run_experiment(
    name: str,
    *,
    preset: str = "quick",
    seed: int = 0,
    device: str = "cpu",
    out_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = True,
    quiet: bool = False,
    threads: int | None = None,
) -> dict[str, Any]:
    """Run a registered experiment and write ``result.json``, figures and ``summary.md``; return the result dict.

    Everything is validated (config, seed, device, threads, output directory) before anything is written;
    the output directory is locked against a second concurrent run. ``threads`` sets torch's and numba's
    CPU threads for the run (restored afterwards); None keeps the defaults.
    """
    spec = get_experiment(name)
    cfg = resolve_config(spec, preset, overrides)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConfigError(f"seed = {seed!r} must be an integer in [0, 2^63)")
    dev = check_device(device)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"threads = {threads!r} must be an integer >= 1")
    out = check_out_dir(Path("runs") / name if out_dir is None else out_dir)
    with locked_out_dir(out, f"{name} [{preset}] seed {seed}"):
        ctx = RunContext(seed=seed, device=dev, out_dir=out, preset=preset, config=cfg, resume=resume,
                         quiet=quiet, experiment=name)
        started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        ctx.log(f"{name} [{preset}] seed {seed} on {dev} -> {out} (checkpoints {ctx.checkpoints.key})")
        t0 = time.perf_counter()
        with _cpu_threads(threads):
            res = spec.func(cfg, ctx)
        wall = time.perf_counter() - t0
        figures = list(dict.fromkeys([*ctx.figures, *res.figures]))
        doc = {
            "experiment": name,
            "title": spec.title,
            "paper": spec.paper,
            "preset": preset,
            "seed": seed,
            "spinaptic_version": __version__,
            "source_hash": source_hash(),
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "device": str(ctx.device),
            "backend": compute_backend(ctx.device),
            "started": started,
            "wall_time_s": round(wall, 3),
            "timings": _jsonable({**ctx.timings, "stages_s": ctx.checkpoints.stage_times_s}),
            "resume": {"checkpoint_key": ctx.checkpoints.key, "resumed_stages": ctx.checkpoints.resumed,
                       "computed_stages": ctx.checkpoints.computed},
            "config": _jsonable(cfg),
            "metrics": _jsonable(res.metrics),
            "comparisons": [_jsonable(dataclasses.asdict(c)) for c in res.comparisons],
            "figures": figures,
            "tables": _jsonable(res.tables),
            "notes": res.notes,
        }
        atomic_write_text(out / "summary.md", render_summary(doc))
        atomic_write_text(out / "result.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return doc


@contextlib.contextmanager
def _cpu_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    import numba

    old_t, old_n = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(old_t)
        numba.set_num_threads(old_n)


def chunked(n: int, size: int) -> Iterator[slice]:
    """Slices covering range(n) in blocks of ``size``."""
    for s in range(0, n, size):
        yield slice(s, min(n, s + size))
