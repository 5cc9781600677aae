"""IDX file parsing (the MNIST / Fashion-MNIST container format), strict about every header field.

An IDX file is ``0x00 0x00 <dtype code> <ndim>`` followed by ``ndim`` big-endian uint32 sizes and the
row-major payload. We check the magic, the dtype code, the dims and that the byte count matches the
header exactly, so a truncated or corrupt download fails loudly instead of yielding a short dataset.
Both gzip-compressed and plain files are accepted (detected from the content, not the file name).
"""

from __future__ import annotations

import functools
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["DataError", "IDX_DTYPES", "read_idx", "read_idx_bytes", "read_maybe_gzip", "parse_idx"]


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

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_NDIM = 8


def read_maybe_gzip(path: str | os.PathLike[str]) -> bytes:
    """Return the bytes of ``path``, gunzipped if the file starts with the gzip magic.

    A truncated or corrupt gzip stream (bad header, CRC or length, early EOF) raises DataError naming the file.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {p}: {e}") from e
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DataError(f"{p}: corrupt or truncated gzip data ({e})") from e


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse an uncompressed IDX payload into a native-endian, read-only numpy array.

    ``name`` is used in error messages (normally the file path).
    """
    if len(data) < 4:
        raise DataError(f"{name}: not an IDX file (only {len(data)} bytes, header needs at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()} (the first two bytes must be zero); "
            "the file is corrupt or not IDX"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise DataError(
            f"{name}: unknown IDX dtype code 0x{code:02x} (magic 0x{data[:4].hex()}); "
            f"expected one of {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}"
        )
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataError(f"{name}: IDX header declares {ndim} dimensions (allowed 1..{_MAX_NDIM})")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"{name}: truncated IDX header ({len(data)} bytes, need {header_len} for {ndim} dims)"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header_len + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(
            f"{name}: IDX file {kind}: header says shape {dims} of {dtype.name} = {expected} bytes, "
            f"file has {len(data)} bytes"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    arr.flags.writeable = False
    return arr


def read_idx_bytes(path: str | os.PathLike[str]) -> np.ndarray:
    """Read and validate one IDX file (``.gz`` or plain), without caching."""
    return parse_idx(read_maybe_gzip(path), str(path))


@functools.lru_cache(maxsize=16)
def _read_idx_cached(path: str, mtime_ns: int, size: int) -> np.ndarray:
    return read_idx_bytes(path)


def read_idx(
    path: str | os.PathLike[str], *, ndim: int | None = None, dtype: np.dtype | str | None = None
) -> np.ndarray:
    """Read an IDX file, cached per process on (path, mtime, size); the returned array is read-only.

    ``ndim`` and ``dtype`` optionally check the header against what the caller expects.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise DataError(f"cannot read {p}: {e}") from e
    arr = _read_idx_cached(str(p.resolve()), st.st_mtime_ns, st.st_size)
    if ndim is not None and arr.ndim != ndim:
        raise DataError(f"{p}: expected a {ndim}-d IDX array, header says shape {arr.shape}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise DataError(f"{p}: expected IDX dtype {np.dtype(dtype).name}, header says {arr.dtype.name}")
    return arr
