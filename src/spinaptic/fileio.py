"""Atomic file writes shared by every layer: a temp file in the target directory, fsync, then ``os.replace``.

A reader never sees a half-written result, table or checkpoint, and an interrupted write leaves nothing behind
(a process killed mid-write leaves its temporary, which the next write to the same file removes once it is an
hour old). Files get the usual permissions of a new file (0644 under the common umask 022), not the temp file's
0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

STALE_SECONDS = 3600.0
"""A temporary not modified for this long belongs to no live write (a live one is written continuously)."""


def remove_stale_temporaries(dest: str | os.PathLike[str], suffix: str, older_than: float = STALE_SECONDS) -> list[Path]:
    """Delete the ``.<name>.*<suffix>`` temporaries of ``dest`` not modified for ``older_than`` seconds.

    Only a process killed mid-write leaves one (every other failure removes its own); returns the removed paths.
    """
    dest = Path(dest)
    prefix, now, removed = f".{dest.name}.", time.time(), []
    try:
        entries = list(os.scandir(dest.parent))
    except OSError:
        return removed
    for e in entries:
        if not (e.name.startswith(prefix) and e.name.endswith(suffix)):
            continue
        with contextlib.suppress(OSError):
            if e.is_file(follow_symlinks=False) and now - e.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(e.path)
                removed.append(Path(e.path))
    return removed


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (parent directories are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path, ".tmp")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 text version of `atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))
