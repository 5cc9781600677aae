"""Domain-wall MTJ synapse devices: conductance, pulses, energy and the papers' device numbers."""

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices import Pulses, device_names, make_device
from spinaptic.devices.dw_synapse import DWSynapse, DWSynapseConfig


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_registered_variants_and_validation():
    assert {"dw-notched", "dw-continuous", "dw-trapezoid", "dw-straight"} <= set(device_names())
    assert make_device("dw-continuous").config.track.name == "sengupta2016"
    assert make_device("dw-notched", temperature_k=0.0).config.temperature_k == 0.0
    with pytest.raises(ConfigError, match="r_p_dtod"):
        make_device("dw-notched", r_p_dtod=-0.1)
    with pytest.raises(ConfigError, match="q0_m"):
        make_device("dw-continuous", q0_m=1e-6)
    with pytest.raises(ConfigError, match="preset"):
        DWSynapseConfig.preset("nope")
    with pytest.raises(ConfigError, match="backend"):
        DWSynapseConfig(backend="gpu")


def test_conductance_linear_in_wall_position_paper001_eq6():
    dev = make_device("dw-continuous", g_dw_s=1e-8)
    st = dev.init_state((11,))
    L = dev.config.track.length_m
    st["q"] = torch.linspace(0, L, 11, dtype=torch.float64)
    g = dev.conductance(st)
    m = dev.config.mtj
    assert float(g[0]) == pytest.approx(m.g_ap + 1e-8)
    assert float(g[-1]) == pytest.approx(m.g_p + 1e-8)
    assert torch.allclose(torch.diff(g), torch.full((10,), (m.g_p - m.g_ap) / 10, dtype=torch.float64))
    assert m.r_p == pytest.approx(1e6)  # "MOhm range"
    # On the trapezoid the parallel fraction is area-weighted.
    trap = make_device("dw-trapezoid")
    q = torch.tensor([0.5 * trap.config.track.length_m], dtype=torch.float64)
    assert float(trap.fraction(q)) == pytest.approx((0.5 + 1.5 * 0.25) / 2.5)


def test_paper001_displacement_proportional_to_current_and_full_sweep():
    dev = make_device("dw-continuous", dt_s=0.5e-12)
    currents = torch.tensor([10e-6, 20e-6, 30e-6, 40e-6], dtype=torch.float64)
    st = dev.init_state((4,))
    st, energy = dev.apply(st, Pulses(currents, width_s=1e-9))
    dq = st["q"]
    slope = dq / currents
    assert float(slope.max() / slope.min()) < 1.08  # linear below saturation (Fig. 9c)
    # ~80 uA sweeps the whole 320 nm free layer in 1 ns (paper 001); energy I^2 R t <= 48 fJ.
    amps = torch.linspace(60e-6, 100e-6, 41, dtype=torch.float64)
    st = dev.init_state((41,))
    st, energy = dev.apply(st, Pulses(amps, width_s=1e-9))
    full = st["q"] >= dev.config.track.length_m - 1e-12
    i_full = float(amps[full].min())
    assert 70e-6 <= i_full <= 90e-6
    e = float(energy[full][0])
    assert e == pytest.approx(i_full**2 * dev.config.track.write_resistance_ohm * 1e-9)
    assert e < 48e-15
    assert dev.programming_energy(i_full, 1e-9) == pytest.approx(e)


def test_paper003_nominal_pulses_step_one_notch_stt_and_sot():
    for preset in ("liu2021-stt", "liu2021-sot"):
        dev = DWSynapse(DWSynapseConfig.preset(preset, temperature_k=0.0, r_p_dtod=0.0, tmr_dtod=0.0))
        st = dev.init_state((2,))
        st["q"] = torch.tensor(dev.config.track.notch_positions_m[10:12], dtype=torch.float64)
        i0 = dev.notch_index(st["q"])
        g0 = dev.conductance(st)
        st, e = dev.apply(st, dev.nominal_pulses(torch.tensor([1, -1])))
        assert dev.notch_index(st["q"]).tolist() == [int(i0[0]) + 1, int(i0[1]) - 1]
        g1 = dev.conductance(st)
        assert float(g1[0]) > float(g0[0]) and float(g1[1]) < float(g0[1])  # + potentiates
        amp, width = dev.config.nominal_amplitude, dev.config.nominal_width_s
        assert torch.allclose(e, torch.full((2,), amp**2 * dev.config.track.write_resistance_ohm * width,
                                            dtype=torch.float64))


def test_pulse_counts_per_device_and_array_shapes():
    dev = make_device("dw-notched", temperature_k=0.0, r_p_dtod=0.0, tmr_dtod=0.0)
    st = dev.init_state((2, 2))
    counts = torch.tensor([[0, 1], [2, 3]])
    st, e = dev.apply(st, dev.nominal_pulses(torch.ones(2, 2)).__class__(50e-6, 1e-9, counts))
    assert st["q"].shape == (2, 2)
    assert dev.notch_index(st["q"]).tolist() == [[0, 1], [2, 3]]
    assert float(e[0, 0]) == 0.0
    assert float(e[1, 1]) == pytest.approx(3 * float(e[0, 1]))
    assert dev.nominal_pulses(torch.tensor([0])).count.tolist() == [0]


def test_device_to_device_variation_of_rp_and_tmr():
    dev = make_device("dw-notched")
    st = dev.init_state((20000,), generator=torch.Generator().manual_seed(0))
    r_p = 1 / st["g_p"]
    tmr = st["g_p"] / st["g_ap"] - 1
    assert float(r_p.std() / r_p.mean()) == pytest.approx(0.128, rel=0.05)
    assert float(tmr.std() / tmr.mean()) == pytest.approx(0.069, rel=0.05)
    lo, hi = dev.conductance_range()
    assert lo < hi


def test_voltage_pulses_drive_current_through_the_series_resistance():
    dev = make_device("dw-trapezoid", temperature_k=0.0)
    tr = dev.config.track
    assert tr.series_resistance_ohm == pytest.approx(tr.write_resistance_ohm + tr.access_resistance_ohm)
    st = dev.init_state((1,))
    st, e = dev.apply(st, Pulses(2.0, width_s=50e-9, kind="voltage"))
    assert float(e) == pytest.approx(4.0 / tr.series_resistance_ohm * (50e-9 - 2 * 20e-9 / 3))
    assert float(st["q"]) > 0  # the wall left the narrow end and sits in a notch
    assert int(dev.notch_index(st["q"])) >= 0


def test_paper002_bias_fields_follow_the_pulse_polarity():
    from spinaptic.devices.dw_synapse import LEONARD_RESET_BIAS_T
    from spinaptic.physics.constants import MU0

    trap = make_device("dw-trapezoid", temperature_k=0.0)
    assert trap.config.write_field_t == 0.0 and trap.config.reset_field_t == LEONARD_RESET_BIAS_T == -38e-3
    h = trap.bias_field(torch.tensor([1.0, 0.0, -2.0], dtype=torch.float64))
    assert h.tolist() == pytest.approx([0.0, 0.0, -38e-3 / MU0])
    assert make_device("dw-straight").bias_field(torch.tensor([-1.0])) == 0.0  # no reset bias described
    assert make_device("dw-notched").bias_field(torch.tensor([-1.0])) == 0.0
    with pytest.raises(ConfigError, match="reset_field_t"):
        make_device("dw-trapezoid", reset_field_t=2.0)
    # The reset bias assists a reset: from the last deep notch a -3.0 V pulse resets only with the bias.
    last = trap.config.track.notch_positions_m[-1]
    for field_t, resets in ((-38e-3, True), (0.0, False)):
        dev = make_device("dw-trapezoid", temperature_k=0.0, q0_m=last, reset_field_t=field_t)
        st, _ = dev.apply(dev.init_state((1,)), Pulses(-3.9, width_s=50e-9, kind="voltage"))
        assert (float(st["q"]) < 1e-9) is resets
    # and a + pulse of the same device does not feel it (writes under the net 0 field)
    dev = make_device("dw-trapezoid", temperature_k=0.0)
    bare = make_device("dw-trapezoid", temperature_k=0.0, reset_field_t=0.0)
    a, _ = dev.apply(dev.init_state((1,)), Pulses(3.2, width_s=50e-9, kind="voltage"))
    b, _ = bare.apply(bare.init_state((1,)), Pulses(3.2, width_s=50e-9, kind="voltage"))
    assert torch.equal(a["q"], b["q"])
