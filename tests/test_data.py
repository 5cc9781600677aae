"""Tests for spinaptic.data: IDX parsing, restricted CIFAR unpickling, lookup order, downloads, loaders.

Every test runs with a private cache (XDG_CACHE_HOME/HOME in tmp), no SPINAPTIC_DATA and a tmp system
root, so nothing touches the real cache. Tests against the real data (the done-when numbers) use
SPINAPTIC_DATA as set when the session started, else /work/shared/data, and skip when neither exists.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import threading
import time
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import spinaptic.data as sd
from spinaptic.config import ConfigError
from spinaptic.data import (
    DATASETS,
    DataError,
    LossyDataWarning,
    SampleFallbackWarning,
    dataset_status,
    download_file,
    find_dataset,
    load_dataset,
    parse_idx,
    read_idx,
    safe_unpickle,
)
from spinaptic.data import cifar as cifar_mod
from spinaptic.data import datasets as ds_mod

# --------------------------------------------------------------------------------------------- fixtures

_ENV_DATA = os.environ.get("SPINAPTIC_DATA")
_SHARED_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"
if _ENV_DATA:
    REAL_DATA: str | None = _ENV_DATA
elif _SHARED_DEFAULT.is_dir():
    REAL_DATA = str(_SHARED_DEFAULT)
elif Path("/work/shared/data").is_dir():
    REAL_DATA = "/work/shared/data"
else:
    REAL_DATA = None


def _real_root(sub: str) -> Path:
    """The real data root holding ``sub`` (skip the test with a reason if there is none)."""
    if REAL_DATA is None:
        pytest.skip("real datasets not available: set SPINAPTIC_DATA or provide ../shared/data")
    for part in REAL_DATA.split(os.pathsep):
        if part and (Path(part) / sub).exists():
            return Path(part)
    pytest.skip(f"{sub} not found under SPINAPTIC_DATA/shared data ({REAL_DATA})")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """Private HOME / XDG cache / system root; no SPINAPTIC_DATA."""
    home, cache, system = tmp_path / "home", tmp_path / "xdg-cache", tmp_path / "system"
    for p in (home, cache, system):
        p.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("SPINAPTIC_DATA", raising=False)
    monkeypatch.setattr(ds_mod, "SYSTEM_ROOTS", (system,))
    return {"home": home, "cache": cache / "spinaptic", "system": system}


def patch_info(monkeypatch: pytest.MonkeyPatch, name: str, **changes) -> sd.DatasetInfo:
    info = dataclasses.replace(DATASETS[name], **changes)
    monkeypatch.setitem(DATASETS, name, info)
    return info


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        pass


@pytest.fixture
def http_root(tmp_path: Path):
    """A static HTTP server on 127.0.0.1 (ephemeral port) serving tmp_path/www; yields (dir, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------------ synthetic files

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
              np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}  # fmt: skip


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, _IDX_CODES[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, arr: np.ndarray, *, gz: bool = True) -> Path:
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def make_mnist_dir(folder: Path, n_train: int = 20, n_test: int = 10, seed: int = 0, gz: bool = True) -> dict:
    """Write the four MNIST IDX files (small, random) into ``folder``; return the arrays and digests."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out, digests = {}, {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=n, dtype=np.uint8)
        for kind, arr in (("images-idx3", x), ("labels-idx1", y)):
            name = f"{prefix}-{kind}-ubyte"
            write_idx(folder / (name + ".gz" if gz else name), arr, gz=gz)
            digests[name + ".gz"] = hashlib.sha256(idx_bytes(arr)).hexdigest()
        out[prefix] = (x, y)
    out["digests"] = digests
    return out


def patch_small_mnist(
    monkeypatch: pytest.MonkeyPatch, digests: dict | None = None, **changes
) -> sd.DatasetInfo:
    files = DATASETS["mnist"].files
    if digests is not None:
        files = tuple(dataclasses.replace(f, sha256=digests[f.name]) for f in files)
    return patch_info(monkeypatch, "mnist", n_train=20, n_test=10, files=files, **changes)


class Py2Pickler(pickle._Pickler):
    """Pickles like Python 2's cPickle (protocol 2): str/bytes as BINSTRING, numpy as numpy.core.*.

    With ``encoding="bytes"`` such strings load as bytes, which is what the original CIFAR files give.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_binstring(self, obj: bytes | str) -> None:
        b = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(b) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(b)]) + b)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(b)) + b)
        self.memoize(obj)

    dispatch[bytes] = _save_binstring
    dispatch[str] = _save_binstring

    def save_global(self, obj, name=None) -> None:
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
        self.memoize(obj)


def py2_dumps(obj) -> bytes:
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def cifar100_dict(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
        b"batch_label": b"training batch 1 of 1",
        b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
        b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
    }


def cifar10_dict(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"a batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [b"x.png"] * n,
    }


def make_jpeg_npz(path: Path, n_train: int = 12, n_test: int = 6, seed: int = 0) -> dict:
    """A small npz in the format of cifar10_jpeg.npz; returns the directly decoded arrays (HWC)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    arrays, decoded = {}, {}
    for split, n in (("train", n_train), ("test", n_test)):
        blobs, imgs = [], []
        for _ in range(n):
            img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="JPEG", quality=75)
            blobs.append(buf.getvalue())
            imgs.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
        arrays[f"{split}_jpeg"] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        arrays[f"{split}_offsets"] = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(
            np.int64
        )
        arrays[f"y_{split}"] = rng.integers(0, 10, n).astype(np.uint8)
        arrays[f"{split}_files"] = np.array([f"{split}/x/{i:04d}.jpg" for i in range(n)])
        decoded[split] = (np.stack(imgs), arrays[f"y_{split}"])
    arrays["label_names"] = np.array(list(DATASETS["cifar10"].classes))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return decoded


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# ----------------------------------------------------------------------------------------------- IDX


def test_idx_roundtrip_gz_and_plain(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        arr = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
        for gz in (True, False):
            p = write_idx(tmp_path / f"a_{np.dtype(dtype).name}_{gz}.idx", arr, gz=gz)
            got = read_idx(p)
            assert got.dtype == np.dtype(dtype).newbyteorder("=") and np.array_equal(got, arr)
            assert not got.flags.writeable


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=3),
    dtype=st.sampled_from([np.uint8, np.int16, np.float32]),
    cut=st.integers(1, 30),
    extra=st.integers(1, 4),
)
def test_idx_property_exact_length(shape: list[int], dtype, cut: int, extra: int) -> None:
    """Any IDX payload parses back exactly; any shortening or trailing bytes is an error, never a short array."""
    arr = np.zeros(shape, dtype=dtype)
    data = idx_bytes(arr)
    assert parse_idx(data, "x").shape == tuple(shape)
    with pytest.raises(DataError, match="x"):
        parse_idx(data[: max(0, len(data) - cut)], "x")
    with pytest.raises(DataError, match="trailing|truncated"):
        parse_idx(data + b"\0" * extra, "x")


def test_idx_corrupt_headers(tmp_path: Path) -> None:
    data = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    cases = {
        b"\x01" + data[1:]: "magic",
        data[:2] + b"\x07" + data[3:]: "dtype code 0x07",
        data[:3] + b"\x00" + data[4:]: "0 dimensions",
        data[:3]: "only 3 bytes",
    }
    for i, (bad, msg) in enumerate(cases.items()):
        p = tmp_path / f"bad{i}-idx2-ubyte"
        p.write_bytes(bad)
        with pytest.raises(DataError, match=msg) as exc:
            read_idx(p)
        assert p.name in str(exc.value)
    assert issubclass(DataError, ValueError)


def test_idx_bad_gzip_names_file(tmp_path: Path) -> None:
    gz = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)), mtime=0)
    trunc = tmp_path / "trunc-labels-idx1-ubyte.gz"
    trunc.write_bytes(gz[: len(gz) // 2])
    flipped = bytearray(gz)
    flipped[-6] ^= 0xFF  # inside the CRC32 / length trailer
    crc = tmp_path / "crc-labels-idx1-ubyte.gz"
    crc.write_bytes(bytes(flipped))
    for p in (trunc, crc):
        with pytest.raises(DataError, match="gzip") as exc:
            read_idx(p)
        assert str(p) in str(exc.value)


def test_idx_cache_and_mtime(tmp_path: Path) -> None:
    p = write_idx(tmp_path / "c-idx1-ubyte", np.arange(5, dtype=np.uint8), gz=False)
    a, b = read_idx(p), read_idx(p)
    assert a is b  # served from the per-process cache
    write_idx(p, np.arange(6, dtype=np.uint8), gz=False)
    os.utime(p, ns=(1, 1))  # make sure the mtime changes even on coarse-mtime file systems
    assert read_idx(p).shape == (6,)
    with pytest.raises(DataError, match="expected a 3-d"):
        read_idx(p, ndim=3)


def test_real_mnist_truncated_and_corrupt_copy(tmp_path: Path) -> None:
    root = _real_root("mnist")
    raw = gzip.decompress((root / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    cut = tmp_path / "t10k-labels-idx1-ubyte"
    cut.write_bytes(raw[:-100])
    with pytest.raises(DataError, match=r"truncated.*10008 bytes, file has 9908") as exc:
        read_idx(cut)
    assert "t10k-labels-idx1-ubyte" in str(exc.value)
    gz_cut = tmp_path / "t10k-images-idx3-ubyte.gz"
    gz_cut.write_bytes((root / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()[:50_000])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        read_idx(gz_cut)
    bad_magic = tmp_path / "magic-labels-idx1-ubyte"
    bad_magic.write_bytes(b"\x00\x00\x08\x09" + raw[4:])  # 9 dims declared
    with pytest.raises(DataError, match="magic-labels-idx1-ubyte.*dimensions"):
        read_idx(bad_magic)
    bad_code = tmp_path / "code-labels-idx1-ubyte"
    bad_code.write_bytes(b"\x00\x00\x42\x01" + raw[4:])
    with pytest.raises(DataError, match="code-labels-idx1-ubyte.*dtype code 0x42"):
        read_idx(bad_code)


def test_images_labels_count_mismatch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    patch_small_mnist(monkeypatch)
    make_mnist_dir(tmp_path / "d" / "mnist")
    write_idx(tmp_path / "d" / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(DataError, match="20 images but .*19 labels"):
        load_dataset("mnist", data_dir=tmp_path / "d", download=False)


# -------------------------------------------------------------------------------------- loader options


def test_scales_subset_flatten(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    patch_small_mnist(monkeypatch)
    arrays = make_mnist_dir(tmp_path / "d" / "mnist", gz=False)  # uncompressed files work too
    x_np, y_np = arrays["train"]
    kw = {"data_dir": tmp_path / "d", "download": False}
    raw, y = load_dataset("mnist", scale="raw", **kw)
    assert raw.dtype == torch.uint8 and raw.shape == (20, 1, 28, 28) and y.dtype == torch.int64
    assert np.array_equal(raw[:, 0].numpy(), x_np) and np.array_equal(y.numpy(), y_np)
    unit, _ = load_dataset("mnist", **kw)
    assert unit.dtype == torch.float32 and torch.allclose(unit * 255, raw.float())
    bip, _ = load_dataset("mnist", scale="bipolar", **kw)
    assert bip.min() >= -1 and bip.max() <= 1 and torch.allclose((bip + 1) * 127.5, raw.float(), atol=1e-4)
    std, _ = load_dataset("mnist", scale="standard", **kw)
    assert abs(std.mean().item()) < 1e-5 and abs(std.std(unbiased=False).item() - 1) < 1e-4
    # the test split is normalised with the *train* statistics
    std_test, _ = load_dataset("mnist", "test", scale="standard", **kw)
    raw_test, _ = load_dataset("mnist", "test", scale="raw", **kw)
    expect = (raw_test.double() - x_np.mean()) / x_np.std()
    assert torch.allclose(std_test.double(), expect, atol=1e-4)
    flat, _ = load_dataset("mnist", "test", flatten=True, **kw)
    assert flat.shape == (10, 784)
    first, yf = load_dataset("mnist", subset=5, scale="raw", **kw)
    assert torch.equal(first, raw[:5]) and torch.equal(yf, y[:5])
    a, ya = load_dataset("mnist", subset=7, generator=torch.Generator().manual_seed(3), scale="raw", **kw)
    b, _ = load_dataset("mnist", subset=7, generator=torch.Generator().manual_seed(3), scale="raw", **kw)
    c, _ = load_dataset("mnist", subset=7, generator=torch.Generator().manual_seed(4), scale="raw", **kw)
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, raw[:7])
    rows = [int(np.flatnonzero((x_np == img[0].numpy()).all(axis=(1, 2)))[0]) for img in a]
    assert rows == sorted(rows) and torch.equal(ya, y[rows])  # a subset, kept in dataset order
    dev, _ = load_dataset("mnist", subset=2, device="cpu", **kw)
    assert dev.device.type == "cpu"
    raw[0, 0, 0, 0] += 1  # tensors are copies: mutating one does not touch the cache
    assert torch.equal(
        load_dataset("mnist", scale="raw", **kw)[0][0, 0, 0, 0:1], torch.from_numpy(x_np[0, 0, 0:1])
    )
    for bad in (
        {"subset": 0},
        {"subset": 21},
        {"scale": "zscore"},
        {"split": "valid"},
        {"label_mode": "fine"},
    ):
        with pytest.raises(ConfigError):
            load_dataset("mnist", **{**kw, **bad})
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_dataset("imagenet")


def test_names_and_registry() -> None:
    assert sd.available_datasets() == ["mnist", "fashion-mnist", "cifar10", "cifar100", "mnist-sample"]
    assert sd.get_info("Fashion_MNIST").name == "fashion-mnist" and sd.get_info("CIFAR-10").name == "cifar10"
    for info in DATASETS.values():
        assert info.shape[0] in (1, 3) and info.n_train > info.n_test > 0 and info.licence
        for f in info.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
        assert all(u.endswith("/") for u in info.urls)


# ------------------------------------------------------------------------------------------ lookup order


def test_cache_dir_respects_xdg_and_home(monkeypatch: pytest.MonkeyPatch, isolated: dict) -> None:
    assert sd.user_cache_dir() == isolated["cache"]
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert sd.user_cache_dir() == isolated["home"] / ".cache" / "spinaptic"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec says: ignore relative paths
    assert sd.user_cache_dir() == isolated["home"] / ".cache" / "spinaptic"


def test_lookup_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated: dict) -> None:
    patch_small_mnist(monkeypatch)
    roots = {
        "argument": tmp_path / "arg",
        "SPINAPTIC_DATA": tmp_path / "env",
        "cache": isolated["cache"],
        "system": isolated["system"],
    }
    labels = {}
    for seed, (source, root) in enumerate(roots.items()):
        labels[source] = make_mnist_dir(root / "mnist", seed=seed)["train"][1]
    monkeypatch.setenv(
        "SPINAPTIC_DATA", os.pathsep.join([str(tmp_path / "nothing"), str(roots["SPINAPTIC_DATA"])])
    )
    for source, root in roots.items():
        arg = roots["argument"] if source == "argument" else None
        loc = find_dataset("mnist", arg)
        assert (loc.source, loc.root) == (source, root)
        _, y = load_dataset("mnist", data_dir=arg, download=False)
        assert np.array_equal(y.numpy(), labels[source])
        shutil.rmtree(root / "mnist")
    with pytest.raises(DataError) as exc:
        load_dataset("mnist", data_dir=roots["argument"], download=False)
    msg = str(exc.value)
    for source, root in roots.items():  # every place searched is listed
        assert f"{source}: {root / 'mnist'}" in msg
    assert str(tmp_path / "nothing" / "mnist") in msg and "mnist-sample" in msg


def test_incomplete_folder_is_reported_and_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    patch_small_mnist(monkeypatch)
    make_mnist_dir(tmp_path / "a" / "mnist")
    (tmp_path / "a" / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    make_mnist_dir(tmp_path / "b" / "mnist")
    monkeypatch.setenv("SPINAPTIC_DATA", str(tmp_path / "b"))
    assert find_dataset("mnist", tmp_path / "a").source == "SPINAPTIC_DATA"
    shutil.rmtree(tmp_path / "b")
    with pytest.raises(DataError, match="incomplete, lacks t10k-labels-idx1-ubyte.gz"):
        find_dataset("mnist", tmp_path / "a")


def test_mnist_never_silently_becomes_the_sample(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="'mnist' not found"):
        load_dataset("mnist", data_dir=tmp_path, download=False)
    with pytest.warns(SampleFallbackWarning, match="embedded MNIST sample"):
        x, y = load_dataset("mnist", "test", data_dir=tmp_path, download=False, fallback_to_sample=True)
    assert x.shape == (500, 1, 28, 28) and y.shape == (500,)
    with pytest.raises(ConfigError, match="fallback_to_sample"):
        load_dataset("fashion-mnist", download=False, fallback_to_sample=True)


def test_embedded_sample() -> None:
    p = sd.sample_path()
    assert p.is_file() and p.stat().st_size < 1_000_000
    for split, n in (("train", 1000), ("test", 500)):
        x, y = sd.load_mnist_sample(split, scale="raw")
        assert x.shape == (n, 1, 28, 28) and x.dtype == torch.uint8
        assert torch.bincount(y, minlength=10).tolist() == [n // 10] * 10  # stratified
    assert ds_mod.sample_arrays_sha256(p) == DATASETS["mnist-sample"].files[0].sha256
    with np.load(p) as z:
        assert set(z.files) == {"x_train", "y_train", "x_test", "y_test", "train_index", "test_index"}
        assert np.all(np.diff(z["train_index"]) > 0) and z["train_index"].max() < 60_000


def test_embedded_sample_matches_real_mnist() -> None:
    root = _real_root("mnist")
    with np.load(sd.sample_path()) as z:
        xs, ys, idx = z["x_test"], z["y_test"], z["test_index"]
    x, y = load_dataset("mnist", "test", data_dir=root, scale="raw", download=False)
    assert np.array_equal(x[idx, 0].numpy(), xs) and np.array_equal(y[idx].numpy(), ys)


# -------------------------------------------------------------------------------------------- download


def test_download_ok_placed_atomically(http_root, tmp_path: Path) -> None:
    www, base = http_root
    payload = os.urandom(300_000)
    (www / "blob.bin").write_bytes(payload)
    dest = tmp_path / "cache" / "sub" / "blob.bin"
    got = download_file([base + "blob.bin"], dest, sha256=hashlib.sha256(payload).hexdigest(), progress=False)
    assert got == dest and dest.read_bytes() == payload
    assert leftovers(dest.parent) == ["blob.bin"]  # no temp file
    assert dest.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


def test_download_wrong_checksum_leaves_nothing(http_root, tmp_path: Path) -> None:
    www, base = http_root
    (www / "blob.bin").write_bytes(b"tampered content")
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"SHA-256 mismatch for blob.bin .*expected 0{64}.*discarded"):
        download_file([base + "blob.bin"], cache / "blob.bin", sha256="0" * 64, progress=False)
    assert leftovers(cache) == []


def test_download_mirror_fallback_gunzip_payload_and_errors(http_root, tmp_path: Path) -> None:
    www, base = http_root
    raw = idx_bytes(np.arange(4000, dtype=np.uint8))
    (www / "a.gz").write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))  # re-compressed copy
    digest = hashlib.sha256(raw).hexdigest()
    dest = tmp_path / "c" / "a.gz"
    urls = [base + "missing/a.gz", base + "a.gz"]  # first mirror 404s
    download_file(urls, dest, sha256=digest, payload="gunzip", progress=False)
    assert gzip.decompress(dest.read_bytes()) == raw
    dest.unlink()
    (www / "bad.gz").write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(DataError, match=r"404.*\n.*corrupt or truncated gzip"):
        download_file(
            [base + "nope.gz", base + "bad.gz"], dest, sha256=digest, payload="gunzip", progress=False
        )
    with pytest.raises(DataError, match="only http"):
        download_file(["file:///etc/passwd"], dest, sha256=digest, progress=False)
    assert leftovers(tmp_path / "c") == []


def test_atomic_write_cleans_up_on_error(tmp_path: Path) -> None:
    dest = tmp_path / "w" / "x.npz"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), sd.atomic_write(dest) as f:
        f.write(b"half")
        raise RuntimeError
    assert dest.read_bytes() == b"old" and leftovers(dest.parent) == ["x.npz"]


def test_load_dataset_downloads_into_cache(
    monkeypatch: pytest.MonkeyPatch, http_root, isolated: dict
) -> None:
    www, base = http_root
    arrays = make_mnist_dir(www / "mirror", seed=5)
    patch_small_mnist(monkeypatch, arrays["digests"], urls=(base + "dead/", base + "mirror/"))
    with pytest.raises(DataError, match="not found"):
        load_dataset("mnist", download=False)
    x, y = load_dataset("mnist", "test", scale="raw", progress=False)
    assert np.array_equal(x[:, 0].numpy(), arrays["t10k"][0]) and np.array_equal(y.numpy(), arrays["t10k"][1])
    assert leftovers(isolated["cache"] / "mnist") == sorted(arrays["digests"])
    assert find_dataset("mnist").source == "cache"
    row = next(r for r in dataset_status() if r["name"] == "mnist")
    assert (row["source"], row["checksum"]) == ("cache", "ok")


def test_download_refuses_tampered_mirror(monkeypatch: pytest.MonkeyPatch, http_root, isolated: dict) -> None:
    www, base = http_root
    arrays = make_mnist_dir(www / "mirror", seed=5)
    digests = dict(arrays["digests"], **{"t10k-labels-idx1-ubyte.gz": "f" * 64})
    patch_small_mnist(monkeypatch, digests, urls=(base + "mirror/",))
    with pytest.raises(DataError, match=r"SHA-256 mismatch for t10k-labels-idx1-ubyte.gz"):
        load_dataset("mnist", progress=False)
    assert "t10k-labels-idx1-ubyte.gz" not in leftovers(isolated["cache"])
    assert not any(n.endswith(".part") for n in leftovers(isolated["cache"]))


# ----------------------------------------------------------------------------------------------- CIFAR


def _write_cifar100(folder: Path, n_train: int = 8, n_test: int = 4) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n, seed in (("train", n_train, 0), ("test", n_test, 1)):
        d = cifar100_dict(n, seed)
        (folder / split).write_bytes(py2_dumps(d))
        out[split] = d
    (folder / "meta").write_bytes(py2_dumps({b"fine_label_names": [b"apple"] * 100}))
    return out


def test_cifar100_py2_format_dir_and_tar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    patch_info(monkeypatch, "cifar100", n_train=8, n_test=4)
    data = _write_cifar100(tmp_path / "d" / "cifar-100-python")
    blob = (tmp_path / "d" / "cifar-100-python" / "train").read_bytes()
    assert b"numpy.core.multiarray\n_reconstruct" in blob and b"_codecs" not in blob  # really py2-style
    x, y = load_dataset("cifar100", data_dir=tmp_path / "d", scale="raw", download=False)
    d = data["train"]
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.uint8
    assert np.array_equal(x.numpy().reshape(8, -1), d[b"data"])
    assert x[0, 1, 0, 0].item() == d[b"data"][0, 1024]  # rows are R plane, G plane, B plane
    assert y.tolist() == d[b"fine_labels"]
    _, yc = load_dataset("cifar100", "test", data_dir=tmp_path / "d", label_mode="coarse", download=False)
    assert yc.tolist() == data["test"][b"coarse_labels"]
    # the same files as the original .tar.gz archive, read without extracting
    tar_root = tmp_path / "t"
    tar_root.mkdir()
    with tarfile.open(tar_root / "cifar-100-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "d" / "cifar-100-python", arcname="cifar-100-python")
    loc = find_dataset("cifar100", tar_root)
    assert loc.form == "cifar-python-tar"
    x2, y2 = load_dataset("cifar100", data_dir=tar_root, scale="raw", download=False)
    assert torch.equal(x2, x) and torch.equal(y2, y)
    assert list(tar_root.iterdir()) == [tar_root / "cifar-100-python.tar.gz"]  # nothing extracted
    xs, _ = load_dataset("cifar100", data_dir=tar_root, scale="standard", download=False)
    assert torch.allclose(xs.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)


def test_cifar_pickle_variants_accepted() -> None:
    d = cifar100_dict(3, 2)
    str_keys = {k.decode(): v for k, v in d.items()}
    for blob in (pickle.dumps(d, protocol=2), pickle.dumps(str_keys, protocol=5), py2_dumps(d)):
        x, labels = cifar_mod.parse_cifar_batch(safe_unpickle(blob), "b", {"fine_labels": 100})
        assert np.array_equal(x, d[b"data"]) and labels["fine_labels"].tolist() == d[b"fine_labels"]
    scal = safe_unpickle(pickle.dumps({"s": np.float32(1.5), "i": np.int64(3)}, protocol=2))
    assert scal == {"s": 1.5, "i": 3} and isinstance(scal["s"], np.float32)


class _Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_malicious_pickles_refused(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _Evil(target)}, protocol=2)
    assert b"system" in evil
    with pytest.raises(DataError, match=r"refusing to unpickle global (posix|os|nt)\.system"):
        safe_unpickle(evil, "evil")
    hand = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85q\x01Rq\x02."
    with pytest.raises(DataError, match=r"os\.system"):
        safe_unpickle(hand, "evil")
    for blob in (
        pickle.dumps(eval, protocol=2),
        pickle.dumps(_Evil, protocol=4),
        pickle.dumps({1, 2}, protocol=2),
    ):
        with pytest.raises(DataError, match="refusing"):
            safe_unpickle(blob, "evil")
    codec = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x03\x00\x00\x00hexq\x00\x86R."
    with pytest.raises(DataError, match="only latin1"):
        safe_unpickle(codec, "evil")
    with pytest.raises(DataError, match="corrupt or truncated pickle"):
        safe_unpickle(pickle.dumps(cifar100_dict(2, 0), protocol=2)[:-30], "short")
    assert not target.exists()
    # through the loader: a CIFAR-100 directory whose train file is malicious
    folder = tmp_path / "d" / "cifar-100-python"
    folder.mkdir(parents=True)
    (folder / "train").write_bytes(evil)
    (folder / "test").write_bytes(evil)
    with pytest.raises(DataError, match=r"cifar-100-python/train: refusing"):
        load_dataset("cifar100", data_dir=tmp_path / "d", download=False)
    assert not target.exists()


def test_cifar_batch_validation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keys = {"labels": 10}
    good = cifar10_dict(4, 0)
    cases = {
        "uint8 array of shape": {**good, b"data": good[b"data"].astype(np.int16)},
        "no 'data'": {b"labels": good[b"labels"]},
        r"shape \(3,\), expected \(4,\)": {**good, b"labels": good[b"labels"][:3]},
        r"outside 0\.\.9": {**good, b"labels": [0, 1, 2, 10]},
        "no 'labels'": {b"data": good[b"data"]},
    }
    for msg, d in cases.items():
        with pytest.raises(DataError, match=msg):
            cifar_mod.parse_cifar_batch(safe_unpickle(py2_dumps(d)), "f", keys)
    with pytest.raises(DataError, match="expected 5 images"):
        cifar_mod.parse_cifar_batch(good, "f", keys, expected_n=5)
    # the registry's split sizes are enforced: 5 batches of 4 = 20 train images, registry says 50,000
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i, name in enumerate([*cifar_mod.CIFAR10_TRAIN_BATCHES, cifar_mod.CIFAR10_TEST_BATCH]):
        (folder / name).write_bytes(py2_dumps(cifar10_dict(4, i)))
    with pytest.raises(DataError, match="has 20 images, expected 50000"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    patch_info(monkeypatch, "cifar10", n_train=20, n_test=4)
    x, y = load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert x.shape == (20, 3, 32, 32) and y.max() < 10


def test_cifar10_genuine_preferred_over_jpeg(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated: dict
) -> None:
    patch_info(monkeypatch, "cifar10", n_train=12, n_test=6)
    decoded = make_jpeg_npz(tmp_path / "arg" / "cifar-10" / "cifar10_jpeg.npz")
    with pytest.warns(LossyDataWarning, match="lossy JPEG copy"):
        x, y = load_dataset("cifar10", "test", data_dir=tmp_path / "arg", scale="raw", download=False)
    assert np.array_equal(x.permute(0, 2, 3, 1).numpy(), decoded["test"][0])
    assert np.array_equal(y.numpy(), decoded["test"][1])
    genuine = isolated["cache"] / "cifar-10-batches-py"  # a lower-priority root, but genuine
    genuine.mkdir(parents=True)
    for i, name in enumerate(cifar_mod.CIFAR10_TRAIN_BATCHES):
        (genuine / name).write_bytes(py2_dumps(cifar10_dict(12 if i == 0 else 0, i)))
    (genuine / "test_batch").write_bytes(py2_dumps(cifar10_dict(6, 9)))
    loc = find_dataset("cifar10", tmp_path / "arg")
    assert (loc.form, loc.source, loc.lossy) == ("cifar-python-dir", "cache", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LossyDataWarning)
        x, _ = load_dataset("cifar10", data_dir=tmp_path / "arg", download=False)
    assert x.shape == (12, 3, 32, 32)


def test_jpeg_decode_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated: dict) -> None:
    npz = tmp_path / "cifar10_jpeg.npz"
    decoded = make_jpeg_npz(npz)
    cache = tmp_path / "decoded"
    with pytest.warns(LossyDataWarning):
        x, y = sd.load_cifar10_jpeg(npz, "train", cache_dir=cache, expected_n=12)
    assert x.shape == (12, 3, 32, 32) and not x.flags.writeable
    assert np.array_equal(x.transpose(0, 2, 3, 1), decoded["train"][0])
    files = leftovers(cache)
    assert len(files) == 1 and files[0].endswith("_train.npz")
    # a fresh process (cleared memory cache) reads the decoded arrays from disk instead of decoding
    cifar_mod._load_jpeg_cached.cache_clear()

    def no_decode(*a, **k):
        raise AssertionError("decoded again")

    monkeypatch.setattr(cifar_mod, "decode_jpeg_npz", no_decode)
    x2, y2 = sd.load_cifar10_jpeg(npz, "train", cache_dir=cache, warn=False)
    assert np.array_equal(x2, x) and np.array_equal(y2, y)


def test_jpeg_npz_corruption(tmp_path: Path) -> None:
    npz = tmp_path / "c.npz"
    make_jpeg_npz(npz)
    with np.load(npz) as z:
        arrays = dict(z)
    bad = dict(arrays, test_jpeg=arrays["test_jpeg"].copy())
    bad["test_jpeg"][arrays["test_offsets"][2] : arrays["test_offsets"][2] + 40] = 0  # wreck image 2's header
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(DataError, match="test image 2 is not a decodable JPEG"):
        cifar_mod.decode_jpeg_npz(tmp_path / "bad.npz", "test")
    np.savez(tmp_path / "off.npz", **dict(arrays, test_offsets=arrays["test_offsets"][:-1]))
    with pytest.raises(DataError, match="inconsistent test arrays"):
        cifar_mod.decode_jpeg_npz(tmp_path / "off.npz", "test")
    np.savez(tmp_path / "lab.npz", **dict(arrays, y_test=arrays["y_test"] + 10))
    with pytest.raises(DataError, match="labels in 0..9"):
        cifar_mod.decode_jpeg_npz(tmp_path / "lab.npz", "test")
    with pytest.raises(DataError, match="expected 7"):
        cifar_mod.decode_jpeg_npz(npz, "test", expected_n=7)
    # a blob whose JPEG header claims 65000 x 65000 pixels: Pillow's own bomb error becomes DataError
    huge = arrays["test_jpeg"].copy()
    blob = huge[arrays["test_offsets"][1] : arrays["test_offsets"][2]]
    sof = bytes(blob).index(b"\xff\xc0")  # SOF0: marker, length (2), precision (1), height (2), width (2)
    blob[sof + 5 : sof + 9] = np.frombuffer((65000).to_bytes(2, "big") * 2, np.uint8)
    np.savez(tmp_path / "huge.npz", **dict(arrays, test_jpeg=huge))
    with pytest.raises(DataError, match="test image 1 is not a decodable JPEG .*decompression bomb"):
        cifar_mod.decode_jpeg_npz(tmp_path / "huge.npz", "test")


# ------------------------------------------------------------------------------ real data (done-when)


def test_real_mnist_numbers() -> None:
    root = _real_root("mnist")
    x, y = load_dataset("mnist", data_dir=root, scale="raw", download=False)
    assert x.shape == (60_000, 1, 28, 28) and y.shape == (60_000,)
    xn = x.numpy()
    n, s1 = xn.size, int(xn.sum(dtype=np.uint64))
    s2 = int(np.square(xn, dtype=np.uint16).sum(dtype=np.uint64))
    assert s1 / n == pytest.approx(33.318, abs=5e-4)
    assert ((n * s2 - s1 * s1) / n**2) ** 0.5 == pytest.approx(78.567, abs=5e-4)
    assert torch.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    xt, yt = load_dataset("mnist", "test", data_dir=root, download=False)
    assert xt.shape == (10_000, 1, 28, 28) and yt.shape == (10_000,) and 0 <= xt.min() <= xt.max() <= 1
    std, _ = load_dataset("mnist", data_dir=root, scale="standard", subset=2000, download=False)
    loc = find_dataset("mnist", root)
    mean, sd_ = ds_mod._train_stats("mnist", loc, None, ds_mod._stamp(loc))  # what "standard" used
    assert (mean[0], sd_[0]) == (pytest.approx(33.318, abs=5e-4), pytest.approx(78.567, abs=5e-4))
    assert torch.allclose(std, (x[:2000].float() - float(mean[0])) / float(sd_[0]))


def test_real_fashion_mnist_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    root = _real_root("fashion-mnist")
    monkeypatch.setenv("SPINAPTIC_DATA", str(root))  # found through the environment variable this time
    assert find_dataset("fashion-mnist").source == "SPINAPTIC_DATA"
    x, y = sd.load_fashion_mnist(scale="raw", download=False)
    xt, yt = sd.load_fashion_mnist("test", download=False)
    assert x.shape == (60_000, 1, 28, 28) and xt.shape == (10_000, 1, 28, 28)
    assert torch.bincount(y).tolist() == [6000] * 10 and torch.bincount(yt).tolist() == [1000] * 10


def test_real_cifar10_jpeg_test_split() -> None:
    """The JPEG test split decodes to the README's hashes (10k images, about a second)."""
    root = _real_root("cifar-10/cifar10_jpeg.npz")
    with pytest.warns(LossyDataWarning):
        x, y = load_dataset("cifar10", "test", data_dir=root, scale="raw", download=False)
    hwc = x.permute(0, 2, 3, 1).contiguous().numpy()
    assert hashlib.sha256(hwc.tobytes()).hexdigest() == (
        "5a6aa8185204d80b65d3dfb540696dadd5f10d185ded226a96665d3e0fc6259f"
    )
    assert hashlib.sha256(y.numpy().astype(np.uint8).tobytes()).hexdigest() == (
        "a054c239a40ee7f2a5745e7e4bc11a51e9cb40c98134b602c1068e6a207487c6"
    )
    assert hwc.reshape(-1, 3).mean(axis=0) == pytest.approx([125.987, 123.691, 114.847], abs=5e-3)


def test_real_status() -> None:
    root = _real_root("mnist")
    rows = {r["name"]: r for r in dataset_status(root)}
    assert set(rows) == set(DATASETS)
    assert (rows["mnist"]["source"], rows["mnist"]["checksum"]) == ("argument", "ok")
    assert rows["mnist-sample"]["checksum"] == "ok" and rows["mnist-sample"]["source"] == "embedded"
    if (root / "fashion-mnist").is_dir():
        assert rows["fashion-mnist"]["checksum"] == "ok"
    if (root / "cifar-10" / "cifar10_jpeg.npz").is_file():
        assert rows["cifar10"]["lossy"] and rows["cifar10"]["checksum"] == "ok"
    if not any((root / p).exists() for p in ("cifar-100-python", "cifar-100", "cifar-100-python.tar.gz")):
        assert (rows["cifar100"]["found"], rows["cifar100"]["checksum"]) == (False, "missing")


def test_status_detects_mismatch_and_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    make_mnist_dir(tmp_path / "mnist")  # right layout, wrong content for the real MNIST digests
    folder = tmp_path / "cifar-100-python"
    _write_cifar100(folder)
    rows = {r["name"]: r for r in dataset_status(tmp_path)}
    assert rows["mnist"]["checksum"] == "mismatch" and "train-images-idx3-ubyte.gz" in rows["mnist"]["detail"]
    assert rows["cifar100"]["checksum"] == "mismatch" and rows["cifar100"]["form"] == "cifar-python-dir"
    assert rows["fashion-mnist"]["checksum"] == "missing" and not rows["fashion-mnist"]["found"]
    assert str(tmp_path / "fashion-mnist") in rows["fashion-mnist"]["detail"]
    assert {r["checksum"] for r in dataset_status(tmp_path, verify=False) if r["found"]} == {"unverified"}


# --------------------------------------------------------------------------- hardening: bombs, caps, errors


def zeros_deflate(n: int, prefix: bytes = b"", seg: int = 1 << 24) -> bytes:
    """Raw deflate stream of ``prefix`` + ``n`` zero bytes (n a multiple of seg), built in milliseconds.

    One full-flushed segment of zeros is self-contained, so repeating it is a valid stream: a 2 MB bomb
    that inflates to 2 GiB without anyone having to compress 2 GiB.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH) if prefix else b""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(seg)) + c.flush(zlib.Z_FULL_FLUSH)
    return head + block * (n // seg) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def gzip_bomb(n: int, prefix: bytes = b"") -> bytes:
    """A gzip file of ``prefix`` + ``n`` zeros (CRC left 0: a reader must give up long before the trailer)."""
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + zeros_deflate(n, prefix) + struct.pack("<II", 0, n & 0xFFFFFFFF)


def zip_bytes(members: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A zip archive of (name, method, stored data, CRC-32, declared uncompressed size), written by hand so
    that methods, sizes and CRCs can be anything (zipfile refuses to write lies)."""
    out, central = bytearray(), bytearray()
    for name, method, data, crc, usize in members:
        nm = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), usize, len(nm), 0)
        out += nm + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), usize, len(nm), 0, 0, 0,
            0, 0, offset,
        )  # fmt: skip
        central += nm
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + eocd)


def npy_header(shape: tuple[int, ...], descr: str = "|u1") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


class _Peak:
    """Wall time and peak traced Python/numpy allocation of a block."""

    def __enter__(self) -> _Peak:
        tracemalloc.start()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()


def test_gzip_bomb_refused_fast_and_small(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """2 MB gzip files inflating to 2 GiB: refused after reading what the IDX header declares (+1 byte)."""
    header_small = bytes([0, 0, 8, 1]) + struct.pack(">I", 1000)  # says 1000 bytes follow; 2 GiB do
    header_big = bytes([0, 0, 8, 2]) + struct.pack(">2I", 65536, 65536)  # says 4 GiB follow
    cases = {
        "trailing bytes": gzip_bomb(2 << 30, header_small),
        "more than the limit": gzip_bomb(2 << 30, header_big),
        "dtype code 0x00": gzip_bomb(2 << 30),  # zeros: not even an IDX header
    }
    for i, (msg, blob) in enumerate(cases.items()):
        assert len(blob) < 3_000_000
        p = tmp_path / f"bomb{i}-images-idx3-ubyte.gz"
        p.write_bytes(blob)
        with _Peak() as peak, pytest.raises(DataError, match=msg) as exc:
            sd.idx.read_idx_bytes(p)
        assert str(p) in str(exc.value) and "\n" not in str(exc.value)
        assert peak.seconds < 1.0 and peak.peak_mb < 20, (msg, peak.seconds, peak.peak_mb)
    # the generic reader and the checksum stream stop at their cap
    p = tmp_path / "zeros.gz"
    p.write_bytes(gzip_bomb(2 << 30))
    with _Peak() as peak, pytest.raises(DataError, match="more than the limit of 20000000"):
        sd.idx.read_maybe_gzip(p, max_bytes=20_000_000)
    assert peak.peak_mb < 60
    with pytest.raises(DataError, match=r"zeros.gz.*more than the limit of 1000000"):
        sd.gunzip_sha256(p, max_bytes=1_000_000)
    # through the loader: the registry-derived cap (2x the split's size) refuses a header that declares
    # a plausible-looking 1 GiB array before inflating it
    patch_small_mnist(monkeypatch)
    folder = tmp_path / "d" / "mnist"
    make_mnist_dir(folder)
    hdr = bytes([0, 0, 8, 3]) + struct.pack(">3I", 1_369_000, 28, 28)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip_bomb(1 << 30, hdr))
    with _Peak() as peak, pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: .*more than the limit"):
        load_dataset("mnist", "test", data_dir=tmp_path / "d", download=False)
    assert peak.seconds < 1.0 and peak.peak_mb < 20


def test_idx_sizes_in_python_ints(tmp_path: Path) -> None:
    """Four dims of 65536 multiply to 2**64, which int64 np.prod wraps to 0 (an empty 'valid' array)."""
    data = bytes([0, 0, 8, 4]) + struct.pack(">4I", *[65536] * 4)
    assert int(np.prod([65536] * 4, dtype=np.int64)) == 0  # the overflow the old check relied on
    with pytest.raises(DataError, match=r"wrap: IDX header declares shape \(65536, 65536, 65536, 65536\), too large"):
        parse_idx(data, "wrap")
    p = tmp_path / "wrap-idx4-ubyte"
    p.write_bytes(data)
    with pytest.raises(DataError, match=r"wrap-idx4-ubyte: IDX header declares .* too large"):
        read_idx(p)
    p3 = tmp_path / "huge-idx3-ubyte"  # 2**48 bytes: representable, refused by the size cap before reading
    p3.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", *[65536] * 3))
    with pytest.raises(DataError, match=r"huge-idx3-ubyte: .*= 281474976710672 bytes, more than the limit"):
        read_idx(p3)
    with pytest.raises(DataError, match=r"truncated: header says shape \(65536, 65536, 65536\)"):
        parse_idx(p3.read_bytes(), "huge")
    big = bytes([0, 0, 0x0E, 2]) + struct.pack(">2I", 2**32 - 1, 2**32 - 1)  # float64: 2**67 bytes
    with pytest.raises(DataError, match="too large for any array"):
        parse_idx(big + b"\0" * 8, "big")
    zero = bytes([0, 0, 8, 3]) + struct.pack(">3I", 0, 2**32 - 1, 2**32 - 1)  # 0 bytes, but numpy cannot shape it
    with pytest.raises(DataError, match=r"zero: IDX header declares shape \(0, 4294967295, 4294967295\), too large"):
        parse_idx(zero, "zero")
    assert parse_idx(bytes([0, 0, 8, 2]) + struct.pack(">2I", 0, 65536), "ok").shape == (0, 65536)
    claim = tmp_path / "claim-idx1-ubyte"  # 12 bytes on disk that declare 512 MiB: nothing that size is allocated
    claim.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 1 << 29) + b"\0" * 4)
    with _Peak() as peak, pytest.raises(DataError, match=r"truncated: .*536870920 bytes, file has 12 bytes"):
        read_idx(claim)
    assert peak.peak_mb < 20


def _npz_member(shape: tuple[int, ...], n_zeros: int, declared: int | None = None, name: str = "x") -> tuple:
    """A deflated .npy member: ``shape``'s header then ``n_zeros`` zeros; the zip entry declares ``declared``
    bytes (default: the truth), with the CRC of those declared bytes so that only the sizes can be wrong
    (left 0 above 32 MiB: such members must be refused long before their end)."""
    head = npy_header(shape)
    size = len(head) + n_zeros if declared is None else declared
    crc = zlib.crc32(bytes(max(0, size - len(head))), zlib.crc32(head[:size])) if size <= 1 << 25 else 0
    return (f"{name}.npy", zipfile.ZIP_DEFLATED, zeros_deflate(n_zeros, head), crc, size)


def _table_members(method: int = zipfile.ZIP_STORED) -> list[tuple]:
    out = []
    for k, a in (("g_bins", np.linspace(1, 2, 3)), ("cdf", np.linspace(0, 1, 2)), ("dg_increasing", np.zeros((2, 3))),
                 ("dg_decreasing", np.zeros((2, 3)))):  # fmt: skip
        payload = npy_header(a.shape, "<f8") + a.tobytes()
        out.append((f"{k}.npy", method, payload, zlib.crc32(payload), len(payload)))
    return out


def test_npz_bomb_and_lying_sizes_refused(tmp_path: Path) -> None:
    from spinaptic.devices.lookup_table import LookupTableError, load_npz

    head_len = len(npy_header((1 << 28,)))
    cases = {
        # a 2 GiB array of zeros in 2 MB: consistent sizes, over the per-member cap
        "more than the limit of 536870912": _npz_member((1 << 31,), 1 << 31),
        # the zip entry says 10 bytes of data: np.load would still allocate the header's 256 MiB
        f"zip entry declares {head_len + 10} bytes": _npz_member((1 << 28,), 1 << 24, declared=head_len + 10),
    }
    for i, (msg, member) in enumerate(cases.items()):
        p = tmp_path / f"bomb{i}.npz"
        p.write_bytes(zip_bytes([member]))
        assert p.stat().st_size < 3_000_000
        with _Peak() as peak, pytest.raises(DataError, match=msg) as exc:
            sd.read_npz(p, ["x"])
        assert str(p) in str(exc.value)
        assert peak.seconds < 1.0 and peak.peak_mb < 20, (msg, peak.seconds, peak.peak_mb)
    # a small header and a matching declared size over a stream that inflates on: read stops at the size
    (tmp_path / "long.npz").write_bytes(zip_bytes([_npz_member((10,), 1 << 30, declared=len(npy_header((10,))) + 10)]))
    with _Peak() as peak:
        assert sd.read_npz(tmp_path / "long.npz")["x"].tolist() == [0] * 10
    assert peak.seconds < 1.0 and peak.peak_mb < 20
    table_bomb = [_npz_member((1 << 31,), 1 << 31, name="g_bins"), *_table_members()[1:]]
    (tmp_path / "table_bomb.npz").write_bytes(zip_bytes(table_bomb))
    with _Peak() as peak, pytest.raises(LookupTableError, match=r"table_bomb.npz: array 'g_bins': .*more than the limit"):
        load_npz(tmp_path / "table_bomb.npz")
    assert peak.seconds < 1.0 and peak.peak_mb < 20
    # total cap across members
    (tmp_path / "two.npz").write_bytes(zip_bytes([_npz_member((1 << 24,), 1 << 24, name=k) for k in "ab"]))
    with pytest.raises(DataError, match="arrays total more than the limit of 20000000"):
        sd.read_npz(tmp_path / "two.npz", max_total_bytes=20_000_000)


def test_npz_unsupported_zip_method_and_garbage(tmp_path: Path) -> None:
    from spinaptic.devices.lookup_table import LookupTableError, load_npz

    payload = npy_header((3,)) + b"abc"
    p = tmp_path / "deflate64.npz"
    p.write_bytes(zip_bytes(_table_members(method=9)))  # 9 = deflate64
    with pytest.raises(NotImplementedError):  # what np.load lets through
        with np.load(p) as z:
            z["g_bins"]
    with pytest.raises(DataError, match=r"deflate64.npz: array 'g_bins': zip compression method 9 is not supported"):
        sd.read_npz(p)
    (tmp_path / "table_ok.npz").write_bytes(zip_bytes(_table_members()))
    assert load_npz(tmp_path / "table_ok.npz").n_bins == 3  # the hand-made zip is valid once stored
    with pytest.raises(LookupTableError, match="deflate64.npz: array 'g_bins': zip compression method 9"):
        load_npz(p)
    stored = ("x.npy", zipfile.ZIP_STORED, payload, zlib.crc32(payload), len(payload))
    (tmp_path / "ok.npz").write_bytes(zip_bytes([stored]))
    assert bytes(sd.read_npz(tmp_path / "ok.npz")["x"]) == b"abc"
    bad_crc = ("x.npy", zipfile.ZIP_STORED, payload, 1234, len(payload))
    (tmp_path / "crc.npz").write_bytes(zip_bytes([bad_crc]))
    with pytest.raises(DataError, match=r"crc.npz: not a readable NPZ file \(BadZipFile: Bad CRC-32"):
        sd.read_npz(tmp_path / "crc.npz")
    obj = npy_header((1,), "|O")
    (tmp_path / "obj.npz").write_bytes(zip_bytes([("x.npy", 0, obj + b"\0" * 8, zlib.crc32(obj + b"\0" * 8),
                                                   len(obj) + 8)]))  # fmt: skip
    with pytest.raises(DataError, match="object arrays are not allowed"):
        sd.read_npz(tmp_path / "obj.npz")
    # the real reader keeps what np.load gives for honest files (fortran order, byte order, strings)
    arrs = {"f": np.asfortranarray(np.arange(12.0).reshape(3, 4)), "b": np.arange(5, dtype=">i4"), "s": np.array("é")}
    np.savez_compressed(tmp_path / "honest.npz", **arrs)
    got = sd.read_npz(tmp_path / "honest.npz")
    for k, a in arrs.items():
        assert got[k].dtype == a.dtype and np.array_equal(got[k], a)
    assert got["f"].flags.f_contiguous and got["b"].flags.writeable


def test_cifar_tar_bomb_capped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A .tar.gz that inflates forever stops at the stream cap (shrunk here to keep the test fast)."""
    monkeypatch.setattr(cifar_mod, "_MAX_TAR_BYTES", 10_000_000)
    info = tarfile.TarInfo("cifar-100-python/junk")
    info.size = 1 << 30
    p = tmp_path / "cifar-100-python.tar.gz"
    p.write_bytes(gzip_bomb(1 << 30, info.tobuf()))
    with _Peak() as peak, pytest.raises(DataError, match=r"cifar-100-python.tar.gz: archive decompresses to more"):
        cifar_mod.load_cifar_python(p, "cifar100", "test")
    assert peak.seconds < 1.0 and peak.peak_mb < 30


def test_crafted_numpy_pickles_refused_not_crashing() -> None:
    """numpy segfaults on an object-array state with a short item list; the unpickler must stop it first."""
    from numpy._core.multiarray import _reconstruct, scalar

    class State:
        def __init__(self, state, args=(np.ndarray, (0,), b"b"), fn=_reconstruct) -> None:
            self.state, self.args, self.fn = state, args, fn

        def __reduce__(self):
            return (self.fn, self.args, self.state)

    crafted = {
        "not a plain numeric": State((1, (10,), np.dtype("O"), False, [1, 2])),  # the segfault
        "'V1' is not a plain numeric": State((1, (2,), np.dtype([("a", "u1")]), False, b"ab")),
        "has 2 bytes, its shape and dtype need 10": State((1, (10,), np.dtype("u1"), False, b"ab")),
        "empty numpy.ndarray": State(None, args=(np.ndarray, (1 << 40,), b"b")),
        "malformed array shape": State((1, (-1,), np.dtype("u1"), False, b"ab")),
        "scalar data has 1 bytes": State(None, args=(np.dtype("i8"), b"x"), fn=scalar),
    }
    for msg, obj in crafted.items():
        blob = pickle.dumps({b"data": obj}, protocol=2)
        code = (
            "import sys; from spinaptic.data import safe_unpickle, DataError\n"
            "try:\n    safe_unpickle(sys.stdin.buffer.read(), 'crafted')\nexcept DataError as e:\n    print(e)"
        )
        if msg == "not a plain numeric":  # in a subprocess: a regression must not take pytest down with it
            out = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True, timeout=120)
            assert out.returncode == 0 and msg in out.stdout.decode(), (out.returncode, out.stderr[-500:])
            continue
        with pytest.raises(DataError, match=f"crafted: refusing the pickle: .*{msg}"):
            safe_unpickle(blob, "crafted")
    # numpy.ndarray itself is not callable from a pickle (np.ndarray((2**31,), "O") fills 16 GB with None)
    reduce_ndarray = b"\x80\x02cnumpy\nndarray\nJ\x00\x00\x00\x01\x85X\x01\x00\x00\x00O\x86R."  # 2**24 x "O"
    with pytest.raises(DataError, match="'_NdarrayToken' object is not callable"):
        safe_unpickle(reduce_ndarray, "crafted")
    # CPython's C unpickler sizes its memo by the largest index: these 9 bytes would make it fill 16 GB
    memo_bomb = b"\x80\x02Nr" + struct.pack("<I", 2**31) + b"."
    with _Peak() as peak:
        assert safe_unpickle(memo_bomb, "memo") is None
    assert peak.seconds < 0.5 and peak.peak_mb < 5
    plain = safe_unpickle(pickle.dumps({"a": np.arange(3, dtype=">i2"), "b": np.zeros((2, 2), order="F")}))
    assert type(plain["a"]) is np.ndarray and plain["a"].dtype == np.int16 and plain["a"].tolist() == [0, 1, 2]
    assert plain["b"].flags.f_contiguous


def test_stale_part_removed_fresh_part_kept(http_root, tmp_path: Path) -> None:
    www, base = http_root
    payload = os.urandom(10_000)
    (www / "blob.bin").write_bytes(payload)
    cache = tmp_path / "cache"
    cache.mkdir()
    stale, fresh = cache / ".blob.bin.k1ll3d00.part", cache / ".blob.bin.l1v3l1v3.part"
    other = cache / ".other.bin.k1ll3d00.part"
    for p in (stale, fresh, other):
        p.write_bytes(b"half a download")
    old = time.time() - 2 * sd.download.STALE_PART_SECONDS
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    download_file([base + "blob.bin"], cache / "blob.bin", sha256=hashlib.sha256(payload).hexdigest(), progress=False)
    assert leftovers(cache) == sorted([".other.bin.k1ll3d00.part", fresh.name, "blob.bin"])


class _TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Announces 100 kB and sends one byte every 20 ms: never idle long enough for a read timeout."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(500):  # bounded: stops by itself within 10 s
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:  # the client hung up
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        pass


def test_download_overall_deadline(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TrickleHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/slow.bin"
        t0 = time.monotonic()
        with pytest.raises(DataError, match=r"slow.bin: download did not finish within the deadline of 0.5 s"):
            download_file([url], tmp_path / "c" / "slow.bin", sha256="0" * 64, timeout=5, deadline=0.5, progress=False)
        assert time.monotonic() - t0 < 3.0
        assert leftovers(tmp_path / "c") == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_status_notes_canonical_and_exit_code(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path / "mnist")  # right layout, wrong content
    make_jpeg_npz(tmp_path / "cifar-10" / "cifar10_jpeg.npz")  # a JPEG copy that is not the known one
    rows = {r["name"]: r for r in dataset_status(tmp_path)}
    assert rows["mnist"]["canonical"] is False and "not the canonical one" in rows["mnist"]["note"]
    c10 = rows["cifar10"]
    assert (c10["checksum"], c10["lossy"], c10["canonical"]) == ("mismatch", True, False)
    assert "lossy JPEG" in c10["note"] and "cifar-10-python.tar.gz" in c10["note"] and "either" in c10["note"]
    assert rows["fashion-mnist"]["canonical"] is None and rows["fashion-mnist"]["note"] == ""
    assert rows["mnist-sample"]["canonical"] is True
    assert sd.status_exit_code(list(rows.values())) == 1
    assert sd.status_exit_code([rows["fashion-mnist"], rows["mnist-sample"]]) == 0


def test_real_status_exit_code_and_lossy_note() -> None:
    root = _real_root("mnist")
    rows = {r["name"]: r for r in dataset_status(root)}
    tables = sd.lookup_table_status(root)
    assert sd.status_exit_code(list(rows.values()), tables) == 0
    if (root / "cifar-10" / "cifar10_jpeg.npz").is_file():
        c10 = rows["cifar10"]
        assert (c10["checksum"], c10["canonical"]) == ("ok", False) and "lossy JPEG" in c10["note"]
    assert rows["mnist"]["canonical"] is True and rows["mnist"]["note"] == ""


def test_lookup_table_status(tmp_path: Path) -> None:
    from spinaptic.devices.lookup_table import LookupTable, save_npz, write_crosssim

    folder = tmp_path / "dwmtj-lookup-tables"
    g = np.linspace(1e-5, 2e-5, 4)
    cdf = np.linspace(0, 1, 3)
    inc = np.tile(np.array([0.0, 1e-7, 2e-7])[:, None], (1, 4))
    table = LookupTable(g, cdf, inc, -inc[::-1])
    save_npz(table, folder / "dwmtj_stt_300K.npz")  # a known name with other content
    save_npz(table, folder / "dwmtj_sot_77K.npz")  # an unknown one
    write_crosssim(table, tmp_path / "lookup_tables" / "DWMTJ_SOT" / "300K")
    (folder / "dwmtj_stt_0K.npz").write_bytes(b"garbage")
    rows = {r["name"]: r for r in sd.lookup_table_status(tmp_path)}
    assert set(rows) == {"dwmtj_stt_300K", "dwmtj_sot_77K", "dwmtj_stt_0K", "DWMTJ_SOT/300K"}
    r = rows["dwmtj_stt_300K"]
    assert (r["kind"], r["temperature_k"], r["form"], r["source"]) == ("stt", 300.0, "npz", "argument")
    assert (r["instances"], r["bins"], r["cdf_points"], r["checksum"]) == (1, 4, 3, "mismatch")
    assert rows["dwmtj_sot_77K"]["checksum"] == "unverified"
    assert rows["dwmtj_stt_0K"]["checksum"] == "mismatch" and "not a readable" in rows["dwmtj_stt_0K"]["detail"]
    tree = rows["DWMTJ_SOT/300K"]
    assert (tree["form"], tree["instances"], tree["kind"]) == ("crosssim-dir", 1, "sot")
    assert sd.status_exit_code(list(rows.values())) == 1
    assert sd.lookup_table_status(tmp_path / "empty") == []


def test_real_lookup_tables_listed() -> None:
    root = _real_root("dwmtj-lookup-tables")
    rows = [r for r in sd.lookup_table_status(root) if r["source"] == "argument"]
    npz = {r["name"]: r for r in rows if r["form"] == "npz"}
    assert set(npz) == {f"dwmtj_{k}_{t}K" for k in ("stt", "sot") for t in (0, 300, 400)}
    assert all(r["checksum"] == "ok" and r["bins"] == 501 and r["cdf_points"] == 501 for r in npz.values())
    assert npz["dwmtj_sot_300K"]["instances"] == 20
    text = [r for r in rows if r["form"] == "crosssim-text"]
    assert len(text) == 2 and all(r["checksum"] == "ok" for r in text)


def test_numba_cache_dir_default(tmp_path: Path) -> None:
    code = "import os, spinaptic; print(os.environ['NUMBA_CACHE_DIR'])"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "xdg" / "spinaptic" / "numba")
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "mine")
