"""DBN: CD-1 + fine-tuning learns; hardware inference on compound-synapse tiles programmed by pulses, with p-bits."""

import pytest
import torch

from spinaptic.arrays.crossbar import CrossbarConfig
from spinaptic.config import ConfigError
from spinaptic.devices.compound_synapse import CompoundSynapse, CompoundSynapseConfig
from spinaptic.networks.dbn import (
    DBN,
    DBNConfig,
    HardwareConfig,
    HardwareDBN,
    pbit_error_rate,
    programming_device,
    train_dbn,
)
from spinaptic.physics.mtj import MTJParams


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def trained():
    from spinaptic.data import load_dataset

    torch.set_num_threads(1)
    x, y = load_dataset("mnist-sample", "train", flatten=True)
    xt, yt = load_dataset("mnist-sample", "test", flatten=True)
    cfg = DBNConfig(pretrain_epochs=1, finetune_epochs=15, finetune_lr=0.5)
    dbn = train_dbn(x, y, cfg, generator=torch.Generator().manual_seed(0), x_val=xt, y_val=yt)
    return dbn, xt, yt


def test_quick_dbn_learns(trained):
    dbn, xt, yt = trained
    err = dbn.error_rate(xt, yt)
    assert err < 0.3, err  # chance is 0.9
    assert dbn.history["rbm0_recon_error"][0] > 0
    assert dbn.history["finetune_loss"][-1] < dbn.history["finetune_loss"][0]
    assert pbit_error_rate(dbn, xt, yt, 16, generator=torch.Generator().manual_seed(1)) < 0.35
    d2 = DBN.from_state_dict(dbn.state_dict())
    assert torch.equal(d2.predict(xt), dbn.predict(xt))


def _device(tmr=4.0, bits=4, ra=10.0):
    return CompoundSynapse(CompoundSynapseConfig(n_magnets=2**bits, mtj=MTJParams.from_diameter(ra, 50e-9, tmr)))


def _hw(dbn, tmr=4.0, bits=4, ra=10.0, seed=2, **kw):
    return HardwareDBN(dbn, _device(tmr, bits, ra), HardwareConfig(**kw), generator=torch.Generator().manual_seed(seed))


def test_hardware_inference_tracks_software(trained):
    dbn, xt, yt = trained
    sw = dbn.error_rate(xt, yt)
    g = torch.Generator().manual_seed(3)
    hw = _hw(dbn, bits=6, n_samples=32)
    err = hw.error_rate(xt, yt, generator=g)
    assert abs(err - sw) < 0.05, (err, sw)  # 6-bit synapses programmed by pulses: within a band of software
    assert hw.converged_fraction > 0.999
    # circuit physics: very low TMR shrinks the signed window against full scale -> noisier p-bits
    e4 = _hw(dbn, bits=4, n_samples=32).error_rate(xt, yt, generator=g)
    low = _hw(dbn, tmr=0.2, bits=4, n_samples=32).error_rate(xt, yt, generator=g)
    assert low > e4 + 0.1, (low, e4)
    # noiseless, variation-free circuit with the window gain rule reproduces the quantised float network
    # wherever the write-and-verify converged
    ideal = _hw(dbn, bits=6, n_samples=64, mtj_sigma=0.0, gain_rule="window",
                crossbar=CrossbarConfig(amp_noise_a=0.0, thermal_noise=False, shot_noise=False))
    assert ideal.error_rate(xt, yt, generator=g) < sw + 0.05
    for layer, w in zip(ideal.layers, dbn.weights):
        ok = layer.converged.all(0).T[: w.shape[0]]
        assert float(ok.double().mean()) > 0.999
        wq = layer.effective_weights[: w.shape[0]]
        assert float((wq - w.double()).abs()[ok].max()) <= layer.w_max / 64 / 2 * (1 + 1e-9)


def test_amplitude_write_and_verify_reaches_levels():
    dev = _device(bits=4)
    prog = programming_device(dev)
    g = torch.Generator().manual_seed(0)
    lv = dev.levels()
    k = torch.randint(0, 17, (3000,), generator=g)
    k[:500] = 0  # already at the reset level: never pulsed
    st = prog.init_state((3000,), generator=g)
    new, energy, ok = prog.program(st, lv[k], max_iterations=30, generator=g)
    assert float(ok.double().mean()) > 0.999
    assert torch.equal(dev.n_switched(new)[ok], k[ok])  # converged = exactly the target level (half-step tolerance)
    assert bool((energy[:500] == 0).all()) and torch.equal(new["s"][:500], st["s"][:500])
    assert bool((energy[k > 0] > 0).all())
    assert torch.equal(new["delta0"], st["delta0"])  # the per-magnet spread is the device's, not rewritten
    # one open-loop shot lands at random (Bernoulli switching, magnet spread): the verify is what converges
    _, e1, ok1 = prog.program(st, lv[k], max_iterations=1, generator=g)
    assert float(ok1.double().mean()) < 0.9 and float(e1.sum()) < float(energy.sum())
    # the fixed nominal pulse (Device.program) is too coarse to settle as many devices in as many cycles
    _, _, ok_nom = dev.program(st, lv[k], tolerance_s=0.5 * float(lv[1] - lv[0]), max_iterations=5, generator=g)
    _, _, ok5 = prog.program(st, lv[k], max_iterations=5, generator=g)
    assert float(ok5.double().mean()) > float(ok_nom.double().mean())


def test_hardware_conductances_come_from_pulses(trained):
    dbn, _, _ = trained
    exact = _hw(dbn, bits=4, mtj_sigma=0.0)
    noisy = _hw(dbn, bits=4, mtj_sigma=0.0, write_noise_std=0.3)
    lv = _device(bits=4).levels()
    step = float(lv[1] - lv[0])
    for hw in (exact, noisy):
        assert hw.program_energy_j > 0
        assert hw.program_energy_j == pytest.approx(sum(layer.tile.program_energy_j for layer in hw.layers))
        for layer in hw.layers:
            g = torch.stack(layer.tile.conductances())  # [2, out, rows], programmed through the tile
            target = layer.target_g
            assert torch.equal(layer.crossbar.g_pos, g[0].T)  # the read uses the programmed conductances
            ok = layer.converged
            assert bool(((g - target).abs()[ok] <= 0.5 * step * (1 + 1e-9)).all())
            assert not bool(((g - target).abs()[~ok] <= 0.5 * step).any())
    # without write noise a converged device sits exactly on its level; with it, pulsed devices are off-level
    l_exact, l_noisy = exact.layers[0], noisy.layers[0]
    g_e = torch.stack(l_exact.tile.conductances())
    t = l_exact.target_g
    assert torch.allclose(g_e[l_exact.converged], t[l_exact.converged], rtol=1e-12, atol=0.0)
    g_n = torch.stack(l_noisy.tile.conductances())
    off = (g_n - l_noisy.target_g).abs() > 1e-3 * step
    pulsed = l_noisy.target_g > lv[0] * (1 + 1e-9)
    assert float(off[pulsed].double().mean()) > 0.9
    assert not bool(off[~pulsed].any())  # reset-level devices get no pulse, so no write noise
    assert noisy.program_energy_j > exact.program_energy_j  # noisy writes need more verify pulses


def test_write_noise_degrades_accuracy(trained):
    dbn, xt, yt = trained
    g = torch.Generator().manual_seed(5)
    clean = _hw(dbn, bits=4, n_samples=32)
    noisy = _hw(dbn, bits=4, n_samples=32, write_noise_std=1.0)
    e_clean, e_noisy = clean.error_rate(xt, yt, generator=g), noisy.error_rate(xt, yt, generator=g)
    assert e_noisy > e_clean + 0.15, (e_noisy, e_clean)
    assert noisy.converged_fraction < clean.converged_fraction


def test_energy_per_inference(trained):
    dbn, xt, _ = trained
    hw = _hw(dbn)
    e = hw.read_energy(xt[:50], generator=torch.Generator().manual_seed(4))
    assert 0 < e["layer2_read_J"] < e["layer1_read_J"]
    assert e["crossbar_total_J"] == pytest.approx(e["layer1_read_J"] + e["layer2_read_J"])
    # energy ~ 1/RA: ten times the RA, a tenth of the read energy
    e10 = _hw(dbn, ra=100.0).read_energy(xt[:50], generator=torch.Generator().manual_seed(4))
    assert e10["layer1_read_J"] == pytest.approx(e["layer1_read_J"] / 10, rel=0.02)


def test_bad_configs():
    with pytest.raises(ConfigError, match="n_samples"):
        HardwareConfig(n_samples=0)
    with pytest.raises(ConfigError, match="gain_rule"):
        HardwareConfig(gain_rule="auto")
    with pytest.raises(ConfigError, match="write_noise_std = -0.1 .relative to the nominal step"):
        HardwareConfig(write_noise_std=-0.1)
    with pytest.raises(ConfigError, match="program_iterations"):
        HardwareConfig(program_iterations=0)
    with pytest.raises(ConfigError, match="sizes"):
        DBNConfig(sizes=(784,))
    with pytest.raises(ConfigError, match="features"):
        train_dbn(torch.rand(10, 5), torch.zeros(10, dtype=torch.int64), DBNConfig(sizes=(4, 3, 2)))


def test_compound_dbn_quick_experiment():
    from _quick_runs import quick_run

    out, doc = quick_run("compound-dbn")
    m = doc["metrics"]
    assert m["software_error"] < 0.3 and m["hardware_error_4bit_linear"] < 0.35
    assert m["hardware_error_4bit_linear"] < m["hardware_error_4bit_nonlinear"]
    assert m["program_energy_J"] > 0 and m["converged_fraction_min"] > 0.99
    assert (out / "fig4b_error_vs_tmr.png").exists()
    assert torch.get_num_threads() >= 1
