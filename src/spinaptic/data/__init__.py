"""Datasets for spinaptic: MNIST, Fashion-MNIST, CIFAR-10/100 and an embedded MNIST sample, as torch tensors.

Files are found through a fixed lookup order (argument, ``SPINAPTIC_DATA``, user cache, system folders,
verified download), parsed strictly (IDX headers and byte counts, CIFAR pickles through a restricted
unpickler) and cached in memory per process. See :mod:`spinaptic.data.datasets`.
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
    user_cache_dir,
)
from .download import atomic_write, download_file, file_sha256, gunzip_sha256
from .idx import DataError, parse_idx, read_idx

__all__ = [
    "DATASETS",
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
    "parse_idx",
    "read_idx",
    "safe_unpickle",
    "sample_path",
    "search_roots",
    "user_cache_dir",
]
