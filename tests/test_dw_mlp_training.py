"""Paper 003 Fig. 5 (dw-mlp-training): configuration names and validation, the ideal table, the quick preset
learning (and notched below continuous), exact resume after a kill, physics in the loop, and the rows' logic."""

import json

import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.devices.lookup_table import LookupTableDevice
from spinaptic.devices.lookup_table.builders import ideal_table
from spinaptic.experiments import dw_mlp_training as dm
from spinaptic.experiments import get_experiment, run_experiment
from spinaptic.experiments._dw_mlp_training_targets import QUOTES
from spinaptic.experiments.base import VOLATILE_FIELDS, resolve_config
from spinaptic.experiments.comparison import find_paper_text, quote_in_text
from test_comparisons import assert_rows_honest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _stable(doc):
    return {k: v for k, v in doc.items() if k not in VOLATILE_FIELDS}


# ----------------------------------------------------------------------------------------- names and config
def test_configuration_names_parse_to_canonical_keys():
    s = dm.parse_configuration("fashion/stt-300K/32+pc")
    assert (s.dataset, s.tables, s.technology, s.temperature_k, s.n_levels, s.carry) == ("fashion", "genuine", "stt", 300, 32, True)
    assert s.family == "carry" and s.key == "fashion/stt-300K/32+pc@carry" and s.label == "fashion/stt-300K/32+pc"
    assert dm.parse_configuration("mnist/numeric").key == "mnist/numeric@numeric"
    o = dm.parse_configuration("fashion/sot-400K-ours/cont")
    assert (o.tables, o.technology, o.temperature_k, o.n_levels, o.family) == ("ours", "sot", 400, 0, "continuous")
    e = dm.parse_configuration("fashion/stt-300K/32@continuous")
    assert e.label == e.key == "fashion/stt-300K/32@continuous"
    # the notched default family and an explicit @notched are the same configuration (trained once)
    assert dm.parse_configuration("fashion/stt-300K/32@notched").key == dm.parse_configuration("fashion/stt-300K/32").key
    cfg = dm.DWMLPTrainingConfig(configurations=("fashion/stt-300K/32", "fashion/stt-300K/32@notched", "mnist/numeric@0.5"))
    assert [s.key for s in cfg.specs()] == ["fashion/stt-300K/32@notched", "mnist/numeric@0.5"]
    assert cfg.specs()[1].lr(cfg) == 0.5 and cfg.specs()[0].lr(cfg) == cfg.lr_notched
    for bad in ("cifar/numeric", "fashion/stt-350K/32", "fashion/stt-300K/1", "fashion/stt-300K/x", "fashion/stt-300K",
                "fashion/numeric@fast", "fashion/numeric@-1", "", "fashion/xyz-300K/cont"):
        with pytest.raises(ConfigError):
            dm.parse_configuration(bad)


def test_config_validation_and_cli_overrides():
    spec = get_experiment("dw-mlp-training")
    cfg = resolve_config(spec, "quick", {"configurations": "mnist/numeric,fashion/sot-300K/64", "epochs": "3"})
    assert cfg.configurations == ("mnist/numeric", "fashion/sot-300K/64") and cfg.epochs == 3
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_config(spec, "quick", {"configurations": "fashion/stt-500K/32"})
    with pytest.raises(ConfigError, match="n_validation"):  # alpha is never chosen on the test set
        dm.DWMLPTrainingConfig(lr_grid=(0.1,))
    with pytest.raises(ConfigError, match="exceeds"):
        dm.DWMLPTrainingConfig(n_train=59000, n_validation=2000)
    with pytest.raises(ConfigError, match="nothing to train"):
        dm.DWMLPTrainingConfig(configurations=())
    with pytest.raises(ConfigError):
        dm.DWMLPTrainingConfig(w_max=0.0)
    with pytest.raises(ConfigError):
        dm.DWMLPTrainingConfig(targets=dm.DWMLPTrainingTargets(carry_recovery_min=1.5))
    assert dm.DWMLPTrainingConfig().full_protocol and not dm.QUICK.full_protocol
    assert set(spec.presets) >= {"quick", "cpu", "paper", "lr-search"}
    paper = spec.presets["paper"]
    assert paper.epochs == 20 and paper.n_seeds == 3 and paper.full_protocol
    keys = {s.key for s in paper.specs()}
    for want in ("mnist/numeric@numeric", "fashion/sot-400K/32+pc@carry", "fashion/sot-300K/1024@continuous",
                 "fashion/stt-300K/8@notched", "fashion/stt-300K-ours/32@notched"):
        assert want in keys


def test_paper_quotes_are_verbatim():
    text = find_paper_text("003")
    if text is None:
        pytest.skip("paper 003 text not available")
    for k, q in QUOTES.items():
        assert quote_in_text(q, text), k


def test_ideal_table_realises_every_request_exactly():
    dev = LookupTableDevice(table=ideal_table((0.0, 1e-4), 1e-6), dtype="float64")
    assert dev.mean_step(1) == pytest.approx(1e-6) and dev.mean_step(-1) == pytest.approx(1e-6)
    st = dev.init_state((4,))
    st["g"] = torch.full((4,), 5e-5, dtype=torch.float64)
    req = torch.tensor([1e-7, -3.3e-7, 0.0, 2.5e-6], dtype=torch.float64)
    new, energy = dev.program_fractional(st, req)
    assert torch.allclose(new["g"] - 5e-5, req, atol=1e-15)
    after = dev.sampler().step(st["g"], st["instance"], torch.tensor([3, -2, 0, 60]), None)
    assert torch.allclose(after, torch.tensor([5.3e-5, 4.8e-5, 5e-5, 1e-4], dtype=torch.float64))  # clipped at G_max
    with pytest.raises(ConfigError):
        ideal_table((1e-4, 0.0))
    with pytest.raises(ConfigError):
        ideal_table(step=0.0)


# ----------------------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def quick_doc():
    from _quick_runs import quick_run

    return quick_run("dw-mlp-training")[1]


def test_quick_preset_learns_and_notches_cost_accuracy(quick_doc):
    m = quick_doc["metrics"]
    cont, notch = m["fashion/stt-300K/cont/final_accuracy"], m["fashion/stt-300K/32/final_accuracy"]
    assert cont > 55.0  # chance is 10 %; one epoch of 2000 Fashion-MNIST images
    assert notch > 15.0
    assert notch < cont - 5.0  # 32 notches without carry below continuous levels
    rows = {c["quantity"]: c for c in quick_doc["comparisons"]}
    loss = rows["Fashion-MNIST: accuracy lost by 32 notches without carry (vs continuous levels, final epoch)"]
    assert loss["kind"] == "paper" and loss["ours"] == pytest.approx(cont - notch, abs=0.01)
    assert all(c["verdict"] == "pass" for c in quick_doc["comparisons"] if c["kind"] == "check")
    assert_rows_honest(quick_doc)
    assert "fig5ab_accuracy_vs_epoch.png" in quick_doc["figures"]
    conf = {r["configuration"]: r for r in quick_doc["tables"]["Configurations (mean over seeds; energies per training image)"]}
    assert conf["fashion/stt-300K/32"]["program_pJ_per_image"] > 0 and conf["fashion/stt-300K/cont"]["read_pJ_per_image"] > 0
    assert quick_doc["timings"]["training_samples_per_s"]["fashion/stt-300K/cont"] > 0
    assert quick_doc["timings"]["paper_preset_projection"]["cpu_hours"] > 0


TINY = {"configurations": "fashion/stt-300K/32+pc", "n_train": 150, "n_test": 200, "epochs": 3, "hidden": 12,
        "figures": False}


def test_a_killed_run_resumes_exactly(tmp_path, monkeypatch):
    full = run_experiment("dw-mlp-training", seed=1, out_dir=tmp_path / "full", quiet=True, overrides=TINY, threads=1)

    class Killed(Exception):
        pass

    def kill(key, epoch):
        if epoch == 1:
            raise Killed(key)

    monkeypatch.setattr(dm, "_after_epoch", kill)
    with pytest.raises(Killed):
        run_experiment("dw-mlp-training", seed=1, out_dir=tmp_path / "killed", quiet=True, overrides=TINY, threads=1)
    running = list((tmp_path / "killed" / "checkpoints").rglob("*running.pt"))
    assert len(running) == 1  # the epoch checkpoint of the interrupted configuration
    monkeypatch.setattr(dm, "_after_epoch", lambda key, epoch: None)
    again = run_experiment("dw-mlp-training", seed=1, out_dir=tmp_path / "killed", quiet=True, overrides=TINY, threads=1)
    assert json.dumps(_stable(again), sort_keys=True) == json.dumps(_stable(full), sort_keys=True)
    assert not list((tmp_path / "killed" / "checkpoints").rglob("*running.pt"))
    hist = again["metrics"]["histories"]["fashion/stt-300K/32+pc"][0]
    assert [h["epoch"] for h in hist] == [1, 2, 3] and [h["lr"] for h in hist] == [dm.DWMLPTrainingConfig().lr_carry] * 3


def test_physics_in_the_loop_matches_its_table(tmp_path):
    doc = run_experiment("dw-mlp-training", seed=0, out_dir=tmp_path, quiet=True, threads=1,
                         overrides={"configurations": "", "loop_n_train": 200, "loop_n_test": 300, "loop_epochs": 1})
    m = doc["metrics"]
    assert m["loop_dw_accuracy"] > 40.0 and m["loop_table_accuracy"] > 40.0  # MNIST, 200 images: learning works
    (row,) = [c for c in doc["comparisons"] if c["quantity"].startswith("Physics in the loop")]
    assert row["kind"] == "check" and row["ours"] == pytest.approx(m["loop_dw_accuracy"] - m["loop_table_accuracy"], abs=0.01)
    assert m["loop_dw_program_j_per_image"] > 0 and m["loop_table_program_j_per_image"] > 0
    assert "physics_in_the_loop.png" in doc["figures"]
    assert_rows_honest(doc)


# ----------------------------------------------------------------------------------------- rows
def _fake_stats(accs, *, n_epochs=20, best=None):
    stats = {}
    for name, a in accs.items():
        spec = dm.parse_configuration(name)
        b = (best or {}).get(name, a)
        stats[spec.key] = {"final": a, "final_std": 0.0, "best": b, "best_std": 0.0, "spec": spec,
                           "curve": [a] * n_epochs, "curve_std": [0.0] * n_epochs}
    return stats


def _rows(accs, cfg=None, **kw):
    cfg = cfg or dm.DWMLPTrainingConfig(configurations=tuple(accs))
    return {r.quantity: r for r in dm.Rows(cfg, _fake_stats(accs, **kw), lambda n: dm.parse_configuration(n).key).build()}


def test_rows_follow_the_paper_statements():
    accs = {"fashion/numeric": 88.0, "fashion/stt-300K/cont": 87.5, "fashion/stt-300K/32": 70.0,
            "fashion/stt-300K/32+pc": 84.0, "fashion/sot-300K/cont": 87.0, "fashion/sot-300K/32+pc": 85.0,
            "fashion/stt-400K/cont": 87.3, "fashion/sot-400K/cont": 86.0,
            "fashion/stt-300K/32@continuous": 10.0, "fashion/sot-300K/32@continuous": 72.0,
            "fashion/stt-300K/1024@continuous": 86.0, "fashion/sot-300K/1024@continuous": 87.0,
            "fashion/stt-300K/1024@notched": 85.0}
    rows = _rows(accs, best={"fashion/stt-300K/32@notched": 70.0})
    by = lambda s: next(r for q, r in rows.items() if s in q)  # noqa: E731
    assert by("ideal numeric - STT 300 K continuous").verdict == "pass"
    assert by("lost by 32 notches").ours == 18.0 and by("lost by 32 notches").verdict == "pass"
    assert by("recovered by periodic carry").ours == pytest.approx(14 / 18, abs=1e-3)
    assert by("300 K: STT - SOT, continuous").verdict == "pass"
    assert by("300 K: SOT - STT, 32 notches").verdict == "pass"
    assert by("STT continuous: 300 K - 400 K").verdict == "pass"
    assert by("SOT continuous: 300 K - 400 K").verdict == "pass"
    assert by("SOT - STT at 32 notches").ours == 62.0 and by("SOT - STT at 32 notches").verdict == "pass"
    assert by("converges").verdict == "pass"
    assert by("higher alpha").verdict == "pass"  # 10 < 70 < 72 at 32, 85 < 87 at 1024
    assert by("ideal numeric test accuracy").verdict == "pass"  # full protocol: absolute rows are judged
    # on a subset the absolute rows are not comparable, the paired differences still judged
    sub = _rows(accs, cfg=dm.DWMLPTrainingConfig(configurations=tuple(accs), n_train=4000, epochs=10, n_seeds=1))
    assert next(r for q, r in sub.items() if "ideal numeric test accuracy" in q).verdict == "not-comparable"
    assert next(r for q, r in sub.items() if "lost by 32 notches" in q).verdict == "pass"
    # a temperature difference beyond the tolerance is short
    hot = _rows({**accs, "fashion/sot-400K/cont": 80.0})
    assert next(r for q, r in hot.items() if "SOT continuous: 300 K - 400 K" in q).verdict == "short"


def test_points_of_a_split_run_share_their_trainings_with_the_full_run(tmp_path, monkeypatch):
    """One configuration-seed per run (the sweep split of the paper preset) with a shared stage store: the full
    run that follows trains nothing and reports what a run without the store reports."""
    base = {**TINY, "configurations": "fashion/stt-300K/cont,fashion/stt-300K/32", "n_seeds": 2, "epochs": 1}
    store = tmp_path / "store"
    for conf in ("fashion/stt-300K/cont", "fashion/stt-300K/32"):
        for s in (0, 1):
            run_experiment("dw-mlp-training", seed=1, out_dir=tmp_path / f"p-{conf.split('/')[-1]}-{s}", quiet=True,
                           overrides={**base, "configurations": conf, "seeds": str(s), "stage_store": str(store)},
                           threads=1)
    def stages():
        return {p.name: p.stat().st_mtime_ns for p in store.rglob("train*.pt")}

    before = stages()
    assert len(before) == 4

    def no_training(*a, **k):
        raise AssertionError("the full run trained a model the store holds")

    monkeypatch.setattr(dm.DeviceMLP, "train_epoch", no_training)
    gathered = run_experiment("dw-mlp-training", seed=1, out_dir=tmp_path / "all", quiet=True,
                              overrides={**base, "stage_store": str(store)}, threads=1)
    assert stages() == before
    monkeypatch.undo()
    alone = run_experiment("dw-mlp-training", seed=1, out_dir=tmp_path / "alone", quiet=True, overrides=base, threads=1)
    assert gathered["metrics"]["histories"] == alone["metrics"]["histories"]
    assert [c["ours"] for c in gathered["comparisons"]] == [c["ours"] for c in alone["comparisons"]]


def test_the_paper_preset_is_declared_as_a_sweep_of_configuration_seeds(tmp_path):
    from spinaptic.sweeps import plan_sweep

    plan = plan_sweep("dw-mlp-training", None, 1, preset="paper", out_dir=tmp_path / "sweep")
    assert not (tmp_path / "sweep").exists()  # planning writes nothing
    assert len(plan.points) == len(dm.PAPER.specs()) * dm.PAPER.n_seeds
    assert {(p.overrides["configurations"], p.overrides["seeds"]) for p in plan.points} == {
        ((s.key,), (k,)) for s in dm.PAPER.specs() for k in range(dm.PAPER.n_seeds)}
    assert all(p.overrides["loop_n_train"] == 0 for p in plan.points)
    assert dm.PAPER.stage_store == "auto"  # the points and the gathering run share their trainings
