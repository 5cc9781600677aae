"""Leaky integrate-and-fire neurons with spike-frequency adaptation, refractory period and homeostatic threshold.

Paper 001's neuron (its eqs. 3 and 5, the sub-threshold CMOS neuron of eq. 9) with Diehl & Cook's adaptive
threshold, and the exponentially decaying post-synaptic input of eqs. 2 and 8 (the DPI circuit). One update
per simulation step of length ``dt``:

1. post-synaptic inputs decay and receive this step's spikes: ``g <- g * exp(-dt / tau_syn) + input``;
2. the membrane integrates (forward Euler of eq. 5, ``tau dV/dt = -(V - V_rest)(1 + a) + R I``) unless refractory;
   ``R I`` is ``g_exc - g_inh`` (current-based, g in volts) or ``g_exc (E_exc - V) + g_inh (E_inh - V)``
   (conductance-based, g relative to the leak: Diehl & Cook's neurons);
3. adaptation ``a`` and threshold offset ``theta`` decay exponentially;
4. a neuron with ``V > V_thresh + theta`` spikes: V is reset and held for the refractory period, ``a`` grows by
   ``adapt_increment`` (eq. 5) and, while learning, ``theta`` by ``theta_plus`` (homeostasis).

`LIFParams` holds the SI values; `LIFParams.coefficients(dt_s)` the per-step numbers that both this module's
functional `lif_step` (torch, the reference) and the compiled network kernel use, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ...config import check_nonnegative, check_positive, check_range

COEFFICIENTS = ("v_rest", "v_reset", "v_thresh", "k_mem", "decay_exc", "decay_inh", "decay_adapt", "adapt_increment",
                "decay_theta", "theta_plus", "e_exc", "e_inh", "refractory_steps", "conductance_based")
"""Order of the entries of `LIFParams.coefficients` (the compiled kernel indexes them by position)."""


@dataclass(frozen=True)
class LIFParams:
    """One neuron population.

    Attributes:
        v_rest_v, v_reset_v, v_thresh_v: resting, reset and threshold potential [V].
        tau_mem_s: membrane time constant [s] (eq. 3's tau; paper 001 Table II: 10 steps).
        tau_syn_exc_s, tau_syn_inh_s: decay time of the excitatory / inhibitory post-synaptic input [s]
            (eq. 2's tau_post; Table II: 1 (exc) and 2 (inh) steps).
        refractory_s: refractory period [s] (V held at V_reset).
        tau_adapt_s: decay time of the adaptation variable a of eq. 5 [s].
        adapt_increment: jump of a per spike (dimensionless; 0 switches spike-frequency adaptation off).
        theta_plus_v: homeostatic threshold increase per spike while learning [V] (Diehl & Cook: 0.05 mV).
        tau_theta_s: decay time of theta [s] (Diehl & Cook: 1e4 s, i.e. practically none).
        conductance_based: inputs as conductances with reversal potentials (Diehl & Cook) rather than currents.
        e_exc_v, e_inh_v: reversal potentials [V] of the conductance-based inputs.
    """

    v_rest_v: float = -65e-3
    v_reset_v: float = -65e-3
    v_thresh_v: float = -52e-3
    tau_mem_s: float = 100e-3
    tau_syn_exc_s: float = 1e-3
    tau_syn_inh_s: float = 2e-3
    refractory_s: float = 5e-3
    tau_adapt_s: float = 100e-3
    adapt_increment: float = 0.0
    theta_plus_v: float = 0.05e-3
    tau_theta_s: float = 1e4
    conductance_based: bool = True
    e_exc_v: float = 0.0
    e_inh_v: float = -100e-3

    def __post_init__(self) -> None:
        for name in ("tau_mem_s", "tau_syn_exc_s", "tau_syn_inh_s", "tau_adapt_s", "tau_theta_s"):
            check_positive(name, getattr(self, name), unit="s")
        check_nonnegative("refractory_s", self.refractory_s, unit="s")
        check_nonnegative("adapt_increment", self.adapt_increment, unit="(dimensionless)")
        check_nonnegative("theta_plus_v", self.theta_plus_v, unit="V")
        for name in ("v_rest_v", "v_reset_v", "v_thresh_v", "e_exc_v", "e_inh_v"):
            check_range(name, getattr(self, name), -1.0, 1.0, unit="V")
        if not self.v_thresh_v > self.v_reset_v:
            check_range("v_thresh_v (above v_reset_v)", self.v_thresh_v, self.v_reset_v, 1.0, unit="V", lo_open=True)

    def coefficients(self, dt_s: float) -> np.ndarray:
        """Per-step constants (float64, order `COEFFICIENTS`) for a step of ``dt_s`` [s]; raises if the Euler
        membrane step would be unstable (dt >= tau_mem / 2)."""
        check_range("dt_s (simulation step)", dt_s, 0.0, self.tau_mem_s / 2, unit="s", lo_open=True, hi_open=True)
        return np.array([
            self.v_rest_v, self.v_reset_v, self.v_thresh_v, dt_s / self.tau_mem_s,
            math.exp(-dt_s / self.tau_syn_exc_s), math.exp(-dt_s / self.tau_syn_inh_s),
            math.exp(-dt_s / self.tau_adapt_s), self.adapt_increment,
            math.exp(-dt_s / self.tau_theta_s), self.theta_plus_v, self.e_exc_v, self.e_inh_v,
            float(round(self.refractory_s / dt_s)), float(self.conductance_based)], dtype=np.float64)


class LIFState(NamedTuple):
    """State of a population (tensors of one shape, e.g. (replicas, neurons)): membrane potential [V], inputs
    (V or relative conductance), adaptation a, threshold offset theta [V], refractory steps left (int64)."""

    v: torch.Tensor
    g_exc: torch.Tensor
    g_inh: torch.Tensor
    adapt: torch.Tensor
    theta: torch.Tensor
    refractory: torch.Tensor


def lif_rest_state(shape: tuple[int, ...], params: LIFParams, *, theta: torch.Tensor | None = None,
                   device: torch.device | str | None = None) -> LIFState:
    """A population at rest (V = V_rest, no input, no adaptation), keeping ``theta`` if given."""
    z = torch.zeros(shape, dtype=torch.float64, device=device)
    return LIFState(torch.full_like(z, params.v_rest_v), z.clone(), z.clone(), z.clone(),
                    z.clone() if theta is None else theta, torch.zeros(shape, dtype=torch.int64, device=device))


def lif_step(state: LIFState, exc_in: torch.Tensor, inh_in: torch.Tensor, coeff: np.ndarray, *,
             learn: bool = False) -> tuple[LIFState, torch.Tensor]:
    """One step of the population (see the module docstring); ``coeff`` from `LIFParams.coefficients`.
    ``exc_in`` / ``inh_in``: input arriving this step (broadcastable to the state). Returns (state, spikes bool)."""
    (v_rest, v_reset, v_th, k_mem, d_exc, d_inh, d_adapt, a_plus, d_theta, th_plus, e_exc, e_inh, refr,
     cond) = (float(c) for c in coeff)
    g_exc = state.g_exc * d_exc + exc_in
    g_inh = state.g_inh * d_inh + inh_in
    v = state.v
    if cond:
        drive = (v_rest - v) * (1.0 + state.adapt) + g_exc * (e_exc - v) + g_inh * (e_inh - v)
    else:
        drive = (v_rest - v) * (1.0 + state.adapt) + g_exc - g_inh
    free = state.refractory == 0
    v = torch.where(free, v + k_mem * drive, v)
    refractory = torch.where(free, state.refractory, state.refractory - 1)
    adapt = state.adapt * d_adapt
    theta = state.theta * d_theta
    spikes = free & (v > v_th + theta)
    v = torch.where(spikes, torch.full_like(v, v_reset), v)
    refractory = torch.where(spikes, torch.full_like(refractory, int(refr)), refractory)
    fired = spikes.to(v.dtype)
    adapt = adapt + a_plus * fired
    if learn:
        theta = theta + th_plus * fired
    return LIFState(v, g_exc, g_inh, adapt, theta, refractory), spikes


class LIFPopulation(torch.nn.Module):
    """A thin `nn.Module` around `lif_step`: holds the state, steps it with ``forward(exc_in, inh_in)``."""

    def __init__(self, n: int, params: LIFParams, dt_s: float, *, batch: int = 1,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        self.params, self.dt_s, self.shape = params, dt_s, (batch, n)
        self.coeff = params.coefficients(dt_s)
        self.state = lif_rest_state(self.shape, params, device=device)
        self.learn = False

    def reset(self, keep_theta: bool = True) -> None:
        """Back to rest (homeostatic theta kept unless ``keep_theta`` is False)."""
        self.state = lif_rest_state(self.shape, self.params, theta=self.state.theta if keep_theta else None,
                                    device=self.state.v.device)

    def forward(self, exc_in: torch.Tensor, inh_in: torch.Tensor | float = 0.0) -> torch.Tensor:
        self.state, spikes = lif_step(self.state, exc_in, torch.as_tensor(inh_in, dtype=torch.float64),
                                      self.coeff, learn=self.learn)
        return spikes
