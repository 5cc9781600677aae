"""`run_sweep`: plan, skip finished points, run the rest on an executor, then write the sweep's outputs.

The sweep directory is locked like a run directory (a second sweep into it fails at once), ``points.csv``
and ``sweep.json`` are written before the first point starts, and ``sweep.json`` is rewritten (atomically)
as each point finishes, so a long sweep can be watched and an interrupted one leaves a truthful record.
A point is skipped when its ``result.json`` carries this point's checkpoint key; everything else is handed to
`run_point`, which resumes from the point's own checkpoints.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import __version__
from ..experiments.rundir import locked_out_dir
from ..fileio import atomic_write_text
from .executors import make_executor, one_line, write_traceback
from .outputs import write_csv, write_outputs
from .spec import Point, SweepPlan, plan_sweep


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def is_finished(plan: SweepPlan, point: Point) -> bool:
    """Whether the point's ``result.json`` exists and was computed under this point's key (config, seed,
    device, backend, versions, source) and preset: then it is reused, never recomputed."""
    try:
        doc = json.loads((plan.point_dir(point) / "result.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(doc, dict) and doc.get("experiment") == plan.experiment and doc.get("preset") == plan.preset
            and doc.get("seed") == point.seed and (doc.get("resume") or {}).get("checkpoint_key") == point.key)


def _task(plan: SweepPlan, point: Point) -> dict[str, Any]:
    return {"id": point.id, "experiment": plan.experiment, "preset": plan.preset, "seed": point.seed,
            "device": plan.device, "overrides": point.overrides, "out_dir": str(plan.point_dir(point).resolve())}


class _Record:
    """The sweep's status as written to ``sweep.json``: one entry per point, counts, start/finish times."""

    def __init__(self, plan: SweepPlan, workers: int | None) -> None:
        self.plan = plan
        self.doc: dict[str, Any] = {
            **plan.spec_dict(), "workers": workers, "spinaptic_version": __version__,
            "started": _now(), "finished": None, "status": "running", "counts": {},
            "points": [{"id": p.id, "params": p.params, "seed": p.seed, "dir": f"points/{p.id}", "key": p.key,
                        "status": "pending", "reused": False, "error": "", "wall_time_s": None,
                        "resumed_stages": []} for p in plan.points]}
        self.by_id = {e["id"]: e for e in self.doc["points"]}

    def count(self, status: str) -> int:
        return sum(e["status"] == status for e in self.doc["points"])

    def update(self, pid: str, **fields: Any) -> None:
        self.by_id[pid].update(fields)

    def write(self, status: str | None = None) -> None:
        if status is not None:
            self.doc["status"] = status
            self.doc["finished"] = _now()
        self.doc["counts"] = {s: self.count(s) for s in ("done", "failed", "pending")} | {"total": len(self.plan.points)}
        atomic_write_text(self.plan.out_dir / "sweep.json", json.dumps(self.doc, indent=2, allow_nan=False) + "\n")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_sweep(experiment: str, params: Mapping[str, Sequence[Any]] | None = None, seeds: int = 1, *,
              preset: str = "quick", overrides: Mapping[str, Any] | None = None, device: str = "cpu",
              executor: str = "local", workers: int | None = None, address: str | None = None,
              out_dir: str | os.PathLike[str] | None = None, quiet: bool = False,
              log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run ``experiment`` at every combination of ``params`` values x seeds 0..``seeds``-1; return sweep.json.

    ``params`` maps dotted config fields to value lists (typed like ``--set``; None/empty: the preset's
    declared axes); ``overrides`` fixes other fields. Everything is validated before ``out_dir`` is created.
    Points run on ``executor`` ("local": a spawn process pool of ``workers``, default all CPUs; "ray": Ray
    tasks, ``address`` None = a private local instance) with one thread each. Progress lines go to ``log``
    (default stderr) unless ``quiet``. A failed point is recorded and the others go on: check
    ``result["status"]`` ("complete" or "failed") and ``result["counts"]``. The local pool spawns fresh
    interpreters, which import the calling script again: call this under ``if __name__ == "__main__":``.
    """
    plan = plan_sweep(experiment, params, seeds, preset=preset, overrides=overrides, device=device,
                      executor=executor, workers=workers, address=address, out_dir=out_dir)
    say = (lambda msg: None) if quiet else (log or _stderr)
    with locked_out_dir(plan.out_dir, f"sweep {experiment} [{preset}]"):
        return _run_locked(plan, say)


def _run_locked(plan: SweepPlan, say: Callable[[str], None]) -> dict[str, Any]:
    """The sweep inside its lock: index, skip finished points, run the rest, always write the outputs."""
    out = plan.out_dir
    names = list(plan.params)
    write_csv(out / "points.csv", ["id", *names, "seed", "dir"],
              [{"id": p.id, **p.params, "seed": p.seed, "dir": f"points/{p.id}"} for p in plan.points])
    todo = []
    workers = plan.workers
    rec = _Record(plan, workers)
    for p in plan.points:
        if is_finished(plan, p):
            rec.update(p.id, status="done", reused=True)
        else:
            todo.append(p)
    if plan.executor == "local":
        workers = min(workers or os.cpu_count() or 1, max(len(todo), 1))
        rec.doc["workers"] = workers
    rec.write()
    total = len(plan.points)
    say(f"sweep {plan.experiment} [{plan.preset}]: {total} points ({len(plan.params)} parameter(s) x "
        f"{plan.seeds} seed(s)), {total - len(todo)} already done, {len(todo)} to run on {plan.executor}"
        + (f" x {workers} workers" if workers else "") + f" -> {out}")
    status = "interrupted"
    try:
        if todo:
            _schedule(plan, todo, rec, workers, say)
        status = "failed" if rec.count("failed") else "complete"
    finally:
        rec.write(status)
        write_outputs(out, rec.doc)
    return rec.doc


def _schedule(plan: SweepPlan, todo: list[Point], rec: _Record, workers: int | None,
              say: Callable[[str], None]) -> None:
    """Keep at most ``workers`` points in flight (all, for Ray without --workers); record each as it ends."""
    ex = make_executor(plan.executor, workers, plan.address)
    limit = workers or len(todo)
    queue = list(todo)
    flight: dict[Any, Point] = {}
    cancel = True
    try:
        while queue or flight:
            while queue and len(flight) < limit:
                p = queue.pop(0)
                flight[ex.submit(_task(plan, p))] = p
            handle, res = ex.wait(list(flight))
            p = flight.pop(handle)
            if isinstance(res, BaseException):
                res = {"status": "failed", "error": f"worker process lost while this point (or one running beside it) "
                       f"ran ({one_line(res)}); rerun the sweep to resume it",
                       "resumed_stages": [], "wall_time_s": None}
                write_traceback(plan.point_dir(p), res["error"] + "\n")
            rec.update(p.id, status=res["status"], error=res["error"], wall_time_s=res["wall_time_s"],
                       resumed_stages=res["resumed_stages"])
            rec.write()
            what = (f"ok in {res['wall_time_s']:.1f} s" if res["status"] == "done" else f"FAILED: {res['error'][:200]}")
            say(f"[{rec.count('done')} done / {len(flight)} running / {rec.count('failed')} failed / "
                f"{len(plan.points)} total] {p.label()}: {what}")
        cancel = False
    finally:
        ex.close(cancel=cancel)
