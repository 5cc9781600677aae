"""Datasets for spinaptic: MNIST, Fashion-MNIST, CIFAR-10/100 and an embedded MNIST sample, as torch tensors.

Files are found through a fixed lookup order (argument, ``SPINAPTIC_DATA``, user cache, system folders,
verified download), parsed strictly (IDX headers and byte counts, CIFAR pickles through a restricted
unpickler, NPZ members with size caps) and cached in memory per process. Every failure is a DataError
naming the file. See :mod:`spinaptic.data.datasets`; :func:`lookup_table_status` lists paper 003's
DW-MTJ lookup tables.
"""

from __future__ import annotations

from .cifar import LossyDataWarning, RestrictedUnpickler, load_cifar10_jpeg, load_cifar_python, safe_unpickle
from .datasets import (
    DATASETS,
    SCALES,
    DataFile,
    DatasetInfo,
    Location,
    SampleFallbackWarning,
    available_datasets,
    dataset_status,
    find_dataset,
    get_info,
    load_cifar10,
    load_cifar100,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_mnist_sample,
    sample_path,
    search_roots,
    status_exit_code,
    user_cache_dir,
)
from .download import (
    DOWNLOAD_DEADLINE,
    atomic_write,
    download_file,
    file_sha256,
    gunzip_sha256,
    remove_stale_parts,
)
from .idx import MAX_GZIP_BYTES, MAX_IDX_BYTES, DataError, parse_idx, read_idx
from .npz import MAX_NPZ_MEMBER_BYTES, MAX_NPZ_TOTAL_BYTES, npz_headers, read_npz
from .tables import lookup_table_status

__all__ = [
    "DATASETS",
    "DOWNLOAD_DEADLINE",
    "MAX_GZIP_BYTES",
    "MAX_IDX_BYTES",
    "MAX_NPZ_MEMBER_BYTES",
    "MAX_NPZ_TOTAL_BYTES",
    "SCALES",
    "DataError",
    "DataFile",
    "DatasetInfo",
    "Location",
    "LossyDataWarning",
    "RestrictedUnpickler",
    "SampleFallbackWarning",
    "atomic_write",
    "available_datasets",
    "dataset_status",
    "download_file",
    "file_sha256",
    "find_dataset",
    "get_info",
    "gunzip_sha256",
    "load_cifar10",
    "load_cifar100",
    "load_cifar10_jpeg",
    "load_cifar_python",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "lookup_table_status",
    "npz_headers",
    "parse_idx",
    "read_idx",
    "read_npz",
    "remove_stale_parts",
    "safe_unpickle",
    "sample_path",
    "search_roots",
    "status_exit_code",
    "user_cache_dir",
]
