"""Build ``sample/mnist_sample.npz``: a stratified, seeded MNIST subset shipped inside the package.

100 train + 50 test images per class (1,000 + 500), uint8, chosen with a fixed seed and kept in the
original dataset order, plus the source indices for provenance. Run from a checkout with MNIST available:

    python -m spinaptic.data.make_sample [--data-dir DIR] [--out PATH]

After rebuilding, update the sample's SHA-256 in ``DATASETS["mnist-sample"]`` (printed by this script).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from .datasets import DATASETS, _load_arrays, find_dataset, sample_arrays_sha256, sample_path
from .download import atomic_write

SEED = 20_240_611
PER_CLASS = {"train": 100, "test": 50}


def stratified_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of each class drawn without replacement, returned sorted."""
    picks = [
        rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in np.unique(labels)
    ]
    return np.sort(np.concatenate(picks))


def build_sample(
    data_dir: str | os.PathLike[str] | None = None, out: str | os.PathLike[str] | None = None
) -> Path:
    """Write the sample npz (atomically) from the full MNIST found via the usual lookup; return its path."""
    info = DATASETS["mnist"]
    loc = find_dataset("mnist", data_dir)
    rng = np.random.default_rng(SEED)
    arrays: dict[str, np.ndarray] = {}
    for split, k in PER_CLASS.items():
        x, y = _load_arrays(info, loc, split, None)
        idx = stratified_indices(y, k, rng)
        arrays[f"x_{split}"] = np.ascontiguousarray(x[idx, 0])
        arrays[f"y_{split}"] = y[idx].astype(np.uint8)
        arrays[f"{split}_index"] = idx.astype(np.int32)
    dest = Path(out) if out is not None else sample_path()
    with atomic_write(dest) as f:
        np.savez_compressed(f, **arrays)
    return dest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder holding mnist/ (default: the usual lookup)")
    ap.add_argument(
        "--out", default=None, help="output path (default: the package's sample/mnist_sample.npz)"
    )
    args = ap.parse_args(argv)
    dest = build_sample(args.data_dir, args.out)
    print(f"wrote {dest} ({dest.stat().st_size} bytes); arrays SHA-256 {sample_arrays_sha256(dest)}")


if __name__ == "__main__":
    main()
