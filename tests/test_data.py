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
import tarfile
import threading
import warnings
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


@settings(max_examples=40, deadline=None)
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
