"""Resumable stages: checkpoints keyed on everything that changes the numbers, loaded without executing code.

A stage's value is saved with `torch.save` and read back with ``torch.load(weights_only=True)``, which
rebuilds only tensors and plain containers: a tampered file cannot run code, it is merely refused. The
directory key hashes the resolved config, seed, torch device, compute backend, library versions and the
source of the installed package, so a run with another seed, device or code never picks up a foreign
stage. An unreadable checkpoint is reported (one line naming the file) and its stage recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_write_bytes, atomic_write_text

_SAFE_SCALARS = (bool, int, float, str, type(None), complex)


class CheckpointWarning(UserWarning):
    """A checkpoint could not be read safely; its stage is recomputed."""


@functools.cache
def source_hash() -> str:
    """SHA-256 (16 hex digits) of every ``.py`` file of the installed spinaptic package."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def compute_backend(device: torch.device) -> str:
    """The kernels a run on ``device`` uses ("numba" on CPU, "torch" elsewhere): they draw different numbers."""
    if device.type != "cpu":
        return "torch"
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return "torch"
    return f"numba-{numba.__version__}"


def check_safe(value: Any, path: str = "value") -> None:
    """Raise TypeError unless ``value`` is tensors, numbers, strings and (nested) dict/list/tuple of them.

    Such values round-trip through ``torch.load(weights_only=True)``; anything else (arrays, custom objects)
    would need unpickling code, so a stage must convert it (e.g. ``torch.from_numpy``) before returning it.
    """
    if isinstance(value, (torch.Tensor, *_SAFE_SCALARS)):
        return
    if type(value) is dict:
        for k, v in value.items():
            if not (isinstance(k, _SAFE_SCALARS) or (type(k) is tuple and all(isinstance(x, _SAFE_SCALARS) for x in k))):
                raise TypeError(f"checkpoint {path}: key {k!r} is not a number, string or tuple of them")
            check_safe(v, f"{path}[{k!r}]")
        return
    if type(value) in (list, tuple):
        for i, v in enumerate(value):
            check_safe(v, f"{path}[{i}]")
        return
    raise TypeError(f"checkpoint {path}: {type(value).__name__} cannot be checkpointed safely; "
                    "return tensors, numbers, strings, dicts, lists or tuples")


_NDARRAY = "__numpy_ndarray__"


def _plain(value: Any) -> Any:
    """The value in types the safe loader rebuilds without any class: dict subclasses (OrderedDict,
    DeviceState) as dicts, numpy scalars as Python numbers, numpy arrays as tagged tensors."""
    import numpy as np

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return {_NDARRAY: torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return value.item()
    return value


def _restore(value: Any) -> Any:
    """Inverse of `_plain` for the tagged numpy arrays."""
    if isinstance(value, dict):
        if len(value) == 1 and _NDARRAY in value:
            return value[_NDARRAY].cpu().numpy()
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_restore(v) for v in value)
    return value


class CheckpointStore:
    """Stage checkpoints of one run under ``<out>/checkpoints/<key>/``; remembers which stages resumed."""

    def __init__(self, out_dir: Path, key_material: dict[str, Any], *, resume: bool = True,
                 device: torch.device | str = "cpu", log: Callable[[str], None] | None = None) -> None:
        text = json.dumps(key_material, sort_keys=True, default=str)
        self.key = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.dir = Path(out_dir) / "checkpoints" / self.key
        self.key_material = key_material
        self.resume = resume
        self.device = torch.device(device)
        self.log = log or (lambda msg: None)
        self.resumed: list[str] = []
        self.computed: list[str] = []
        self.stage_times_s: dict[str, float] = {}

    def path(self, stage: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in stage)
        return self.dir / f"{safe}.pt"

    def load(self, stage: str) -> tuple[bool, Any]:
        """(True, value) if a readable checkpoint of ``stage`` exists and resume is on, else (False, None)."""
        p = self.path(stage)
        if not (self.resume and p.exists()):
            return False, None
        try:
            value = torch.load(p, map_location=self.device, weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable file is recomputed, never trusted
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            msg = f"checkpoint {p} is unreadable or unsafe ({type(e).__name__}: {reason[:160]}); recomputing stage {stage!r}"
            warnings.warn(msg, CheckpointWarning, stacklevel=3)
            self.log(msg)
            return False, None
        return True, _restore(value)

    def save(self, stage: str, value: Any) -> None:
        plain = _plain(value)
        check_safe(plain, stage)
        buf = io.BytesIO()
        torch.save(plain, buf)
        if not (self.dir / "key.json").exists():
            atomic_write_text(self.dir / "key.json", json.dumps(self.key_material, indent=1, sort_keys=True,
                                                                 default=str) + "\n")
        atomic_write_bytes(self.path(stage), buf.getvalue())

    def cached(self, stage: str, compute: Callable[[], Any]) -> Any:
        """The checkpointed value of ``stage``, or ``compute()`` saved as its checkpoint."""
        import time

        found, value = self.load(stage)
        if found:
            self.resumed.append(stage)
            self.log(f"stage {stage!r}: resumed from {self.path(stage)}")
            return value
        t0 = time.perf_counter()
        value = compute()
        dt = time.perf_counter() - t0
        self.save(stage, value)
        self.computed.append(stage)
        self.stage_times_s[stage] = round(dt, 3) if math.isfinite(dt) else dt
        self.log(f"stage {stage!r}: computed in {dt:.1f} s")
        return _restore(_plain(value))
