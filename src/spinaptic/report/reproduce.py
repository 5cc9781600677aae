"""The command that reproduces a run: ``spinaptic run NAME --preset P --seed S [--device D] [--set K=V ...]``.

The ``--set`` flags are the recorded config's differences from the current preset, and they are trusted only if
applying them to the preset rebuilds the recorded config exactly. When it does not (a field renamed or added
since the run, a value no flag can express, an experiment or preset that no longer exists) the report says so
and shows the run's config JSON instead of a command that would silently run something else.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any


class _NoFlag(ValueError):
    """A recorded value that no ``--set`` flag can express."""


def _flatten(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: x}


def _flag_value(path: str, v: Any) -> str:
    """``v`` as the text ``--set path=...`` parses back to it (see `spinaptic.config_fields.parse_value`)."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        return repr(v) if isinstance(v, float) else str(v)
    if isinstance(v, list) and v and all(isinstance(x, int | float | str) and not isinstance(x, bool) for x in v):
        return ",".join(_flag_value(path, x) for x in v)
    raise _NoFlag(f"{path} = {json.dumps(v)[:80]} has no --set form")


def set_flags(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``(["KEY=VALUE", ...], added)``: overrides turning the current preset into ``doc["config"]``, and the fields
    the preset has that the recorded config lacks (added since the run; they keep their preset values).

    Raises ValueError (or ImportError) when no flags rebuild the recorded config.
    """
    from ..experiments.base import _jsonable, get_experiment, resolve_config

    spec = get_experiment(str(doc["experiment"]))
    recorded = _flatten(doc["config"])
    preset = _flatten(_jsonable(resolve_config(spec, str(doc["preset"]))))
    added = [k for k in preset if k not in recorded]
    overrides = {k: _flag_value(k, v) for k, v in recorded.items() if k not in preset or preset[k] != v}
    rebuilt = _flatten(_jsonable(resolve_config(spec, str(doc["preset"]), overrides)))
    if {k: v for k, v in rebuilt.items() if k not in added} != recorded:
        raise _NoFlag("the flags do not rebuild the recorded config")
    return [f"{k}={v}" for k, v in overrides.items()], added


@dataclass
class Reproduce:
    """How to rerun a run: ``command``; ``notes`` on what it cannot reproduce exactly; ``config_json`` (the run's
    config) whenever the command alone does not rebuild it."""

    command: str
    notes: list[str] = field(default_factory=list)
    config_json: str = ""


def reproduce_command(doc: dict[str, Any]) -> Reproduce:
    """The `Reproduce` of result document ``doc``."""
    base = ["spinaptic", "run", str(doc.get("experiment", "?")), "--preset", str(doc.get("preset", "?")),
            "--seed", str(doc.get("seed", "?"))]
    if str(doc.get("device", "cpu")) != "cpu":
        base += ["--device", str(doc["device"])]
    config_json = json.dumps(doc.get("config"), indent=1)
    try:
        flags, added = set_flags(doc)
    except (ImportError, KeyError, TypeError, ValueError) as e:
        why = " ".join(str(e).split())[:300] or type(e).__name__
        return Reproduce(shlex.join(base), [f"The run's config cannot be expressed as --set flags on the current "
                                            f"preset ({why}): the command runs the preset; the run's config is below."],
                         config_json)
    out = Reproduce(shlex.join(base + [x for f in flags for x in ("--set", f)]))
    if added:
        more = f" and {len(added) - 5} more" if len(added) > 5 else ""
        out.notes.append(f"Field(s) {', '.join(added[:5])}{more} did not exist when the run was made; the command "
                         "gives them their current preset values. The run's config is below.")
        out.config_json = config_json
    try:
        from ..experiments.checkpoint import source_hash

        here = source_hash()
    except ImportError:  # pragma: no cover - part of the package
        here = ""
    if here and doc.get("source_hash") and doc["source_hash"] != here:
        out.notes.append(f"The run was made with source {doc['source_hash']}; the installed code is {here}, so its "
                         "numbers may differ.")
    return out
