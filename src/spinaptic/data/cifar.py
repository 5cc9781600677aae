"""CIFAR-10 / CIFAR-100 readers: the original python (pickle) format and the lossy JPEG copy.

The original ``cifar-10-batches-py`` / ``cifar-100-python`` files are Python-2 pickles. Unpickling runs
whatever callables a pickle names, so they are read only through :class:`RestrictedUnpickler`, which
admits just stand-ins for the numpy internals needed to rebuild plain arrays (and the latin-1
``_codecs.encode`` that protocol-2 pickles use for bytes) and refuses every other global with DataError.
The stand-ins check the state a pickle hands to numpy (plain numeric/string dtype, shape, exact byte
count) before numpy sees it: numpy itself crashes (segfault) on, e.g., an object-dtype array state whose
item list is too short, and ``numpy.ndarray`` is an inert token (callable, it would allocate any shape).
The unpickler is CPython's pure-Python one (about 15 % slower on a CIFAR batch): the C unpickler sizes its
memo table by the largest memo index in the pickle, so 9 bytes can make it fill 4 GB of RAM.
Archives are read as a stream with caps on member and total decompressed size.

The JPEG copy (``cifar10_jpeg.npz``: JPEG blobs + offsets, no pickle) is decoded with Pillow once and the
decoded arrays are cached as ``.npz`` in the user cache directory; it is lossy, and says so with a
:class:`LossyDataWarning`.
"""

from __future__ import annotations

import bz2
import codecs
import functools
import gzip
import hashlib
import io
import lzma
import math
import os
import pickle
import tarfile
import warnings
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from .download import atomic_write
from .idx import DataError
from .npz import read_npz

try:  # numpy >= 2 (numpy 1.26 also ships the numpy._core alias)
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - older numpy
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]

__all__ = [
    "CIFAR10_TRAIN_BATCHES",
    "CIFAR10_TEST_BATCH",
    "LossyDataWarning",
    "RestrictedUnpickler",
    "safe_unpickle",
    "parse_cifar_batch",
    "load_cifar_python",
    "load_cifar10_jpeg",
    "decode_jpeg_npz",
]

CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
_IMAGE_BYTES = 3 * 32 * 32
#: Largest CIFAR batch file read (the CIFAR-100 train pickle, the largest, is 155 MB).
_MAX_MEMBER_BYTES = 512 << 20
#: Largest decompressed tar stream scanned for the batches (both CIFAR archives are about 185 MB).
_MAX_TAR_BYTES = 1 << 30
#: Most images decoded from one split of a JPEG npz (CIFAR-10's largest has 50,000): 805 MB decoded.
_MAX_JPEG_IMAGES = 1 << 18
#: dtype kinds a pickled array may have: bool, integers, floats, complex, bytes and str (no objects, records).
_PLAIN_KINDS = "biufcSU"


class LossyDataWarning(UserWarning):
    """The dataset copy in use is not bit-identical to the original (e.g. the JPEG CIFAR-10)."""


def _latin1_encode(obj: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Stand-in for ``_codecs.encode`` as protocol-2 pickles use it for bytes: latin-1 only."""
    if encoding.lower().replace("_", "-") not in ("latin1", "latin-1") or not isinstance(obj, str):
        raise DataError(f"pickle calls _codecs.encode with encoding {encoding!r}; only latin1 is allowed")
    return codecs.encode(obj, "latin1", errors)


class _Refused(DataError):
    """A pickle hands a numpy stand-in something other than a plain array; safe_unpickle adds the file name."""


class _PickledDtype:
    """Stand-in for ``numpy.dtype`` in a pickle: only a plain dtype code and a byte order are taken.

    The pickled dtype state (fields, subarray, element size, flags) never reaches numpy: the dtype is
    rebuilt from its code, so a crafted state cannot yield an inconsistent descriptor.
    """

    def __init__(self, code: Any, align: Any = False, copy: Any = False) -> None:
        if isinstance(code, bytes):
            code = code.decode("latin1")
        if not isinstance(code, str):
            raise _Refused(f"pickled dtype must be given by a type code, got {type(code).__name__}")
        d = np.dtype(code)
        if d.kind not in _PLAIN_KINDS or d.names is not None or d.subdtype is not None:
            raise _Refused(f"pickled dtype {code!r} is not a plain numeric or string type")
        self.dtype = d

    def __setstate__(self, state: Any) -> None:
        endian = state[1] if isinstance(state, tuple) and len(state) >= 2 else None
        if isinstance(endian, bytes):  # Python-2 pickles loaded with encoding="bytes"
            endian = endian.decode("latin1")
        if endian not in ("<", ">", "|", "="):
            raise _Refused("malformed pickled dtype state")
        if any(x is not None for x in state[2:5]):  # subarray, names, fields
            raise _Refused("pickled dtype has fields or a subarray; only plain dtypes are allowed")
        if endian in "<>":
            self.dtype = self.dtype.newbyteorder(endian)


def _dtype_of(d: Any) -> np.dtype:
    if not isinstance(d, _PickledDtype):
        raise _Refused(f"expected a pickled dtype, got {type(d).__name__}")
    return d.dtype


def _raw_bytes(raw: Any, n: int, what: str) -> bytes | bytearray:
    if isinstance(raw, str):  # pickles loaded with encoding="latin1" give the bytes as str
        raw = raw.encode("latin1")
    if not isinstance(raw, bytes | bytearray):
        raise _Refused(f"{what} data must be bytes, got {type(raw).__name__}")
    if len(raw) != n:
        raise _Refused(f"{what} data has {len(raw)} bytes, its shape and dtype need {n}")
    return raw


def _check_shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape) or len(shape) > 32:
        raise _Refused(f"malformed array shape {shape!r}")
    return shape


class _PickledArray(np.ndarray):
    """What ``numpy ... _reconstruct`` yields in a pickle: an ndarray whose ``__setstate__`` checks the state
    (plain dtype, shape, byte count equal to shape x itemsize) before numpy's own runs."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("malformed pickled array state")
        version, shape, dtype, fortran, raw = state if len(state) == 5 else (1, *state)
        shape, dt = _check_shape(shape), _dtype_of(dtype)
        raw = _raw_bytes(raw, math.prod(shape) * dt.itemsize, "pickled array")
        super().__setstate__((version, shape, dt, bool(fortran), raw))


class _NdarrayToken:
    """What ``numpy.ndarray`` stands for in a pickle: only an argument of ``_reconstruct``, not callable."""

    __slots__ = ()


_NDARRAY = _NdarrayToken()


def _reconstruct(subtype: Any, shape: Any, code: Any) -> np.ndarray:
    if subtype is not _NDARRAY or math.prod(_check_shape(shape)) != 0:
        raise _Refused("pickled array must be reconstructed as an empty numpy.ndarray")
    return np.ndarray.__new__(_PickledArray, (0,), np.uint8)


def _scalar(dtype: Any, raw: Any = None) -> Any:
    dt = _dtype_of(dtype)
    return _multiarray.scalar(dt, _raw_bytes(raw, dt.itemsize, "pickled scalar"))


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    shape, dt = _check_shape(shape), _dtype_of(dtype)
    if order not in ("C", "F"):
        raise _Refused(f"malformed array order {order!r}")
    return np.frombuffer(_raw_bytes(buf, math.prod(shape) * dt.itemsize, "pickled array"), dt).reshape(
        shape, order=order
    )


#: (module, name) a pickle may reference -> the stand-in used for it. Old ``numpy.core`` spellings (Python-2
#: era CIFAR files, numpy 1.x pickles) are accepted alike.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _PickledDtype,
    ("_codecs", "encode"): _latin1_encode,
}
for _mod in ("numpy._core", "numpy.core"):
    _ALLOWED_GLOBALS[(f"{_mod}.multiarray", "_reconstruct")] = _reconstruct
    _ALLOWED_GLOBALS[(f"{_mod}.multiarray", "scalar")] = _scalar
    _ALLOWED_GLOBALS[(f"{_mod}.numeric", "_frombuffer")] = _frombuffer


class RestrictedUnpickler(pickle._Unpickler):
    """Unpickler that can rebuild only dicts/lists/tuples/str/bytes/numbers and plain numpy arrays.

    Any other global (``os.system``, ``builtins.eval``, arbitrary classes...) raises DataError, so a
    malicious or unexpected file cannot run code. Persistent ids are refused too. Built on the pure-Python
    unpickler, whose memo is a dict (see the module docstring).
    """

    def __init__(self, file: io.BufferedIOBase, *, name: str = "<pickle>", encoding: str = "bytes") -> None:
        super().__init__(file, encoding=encoding)
        self._name = name

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self._name}: refusing to unpickle global {module}.{name}; only plain numpy arrays, "
                "lists, dicts, strings and bytes are allowed in a CIFAR file"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise DataError(f"{self._name}: pickle uses persistent ids, which are not allowed")


def _plain(obj: Any) -> Any:
    return obj.view(np.ndarray) if isinstance(obj, _PickledArray) else obj


def safe_unpickle(data: bytes, name: str = "<pickle>") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (``encoding="bytes"``, as for Python-2 files).

    Arrays at the top level or in a top-level dict come back as plain ``np.ndarray``.
    """
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), name=name).load()
    except _Refused as e:
        raise DataError(f"{name}: refusing the pickle: {e}") from None
    except DataError:
        raise
    except Exception as e:  # truncated/corrupt pickles raise a zoo of exception types
        raise DataError(f"{name}: corrupt or truncated pickle ({type(e).__name__}: {e})") from None
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return _plain(obj)


def _str_keys(obj: Any, name: str) -> dict[str, Any]:
    """Python-2 pickles loaded with encoding='bytes' have bytes keys; accept those and str keys alike."""
    if not isinstance(obj, dict):
        raise DataError(f"{name}: expected a dict in the CIFAR pickle, got {type(obj).__name__}")
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if isinstance(k, bytes):
            k = k.decode("latin1")
        out[str(k)] = v
    return out


def parse_cifar_batch(
    obj: Any, name: str, label_keys: dict[str, int], *, expected_n: int | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Validate one unpickled CIFAR batch dict; return (uint8 data ``(N, 3072)``, {label key: int64 labels}).

    ``label_keys`` maps each required label key to its number of classes (labels must lie in range).
    """
    d = _str_keys(obj, name)
    if "data" not in d:
        raise DataError(f"{name}: CIFAR batch has no 'data' entry (keys: {sorted(d)})")
    data = d["data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != _IMAGE_BYTES
    ):
        desc = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise DataError(
            f"{name}: CIFAR 'data' must be a uint8 array of shape (N, {_IMAGE_BYTES}), got {desc}"
        )
    n = data.shape[0]
    if expected_n is not None and n != expected_n:
        raise DataError(f"{name}: expected {expected_n} images, file has {n}")
    labels: dict[str, np.ndarray] = {}
    for key, n_classes in label_keys.items():
        if key not in d:
            raise DataError(f"{name}: CIFAR batch has no {key!r} entry (keys: {sorted(d)})")
        try:
            y = np.asarray(d[key], dtype=np.int64)
        except (TypeError, ValueError) as e:
            raise DataError(f"{name}: {key!r} is not a list of integers ({e})") from e
        if y.shape != (n,):
            raise DataError(f"{name}: {key!r} has shape {y.shape}, expected ({n},) to match the images")
        if n and (y.min() < 0 or y.max() >= n_classes):
            raise DataError(f"{name}: {key!r} outside 0..{n_classes - 1} (min {y.min()}, max {y.max()})")
        labels[key] = y
    return data, labels


def _read_members(source: Path, top: str, members: Sequence[str]) -> dict[str, bytes]:
    """Bytes of ``members`` from a CIFAR directory ``source`` or a ``.tar.gz`` holding ``top/<member>``.

    Archives are read in memory (never extracted), so odd member paths cannot write anywhere.
    """
    out: dict[str, bytes] = {}
    if source.is_dir():
        for m in members:
            p = source / m
            try:
                with open(p, "rb") as f:
                    out[m] = f.read(_MAX_MEMBER_BYTES + 1)
            except OSError as e:
                raise DataError(f"cannot read CIFAR file {p}: {e}") from e
            if len(out[m]) > _MAX_MEMBER_BYTES:
                raise DataError(f"{p}: larger than the limit of {_MAX_MEMBER_BYTES} bytes for a CIFAR batch")
        return out
    wanted = {f"{top}/{m}": m for m in members}
    try:
        with open(source, "rb") as raw, _decompressed(raw) as stream:
            capped = _CappedReader(stream, _MAX_TAR_BYTES, source)
            with tarfile.open(fileobj=capped, mode="r|") as tar:  # type: ignore[call-overload]
                for info in tar:
                    m = wanted.get(info.name.lstrip("./"))
                    if m is None:
                        continue
                    if not info.isfile() or info.size > _MAX_MEMBER_BYTES:
                        raise DataError(f"{source}: member {info.name} is not a regular file of sane size")
                    f = tar.extractfile(info)
                    assert f is not None
                    out[m] = f.read()
                    if len(out[m]) != info.size:
                        raise DataError(f"{source}: member {info.name} is truncated")
                    if len(out) == len(members):
                        break  # all found: do not inflate the rest
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as e:
        raise DataError(f"{source}: corrupt or truncated archive ({e})") from e
    missing = [f"{top}/{m}" for m in members if m not in out]
    if missing:
        raise DataError(f"{source}: archive lacks {', '.join(missing)}")
    return out


class _CappedReader(io.RawIOBase):
    """Read-only view of a (decompressed) stream that raises DataError past ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int, name: Path) -> None:
        self._stream, self._limit, self._name, self._n = stream, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._stream.read(min(len(b), self._limit + 1 - self._n))
        self._n += len(data)
        if self._n > self._limit:
            raise DataError(
                f"{self._name}: archive decompresses to more than the limit of {self._limit} bytes "
                "(corrupt file or decompression bomb)"
            )
        b[: len(data)] = data
        return len(data)


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    """``raw`` wrapped in the decompressor its magic bytes name (gzip, bzip2, xz), or as it is."""
    head = raw.read(6)
    raw.seek(0)
    if head[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)
    if head[:3] == b"BZh":
        return bz2.BZ2File(raw)
    if head == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return io.BufferedReader(_Unclosed(raw))


class _Unclosed(io.RawIOBase):
    """Pass-through of a plain file that leaves closing to its owner."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._f.readinto(b)


def _cifar_layout(kind: str, split: str) -> tuple[str, tuple[str, ...], dict[str, int]]:
    if kind == "cifar10":
        members = CIFAR10_TRAIN_BATCHES if split == "train" else (CIFAR10_TEST_BATCH,)
        return "cifar-10-batches-py", members, {"labels": 10}
    if kind == "cifar100":
        return "cifar-100-python", (split,), {"fine_labels": 100, "coarse_labels": 20}
    raise ValueError(f"unknown CIFAR kind {kind!r}")


@functools.lru_cache(maxsize=4)
def _load_cifar_python_cached(
    source: str, stamp: tuple[tuple[int, int], ...], kind: str, split: str, expected_n: int | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    src = Path(source)
    top, members, label_keys = _cifar_layout(kind, split)
    blobs = _read_members(src, top, members)
    datas, labels = [], {k: [] for k in label_keys}
    for m in members:
        where = f"{src}/{m}" if src.is_dir() else f"{src}:{top}/{m}"
        x, ys = parse_cifar_batch(safe_unpickle(blobs.pop(m), where), where, label_keys)
        datas.append(x)
        for k, y in ys.items():
            labels[k].append(y)
    x = np.concatenate(datas) if len(datas) > 1 else datas[0]
    if expected_n is not None and x.shape[0] != expected_n:
        raise DataError(f"{src}: CIFAR {split} split has {x.shape[0]} images, expected {expected_n}")
    images = np.ascontiguousarray(x.reshape(-1, 3, 32, 32))  # rows are R(1024) G(1024) B(1024), row-major
    images.flags.writeable = False
    out = {}
    for k, ys in labels.items():
        out[k] = np.concatenate(ys)
        out[k].flags.writeable = False
    return images, out


def load_cifar_python(
    source: str | os.PathLike[str],
    kind: str,
    split: str,
    *,
    label_key: str | None = None,
    expected_n: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a split of CIFAR in the original python format from its directory or ``.tar.gz`` archive.

    ``kind`` is "cifar10" (``cifar-10-batches-py``) or "cifar100" (``cifar-100-python``; ``label_key``
    "fine_labels" (default) or "coarse_labels"). Returns read-only (uint8 ``(N, 3, 32, 32)``, int64 ``(N,)``),
    cached per process on (path, mtime).
    """
    p = Path(source)
    _, members, _ = _cifar_layout(kind, split)
    stamped = [p / m for m in members] if p.is_dir() else [p]
    try:  # a directory's own mtime does not change when a batch file is rewritten: stamp the files
        stamp = tuple((s.st_mtime_ns, s.st_size) for s in (q.stat() for q in stamped))
    except OSError as e:
        raise DataError(f"cannot read CIFAR source {p}: {e}") from e
    x, labels = _load_cifar_python_cached(str(p.resolve()), stamp, kind, split, expected_n)
    key = label_key or ("labels" if kind == "cifar10" else "fine_labels")
    if key not in labels:
        raise ValueError(f"label_key {key!r} is not one of {sorted(labels)} for {kind}")
    return x, labels[key]


# ---------------------------------------------------------------------------------------------- JPEG npz


def decode_jpeg_npz(
    path: str | os.PathLike[str],
    split: str,
    *,
    expected_n: int | None = None,
    n_classes: int = 10,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode the ``<split>_jpeg`` / ``<split>_offsets`` / ``y_<split>`` arrays of a JPEG npz with Pillow.

    Returns (uint8 ``(N, 3, 32, 32)`` CHW RGB, uint8 labels ``(N,)``). ``limit`` decodes only the first
    images (for quick checks). Every blob must be a JPEG that decodes to 32x32.
    """
    from PIL import Image, UnidentifiedImageError

    bad_image = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)

    p = Path(path)
    keys = (f"{split}_jpeg", f"{split}_offsets", f"y_{split}")
    arrays = read_npz(p, keys, what="CIFAR-10 JPEG npz")
    blob, offsets, y = (arrays[k] for k in keys)
    n = y.shape[0]
    if blob.dtype != np.uint8 or blob.ndim != 1 or offsets.shape != (n + 1,) or y.ndim != 1:
        raise DataError(
            f"{p}: inconsistent {split} arrays: jpeg {blob.dtype}{blob.shape}, offsets {offsets.shape}, y {y.shape}"
        )
    if expected_n is not None and n != expected_n:
        raise DataError(f"{p}: {split} split has {n} images, expected {expected_n}")
    if not np.issubdtype(offsets.dtype, np.integer) or offsets[0] != 0 or offsets[-1] != blob.size:
        raise DataError(f"{p}: {split}_offsets must start at 0 and end at the blob size {blob.size}")
    if np.any(np.diff(offsets) <= 0):
        raise DataError(f"{p}: {split}_offsets are not strictly increasing")
    if not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= n_classes)):
        raise DataError(f"{p}: y_{split} must hold integer labels in 0..{n_classes - 1}")
    count = n if limit is None else min(n, limit)
    if count > _MAX_JPEG_IMAGES:
        raise DataError(f"{p}: {split} split has {count} images, more than the limit of {_MAX_JPEG_IMAGES}")
    out = np.empty((count, 32, 32, 3), dtype=np.uint8)
    for i in range(count):
        data = blob[offsets[i] : offsets[i + 1]].tobytes()
        try:
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
                if im.size != (32, 32):
                    raise DataError(f"{p}: {split} image {i} is {im.size[0]}x{im.size[1]}, expected 32x32")
                out[i] = np.asarray(im.convert("RGB"))
        except DataError:
            raise
        except bad_image as e:  # Pillow refuses a header claiming billions of pixels before decoding
            raise DataError(f"{p}: {split} image {i} is not a decodable JPEG ({e})") from e
        if progress is not None and i % 1000 == 0:
            progress(i)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)), y[:count].astype(np.uint8)


def _decode_cache_path(cache_dir: Path, source: Path, split: str) -> Path:
    import PIL

    h = hashlib.sha256()
    with open(source, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return cache_dir / f"cifar10_jpeg_{h.hexdigest()[:16]}_pil{PIL.__version__}_{split}.npz"


def _read_decoded(path: Path, n: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        arrays = read_npz(path, ("x", "y"))
    except DataError:
        return None
    x, y = arrays["x"], arrays["y"]
    ok = x.dtype == np.uint8 and x.ndim == 4 and x.shape[1:] == (3, 32, 32) and y.shape == (x.shape[0],)
    if not ok or (n is not None and x.shape[0] != n):
        return None
    return x, y


@functools.lru_cache(maxsize=4)
def _load_jpeg_cached(
    source: str, mtime_ns: int, split: str, cache_dir: str | None, expected_n: int | None
) -> tuple[np.ndarray, np.ndarray]:
    src = Path(source)
    cache_file = _decode_cache_path(Path(cache_dir), src, split) if cache_dir else None
    got = _read_decoded(cache_file, expected_n) if cache_file and cache_file.exists() else None
    if got is None:
        got = decode_jpeg_npz(src, split, expected_n=expected_n)
        if cache_file is not None:
            try:
                with atomic_write(cache_file) as f:
                    np.savez(f, x=got[0], y=got[1])
            except OSError as e:
                warnings.warn(f"could not cache decoded CIFAR-10 JPEGs at {cache_file}: {e}", stacklevel=4)
    x, y = got
    y = y.astype(np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def lossy_message(path: Path) -> str:
    """Text of the LossyDataWarning for the JPEG copy at ``path``."""
    return (
        f"CIFAR-10 is loaded from a lossy JPEG copy ({path}); pixels differ from the original by JPEG "
        "artifacts, so results are close to but not strictly comparable with published CIFAR-10 numbers"
    )


def load_cifar10_jpeg(
    path: str | os.PathLike[str],
    split: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    expected_n: int | None = None,
    warn: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a split of the lossy JPEG CIFAR-10 copy: read-only (uint8 ``(N, 3, 32, 32)``, int64 ``(N,)``).

    Decoding all JPEGs takes seconds, so the decoded arrays are cached in ``cache_dir`` (an atomically
    written ``.npz`` keyed by the source's SHA-256 and the Pillow version) and in memory per process.
    Warns with :class:`LossyDataWarning` (unless ``warn=False``): pixels differ from the original CIFAR-10.
    """
    p = Path(path)
    if warn:
        warnings.warn(lossy_message(p), LossyDataWarning, stacklevel=2)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as e:
        raise DataError(f"cannot read {p}: {e}") from e
    cache = str(Path(cache_dir)) if cache_dir is not None else None
    return _load_jpeg_cached(str(p.resolve()), mtime, split, cache, expected_n)
