"""Device-to-device variation: per-device parameters drawn once when an array's state is created."""

from __future__ import annotations

import torch


def draw_spread(
    mean: float, rel_sigma: float, shape: tuple[int, ...], generator: torch.Generator | None, device, dtype
) -> torch.Tensor:
    """Per-device parameter ``mean * (1 + rel_sigma * N(0,1))``, floored at 1 % of the mean.

    ``rel_sigma`` is the relative standard deviation (the ``*_dtod`` config fields); 0 gives ``mean`` everywhere
    without consuming random numbers.
    """
    base = torch.full(shape, mean, dtype=dtype, device=device)
    if rel_sigma == 0:
        return base
    noise = torch.randn(shape, generator=generator, dtype=dtype, device=device)
    return (base * (1 + rel_sigma * noise)).clamp_min(0.01 * mean)
