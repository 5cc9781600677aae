"""`AnalogConv2d`: a 2-D convolution on an analog tile, as im2col patches through an `AnalogLinear` tile.

The kernel [out, in, kh, kw] is the tile [out, in kh kw]; every output position is one analog read of its
input patch (``F.unfold``), so the read energy of one image is the sum over its patches ("read": one event
per image). Everything else (noise, ADC, update rule, carry, backward, programming, checkpoints) is
`AnalogLinear`'s. groups = 1 and zero padding only.

Inference without gradients on a tile whose read is exactly its weight cache (noiseless, no ADC) skips the
patches: one ``F.conv2d`` with the cached kernel, and the same read energy from a 1-channel convolution of x^2
with the conductance row sums divided by each patch's peak |x|^2 (a max-pool): the numbers of the patch path
up to float summation order, 11x faster for ResNet-20 inference on this CPU.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.modules.utils import _pair

from .analog_linear import AnalogLinear


class AnalogConv2d(AnalogLinear):
    """``nn.Conv2d`` (groups = 1, zero padding) with the kernel on an analog tile.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, bias: as ``nn.Conv2d``.
        config, device, generator, ledger: as `AnalogLinear`.
        weight: initial kernel [out, in, kh, kw] (default ``nn.Conv2d``'s initialisation).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, config=None, *, weight: torch.Tensor | None = None,
                 bias_init: torch.Tensor | None = None, **kwargs: Any) -> None:
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        if weight is None:
            ref = nn.Conv2d(in_channels, out_channels, self.kernel_size, bias=bias)
            weight = ref.weight.detach()
            if bias and bias_init is None:
                bias_init = ref.bias.detach()
        kh, kw = self.kernel_size
        super().__init__(self.in_channels * kh * kw, self.out_channels, bias, config,
                         weight=torch.as_tensor(weight).reshape(self.out_channels, -1), bias_init=bias_init, **kwargs)

    @staticmethod
    def supports(conv: nn.Conv2d) -> bool:
        """Whether ``conv`` can become an `AnalogConv2d` (groups = 1, zero padding, numeric padding)."""
        return conv.groups == 1 and conv.padding_mode == "zeros" and not isinstance(conv.padding, str)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, config=None, **kwargs: Any) -> AnalogConv2d:
        """An `AnalogConv2d` programmed with ``conv``'s kernel and bias."""
        return cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                   conv.bias is not None, config, weight=conv.weight.detach(),
                   bias_init=conv.bias.detach() if conv.bias is not None else None, **kwargs)

    @property
    def weight(self) -> torch.Tensor:
        """Effective kernel [out, in, kh, kw] read from the conductances (a detached float32 copy)."""
        return self.tile.weights().to(torch.float32).reshape(self.out_channels, self.in_channels, *self.kernel_size)

    def _n_samples(self, x: torch.Tensor) -> int:
        return int(x.shape[0])  # x: patches [N, L, in kh kw]; one image = one inference

    def _conv_from_cache(self, x: torch.Tensor) -> torch.Tensor:
        """The noiseless read of every patch as one convolution with the cached kernel, its energy charged."""
        w, row_g = self.tile.weight_cache()
        conv = dict(stride=self.stride, padding=self.padding, dilation=self.dilation)
        y = F.conv2d(x, w.to(device=x.device, dtype=x.dtype).reshape(self.out_channels, self.in_channels,
                                                                     *self.kernel_size), None, **conv)
        cb = self.tile.config.crossbar
        xx = F.conv2d(x * x, row_g.to(device=x.device, dtype=x.dtype).reshape(1, self.in_channels, *self.kernel_size),
                      None, **conv)
        peak = F.max_pool2d(x.abs().amax(dim=1, keepdim=True), self.kernel_size, **conv)
        energy = cb.t_read_s * cb.v_read_v**2 * xx / peak.square().clamp_min(torch.finfo(x.dtype).tiny)
        self.ledger.charge("read", energy, events=int(x.shape[0]))
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squeeze = x.dim() == 3
        if squeeze:
            x = x.unsqueeze(0)
        n, _, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel_size, self.stride, self.padding, self.dilation
        if not torch.is_grad_enabled() and self.tile.reads_from_cache and 2 * ph <= kh and 2 * pw <= kw:
            y = self._conv_from_cache(x)  # max_pool2d admits padding <= kernel / 2 only
            y = y + self.bias[:, None, None] if self.bias is not None else y
            return y.squeeze(0) if squeeze else y
        ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, padding=self.padding, stride=self.stride)
        y = self._matmul(cols.transpose(1, 2))  # [N, L, out]
        if self.bias is not None:
            y = y + self.bias
        y = y.transpose(1, 2).reshape(n, self.out_channels, ho, wo)
        return y.squeeze(0) if squeeze else y

    def extra_repr(self) -> str:
        t = self.config.tile
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}, device={t.device!r}, "
                f"update_rule={t.update_rule!r}, backward={self.config.backward!r}")


__all__ = ["AnalogConv2d"]
