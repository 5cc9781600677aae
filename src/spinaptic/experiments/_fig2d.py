"""The Fig. 2d criterion of paper 000 shared by switching-probability and compound-synapse: what per-pulse
switching probability makes a 20-pulse train switch the 16-repeat ensemble gradually."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import check_order, check_range


@dataclass(frozen=True)
class GradualBandTargets:
    """Attributes:
    gradual_p_min: lowest per-pulse P of a gradual 20-pulse curve (Fig. 2d): 1 - (1/4)^(1/20) = 0.067, so
        that >= 3/4 of the 16 repeats have switched by pulse 20 ("the nanomagnet can switch to its +1 state
        during any of the 20 SET pulses").
    gradual_p_max: highest per-pulse P of a gradual curve: 0.5, fewer than half of the repeats switched on
        the first pulse ("the conductance increases gradually with the number of input pulses").
    """

    gradual_p_min: float = 0.067
    gradual_p_max: float = 0.5

    def __post_init__(self) -> None:
        check_range("gradual_p_min", self.gradual_p_min, 0.0, 1.0, lo_open=True, hi_open=True)
        check_range("gradual_p_max", self.gradual_p_max, 0.0, 1.0, lo_open=True, hi_open=True)
        check_order("gradual_p_min", self.gradual_p_min, "gradual_p_max", self.gradual_p_max)

    def gradual(self, p: float) -> bool:
        """Whether per-pulse probability ``p`` switches the ensemble gradually."""
        return self.gradual_p_min <= p <= self.gradual_p_max

    @property
    def band(self) -> str:
        return f"{self.gradual_p_min:g} <= P <= {self.gradual_p_max:g}"
