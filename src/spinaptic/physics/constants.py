"""Physical constants (SI, CODATA 2018). The only place they are defined in spinaptic."""

import math

MU0 = 4e-7 * math.pi
"""Vacuum permeability mu_0 [T m / A]."""
GAMMA_E = 1.76085963e11
"""Electron gyromagnetic ratio gamma [rad / (s T)]."""
GAMMA0 = MU0 * GAMMA_E
"""gamma_0 = mu_0 gamma [m / (A s)], for fields H in A/m."""
HBAR = 1.054571817e-34
"""Reduced Planck constant [J s]."""
E_CHARGE = 1.602176634e-19
"""Elementary charge [C]."""
K_B = 1.380649e-23
"""Boltzmann constant [J / K]."""
MU_B = 9.2740100783e-24
"""Bohr magneton [J / T]."""
ROOM_TEMPERATURE = 300.0
"""Default temperature [K]."""


def thermal_energy(temperature_k: float) -> float:
    """k_B T in joules at ``temperature_k`` kelvin."""
    return K_B * temperature_k
