"""A sweep's plan: the validated points (parameter values x seeds), each with a stable id and run key.

Every value is typed and every point's config resolved through the run engine's own `resolve_config`
(so ``device.tmr`` and its parsing mean exactly what they mean in ``--set``) before anything is written. A
point's id hashes (experiment, preset, device, typed overrides, seed), so the same point always lands in the
same directory whichever sweep asks for it; its key is the checkpoint key `run_experiment` records in
``result.json``, which tells a finished point of this code and config from a stale one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ConfigError
from ..experiments.base import _jsonable, check_device, checkpoint_key, get_experiment, resolve_config
from ..experiments.checkpoint import CheckpointStore
from ..experiments.rundir import check_out_dir

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Point:
    """One run of the sweep: swept values (typed, JSON-ready), seed, and where/under which key it runs."""

    id: str
    params: dict[str, Any]
    seed: int
    overrides: dict[str, Any]
    key: str

    def label(self) -> str:
        vals = ", ".join(f"{k}={_show(v)}" for k, v in self.params.items())
        return f"{self.id} ({vals}{', ' if vals else ''}seed {self.seed})"


@dataclass(frozen=True)
class SweepPlan:
    """Everything `run_sweep` needs, validated: the spec as given plus the expanded points."""

    experiment: str
    preset: str
    params: dict[str, list[Any]]
    seeds: int
    overrides: dict[str, Any]
    device: str
    executor: str
    workers: int | None
    address: str | None
    out_dir: Path
    points: list[Point]

    def point_dir(self, point: Point) -> Path:
        return self.out_dir / "points" / point.id

    def spec_dict(self) -> dict[str, Any]:
        """The sweep as written to ``sweep.json`` (typed values; the raw ``--set`` strings as given)."""
        return {"experiment": self.experiment, "preset": self.preset, "params": _jsonable(self.params),
                "seeds": self.seeds, "overrides": _jsonable(self.overrides), "device": self.device,
                "executor": self.executor, "workers": self.workers, "address": self.address}


def _show(v: Any) -> str:
    return json.dumps(v) if isinstance(v, list | dict) else str(v)


def split_values(text: str) -> list[str]:
    """``"1,2,(3,4)"`` -> ``["1", "2", "(3,4)"]``: commas inside brackets belong to one (tuple) value."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _leaf(cfg: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _point_id(experiment: str, preset: str, device: str, typed: Mapping[str, Any], seed: int) -> str:
    text = json.dumps({"experiment": experiment, "preset": preset, "device": device, "overrides": typed,
                       "seed": seed}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _check_int(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ConfigError(f"{name} = {value!r} must be an integer >= {lo}")
    return value


def plan_sweep(experiment: str, params: Mapping[str, Sequence[Any]] | None, seeds: int, *, preset: str = "quick",
               overrides: Mapping[str, Any] | None = None, device: str = "cpu", executor: str = "local",
               workers: int | None = None, address: str | None = None,
               out_dir: str | os.PathLike[str] | None = None) -> SweepPlan:
    """Validate a sweep completely (nothing is written) and expand it into points; ConfigError with one line.

    ``params`` maps dotted config fields to their values (CLI strings or Python values, typed like ``--set``);
    empty or None takes the experiment's declared axes for ``preset`` (`ExperimentSpec.sweeps`).
    """
    spec = get_experiment(experiment)
    base = {str(k).strip(): v for k, v in (overrides or {}).items()}
    resolve_config(spec, preset, base)
    _check_int("seeds", seeds, 1)
    dev = str(check_device(device))
    if executor not in EXECUTORS:
        raise ConfigError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    if workers is not None:
        _check_int("workers", workers, 1)
    if address is not None and executor != "ray":
        raise ConfigError("--address only applies to --executor ray")
    if address is not None and not str(address).strip():
        raise ConfigError("--address must be 'auto' or HOST:PORT, got an empty string")
    out = check_out_dir(out_dir)
    if executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("--executor ray needs Ray: pip install 'ray>=2.9'") from None
    if not params:
        params = spec.sweeps.get(preset)
        if not params:
            declared = ", ".join(p for p, axes in spec.sweeps.items() if axes) or "none"
            raise ConfigError(f"{experiment} [{preset}]: no --param given and the preset declares no sweep axes "
                              f"(presets with axes: {declared}); pass --param NAME=V1,V2,...")
    axes = _typed_axes(spec, preset, base, params)
    points = []
    for combo in itertools.product(*(list(vals.values()) for vals in axes.values())):
        raw = dict(zip(axes, (r for r, _ in combo)))
        typed = {name: t for name, (_, t) in zip(axes, combo)}
        try:
            cfg = resolve_config(spec, preset, {**base, **raw})
        except ConfigError as e:
            raise ConfigError(f"sweep point {', '.join(f'{k}={_show(v)}' for k, v in typed.items())}: {e}") from None
        all_typed = {**{k: _jsonable(_leaf(cfg, k)) for k in base}, **typed}
        for seed in range(seeds):
            pid = _point_id(experiment, preset, dev, all_typed, seed)
            key = CheckpointStore(out / "points" / pid, checkpoint_key(experiment, cfg, seed, check_device(dev))).key
            points.append(Point(pid, typed, seed, {**base, **raw}, key))
    typed_axes = {name: [t for _, t in vals.values()] for name, vals in axes.items()}
    return SweepPlan(experiment, preset, typed_axes, seeds, base, dev, executor, workers, address, out, points)


def _typed_axes(spec: Any, preset: str, base: dict[str, Any], params: Mapping[str, Sequence[Any]]
                ) -> dict[str, dict[str, tuple[Any, Any]]]:
    """``{name: {repr of typed value: (raw, typed JSON value)}}`` with every value checked on its own first,
    so an error names the parameter and value rather than a whole point."""
    axes: dict[str, dict[str, tuple[Any, Any]]] = {}
    for name, values in params.items():
        name = str(name).strip()
        if not name:
            raise ConfigError("--param needs a field name, got an empty one")
        if name in base:
            raise ConfigError(f"{name} is both swept (--param) and fixed (--set); give it once")
        if name in axes:
            raise ConfigError(f"--param {name} is given twice; list all its values in one --param")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"--param {name} needs a non-empty list of values, got {values!r}")
        seen: dict[str, tuple[Any, Any]] = {}
        for raw in values:
            try:
                cfg = resolve_config(spec, preset, {**base, name: raw})
            except ConfigError as e:
                raise ConfigError(f"--param {name}={_show(raw)}: {e}") from None
            value = _leaf(cfg, name)
            if dataclasses.is_dataclass(value):  # pragma: no cover - parse_value refuses groups already
                raise ConfigError(f"--param {name} is a group of fields; sweep one of its fields")
            typed = _jsonable(value)
            k = json.dumps(typed, sort_keys=True, default=str)
            if k in seen:
                raise ConfigError(f"--param {name} lists the value {_show(typed)} twice ({seen[k][0]!r} and {raw!r})")
            seen[k] = (raw, typed)
        axes[name] = seen
    return axes
