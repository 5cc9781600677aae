"""Validation helpers for the typed configuration dataclasses used in every layer.

Every config is a frozen dataclass whose ``__post_init__`` calls these helpers, so bad input fails at
construction with a message that names the field, its unit and the allowed range.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
from collections.abc import Iterator
from typing import Any


class ConfigError(ValueError):
    """A configuration value is outside its allowed range or of the wrong kind."""


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:g}"


# While `recording_checks` is active, every check_* call notes (field name -> allowed values, unit): this is
# how `spinaptic describe` shows each field's range from the one place that enforces it.
_RECORDER: contextvars.ContextVar[dict[str, tuple[str, str]] | None] = contextvars.ContextVar("_RECORDER", default=None)


def _record(name: str, allowed: str, unit: str = "") -> None:
    rec = _RECORDER.get()
    if rec is not None:
        key = name.split(" ")[0].split("[")[0]
        rec.setdefault(key, (allowed, unit))


@contextlib.contextmanager
def recording_checks() -> Iterator[dict[str, tuple[str, str]]]:
    """Collect ``{field: (allowed range, unit)}`` from every check_* call made inside the block."""
    rec: dict[str, tuple[str, str]] = {}
    token = _RECORDER.set(rec)
    try:
        yield rec
    finally:
        _RECORDER.reset(token)


def check_range(
    name: str,
    value: float,
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    unit: str = "",
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as float if ``lo <= value <= hi`` (open ends if asked), else raise ConfigError."""
    _record(name, f"{'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}", unit)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number{' in ' + unit if unit else ''}, got {value!r}") from None
    bad = math.isnan(v) or (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi)
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        u = f" {unit}" if unit else ""
        raise ConfigError(f"{name} = {value!r}{u} is outside the allowed range {left}{_fmt(lo)}, {_fmt(hi)}{right}{u}")
    return v


def check_positive(name: str, value: float, *, unit: str = "") -> float:
    """Require ``value > 0``."""
    return check_range(name, value, 0.0, math.inf, unit=unit, lo_open=True)


def check_nonnegative(name: str, value: float, *, unit: str = "") -> float:
    """Require ``value >= 0``."""
    return check_range(name, value, 0.0, math.inf, unit=unit)


def check_probability(name: str, value: float) -> float:
    """Require ``0 <= value <= 1``."""
    return check_range(name, value, 0.0, 1.0)


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """Require an integer (bools refused) within ``[lo, hi]``."""
    _record(name, f"integer in [{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]")
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ConfigError(
            f"{name} = {v} is outside the allowed range [{lo if lo is not None else '-inf'}, "
            f"{hi if hi is not None else 'inf'}]"
        )
    return v


def check_choice(name: str, value: Any, choices: tuple | list) -> Any:
    """Require ``value`` to be one of ``choices``."""
    _record(name, "one of " + ", ".join(map(repr, choices)))
    if value not in choices:
        raise ConfigError(f"{name} = {value!r} is not one of {', '.join(map(repr, choices))}")
    return value


def to_dict(cfg: Any) -> Any:
    """A JSON-ready view of a (nested) config dataclass."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, list | tuple):
        return [to_dict(x) for x in cfg]
    if isinstance(cfg, dict):
        return {str(k): to_dict(v) for k, v in cfg.items()}
    return cfg


def check_order(lo_name: str, lo: float, hi_name: str, hi: float, *, unit: str = "", strict: bool = True) -> None:
    """Cross-field rule ``lo < hi`` (``<=`` if not strict), e.g. the ends of a current grid."""
    if (lo >= hi) if strict else (lo > hi):
        u = f" {unit}" if unit else ""
        raise ConfigError(f"{lo_name} = {lo!r}{u} must be {'<' if strict else '<='} {hi_name} = {hi!r}{u}")


def as_tuple(v: Any, conv: Any) -> tuple:
    """A tuple-valued config field from a sequence or a "a,b,c" / "a;b;c" string (as ``--set`` passes it),
    each item converted by ``conv``."""
    if isinstance(v, str):
        v = [s for s in v.replace(";", ",").split(",") if s.strip()]
    return tuple(conv(s.strip()) if isinstance(s, str) else conv(s) for s in v)


def replace(cfg: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` that re-runs validation (frozen dataclasses validate in __post_init__)."""
    return dataclasses.replace(cfg, **changes)
