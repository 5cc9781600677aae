"""Device-layer functions that the experiments call instead of writing device logic inline (issue 10, 5):
DW-MTJ conductance map, energy accounting, depinning voltage, compound-synapse read-outs, s-MTJ calibration."""

import math
from dataclasses import replace

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices import Pulses
from spinaptic.devices import mtj_rng as rng
from spinaptic.devices.compound_synapse import (
    PAPER_MTJ,
    CompoundSynapse,
    CompoundSynapseConfig,
    ahe_resistance,
    compound_conductance,
    compound_levels,
)
from spinaptic.devices.dw_synapse import (
    DWNotched,
    DWNotchedConfig,
    DWTrapezoid,
    depinning_voltage,
    mtj_conductances_for_range,
    position_conductance,
    supply_energy,
)
from spinaptic.devices.nanomagnet import Nanomagnet
from spinaptic.physics import domain_wall as dw
from spinaptic.physics.dw_tracks import leonard2022_level_notches

F64 = torch.float64


# ------------------------------------------------------------------------------------------------ DW-MTJ
def test_conductance_range_map_reads_the_range_at_the_end_notches():
    track = dw.liu2021_sot_track()
    g_p, g_ap = mtj_conductances_for_range(track, (64e-6, 160e-6))
    xs = track.notch_positions_m
    g = position_conductance(track, torch.tensor([xs[0], xs[-1], 0.0, track.length_m], dtype=F64), g_p, g_ap)
    assert g[:2].tolist() == pytest.approx([64e-6, 160e-6], rel=1e-12)
    assert g[2:].tolist() == pytest.approx([g_ap, g_p], rel=1e-12)  # all AP / all P
    with pytest.raises(ConfigError, match="two notches"):
        mtj_conductances_for_range(track.with_(notch_positions_m=()), (64e-6, 160e-6))


def test_position_conductance_is_the_device_conductance():
    dev = DWNotched(DWNotchedConfig(r_p_dtod=0.0, tmr_dtod=0.0))
    st = dev.init_state((5,))
    st["q"] = torch.linspace(0.0, dev.config.track.length_m, 5, dtype=F64)
    m = dev.config.mtj
    assert torch.allclose(position_conductance(dev.config.track, st["q"].numpy(), m.g_p, m.g_ap),
                          dev.conductance(st), rtol=1e-12, atol=0)


def test_supply_energy_is_v_i_t():
    assert supply_energy(0.6, 80e-6, 1e-9) == pytest.approx(48e-15, rel=1e-12)  # paper 001: ~48 fJ


def test_depinning_voltage_brackets_the_first_move():
    dev = DWTrapezoid()
    deep = leonard2022_level_notches(dev.config.track)
    v = depinning_voltage(dev, deep[0])
    assert 2.5 < v < 3.5  # calibrated to the paper's V_C = 3.0 V (0 K: 3.125 V)
    xs = dev.config.track.notch_positions_m
    cold = DWTrapezoid(replace(dev.config, temperature_k=0.0, q0_m=xs[deep[0]]))
    for volts, moves in ((0.99 * v, False), (1.01 * v, True)):
        st, _ = cold.apply(cold.init_state((1,)), Pulses(volts, width_s=50e-9, kind="voltage"))
        assert (float(st["q"][0]) - xs[deep[0]] > 0.5 * dev.config.track.notch_width_m) is moves


# ------------------------------------------------------------------------------------------------ nanomagnets
def test_nanomagnet_pulse_energy_is_the_apply_accounting():
    dev = Nanomagnet()
    _, e = dev.apply(dev.init_state((1,)), Pulses(6e-3, width_s=20e-6))
    assert dev.pulse_energy(6e-3, 20e-6) == pytest.approx(float(e[0]), rel=1e-12)
    assert dev.pulse_energy(6e-3, 20e-6) == pytest.approx(6e-3**2 * 2e3 * 20e-6, rel=1e-12)


def test_compound_readouts_match_the_device():
    q = 16
    levels = compound_levels(PAPER_MTJ, q)
    k = torch.arange(q + 1, dtype=F64)
    assert torch.allclose(compound_conductance(PAPER_MTJ, q, k), levels, rtol=1e-12, atol=0)
    assert compound_conductance(PAPER_MTJ, q, 8.5) == pytest.approx(0.5 * float(levels[8] + levels[9]), rel=1e-12)
    dev = CompoundSynapse(CompoundSynapseConfig(n_magnets=q))
    st = dev.mid_range_state((3,))
    assert torch.allclose(ahe_resistance(dev.n_switched(st).to(F64), q, dev.config.ahe_step_ohm),
                          dev.hall_resistance(st))
    assert ahe_resistance(0, q, 0.110) == pytest.approx(-0.88)  # all -1: -Q step / 2


# ------------------------------------------------------------------------------------------------ s-MTJ
def test_i_c0_for_bias_span_is_the_closed_form():
    # h = 0, both barriers positive at 5 % / 95 %: span = 2 ln 19 I_c0 / (Delta (G_P + G_AP))
    c = rng.SMTJConfig()
    m = c.mtj
    i_c0 = rng.i_c0_for_bias_span(c, 1.0)
    assert i_c0 == pytest.approx(c.barrier * (m.g_p + m.g_ap) / (2 * math.log(19.0)), rel=1e-9)
    assert i_c0 == pytest.approx(16.8e-6, rel=2e-3)  # the module docstring's bound
    c1 = rng.SMTJConfig(i_c0_a=i_c0)
    v05, v95 = (float(v) for v in rng.bias_for_probability(torch.tensor([0.05, 0.95], dtype=F64), c1))
    assert v95 - v05 == pytest.approx(1.0, rel=1e-9)


def test_bit_time_for_energy_inverts_the_resistor_estimate():
    t = rng.bit_time_for_energy(10e-15, 1.0, 500e3)
    assert t == pytest.approx(5e-9, rel=1e-12)  # a CMOS LFSR's ~10 fJ at 1 V, 500 kOhm
    assert float(rng.resistor_energy_per_bit(1.0, 500e3, t)) == pytest.approx(10e-15, rel=1e-12)
    with pytest.raises(ConfigError, match="voltage_v"):
        rng.bit_time_for_energy(10e-15, 0.0, 500e3)
