"""Checksum-verified, atomic downloads and atomic file writes.

A file only ever appears at its final path complete and verified: it is written to a temporary file in
the same directory, fsynced, checked against its SHA-256 and then ``os.replace``-d into place. On any
failure the temporary file is removed, so an interrupted or tampered download leaves nothing behind; a
``.part`` left by a killed process is removed by the next write of the same file once it is stale (not
modified for :data:`STALE_PART_SECONDS`). A download has a per-read timeout and an overall deadline, a cap
on the body size, and gzip payloads are checksummed as a stream capped at ``MAX_GZIP_BYTES``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Literal

from ..fileio import STALE_SECONDS, remove_stale_temporaries
from .idx import MAX_GZIP_BYTES, DataError

__all__ = [
    "DOWNLOAD_DEADLINE",
    "STALE_PART_SECONDS",
    "atomic_write",
    "download_file",
    "file_sha256",
    "gunzip_sha256",
    "file_md5",
    "remove_stale_parts",
]

Payload = Literal["file", "gunzip"]

_CHUNK = 1 << 20
_USER_AGENT = "spinaptic-data/0.1 (+https://pypi.org/project/spinaptic)"

#: Wall-clock limit of one mirror's transfer (connect + body), seconds: CIFAR's 170 MB at >= 100 kB/s.
DOWNLOAD_DEADLINE = 1800.0
#: A temporary ``.part`` file not modified for this long belongs to no live write and is removed.
STALE_PART_SECONDS = STALE_SECONDS


def _hash_stream(stream: IO[bytes], algo: str, max_bytes: int | None = None, name: object = "") -> str:
    h = hashlib.new(algo)
    n = 0
    while chunk := stream.read(_CHUNK):
        n += len(chunk)
        if max_bytes is not None and n > max_bytes:
            raise DataError(
                f"{name}: gzip data decompresses to more than the limit of {max_bytes} bytes "
                "(corrupt file or decompression bomb)"
            )
        h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes."""
    with open(path, "rb") as f:
        return _hash_stream(f, "sha256")


def file_md5(path: str | os.PathLike[str]) -> str:
    """MD5 hex digest of a file's bytes (only to compare with digests published as MD5)."""
    with open(path, "rb") as f:
        return _hash_stream(f, "md5")


def gunzip_sha256(path: str | os.PathLike[str], *, max_bytes: int = MAX_GZIP_BYTES) -> str:
    """SHA-256 of the *decompressed* content of a gzip file (plain files are hashed as they are).

    Used where mirrors hold differently compressed copies of identical data (MNIST, Fashion-MNIST).
    Decompression streams (no memory) and stops with DataError past ``max_bytes``.
    """
    with open(path, "rb") as f:
        is_gz = f.read(2) == b"\x1f\x8b"
    if not is_gz:
        return file_sha256(path)
    try:
        with gzip.open(path, "rb") as f:
            return _hash_stream(f, "sha256", max_bytes, path)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from e


def payload_sha256(path: str | os.PathLike[str], payload: Payload, *, max_bytes: int = MAX_GZIP_BYTES) -> str:
    """SHA-256 of ``path`` as the registry defines it: of the file bytes or of the gunzipped content."""
    return gunzip_sha256(path, max_bytes=max_bytes) if payload == "gunzip" else file_sha256(path)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, briefly, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not supported everywhere (e.g. Windows); best effort
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_parts(dest: str | os.PathLike[str], older_than: float = STALE_PART_SECONDS) -> list[Path]:
    """Delete the ``.<name>.*.part`` temporaries of ``dest`` not modified for ``older_than`` seconds.

    Such files are left only by a process killed mid-write (any other failure removes its own); a live
    write touches its file at every chunk, so age tells the two apart. Returns the removed paths.
    """
    return remove_stale_temporaries(dest, ".part", older_than)


@contextlib.contextmanager
def atomic_write(dest: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Context manager yielding a binary file that replaces ``dest`` atomically on successful exit.

    The temporary file lives in ``dest``'s directory (so ``os.replace`` is atomic), is fsynced before the
    rename, and is deleted if the block raises. Stale temporaries of ``dest`` from killed processes are
    removed first (:func:`remove_stale_parts`).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(dest)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:  # f.name is the temporary path
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(dest.parent)


def _want_progress(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _fetch(
    url: str, out: IO[bytes], *, timeout: float, deadline: float | None, max_bytes: int, progress: bool, desc: str
) -> int:
    """Stream ``url`` into ``out``; return the byte count. Raises OSError/URLError/DataError.

    ``timeout`` bounds each socket operation, ``deadline`` (seconds) the whole transfer; it is checked
    after every read, so it is overrun by at most one ``timeout``.
    """
    from tqdm.auto import tqdm

    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise DataError(f"refusing to download from {url!r}: only http(s) URLs are allowed")
    t_end = None if deadline is None else time.monotonic() + deadline
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout if deadline is None else min(timeout, deadline)) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DataError(f"{url}: server announces {total} bytes, more than the limit of {max_bytes}")
        n = 0
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=desc, disable=not progress, leave=False
        ) as bar:
            read = getattr(resp, "read1", resp.read)  # read1: whatever has arrived, so the deadline is seen
            while chunk := read(_CHUNK):
                n += len(chunk)
                if n > max_bytes:
                    raise DataError(f"{url}: download exceeds the limit of {max_bytes} bytes")
                out.write(chunk)
                bar.update(len(chunk))
                if t_end is not None and time.monotonic() > t_end:
                    raise DataError(
                        f"{url}: download did not finish within the deadline of {deadline:g} s "
                        f"({n} bytes received); the partial file was discarded"
                    )
        if total is not None and n != total:
            raise DataError(f"{url}: connection closed after {n} of {total} bytes")
    return n


def download_file(
    urls: Sequence[str],
    dest: str | os.PathLike[str],
    *,
    sha256: str,
    payload: Payload = "file",
    timeout: float = 60.0,
    deadline: float | None = DOWNLOAD_DEADLINE,
    max_bytes: int = 1 << 31,
    max_payload_bytes: int = MAX_GZIP_BYTES,
    progress: bool | None = None,
) -> Path:
    """Download the first mirror in ``urls`` whose content matches ``sha256`` to ``dest``, atomically.

    ``payload="gunzip"`` checks the digest of the decompressed content instead of the file bytes (for
    mirrors that re-compress the same data). Mirrors are tried in order; a network error or checksum
    mismatch moves on to the next. If none succeeds, DataError lists every attempt, and nothing (no
    partial or temporary file) is left in ``dest``'s directory. ``timeout`` bounds each network read,
    ``deadline`` each mirror's whole transfer; ``max_bytes`` caps the body and ``max_payload_bytes`` the
    decompressed size checked with ``payload="gunzip"``. ``progress=None`` shows a tqdm bar only when
    stderr is a terminal.
    """
    dest = Path(dest)
    want = sha256.lower()
    if not urls:
        raise DataError(f"no download URL known for {dest.name}")
    show = _want_progress(progress)
    failures: list[str] = []
    for url in urls:
        try:
            with atomic_write(dest) as f:
                _fetch(
                    url, f, timeout=timeout, deadline=deadline, max_bytes=max_bytes, progress=show, desc=dest.name
                )
                f.flush()
                got = payload_sha256(f.name, payload, max_bytes=max_payload_bytes)
                if got != want:
                    what = "decompressed content" if payload == "gunzip" else "file"
                    raise DataError(
                        f"SHA-256 mismatch for {dest.name} from {url}: {what} has {got}, expected {want}; "
                        "the download was discarded"
                    )
        except DataError as e:
            failures.append(str(e))
        except (OSError, urllib.error.URLError, TimeoutError, http.client.HTTPException) as e:
            failures.append(f"{url}: {e}")
        else:
            return dest
    detail = "\n  ".join(failures)
    raise DataError(f"could not download {dest.name} (tried {len(urls)} mirror(s)):\n  {detail}")
