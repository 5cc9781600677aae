"""Lookup-table files: our NPZ (`load_npz` / `save_npz`), the CrossSim text format (`read_crosssim_file`,
`load_crosssim`, `load_crosssim_dir`, `write_crosssim`) and the dispatcher `load_table`."""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from pathlib import Path

import numpy as np

from ...fileio import atomic_write_bytes
from .table import DIRECTIONS, LookupTable, LookupTableError

CROSSSIM_HEADER = "1st Row = Gbins, 2nd Row = CDF Points, 3rd row onward =  dG matrix (rows= CDF, columns = Gbins)"
"""Line 1 of a CrossSim lookup-table text file (free text; we write this one, the readers ignore it)."""


def save_npz(table: LookupTable, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` as a compressed NPZ (arrays g_bins, cdf, dg_increasing, dg_decreasing, name), atomically.

    This is the format of the shared repack of paper 003's tables, so either can be read by `load_npz`.
    """
    path = Path(path)
    buf = io.BytesIO()
    np.savez_compressed(buf, g_bins=table.g_bins, cdf=table.cdf, dg_increasing=table.dg_increasing,
                        dg_decreasing=table.dg_decreasing, name=np.array(table.name))
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_npz(path: str | os.PathLike[str], *, name: str | None = None, monotone_tol: float = 0.5) -> LookupTable:
    """Read a table NPZ (ours or the shared repack of paper 003); refuses corrupt files and bad arrays.

    Read through `spinaptic.data.read_npz`: members are size-capped (512 MiB each, 1 GiB in all; paper 003's
    largest array is 20 MB) and checked before they are inflated, so a zip bomb, an unsupported zip method
    or a corrupt member is one LookupTableError naming the file.
    """
    from ...data.npz import read_npz

    path = Path(path)
    keys = ("g_bins", "cdf", "dg_increasing", "dg_decreasing")
    arrs = read_npz(path, keys, optional=("name",), error=LookupTableError, what="NPZ lookup table")
    stored = arrs.pop("name", None)
    stored_name = str(stored) if stored is not None and stored.ndim == 0 and stored.dtype.kind == "U" else ""
    return LookupTable(**arrs, name=name if name is not None else (stored_name or path.stem), source=str(path),
                       monotone_tol=monotone_tol)


MAX_CROSSSIM_TEXT_BYTES = 64 << 20
"""Largest (decompressed) CrossSim text file read: 64 MiB, 16x paper 003's 501 x 501 files (3.9 MB each)."""


def _open_text(path: Path, max_bytes: int = MAX_CROSSSIM_TEXT_BYTES) -> str:
    """UTF-8 text of ``path`` (gunzipped if it ends in .gz), decompressed as a stream up to ``max_bytes``."""
    try:
        with open(path, "rb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw) as f:
                    data = f.read(max_bytes + 1)
            else:
                data = raw.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise LookupTableError(f"{path}: more than the limit of {max_bytes} bytes for a CrossSim table "
                                   "(corrupt file or decompression bomb)")
        return data.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as e:
        raise LookupTableError(f"{path}: cannot read the file ({type(e).__name__}: {e})") from None


def _parse_row(line: str, path: Path, lineno: int) -> np.ndarray:
    try:
        return np.array(line.rstrip(",").split(","), dtype=np.float64)
    except ValueError as e:
        raise LookupTableError(f"{path}, line {lineno}: not a comma-separated row of numbers ({e})") from None


def read_crosssim_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one CrossSim lookup-table text file (``.txt`` or ``.txt.gz``) -> (g_bins (M,), cdf (K,), dg (K, M)).

    Format: line 1 a free-text header; line 2 the M conductance bin centres [S], comma-separated; line 3 the
    K CDF points; then K rows of M per-pulse conductance changes [S] (row = CDF point, column = bin).
    Blank lines (the original files have one after the CDF line) and Windows line ends are ignored.
    Values are parsed as float64; shapes and row lengths are checked here, the rest by `LookupTable`.
    """
    path = Path(path)
    text = _open_text(path)
    rows = [(n + 1, ln.strip()) for n, ln in enumerate(text.splitlines())]
    if not rows:
        raise LookupTableError(f"{path}: empty file")
    data = [(n, ln) for n, ln in rows[1:] if ln]
    if len(data) < 4:
        raise LookupTableError(f"{path}: expected a header line, a bins line, a CDF line and at least 2 dG rows; "
                               f"found {len(data)} non-empty line(s) after the header")
    g = _parse_row(data[0][1], path, data[0][0])
    cdf = _parse_row(data[1][1], path, data[1][0])
    dg_rows = []
    for n, ln in data[2:]:
        r = _parse_row(ln, path, n)
        if r.shape[0] != g.shape[0]:
            raise LookupTableError(f"{path}, line {n}: dG row has {r.shape[0]} values; expected {g.shape[0]} "
                                   "(one per conductance bin of line 2)")
        dg_rows.append(r)
    if len(dg_rows) != cdf.shape[0]:
        raise LookupTableError(f"{path}: {len(dg_rows)} dG rows but {cdf.shape[0]} CDF points on line 3 "
                               "(one row per CDF point expected)")
    return g, cdf, np.stack(dg_rows)


def load_crosssim(increasing: str | os.PathLike[str], decreasing: str | os.PathLike[str], *, name: str = "",
                  monotone_tol: float = 0.5) -> LookupTable:
    """One-instance table from a CrossSim pair ``dG_increasing*.txt[.gz]`` / ``dG_decreasing*.txt[.gz]``."""
    gi, ci, qi = read_crosssim_file(increasing)
    gd, cd, qd = read_crosssim_file(decreasing)
    _check_pair(gi, ci, gd, cd, Path(increasing), Path(decreasing))
    return LookupTable(gi, ci, qi, qd, name=name or Path(increasing).name.split(".")[0],
                       source=f"{increasing} + {Path(decreasing).name}", monotone_tol=monotone_tol)


def _check_pair(gi: np.ndarray, ci: np.ndarray, gd: np.ndarray, cd: np.ndarray, pi: Path, pd: Path) -> None:
    if gi.shape != gd.shape or not np.allclose(gi, gd, rtol=1e-6, atol=0):
        raise LookupTableError(f"{pi} and {pd}: the increasing and decreasing files must have the same conductance bins")
    if ci.shape != cd.shape or not np.allclose(ci, cd, rtol=0, atol=1e-9):
        raise LookupTableError(f"{pi} and {pd}: the increasing and decreasing files must have the same CDF points")


_CROSSSIM_NAME = re.compile(r"dG_(increasing|decreasing)(\d*)\.txt(\.gz)?$", re.IGNORECASE)


def load_crosssim_dir(folder: str | os.PathLike[str], *, name: str = "", monotone_tol: float = 0.5) -> LookupTable:
    """All instances of a CrossSim folder (e.g. ``lookup_tables/DWMTJ_SOT/300K/``) as one table.

    Picks up ``[prefix]dG_increasing<i>.txt[.gz]`` / ``[prefix]dG_decreasing<i>.txt[.gz]`` (no index = 0);
    every instance needs both directions and the same number of bins and CDF points.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LookupTableError(f"{folder}: not a directory")
    found: dict[int, dict[str, Path]] = {}
    for p in sorted(folder.iterdir()):
        mt = _CROSSSIM_NAME.search(p.name)
        if mt and p.is_file():
            idx = int(mt.group(2)) if mt.group(2) else 0
            direction = mt.group(1).lower()
            if direction in found.setdefault(idx, {}):
                raise LookupTableError(f"{folder}: two files for dG_{direction}{idx}: {found[idx][direction].name}, {p.name}")
            found[idx][direction] = p
    if not found:
        raise LookupTableError(f"{folder}: no CrossSim lookup-table files (dG_increasing<i>.txt / dG_decreasing<i>.txt)")
    g_all, q_inc, q_dec, cdf0 = [], [], [], None
    for idx in sorted(found):
        pair = found[idx]
        for direction in DIRECTIONS:
            if direction not in pair:
                raise LookupTableError(f"{folder}: instance {idx} has no dG_{direction}{idx}.txt file")
        gi, ci, qi = read_crosssim_file(pair["increasing"])
        gd, cd, qd = read_crosssim_file(pair["decreasing"])
        _check_pair(gi, ci, gd, cd, pair["increasing"], pair["decreasing"])
        if cdf0 is not None and (ci.shape != cdf0.shape or not np.allclose(ci, cdf0, atol=1e-9)):
            raise LookupTableError(f"{pair['increasing']}: CDF points differ from those of the other instances")
        if g_all and gi.shape != g_all[0].shape:
            raise LookupTableError(f"{pair['increasing']}: {gi.shape[0]} conductance bins; other instances have "
                                   f"{g_all[0].shape[0]}")
        cdf0 = ci
        g_all.append(gi)
        q_inc.append(qi)
        q_dec.append(qd)
    return LookupTable(np.stack(g_all), cdf0, np.stack(q_inc), np.stack(q_dec), name=name or folder.name,
                       source=str(folder), monotone_tol=monotone_tol)


def write_crosssim(table: LookupTable, folder: str | os.PathLike[str], *, prefix: str = "",
                   compress: bool = False) -> list[Path]:
    """Write every instance as CrossSim text files ``<prefix>dG_{increasing,decreasing}<i>.txt[.gz]``, atomically."""
    folder = Path(folder)
    out = []
    cdf_line = ",".join(f"{v:.6g}" for v in table.cdf.astype(np.float64))
    for d in range(table.n_instances):
        for direction in DIRECTIONS:
            q = table.dg(direction)[d].astype(np.float64)
            lines = [CROSSSIM_HEADER, ",".join(f"{v:.8e}" for v in table.g_bins[d].astype(np.float64)), cdf_line]
            lines += [",".join(f"{v:.8e}" for v in row) for row in q]
            data = ("\n".join(lines) + "\n").encode("utf-8")
            p = folder / f"{prefix}dG_{direction}{d}.txt{'.gz' if compress else ''}"
            atomic_write_bytes(p, gzip.compress(data, mtime=0) if compress else data)
            out.append(p)
    return out


def load_table(path: str | os.PathLike[str], *, name: str | None = None, monotone_tol: float = 0.5) -> LookupTable:
    """Read a table from an NPZ file, a CrossSim folder, or one CrossSim file of a pair (its partner is found
    by swapping "increasing"/"decreasing" in the name)."""
    p = Path(path)
    if p.is_dir():
        return load_crosssim_dir(p, name=name or "", monotone_tol=monotone_tol)
    if not p.exists():
        raise LookupTableError(f"{p}: no such file or directory")
    if p.suffix == ".npz":
        return load_npz(p, name=name, monotone_tol=monotone_tol)
    mt = _CROSSSIM_NAME.search(p.name)
    if mt:
        direction = mt.group(1).lower()
        other = "decreasing" if direction == "increasing" else "increasing"
        stem = p.name[: mt.start(1)] + other + mt.group(2)
        cands = [p.with_name(stem + ext) for ext in (".txt", ".txt.gz")]
        partner = next((c for c in cands if c.exists()), None)
        if partner is None:
            raise LookupTableError(f"{p}: the matching {other} file {stem}.txt[.gz] is missing")
        inc, dec = (p, partner) if direction == "increasing" else (partner, p)
        return load_crosssim(inc, dec, name=name or "", monotone_tol=monotone_tol)
    raise LookupTableError(f"{p}: unknown table format (expected .npz, a CrossSim dG_increasing<i>.txt[.gz] file "
                           "or a folder of them)")
