"""IDX file parsing (the MNIST / Fashion-MNIST container format), strict about every header field.

An IDX file is ``0x00 0x00 <dtype code> <ndim>`` followed by ``ndim`` big-endian uint32 sizes and the
row-major payload. We check the magic, the dtype code, the dims and that the byte count matches the
header exactly, so a truncated or corrupt download fails loudly instead of yielding a short dataset.
Both gzip-compressed and plain files are accepted (detected from the content, not the file name).

Sizes are computed in Python integers (four dims of 65536 do not wrap to 0) and files are read as a
stream, header first: at most the declared size plus one byte is ever decompressed, and a header that
declares more than ``max_bytes`` (default :data:`MAX_IDX_BYTES`) is refused before anything is inflated,
so a gzip bomb costs neither memory nor time.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import zlib
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "DataError",
    "IDX_DTYPES",
    "MAX_GZIP_BYTES",
    "MAX_IDX_BYTES",
    "read_idx",
    "read_idx_bytes",
    "read_idx_stream",
    "read_maybe_gzip",
    "parse_idx",
]


class DataError(ValueError):
    """A data file is missing, truncated, corrupt, fails its checksum or has an unexpected layout."""


#: IDX dtype code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Largest IDX payload read by default: 1 GiB, 20x MNIST's largest file (47 MB) and room for EMNIST (550 MB).
MAX_IDX_BYTES = 1 << 30
#: Largest decompressed size :func:`read_maybe_gzip` (and checksums of gzip payloads) will inflate: 1 GiB.
MAX_GZIP_BYTES = 1 << 30

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_NDIM = 8
_MAX_INTP = int(np.iinfo(np.intp).max)
_CHUNK = 1 << 20
_GZIP_ERRORS = (OSError, EOFError, zlib.error)  # BadGzipFile is an OSError


def read_maybe_gzip(path: str | os.PathLike[str], *, max_bytes: int = MAX_GZIP_BYTES) -> bytes:
    """Return the bytes of ``path``, gunzipped if the file starts with the gzip magic.

    Decompression streams and stops with DataError as soon as the output would exceed ``max_bytes``; a
    truncated or corrupt gzip stream (bad header, CRC or length, early EOF) raises DataError naming the file.
    """
    p = Path(path)
    try:
        with open(p, "rb") as raw:
            if raw.read(2) != _GZIP_MAGIC:
                raw.seek(0)
                data = raw.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise DataError(f"{p}: file is larger than the limit of {max_bytes} bytes")
                return data
            raw.seek(0)
            parts, n = [], 0
            try:
                with gzip.GzipFile(fileobj=raw) as gz:
                    while chunk := gz.read(min(_CHUNK, max_bytes + 1 - n)):
                        n += len(chunk)
                        if n > max_bytes:
                            raise DataError(
                                f"{p}: gzip data decompresses to more than the limit of {max_bytes} bytes "
                                "(corrupt file or decompression bomb)"
                            )
                        parts.append(chunk)
            except _GZIP_ERRORS as e:
                raise DataError(f"{p}: corrupt or truncated gzip data ({e})") from e
            return b"".join(parts)
    except OSError as e:
        raise DataError(f"cannot read {p}: {e}") from e


def _parse_header(data: bytes | bytearray, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, dims, header length) from the start of an IDX payload; DataError on any bad field."""
    if len(data) < 4:
        raise DataError(f"{name}: not an IDX file (only {len(data)} bytes, header needs at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{name}: bad IDX magic number 0x{bytes(data[:4]).hex()} (the first two bytes must be zero); "
            "the file is corrupt or not IDX"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise DataError(
            f"{name}: unknown IDX dtype code 0x{code:02x} (magic 0x{bytes(data[:4]).hex()}); "
            f"expected one of {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}"
        )
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataError(f"{name}: IDX header declares {ndim} dimensions (allowed 1..{_MAX_NDIM})")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"{name}: truncated IDX header ({len(data)} bytes, need {header_len} for {ndim} dims)"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[code]
    if math.prod(d for d in dims if d) * dtype.itemsize > _MAX_INTP:  # numpy refuses even with a zero dim
        raise DataError(f"{name}: IDX header declares shape {dims}, too large for any array")
    return dtype, dims, header_len


def _size_error(name: str, dims: tuple[int, ...], dtype: np.dtype, expected: int, got: str) -> DataError:
    kind = "truncated" if got.isdigit() and int(got) < expected else "has trailing bytes"
    return DataError(
        f"{name}: IDX file {kind}: header says shape {dims} of {dtype.name} = {expected} bytes, file has {got} bytes"
    )


def _to_array(buf: bytes | bytearray, dtype: np.dtype, dims: tuple[int, ...], offset: int) -> np.ndarray:
    arr = np.frombuffer(buf, dtype=dtype, count=math.prod(dims), offset=offset).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    arr.flags.writeable = False
    return arr


def parse_idx(data: bytes | bytearray, name: str = "<bytes>") -> np.ndarray:
    """Parse an uncompressed IDX payload into a native-endian, read-only numpy array.

    ``name`` is used in error messages (normally the file path).
    """
    dtype, dims, header_len = _parse_header(data, name)
    expected = header_len + math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    if len(data) != expected:
        raise _size_error(name, dims, dtype, expected, str(len(data)))
    return _to_array(data, dtype, dims, header_len)


def read_idx_stream(stream: IO[bytes], name: str, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Parse an IDX payload from a binary stream (plain or a ``GzipFile``), header first.

    Reads at most the size the header declares plus one byte, and refuses with DataError a header that
    declares more than ``max_bytes`` bytes before reading its payload. Memory grows with the bytes actually
    read, not with what the header declares (a 20-byte file claiming 1 GiB allocates nothing large).
    """
    head = bytearray(stream.read(4))
    if len(head) == 4 and head[:2] == b"\0\0" and head[2] in IDX_DTYPES and 1 <= head[3] <= _MAX_NDIM:
        head += stream.read(4 * head[3])
    dtype, dims, header_len = _parse_header(head, name)
    expected = header_len + math.prod(dims) * dtype.itemsize
    if expected > max_bytes:
        raise DataError(
            f"{name}: IDX header declares shape {dims} of {dtype.name} = {expected} bytes, more than the "
            f"limit of {max_bytes} bytes (corrupt header or decompression bomb)"
        )
    buf = head
    while len(buf) <= expected:  # up to one byte past the payload: detects trailing data
        chunk = stream.read(min(_CHUNK, expected + 1 - len(buf)))
        if not chunk:
            break
        buf += chunk
    got = len(buf)
    if got != expected:
        raise _size_error(name, dims, dtype, expected, str(got) if got < expected else "more")
    return _to_array(buf, dtype, dims, header_len)


def read_idx_bytes(path: str | os.PathLike[str], *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read and validate one IDX file (``.gz`` or plain), without caching; see :func:`read_idx_stream`."""
    p = Path(path)
    try:
        with open(p, "rb") as raw:
            is_gz = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if not is_gz:
                return read_idx_stream(raw, str(p), max_bytes=max_bytes)
            try:
                with gzip.GzipFile(fileobj=raw) as gz:
                    return read_idx_stream(gz, str(p), max_bytes=max_bytes)
            except _GZIP_ERRORS as e:
                raise DataError(f"{p}: corrupt or truncated gzip data ({e})") from e
    except OSError as e:
        raise DataError(f"cannot read {p}: {e}") from e


@functools.lru_cache(maxsize=16)
def _read_idx_cached(path: str, mtime_ns: int, size: int, max_bytes: int) -> np.ndarray:
    return read_idx_bytes(path, max_bytes=max_bytes)


def read_idx(
    path: str | os.PathLike[str],
    *,
    ndim: int | None = None,
    dtype: np.dtype | str | None = None,
    max_bytes: int = MAX_IDX_BYTES,
) -> np.ndarray:
    """Read an IDX file, cached per process on (path, mtime, size); the returned array is read-only.

    ``ndim`` and ``dtype`` optionally check the header against what the caller expects; ``max_bytes``
    caps the decompressed size (callers that know the expected shape pass a tighter limit).
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise DataError(f"cannot read {p}: {e}") from e
    arr = _read_idx_cached(str(p.resolve()), st.st_mtime_ns, st.st_size, max_bytes)
    if ndim is not None and arr.ndim != ndim:
        raise DataError(f"{p}: expected a {ndim}-d IDX array, header says shape {arr.shape}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise DataError(f"{p}: expected IDX dtype {np.dtype(dtype).name}, header says {arr.dtype.name}")
    return arr
