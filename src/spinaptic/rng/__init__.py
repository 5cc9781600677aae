"""spinaptic's one random-number generator for compiled kernels: counter-based, keyed from a torch.Generator.

Every compiled kernel draws its randomness from this module, so that a run is reproducible from the caller's
``torch.Generator`` alone and a draw does not depend on threads, chunking or batch size:

* **Key**: `draw_key` takes 62-bit keys from the caller's generator (the one seed derivation).
* **Streams**: stream ``i`` (a macrospin, a track, a bit stream, ...) starts at
  ``start = key ^ mix64((i + 1) * G)``, G = 0x9E3779B97F4A7C15; its word ``n`` is ``mix64(start + (n + 1) G)``,
  with ``mix64`` the splitmix64 finaliser (Steele, Lea & Flood, OOPSLA 2014; SplitMix64 passes BigCrush).
  A word is a pure function of (key, stream, n): counter-based, like Philox, at two 64-bit multiplies a word.
  Streams are windows of one 2^64 Weyl sequence at hashed offsets: N streams of L words overlap with
  probability ~ N^2 L / 2^64 (2e-3 for 10^6 streams of 4e4 words).
* **Uniforms**: 52-bit doubles by the exponent trick (`unit` in [0, 1), `unit_open` in (0, 1]).
* **Normals**: Box-Muller of words 2k and 2k + 1 (`normal_pair`), with branch-free fdlibm log and sin / cos,
  so a loop over lanes vectorises; the tails are exact up to |z| = 8.49.

The compiled primitives live in `spinaptic.rng._kernels`; `words_torch` / `normals_torch` are bit-exact
(words) and ulp-close (normals) torch twins for any device, and `resolve_backend` is the one place that picks
a kernel's backend. The statistical test suite is ``tests/test_rng.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..config import ConfigError, check_choice

BACKENDS = ("auto", "numba", "torch")
"""Kernel backends: the fused numba CPU kernel, the eager torch reference (any device), or auto."""

_GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15 as a signed int64
_M1 = -4658895280553007687  # 0xBF58476D1CE4E5B9
_M2 = -7723592293110705685  # 0x94D049BB133111EB


def draw_key(generator: torch.Generator | None, shape: tuple[int, ...] = ()) -> np.ndarray | np.uint64:
    """62-bit kernel keys drawn from ``generator`` (uint64; a scalar for ``shape=()``): the one seed
    derivation of every kernel. ``None`` draws from torch's default generator, as ``torch.randint`` does
    (callers that promise reproducibility require a generator before calling)."""
    dev = generator.device if generator is not None else torch.device("cpu")
    k = torch.randint(0, 2**62, shape or (1,), generator=generator, device=dev)
    u = k.cpu().numpy().astype(np.uint64)
    return u[0] if not shape else u


def resolve_backend(backend: str, device: torch.device | str = "cpu", numba_ok: bool = True) -> str:
    """The backend to run: ``auto`` is the fused numba kernel for CPU tensors (when ``numba_ok``), torch
    otherwise; an explicit ``numba`` on a non-CPU device raises."""
    check_choice("backend", backend, BACKENDS)
    dev = torch.device(device)
    if backend == "auto":
        return "numba" if dev.type == "cpu" and numba_ok else "torch"
    if backend == "numba" and dev.type != "cpu":
        raise ConfigError(f"backend: the numba backend runs on CPU tensors only, got device {dev}")
    if backend == "numba" and not numba_ok:
        raise ConfigError("backend: this configuration has no numba kernel; use 'torch' or 'auto'")
    return backend


# ------------------------------------------------------------------------------------------- torch twins
def _srl(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _mix64_torch(z: torch.Tensor) -> torch.Tensor:
    z = (z ^ _srl(z, 30)) * _M1
    z = (z ^ _srl(z, 27)) * _M2
    return z ^ _srl(z, 31)


def _signed(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


def words_torch(key: int, streams: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Words ``n`` of ``streams`` under ``key`` (broadcast int64 tensors), as int64 bit patterns equal to
    the compiled `_kernels.word` (int64 arithmetic wraps modulo 2^64)."""
    start = _signed(int(key)) ^ _mix64_torch((streams.to(torch.int64) + 1) * _GOLDEN)
    return _mix64_torch(start + (n.to(torch.int64) + 1) * _GOLDEN)


def _unit_torch(w: torch.Tensor) -> torch.Tensor:
    return _srl(w, 12).to(torch.float64) * 2.0**-52


def normals_torch(key: int, streams: torch.Tensor, pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normal pairs ``pairs`` of ``streams`` (broadcast int64 tensors): the twin of `_kernels.normal_pair`,
    equal to it within a few ulp (torch's log / sin / cos are not fdlibm's)."""
    w1 = words_torch(key, streams, 2 * pairs)
    w2 = words_torch(key, streams, 2 * pairs + 1)
    r = torch.sqrt(-2.0 * torch.log(1.0 - _unit_torch(w1)))
    t = (2.0 * math.pi) * _unit_torch(w2)
    return r * torch.cos(t), r * torch.sin(t)


__all__ = ["BACKENDS", "draw_key", "normals_torch", "resolve_backend", "words_torch"]
