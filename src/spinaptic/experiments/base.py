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
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..config import ConfigError, to_dict
from ..fileio import atomic_write_bytes, atomic_write_text

VERDICTS = ("pass", "short", "not-comparable", "info")


@dataclass
class Comparison:
    """One ours-versus-paper row.

    ``verdict`` is "pass" (meets ``target``), "short" (misses it; ``note`` states the gap),
    "not-comparable" (``note`` says why) or "info" (a number shown beside the paper's, no target).
    """

    quantity: str
    paper: Any
    ours: Any
    unit: str = ""
    target: str = ""
    verdict: str = "info"
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} not in {VERDICTS}")


def check(quantity: str, paper: Any, ours: float, ok: bool, *, unit: str = "", target: str = "", gap: str = "") -> Comparison:
    """A Comparison whose verdict follows ``ok``; when short, ``gap`` (or the numbers) go in the note."""
    return Comparison(quantity, paper, ours, unit, target, "pass" if ok else "short", "" if ok else (gap or f"ours {ours} vs target {target}"))


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


_EXPERIMENTS: dict[str, ExperimentSpec] = {}


def experiment(name: str, *, paper: str, title: str, config: type, presets: dict[str, Any]):
    """Decorator registering ``run(cfg, ctx) -> Result`` under ``name`` (presets must include "quick")."""
    if "quick" not in presets:
        raise ValueError(f"experiment {name!r} needs a 'quick' preset")

    def deco(func):
        if name in _EXPERIMENTS and _EXPERIMENTS[name].func is not func:
            raise ValueError(f"experiment {name!r} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        _EXPERIMENTS[name] = ExperimentSpec(name, func, config, presets, paper, title, doc[0] if doc else title)
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
class RunContext:
    """Everything an experiment needs besides its config.

    Attributes:
        seed: the run's seed; ``generator`` is a `torch.Generator` on ``device`` seeded with it.
        device: torch device for tensors ("cpu" or "cuda").
        out_dir: output directory (figures, result.json, summary.md; checkpoints under ``checkpoints/``).
        preset: preset name.
        resume: reuse checkpoints of an earlier, interrupted run with the same config.
        quiet: no progress bars.
    """

    def __init__(self, *, seed: int, device: str | torch.device, out_dir: Path, preset: str, config: Any,
                 resume: bool = True, quiet: bool = False) -> None:
        self.seed = int(seed)
        self.device = torch.device(device)
        self.out_dir = Path(out_dir)
        self.preset = preset
        self.resume = resume
        self.quiet = quiet
        self._config_hash = hashlib.sha256(
            (__version__ + json.dumps(_jsonable(config), sort_keys=True)).encode()).hexdigest()[:16]
        self.figures: list[str] = []
        self.generator = self.make_generator(0)

    def make_generator(self, stream: int | str = 0, device: str | torch.device | None = None) -> torch.Generator:
        """A generator seeded from (seed, stream): independent, reproducible streams per named stage."""
        dev = torch.device(device) if device is not None else self.device
        g = torch.Generator(device=dev)
        h = hashlib.sha256(f"{self.seed}:{stream}".encode()).digest()
        g.manual_seed(int.from_bytes(h[:8], "little") & ((1 << 63) - 1))
        return g

    def progress(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "") -> Any:
        """A tqdm progress bar (silent when quiet or not attached to a terminal)."""
        from tqdm.auto import tqdm

        disable = self.quiet or not sys.stderr.isatty()
        return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, dynamic_ncols=True)

    # checkpoints -------------------------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / "checkpoints" / self._config_hash

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Return the checkpoint ``key`` of this config if it exists (and resume is on), else compute and save it.

        Stages wrapped in `cached` make a long run resumable: an interrupted run restarted with the same
        command, seed and config skips every stage it already finished.
        """
        path = self.checkpoint_dir / f"{key}.pt"
        if self.resume and path.exists():
            return torch.load(path, map_location=self.device, weights_only=False)
        value = compute()
        import io

        buf = io.BytesIO()
        torch.save(value, buf)
        atomic_write_bytes(path, buf.getvalue())
        return value

    # figures ------------------------------------------------------------------------------------------
    def save_figure(self, fig: Any, name: str) -> str:
        """Save a matplotlib figure as PNG atomically; returns the file name to list in `Result.figures`."""
        import io

        import matplotlib.pyplot as plt

        if not name.endswith(".png"):
            name += ".png"
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        atomic_write_bytes(self.out_dir / name, buf.getvalue())
        self.figures.append(name)
        return name


# ----------------------------------------------------------------------------------------- running
def resolve_config(spec: ExperimentSpec, preset: str, overrides: dict[str, Any] | None = None) -> Any:
    """The preset's config with ``overrides`` applied (validated by the config's __post_init__)."""
    if preset not in spec.presets:
        raise ConfigError(f"experiment {spec.name!r} has no preset {preset!r}; presets: {', '.join(spec.presets)}")
    cfg = spec.presets[preset]
    if overrides:
        names = {f.name: f for f in dataclasses.fields(cfg)}
        conv = {}
        for k, v in overrides.items():
            if k not in names:
                raise ConfigError(f"{spec.name}: unknown config field {k!r}; fields: {', '.join(names)}")
            cur = getattr(cfg, k)
            conv[k] = type(cur)(v) if isinstance(cur, bool | int | float | str) and not isinstance(v, type(cur)) else v
            if isinstance(cur, bool) and isinstance(v, str):
                conv[k] = v.lower() in ("1", "true", "yes", "on")
        cfg = dataclasses.replace(cfg, **conv)
    return cfg


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

    ``threads`` sets torch's and numba's CPU threads for the run (restored afterwards); None keeps the defaults.
    On a machine shared with other jobs, fewer threads than cores is often faster.
    """
    spec = get_experiment(name)
    cfg = resolve_config(spec, preset, overrides)
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but torch.cuda.is_available() is False; use --device cpu")
    out = Path(out_dir) if out_dir is not None else Path("runs") / name
    out.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(seed=seed, device=device, out_dir=out, preset=preset, config=cfg, resume=resume, quiet=quiet)
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
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
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": str(ctx.device),
        "started": started,
        "wall_time_s": round(wall, 3),
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
    if n < 1:
        raise ConfigError(f"threads = {n} must be >= 1")
    import numba

    old_t, old_n = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(old_t)
        numba.set_num_threads(old_n)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
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
    comps = doc["comparisons"]
    if comps:
        n_pass = sum(c["verdict"] == "pass" for c in comps)
        n_short = sum(c["verdict"] == "short" for c in comps)
        lines += [f"## Ours vs the paper ({n_pass} pass, {n_short} short)", "",
                  "| quantity | paper | ours | unit | target | verdict | note |", "|---|---|---|---|---|---|---|"]
        for c in comps:
            cells = [c["quantity"], _fmt(c["paper"]), _fmt(c["ours"]), c["unit"], c["target"],
                     f"**{c['verdict']}**" if c["verdict"] == "short" else c["verdict"], c["note"]]
            lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
        lines.append("")
    if doc["metrics"]:
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        for k, v in doc["metrics"].items():
            if not isinstance(v, dict | list) or (isinstance(v, list) and len(v) <= 12):
                lines.append(f"| {k} | {_fmt(v)} |")
        lines.append("")
    for tname, rows in doc.get("tables", {}).items():
        if rows:
            keys = list(rows[0])
            lines += [f"## {tname}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            lines += ["| " + " | ".join(_fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
            lines.append("")
    if doc["figures"]:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in doc["figures"]] + [""]
    if doc["notes"]:
        lines += ["## Notes", "", doc["notes"].strip(), ""]
    lines += ["## Configuration", "", "```json", json.dumps(doc["config"], indent=1), "```", ""]
    return "\n".join(lines)


def chunked(n: int, size: int) -> Iterator[slice]:
    """Slices covering range(n) in blocks of ``size``."""
    for s in range(0, n, size):
        yield slice(s, min(n, s + size))
