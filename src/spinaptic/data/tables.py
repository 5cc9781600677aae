"""Which DW-MTJ lookup tables of paper 003 are on this machine, for ``spinaptic data``.

The tables (MuMax3-derived conductance-update tables from the CrossSim data repository, BSD-3-Clause) are
looked for where the ``dw-lookup-tables`` experiment looks: ``dwmtj-lookup-tables/`` under every data root
of :func:`~spinaptic.data.search_roots`, and the root itself. Three forms are listed: the NumPy repacks
``dwmtj_{stt,sot}_{T}K.npz``, single CrossSim text files ``*dG_{increasing,decreasing}<i>.txt[.gz]`` and
CrossSim trees ``[lookup_tables/]DWMTJ_{STT,SOT}/{T}K/``. Files of the shared repack are checked against
their known SHA-256; NPZ headers are read (never the arrays, and with the usual size caps).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .datasets import search_roots
from .download import file_sha256
from .idx import DataError
from .npz import npz_headers

__all__ = ["KNOWN_TABLE_SHA256", "TABLES_SUBDIR", "lookup_table_status"]

TABLES_SUBDIR = "dwmtj-lookup-tables"

#: SHA-256 of the files of the shared repack of paper 003's tables (float32 NPZ) and of the two original
#: CrossSim text files kept beside them, gzipped.
KNOWN_TABLE_SHA256: dict[str, str] = {
    "dwmtj_sot_0K.npz": "04fa08a94af4ea508e5a44e2306a73af2998d70c94967d1e7f1cbd6617fe2675",
    "dwmtj_sot_300K.npz": "9313314acb34691e15a744a7c32c5f17227d9aa8ffc81a7904151e26bfc74142",
    "dwmtj_sot_400K.npz": "37314833d4b56be53c5a43771d590636b45cb4a9902ad3e229297941d98f5bf9",
    "dwmtj_stt_0K.npz": "0356405d401ba19385bcd5e8965c5c4ea597fcaf38ee8ba0c4be0d5362c9b81d",
    "dwmtj_stt_300K.npz": "5a813038383f2e79edcba5e53245ff314c2cd19db1f745dfe955d9e0067678dd",
    "dwmtj_stt_400K.npz": "9efad23cb7aa4fb101e9c0ee437a5220a1542ebc869bede18e1d04d3c0f83a0e",
    "crosssim_csv_DWMTJ_SOT_300K_dG_decreasing0.txt.gz": (
        "467ffd0e4edd7f5affac8bda14416d1796e3d6acc635db0a51df32c75262888e"
    ),
    "crosssim_csv_DWMTJ_SOT_300K_dG_increasing0.txt.gz": (
        "6a3a94ab8eba49e180449bcbd3b12304b7cc6613ad8fef9424e1953c3bed799d"
    ),
}

_NPZ = re.compile(r"^dwmtj_(stt|sot)_(\d+)K\.npz$", re.IGNORECASE)
_TEXT = re.compile(r"dG_(increasing|decreasing)(\d*)\.txt(\.gz)?$", re.IGNORECASE)
_KIND_T = re.compile(r"DWMTJ_(STT|SOT)_(\d+)K", re.IGNORECASE)
_T_DIR = re.compile(r"^(\d+)K$", re.IGNORECASE)


def _checksum(p: Path, verify: bool) -> tuple[str, str]:
    want = KNOWN_TABLE_SHA256.get(p.name)
    if want is None:
        return "unverified", "not a file of the shared repack; contents not checked"
    if not verify:
        return "unverified", "verification skipped"
    try:
        got = file_sha256(p)
    except OSError as e:
        return "mismatch", f"cannot read: {e}"
    if got == want:
        return "ok", "SHA-256 of the shared repack of paper 003's tables"
    return "mismatch", f"SHA-256 differs from the shared repack's {p.name} (corrupt, or another table under its name)"


def _row(name: str, kind: str | None, t: str | None, form: str, source: str, path: Path, **extra: Any) -> dict:
    row = {"name": name, "kind": kind.lower() if kind else None, "temperature_k": float(t) if t else None,
           "form": form, "source": source, "path": str(path), "instances": None, "bins": None,
           "cdf_points": None, "checksum": "unverified", "detail": ""}  # fmt: skip
    row.update(extra)
    return row


def _npz_row(p: Path, source: str, verify: bool) -> dict:
    m = _NPZ.match(p.name)
    assert m is not None
    row = _row(p.stem, m.group(1), m.group(2), "npz", source, p)
    try:
        h = npz_headers(p, ("g_bins", "cdf", "dg_increasing", "dg_decreasing"), what="NPZ lookup table")
    except DataError as e:
        return dict(row, checksum="mismatch", detail=str(e))
    g, c = h["g_bins"].shape, h["cdf"].shape
    row.update(instances=g[0] if len(g) == 2 else 1, bins=g[-1] if g else None, cdf_points=c[0] if c else None)
    status, detail = _checksum(p, verify)
    return dict(row, checksum=status, detail=detail)


def _tree_rows(folder: Path, source: str) -> list[dict]:
    rows = []
    for base in (folder, folder / "lookup_tables"):
        for kind in ("STT", "SOT"):
            top = base / f"DWMTJ_{kind}"
            if not top.is_dir():
                continue
            for sub in sorted(top.iterdir()):
                t = _T_DIR.match(sub.name)
                if not (t and sub.is_dir()):
                    continue
                inc = [q for q in sub.iterdir() if (mt := _TEXT.search(q.name)) and mt.group(1).lower() == "increasing"]
                rows.append(_row(f"DWMTJ_{kind}/{sub.name}", kind, t.group(1), "crosssim-dir", source, sub,
                                 instances=len(inc), detail="CrossSim text tree; contents not checked"))
    return rows


def lookup_table_status(data_dir: str | os.PathLike[str] | None = None, *, verify: bool = True) -> list[dict]:
    """One dict per DW-MTJ lookup table found, in lookup order (``data_dir`` first, as for datasets).

    Keys: name, kind ("stt"/"sot" or None), temperature_k, form ("npz", "crosssim-text", "crosssim-dir"),
    source (lookup step), path, instances, bins, cdf_points (from the NPZ header; None where not read),
    checksum ("ok" against the shared repack, "mismatch" for a wrong digest or an unreadable NPZ header,
    "unverified" for files not in :data:`KNOWN_TABLE_SHA256`) and detail.
    """
    rows: list[dict] = []
    seen: set[Path] = set()
    for source, root in search_roots(data_dir):
        for folder in (root / TABLES_SUBDIR, root):
            try:
                key = folder.resolve()
                if key in seen or not folder.is_dir():
                    continue
                seen.add(key)
                files = sorted(p for p in folder.iterdir() if p.is_file())
            except OSError:
                continue
            for p in files:
                if _NPZ.match(p.name):
                    rows.append(_npz_row(p, source, verify))
                elif mt := _TEXT.search(p.name):
                    kt = _KIND_T.search(p.name)
                    status, detail = _checksum(p, verify)
                    rows.append(_row(p.name.split(".")[0], kt and kt.group(1), kt and kt.group(2), "crosssim-text",
                                     source, p, instances=1, checksum=status,
                                     detail=f"CrossSim text file ({mt.group(1).lower()}); {detail}"))
            rows.extend(_tree_rows(folder, source))
    return rows
