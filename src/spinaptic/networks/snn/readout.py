"""Readout of an unsupervised STDP spiking network (paper 001; Diehl & Cook 2015): label the excitatory
neurons by their responses to labelled images, then classify new images by the votes of those neurons.

The network learns without labels, so classification needs a separate step: after training, each neuron's
class is the one it responds to most on average (`assign_labels`), and an image's class is the one whose
neurons fire most for it, either as a plain mean (`predict_all_activity`, Diehl & Cook) or with each
neuron's vote weighted by how selective it is for that class (`predict_proportion`, BindsNET's
``proportion_weighting``). `accuracy` and `confusion_matrix` score the predictions.

Every function takes a leading replica dimension R (independent networks, e.g. device-variation seeds,
evaluated at once): ``counts`` is (R, n_images, n_neurons) spike counts of any numeric dtype. A 2-D
``counts`` (n_images, n_neurons) is treated as R = 1 and the outputs lose their replica dimension again.
``labels``, ``assignments`` and ``class_rates`` may be given per replica or once, shared by all replicas.
All tensors stay on the device of ``counts`` (or ``pred``); nothing loops over images or neurons.
"""

from __future__ import annotations

from typing import Any

import torch

from ...config import ConfigError, check_int

# Score of a class with no assigned neuron: below any real mean count, so it never wins unless every
# class is empty (then all tie and the lowest class index is returned).
_EMPTY_CLASS_SCORE = -1e30


def _counts(counts: Any) -> tuple[torch.Tensor, bool]:
    """``counts`` as a float (R, n_images, n_neurons) tensor and whether the input was 2-D."""
    c = torch.as_tensor(counts)
    if c.dim() not in (2, 3):
        raise ConfigError(f"counts: expected shape (R, n_images, n_neurons) or (n_images, n_neurons), "
                          f"got {tuple(c.shape)}")
    if c.is_complex():
        raise ConfigError(f"counts: expected real spike counts, got dtype {c.dtype}")
    if not c.is_floating_point():
        c = c.float()
    return (c.unsqueeze(0), True) if c.dim() == 2 else (c, False)


def _per_replica(x: Any, name: str, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """``x`` of shape ``shape[1:]`` (shared by all replicas) or ``shape``, returned with shape ``shape``."""
    t = torch.as_tensor(x, device=device)
    if tuple(t.shape) == shape[1:]:
        return t.unsqueeze(0).expand(shape)
    if tuple(t.shape) != shape:
        raise ConfigError(f"{name}: expected shape {shape[1:]} or {shape}, got {tuple(t.shape)}")
    return t


def _indices(x: Any, name: str, shape: tuple[int, ...], device: torch.device, lo: int, n_classes: int
             ) -> torch.Tensor:
    """Integer class indices in ``[lo, n_classes)`` broadcast to ``shape``, as int64."""
    t = _per_replica(x, name, shape, device)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ConfigError(f"{name}: expected integer class indices, got dtype {t.dtype}")
    t = t.long()
    if t.numel() and (int(t.min()) < lo or int(t.max()) >= n_classes):
        raise ConfigError(f"{name}: values must lie in [{lo}, {n_classes - 1}], "
                          f"got [{int(t.min())}, {int(t.max())}]")
    return t


def _membership(assignments: torch.Tensor, n_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """(R, n_neurons, n_classes) one-hot of the assignments; a row of zeros for unassigned (-1) neurons."""
    return torch.nn.functional.one_hot(assignments + 1, n_classes + 1)[..., 1:].to(dtype)


def _vote(score_sum: torch.Tensor, n_assigned: torch.Tensor, squeeze: bool) -> torch.Tensor:
    """Argmax over classes of the per-class mean score; empty classes lose; ties -> lowest class index."""
    n = n_assigned.unsqueeze(1)                                     # (R, 1, C)
    score = torch.where(n > 0, score_sum / n.clamp_min(1), _EMPTY_CLASS_SCORE)
    pred = score.argmax(-1)                                         # first maximum = lowest class index
    return pred[0] if squeeze else pred


def assign_labels(counts: Any, labels: Any, n_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Label each neuron with the class it responds to most on average (Diehl & Cook 2015).

    ``labels`` (n_images,) or (R, n_images). Returns ``assignments`` (R, n_neurons) int64 and
    ``class_rates`` (R, n_classes, n_neurons), the mean count of every neuron over the images of each class
    (0 for a class without images). A neuron that never fired on these images gets -1 instead of
    Diehl & Cook's argmax-of-zeros class 0, so it never votes; ties between classes go to the lowest index.
    """
    n_classes = check_int("n_classes", n_classes, lo=1)
    c, squeeze = _counts(counts)
    r, n_img, _ = c.shape
    y = _indices(labels, "labels", (r, n_img), c.device, 0, n_classes)
    onehot = torch.nn.functional.one_hot(y, n_classes).to(c.dtype)  # (R, I, C)
    per_class = onehot.sum(1).clamp_min(1).unsqueeze(-1)            # (R, C, 1) images per class
    rates = onehot.transpose(1, 2) @ c / per_class                  # (R, C, N)
    best, assign = rates.max(1)
    assign = torch.where(best > 0, assign, -1)
    return (assign[0], rates[0]) if squeeze else (assign, rates)


def predict_all_activity(counts: Any, assignments: Any, n_classes: int = 10) -> torch.Tensor:
    """Class whose assigned neurons have the highest mean count on each image (Diehl & Cook 2015).

    ``assignments`` (n_neurons,) or (R, n_neurons), -1 for unassigned. Returns (R, n_images) int64.
    Classes without neurons never win unless all classes are empty; ties (e.g. an image that evoked no
    spike) go to the lowest class index.
    """
    n_classes = check_int("n_classes", n_classes, lo=1)
    c, squeeze = _counts(counts)
    r, _, n_neu = c.shape
    a = _indices(assignments, "assignments", (r, n_neu), c.device, -1, n_classes)
    member = _membership(a, n_classes, c.dtype)                     # (R, N, C)
    return _vote(c @ member, member.sum(1), squeeze)


def predict_proportion(counts: Any, assignments: Any, class_rates: Any, n_classes: int = 10) -> torch.Tensor:
    """Vote weighted by each neuron's selectivity (BindsNET ``proportion_weighting``).

    proportion[c, n] = class_rates[c, n] / sum over classes of class_rates[:, n] (0 where that sum is 0);
    the score of class c is the mean over the neurons assigned to c of counts[n] * proportion[c, n], so a
    neuron that also fires for other classes counts less. ``class_rates`` (n_classes, n_neurons) or
    (R, n_classes, n_neurons) as from `assign_labels`. Returns (R, n_images) int64; empty classes and ties
    as in `predict_all_activity`.
    """
    n_classes = check_int("n_classes", n_classes, lo=1)
    c, squeeze = _counts(counts)
    r, _, n_neu = c.shape
    a = _indices(assignments, "assignments", (r, n_neu), c.device, -1, n_classes)
    rates = _per_replica(class_rates, "class_rates", (r, n_classes, n_neu), c.device).to(c.dtype)
    total = rates.sum(1, keepdim=True)
    proportion = torch.where(total > 0, rates / total.masked_fill(total == 0, 1), 0)
    member = _membership(a, n_classes, c.dtype)                     # (R, N, C)
    return _vote(c @ (member * proportion.transpose(1, 2)), member.sum(1), squeeze)


def _predictions(pred: Any, labels: Any, n_classes: int | None) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """``pred`` as (R, n_images) int64 with ``labels`` broadcast to it, and whether ``pred`` was 1-D."""
    p = torch.as_tensor(pred)
    if p.dim() not in (1, 2):
        raise ConfigError(f"pred: expected shape (R, n_images) or (n_images,), got {tuple(p.shape)}")
    squeeze = p.dim() == 1
    p = p.unsqueeze(0) if squeeze else p
    hi = n_classes if n_classes is not None else torch.iinfo(torch.int64).max
    p = _indices(p, "pred", tuple(p.shape), p.device, 0 if n_classes is not None else -1, hi)
    y = _indices(labels, "labels", tuple(p.shape), p.device, 0, hi)
    return p, y, squeeze


def accuracy(pred: Any, labels: Any) -> torch.Tensor:
    """Fraction of correct predictions per replica: (R,) float32 (0-dim for a 1-D ``pred``)."""
    p, y, squeeze = _predictions(pred, labels, None)
    acc = (p == y).float().mean(-1)
    return acc[0] if squeeze else acc


def confusion_matrix(pred: Any, labels: Any, n_classes: int = 10) -> torch.Tensor:
    """Counts of (true, predicted) pairs per replica: (R, n_classes, n_classes) int64, rows = true class.

    Row sums are the number of images of each class; the trace over the row sums is the accuracy.
    """
    n_classes = check_int("n_classes", n_classes, lo=1)
    p, y, squeeze = _predictions(pred, labels, n_classes)
    r = p.shape[0]
    replica = torch.arange(r, device=p.device).unsqueeze(1)
    flat = ((replica * n_classes + y) * n_classes + p).reshape(-1)
    conf = torch.bincount(flat, minlength=r * n_classes * n_classes).view(r, n_classes, n_classes)
    return conf[0] if squeeze else conf
