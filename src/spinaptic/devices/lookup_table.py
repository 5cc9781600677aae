"""Probabilistic lookup-table synapse: Delta-G drawn from a measured/simulated distribution at each G.

A lookup table (paper 003, Liu et al. APL 118, 202405 (2021), Fig. 3a; the CrossSim "DG_LOOKUP" update
model) stores, for each conductance bin ``g_bins[d, j]`` and each cumulative probability ``cdf[k]``, the
per-pulse conductance change ``dg[d, k, j]``: the inverse CDF (quantile function) of Delta-G for a device in
that bin, separately for potentiating ("increasing") and depressing ("decreasing") pulses. ``d`` indexes
device instances: each device of an array picks one instance at `init_state` (device-to-device variation,
paper 003: 20 tables with perturbed R_P and TMR).

This module holds

* `LookupTable`: the validated data class (D instances, M bins, K CDF points);
* readers/writers: our NPZ (`load_npz`/`save_npz`), the CrossSim text format (`read_crosssim_file`,
  `load_crosssim`, `load_crosssim_dir`, `write_crosssim`) and a dispatcher `load_table`;
* `TableSampler` / `LookupTableDevice` ("lookup-table"): vectorised sampling for any number of devices;
* statistics: mean and spread of Delta-G against G, the Table I figures of paper 003 (NeuroSim
  nonlinearity label, cycle-to-cycle variation) and `table_i_figures`;
* builders: `table_from_ramps` (how physics-generated tables are made from conductance ramps),
  `perturb_table` (device-to-device instances from R_P / TMR variation);
* `plot_heatmap` (paper 003 Fig. 3a).

Sampling: nearest conductance bin (as CrossSim), a uniform draw u ~ U(0, 1) and linear interpolation of
the inverse CDF between the two neighbouring CDF points, so a drawn Delta-G follows the piecewise-linear
quantile function exactly; after every pulse G is clamped to the instance's [g_bins[d, 0], g_bins[d, -1]].
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import math
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numba import njit

from ..config import ConfigError, check_choice, check_nonnegative, check_range
from ..fileio import atomic_write_bytes
from .base import Device, DeviceState, Pulses, register_device

CROSSSIM_HEADER = "1st Row = Gbins, 2nd Row = CDF Points, 3rd row onward =  dG matrix (rows= CDF, columns = Gbins)"
"""Line 1 of a CrossSim lookup-table text file (free text; we write this one, the readers ignore it)."""

DIRECTIONS = ("increasing", "decreasing")

NEUROSIM_NL_PER_DEVIATION = 10.1015
"""NeuroSim's nonlinearity label per unit of the largest deviation of the normalised pulse response from a
straight line (see `nonlinearity_label`)."""


class LookupTableError(ConfigError):
    """A lookup table (file or arrays) is malformed; the message names the source, the array and the problem."""


# ------------------------------------------------------------------------------------------ data class
@dataclass(frozen=True, eq=False)
class LookupTable:
    """Probabilistic Delta-G tables of D device instances on M conductance bins and K CDF points.

    Attributes:
        g_bins: (D, M) conductance bin centres [S], strictly increasing along M.
        cdf: (K,) cumulative probabilities, strictly increasing from 0 to 1.
        dg_increasing: (D, K, M) per-pulse conductance change [S] of a potentiating pulse at probability
            ``cdf[k]`` for a device in bin ``g_bins[d, j]`` (an inverse CDF along K).
        dg_decreasing: (D, K, M) the same for a depressing pulse.
        name: label used in plots and summaries.
        source: where the table came from (file name), used in error messages.
        monotone_tol: largest tolerated decrease of a dg column along the CDF axis, as a fraction of the
            column's spread. The genuine MuMax3 tables of paper 003 have such small inversions in their
            edge bins (up to 0.32 of a column's spread); they are repaired by sorting (`monotone`), which
            keeps each column's set of equally probable quantiles. Larger inversions are refused.
        check_sign: refuse mean steps of the wrong sign (a mislabelled or swapped pair of files); off for
            tables built from simulated ramps (`table_from_ramps`), where a pinned wall's mean is noise.

    1-D ``g_bins`` (M,) and 2-D dg (K, M) are accepted as one instance. Arrays are kept as given
    (float32 or float64); validation runs at construction.
    """

    g_bins: np.ndarray
    cdf: np.ndarray
    dg_increasing: np.ndarray
    dg_decreasing: np.ndarray
    name: str = ""
    source: str = "<arrays>"
    monotone_tol: float = 0.5
    check_sign: bool = True

    def __post_init__(self) -> None:
        arrs = {}
        for key in ("g_bins", "cdf", "dg_increasing", "dg_decreasing"):
            a = getattr(self, key)
            try:
                a = np.asarray(a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a)
            except Exception as e:  # noqa: BLE001 - anything not array-like
                raise LookupTableError(f"{self.source}: array {key!r} is not numeric ({e})") from None
            if a.dtype.kind not in "fiu":
                raise LookupTableError(f"{self.source}: array {key!r} has dtype {a.dtype}; expected floating point")
            if a.dtype.kind != "f":
                a = a.astype(np.float64)
            arrs[key] = a
        if arrs["g_bins"].ndim == 1:
            arrs["g_bins"] = arrs["g_bins"][None]
        for key in ("dg_increasing", "dg_decreasing"):
            if arrs[key].ndim == 2:
                arrs[key] = arrs[key][None]
        for key, a in arrs.items():
            object.__setattr__(self, key, a)
        validate_table(self.g_bins, self.cdf, self.dg_increasing, self.dg_decreasing, source=self.source,
                       monotone_tol=self.monotone_tol, check_sign=self.check_sign)

    # shape ----------------------------------------------------------------------------------------
    @property
    def n_instances(self) -> int:
        """D, the number of device instances."""
        return int(self.g_bins.shape[0])

    @property
    def n_bins(self) -> int:
        """M, the number of conductance bins."""
        return int(self.g_bins.shape[1])

    @property
    def n_cdf(self) -> int:
        """K, the number of CDF points."""
        return int(self.cdf.shape[0])

    @property
    def g_min(self) -> np.ndarray:
        """(D,) lowest bin centre of each instance [S] (the clamp floor)."""
        return self.g_bins[:, 0].astype(np.float64)

    @property
    def g_max(self) -> np.ndarray:
        """(D,) highest bin centre of each instance [S] (the clamp ceiling)."""
        return self.g_bins[:, -1].astype(np.float64)

    def dg(self, direction: str) -> np.ndarray:
        """The (D, K, M) table of ``direction`` ("increasing" or "decreasing")."""
        check_choice("direction", direction, DIRECTIONS)
        return self.dg_increasing if direction == "increasing" else self.dg_decreasing

    # derived tables -------------------------------------------------------------------------------
    def instance(self, d: int | Sequence[int]) -> LookupTable:
        """A table holding only instance(s) ``d``."""
        idx = np.atleast_1d(np.asarray(d, dtype=np.int64))
        if idx.size == 0 or idx.min() < -self.n_instances or idx.max() >= self.n_instances:
            raise LookupTableError(f"{self.source}: instance {d!r} out of range [0, {self.n_instances - 1}]")
        return dataclasses.replace(self, g_bins=self.g_bins[idx], dg_increasing=self.dg_increasing[idx],
                                   dg_decreasing=self.dg_decreasing[idx])

    def monotone(self) -> LookupTable:
        """This table with every dg column sorted along the CDF axis (a proper inverse CDF)."""
        return dataclasses.replace(self, dg_increasing=np.sort(self.dg_increasing, axis=1),
                                   dg_decreasing=np.sort(self.dg_decreasing, axis=1), monotone_tol=0.0)

    def astype(self, dtype: Any) -> LookupTable:
        """A copy with all arrays cast to ``dtype`` (e.g. np.float32 for a compact file)."""
        return dataclasses.replace(self, g_bins=self.g_bins.astype(dtype), cdf=self.cdf.astype(dtype),
                                   dg_increasing=self.dg_increasing.astype(dtype),
                                   dg_decreasing=self.dg_decreasing.astype(dtype))

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (shape, range, mean steps) for result files."""
        return {"name": self.name, "source": self.source, "instances": self.n_instances, "bins": self.n_bins,
                "cdf_points": self.n_cdf, "g_min_s": float(self.g_min.mean()), "g_max_s": float(self.g_max.mean()),
                "mean_step_increasing_s": self.mean_step("increasing"),
                "mean_step_decreasing_s": self.mean_step("decreasing")}

    def mean_step(self, direction: str) -> float:
        """Mean per-pulse Delta-G [S] of ``direction`` over all bins and instances (signed)."""
        q = self.dg(direction)
        return float(np.mean([_column_means(q[d], self.cdf).mean() for d in range(self.n_instances)]))


def validate_table(g_bins: np.ndarray, cdf: np.ndarray, dg_increasing: np.ndarray, dg_decreasing: np.ndarray, *,
                   source: str = "<arrays>", monotone_tol: float = 0.5, check_sign: bool = True) -> None:
    """Raise `LookupTableError` unless the arrays form a valid table (see `LookupTable`).

    Checks: dimensions and consistent shapes (g_bins (D, M), cdf (K,), dg (D, K, M), M >= 2, K >= 2), finite
    values, g_bins strictly increasing per instance, cdf strictly increasing from 0 to 1 (within 1e-6),
    dg columns non-decreasing along the CDF axis up to ``monotone_tol`` of the column spread, and mean
    steps of the right sign (increasing >= 0 >= decreasing, within the larger of 0.1 % of the conductance
    range and a quarter of the mean step spread; a swapped pair is refused).
    """
    check_range("monotone_tol", monotone_tol, 0.0, 1.0)
    if g_bins.ndim != 2:
        raise LookupTableError(f"{source}: array 'g_bins' has {g_bins.ndim} dimensions (shape {g_bins.shape}); "
                               "expected (D, M) or (M,)")
    if cdf.ndim != 1:
        raise LookupTableError(f"{source}: array 'cdf' has shape {cdf.shape}; expected a vector (K,)")
    d, m = g_bins.shape
    k = cdf.shape[0]
    if m < 2 or k < 2 or d < 1:
        raise LookupTableError(f"{source}: need at least 2 conductance bins, 2 CDF points and 1 instance; "
                               f"got g_bins {g_bins.shape}, cdf {cdf.shape}")
    for key, a in (("dg_increasing", dg_increasing), ("dg_decreasing", dg_decreasing)):
        if a.shape != (d, k, m):
            raise LookupTableError(f"{source}: array {key!r} has shape {a.shape}; expected (D, K, M) = {(d, k, m)} "
                                   f"to match g_bins {g_bins.shape} and cdf {cdf.shape}")
    for key, a in (("g_bins", g_bins), ("cdf", cdf), ("dg_increasing", dg_increasing), ("dg_decreasing", dg_decreasing)):
        bad = ~np.isfinite(a)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise LookupTableError(f"{source}: array {key!r} contains {int(bad.sum())} NaN/inf value(s) "
                                   f"(first at index {first})")
    steps = np.diff(g_bins.astype(np.float64), axis=1)
    if (steps <= 0).any():
        inst, j = (int(i) for i in np.argwhere(steps <= 0)[0])
        raise LookupTableError(f"{source}: array 'g_bins' is not strictly increasing (instance {inst}, bins {j} and "
                               f"{j + 1}: {g_bins[inst, j]:.6g} S then {g_bins[inst, j + 1]:.6g} S)")
    c = cdf.astype(np.float64)
    if abs(c[0]) > 1e-6 or abs(c[-1] - 1.0) > 1e-6:
        raise LookupTableError(f"{source}: array 'cdf' must run from 0 to 1; got {c[0]:.6g} ... {c[-1]:.6g}")
    if (np.diff(c) <= 0).any():
        j = int(np.argwhere(np.diff(c) <= 0)[0, 0])
        raise LookupTableError(f"{source}: array 'cdf' is not monotonic (strictly increasing): cdf[{j}] = {c[j]:.6g}, "
                               f"cdf[{j + 1}] = {c[j + 1]:.6g}")
    for key, a in (("dg_increasing", dg_increasing), ("dg_decreasing", dg_decreasing)):
        for inst in range(d):
            q = a[inst].astype(np.float64)
            spread = q.max(axis=0) - q.min(axis=0)
            drop = (np.maximum.accumulate(q, axis=0) - q).max(axis=0)
            rel = np.where(spread > 0, drop / np.where(spread > 0, spread, 1.0), 0.0)
            if rel.max() > monotone_tol:
                j = int(rel.argmax())
                raise LookupTableError(
                    f"{source}: array {key!r} is not an inverse CDF: instance {inst}, bin {j} decreases along the CDF "
                    f"axis by {rel[j]:.2f} of its spread (tolerance {monotone_tol}); each column must be "
                    "non-decreasing in cumulative probability")
    if not check_sign:
        return
    # mean steps: a wrong sign beyond 0.1 % of the conductance range and beyond a quarter of the step spread
    # means a mislabelled table (a device that barely moves has a mean of either sign within its noise)
    mi, si = _column_moments(dg_increasing[0], c)
    md, sd = _column_moments(dg_decreasing[0], c)
    mean_inc, mean_dec = float(mi.mean()), float(md.mean())
    span = float((g_bins[:, -1].astype(np.float64) - g_bins[:, 0]).mean())
    tol = max(1e-3 * span, 0.25 * float(max(si.mean(), sd.mean())))
    if mean_inc < -tol and mean_dec > tol:
        raise LookupTableError(f"{source}: the increasing table has a negative mean step ({mean_inc:.4g} S) and the "
                               f"decreasing one a positive mean step ({mean_dec:.4g} S): the files look swapped")
    if mean_inc < -tol:
        raise LookupTableError(f"{source}: array 'dg_increasing' has a negative mean step ({mean_inc:.4g} S)")
    if mean_dec > tol:
        raise LookupTableError(f"{source}: array 'dg_decreasing' has a positive mean step ({mean_dec:.4g} S)")


# ------------------------------------------------------------------------------------------ file I/O
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
    from ..data.npz import read_npz

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


# ------------------------------------------------------------------------------------------ sampling
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STEP = np.uint64(0xD1B54A32D192ED03)


@njit(cache=True)
def _uniform(key, i, p):  # pragma: no cover - compiled
    """U(0, 1) for device ``i``, pulse ``p`` of a call with ``key``: splitmix64 of a Weyl sequence
    (counter-based, so a device's draws depend only on the key and its flat index)."""
    z = key + np.uint64(i) * _GOLDEN + np.uint64(p + 1) * _STEP
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _step_kernel(g, inst, n, flat, g_lo, g_hi, inv_h, mids, cdf, n_inst, uniform_g, uniform_cdf, key):  # pragma: no cover
    """In place: g[i] after n[i] (signed) pulses, sampling the flat bin-major (2, D, M, K) table.

    Pulse-major loops (pulse p for every device still pulsing, then p + 1) keep the table reads of different
    devices independent, so their cache misses overlap; see `TableSampler.step`.
    """
    n_cdf = cdf.shape[0]
    n_bins = mids.shape[1] + 1
    kf = n_cdf - 1
    active = np.flatnonzero(n)
    if active.size == 0:
        return
    counts = np.abs(n[active])
    rows = np.empty(active.size, dtype=np.int64)
    for a in range(active.size):
        i = active[a]
        rows[a] = ((1 if n[i] < 0 else 0) * n_inst + inst[i]) * n_bins
    for p in range(counts.max()):
        for a in range(active.size):
            if counts[a] <= p:
                continue
            i = active[a]
            d = inst[i]
            lo = g_lo[d]
            x = g[i]
            if uniform_g:
                j = int(math.floor((x - lo) * inv_h[d] + 0.5))
            else:
                j = np.searchsorted(mids[d], x)
            if j < 0:
                j = 0
            elif j > n_bins - 1:
                j = n_bins - 1
            u = _uniform(key, i, p)
            if uniform_cdf:
                t = u * kf
                k0 = int(t)
                if k0 > n_cdf - 2:
                    k0 = n_cdf - 2
                f = t - k0
            else:
                k0 = np.searchsorted(cdf, u, side="right") - 1
                if k0 < 0:
                    k0 = 0
                elif k0 > n_cdf - 2:
                    k0 = n_cdf - 2
                f = (u - cdf[k0]) / (cdf[k0 + 1] - cdf[k0])
            b = (rows[a] + j) * n_cdf + k0
            q0 = flat[b]
            x = x + q0 + f * (flat[b + 1] - q0)
            hi = g_hi[d]
            if x < lo:
                x = lo
            elif x > hi:
                x = hi
            g[i] = x


class TableSampler:
    """A table moved to a torch device, flattened (direction, instance, bin, CDF point) for gather-based
    sampling of any number of devices.

    Columns are sorted along the CDF axis (`LookupTable.monotone`), so the interpolated inverse CDF is
    monotone. Bin lookup is arithmetic when every instance has a uniform grid (the usual case; relative
    tolerance 1e-3 of the bin width, as CrossSim), else a searchsorted on the instance's row.
    """

    def __init__(self, table: LookupTable, *, device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        t = table.monotone()
        self.table = table
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self.D, self.K, self.M = t.n_instances, t.n_cdf, t.n_bins
        # bin-major (direction, instance, bin, CDF point): the two CDF neighbours share a cache line
        flat = np.ascontiguousarray(np.stack([t.dg_increasing, t.dg_decreasing]).transpose(0, 1, 3, 2)).reshape(-1)
        self.flat = torch.as_tensor(flat, dtype=dtype, device=self.device)
        g = t.g_bins.astype(np.float64)
        self.g_lo = torch.as_tensor(g[:, 0], dtype=dtype, device=self.device)
        self.g_hi = torch.as_tensor(g[:, -1], dtype=dtype, device=self.device)
        steps = np.diff(g, axis=1)
        h = steps.mean(axis=1)
        self.uniform_g = bool((np.abs(steps - h[:, None]) <= 1e-3 * h[:, None]).all())
        self.inv_h = torch.as_tensor(1.0 / h, dtype=dtype, device=self.device)
        # non-uniform grids: one globally increasing key per (instance, bin) for a single searchsorted
        span = float(g.max() - g.min()) or 1.0
        self._g0 = float(g.min())
        self._span = span
        keys = (g - self._g0) / span + 4.0 * np.arange(self.D)[:, None]
        mids = 0.5 * (keys[:, 1:] + keys[:, :-1])  # bin edges between centres
        self.mid_keys = torch.as_tensor(mids.reshape(-1), dtype=torch.float64, device=self.device)
        c = t.cdf.astype(np.float64)
        self.uniform_cdf = bool(np.abs(np.diff(c) - 1.0 / (self.K - 1)).max() <= 1e-4 / (self.K - 1))
        self.cdf = torch.as_tensor(c, dtype=dtype, device=self.device)
        # numpy views for the compiled CPU kernel
        npdt = np.float32 if dtype == torch.float32 else np.float64
        self._np = None
        if self.device.type == "cpu":
            self._np = dict(flat=self.flat.numpy(), g_lo=self.g_lo.numpy(), g_hi=self.g_hi.numpy(),
                            inv_h=self.inv_h.numpy(), mids=np.ascontiguousarray(0.5 * (g[:, 1:] + g[:, :-1]), dtype=npdt),
                            cdf=np.ascontiguousarray(c, dtype=npdt))

    def bin_index(self, g: torch.Tensor, instance: torch.Tensor) -> torch.Tensor:
        """Nearest bin j (int64) of conductance ``g`` [S] in ``instance``'s grid (clamped to [0, M-1])."""
        inst = instance.reshape(-1)
        if self.uniform_g:
            t = (g.reshape(-1) - self.g_lo.index_select(0, inst)) * self.inv_h.index_select(0, inst)
            return t.round_().clamp_(0, self.M - 1).to(torch.int64).reshape(g.shape)
        return self._bin_index_sorted(g.reshape(-1), inst).reshape(g.shape)

    def _bin_index_sorted(self, g: torch.Tensor, inst: torch.Tensor) -> torch.Tensor:
        key = (g.to(torch.float64) - self._g0) / self._span + 4.0 * inst.to(torch.float64)
        pos = torch.searchsorted(self.mid_keys, key)
        return (pos - inst * (self.M - 1)).clamp_(0, self.M - 1)

    def _per_device(self, inst: torch.Tensor, decreasing: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per-device constants of repeated draws (1-D inputs): clamp floor/ceiling, 1/bin width, and the
        row (in bins) of the device's (direction, instance) slab of the flat table."""
        row = (decreasing.to(torch.int64) * self.D + inst) * self.M
        return (self.g_lo.index_select(0, inst), self.g_hi.index_select(0, inst), self.inv_h.index_select(0, inst), row)

    def _draw(self, g: torch.Tensor, inst: torch.Tensor, lo: torch.Tensor, inv_h: torch.Tensor, row: torch.Tensor,
              u: torch.Tensor) -> torch.Tensor:
        """Delta-G for 1-D ``g`` given the per-device constants and uniform draws ``u``."""
        if self.uniform_g:
            j = ((g - lo) * inv_h).round_().clamp_(0, self.M - 1).to(torch.int64)
        else:
            j = self._bin_index_sorted(g, inst)
        if self.uniform_cdf:
            t = u * (self.K - 1)
            k0 = t.floor().clamp_(max=self.K - 2)
            frac = t.sub_(k0)
            k0 = k0.to(torch.int64)
        else:
            k0 = (torch.searchsorted(self.cdf, u.contiguous(), right=True) - 1).clamp_(0, self.K - 2)
            c0 = self.cdf.index_select(0, k0)
            frac = (u - c0) / (self.cdf.index_select(0, k0 + 1) - c0)
        base = j.add_(row).mul_(self.K).add_(k0)
        q0 = self.flat.index_select(0, base)
        q1 = self.flat.index_select(0, base.add_(1))
        return torch.lerp(q0, q1, frac.to(q0.dtype))

    def sample(self, g: torch.Tensor, instance: torch.Tensor, decreasing: torch.Tensor | bool,
               generator: torch.Generator | None = None, u: torch.Tensor | None = None) -> torch.Tensor:
        """One Delta-G [S] per element (no clamping): nearest bin, uniform draw ``u`` (drawn here unless
        given), linear interpolation between the two neighbouring CDF points. ``decreasing`` (bool, scalar or
        per element) selects the depressing table."""
        shape = g.shape
        gf = g.reshape(-1).to(self.dtype)
        inst = instance.expand(shape).reshape(-1)
        dec = torch.as_tensor(decreasing, device=g.device).expand(shape).reshape(-1)
        lo, _, inv_h, row = self._per_device(inst, dec)
        if u is None:
            u = torch.rand(gf.shape, generator=generator, dtype=self.dtype, device=g.device)
        return self._draw(gf, inst, lo, inv_h, row, u.reshape(-1).to(self.dtype)).reshape(shape)

    def step(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor,
             generator: torch.Generator | None = None, backend: str = "auto") -> torch.Tensor:
        """Conductance after ``n_pulses`` (signed int: + potentiate, - depress) consecutive pulses per device.

        Each pulse samples Delta-G at the current G and clamps to the instance's [g_min, g_max]; devices with
        a zero count are untouched. Returns a new tensor of ``g``'s shape and the sampler's dtype.

        Backends: "numba" (CPU tensors; a compiled loop over devices whose uniforms come from a counter-based
        splitmix64 stream keyed by one draw from ``generator``), "torch" (any device: only devices with a
        non-zero count are gathered, sorted by |count| once, so pulse p acts on a prefix of that order),
        "auto" = numba on CPU, torch elsewhere. The two backends draw different (equally distributed) samples.
        """
        check_choice("backend", backend, ("auto", "numba", "torch"))
        if backend == "numba" or (backend == "auto" and self._np is not None and g.device.type == "cpu"):
            if self._np is None or g.device.type != "cpu":
                raise ConfigError("backend 'numba' needs CPU tensors and a CPU sampler")
            return self._step_numba(g, instance, n_pulses, generator)
        return self._step_torch(g, instance, n_pulses, generator)

    def _step_numba(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor,
                    generator: torch.Generator | None) -> torch.Tensor:
        shape = g.shape
        out = g.detach().to(self.dtype).reshape(-1).clone()
        n = torch.as_tensor(n_pulses).to(torch.int64).expand(shape).reshape(-1).contiguous()
        inst = instance.to(torch.int64).expand(shape).reshape(-1).contiguous()
        key = np.uint64(int(torch.randint(0, 2**62, (1,), generator=generator)))
        a = self._np
        _step_kernel(out.numpy(), inst.numpy(), n.numpy(), a["flat"], a["g_lo"], a["g_hi"], a["inv_h"], a["mids"],
                     a["cdf"], self.D, self.uniform_g, self.uniform_cdf, key)
        return out.reshape(shape)

    def _step_torch(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor,
                    generator: torch.Generator | None) -> torch.Tensor:
        shape = g.shape
        gf = g.reshape(-1)
        nf = torch.as_tensor(n_pulses, device=g.device).to(torch.int64).expand(shape).reshape(-1)
        inst = instance.expand(shape).reshape(-1)
        active = nf.nonzero().squeeze(1)
        out = gf.to(self.dtype).clone()
        if active.numel() == 0:
            return out.reshape(shape)
        n_act = nf.index_select(0, active)
        counts = n_act.abs()
        n_max = int(counts.max())
        if n_max > 1:
            order = torch.argsort(counts, descending=True, stable=True)
            active, n_act, counts = active[order], n_act[order], counts[order]
            # devices still pulsing at pulse p: #(counts > p), a prefix of the descending order
            n_left = (counts.numel() - torch.bincount(counts, minlength=n_max + 1).cumsum(0)[:n_max]).tolist()
        else:
            n_left = [active.numel()]
        gs = gf.index_select(0, active).to(self.dtype)
        ins = inst.index_select(0, active)
        lo, hi, inv_h, row = self._per_device(ins, n_act < 0)
        for p in range(n_max):
            c = n_left[p]
            u = torch.rand(c, generator=generator, dtype=self.dtype, device=g.device)
            sub = gs[:c]
            new = self._draw(sub, ins[:c], lo[:c], inv_h[:c], row[:c], u).add_(sub)
            gs[:c] = torch.minimum(torch.maximum(new, lo[:c]), hi[:c])
        out.index_copy_(0, active, gs.to(out.dtype))
        return out.reshape(shape)


# ------------------------------------------------------------------------------------------ the device
@dataclass(frozen=True)
class LookupTableConfig:
    """Attributes:
    path: table file (our NPZ, a CrossSim ``dG_increasing<i>.txt[.gz]``) or a CrossSim folder; "" when the
        table is passed to the constructor (``LookupTableDevice(table=...)``).
    init: initial conductance of a fresh device: "min" (instance's G_min), "mid", "max" or "uniform"
        (uniform in the instance's range).
    dtype: "float32" (fast, what networks use) or "float64" conductance state and sampling.
    energy_per_pulse_j: programming energy per pulse [J] (>= 0; 0 = not modelled here).

    Variation knobs: none in the config; device-to-device variation is the table's instances (each device
    draws one), cycle-to-cycle variation is the table's per-bin Delta-G distribution (see `cycle_to_cycle`).
    Extra Gaussian write noise: `devices.write_noise.with_write_noise`.
    """

    path: str = ""
    init: str = "min"
    dtype: str = "float32"
    energy_per_pulse_j: float = 0.0

    def __post_init__(self) -> None:
        check_choice("init", self.init, ("min", "mid", "max", "uniform"))
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_nonnegative("energy_per_pulse_j", self.energy_per_pulse_j, unit="J")


@register_device("lookup-table")
class LookupTableDevice(Device):
    """Synapse whose per-pulse Delta-G is drawn from a probabilistic lookup table (paper 003, CrossSim).

    State: ``DeviceState(g=conductance [S], instance=int64 table instance)``; each device draws its
    instance uniformly at `init_state` (device-to-device variation). `apply` takes the pulse polarity from
    sign(amplitude) and the number of pulses from ``count``; `step` does the same from a signed pulse-count
    tensor without building `Pulses` (the fast path for training).
    """

    config: LookupTableConfig
    is_synapse = True

    def __init__(self, config: LookupTableConfig | None = None, *, table: LookupTable | None = None,
                 **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if table is None:
            if not self.config.path:
                raise ConfigError("LookupTableDevice needs a table: pass table=LookupTable(...) or path=<file or folder>")
            table = load_table(self.config.path)
        if not isinstance(table, LookupTable):
            raise ConfigError(f"LookupTableDevice: table must be a LookupTable, got {type(table).__name__}")
        self.table = table
        self._samplers: dict[tuple[str, torch.dtype], TableSampler] = {}
        self._mean_steps: dict[str, float] = {}

    @classmethod
    def config_class(cls) -> type:
        return LookupTableConfig

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **config: Any) -> LookupTableDevice:
        """Device from a table file or CrossSim folder."""
        return cls(LookupTableConfig(path=str(path), **config))

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32 if self.config.dtype == "float32" else torch.float64

    def sampler(self, device: torch.device | str | None = None) -> TableSampler:
        """The (cached) `TableSampler` of this table on ``device``."""
        dev = torch.device(device) if device is not None else torch.device("cpu")
        key = (str(dev), self.dtype)
        if key not in self._samplers:
            self._samplers[key] = TableSampler(self.table, device=dev, dtype=self.dtype)
        return self._samplers[key]

    def init_state(self, shape, *, generator=None, device=None) -> DeviceState:
        s = self.sampler(device)
        dev = s.device
        if self.table.n_instances == 1:
            inst = torch.zeros(shape, dtype=torch.int64, device=dev)
        else:
            inst = torch.randint(self.table.n_instances, tuple(shape), generator=generator, device=dev)
        lo, hi = s.g_lo[inst], s.g_hi[inst]
        mode = self.config.init
        if mode == "min":
            g = lo.clone()
        elif mode == "max":
            g = hi.clone()
        elif mode == "mid":
            g = 0.5 * (lo + hi)
        else:
            g = lo + (hi - lo) * torch.rand(tuple(shape), generator=generator, dtype=self.dtype, device=dev)
        return DeviceState(g=g, instance=inst)

    def conductance(self, state: DeviceState) -> torch.Tensor:
        return state["g"]

    def sample_dg(self, g: torch.Tensor, instance: torch.Tensor, n_pulses: torch.Tensor | int,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """Delta-G [S] of ``n_pulses`` (signed) consecutive pulses from conductance ``g`` (with clamping)."""
        new = self.sampler(g.device).step(g.to(self.dtype), instance, torch.as_tensor(n_pulses, device=g.device),
                                          generator)
        return new - g.to(self.dtype)

    def step(self, state: DeviceState, n_pulses: torch.Tensor | int, *,
             generator: torch.Generator | None = None) -> DeviceState:
        """New state after ``n_pulses`` (signed int tensor broadcastable to the array; 0 = untouched)."""
        g = state["g"]
        new = self.sampler(g.device).step(g, state["instance"], torch.as_tensor(n_pulses, device=g.device), generator)
        return DeviceState(g=new, instance=state["instance"])

    def apply(self, state: DeviceState, pulses: Pulses, *, generator=None) -> tuple[DeviceState, torch.Tensor]:
        g = state["g"]
        n = pulses.count_like(g) * pulses.amplitude_like(g).sign().to(torch.int64)
        new = self.step(state, n, generator=generator)
        energy = n.abs().to(g.dtype) * self.config.energy_per_pulse_j
        return new, energy

    def nominal_pulses(self, direction) -> Pulses:
        d = torch.as_tensor(direction)
        return Pulses(amplitude=d.sign().to(torch.float64), count=(d != 0).to(torch.int64))

    def conductance_range(self) -> tuple[float, float]:
        """Nominal (G_min, G_max) [S]: the instance ranges averaged (each device has its own range)."""
        return float(self.table.g_min.mean()), float(self.table.g_max.mean())

    def mean_step(self, direction: int = 1) -> float:
        """Mean |Delta-G| per pulse [S] over bins and instances, for potentiation (+1) or depression (-1)
        (the table's mean over its whole range rather than at mid-range: exact, no Monte-Carlo)."""
        key = "increasing" if direction > 0 else "decreasing"
        if key not in self._mean_steps:
            self._mean_steps[key] = abs(self.table.mean_step(key))
        return self._mean_steps[key]

    def mid_range_state(self, shape, *, generator=None) -> DeviceState:
        """``init_state`` with every device in the middle of its instance's range."""
        st = self.init_state(shape, generator=generator)
        s = self.sampler(st["g"].device)
        st["g"] = 0.5 * (s.g_lo[st["instance"]] + s.g_hi[st["instance"]])
        return st

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as NPZ (atomic); `load_table` / ``path=`` read it back."""
        return save_npz(self.table, path)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "table": self.table.describe()}


# ------------------------------------------------------------------------------------------ statistics
def _column_means(q: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Mean of the piecewise-linear quantile function of each column of q (K, M): trapezoid over the CDF."""
    q = q.astype(np.float64)
    w = np.diff(cdf.astype(np.float64))
    return (0.5 * (q[1:] + q[:-1]) * w[:, None]).sum(axis=0)


def _column_moments(q: np.ndarray, cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and standard deviation of the piecewise-linear quantile function of each column (K, M)."""
    q = np.sort(q.astype(np.float64), axis=0)
    w = np.diff(cdf.astype(np.float64))[:, None]
    a, b = q[:-1], q[1:]
    mean = (0.5 * (a + b) * w).sum(axis=0)
    m2 = ((a * a + a * b + b * b) / 3.0 * w).sum(axis=0)
    return mean, np.sqrt(np.maximum(m2 - mean * mean, 0.0))


def quantiles(table: LookupTable, probabilities: Sequence[float], direction: str = "increasing") -> np.ndarray:
    """Delta-G [S] at the given cumulative probabilities, (P, D, M), from the monotone inverse CDF."""
    q = np.sort(table.dg(direction).astype(np.float64), axis=1)
    c = table.cdf.astype(np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    k = np.clip(np.searchsorted(c, p, side="right") - 1, 0, len(c) - 2)
    f = (p - c[k]) / (c[k + 1] - c[k])
    return q[:, k, :].transpose(1, 0, 2) * (1 - f)[:, None, None] + q[:, k + 1, :].transpose(1, 0, 2) * f[:, None, None]


def table_statistics(table: LookupTable) -> dict[str, np.ndarray]:
    """Mean and standard deviation of the per-pulse Delta-G [S] against G for both directions, each (D, M);
    plus the bins ``g_bins`` (D, M) and the 16th/84th percentiles ("p16_increasing", ...)."""
    out: dict[str, np.ndarray] = {"g_bins": table.g_bins.astype(np.float64)}
    for direction in DIRECTIONS:
        q = table.dg(direction)
        ms = [_column_moments(q[d], table.cdf) for d in range(table.n_instances)]
        out[f"mean_{direction}"] = np.stack([m for m, _ in ms])
        out[f"std_{direction}"] = np.stack([s for _, s in ms])
        pct = quantiles(table, (0.1587, 0.8413), direction)
        out[f"p16_{direction}"], out[f"p84_{direction}"] = pct[0], pct[1]
    return out


def cycle_to_cycle(table: LookupTable, stats: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Cycle-to-cycle variation: THE definition used by every experiment (tables, and ramps through
    `ramp_table_i_figures`).

    sigma(Delta-G | G) / (G_max - G_min): the standard deviation of the per-pulse update at a fixed conductance,
    normalised by the instance's conductance range, averaged over the conductance bins and instances; per
    direction and their mean ("c2c"), as fractions (0.0077 = 0.77 %). Relation to paper 003: its Table I says
    only that the parameters "are extracted as described in Ref. 12" (Sun & Yu 2019, NeuroSim), where the
    cycle-to-cycle variation is the sigma of the Gaussian noise on each update in units of the weight range; its
    Fig. 3b shades "two standard deviations at each position within a ramp". Conditioning on G (the lookup table's
    column) rather than on the pulse index keeps the state-dependence of the mean step out of the spread.
    Applied to the published MuMax3 tables this gives 0.56 % (STT) and 2.5 % (SOT) against Table I's 0.77 % and
    3.23 %: the paper worked from its raw 930 ramp points, which the smoothed tables do not fully retain."""
    st = stats or table_statistics(table)
    rng = (table.g_max - table.g_min)[:, None]
    inc = float((st["std_increasing"] / rng).mean())
    dec = float((st["std_decreasing"] / rng).mean())
    return {"c2c_increasing": inc, "c2c_decreasing": dec, "c2c": 0.5 * (inc + dec)}


def _response_pos(x: np.ndarray, a: float) -> np.ndarray:
    return np.expm1(-x / a) / np.expm1(-1.0 / a)


def nonlinear_response(x: np.ndarray, a: float) -> np.ndarray:
    """NeuroSim's normalised weight-update curve y(x) = (1 - e^(-x/A)) / (1 - e^(-1/A)) on x in [0, 1].

    A > 0: concave (fast then saturating, the usual potentiation); A < 0: convex, evaluated stably as
    1 - y(1 - x; |A|). x is the pulse number over the total, y the conductance over its range.
    """
    x = np.asarray(x, dtype=np.float64)
    if a == 0 or not math.isfinite(a):
        raise ValueError(f"A must be finite and non-zero, got {a}")
    return _response_pos(x, a) if a > 0 else 1.0 - _response_pos(1.0 - x, -a)


def nonlinearity_label(a: float) -> float:
    """NeuroSim's nonlinearity label of a curve with parameter A (Chen et al., NeuroSim+ IEDM 2017; the
    "+0.07/-0.15" figures of paper 003 Table I via Sun & Yu 2019).

    The label is 10.1015 times the largest deviation of the normalised curve from the straight line,
    with the sign of A: this reproduces NeuroSim's tabulated label-to-A correspondence (0.01 <-> A = 126.27,
    1.5 <-> 0.8252, 9 <-> 0.0228, in units of the pulse range) to its 4 printed digits over the whole
    tabulated range 0.01-9. |label| saturates at 10.1 for a step-like response. 0 for a straight line.
    """
    if not math.isfinite(a) or abs(a) > 1e8:
        return 0.0
    x = np.linspace(0.0, 1.0, 4001)
    dev = np.abs(nonlinear_response(x, a) - x).max()
    return math.copysign(NEUROSIM_NL_PER_DEVIATION * float(dev), a)


def fit_nonlinearity_a(y: np.ndarray, x: np.ndarray | None = None) -> float:
    """Least-squares A of `nonlinear_response` to a normalised curve ``y`` (y[0] = 0, y[-1] = 1) at ``x``
    (default: evenly spaced on [0, 1]); |A| searched on a log grid 1e-3..1e6, then refined by golden section.
    Returns +inf when the straight line (A -> inf) fits best."""
    y = np.asarray(y, dtype=np.float64)
    x = np.linspace(0.0, 1.0, y.shape[0]) if x is None else np.asarray(x, dtype=np.float64)

    def sse(s: float, la: float) -> float:
        return float(((nonlinear_response(x, s * math.exp(la)) - y) ** 2).sum())

    grid = np.linspace(math.log(1e-3), math.log(1e6), 181)
    best = (math.inf, 1.0, grid[0])
    for s in (1.0, -1.0):
        vals = [sse(s, la) for la in grid]
        i = int(np.argmin(vals))
        if vals[i] < best[0]:
            best = (vals[i], s, grid[i])
    _, s, la = best
    lo, hi = la - (grid[1] - grid[0]), la + (grid[1] - grid[0])
    gr = (math.sqrt(5) - 1) / 2
    c, d = hi - gr * (hi - lo), lo + gr * (hi - lo)
    fc, fd = sse(s, c), sse(s, d)
    for _ in range(60):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - gr * (hi - lo)
            fc = sse(s, c)
        else:
            lo, c, fc = c, d, fd
            d = lo + gr * (hi - lo)
            fd = sse(s, d)
    la = 0.5 * (lo + hi)
    if la >= grid[-1] - 1e-9 and sse(s, la) >= float(((x - y) ** 2).sum()) - 1e-15:
        return math.inf
    return s * math.exp(la)


def mean_pulse_response(table: LookupTable, direction: str, n_pulses: int, *, instance: int = 0,
                        n_traj: int = 4000, generator: torch.Generator | None = None,
                        g_start: float | None = None) -> np.ndarray:
    """Mean conductance [S] after 0..n_pulses identical pulses, over ``n_traj`` Monte-Carlo devices sampled
    from the table (with clamping), starting at G_min (potentiation) or G_max (depression) of ``instance``."""
    check_choice("direction", direction, DIRECTIONS)
    t = table.instance(instance)
    s = TableSampler(t, dtype=torch.float64)
    start = g_start if g_start is not None else float(t.g_min[0] if direction == "increasing" else t.g_max[0])
    g = torch.full((n_traj,), start, dtype=torch.float64)
    inst = torch.zeros(n_traj, dtype=torch.int64)
    dec = torch.full((n_traj,), direction == "decreasing")
    out = [float(g.mean())]
    for _ in range(n_pulses):
        g = torch.minimum(torch.maximum(g + s.sample(g, inst, dec, generator), s.g_lo[inst]), s.g_hi[inst])
        out.append(float(g.mean()))
    return np.array(out)


def nonlinearity(table: LookupTable, *, instance: int = 0, n_pulses: int | None = None, n_traj: int = 4000,
                 generator: torch.Generator | None = None, stats: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Paper 003 Table I nonlinearity (+/-) of one table instance, the way NeuroSim fits device data (Table I:
    "The nonlinearity parameter is defined as in Ref. 12"); the one definition every experiment uses.

    The mean potentiation curve (``n_traj`` Monte-Carlo devices from G_min, ``n_pulses`` pulses, clamped at
    G_max) and the mean depression curve (from G_max) are normalised to their own end points and fitted
    with `nonlinear_response` (depression in the potentiation frame: x counted from the G_min end), and the
    fitted A's are turned into labels with `nonlinearity_label`. ``n_pulses`` defaults to the number of mean
    steps that spans the range, round((G_max - G_min) / |mean step|), per direction: the pulse count of a
    full ramp. Returns nl_plus, nl_minus, a_plus, a_minus, the pulse counts and the two mean curves.
    """
    st = stats or table_statistics(table)
    rng = float(table.g_max[instance] - table.g_min[instance])
    res: dict[str, Any] = {}
    for direction, sign in (("increasing", "plus"), ("decreasing", "minus")):
        step = abs(float(st[f"mean_{direction}"][instance].mean()))
        if n_pulses:
            p = int(n_pulses)
        else:
            p = max(2, int(round(rng / step))) if step > 0 else 2
        curve = mean_pulse_response(table, direction, p, instance=instance, n_traj=n_traj, generator=generator)
        if direction == "increasing":
            y = (curve - curve[0]) / (curve[-1] - curve[0])
        else:
            y = ((curve - curve[-1]) / (curve[0] - curve[-1]))[::-1]
        a = fit_nonlinearity_a(y)
        res[f"a_{sign}"] = a
        res[f"nl_{sign}"] = nonlinearity_label(a)
        res[f"n_pulses_{sign}"] = p
        res[f"curve_{direction}"] = curve
    return res


def table_i_figures(table: LookupTable, *, n_traj: int = 4000, generator: torch.Generator | None = None,
                    instances: Sequence[int] | None = None) -> dict[str, Any]:
    """Paper 003 Table I figures of a table: nonlinearity +/- (NeuroSim label; mean over ``instances``,
    default instance 0 only) and cycle-to-cycle variation [%] (all instances), plus mean step and spread."""
    st = table_statistics(table)
    inst = list(instances) if instances is not None else [0]
    nls = [nonlinearity(table, instance=i, n_traj=n_traj, generator=generator, stats=st) for i in inst]
    c2c = cycle_to_cycle(table, st)
    return {
        "nl_plus": float(np.mean([r["nl_plus"] for r in nls])),
        "nl_minus": float(np.mean([r["nl_minus"] for r in nls])),
        "c2c_percent": 100.0 * c2c["c2c"],
        "c2c_increasing_percent": 100.0 * c2c["c2c_increasing"],
        "c2c_decreasing_percent": 100.0 * c2c["c2c_decreasing"],
        "mean_step_increasing_s": float(st["mean_increasing"].mean()),
        "mean_step_decreasing_s": float(st["mean_decreasing"].mean()),
        "std_step_increasing_s": float(st["std_increasing"].mean()),
        "std_step_decreasing_s": float(st["std_decreasing"].mean()),
        "g_min_s": float(table.g_min.mean()),
        "g_max_s": float(table.g_max.mean()),
        "n_pulses_plus": nls[0]["n_pulses_plus"],
        "n_pulses_minus": nls[0]["n_pulses_minus"],
        "curves": {k: nls[0][k] for k in ("curve_increasing", "curve_decreasing")},
    }


def ramp_table_i_figures(g: np.ndarray, polarity: np.ndarray, *, n_traj: int = 4000,
                         generator: torch.Generator | None = None, name: str = "ramps") -> dict[str, Any]:
    """Table I figures of raw ramps (conductance, or any quantity linear in it such as the wall's area fraction),
    (n_ramps, P + 1) with ``polarity`` (P,): the ramps are binned into a table with `table_from_ramps` (as paper
    003 built its tables from 30 MuMax3 ramps) and `table_i_figures` is applied, so a ramp experiment and a
    table experiment report the same quantity by the same definition (`cycle_to_cycle`, `nonlinearity`)."""
    return table_i_figures(table_from_ramps(g, polarity, name=name, source=name), n_traj=n_traj, generator=generator)


# ------------------------------------------------------------------------------------------ builders
def ramp_polarity(n_up: int, n_down: int, n_cycles: int = 1) -> np.ndarray:
    """Pulse polarities (+1/-1) of ``n_cycles`` ramps of ``n_up`` potentiating then ``n_down`` depressing pulses."""
    one = np.concatenate([np.ones(n_up, dtype=np.int8), -np.ones(n_down, dtype=np.int8)])
    return np.tile(one, n_cycles)


def table_from_ramps(g: np.ndarray | Sequence[np.ndarray], polarity: np.ndarray | Sequence[np.ndarray], *,
                     n_bins: int = 501, n_cdf: int = 501, n_coarse: int | None = None,
                     g_range: tuple[float, float] | None = None, min_samples: int = 5, name: str = "",
                     source: str = "<ramps>") -> LookupTable:
    """One-instance table from conductance ramps: how paper 003 built its tables from 30 MuMax3 ramps.

    Args:
        g: conductance [S] before the first pulse and after each pulse: (..., P + 1), or a list of 1-D
            sequences (each of its own length).
        polarity: +1 (potentiating) / -1 (depressing) per pulse, broadcastable to (..., P) (or a list
            matching ``g``); 0 entries are skipped.
        n_bins, n_cdf: output grid (501 x 501 as CrossSim).
        n_coarse: number of conductance bins the steps are pooled in (default: about 25 steps per bin,
            between 4 and 64). Each coarse bin's Delta-G samples give its quantiles at the n_cdf points
            (linear interpolation between order statistics); bins with fewer than ``min_samples`` steps
            are filled by interpolation from their neighbours; the fine grid is interpolated linearly in G
            from the coarse bins' mean conductances (constant beyond the outermost ones).
        g_range: (G_min, G_max) of the output grid [S]; default the extremes of ``g``.
    """
    if isinstance(g, np.ndarray) and g.dtype != object:
        g_arr = np.asarray(g, dtype=np.float64)
        if g_arr.ndim < 1 or g_arr.shape[-1] < 2:
            raise LookupTableError(f"{source}: ramps need at least 2 conductances per sequence, got shape {g_arr.shape}")
        pol = np.broadcast_to(np.asarray(polarity), g_arr[..., :-1].shape)
        g0, dgs, pols = g_arr[..., :-1].ravel(), np.diff(g_arr, axis=-1).ravel(), pol.ravel()
        g_all = g_arr.ravel()
    else:
        seqs = [np.asarray(s, dtype=np.float64) for s in g]
        pl = [np.broadcast_to(np.asarray(p), (len(s) - 1,)) for s, p in zip(seqs, polarity)]
        if len(pl) != len(seqs):
            raise LookupTableError(f"{source}: {len(seqs)} ramps but {len(pl)} polarity sequences")
        g0 = np.concatenate([s[:-1] for s in seqs])
        dgs = np.concatenate([np.diff(s) for s in seqs])
        pols = np.concatenate(pl)
        g_all = np.concatenate(seqs)
    if not np.isfinite(g_all).all():
        raise LookupTableError(f"{source}: ramps contain NaN/inf conductances")
    lo, hi = g_range if g_range is not None else (float(g_all.min()), float(g_all.max()))
    if not hi > lo:
        raise LookupTableError(f"{source}: conductance range [{lo}, {hi}] is empty")
    fine = np.linspace(lo, hi, n_bins)
    cdf = np.linspace(0.0, 1.0, n_cdf)
    tables = []
    for sign in (1, -1):
        sel = pols == sign
        x, v = g0[sel], dgs[sel]
        if x.size < min_samples:
            raise LookupTableError(f"{source}: only {x.size} {'potentiating' if sign > 0 else 'depressing'} steps; "
                                   f"need at least {min_samples}")
        nc = n_coarse or int(np.clip(x.size // 25, 4, 64))
        edges = np.linspace(lo, hi, nc + 1)
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, nc - 1)
        centres, rows = [], []
        for b in range(nc):
            m = which == b
            if m.sum() >= min_samples:
                centres.append(float(x[m].mean()))
                rows.append(np.quantile(v[m], cdf))
        if not rows:
            raise LookupTableError(f"{source}: no conductance bin holds {min_samples} steps; lower n_coarse")
        centres_a = np.array(centres)
        rows_a = np.stack(rows, axis=1)  # (K, n_filled)
        # linear interpolation in G of every CDF row (monotone columns stay monotone: convex weights)
        pos = np.clip(np.searchsorted(centres_a, fine) - 1, 0, max(len(centres_a) - 2, 0))
        if len(centres_a) == 1:
            q = np.repeat(rows_a, n_bins, axis=1)
        else:
            w = np.clip((fine - centres_a[pos]) / (centres_a[pos + 1] - centres_a[pos]), 0.0, 1.0)
            q = rows_a[:, pos] * (1 - w) + rows_a[:, pos + 1] * w
        tables.append(q)
    return LookupTable(fine, cdf, tables[0], tables[1], name=name, source=source, check_sign=False)


def perturb_table(table: LookupTable, n_instances: int = 20, *, rp_sigma: float = 0.128, tmr_sigma: float = 0.069,
                  generator: torch.Generator | None = None, g_p: float | None = None, g_ap: float | None = None,
                  include_nominal: bool = True, name: str = "") -> LookupTable:
    """Device-to-device instances of a one-instance table by perturbing the MTJ (paper 003: normally
    distributed R_P, sigma 12.8 %, and TMR, sigma 6.9 %, from Xue et al. 2015 at 45 nm; 20 tables).

    The DW-MTJ conductance is G = f G_P + (1 - f) G_AP with f the parallel fraction set by the wall
    position, so a table maps affinely: f = (G - G_AP) / (G_P - G_AP) is kept and G' = G_AP' + f (G_P' - G_AP'),
    Delta-G' = Delta-G (G_P' - G_AP') / (G_P - G_AP), with G_P' = 1 / R_P', G_AP' = 1 / (R_P' (1 + TMR')).
    Nominal G_P / G_AP default to the table's highest / lowest bin. Instance 0 is the nominal table when
    ``include_nominal``.
    """
    if table.n_instances != 1:
        table = table.instance(0)
    check_nonnegative("rp_sigma", rp_sigma, unit="(relative sigma)")
    check_nonnegative("tmr_sigma", tmr_sigma, unit="(relative sigma)")
    gp = float(g_p if g_p is not None else table.g_max[0])
    gap = float(g_ap if g_ap is not None else table.g_min[0])
    if not gp > gap > 0:
        raise ConfigError(f"need G_P > G_AP > 0 [S], got {gp}, {gap}")
    rp, tmr = 1.0 / gp, gp / gap - 1.0
    z = torch.randn((n_instances, 2), generator=generator, dtype=torch.float64).numpy()
    if include_nominal:
        z[0] = 0.0
    rp_i = rp * np.clip(1 + rp_sigma * z[:, 0], 0.05, None)
    tmr_i = tmr * np.clip(1 + tmr_sigma * z[:, 1], 0.05, None)
    gp_i, gap_i = 1.0 / rp_i, 1.0 / (rp_i * (1.0 + tmr_i))
    scale = (gp_i - gap_i) / (gp - gap)
    gb = table.g_bins[0].astype(np.float64)
    g_bins = gap_i[:, None] + (gb[None] - gap) * scale[:, None]
    inc = table.dg_increasing[0].astype(np.float64)[None] * scale[:, None, None]
    dec = table.dg_decreasing[0].astype(np.float64)[None] * scale[:, None, None]
    return LookupTable(g_bins, table.cdf, inc, dec, name=name or f"{table.name} x{n_instances} (R_P, TMR varied)",
                       source=f"{table.source} (perturbed)")


# ------------------------------------------------------------------------------------------ plotting
def density_map(table: LookupTable, direction: str = "increasing", *, instance: int = 0, n_dg: int = 120,
                dg_range: tuple[float, float] | None = None, kind: str = "density") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(g_bins (M,), dg grid edges (n_dg + 1,), map (n_dg, M)): probability density [1/S] of Delta-G in each
    G bin ("density") or the CDF at the grid centres ("cdf"), for `plot_heatmap`."""
    check_choice("kind", kind, ("density", "cdf"))
    q = np.sort(table.dg(direction)[instance].astype(np.float64), axis=0)
    c = table.cdf.astype(np.float64)
    if dg_range is None:
        lo, hi = np.quantile(q, 0.002), np.quantile(q, 0.998)
        pad = 0.05 * (hi - lo) or 1e-9
        dg_range = (lo - pad, hi + pad)
    edges = np.linspace(dg_range[0], dg_range[1], n_dg + 1)
    pts = edges if kind == "density" else 0.5 * (edges[1:] + edges[:-1])
    cdf_at = np.empty((pts.shape[0], q.shape[1]))
    for j in range(q.shape[1]):
        col = q[:, j]
        if col[-1] - col[0] <= 0:  # deterministic step: a unit jump
            cdf_at[:, j] = (pts >= col[0]).astype(np.float64)
        else:
            # inverse of the piecewise-linear quantile function; ties broken by taking the highest CDF
            cdf_at[:, j] = np.interp(pts, col + np.arange(col.size) * 1e-30, c, left=0.0, right=1.0)
    if kind == "cdf":
        return table.g_bins[instance].astype(np.float64), edges, cdf_at
    return table.g_bins[instance].astype(np.float64), edges, np.diff(cdf_at, axis=0) / np.diff(edges)[:, None]


def plot_heatmap(table: LookupTable, direction: str = "increasing", *, instance: int = 0, ax: Any = None,
                 kind: str = "density", dg_range: tuple[float, float] | None = None, n_dg: int = 120,
                 title: str | None = None, colorbar: bool = True) -> Any:
    """Heatmap of Delta-G against G like paper 003 Fig. 3a (G and Delta-G in uS); ``kind`` "density"
    (probability density, log colour scale) or "cdf" (the paper's colouring). Returns the axes."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    g, edges, z = density_map(table, direction, instance=instance, n_dg=n_dg, dg_range=dg_range, kind=kind)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    ge = np.concatenate([[g[0] - 0.5 * (g[1] - g[0])], 0.5 * (g[1:] + g[:-1]), [g[-1] + 0.5 * (g[-1] - g[-2])]])
    steps = np.diff(g)
    uniform = bool(np.abs(steps - steps.mean()).max() <= 1e-3 * steps.mean())
    if kind == "density":
        zz = z * 1e-6  # per uS
        pos = zz[zz > 0]
        vmax = float(pos.max()) if pos.size else 1.0
        opts = {"norm": LogNorm(vmin=vmax * 1e-3, vmax=vmax), "cmap": "viridis"}
        zz = np.where(zz > 0, zz, np.nan)
        label = "probability density (1/uS)"
    else:
        zz = z
        opts = {"vmin": 0.0, "vmax": 1.0, "cmap": "viridis"}
        label = "CDF"
    if uniform:  # one image: much faster to draw than a mesh
        im = ax.imshow(zz, origin="lower", aspect="auto", interpolation="nearest",
                       extent=(ge[0] * 1e6, ge[-1] * 1e6, edges[0] * 1e6, edges[-1] * 1e6), **opts)
    else:
        im = ax.pcolormesh(ge * 1e6, edges * 1e6, zz, shading="flat", rasterized=True, **opts)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_xlabel("conductance G (uS)")
    ax.set_ylabel(r"$\Delta G$ per pulse (uS)")
    ax.set_title(title if title is not None else f"{table.name or 'table'}: {direction}", fontsize=9)
    return ax

