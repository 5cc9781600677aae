"""Float CNNs for the analog-inference studies: the CIFAR ResNet-n of He et al. (2016, sec. 4.2), a tiny CNN for
CI, seeded initialisation, BatchNorm folding, and a batch-vectorised float training loop.

* `CIFARResNet`: a 3x3 stem, three stages of (depth - 2) / 6 basic blocks at 16, 32, 64 channels (times
  ``width``; paper 002's ResNet56 has "4x more channels in every convolutional layer": 13.7 M weights), global
  average pooling and a linear classifier. Shortcuts: option "A" (He et al.'s CIFAR choice: identity, and on a
  stage change a stride-2 subsampling zero-padded in channels, no weights) or "B" (a 1x1 stride-2 convolution
  with BatchNorm on a stage change). Every convolution has numeric zero padding and groups = 1, so
  `nn.convert_to_analog` converts all of them.
* BatchNorm: `fold_batchnorm` folds every conv-BN pair into one convolution with a bias (exact at inference),
  so that the analog weights are the folded ones and no digital normalisation remains; without folding the BN
  layers simply stay digital (`convert_to_analog` converts only convolutions and linear layers).
* `train_classifier`: SGD with Nesterov momentum and weight decay, or Adam; cosine or step learning-rate
  schedule; standard CIFAR augmentation (4-pixel zero-padded random crop and horizontal flip, vectorised over
  the batch); every random draw from the given generator; ``device=`` for CPU or CUDA.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..config import ConfigError, check_choice, check_int, check_range

SHORTCUTS = ("A", "B")
MODELS = ("resnet", "tiny-cnn")


@dataclass(frozen=True)
class ResNetConfig:
    """Attributes:
    model: "resnet" (`CIFARResNet`) or "tiny-cnn" (`TinyCNN`, two conv layers: CI runs).
    depth: ResNet depth 6n + 2 (20, 32, 44, 56, 110; paper 002: 56).
    width: channel multiplier of every convolution (paper 002: 4).
    n_classes: output classes (CIFAR-10: 10, CIFAR-100: 100).
    in_channels: image channels (3 for CIFAR, 1 for MNIST).
    shortcut: "A" (parameter-free, He et al.'s CIFAR networks) or "B" (1x1 projection on a stage change).
    """

    model: str = "resnet"
    depth: int = 20
    width: int = 1
    n_classes: int = 10
    in_channels: int = 3
    shortcut: str = "A"

    def __post_init__(self) -> None:
        check_choice("model", self.model, MODELS)
        check_int("depth (6n + 2 layers)", self.depth, 8, 1202)
        if (self.depth - 2) % 6:
            raise ConfigError(f"depth = {self.depth} is not of the form 6n + 2 (20, 32, 44, 56, 110, ...)")
        check_int("width (channel multiplier)", self.width, 1, 64)
        check_int("n_classes", self.n_classes, 2, 100_000)
        check_int("in_channels", self.in_channels, 1, 64)
        check_choice("shortcut", self.shortcut, SHORTCUTS)

    @property
    def label(self) -> str:
        """E.g. "ResNet56 x4" or "tiny-cnn x1"."""
        return f"ResNet{self.depth} x{self.width}" if self.model == "resnet" else f"{self.model} x{self.width}"


class ConvBN(nn.Module):
    """A bias-free convolution followed by BatchNorm; `fold` merges them into one convolution with a bias."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))

    @torch.no_grad()
    def fold(self) -> None:
        """W' = W gamma / sqrt(var + eps), b' = beta - mean gamma / sqrt(var + eps); BN becomes the identity."""
        if not isinstance(self.bn, nn.BatchNorm2d):
            return
        bn, c = self.bn, self.conv
        s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        new = nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, stride=c.stride, padding=c.padding, bias=True)
        new = new.to(device=c.weight.device, dtype=c.weight.dtype)
        new.weight.copy_(c.weight * s.view(-1, 1, 1, 1))
        new.bias.copy_(bn.bias - bn.running_mean * s)
        self.conv, self.bn = new, nn.Identity()


class BasicBlock(nn.Module):
    """Two 3x3 ConvBN with ReLU and a shortcut (option A or B, see the module docstring)."""

    def __init__(self, c_in: int, c_out: int, stride: int, shortcut: str) -> None:
        super().__init__()
        self.c1, self.c2 = ConvBN(c_in, c_out, 3, stride), ConvBN(c_out, c_out, 3)
        self.stride, self.pad = stride, c_out - c_in
        self.proj: nn.Module | None = None
        if shortcut == "B" and (stride != 1 or c_in != c_out):
            self.proj = ConvBN(c_in, c_out, 1, stride)

    def _short(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is not None:
            return self.proj(x)
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.c2(F.relu(self.c1(x))) + self._short(x))


class CIFARResNet(nn.Module):
    """He et al.'s CIFAR ResNet (``ResNetConfig.model == "resnet"``)."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        n, w = (config.depth - 2) // 6, config.width
        widths = (16 * w, 32 * w, 64 * w)
        self.stem = ConvBN(config.in_channels, widths[0], 3)
        blocks, c = [], widths[0]
        for i, c_out in enumerate(widths):
            for j in range(n):
                blocks.append(BasicBlock(c, c_out, 2 if (i > 0 and j == 0) else 1, config.shortcut))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class TinyCNN(nn.Module):
    """Two ConvBN-ReLU-maxpool stages (8 and 16 channels times ``width``), 4x4 average pooling, a linear layer."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        w = config.width
        self.c1, self.c2 = ConvBN(config.in_channels, 8 * w, 3), ConvBN(8 * w, 16 * w, 3)
        self.fc = nn.Linear(16 * w * 16, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 4), 1))


def build_model(config: ResNetConfig, *, generator: torch.Generator | None = None,
                device: torch.device | str | None = None) -> nn.Module:
    """The model of ``config`` with seeded He initialisation (`init_weights`), on ``device``."""
    model = CIFARResNet(config) if config.model == "resnet" else TinyCNN(config)
    init_weights(model, generator)
    return model.to(device) if device is not None else model


@torch.no_grad()
def init_weights(model: nn.Module, generator: torch.Generator | None) -> None:
    """He-normal convolutions (fan-out, He et al. 2015), uniform +-1/sqrt(fan_in) linear layers, BN at (1, 0);
    every draw from ``generator`` (a CPU generator; the model is initialised on its current device)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
            w = torch.empty(m.weight.shape, dtype=torch.float32).normal_(0.0, math.sqrt(2.0 / fan_out), generator=generator)
            m.weight.copy_(w)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.Linear):
            b = 1.0 / math.sqrt(m.in_features)
            m.weight.copy_(torch.empty(m.weight.shape).uniform_(-b, b, generator=generator))
            if m.bias is not None:
                m.bias.copy_(torch.empty(m.bias.shape).uniform_(-b, b, generator=generator))
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every `ConvBN` of ``model`` in place (inference mode: running statistics); returns ``model``."""
    for m in list(model.modules()):
        if isinstance(m, ConvBN):
            m.fold()
    return model.eval()


def count_weights(model: nn.Module) -> int:
    """Weights of the convolutions and linear layers (the analog ones; biases and BN excluded)."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear))


# ------------------------------------------------------------------------------------------ training
@dataclass(frozen=True)
class TrainConfig:
    """Attributes:
    epochs: passes over the training set.
    batch_size: images per step.
    optimizer: "sgd" (Nesterov momentum) or "adam".
    lr: initial learning rate.
    momentum: SGD momentum.
    weight_decay: L2 weight decay (on every parameter).
    schedule: "cosine" (to 0 over the run, per step) or "step" (x 0.1 at 50 % and 75 % of the epochs).
    warmup_epochs: linear warm-up of the learning rate [epochs] (0 = none).
    augment: random crop (4-pixel zero padding) and horizontal flip (CIFAR); off for digits.
    channels_last: train convolutions in NHWC memory order (about 20 % faster on this CPU for ResNet-20; the
        numbers differ from NCHW only by floating-point summation order).
    """

    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    augment: bool = True
    channels_last: bool = True

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 0, 10_000)
        check_int("batch_size", self.batch_size, 1, 1 << 16)
        check_choice("optimizer", self.optimizer, ("sgd", "adam"))
        check_range("lr (learning rate)", self.lr, 0.0, 10.0, lo_open=True)
        check_range("momentum", self.momentum, 0.0, 1.0, hi_open=True)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_choice("schedule", self.schedule, ("cosine", "step"))
        check_range("warmup_epochs", self.warmup_epochs, 0.0, float(max(self.epochs, 0)), unit="epochs")


def random_crop_flip(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Each image of ``x`` [B, C, H, W] shifted by a random crop of its ``pad``-zero-padded copy and flipped
    left-right with probability 1/2, in one gather (offsets drawn on the CPU from ``generator``)."""
    b, _, h, w = x.shape
    off = torch.randint(0, 2 * pad + 1, (2, b), generator=generator).to(x.device)
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    xp = F.pad(x, (pad, pad, pad, pad))
    rows = off[0, :, None] + torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device).expand(b, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols) + off[1, :, None]
    return xp[torch.arange(b, device=x.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def _lr_factor(cfg: TrainConfig, t: float) -> float:
    """Learning-rate multiplier at training progress ``t`` (epochs, fractional)."""
    if cfg.warmup_epochs > 0 and t < cfg.warmup_epochs:
        return (t + 1e-3) / cfg.warmup_epochs
    if cfg.schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(t / max(cfg.epochs, 1), 1.0)))
    return 0.1 ** ((t >= 0.5 * cfg.epochs) + (t >= 0.75 * cfg.epochs))


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, *,
                     generator: torch.Generator, device: torch.device | str | None = None,
                     progress: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Train ``model`` (in place) on images ``x`` [N, C, H, W] and labels ``y`` [N] with cross-entropy; shuffling
    and augmentation draw from the CPU ``generator``. ``progress(epoch, record)`` is called after every epoch.
    Returns one record per epoch: mean loss, training accuracy [%], learning rate, seconds."""
    dev = torch.device(device) if device is not None else x.device
    fmt = torch.channels_last if cfg.channels_last and x.dim() == 4 else torch.contiguous_format
    model.to(dev, memory_format=fmt).train()
    x, y = x.to(dev), y.to(dev)
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0,
                              weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n, steps = x.shape[0], max(1, math.ceil(x.shape[0] / cfg.batch_size))
    history = []
    for epoch in range(cfg.epochs):
        t0, loss_sum, correct = time.perf_counter(), 0.0, 0
        perm = torch.randperm(n, generator=generator).to(dev)
        for k in range(steps):  # a loop over batches; each batch is one vectorised step
            lr = cfg.lr * _lr_factor(cfg, epoch + k / steps)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[k * cfg.batch_size:(k + 1) * cfg.batch_size]
            xb, yb = x[idx], y[idx]
            if cfg.augment:
                xb = random_crop_flip(xb, generator)
            out = model(xb.contiguous(memory_format=fmt))
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * idx.numel()
            correct += int((out.detach().argmax(1) == yb).sum())
        rec = {"epoch": epoch + 1, "loss": loss_sum / n, "train_accuracy": 100.0 * correct / n, "lr": lr,
               "seconds": time.perf_counter() - t0}
        history.append(rec)
        if progress is not None:
            progress(epoch + 1, rec)
    return history


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 500,
             device: torch.device | str | None = None) -> float:
    """Top-1 accuracy [%] of ``model`` (eval mode) on ``x``, ``y``, in batches of ``batch_size``."""
    dev = torch.device(device) if device is not None else x.device
    model.eval()
    correct = 0
    for s in range(0, x.shape[0], batch_size):
        xb, yb = x[s:s + batch_size].to(dev), y[s:s + batch_size].to(dev)
        correct += int((model(xb).argmax(1) == yb).sum())
    return 100.0 * correct / max(x.shape[0], 1)


__all__ = ["MODELS", "SHORTCUTS", "BasicBlock", "CIFARResNet", "ConvBN", "ResNetConfig", "TinyCNN", "TrainConfig",
           "build_model", "count_weights", "evaluate", "fold_batchnorm", "init_weights", "random_crop_flip",
           "train_classifier"]
