"""A notched DW track's metaplastic function, measured on the device model instead of assumed (paper 002, Fig. 4b).

Paper 002 translates the trapezoid's switching data (Fig. 2b) into f_meta, "how easy (low voltage required,
i.e. DW at the narrow side of the trapezoid ...) or hard (high voltage required, i.e. DW at the wide side ...) it
is to update the DW position", and abstracts it by eq. 1, a straight line from 1 to w1/w2. Here the same
translation is made on the 1D model of the device itself: the hidden-weight magnitude |W_h| is the wall's place
between the first (|W_h| = 0, narrow end) and the last level notch (|W_h| = 1), the sign is held by the
differential partner (paper 002 Fig. 4a's inset), and the update efficiency at a level notch is

    f(|W_h|) = V_C(reference) / V_C(notch)

with V_C the smallest 0 K pulse amplitude that moves the wall out of the notch in the |W_h|-decreasing direction
(toward the narrow end: the updates f_meta damps) without the reset bias, and the reference the smallest V_C of
the track. Between level notches f is joined linearly. The knots feed `networks.metaplastic.MetaplasticRule`'s
``meta_knots``, so a network learns on the device's own position-dependent steps.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..physics.dw_tracks import leonard2022_level_notches
from .dw_synapse import DWSynapse, depinning_voltage


@dataclass(frozen=True)
class MetaplasticResponse:
    """A device's measured update efficiency at its level notches.

    Attributes:
        notches: all-notch indices of the level notches, narrow end first.
        positions_m: their wall positions [m].
        w_h: |W_h| of each (0 at the first level notch, 1 at the last).
        v_c: 0 K depinning voltage [V] of the |W_h|-decreasing pulse out of each (nan: the wall cannot move that
            way, e.g. the first notch at the track's end).
        efficiency: V_C(reference) / V_C, f_meta at each level notch (nan where V_C is).
        width_s: pulse duration [s] of the V_C search.
    """

    notches: tuple[int, ...]
    positions_m: tuple[float, ...]
    w_h: tuple[float, ...]
    v_c: tuple[float, ...]
    efficiency: tuple[float, ...]
    width_s: float

    @property
    def knots(self) -> tuple[tuple[float, float], ...]:
        """(|W_h|, f) with |W_h| running 0 to 1: the finite points, the end ones extended flat to 0 and 1."""
        pts = [(x, f) for x, f in zip(self.w_h, self.efficiency, strict=True) if math.isfinite(f)]
        if len(pts) < 1:
            raise ValueError("the device has no level notch the wall can leave toward the narrow end")
        if pts[0][0] > 0.0:
            pts.insert(0, (0.0, pts[0][1]))
        if pts[-1][0] < 1.0:
            pts.append((1.0, pts[-1][1]))
        return tuple(pts)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"knots": [list(k) for k in self.knots]}


def metaplastic_response(dev: DWSynapse, *, width_s: float = 50e-9, v_max: float = 30.0,
                         device=None) -> MetaplasticResponse:
    """Measure ``dev``'s update efficiency at its level notches (`leonard2022_level_notches`) with ``width_s``
    [s] voltage pulses of at most ``v_max`` [V], at 0 K and without the reset bias (see the module docstring)."""
    cfg = dev.config
    if "reset_field_t" in {f.name for f in dataclasses.fields(cfg)}:
        dev = type(dev)(dataclasses.replace(cfg, reset_field_t=0.0))
    track = dev.config.track
    lv = leonard2022_level_notches(track)
    if len(lv) < 2:
        raise ValueError(f"{track.name}: a metaplastic response needs >= 2 level notches, got {len(lv)}")
    xs = [float(track.notch_positions_m[k]) for k in lv]
    w_h = tuple((x - xs[0]) / (xs[-1] - xs[0]) for x in xs)
    v_c = tuple(depinning_voltage(dev, k, -1.0, width_s=width_s, v_max=v_max, device=device) for k in lv)
    finite = [v for v in v_c if math.isfinite(v)]
    ref = min(finite) if finite else float("nan")
    eff = tuple(ref / v if math.isfinite(v) else float("nan") for v in v_c)
    return MetaplasticResponse(notches=tuple(lv), positions_m=tuple(xs), w_h=w_h, v_c=v_c, efficiency=eff,
                               width_s=width_s)


__all__ = ["MetaplasticResponse", "metaplastic_response"]
