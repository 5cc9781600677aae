"""Dataset registry, lookup order, loaders and status for MNIST, Fashion-MNIST, CIFAR-10/100 and the sample.

Where a dataset is looked for, in order (each root holds the dataset in a subfolder, e.g. ``mnist/``):

1. the ``data_dir`` argument,
2. the ``SPINAPTIC_DATA`` environment variable (several roots may be joined with ``os.pathsep``),
3. the user cache, ``platformdirs.user_cache_dir("spinaptic")`` (on Linux ``$XDG_CACHE_HOME/spinaptic`` or
   ``~/.cache/spinaptic``),
4. system folders: ``/usr/share/datasets`` (Debian's ``dataset-fashion-mnist`` installs there),
5. a SHA-256-verified download into the user cache (``download=True``).

For CIFAR-10 a genuine copy (``cifar-10-batches-py`` or the ``.tar.gz``) anywhere beats the lossy JPEG copy
(``cifar-10/cifar10_jpeg.npz``). ``mnist`` never silently becomes the embedded 1,500-image sample: that is
its own dataset, ``mnist-sample`` (or ask for it with ``fallback_to_sample=True``).

IDX files are read with a decompressed-size cap derived from the registry (twice the exact size the split
implies, plus 4 KiB), so a corrupt or hostile file is refused before it can inflate.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.resources
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import platformdirs
import torch

from ..config import ConfigError, check_choice, check_int
from .cifar import LossyDataWarning, load_cifar10_jpeg, load_cifar_python, lossy_message
from .download import download_file, file_md5, file_sha256, gunzip_sha256
from .idx import DataError, read_idx
from .npz import read_npz

__all__ = [
    "DataFile",
    "DatasetInfo",
    "DATASETS",
    "Location",
    "SampleFallbackWarning",
    "SCALES",
    "SYSTEM_ROOTS",
    "available_datasets",
    "dataset_status",
    "find_dataset",
    "get_info",
    "load_cifar10",
    "load_cifar100",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "sample_path",
    "search_roots",
    "status_exit_code",
    "user_cache_dir",
]

Payload = Literal["file", "gunzip", "npz-arrays"]
Scale = Literal["unit", "bipolar", "standard", "raw"]
SCALES: tuple[str, ...] = ("unit", "bipolar", "standard", "raw")
SPLITS: tuple[str, ...] = ("train", "test")

#: System-wide dataset roots searched after the user cache (a module attribute so tests can redirect it).
SYSTEM_ROOTS: tuple[Path, ...] = (Path("/usr/share/datasets"),)


class SampleFallbackWarning(UserWarning):
    """A loader returned the small embedded MNIST sample because the full dataset was not found."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset and the SHA-256 it must have.

    ``payload`` says what the digest covers: ``"file"`` the bytes on disk, ``"gunzip"`` the decompressed
    content (mirrors re-compress MNIST; the data inside is identical), ``"npz-arrays"`` the arrays of the
    embedded sample.
    """

    name: str
    sha256: str
    payload: Payload = "file"


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of a dataset: files with checksums, mirrors, sizes, shape, classes, licence."""

    name: str
    title: str
    kind: Literal["idx", "cifar10", "cifar100", "sample"]
    subdir: str
    files: tuple[DataFile, ...]
    urls: tuple[str, ...]
    n_train: int
    n_test: int
    shape: tuple[int, int, int]
    n_classes: int
    licence: str
    homepage: str
    classes: tuple[str, ...] = ()
    #: published MD5 of the files inside an extracted archive (the only digests published for them)
    member_md5: Mapping[str, str] = field(default_factory=dict)
    #: SHA-256 of known local-only copies that cannot be downloaded (e.g. the lossy CIFAR-10 JPEG npz)
    known_copies: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""

    def n(self, split: str) -> int:
        """Number of images in ``split``."""
        return self.n_train if split == "train" else self.n_test


_MNIST_CLASSES = tuple(str(i) for i in range(10))
_FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST handwritten digits",
        kind="idx",
        subdir="mnist",
        # SHA-256 of the *uncompressed* IDX files (mirrors' gzip bytes differ; the payload is the original).
        files=(
            DataFile(
                "train-images-idx3-ubyte.gz",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "gunzip",
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "gunzip",
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "gunzip",
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                "gunzip",
            ),
        ),  # fmt: skip
        urls=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        n_train=60_000,
        n_test=10_000,
        shape=(1, 28, 28),
        n_classes=10,
        licence="CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. J. C. Burges)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        classes=_MNIST_CLASSES,
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        title="Fashion-MNIST (Zalando article images)",
        kind="idx",
        subdir="fashion-mnist",
        # Also payload-level: Debian's copies lack the gzip FNAME header of the upstream files (24 bytes
        # smaller, other gz SHA-256), but decompress to the same bytes.
        files=(
            DataFile(
                "train-images-idx3-ubyte.gz",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "gunzip",
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "gunzip",
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "gunzip",
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                "gunzip",
            ),
        ),  # fmt: skip
        urls=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        n_train=60_000,
        n_test=10_000,
        shape=(1, 28, 28),
        n_classes=10,
        licence="MIT (Zalando Research)",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        classes=_FASHION_CLASSES,
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        title="CIFAR-10 tiny images, 10 classes",
        kind="cifar10",
        subdir="cifar-10",
        files=(
            DataFile(
                "cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
            ),
        ),
        urls=("https://www.cs.toronto.edu/~kriz/",),
        n_train=50_000,
        n_test=10_000,
        shape=(3, 32, 32),
        n_classes=10,
        licence="no explicit licence; cite Krizhevsky 2009, 'Learning Multiple Layers of Features from Tiny Images'",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        classes=_CIFAR10_CLASSES,
        member_md5={
            "data_batch_1": "c99cafc152244af753f735de768cd75f",
            "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
            "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
            "data_batch_4": "634d18415352ddfa80567beed471001a",
            "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
            "test_batch": "40351d587109b95175f43aff81a1287e",
        },
        known_copies={"cifar10_jpeg.npz": "fb93e246612e819a4dbcf3da3199149defe9eabbd6527614b4a06fa310626285"},
        notes="a genuine copy is preferred; the JPEG npz copy (cifar-10/cifar10_jpeg.npz) is lossy",
    ),
    "cifar100": DatasetInfo(
        name="cifar100",
        title="CIFAR-100 tiny images, 100 fine / 20 coarse classes",
        kind="cifar100",
        subdir="cifar-100",
        files=(
            DataFile(
                "cifar-100-python.tar.gz", "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
            ),
        ),
        urls=("https://www.cs.toronto.edu/~kriz/",),
        n_train=50_000,
        n_test=10_000,
        shape=(3, 32, 32),
        n_classes=100,
        licence="no explicit licence; cite Krizhevsky 2009, 'Learning Multiple Layers of Features from Tiny Images'",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        member_md5={"train": "16019d7e3df5f24257cddd939b257f8d", "test": "f0ef6b0ae62326f3e7ffdfab6717acfc"},
        notes="label_mode='fine' (100 classes, default) or 'coarse' (20 superclasses)",
    ),
    "mnist-sample": DatasetInfo(
        name="mnist-sample",
        title="MNIST sample embedded in the package (1,000 train + 500 test, stratified)",
        kind="sample",
        subdir="",
        files=(
            DataFile(
                "mnist_sample.npz",
                "932ac85e5b19e1e548d48c9814de0d8d5606626b64fc8653d6da2563d71eb01a",
                "npz-arrays",
            ),
        ),
        urls=(),
        n_train=1_000,
        n_test=500,
        shape=(1, 28, 28),
        n_classes=10,
        licence="CC BY-SA 3.0 (subset of MNIST)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        classes=_MNIST_CLASSES,
        notes="for demos, tests and machines without data; never substituted for 'mnist' silently",
    ),
}

_ALIASES = {
    "fashion": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "cifar-10": "cifar10",
    "cifar-100": "cifar100",
    "mnistsample": "mnist-sample",
    "sample": "mnist-sample",
}


def available_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset` (for ``spinaptic list``)."""
    return list(DATASETS)


def get_info(name: str) -> DatasetInfo:
    """Registry entry for ``name`` (case-insensitive; ``_`` and ``-`` are interchangeable)."""
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, _ALIASES.get(key.replace("-", ""), key))
    if key not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return DATASETS[key]


# ------------------------------------------------------------------------------------------------ lookup


def user_cache_dir() -> Path:
    """The per-user cache folder, ``platformdirs.user_cache_dir("spinaptic")``, read at every call.

    On Linux that is ``$XDG_CACHE_HOME/spinaptic``, or ``~/.cache/spinaptic`` when XDG_CACHE_HOME is unset or
    (as the XDG spec says to ignore it) relative.
    """
    p = Path(platformdirs.user_cache_dir("spinaptic", appauthor=False))
    return p if p.is_absolute() else Path.home() / ".cache" / "spinaptic"


def search_roots(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """The data roots in lookup order, as (source, path); source is argument/SPINAPTIC_DATA/cache/system."""
    roots: list[tuple[str, Path]] = []
    if data_dir is not None:
        roots.append(("argument", Path(data_dir).expanduser()))
    for part in os.environ.get("SPINAPTIC_DATA", "").split(os.pathsep):
        if part.strip():
            roots.append(("SPINAPTIC_DATA", Path(part.strip()).expanduser()))
    roots.append(("cache", user_cache_dir()))
    roots.extend(("system", p) for p in SYSTEM_ROOTS)
    return roots


@dataclass(frozen=True)
class Location:
    """Where a dataset was found: the lookup source, the root, and the file/folder the loader reads."""

    name: str
    source: str  # "argument", "SPINAPTIC_DATA", "cache", "system", "download" or "embedded"
    root: Path | None
    path: Path  # dataset folder (IDX, extracted CIFAR), archive, JPEG npz or sample npz
    form: Literal["idx", "cifar-python-dir", "cifar-python-tar", "cifar-jpeg-npz", "sample"]
    files: tuple[tuple[str, Path], ...] = ()  # IDX: registry file name -> actual file (.gz or plain)

    @property
    def lossy(self) -> bool:
        return self.form == "cifar-jpeg-npz"

    def file(self, name: str) -> Path:
        return dict(self.files)[name]


def sample_path() -> Path:
    """Path of the embedded MNIST sample (``spinaptic/data/sample/mnist_sample.npz``)."""
    return Path(str(importlib.resources.files("spinaptic.data") / "sample" / "mnist_sample.npz"))


def _find_idx(info: DatasetInfo, source: str, root: Path, notes: list[str]) -> Location | None:
    folder = root / info.subdir
    found: list[tuple[str, Path]] = []
    missing: list[str] = []
    for f in info.files:
        plain = folder / f.name.removesuffix(".gz")
        cands = [folder / f.name, plain] if f.name.endswith(".gz") else [plain]
        hit = next((c for c in cands if c.is_file()), None)
        if hit is None:
            missing.append(f.name)
        else:
            found.append((f.name, hit))
    if not missing:
        return Location(info.name, source, root, folder, "idx", tuple(found))
    state = "missing" if not found else f"incomplete, lacks {', '.join(missing)}"
    notes.append(f"{source}: {folder} ({state})")
    return None


def _cifar_candidates(info: DatasetInfo, root: Path) -> list[tuple[Path, str]]:
    top = "cifar-10-batches-py" if info.kind == "cifar10" else "cifar-100-python"
    archive = info.files[0].name
    return [
        (root / top, "cifar-python-dir"),
        (root / info.subdir / top, "cifar-python-dir"),
        (root / info.subdir / archive, "cifar-python-tar"),
        (root / archive, "cifar-python-tar"),
    ]


def _cifar_dir_complete(info: DatasetInfo, path: Path) -> bool:
    return path.is_dir() and all((path / m).is_file() for m in info.member_md5)


def _find_cifar(info: DatasetInfo, source: str, root: Path, notes: list[str], lossy: bool) -> Location | None:
    if lossy:
        p = root / info.subdir / "cifar10_jpeg.npz"
        if p.is_file():
            return Location(info.name, source, root, p, "cifar-jpeg-npz")
        notes.append(f"{source}: {p} (missing)")
        return None
    for p, form in _cifar_candidates(info, root):
        if form == "cifar-python-dir" and _cifar_dir_complete(info, p):
            return Location(info.name, source, root, p, "cifar-python-dir")
        if form == "cifar-python-tar" and p.is_file():
            return Location(info.name, source, root, p, "cifar-python-tar")
    shown = " | ".join(str(p) for p, _ in _cifar_candidates(info, root))
    notes.append(f"{source}: {shown} (missing)")
    return None


def _search(info: DatasetInfo, data_dir: str | os.PathLike[str] | None) -> tuple[Location | None, list[str]]:
    notes: list[str] = []
    if info.kind == "sample":
        p = sample_path()
        if p.is_file():
            return Location(info.name, "embedded", None, p, "sample"), notes
        notes.append(f"embedded: {p} (missing from the installed package)")
        return None, notes
    roots = search_roots(data_dir)
    if info.kind == "idx":
        for source, root in roots:
            loc = _find_idx(info, source, root, notes)
            if loc is not None:
                return loc, notes
        return None, notes
    passes = (False, True) if info.kind == "cifar10" else (False,)  # genuine anywhere beats lossy
    for lossy in passes:
        for source, root in roots:
            loc = _find_cifar(info, source, root, notes, lossy)
            if loc is not None:
                return loc, notes
    return None, notes


def find_dataset(name: str, data_dir: str | os.PathLike[str] | None = None) -> Location:
    """Locate ``name`` in the lookup order without downloading; DataError lists every place searched."""
    info = get_info(name)
    loc, notes = _search(info, data_dir)
    if loc is None:
        raise _not_found(info, notes)
    return loc


def _not_found(info: DatasetInfo, notes: list[str], download_error: str = "") -> DataError:
    places = "\n  ".join(notes) or "(no places)"
    hint = "Pass data_dir=... or set SPINAPTIC_DATA to a folder holding it"
    if download_error:
        hint = f"Download into {user_cache_dir() / info.subdir} failed: {download_error}\n{hint}"
    elif info.urls:
        hint += ", or allow download=True"
    if info.name == "mnist":
        hint += " (or use 'mnist-sample', a small subset embedded in the package)"
    return DataError(f"dataset {info.name!r} not found; searched:\n  {places}\n{hint}.")


def _download(info: DatasetInfo, notes: list[str], progress: bool | None) -> Location:
    cache = user_cache_dir()
    folder = cache / info.subdir
    for f in info.files:
        dest = folder / f.name
        if info.kind == "idx" and (dest.is_file() or (folder / f.name.removesuffix(".gz")).is_file()):
            continue  # keep files already present from an earlier, partial download
        payload = "gunzip" if f.payload == "gunzip" else "file"
        cap = {"max_payload_bytes": _idx_cap(info, f.name)} if info.kind == "idx" else {}
        try:
            download_file(
                [u + f.name for u in info.urls], dest, sha256=f.sha256, payload=payload, progress=progress, **cap
            )
        except DataError as e:
            raise _not_found(info, notes, download_error=str(e)) from e
    loc, more = _search(info, cache)
    if loc is None:  # pragma: no cover - only if the cache vanished under us
        raise _not_found(info, notes + more)
    return dataclasses.replace(loc, source="download")


# ----------------------------------------------------------------------------------------------- loading


def _idx_cap(info: DatasetInfo, fname: str) -> int:
    """Decompressed-size cap of a registry IDX file: twice the size its split implies, plus 4 KiB."""
    n = info.n_train if fname.startswith("train") else info.n_test
    exact = 16 + n * math.prod(info.shape[1:]) if "images" in fname else 8 + n
    return 2 * exact + 4096


def _load_arrays(
    info: DatasetInfo, loc: Location, split: str, label_key: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """(read-only uint8 images ``(N, C, H, W)``, int64 labels ``(N,)``) of ``split``, validated."""
    n = info.n(split)
    if loc.form == "idx":
        prefix = "train" if split == "train" else "t10k"
        iname, lname = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
        ip, lp = loc.file(iname), loc.file(lname)
        images = read_idx(ip, ndim=3, dtype=np.uint8, max_bytes=_idx_cap(info, iname))
        labels = read_idx(lp, ndim=1, dtype=np.uint8, max_bytes=_idx_cap(info, lname))
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{ip} has {images.shape[0]} images but {lp} has {labels.shape[0]} labels")
        if images.shape != (n, *info.shape[1:]):
            raise DataError(f"{ip}: shape {images.shape}, expected ({n}, {info.shape[1]}, {info.shape[2]})")
        if labels.size and labels.max() >= info.n_classes:
            raise DataError(f"{lp}: label {labels.max()} outside 0..{info.n_classes - 1}")
        return images[:, None], labels.astype(np.int64)
    if loc.form in ("cifar-python-dir", "cifar-python-tar"):
        return load_cifar_python(loc.path, info.kind, split, label_key=label_key, expected_n=n)
    if loc.form == "cifar-jpeg-npz":
        cache = user_cache_dir() / "cifar-10"
        return load_cifar10_jpeg(loc.path, split, cache_dir=cache, expected_n=n, warn=False)
    if loc.form == "sample":
        x, y = _load_sample(str(loc.path), split)
        if x.shape != (n, *info.shape[1:]):
            raise DataError(f"{loc.path}: {split} images have shape {x.shape}, expected ({n}, 28, 28)")
        return x[:, None], y
    raise AssertionError(loc.form)


@functools.lru_cache(maxsize=4)
def _load_sample(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        z = read_npz(path, (f"x_{split}", f"y_{split}"), what="MNIST sample npz")
    except DataError as e:
        raise DataError(f"cannot read the embedded MNIST sample: {e}") from None
    x, y = z[f"x_{split}"], z[f"y_{split}"]
    if x.dtype != np.uint8 or y.shape != (x.shape[0],) or (y.size and y.max() >= 10):
        raise DataError(f"{path}: malformed {split} arrays in the embedded MNIST sample")
    y = y.astype(np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def _stamp(loc: Location) -> tuple[tuple[int, int], ...]:
    """(mtime, size) of the files behind ``loc``, so caches notice a replaced file."""
    paths = [p for _, p in loc.files] or [loc.path]
    out = []
    for p in paths:
        st = p.stat()
        out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _train_stats(
    name: str, loc: Location, label_key: str | None, stamp: tuple[tuple[int, int], ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (0-255 scale) of the full train split of the copy at ``loc``."""
    x, _ = _load_arrays(get_info(name), loc, "train", label_key)
    mean, std = np.empty(x.shape[1]), np.empty(x.shape[1])
    for c in range(x.shape[1]):  # exact integer sums: no float64 copy of the whole split
        xc = x[:, c]
        n = xc.size
        s1 = int(xc.sum(dtype=np.uint64))
        s2 = int(np.square(xc, dtype=np.uint16).sum(dtype=np.uint64))
        mean[c] = s1 / n
        std[c] = np.sqrt((n * s2 - s1 * s1) / (n * n))
    return mean, std


def _to_tensors(
    x: np.ndarray,
    y: np.ndarray,
    *,
    subset: int | None,
    generator: torch.Generator | None,
    scale: str,
    flatten: bool,
    device: torch.device | str | None,
    stats: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    if subset is not None:
        k = check_int("subset", subset, 1, x.shape[0])
        if generator is None:
            idx: slice | np.ndarray = slice(0, k)
        else:
            idx = np.sort(torch.randperm(x.shape[0], generator=generator)[:k].numpy())
        x, y = x[idx], y[idx]
    labels = torch.from_numpy(np.array(y, dtype=np.int64, copy=True))
    # one copy out of the (read-only, cached) arrays, then in-place arithmetic
    images = torch.from_numpy(np.array(x, dtype=np.uint8 if scale == "raw" else np.float32, copy=True))
    if scale == "unit":
        images.div_(255.0)
    elif scale == "bipolar":
        images.div_(127.5).sub_(1.0)
    elif scale == "standard":
        assert stats is not None
        images.sub_(torch.as_tensor(stats[0], dtype=torch.float32).view(1, -1, 1, 1))
        images.div_(torch.as_tensor(stats[1], dtype=torch.float32).view(1, -1, 1, 1))
    if flatten:
        images = images.reshape(images.shape[0], -1)
    if device is not None:
        images, labels = images.to(device), labels.to(device)
    return images, labels


def offline() -> bool:
    """True when ``$SPINAPTIC_OFFLINE`` is set to 1/true/yes: datasets are never downloaded."""
    return os.environ.get("SPINAPTIC_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def load_dataset(
    name: str,
    split: str = "train",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    subset: int | None = None,
    generator: torch.Generator | None = None,
    scale: Scale = "unit",
    flatten: bool = False,
    download: bool = True,
    device: torch.device | str | None = None,
    fallback_to_sample: bool = False,
    label_mode: Literal["fine", "coarse"] | None = None,
    progress: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a split of a dataset as ``(images, labels)`` tensors.

    Images are ``(N, C, H, W)`` (``(N, C*H*W)`` with ``flatten``); labels int64 ``(N,)``.
    ``scale``: "unit" float32 in [0, 1]; "bipolar" float32 in [-1, 1]; "standard" float32 normalised per
    channel with the mean/std of the full train split of the same copy; "raw" uint8 0-255.
    ``subset=n`` keeps the first n images, or a seeded random n (kept in dataset order) if ``generator``
    is given. ``label_mode`` picks CIFAR-100's "fine" (default) or "coarse" labels. With
    ``download=False`` (or ``$SPINAPTIC_OFFLINE=1``) a missing dataset raises DataError listing every place searched, unless
    ``fallback_to_sample`` (MNIST only), which returns the embedded sample with a SampleFallbackWarning.
    """
    info = get_info(name)
    check_choice("split", split, SPLITS)
    check_choice("scale", scale, SCALES)
    if label_mode is not None:
        if info.kind != "cifar100":
            raise ConfigError(f"label_mode applies to cifar100 only, not {info.name!r}")
        check_choice("label_mode", label_mode, ("fine", "coarse"))
    label_key = f"{label_mode or 'fine'}_labels" if info.kind == "cifar100" else None
    if fallback_to_sample and info.name != "mnist":
        raise ConfigError(
            f"fallback_to_sample only exists for 'mnist' (the sample is MNIST), not {info.name!r}"
        )

    loc, notes = _search(info, data_dir)
    if loc is None:
        if download and info.urls and not offline():
            loc = _download(info, notes, progress)
        elif fallback_to_sample:
            warnings.warn(
                f"{_not_found(info, notes)}\nUsing the embedded MNIST sample (1,000 train / 500 test images) "
                "instead; accuracies on it are not comparable with full-MNIST results",
                SampleFallbackWarning,
                stacklevel=2,
            )
            info = DATASETS["mnist-sample"]
            loc, notes = _search(info, None)
            if loc is None:
                raise _not_found(info, notes)
        else:
            raise _not_found(info, notes)

    if loc.lossy:
        warnings.warn(lossy_message(loc.path), LossyDataWarning, stacklevel=2)
    x, y = _load_arrays(info, loc, split, label_key)
    stats = _train_stats(info.name, loc, label_key, _stamp(loc)) if scale == "standard" else None
    return _to_tensors(
        x, y, subset=subset, generator=generator, scale=scale, flatten=flatten, device=device, stats=stats
    )


def load_mnist(split: str = "train", **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST (60,000 / 10,000 images, 1x28x28); keyword arguments as :func:`load_dataset`."""
    return load_dataset("mnist", split, **kwargs)


def load_fashion_mnist(split: str = "train", **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST (60,000 / 10,000 images, 1x28x28); keyword arguments as :func:`load_dataset`."""
    return load_dataset("fashion-mnist", split, **kwargs)


def load_cifar10(split: str = "train", **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 (50,000 / 10,000 images, 3x32x32; genuine copy preferred over the lossy JPEG one)."""
    return load_dataset("cifar10", split, **kwargs)


def load_cifar100(split: str = "train", **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-100 (50,000 / 10,000 images, 3x32x32; ``label_mode`` "fine" or "coarse")."""
    return load_dataset("cifar100", split, **kwargs)


def load_mnist_sample(split: str = "train", **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The embedded MNIST sample (1,000 / 500 images, stratified); needs no data directory."""
    return load_dataset("mnist-sample", split, **kwargs)


# ------------------------------------------------------------------------------------------------ status


def sample_arrays_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 over x_train, y_train, x_test, y_test of a sample npz (zip bytes carry timestamps)."""
    h = hashlib.sha256()
    keys = ("x_train", "y_train", "x_test", "y_test")
    z = read_npz(path, keys, what="MNIST sample npz")
    for k in keys:
        h.update(np.ascontiguousarray(z[k]).tobytes())
    return h.hexdigest()


def _verify(info: DatasetInfo, loc: Location) -> tuple[str, str]:
    """(checksum status "ok"/"mismatch"/"unverified", detail) for the copy at ``loc``."""
    try:
        if loc.form == "idx":
            bad = []
            for f in info.files:
                p = loc.file(f.name)
                if gunzip_sha256(p, max_bytes=_idx_cap(info, f.name)) != f.sha256:
                    bad.append(p.name)
            if bad:
                return "mismatch", f"SHA-256 of decompressed content differs for {', '.join(bad)}"
            return "ok", "SHA-256 of the decompressed IDX files"
        if loc.form == "cifar-python-tar":
            if file_sha256(loc.path) == info.files[0].sha256:
                return "ok", "SHA-256 of the archive"
            return "mismatch", f"SHA-256 of {loc.path.name} differs from the published archive"
        if loc.form == "cifar-python-dir":
            bad = [m for m, md5 in info.member_md5.items() if file_md5(loc.path / m) != md5]
            if bad:
                return "mismatch", f"MD5 differs from the published digests for {', '.join(bad)}"
            return "ok", "published MD5 of the extracted files"
        if loc.form == "cifar-jpeg-npz":
            want = info.known_copies.get(loc.path.name)
            if want is None:
                return "unverified", "unknown JPEG copy (lossy)"
            if file_sha256(loc.path) == want:
                return "ok", "SHA-256 of the known JPEG copy (lossy)"
            return "mismatch", "SHA-256 differs from the known JPEG copy (lossy)"
        if loc.form == "sample":
            if sample_arrays_sha256(loc.path) == info.files[0].sha256:
                return "ok", "SHA-256 of the sample arrays"
            return "mismatch", "sample arrays differ from the ones this version was built with"
    except (OSError, DataError, ValueError, KeyError) as e:
        return "mismatch", f"cannot verify: {e}"
    return "unverified", ""


def _canonical_note(info: DatasetInfo, loc: Location, status: str, detail: str) -> tuple[bool | None, str]:
    """(is this the canonical published copy, note saying why not) for a found copy."""
    if loc.lossy:
        note = (
            f"not the canonical {info.title.split(' ')[0]} ({info.files[0].name}): a lossy JPEG re-encoding "
            "(the shared data's copy); pixels differ, so accuracies are close to but not strictly comparable "
            "with published ones"
        )
        if status == "mismatch":
            note += "; its SHA-256 does not match the known JPEG copy either"
        return False, note
    if status == "ok":
        return True, ""
    if status == "mismatch":
        return False, f"this copy of {info.name} at {loc.path} is not the canonical one: {detail}"
    return None, ""


def dataset_status(
    data_dir: str | os.PathLike[str] | None = None, *, verify: bool = True
) -> list[dict[str, Any]]:
    """One dict per registered dataset for ``spinaptic data``.

    Keys: name, title, found (bool), source (lookup step or "missing"), path, form, lossy, checksum
    ("ok": matches the published digests or, for a known local-only copy such as the lossy CIFAR-10 JPEG
    npz, that copy's digest; "mismatch": corrupt, tampered or unknown; "unverified"; "missing"), detail,
    canonical (True: the verified published data; False: a lossy/known non-canonical copy or a mismatch;
    None: not found or not verified) and note (why a copy is not canonical, else ""). Verification hashes
    payloads (a few seconds for MNIST + Fashion-MNIST); ``verify=False`` skips it ("unverified").
    """
    out: list[dict[str, Any]] = []
    for info in DATASETS.values():
        loc, notes = _search(info, data_dir)
        row: dict[str, Any] = {"name": info.name, "title": info.title}
        if loc is None:
            row.update(found=False, source="missing", path=None, form=None, lossy=False, checksum="missing")
            row.update(detail="searched: " + "; ".join(notes), canonical=None, note="")
        else:
            status, detail = _verify(info, loc) if verify else ("unverified", "verification skipped")
            canonical, note = _canonical_note(info, loc, status, detail)
            row.update(found=True, source=loc.source, path=str(loc.path), form=loc.form, lossy=loc.lossy)
            row.update(checksum=status, detail=detail, canonical=canonical, note=note)
        out.append(row)
    return out


def status_exit_code(*row_lists: list[dict[str, Any]]) -> int:
    """Exit status for ``spinaptic data``: 1 if any row (datasets, lookup tables) has checksum "mismatch".

    Missing datasets, unverified rows and known non-canonical copies (the lossy CIFAR-10) do not fail.
    """
    return int(any(r.get("checksum") == "mismatch" for rows in row_lists for r in rows))
