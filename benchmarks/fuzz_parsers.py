"""Fuzz the file parsers: IDX (plain and gzip), CrossSim lookup-table text, lookup-table NPZ, CIFAR pickles.

Each target takes mutated bytes of valid seed files (bit flips, interesting integers over header fields,
insertions, deletions, truncation, splices; token-level edits for the text format; members re-zipped with
a correct CRC so that mutated ``.npy`` headers reach the parser). The only allowed outcomes are "accepted"
(with the target's consistency checks passing) or "rejected" with the project's own error (DataError,
LookupTableError); anything else is a bug. Prints the counts and exits 1 if any other exception occurred.

    python benchmarks/fuzz_parsers.py [--n 10000] [--seed 0] [--targets idx,npz,...]

``tests/test_fuzz_parsers.py`` drives the same targets from Hypothesis (derandomized) with fewer inputs.
"""

from __future__ import annotations

import argparse
import gzip
import io
import math
import pickle
import random
import struct
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from spinaptic.data import DataError, parse_idx, read_npz, safe_unpickle
from spinaptic.data.cifar import parse_cifar_batch
from spinaptic.data.idx import read_idx_bytes, read_idx_stream
from spinaptic.devices.lookup_table import LookupTable, LookupTableError, load_crosssim, load_npz

_INTS = [0, 1, 2, 3, 4, 7, 8, 9, 255, 256, 3072, 10000, 65535, 65536, 2**24, 2**31 - 1, 2**31, 2**32 - 1]
_BYTES = [0x00, 0x01, 0x02, 0x08, 0x0D, 0x0E, 0x20, 0x7F, 0x80, 0xFF]
_TOKENS = ["nan", "inf", "-inf", "", " ", "1e999", "-0", "0x10", "1,2", "abc", "\t", "1e-320", "9" * 400, "é"]


# ------------------------------------------------------------------------------------------- mutators
def _pos(rng: random.Random, n: int) -> int:
    """A position biased to the first and last 64 bytes, where headers and trailers live."""
    if n == 0:
        return 0
    r = rng.random()
    if r < 0.35:
        return rng.randrange(min(n, 64))
    if r < 0.5:
        return max(0, n - 1 - rng.randrange(min(n, 64)))
    return rng.randrange(n)


def mutate_bytes(data: bytes, rng: random.Random, donors: list[bytes] = ()) -> bytes:
    """1-4 random byte-level edits of ``data``."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        i = _pos(rng, len(b))
        if op == 0 and b:
            b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[min(i, len(b) - 1)] = rng.choice(_BYTES)
        elif op == 2:
            fmt = rng.choice([">I", "<I", ">H", "<H", "<Q"])
            v = rng.choice(_INTS) % (1 << (8 * struct.calcsize(fmt)))
            b[i : i + struct.calcsize(fmt)] = struct.pack(fmt, v)
        elif op == 3:
            b[i:i] = rng.randbytes(rng.randint(1, 16))
        elif op == 4:
            del b[i : i + rng.randint(1, 32)]
        elif op == 5:
            j = _pos(rng, len(b))
            b[i:i] = b[j : j + rng.randint(1, 64)]
        elif op == 6:
            del b[i:]
        elif op == 7:
            b += rng.randbytes(rng.randint(1, 32))
        elif op == 8 and donors:
            d = rng.choice(donors)
            j = rng.randrange(len(d) + 1)
            b[i:] = d[j:]
    return bytes(b)


def mutate_text(text: str, rng: random.Random) -> str:
    """1-3 token- or line-level edits of comma-separated text."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        k = rng.randrange(len(lines)) if lines else 0
        if op == 0 and lines:  # replace one value
            cells = lines[k].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(_TOKENS)
            lines[k] = ",".join(cells)
        elif op == 1 and lines:  # drop or add a value
            cells = lines[k].split(",")
            if rng.random() < 0.5 and len(cells) > 1:
                del cells[rng.randrange(len(cells))]
            else:
                cells.insert(rng.randrange(len(cells) + 1), repr(rng.uniform(-1e-5, 1e-5)))
            lines[k] = ",".join(cells)
        elif op == 2 and lines:
            del lines[k]
        elif op == 3 and lines:
            lines.insert(k, lines[rng.randrange(len(lines))])
        elif op == 4:
            lines.insert(k, rng.choice(_TOKENS))
        elif op == 5 and lines:  # swap two lines
            j = rng.randrange(len(lines))
            lines[k], lines[j] = lines[j], lines[k]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- seeds
def idx_bytes(arr: np.ndarray) -> bytes:
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[arr.dtype.str[1:]]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _small_table() -> LookupTable:
    g = np.linspace(6e-5, 1.6e-4, 5)
    cdf = np.linspace(0.0, 1.0, 4)
    inc = np.linspace(1e-6, 8e-6, 4)[:, None] * np.linspace(1.0, 0.5, 5)[None, :]
    return LookupTable(g, cdf, inc, -inc[::-1])


def _crosssim_text(q: np.ndarray, t: LookupTable) -> str:
    rows = [",".join(f"{v:.8e}" for v in r) for r in (t.g_bins[0], t.cdf, *q)]
    return "1st Row = Gbins, 2nd Row = CDF Points, 3rd row onward =  dG matrix\n" + "\n".join(rows) + "\n"


def _npz_bytes(t: LookupTable, compressed: bool) -> bytes:
    buf = io.BytesIO()
    arrays = dict(g_bins=t.g_bins, cdf=t.cdf, dg_increasing=t.dg_increasing, dg_decreasing=t.dg_decreasing)
    (np.savez_compressed if compressed else np.savez)(buf, **arrays, name=np.array("fuzz"))
    return buf.getvalue()


def _cifar_pickles() -> list[bytes]:
    rng = np.random.default_rng(0)
    d10 = {b"batch_label": b"b", b"labels": [int(v) for v in rng.integers(0, 10, 2)],
           b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"filenames": [b"a.png", b"b.png"]}
    d_str = {k.decode(): v for k, v in d10.items()}
    return [pickle.dumps(d10, protocol=2), pickle.dumps(d_str, protocol=4), pickle.dumps(d_str, protocol=5),
            pickle.dumps({"labels": [np.int64(1), np.uint8(2)], "data": d10[b"data"][:1]}, protocol=2)]


class Seeds:
    """Valid inputs of every format, built once."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        self.idx = [idx_bytes(a) for a in (
            np.arange(6, dtype=np.uint8), rng.integers(0, 256, (3, 4, 4), dtype=np.uint8).astype(np.uint8),
            np.arange(6, dtype=np.int16).reshape(2, 3), np.zeros((2, 1, 2, 1), np.float32),
            np.arange(3, dtype=np.float64), np.zeros(0, np.int32), np.arange(4, dtype=np.int8))]  # fmt: skip
        self.table = _small_table()
        self.inc_text = _crosssim_text(self.table.dg_increasing[0], self.table)
        self.dec_text = _crosssim_text(self.table.dg_decreasing[0], self.table)
        self.npz = [_npz_bytes(self.table, True), _npz_bytes(self.table, False)]
        self.pickles = _cifar_pickles()


# -------------------------------------------------------------------------------------------- targets
# A target maps (rng, seeds, work dir) -> "accepted" | "rejected"; any other exception is a finding.


def target_idx(rng: random.Random, s: Seeds, work: Path) -> str:
    """parse_idx on bytes and read_idx_stream on a stream must agree, and an accepted array must fit."""
    data = mutate_bytes(rng.choice(s.idx), rng, s.idx)
    try:
        a = parse_idx(data, "fuzz")
    except DataError:
        a = None
    try:
        b = read_idx_stream(io.BytesIO(data), "fuzz")
    except DataError:
        b = None
    if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b, equal_nan=True)):
        raise AssertionError(f"parse_idx and read_idx_stream disagree on {data[:40].hex()}")
    if a is None:
        return "rejected"
    if a.nbytes + 4 + 4 * a.ndim != len(data) or a.flags.writeable:
        raise AssertionError(f"accepted IDX of shape {a.shape} does not fit its {len(data)} bytes")
    return "accepted"


def target_idx_gz(rng: random.Random, s: Seeds, work: Path) -> str:
    """read_idx_bytes on a gzip file: mutate the payload before compressing, or the compressed bytes."""
    seed = rng.choice(s.idx)
    if rng.random() < 0.5:
        data = gzip.compress(mutate_bytes(seed, rng, s.idx), mtime=0)
    else:
        data = mutate_bytes(gzip.compress(seed, mtime=0), rng)
    p = work / "fuzz-idx.gz"
    p.write_bytes(data)
    try:
        read_idx_bytes(p)
    except DataError:
        return "rejected"
    return "accepted"


def target_crosssim(rng: random.Random, s: Seeds, work: Path) -> str:
    """load_crosssim on a mutated increasing file (plain or gzip) and a valid decreasing partner."""
    text = mutate_text(s.inc_text, rng) if rng.random() < 0.7 else s.inc_text
    data = text.encode("utf-8")
    if rng.random() < 0.3:
        data = mutate_bytes(data, rng)
    gz = rng.random() < 0.3
    inc = work / ("dG_increasing0.txt.gz" if gz else "dG_increasing0.txt")
    inc.write_bytes(gzip.compress(data, mtime=0) if gz and rng.random() < 0.8 else data)
    dec = work / "dG_decreasing0.txt"
    dec.write_text(s.dec_text)
    try:
        t = load_crosssim(inc, dec)
    except LookupTableError:
        return "rejected"
    if t.dg_increasing.shape != (1, t.n_cdf, t.n_bins):
        raise AssertionError(f"accepted table has inconsistent shapes {t.dg_increasing.shape}")
    return "accepted"


def _rezip(data: bytes, rng: random.Random) -> bytes:
    """The NPZ with one member's .npy bytes mutated and re-zipped with a correct CRC."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: (zf.read(i), i.compress_type) for i in zf.infolist()}
    victim = rng.choice(sorted(members))
    raw, method = members[victim]
    if rng.random() < 0.5:  # edit the header text: shape, dtype, order
        head_end = raw.index(b"\n") + 1 if b"\n" in raw else len(raw)
        head = raw[:head_end].decode("latin1")
        for old, new in rng.sample([("(", "(65536, 65536, "), ("<f8", "|O"), ("<f8", "<f4"), ("False", "True"),
                                    ("'shape': (", "'shape': (-1, "), ("<f8", "V8"), (")", ", 0)"), ("<f8", ">f8"),
                                    ("(", "(4294967295, ")], rng.randint(1, 2)):  # fmt: skip
            head = head.replace(old, new, 1)
        raw = head.encode("latin1") + raw[head_end:]
    else:
        raw = mutate_bytes(raw, rng)
    members[victim] = (raw, method)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (content, m) in members.items():
            zf.writestr(zipfile.ZipInfo(name), content, compress_type=m)
    return buf.getvalue()


def target_npz(rng: random.Random, s: Seeds, work: Path) -> str:
    """load_npz (via read_npz) on a mutated table NPZ: raw byte edits or re-zipped member edits."""
    seed = rng.choice(s.npz)
    data = _rezip(seed, rng) if rng.random() < 0.5 else mutate_bytes(seed, rng, s.npz)
    p = work / "fuzz.npz"
    p.write_bytes(data)
    try:
        load_npz(p)
    except LookupTableError:
        accepted = False
    else:
        accepted = True
    try:  # the generic reader must be as strict (its error is DataError)
        read_npz(p)
    except DataError:
        pass
    return "accepted" if accepted else "rejected"


class _Reduce:
    """Pickles as ``fn(*args)`` followed by BUILD(state): hand-made numpy reduce tuples, hostile or not."""

    def __init__(self, fn: object, args: tuple, state: object = None) -> None:
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self) -> tuple:
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


def numpy_pickle(rng: random.Random) -> bytes:
    """A CIFAR-like dict whose 'data' is a random numpy reduce: dtype codes, dtype states, shapes, payloads
    and reconstruct arguments drawn from valid and hostile values (object/record dtypes, short or long
    data, negative or huge shapes, wrong types)."""
    from numpy._core.multiarray import _reconstruct, scalar
    from numpy._core.numeric import _frombuffer

    def pick(good: list, bad: list) -> object:  # each part valid 70 % of the time, hostile otherwise
        return rng.choice(good if rng.random() < 0.7 else bad)

    code = pick(["u1", "u1", "i8", "<f8", ">i2", "S3", "U2", "b1", "c16", b"u1"],
                ["O", "V8", "M8[s]", "u1,u1", "(2,)u1", "x", 7, "U999999999999"])
    dstate = pick([(3, "|", None, None, None, -1, -1, 0), (3, ">", None, None, None, -1, -1, 0),
                   (3, b"<", None, None, None, -1, -1, 0)],
                  [(3, "<", (np.dtype("u1"), (2,)), None, None, 8, 1, 0), (3, "?", None, None, None, -1, -1, 0),
                   (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 63), None, "state", (3,),
                   (3, "|", None, None, None, 2**40, 1, 1)])  # fmt: skip
    dtype = _Reduce(np.dtype, (code, False, True), dstate)
    itemsize = np.dtype(code.decode() if isinstance(code, bytes) else code).itemsize if code in (
        "u1", "i8", "<f8", ">i2", "S3", "U2", "b1", "c16", b"u1") else 1  # fmt: skip
    shape = pick([(1, 3072), (2, 3072), (0,), (3,), ()], [(-1,), (2**31,), (1,) * 40, ("a",), [3], (True,), (2, -3)])
    n = math.prod(s for s in shape if isinstance(s, int)) if isinstance(shape, tuple) else 3
    n = n if 0 <= n <= 100_000 else 3  # hostile shapes get small payloads: the generator must stay cheap
    raw = pick([bytes(n * itemsize)], [bytes(n * itemsize + 1), bytes(max(0, n * itemsize - 1)), "x" * n,
                                         list(range(3)), None, 5])  # fmt: skip
    kind = rng.randrange(4)
    if kind == 0:
        state = pick([(1, shape, dtype, False, raw), (shape, dtype, False, raw), (1, shape, dtype, True, raw)],
                     [(1, shape, dtype), "s", (1, shape, dtype, 2, raw, 0)])  # fmt: skip
        sub = pick([np.ndarray], [np.dtype, scalar])
        data = _Reduce(_reconstruct, (sub, pick([(0,)], [(5,), (2**40,), "x"]), b"b"), state)
    elif kind == 1:
        data = _Reduce(scalar, pick([(dtype, bytes(itemsize))], [(dtype,), (dtype, raw)]))
    elif kind == 2:
        data = _Reduce(_frombuffer, (raw, dtype, shape, pick(["C", "F"], ["K", 1])))
    else:
        data = _Reduce(np.ndarray, (shape, rng.choice(["u1", "O"])))
    labels = pick([[1], [0, 2]], [[np.int64(1)], _Reduce(np.ndarray, ((3,), "u1")), None, [-1, 99]])
    return pickle.dumps({b"data": data, b"labels": labels}, protocol=rng.choice([2, 4, 5]))


def target_pickle(rng: random.Random, s: Seeds, work: Path) -> str:
    """safe_unpickle + parse_cifar_batch on a mutated CIFAR-style pickle or a random numpy reduce."""
    r = rng.random()
    if r < 0.3:
        data = numpy_pickle(rng)
    elif r < 0.4:
        data = mutate_bytes(numpy_pickle(rng), rng)
    else:
        data = mutate_bytes(rng.choice(s.pickles), rng, s.pickles)
    try:
        parse_cifar_batch(safe_unpickle(data, "fuzz"), "fuzz", {"labels": 10})
    except DataError:
        return "rejected"
    return "accepted"


TARGETS: dict[str, Callable[[random.Random, Seeds, Path], str]] = {
    "idx": target_idx,
    "idx-gz": target_idx_gz,
    "crosssim-text": target_crosssim,
    "lookup-npz": target_npz,
    "cifar-pickle": target_pickle,
}


def run(name: str, n: int, seed: int, seeds: Seeds, work: Path) -> dict[str, int | float | list[str]]:
    """Fuzz one target with ``n`` inputs; returns counts and the first few foreign exceptions."""
    rng = random.Random(f"{name}:{seed}")
    counts: dict = {"tried": 0, "rejected": 0, "accepted": 0, "other": 0, "examples": []}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on 1e308-like values is not a finding
        for _ in range(n):
            counts["tried"] += 1
            try:
                counts[TARGETS[name](rng, seeds, work)] += 1
            except Exception:  # noqa: BLE001 - every foreign exception is what we count
                counts["other"] += 1
                if len(counts["examples"]) < 3:
                    counts["examples"].append(traceback.format_exc(limit=4))
    counts["seconds"] = time.perf_counter() - t0
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="inputs per target (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated subset of {', '.join(TARGETS)}")
    args = ap.parse_args(argv)
    seeds = Seeds()
    total = {"tried": 0, "rejected": 0, "accepted": 0, "other": 0}
    print(f"{'target':<14} {'tried':>7} {'rejected':>9} {'accepted':>9} {'other':>6} {'seconds':>8}")
    with tempfile.TemporaryDirectory(prefix="spinaptic-fuzz-") as tmp:
        for name in args.targets.split(","):
            c = run(name, args.n, args.seed, seeds, Path(tmp))
            print(f"{name:<14} {c['tried']:>7} {c['rejected']:>9} {c['accepted']:>9} {c['other']:>6} "
                  f"{c['seconds']:>8.1f}", flush=True)
            for ex in c["examples"]:
                print(ex, file=sys.stderr)
            for k in total:
                total[k] += c[k]
    print(f"{'total':<14} {total['tried']:>7} {total['rejected']:>9} {total['accepted']:>9} {total['other']:>6}")
    if total["other"]:
        print(f"FAIL: {total['other']} input(s) raised an exception other than the project's error", file=sys.stderr)
        return 1
    print("ok: every input was accepted or rejected with the project's own error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
