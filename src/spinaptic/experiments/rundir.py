"""The output directory of a run: checked before anything is written, and locked while a run uses it.

Two runs into the same directory would overwrite each other's checkpoints and results, so a run holds an
exclusive `filelock` on ``<out>/.spinaptic.lock`` and records who holds it (pid, host, experiment, start
time) beside it; a second run fails at once with one line naming the holder. The OS releases the lock when
its process dies, so a killed run never leaves the directory blocked.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from ..config import ConfigError

LOCK_NAME = ".spinaptic.lock"
OWNER_NAME = ".spinaptic.lock.owner"


def check_out_dir(out: str | os.PathLike[str] | None) -> Path:
    """``out`` as a Path if a run can write there (nothing is created); ConfigError with one line otherwise."""
    if out is None or str(out).strip() == "":
        raise ConfigError("--out must name a directory, got an empty string")
    p = Path(out).expanduser()
    try:
        if p.exists() and not p.is_dir():
            raise ConfigError(f"--out {str(p)!r} exists and is not a directory")
        probe = p
        while not probe.exists():
            if probe.parent == probe:
                break
            probe = probe.parent
    except OSError as e:
        raise ConfigError(f"--out {str(p)!r} cannot be accessed ({e.strerror or e})") from None
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"--out {str(p)!r}: {str(probe)!r} is a file, so the directory cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {str(p)!r}: {str(probe)!r} is not writable")
    return p


def _holder(out: Path) -> str:
    try:
        info = json.loads((out / OWNER_NAME).read_text())
        return (f"pid {info.get('pid')} on {info.get('host')}, {info.get('experiment')!s} "
                f"started {info.get('started')}")
    except (OSError, ValueError):
        return "another process"


@contextlib.contextmanager
def locked_out_dir(out: Path, experiment: str) -> Iterator[None]:
    """Hold the run lock of ``out`` (created if needed) for the block; ConfigError naming the holder if taken."""
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(f"output directory {str(out)!r} is in use by another run ({_holder(out)}); "
                          "wait for it or choose another --out") from None
    owner = out / OWNER_NAME
    try:
        owner.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "experiment": experiment,
                                     "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}))
        yield
    finally:
        with contextlib.suppress(OSError):
            owner.unlink()
        lock.release()
