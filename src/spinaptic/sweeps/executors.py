"""Where sweep points run: a local spawn process pool or Ray tasks, both calling the same `run_point`.

`run_point` is an ordinary `run_experiment` call into the point's own directory with ``threads=1`` and
``resume=True``, so a point computes the same numbers whichever executor ran it, and a point interrupted
earlier resumes from its own checkpoints. It never raises: a failure comes back as an outcome, with the
traceback written beside the point, so one bad point cannot stop the others. An executor only knows how to
``submit`` a task, ``wait`` for the next finished one and ``close``; the scheduling is `engine`'s.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
import traceback
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text

TRACEBACK_NAME = "traceback.txt"


def one_line(e: BaseException) -> str:
    """``Type: message`` on one line (the form a failed point is reported in)."""
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def run_point(task: dict[str, Any]) -> dict[str, Any]:
    """Run one point (``task``: experiment, preset, seed, device, overrides, out_dir, id); return its outcome.

    The outcome is ``{"id", "status": "done"|"failed", "error", "wall_time_s", "resumed_stages",
    "computed_stages"}``. A failure leaves ``traceback.txt`` in the point's directory; a success removes a
    stale one from an earlier attempt.
    """
    out = Path(task["out_dir"])
    t0 = time.perf_counter()
    outcome: dict[str, Any] = {"id": task["id"], "status": "done", "error": "", "resumed_stages": [],
                               "computed_stages": []}
    try:
        from ..experiments.base import run_experiment

        doc = run_experiment(task["experiment"], preset=task["preset"], seed=task["seed"], device=task["device"],
                             out_dir=out, overrides=task["overrides"], resume=True, quiet=True, threads=1)
        outcome["resumed_stages"] = list(doc["resume"]["resumed_stages"])
        outcome["computed_stages"] = list(doc["resume"]["computed_stages"])
        (out / TRACEBACK_NAME).unlink(missing_ok=True)
    except Exception as e:  # noqa: BLE001 - a failed point is recorded, never fatal to the sweep
        outcome.update(status="failed", error=one_line(e))
        write_traceback(out, traceback.format_exc())
    outcome["wall_time_s"] = round(time.perf_counter() - t0, 3)
    return outcome


def write_traceback(out: Path, text: str) -> None:
    """Best effort: a point whose directory cannot be written still has its error in sweep.json."""
    try:
        atomic_write_text(out / TRACEBACK_NAME, text)
    except OSError:
        pass


class LocalExecutor:
    """A spawn-context process pool of ``workers`` processes (created on the first submit).

    Spawn, not fork: a fresh interpreter per worker, no inherited torch/numba thread pools or locks. A worker
    that dies (killed, out of memory, crash) breaks the pool: its in-flight points come back as failures and
    the next submit starts a new pool.
    """

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: cf.ProcessPoolExecutor | None = None

    def submit(self, task: dict[str, Any]) -> cf.Future:
        if self.pool is None:
            self.pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self.pool.submit(run_point, task)

    def wait(self, handles: list[Any]) -> tuple[Any, dict[str, Any] | BaseException]:
        done, _ = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
        fut = next(h for h in handles if h in done)  # submission order among the finished: deterministic
        try:
            return fut, fut.result()
        except Exception as e:  # noqa: BLE001 - BrokenProcessPool and the like
            if isinstance(e, cf.process.BrokenProcessPool) and self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
            return fut, e

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self.pool = None


class RayExecutor:
    """Ray tasks with ``num_cpus=1`` (``num_gpus=1`` for a CUDA point), no retries (a crash is a failed point).

    ``address`` None starts a local instance bound to 127.0.0.1 with ``workers`` (default: all) CPUs and shuts
    it down on close; "auto" or HOST:PORT joins a running cluster, whose workers must have spinaptic installed
    and see the sweep directory at the same path (a shared file system). A Ray session already initialised in
    this process is used as it is.
    """

    name = "ray"

    def __init__(self, address: str | None, workers: int | None) -> None:
        import ray

        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            if address is None:
                ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                         _node_ip_address="127.0.0.1", log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self.started = True
        self.remote = ray.remote(run_point)

    def submit(self, task: dict[str, Any]) -> Any:
        gpus = 1 if str(task["device"]).startswith("cuda") else 0
        return self.remote.options(num_cpus=1, num_gpus=gpus, max_retries=0).remote(task)

    def wait(self, handles: list[Any]) -> tuple[Any, dict[str, Any] | BaseException]:
        ready, _ = self.ray.wait(list(handles), num_returns=1)
        try:
            return ready[0], self.ray.get(ready[0])
        except Exception as e:  # noqa: BLE001 - worker crashed, node lost, ...
            return ready[0], e

    def close(self, cancel: bool = False) -> None:
        if self.started:
            self.ray.shutdown()
            self.started = False


def make_executor(name: str, workers: int | None, address: str | None) -> LocalExecutor | RayExecutor:
    """The executor ``name`` ("local": ``workers`` processes, default all CPUs; "ray")."""
    if name == "ray":
        return RayExecutor(address, workers)
    return LocalExecutor(workers or os.cpu_count() or 1)
