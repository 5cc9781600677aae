"""Resistive crossbar read: matrix-vector multiply by Ohm's and Kirchhoff's laws, with read noise and energy.

Rows are driven with voltages V_j = x_j V_read (x_j in [0, 1]: a binary neuron output or an analog pixel
level), columns are held at virtual ground by the sense amplifiers, so column i collects
I_i = V_read sum_j x_j G_ij. With a differential pair (`arrays.mapping`) the signal is
I_diff = I+ - I-, which a differential amplifier turns into the neuron input.

Noise per read (Gaussian, independent per read and column, bandwidth B = 1 / (2 t_read) unless set):

* Johnson-Nyquist: 4 k_B T B sum_j G_ij of both columns (every cell, driven or not, is a resistor on
  the virtual-ground node);
* shot noise of the tunnel currents: 2 q B (I+ + I-);
* the sense amplifier's input-referred noise current ``amp_noise_a`` (RMS over B).

Because the absolute currents scale as 1/RA, RA acts on accuracy through these noise terms; the
compression of the signed window by a finite TMR acts through the amplifier design rule
(`amplifier_gain`) and through device variation of the common-mode G_min.

Read energy per input vector: t_read sum_ij V_j^2 (G+_ij + G-_ij) (Joule heat in every cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ConfigError, check_choice, check_nonnegative, check_positive
from ..physics.constants import E_CHARGE, K_B, ROOM_TEMPERATURE


@dataclass(frozen=True)
class CrossbarConfig:
    """Attributes:
    v_read_v: read voltage of an active row [V] (assumed 0.1 V, a usual MTJ read bias well below the
        TMR roll-off).
    t_read_s: duration of one read [s] (assumed 1 ns).
    temperature_k: temperature for Johnson noise [K].
    bandwidth_hz: noise bandwidth [Hz]; 0 means 1 / (2 t_read).
    amp_noise_a: sense amplifier input-referred RMS noise current over the bandwidth [A] (assumed 1 uA:
        ~45 pA/sqrt(Hz) over 0.5 GHz).
    thermal_noise, shot_noise: switch the Johnson and shot terms.
    """

    v_read_v: float = 0.1
    t_read_s: float = 1e-9
    temperature_k: float = ROOM_TEMPERATURE
    bandwidth_hz: float = 0.0
    amp_noise_a: float = 1e-6
    thermal_noise: bool = True
    shot_noise: bool = True

    def __post_init__(self) -> None:
        check_positive("v_read_v (read voltage)", self.v_read_v, unit="V")
        check_positive("t_read_s (read time)", self.t_read_s, unit="s")
        check_positive("temperature_k", self.temperature_k, unit="K")
        check_nonnegative("bandwidth_hz", self.bandwidth_hz, unit="Hz")
        check_nonnegative("amp_noise_a", self.amp_noise_a, unit="A")

    @property
    def bandwidth(self) -> float:
        """Noise bandwidth [Hz]."""
        return self.bandwidth_hz if self.bandwidth_hz > 0 else 1.0 / (2.0 * self.t_read_s)

    @property
    def noiseless(self) -> bool:
        return not (self.thermal_noise or self.shot_noise or self.amp_noise_a > 0)


class Crossbar:
    """A programmed array: + columns ``g_pos`` [rows, cols] and optional - / reference columns ``g_neg``.

    All methods take drives ``x`` [..., rows] (fraction of V_read, 0..1) and work in ``x``'s dtype.
    """

    def __init__(self, g_pos: torch.Tensor, g_neg: torch.Tensor | None = None, config: CrossbarConfig | None = None):
        if g_pos.dim() != 2:
            raise ConfigError(f"g_pos must be [rows, cols], got shape {tuple(g_pos.shape)}")
        if g_neg is not None and g_neg.shape != g_pos.shape:
            raise ConfigError(f"g_neg shape {tuple(g_neg.shape)} != g_pos shape {tuple(g_pos.shape)}")
        if bool((g_pos < 0).any()) or (g_neg is not None and bool((g_neg < 0).any())):
            raise ConfigError("conductances must be >= 0 S")
        self.config = config or CrossbarConfig()
        self.g_pos = g_pos
        self.g_neg = g_neg
        self._cache: dict = {}

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.g_pos.shape)

    def _g(self, dtype) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        key = dtype
        if key not in self._cache:
            gp = self.g_pos.to(dtype)
            gn = self.g_neg.to(dtype) if self.g_neg is not None else None
            gd = gp - gn if gn is not None else gp
            self._cache[key] = (gp, gn, gd)
        return self._cache[key]

    def column_currents(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Noiseless currents [A] of the + and - columns: I = V_read x G."""
        gp, gn, _ = self._g(x.dtype)
        v = self.config.v_read_v
        return v * (x @ gp), (v * (x @ gn) if gn is not None else None)

    def ideal(self, x: torch.Tensor) -> torch.Tensor:
        """Noiseless differential current I+ - I- [A] (or I+ alone without a - column)."""
        _, _, gd = self._g(x.dtype)
        return self.config.v_read_v * (x @ gd)

    def noise_std(self, x: torch.Tensor) -> torch.Tensor:
        """RMS noise current [A] of the differential read, per input vector and column."""
        c = self.config
        gp, gn, _ = self._g(x.dtype)
        var = torch.zeros((*x.shape[:-1], gp.shape[1]), dtype=x.dtype, device=x.device)
        if c.thermal_noise:
            g_tot = gp.sum(0) + (gn.sum(0) if gn is not None else 0.0)
            var = var + 4 * K_B * c.temperature_k * c.bandwidth * g_tot
        if c.shot_noise:  # I+ + I- = V_read x (G+ + G-): one matmul
            gs = self._cache.setdefault(("sum", x.dtype), gp + gn if gn is not None else gp)
            var = var + 2 * E_CHARGE * c.bandwidth * (c.v_read_v * (x @ gs)).clamp_min(0.0)
        var = var + c.amp_noise_a**2
        return var.sqrt()

    def read(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
             n_samples: int | None = None) -> torch.Tensor:
        """Differential column currents [A] with read noise; ``n_samples`` independent reads add a leading
        axis (the noiseless part is computed once)."""
        i = self.ideal(x)
        if self.config.noiseless:
            return i if n_samples is None else i.expand(n_samples, *i.shape)
        std = self.noise_std(x)
        shape = i.shape if n_samples is None else (n_samples, *i.shape)
        return i + std * torch.randn(shape, generator=generator, dtype=i.dtype, device=i.device)

    def read_energy(self, x: torch.Tensor) -> torch.Tensor:
        """Energy of one read [J] per input vector: t_read V_read^2 sum_j x_j^2 sum_i (G+_ij + G-_ij)."""
        gp, gn, _ = self._g(x.dtype)
        row_g = gp.sum(1) + (gn.sum(1) if gn is not None else 0.0)
        c = self.config
        return c.t_read_s * c.v_read_v**2 * ((x * x) @ row_g)


def amplifier_gain(i0_a: float, v_read_v: float, g_per_weight: float, g_full_scale_per_weight: float,
                   rule: str = "full-scale") -> float:
    """Gain A of the differential amplifier feeding a p-bit, I_pbit = A (I+ - I-), by a design rule.

    The network was trained with sigma(z); a p-bit fires with sigma(2 I / I0), so the target is
    I_pbit = I0 z / 2 for a pre-activation z (in weight units).

    * "window": A = I0 / (2 V_read g_per_weight): the gain is calibrated on the actual signed window
      G_max - G_min, so the nominal circuit reproduces z exactly whatever TMR and RA are.
    * "full-scale" (default): A = I0 / (2 V_read g_full_scale_per_weight): the sense stage is designed for
      the largest current one cell can carry (G_max per w_max, known from RA and area alone, e.g. from a
      parallel-state reference cell) and does not know the AP state. The signed window is then a
      fraction (G_max - G_min) / G_max = TMR / (1 + TMR) of full scale for a compound synapse: low TMR
      scales every pre-activation down, the p-bits become noisier and accuracy drops.
    """
    check_choice("gain rule", rule, ("window", "full-scale"))
    check_positive("i0_a", i0_a, unit="A")
    check_positive("v_read_v", v_read_v, unit="V")
    g = g_per_weight if rule == "window" else g_full_scale_per_weight
    check_positive("conductance per weight", g, unit="S")
    return i0_a / (2.0 * v_read_v * g)


def energy_per_operation(total_j: float, n_macs: int) -> float:
    """Energy per multiply-accumulate [J] when ``total_j`` is spent on ``n_macs`` operations."""
    if n_macs <= 0:
        raise ConfigError("n_macs must be > 0")
    return total_j / n_macs


__all__ = ["Crossbar", "CrossbarConfig", "amplifier_gain", "energy_per_operation"]
