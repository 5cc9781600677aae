"""SNN readout (paper 001): label assignment, all-activity and proportion voting, accuracy, confusion matrix,
replica dimension, input validation; smoke test of the STDP figure functions."""

import numpy as np
import pytest
import torch

from spinaptic.config import ConfigError
from spinaptic.experiments import _snn_stdp_figures as figs
from spinaptic.networks.snn.readout import (
    accuracy,
    assign_labels,
    confusion_matrix,
    predict_all_activity,
    predict_proportion,
)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _selective(n_images=50, n_neurons=30, rate=5):
    """Neuron k fires ``rate`` spikes for images of class k % 10 and nothing otherwise."""
    labels = torch.arange(n_images) % 10
    counts = (torch.arange(n_neurons)[None, :] % 10 == labels[:, None]).to(torch.int32) * rate
    return counts, labels


def _reference(counts, assignments, weight, n_classes):
    """Loop version of the vote: mean over the neurons of each class of counts * weight[c]."""
    score = torch.full((counts.shape[0], n_classes), -1e30, dtype=torch.float64)
    for c in range(n_classes):
        idx = assignments == c
        if idx.any():
            score[:, c] = (counts[:, idx].double() * weight[c, idx].double()).sum(1) / idx.sum()
    return score.argmax(1)


def test_selective_neurons_labelled_and_images_classified():
    counts, labels = _selective()
    assign, rates = assign_labels(counts, labels)
    assert assign.dtype == torch.int64 and assign.shape == (30,)
    assert torch.equal(assign, torch.arange(30) % 10)
    assert rates.shape == (10, 30)
    assert torch.allclose(rates, 5.0 * (torch.arange(10)[:, None] == torch.arange(30)[None, :] % 10))
    for pred in (predict_all_activity(counts, assign), predict_proportion(counts, assign, rates)):
        assert pred.shape == (50,) and torch.equal(pred, labels)
    assert float(accuracy(predict_all_activity(counts, assign), labels)) == 1.0


def test_never_firing_neurons_get_minus_one_and_do_not_vote():
    counts, labels = _selective()
    counts = torch.cat([counts, torch.zeros(50, 4, dtype=counts.dtype)], 1)
    assign, rates = assign_labels(counts, labels)
    assert torch.equal(assign[30:], torch.full((4,), -1))
    assert (rates[:, 30:] == 0).all()
    # The dead neurons firing at test time must not change any vote.
    test = counts.clone()
    test[:, 30:] = 100
    assert torch.equal(predict_all_activity(test, assign), labels)
    assert torch.equal(predict_proportion(test, assign, rates), labels)


def test_proportion_weighting_favours_selective_neurons():
    # Neuron A: mean 3 for class 0, 2 for class 1 -> class 0, proportion (0.6, 0.4); neuron B only class 1.
    train = torch.tensor([[3.0, 0.0], [2.0, 1.0]])
    assign, rates = assign_labels(train, torch.tensor([0, 1]), n_classes=2)
    assert assign.tolist() == [0, 1]
    test = torch.tensor([[2.0, 1.5]])
    assert predict_all_activity(test, assign, n_classes=2).tolist() == [0]     # 2 > 1.5
    assert predict_proportion(test, assign, rates, n_classes=2).tolist() == [1]  # 0.6*2 = 1.2 < 1.5


def test_votes_match_loop_reference_on_random_counts():
    g = torch.Generator().manual_seed(0)
    counts = torch.poisson(torch.rand(200, 64, generator=g) * 3, generator=g)
    counts[:, :3] = 0                                    # dead neurons
    labels = torch.randint(0, 10, (200,), generator=g)
    labels[labels == 7] = 8                              # a class without images
    assign, rates = assign_labels(counts, labels)
    assert (rates[7] == 0).all()
    for c in range(10):
        if (labels == c).any():
            assert torch.allclose(rates[c], counts[labels == c].mean(0))
    test = torch.poisson(torch.rand(100, 64, generator=g) * 3, generator=g)
    ones = torch.ones(10, 64)
    total = rates.sum(0, keepdim=True)
    prop = torch.where(total > 0, rates / total.clamp_min(1e-30), 0)
    assert torch.equal(predict_all_activity(test, assign), _reference(test, assign, ones, 10))
    assert torch.equal(predict_proportion(test, assign, rates), _reference(test, assign, prop, 10))


def test_empty_classes_never_win_and_ties_go_to_lowest_class():
    zeros = torch.zeros(4, 6)
    assign = torch.tensor([5, 5, 8, -1, 8, 5])
    assert predict_all_activity(zeros, assign).tolist() == [5] * 4        # tie between 5 and 8 -> 5
    assert predict_all_activity(zeros, torch.full((6,), -1)).tolist() == [0] * 4  # all classes empty
    rates = torch.zeros(10, 6)
    assert predict_proportion(zeros, assign, rates).tolist() == [5] * 4
    # Neuron responding equally to classes 2 and 4 is labelled 2.
    a, _ = assign_labels(torch.tensor([[1.0], [1.0]]), torch.tensor([4, 2]))
    assert a.tolist() == [2]


def test_replica_dimension_matches_per_replica_calls():
    g = torch.Generator().manual_seed(1)
    R = 3
    counts = torch.poisson(torch.rand(R, 80, 40, generator=g) * 2, generator=g).to(torch.int64)
    labels = torch.randint(0, 10, (80,), generator=g)
    assign, rates = assign_labels(counts, labels)
    assert assign.shape == (R, 40) and rates.shape == (R, 10, 40)
    pa, pp = predict_all_activity(counts, assign), predict_proportion(counts, assign, rates)
    assert pa.shape == pp.shape == (R, 80)
    acc, conf = accuracy(pa, labels), confusion_matrix(pa, labels)
    assert acc.shape == (R,) and conf.shape == (R, 10, 10)
    for r in range(R):
        a_r, rates_r = assign_labels(counts[r], labels)
        assert torch.equal(a_r, assign[r]) and torch.allclose(rates_r, rates[r])
        assert torch.equal(predict_all_activity(counts[r], a_r), pa[r])
        assert torch.equal(predict_proportion(counts[r], a_r, rates_r), pp[r])
        assert torch.isclose(accuracy(pa[r], labels), acc[r])
        assert torch.equal(confusion_matrix(pa[r], labels), conf[r])
    # Shared (un-replicated) assignments and per-replica labels broadcast.
    shared = predict_all_activity(counts, assign[0])
    assert torch.equal(shared[1], predict_all_activity(counts[1], assign[0]))
    a2, _ = assign_labels(counts, labels.expand(R, -1))
    assert torch.equal(a2, assign)


def test_confusion_rows_sum_to_class_counts_and_trace_is_accuracy():
    g = torch.Generator().manual_seed(2)
    labels = torch.randint(0, 10, (2, 300), generator=g)
    pred = torch.where(torch.rand(2, 300, generator=g) < 0.7, labels, torch.randint(0, 10, (2, 300), generator=g))
    conf = confusion_matrix(pred, labels)
    assert conf.dtype == torch.int64
    for r in range(2):
        assert torch.equal(conf[r].sum(1), torch.bincount(labels[r], minlength=10))
        assert torch.equal(conf[r].sum(0), torch.bincount(pred[r], minlength=10))
    acc = accuracy(pred, labels)
    assert torch.allclose(acc, conf.diagonal(dim1=1, dim2=2).sum(1) / 300.0)
    assert torch.allclose(acc, (pred == labels).float().mean(1))
    assert confusion_matrix(torch.tensor([1, 1, 0]), torch.tensor([1, 0, 0]), n_classes=2).tolist() == [[1, 1], [0, 1]]
    assert float(accuracy([1, 1, 0], [1, 0, 0])) == pytest.approx(2 / 3)


@pytest.mark.parametrize(("call", "name"), [
    (lambda c, y, a, r: assign_labels(c, y[:-1]), "labels"),
    (lambda c, y, a, r: assign_labels(c[0, 0], y), "counts"),
    (lambda c, y, a, r: assign_labels(c, y.float()), "labels"),
    (lambda c, y, a, r: assign_labels(c, y + 10), "labels"),
    (lambda c, y, a, r: predict_all_activity(c, a[:, :-1]), "assignments"),
    (lambda c, y, a, r: predict_all_activity(c, torch.zeros(5, 30, dtype=torch.long)), "assignments"),
    (lambda c, y, a, r: predict_proportion(c, a, r[:, :5]), "class_rates"),
    (lambda c, y, a, r: predict_proportion(c, a.clamp(max=8), r, n_classes=9), "class_rates"),
    (lambda c, y, a, r: accuracy(y[None].expand(2, -1), y[:-1]), "labels"),
    (lambda c, y, a, r: confusion_matrix(y, y[:-1]), "labels"),
    (lambda c, y, a, r: confusion_matrix(y.float(), y), "pred"),
])
def test_mismatched_inputs_raise_config_error_naming_argument(call, name):
    counts, labels = _selective()
    counts = counts.expand(2, -1, -1)
    assign, rates = assign_labels(counts, labels)
    with pytest.raises(ConfigError, match=f"^{name}") as exc:
        call(counts, labels, assign, rates)
    assert "\n" not in str(exc.value)


def test_figure_functions_write_png(tmp_path):
    rng = np.random.default_rng(0)
    png = b"\x89PNG"
    out = [
        figs.plot_conductance_maps(rng.random((784, 25)), tmp_path / "maps.png", title="maps", n_cols=10,
                                   unit="conductance (S)"),
        figs.plot_stdp_window(np.arange(-20, 21), 1e-6 * np.sign(np.arange(-20, 21)), tmp_path / "w1.png",
                              title="window"),
        figs.plot_stdp_window({"SOT": ([-2, 0, 3], [-1e-6, 0, 2e-6]), "STT": ([1, 2], [1e-6, 5e-7])}, None,
                              tmp_path / "w2.png", title="windows"),
        figs.plot_confusion(rng.integers(0, 50, (10, 10)), tmp_path / "conf.png", title="confusion"),
        figs.plot_learning_curve({"ours": ([100, 1000, 10000], [40.0, 70.0, 80.0], [2.0, 1.0, 0.5]),
                                  "no spread": ([100, 1000], [30.0, 60.0])}, tmp_path / "lc.png",
                                 title="learning", paper_lines={"Diehl & Cook 2015": 82.9}),
        figs.plot_variation({"SOT": ([0, 5, 10], [80.0, 78.0, 70.0], [0.5, 1.0, 2.0])}, tmp_path / "var.png",
                            title="variation"),
        figs.plot_energy_bars({"training": 3e-6, "inference": 2e-9}, tmp_path / "sub" / "energy.png",
                              title="energy"),
    ]
    for p in out:
        assert p.exists() and p.stat().st_size > 1000 and p.read_bytes()[:4] == png
    with pytest.raises(ConfigError, match="^weights"):
        figs.plot_conductance_maps(rng.random((780, 4)), tmp_path / "bad.png", title="bad")
    with pytest.raises(ConfigError, match="^items"):
        figs.plot_energy_bars({"zero": 0.0}, tmp_path / "bad.png", title="bad")
