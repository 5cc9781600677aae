"""An energy ledger every layer can charge: programming, read, neuron, peripheral energies in joules.

Layers return energies as tensors; the network or experiment charges them here by category, so a result
can say where the energy went (``ledger.as_dict()``) and compare with CMOS figures.
"""

from __future__ import annotations

from collections import defaultdict

import torch

CMOS_TABLE_I_PJ = {
    "8-bit integer MAC": 0.23,
    "32-bit integer MAC": 3.2,
    "16-bit floating-point MAC": 1.5,
    "32-bit floating-point MAC": 4.8,
    "cache access": 100.0,
    "DRAM access (low)": 1300.0,
    "DRAM access (high)": 2600.0,
}
"""Energy per operation [pJ] of CMOS multiply-accumulate and memory access as quoted in paper 000,
Table I (from Zhuang et al., JMLR 18, 2018 and Horowitz, ISSCC 2014)."""


class EnergyLedger:
    """Accumulates energies [J] by category; tensors are summed as they come in (no graph kept)."""

    def __init__(self) -> None:
        self._totals: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)

    def charge(self, category: str, joules: torch.Tensor | float, events: int = 1) -> None:
        """Add ``joules`` (a tensor is summed) under ``category``; ``events`` counts operations for averages."""
        value = float(joules.detach().sum()) if isinstance(joules, torch.Tensor) else float(joules)
        if value < 0:
            raise ValueError(f"energy charged to {category!r} is negative ({value} J)")
        self._totals[category] += value
        self._counts[category] += events

    def total(self) -> float:
        """Sum over all categories [J]."""
        return sum(self._totals.values())

    def per_event(self, category: str) -> float:
        """Mean energy per counted event in ``category`` [J]."""
        n = self._counts.get(category, 0)
        return self._totals.get(category, 0.0) / n if n else 0.0

    def as_dict(self) -> dict[str, float]:
        """Totals by category [J], plus ``"total"``."""
        return {**dict(self._totals), "total": self.total()}

    def merge(self, other: EnergyLedger) -> None:
        """Add another ledger's totals into this one."""
        for k, v in other._totals.items():
            self._totals[k] += v
            self._counts[k] += other._counts[k]
