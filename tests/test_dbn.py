"""DBN: CD-1 + fine-tuning learns; hardware inference on compound-synapse crossbars with p-bits."""

import pytest
import torch

from spinaptic.arrays.crossbar import CrossbarConfig
from spinaptic.arrays.mapping import LevelSet
from spinaptic.config import ConfigError
from spinaptic.devices.compound_synapse import CompoundSynapse, CompoundSynapseConfig
from spinaptic.networks.dbn import DBN, DBNConfig, HardwareConfig, HardwareDBN, pbit_error_rate, train_dbn
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


def _hw(dbn, tmr=4.0, bits=4, ra=10.0, **kw):
    mtj = MTJParams.from_diameter(ra, 50e-9, tmr)
    dev = CompoundSynapse(CompoundSynapseConfig(n_magnets=2**bits, mtj=mtj))
    cfg = HardwareConfig(**kw)
    return HardwareDBN(dbn, LevelSet.from_device(dev, mtj_sigma=cfg.mtj_sigma), cfg,
                       generator=torch.Generator().manual_seed(2))


def test_hardware_inference_tracks_software(trained):
    dbn, xt, yt = trained
    sw = dbn.error_rate(xt, yt)
    g = torch.Generator().manual_seed(3)
    hw = _hw(dbn, bits=6, n_samples=32)
    err = hw.error_rate(xt, yt, generator=g)
    assert err < sw + 0.08, (err, sw)
    # circuit physics: very low TMR shrinks the signed window against full scale -> noisier p-bits
    low = _hw(dbn, tmr=0.2, bits=6, n_samples=32).error_rate(xt, yt, generator=g)
    assert low > err + 0.03, (low, err)
    # noiseless, variation-free circuit with the window gain rule reproduces the quantised float network
    ideal = _hw(dbn, bits=8, n_samples=64, mtj_sigma=0.0, gain_rule="window",
                crossbar=CrossbarConfig(amp_noise_a=0.0, thermal_noise=False, shot_noise=False))
    assert ideal.error_rate(xt, yt, generator=g) < sw + 0.05
    for layer, w in zip(ideal.layers, dbn.weights):
        wq = layer.effective_weights[: w.shape[0]]
        assert float((wq - w.double()).abs().max()) <= layer.w_max / 256 / 2 * (1 + 1e-9)


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
    with pytest.raises(ConfigError, match="sizes"):
        DBNConfig(sizes=(784,))
    with pytest.raises(ConfigError, match="features"):
        train_dbn(torch.rand(10, 5), torch.zeros(10, dtype=torch.int64), DBNConfig(sizes=(4, 3, 2)))


def test_compound_dbn_quick_experiment(tmp_path):
    from spinaptic.experiments import run_experiment

    doc = run_experiment("compound-dbn", preset="quick", out_dir=tmp_path, quiet=True)
    m = doc["metrics"]
    assert m["software_error"] < 0.3 and m["hardware_error_4bit_linear"] < 0.35
    assert m["hardware_error_4bit_linear"] < m["hardware_error_4bit_nonlinear"]
    assert (tmp_path / "fig4b_error_vs_tmr.png").exists()
    assert torch.get_num_threads() >= 1
