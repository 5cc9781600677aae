"""The fields of a (nested) config dataclass: typed ``--set`` overrides and the ``describe`` table.

``apply_overrides(cfg, {"crossbar.v_read_v": "0.2"})`` parses each value from the field's type annotation
(int refuses 1.5, float refuses NaN/inf unless the field's metadata allows it, bool takes true/false/1/0 only,
tuples take ``a,b,c`` or a scalar, ``X | None`` takes ``none``, ``Literal``/``Enum`` take their members) and
rebuilds the config tree, so every ``__post_init__`` validates the result. `field_table` lists every leaf
field with its type, unit, default, allowed range (recorded from the validators themselves) and docstring.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from .config import ConfigError, recording_checks

_TRUE, _FALSE = ("true", "1"), ("false", "0")
_NONE = ("none", "null")

# Unit implied by a field-name suffix, used when the docstring gives none in [brackets].
_SUFFIX_UNITS = (("_ohm_um2", "Ohm um^2"), ("_ohm_m2", "Ohm m^2"), ("_m2", "m^2"), ("_m3", "m^3"), ("_ohm", "Ohm"),
                 ("_hz", "Hz"), ("_kbt", "k_BT"), ("_j", "J"), ("_s", "s"), ("_a", "A"), ("_v", "V"),
                 ("_m", "m"), ("_k", "K"), ("_t", "T"), ("_w", "W"), ("_f", "F"))


def is_config(x: Any) -> bool:
    """A dataclass instance (a config node), not a dataclass type."""
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def type_name(tp: Any) -> str:
    """Readable annotation: ``float``, ``tuple[int, ...]``, ``str | None``."""
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return str(tp).replace("typing.", "")


# ----------------------------------------------------------------------------------------- parsing
def parse_value(tp: Any, raw: Any, path: str, *, allow_nonfinite: bool = False) -> Any:
    """``raw`` (a CLI string or a Python value) as an instance of annotation ``tp``; ConfigError naming ``path``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and (raw is None or (isinstance(raw, str) and raw.strip().lower() in _NONE)):
            return None
        errors = []
        for a in (a for a in args if a is not type(None)):
            try:
                return parse_value(a, raw, path, allow_nonfinite=allow_nonfinite)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path} expects {type_name(tp)}, got {raw!r}")
    if origin is typing.Literal:
        for a in args:
            if raw == a or (isinstance(raw, str) and str(a) == raw.strip()):
                return a
        raise ConfigError(f"{path} = {raw!r} is not one of {', '.join(map(repr, args))}")
    if origin in (tuple, list):
        items = _split(raw)
        if len(args) == 2 and args[1] is Ellipsis:
            vals = [parse_value(args[0], x, f"{path}[{i}]", allow_nonfinite=allow_nonfinite) for i, x in enumerate(items)]
        elif origin is tuple and args:
            if len(items) != len(args):
                raise ConfigError(f"{path} expects {len(args)} comma-separated values ({type_name(tp)}), got {raw!r}")
            vals = [parse_value(a, x, f"{path}[{i}]", allow_nonfinite=allow_nonfinite)
                    for i, (a, x) in enumerate(zip(args, items))]
        else:
            vals = list(items)
        return tuple(vals) if origin is tuple else vals
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for m in tp:
            if raw is m or raw == m.value or (isinstance(raw, str) and raw.strip() in (m.name, str(m.value))):
                return m
        raise ConfigError(f"{path} = {raw!r} is not one of {', '.join(str(m.value) for m in tp)}")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(raw, tp):
            return raw
        names = [f.name for f in dataclasses.fields(tp)]
        raise ConfigError(f"{path} is a group of fields; set one of them, e.g. --set {path}.{names[0]}=..., "
                          f"fields: {', '.join(names)}")
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        raise ConfigError(f"{path} expects a boolean (true/false/1/0), got {raw!r}")
    if tp is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
            return int(raw)
        v = _as_float(raw)
        if v is not None and math.isfinite(v) and v == int(v) and not isinstance(raw, bool):
            return int(v)
        raise ConfigError(f"{path} expects an integer, got {raw!r}")
    if tp is float:
        v = None if isinstance(raw, bool) else _as_float(raw)
        if v is None:
            raise ConfigError(f"{path} expects a number, got {raw!r}")
        if not math.isfinite(v) and not allow_nonfinite:
            raise ConfigError(f"{path} = {raw!r} must be a finite number")
        return v
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise ConfigError(f"{path} expects a string, got {raw!r}")
    if tp is Any or tp is object:
        return raw
    if isinstance(tp, type) and isinstance(raw, tp):
        return raw
    raise ConfigError(f"{path}: cannot set a field of type {type_name(tp)} from {raw!r}")


def _as_float(raw: Any) -> float | None:
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw.strip())
        except ValueError:
            return None
    return None


def _split(raw: Any) -> list[Any]:
    if isinstance(raw, list | tuple):
        return list(raw)
    if isinstance(raw, str):
        s = raw.strip()
        if s[:1] in "([" and s[-1:] in ")]":
            s = s[1:-1]
        return [x.strip() for x in s.split(",")] if s.strip() else []
    return [raw]


def apply_overrides(cfg: Any, overrides: Mapping[str, Any], *, where: str = "") -> Any:
    """A copy of config tree ``cfg`` with dotted-name ``overrides`` applied and every node re-validated.

    Unknown names raise ConfigError listing the fields (and the closest match); a validation error in a
    nested config is prefixed with its path, e.g. ``crossbar: v_read_v = -1 V is outside ...``.
    """
    if not overrides:
        return cfg
    grouped: dict[str, dict[str, Any]] = {}
    direct: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    for key, raw in overrides.items():
        head, _, rest = str(key).strip().partition(".")
        if head not in fields:
            close = difflib.get_close_matches(head, list(fields), n=1)
            hint = f" (did you mean {where + close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config field {where + head!r}{hint}; fields of {where.rstrip('.') or 'the config'}: "
                              f"{', '.join(fields)}")
        if rest:
            grouped.setdefault(head, {})[rest] = raw
        else:
            direct[head] = raw
    hints = _hints(type(cfg))
    changes: dict[str, Any] = {}
    for name, raw in direct.items():
        f = fields[name]
        changes[name] = parse_value(hints.get(name, Any), raw, where + name,
                                    allow_nonfinite=bool(f.metadata.get("allow_nonfinite", False)))
    for name, sub in grouped.items():
        node = changes.get(name, getattr(cfg, name))
        if not is_config(node):
            raise ConfigError(f"{where + name} is a {type_name(hints.get(name, type(node)))}, not a group of fields; "
                              f"use --set {where + name}=VALUE")
        changes[name] = apply_overrides(node, sub, where=f"{where}{name}.")
    try:
        return dataclasses.replace(cfg, **changes)
    except ConfigError as e:
        raise ConfigError(f"{where.rstrip('.')}: {e}" if where else str(e)) from None


# ----------------------------------------------------------------------------------------- describing
@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """One leaf field of a config tree, as `spinaptic describe` shows it."""

    path: str
    type: str
    default: Any
    unit: str
    allowed: str
    doc: str


def _attribute_docs(cls: type) -> dict[str, str]:
    """``{field: text}`` from the "Attributes:" section of ``cls``'s docstring (and its bases')."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        doc = klass.__dict__.get("__doc__") or ""
        lines = doc.splitlines()
        cur: list[str] = []
        for line in lines:
            m = re.match(r"^\s*(?:Attributes:\s*)?([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_][\w]*)*)\s*:\s+(.*)$", line)
            if m and not line.strip().startswith(("-", "*")):
                cur = [n.strip() for n in m.group(1).split(",")]
                for n in cur:
                    out[n] = m.group(2).strip()
            elif cur and line.strip() and line.startswith("    "):
                for n in cur:
                    out[n] += " " + line.strip()
            elif not line.strip():
                cur = []
    return out


def _unit(name: str, doc: str, recorded: str) -> str:
    m = re.search(r"\[([^\]]+)\]", doc)
    if m and len(m.group(1)) < 24:
        return m.group(1)
    if recorded:
        return recorded
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _recorded_ranges(cfg: Any) -> dict[str, tuple[str, str]]:
    with recording_checks() as rec:
        try:
            dataclasses.replace(cfg)
        except ConfigError:
            pass
    return rec


def field_table(cfg: Any, prefix: str = "") -> list[FieldInfo]:
    """Every leaf field of config tree ``cfg`` (dotted paths), with type, unit, default, allowed values, doc."""
    rows: list[FieldInfo] = []
    hints = _hints(type(cfg))
    docs = _attribute_docs(type(cfg))
    ranges = _recorded_ranges(cfg)
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if is_config(value):
            rows += field_table(value, f"{prefix}{f.name}.")
            continue
        tp = hints.get(f.name, type(value))
        allowed, rec_unit = ranges.get(f.name, ("", ""))
        origin = typing.get_origin(tp)
        if not allowed and origin is typing.Literal:
            allowed = "one of " + ", ".join(map(repr, typing.get_args(tp)))
        if not allowed and tp is bool:
            allowed = "true/false"
        doc = docs.get(f.name, "")
        rows.append(FieldInfo(prefix + f.name, type_name(tp), value, _unit(f.name, doc, rec_unit), allowed, doc))
    return rows


def leaf_values(cfg: Any, prefix: str = "") -> dict[str, Any]:
    """``{dotted path: value}`` of every leaf field (to show a preset's values beside the defaults)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        out.update(leaf_values(v, f"{prefix}{f.name}.") if is_config(v) else {prefix + f.name: v})
    return out
