"""Bounded NPZ reading: ``np.load`` without the zip-bomb, overflow and foreign-exception failure modes.

``np.load`` allocates whatever shape an array header declares and lets zipfile/zlib/numpy exceptions
through (``NotImplementedError`` for an unsupported zip method, ``BadZipFile``, ``zlib.error``...). Here
each wanted member is checked before anything is inflated (zip method, encryption, a plain ``.npy`` header
with no object dtype, size computed in Python integers against ``max_member_bytes`` and the running total
against ``max_total_bytes``, and the zip entry's declared size must equal header + payload), then read in
bounded chunks into a preallocated array; reading one byte past the payload makes zipfile check the CRC.
Declared sizes can lie, but the stream is never read past the size the checked header implies. Every
failure is one ``error`` (DataError by default) naming the file.
"""

from __future__ import annotations

import lzma
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
from numpy.lib import format as npy_format

from .idx import DataError

__all__ = ["MAX_NPZ_MEMBER_BYTES", "MAX_NPZ_TOTAL_BYTES", "NpyHeader", "npz_headers", "read_npz"]

#: Largest single array read from an NPZ: 512 MiB (the decoded CIFAR-10 train split is 154 MB, paper 003's
#: lookup tables 20 MB per array).
MAX_NPZ_MEMBER_BYTES = 512 << 20
#: Largest total of the arrays read from one NPZ: 1 GiB.
MAX_NPZ_TOTAL_BYTES = 1 << 30

_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
            zipfile.ZIP_LZMA: "lzma"}  # fmt: skip
_MAX_HEADER = 10_000  # numpy's own default limit on the .npy header text
_DEFLATE_MAX_RATIO = 1032  # deflate's largest expansion (258-byte matches in 2-bit codes)
_CHUNK = 1 << 20
#: what zipfile, zlib, bz2, lzma and numpy's header parser (ast, and tokenize for old headers) raise
_READ_ERRORS = (
    OSError, EOFError, ValueError, TypeError, KeyError, SyntaxError, OverflowError, RuntimeError,
    NotImplementedError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, struct.error,
    tokenize.TokenError,
)  # fmt: skip


class NpyHeader(NamedTuple):
    """Shape, dtype and order of one ``.npy`` member, and its payload size in bytes."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    nbytes: int


def _check_info(info: zipfile.ZipInfo, where: str, error: type[Exception]) -> None:
    if info.compress_type not in _METHODS:
        raise error(f"{where}: zip compression method {info.compress_type} is not supported "
                    f"(only {', '.join(_METHODS.values())})")
    if info.flag_bits & 0x1:
        raise error(f"{where}: the zip member is encrypted")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise error(f"{where}: stored zip member declares {info.file_size} bytes but holds {info.compress_size}")
    if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 64:
        raise error(f"{where}: zip member declares {info.file_size} bytes from {info.compress_size} compressed, "
                    "more than deflate can encode")


def _read_header(f: IO[bytes], where: str, error: type[Exception], max_member_bytes: int) -> NpyHeader:
    version = npy_format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = npy_format.read_array_header_1_0(f, max_header_size=_MAX_HEADER)
    elif version == (2, 0):
        shape, fortran, dtype = npy_format.read_array_header_2_0(f, max_header_size=_MAX_HEADER)
    else:
        raise error(f"{where}: unsupported .npy format version {version[0]}.{version[1]}")
    if dtype.hasobject:
        raise error(f"{where}: object arrays are not allowed (they need pickle)")
    if any(d < 0 for d in shape):
        raise error(f"{where}: negative dimension in shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if nbytes > max_member_bytes:
        raise error(f"{where}: array header declares shape {shape} of {dtype} = {nbytes} bytes, more than the "
                    f"limit of {max_member_bytes} bytes (corrupt file or decompression bomb)")
    return NpyHeader(tuple(shape), dtype, bool(fortran), nbytes)


def _read_payload(f: IO[bytes], h: NpyHeader, where: str, error: type[Exception]) -> np.ndarray:
    arr = np.empty(math.prod(h.shape), dtype=h.dtype)
    if h.nbytes:
        view = memoryview(arr.view(np.uint8))
        n = 0
        while n < h.nbytes:
            k = f.readinto(view[n : n + _CHUNK])
            if not k:
                raise error(f"{where}: array data truncated ({n} of {h.nbytes} bytes)")
            n += k
    if f.read(1):  # also makes zipfile verify the CRC-32 at the end of the member
        raise error(f"{where}: trailing bytes after the array data")
    return arr.reshape(h.shape[::-1]).transpose() if h.fortran else arr.reshape(h.shape)


def _scan(path: Path, keys: Iterable[str] | None, optional: Iterable[str], error: type[Exception], what: str,
          max_member_bytes: int, max_total_bytes: float, data: bool) -> dict[str, Any]:
    """Headers (``data=False``) or arrays of the wanted members, every check applied; see the module doc."""
    wanted, maybe = list(keys) if keys is not None else None, list(optional)
    out: dict[str, Any] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            members = {i.filename.removesuffix(".npy"): i for i in zf.infolist() if i.filename.endswith(".npy")}
            if wanted is None:
                wanted = list(members)
            missing = [k for k in wanted if k not in members]
            if missing:
                raise error(f"{path}: missing array(s) {', '.join(missing)} "
                            f"(found: {', '.join(members) or 'none'})")
            for key in wanted + [k for k in maybe if k in members and k not in wanted]:
                info, where = members[key], f"{path}: array {key!r}"
                _check_info(info, where, error)
                with zf.open(info) as f:
                    h = _read_header(f, where, error, max_member_bytes)
                    if info.file_size != f.tell() + h.nbytes:
                        raise error(f"{where}: zip entry declares {info.file_size} bytes but the array header "
                                    f"implies {f.tell() + h.nbytes}")
                    total += h.nbytes
                    if total > max_total_bytes:
                        raise error(f"{path}: arrays total more than the limit of {max_total_bytes} bytes")
                    out[key] = _read_payload(f, h, where, error) if data else h
    except error:
        raise
    except _READ_ERRORS as e:
        raise error(f"{path}: not a readable {what} ({type(e).__name__}: {e})") from None
    return out


def read_npz(path: str | os.PathLike[str], keys: Iterable[str] | None = None, *, optional: Iterable[str] = (),
             error: type[Exception] = DataError, what: str = "NPZ file",
             max_member_bytes: int = MAX_NPZ_MEMBER_BYTES,
             max_total_bytes: int = MAX_NPZ_TOTAL_BYTES) -> dict[str, np.ndarray]:
    """Arrays ``keys`` (all ``.npy`` members if None) plus those of ``optional`` present, with size caps.

    Missing keys, a bad member or a cap exceeded raise ``error`` (``what`` names the kind of file in the
    message). Arrays are writable and keep the stored byte order, as with ``np.load``.
    """
    return _scan(Path(path), keys, optional, error, what, max_member_bytes, max_total_bytes, True)


def npz_headers(path: str | os.PathLike[str], keys: Iterable[str] | None = None, *,
                error: type[Exception] = DataError, what: str = "NPZ file",
                max_member_bytes: int = MAX_NPZ_MEMBER_BYTES) -> dict[str, NpyHeader]:
    """Headers of the ``.npy`` members ``keys`` (all if None), checked like :func:`read_npz` but not read."""
    return _scan(Path(path), keys, (), error, what, max_member_bytes, math.inf, False)
