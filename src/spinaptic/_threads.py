"""Coarse parallel loops on Python threads for compiled ``nogil`` kernels.

A loop whose items each run for a long time (a chunk of macrospins over all its steps, a block of wall tracks)
gains nothing from numba's ``parallel=True`` over a per-item function, but pays for it on every fresh install:
the parfor passes type the body a second time and compile an outlined gufunc (~1-3 s per kernel). Such a
kernel compiles its item loop once as ``@njit(nogil=True)`` over an item range, and `run_split` hands the
ranges to ``numba.get_num_threads()`` threads in contiguous static chunks, as ``prange`` schedules them.
(Keep ``parallel=True`` where the body is inlined and hot: only there does the gufunc's ``noalias`` help.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def run_split(kernel: Callable, n_items: int, *args) -> None:
    """Call ``kernel(lo, hi, *args)`` on contiguous ranges covering items 0..n_items-1, one range per numba
    thread (at most one per item), and wait for all; an exception in a range is raised here."""
    import numba

    n_chunks = max(1, min(int(numba.get_num_threads()), int(n_items)))
    if n_chunks == 1:
        kernel(0, n_items, *args)
        return
    bounds = [n_items * c // n_chunks for c in range(n_chunks + 1)]
    with ThreadPoolExecutor(max_workers=n_chunks) as pool:
        futures = [pool.submit(kernel, bounds[c], bounds[c + 1], *args) for c in range(n_chunks)]
        for f in futures:
            f.result()


__all__ = ["run_split"]
