"""Bipolar stochastic computing (SC) neural networks on MTJ random bit-streams (paper 004).

Model (Shao et al., IEEE Magn. Lett. 11, 2020, "paper 004"; Kim et al., DAC 2016; Brown & Card, IEEE TC 2001):

* **Encoding.** x in [-1, 1] is a Bernoulli stream with P(1) = (x + 1) / 2; decode x_hat = 2 ones / L - 1.
* **Multiplication.** XNOR of two independent bipolar streams has value x y.
* **APC.** Per clock t, the approximate parallel counter of a neuron counts the ones c_t among its n product
  bits (n = fan-in + 1 for the bias, whose input stream is all ones); the bipolar sum S_t = 2 c_t - n has mean
  z = sum_j w_j x_j + b. The count here is exact.
* **Btanh.** A saturating up/down counter with K states (K even): state <- clip(state + S_t, 0, K - 1),
  out_t = [state >= K / 2], initial state K / 2. For K = 2n its output stream has value ~ tanh(z) (Kim 2016;
  the counter is a reflected random walk with drift z and variance ~n per clock, whose stationary occupancy
  of the upper half is 1 / (1 + exp(-z K / n)) = (1 + tanh(z K / 2n)) / 2). `kim_btanh_states` gives Kim's K
  for a target tanh(z / s).
* **Output layer.** Decoded by counting: ``decode="count"`` takes argmax_k of the accumulated APC sums
  sum_t S_t (a binary up/down counter per output), ``decode="btanh"`` argmax_k of the ones of Btanh output
  streams.

Bit-exact inference of a one-hidden-layer network runs on one of two exact paths behind `SCNetwork.run` /
`sc_forward`, fed the same packed bit-streams and agreeing bit for bit: ``"gemm"`` (torch, any device: each
clock is a +/-1 matrix product, exact in float32 since |S| < 2^24, batched over 64 clocks) and ``"packed"``
(CPU, numba: inputs packed along the input dimension into uint64 words per clock, XNOR + popcount, Btanh and
output layer fused; `_sc_kernels.sc_mlp_packed`).

Streams and their sources (`IdealSource`, `MTJSource`, `ReuseSource`) live in `devices.bitstream` and are
re-exported here: packed int64 tensors [..., ceil(L / 64)], clock t in bit t % 64 of word t // 64
(`pack_bits`). What is fresh and what is shared is stated on each source and in `SCNetwork.run`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ..config import ConfigError, check_choice, check_int, check_positive, check_range
from ..devices.bitstream import (
    IdealSource,
    MTJSource,
    ReuseConfig,
    ReuseSource,
    StreamSource,
    bipolar_probability,
    check_bipolar,
    check_length,
    decode_bipolar,
    encode_bipolar,
    pack_bits,
    uint64_view,
    unpack_bits,
)

__all__ = [
    "IdealSource",
    "MTJSource",
    "ReuseConfig",
    "ReuseSource",
    "SCConfig",
    "SCForward",
    "SCNetwork",
    "SCRun",
    "StreamSource",
    "TrainConfig",
    "apc_count",
    "bipolar_probability",
    "btanh",
    "btanh_transfer",
    "check_bipolar",
    "check_btanh_states",
    "check_length",
    "decode_bipolar",
    "encode_bipolar",
    "kim_btanh_states",
    "pack_bits",
    "sc_forward",
    "train_float_mlp",
    "unpack_bits",
    "xnor",
]


# ============================================================================================ validation
def check_btanh_states(k, name: str = "K (Btanh states)") -> int:
    """The Btanh counter needs an even number K >= 2 of states (half emit 0, half emit 1)."""
    check_int(name, k, 2)
    if int(k) % 2:
        raise ConfigError(f"{name} = {k} must be even: Btanh splits its K states into two halves (Kim 2016)")
    return int(k)


# ============================================================================================ primitives
def xnor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Bipolar SC multiplication: XNOR of two bool streams (value x y for independent streams)."""
    return ~(a.bool() ^ b.bool())


def apc_count(products: torch.Tensor, dim: int = -2) -> torch.Tensor:
    """Exact (approximate-parallel-counter) count of ones among the product bits, per clock: int64."""
    return products.to(torch.int64).sum(dim=dim)


def kim_btanh_states(n: int, s: float = 1.0) -> int:
    """Btanh states K for an APC of n inputs so that Btanh(n, K, z) ~ tanh(z / s) (Kim et al. 2016).

    q = 1.835 (2n)^-0.5552, K = 2 (round((1 - s)(n - 1) / (s (1 - q))) + n); s = 1 gives K = 2n.
    """
    n = check_int("n (APC inputs)", n, 1)
    check_positive("s (Btanh scale)", s)
    q = 1.835 * (2 * n) ** (-0.5552)
    k = 2 * (round((1 - s) * (n - 1) / (s * (1 - q))) + n)
    return max(2, int(k))


def btanh_transfer(z: torch.Tensor, n: int, k: int, variance: torch.Tensor | float | None = None) -> torch.Tensor:
    """Stationary value of the Btanh output stream, tanh(z K / (2 sigma^2)), sigma^2 = ``variance`` (default n).

    Diffusion limit of the reflected walk with drift z and per-clock variance sigma^2 of S_t on [0, K]
    (sigma^2 = sum_j (1 - w_j^2 x_j^2) for independent streams, ~n for small weights): K = 2n -> tanh(z).
    """
    var = float(n) if variance is None else variance
    return torch.tanh(z * (k / 2.0) / var)


def btanh(
    counts: torch.Tensor, n: int, k: int, *, initial_state: int | torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Btanh (Kim et al. DAC 2016) on APC counts ``counts`` [..., L] of an n-input APC with K states.

    state <- clip(state + 2 c_t - n, 0, K - 1), out_t = [state >= K / 2]; state starts at ``initial_state``
    (default K / 2). Returns (bool output stream [..., L], final state int64 [...]).
    """
    k = check_btanh_states(k)
    counts = torch.as_tensor(counts).to(torch.int64)
    init = k // 2 if initial_state is None else initial_state
    state = torch.zeros(counts.shape[:-1], dtype=torch.int64, device=counts.device) + torch.as_tensor(init)
    out = torch.empty(counts.shape, dtype=torch.bool, device=counts.device)
    for t in range(counts.shape[-1]):
        state = (state + 2 * counts[..., t] - n).clamp(0, k - 1)
        out[..., t] = state >= k // 2
    return out, state


# ============================================================================================ network
@dataclass(frozen=True)
class SCConfig:
    """Bit-exact SC inference settings of `SCNetwork`.

    Attributes:
        length: stream length L [clocks] (paper 004: 1024).
        hidden_states: Btanh states K of the hidden layer; 0 -> `kim_btanh_states` (n_in + 1, btanh_s), i.e.
            K = 2n for btanh_s = 1 (paper 004: "K = 2n").
        output_states: Btanh states of the output layer (only used by decode="btanh"); 0 -> Kim's formula.
        btanh_s: Kim's scale s (Btanh ~ tanh(z / s)) used when a K is 0.
        initial_state: initial Btanh state as a fraction of K, rounded to an integer state (0.5: K / 2, Kim).
        decode: "count" (argmax of accumulated output APC sums) or "btanh" (argmax of output Btanh ones).
        path: "packed" (CPU compiled kernel), "gemm" (torch +/-1 matrix products, any device), "auto".
        batch_images: images per batch; weight streams are drawn fresh for every batch.
        tile: images per work item of the packed kernel.
    """

    length: int = 1024
    hidden_states: int = 0
    output_states: int = 0
    btanh_s: float = 1.0
    initial_state: float = 0.5
    decode: str = "count"
    path: str = "auto"
    batch_images: int = 1000
    tile: int = 4

    def __post_init__(self) -> None:
        check_length(self.length)
        check_int("hidden_states", self.hidden_states, 0)
        check_int("output_states", self.output_states, 0)
        if self.hidden_states:
            check_btanh_states(self.hidden_states, "hidden_states (Btanh K)")
        if self.output_states:
            check_btanh_states(self.output_states, "output_states (Btanh K)")
        check_positive("btanh_s", self.btanh_s)
        check_range("initial_state", self.initial_state, 0.0, 1.0)
        check_choice("decode", self.decode, ("count", "btanh"))
        check_choice("path", self.path, ("auto", "packed", "gemm"))
        check_int("batch_images", self.batch_images, 1, 100_000)
        check_int("tile", self.tile, 1, 256)


@dataclass
class SCForward:
    """Raw outputs of one bit-exact pass (all int64).

    sums [N, C, O]: accumulated bipolar APC sums of the outputs at each checkpoint; out_ones [N, C, O]: ones of
    the output Btanh streams; hidden_ones [N, H]: ones of the hidden streams over L; hidden_state [N, H],
    output_state [N, O]: final counter states; checkpoints [C]: clock counts.
    """

    sums: torch.Tensor
    out_ones: torch.Tensor
    hidden_ones: torch.Tensor
    hidden_state: torch.Tensor
    output_state: torch.Tensor
    checkpoints: torch.Tensor


def _checkpoints(length: int, checkpoints) -> list[int]:
    if checkpoints is None:
        return [length]
    cps = [check_length(c, "checkpoint") for c in checkpoints]
    if any(b <= a for a, b in zip(cps, cps[1:])) or cps[-1] > length:
        raise ConfigError(f"checkpoints must be strictly increasing clock counts <= length {length}, got {cps}")
    return cps


def sc_forward(
    x_streams: torch.Tensor,
    w1_streams: torch.Tensor,
    w2_streams: torch.Tensor,
    *,
    length: int,
    hidden_states: int,
    output_states: int,
    hidden_init: int | None = None,
    output_init: int | None = None,
    checkpoints=None,
    path: str = "auto",
    tile: int = 4,
) -> SCForward:
    """Bit-exact SC pass of a one-hidden-layer network on given packed streams (same result on both paths).

    x_streams [N, n_in, W]: input streams (the bias input is a constant-1 wire, added by both paths);
    w1_streams [H, n_in + 1, W]: hidden weights (bias column last); w2_streams [O, H + 1, W]: output weights
    (hidden bias last); W = ceil(length / 64). Hidden: APC + Btanh(K = hidden_states); output: APC sums accumulated, plus a
    Btanh(output_states) counter. ``checkpoints``: clock counts (increasing, <= length) at which the output
    counters are read (default [length]); streams of a shorter L are the prefixes, so one pass gives a
    whole accuracy-vs-length curve.
    """
    length = check_length(length)
    k1 = check_btanh_states(hidden_states, "hidden_states")
    k2 = check_btanh_states(output_states, "output_states")
    i1 = k1 // 2 if hidden_init is None else int(hidden_init)
    i2 = k2 // 2 if output_init is None else int(output_init)
    if not (0 <= i1 < k1 and 0 <= i2 < k2):
        raise ConfigError(f"initial Btanh states ({i1}, {i2}) must lie in [0, K - 1] = [0, {k1 - 1}], [0, {k2 - 1}]")
    cps = _checkpoints(length, checkpoints)
    check_choice("path", path, ("auto", "packed", "gemm"))
    _, j, w = x_streams.shape
    h = w1_streams.shape[0]
    n_words = (length + 63) // 64
    if (w1_streams.shape[1] != j + 1 or w2_streams.shape[1] != h + 1
            or min(w, w1_streams.shape[2], w2_streams.shape[2]) < n_words):
        raise ConfigError(f"stream shapes do not fit: x {tuple(x_streams.shape)}, w1 {tuple(w1_streams.shape)}, "
                          f"w2 {tuple(w2_streams.shape)} for length {length} ({n_words} words)")
    if path == "auto":
        path = "packed" if x_streams.device.type == "cpu" else "gemm"
    if path == "packed":
        return _forward_packed(x_streams, w1_streams, w2_streams, length, k1, k2, i1, i2, cps, tile)
    return _forward_gemm(x_streams, w1_streams, w2_streams, length, k1, k2, i1, i2, cps)


def _forward_packed(xs, w1s, w2s, length, k1, k2, i1, i2, cps, tile) -> SCForward:
    from . import _sc_kernels as K

    n_words = (length + 63) // 64
    xh = uint64_view(xs[..., :n_words].cpu())
    w1v = K.to_vertical(uint64_view(w1s[..., :n_words].cpu()), length)  # [H, T, G]
    w1v = np.ascontiguousarray(w1v.transpose(1, 2, 0))  # [T, G, H]
    w2v = np.ascontiguousarray(K.to_vertical(uint64_view(w2s[..., :n_words].cpu()), length).transpose(1, 0, 2))  # [T, O, G2]
    n, h, o = xh.shape[0], w1v.shape[2], w2v.shape[1]
    c = len(cps)
    sums = np.zeros((n, c, o), np.int64)
    out_ones = np.zeros((n, c, o), np.int64)
    hid_ones = np.zeros((n, h), np.int64)
    hid_state = np.zeros((n, h), np.int32)
    out_state = np.zeros((n, o), np.int32)
    K.sc_mlp_packed(xh, w1v, w2v, length, k1, k2, i1, i2, np.asarray(cps, np.int64), int(tile),
                    sums, out_ones, hid_ones, hid_state, out_state)
    t = torch.from_numpy
    return SCForward(t(sums), t(out_ones), t(hid_ones), t(hid_state.astype(np.int64)),
                     t(out_state.astype(np.int64)), torch.tensor(cps, dtype=torch.int64))


def _pm1(words: torch.Tensor, word: int, n_clocks: int) -> torch.Tensor:
    """+/-1 float32 bits of one 64-clock word: [..., W] -> [n_clocks, ...], clock-major and contiguous.

    Byte-wise table lookup: clock 8 j + k is bit k of byte j, so out[j, k] = lut[k][byte j] fills the
    clock-major layout directly (no transposing copy of the float array).
    """
    dev = words.device
    lut = 2.0 * ((torch.arange(256, device=dev)[:, None] >> torch.arange(8, device=dev)) & 1).to(torch.float32) - 1
    w = words[..., word]
    shifts = torch.arange(0, 64, 8, device=dev).reshape(8, *([1] * w.dim()))
    by = (w.unsqueeze(0) >> shifts) & 255  # [8, ...] bytes
    out = torch.empty((8, 8, *w.shape), dtype=torch.float32, device=dev)
    for k in range(8):
        out[:, k] = lut[:, k][by]
    return out.reshape(64, *w.shape)[:n_clocks]


def _forward_gemm(xs, w1s, w2s, length, k1, k2, i1, i2, cps) -> SCForward:
    dev = xs.device
    n, j, _ = xs.shape
    h = w1s.shape[0]
    o = w2s.shape[0]
    st1 = torch.full((n, h), i1, dtype=torch.int32, device=dev)
    st2 = torch.full((n, o), i2, dtype=torch.int32, device=dev)
    ones1 = torch.zeros((n, h), dtype=torch.int64, device=dev)
    acc = torch.zeros((n, o), dtype=torch.int64, device=dev)
    ones2 = torch.zeros((n, o), dtype=torch.int64, device=dev)
    sums = torch.zeros((n, len(cps), o), dtype=torch.int64, device=dev)
    out_ones = torch.zeros_like(sums)
    ci = 0
    half1, half2 = k1 // 2, k2 // 2
    for wd in range((length + 63) // 64):
        tb = min(64, length - 64 * wd)
        xb = _pm1(xs, wd, tb)  # [tb, N, n_in]
        wb = _pm1(w1s, wd, tb).transpose(1, 2)  # [tb, n_in + 1, H]
        s1 = (torch.bmm(xb, wb[:, :-1]) + wb[:, -1:]).round().to(torch.int32)  # [tb, N, H]; bias input = 1
        del xb, wb
        hb = torch.ones((tb, n, h + 1), dtype=torch.float32, device=dev)
        for t in range(tb):
            st1 = (st1 + s1[t]).clamp_(0, k1 - 1)
            bit = st1 >= half1
            ones1 += bit
            hb[t, :, :h] = 2 * bit.to(torch.float32) - 1
        w2b = _pm1(w2s, wd, tb).transpose(1, 2)  # [tb, H + 1, O]
        s2 = torch.bmm(hb, w2b).round().to(torch.int32)  # [tb, N, O]
        for t in range(tb):
            acc += s2[t]
            st2 = (st2 + s2[t]).clamp_(0, k2 - 1)
            ones2 += st2 >= half2
            if ci < len(cps) and 64 * wd + t + 1 == cps[ci]:
                sums[:, ci] = acc
                out_ones[:, ci] = ones2
                ci += 1
    return SCForward(sums, out_ones, ones1, st1.to(torch.int64), st2.to(torch.int64),
                     torch.tensor(cps, dtype=torch.int64))


@dataclass
class SCRun:
    """Result of `SCNetwork.run`: predictions [C, N] per checkpoint length, the raw outputs, and accuracies."""

    lengths: list[int]
    predictions: torch.Tensor
    sums: torch.Tensor
    out_ones: torch.Tensor
    hidden_ones: torch.Tensor
    accuracy: list[float] | None = None
    info: dict = field(default_factory=dict)


class SCNetwork:
    """A 784-128-10-style network (one hidden layer) with weights and biases in [-1, 1], run bit-exactly in SC.

    z1 = W1 x + b1, h = Btanh ~ tanh(z1), z2 = W2 h + b2, prediction = argmax of the decoded outputs.
    """

    def __init__(self, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
                 cfg: SCConfig | None = None) -> None:
        self.cfg = cfg or SCConfig()
        self.w1aug = check_bipolar(torch.cat([w1, b1[:, None]], 1).detach(), "hidden weights/biases").to(torch.float64)
        self.w2aug = check_bipolar(torch.cat([w2, b2[:, None]], 1).detach(), "output weights/biases").to(torch.float64)
        if self.w2aug.shape[1] != self.w1aug.shape[0] + 1:
            raise ConfigError(f"layer shapes do not chain: W1 {tuple(w1.shape)}, W2 {tuple(w2.shape)}")

    @property
    def n_in(self) -> int:
        return self.w1aug.shape[1] - 1

    @property
    def n_hidden(self) -> int:
        return self.w1aug.shape[0]

    @property
    def n_out(self) -> int:
        return self.w2aug.shape[0]

    @property
    def hidden_states(self) -> int:
        return self.cfg.hidden_states or kim_btanh_states(self.n_in + 1, self.cfg.btanh_s)

    @property
    def output_states(self) -> int:
        return self.cfg.output_states or kim_btanh_states(self.n_hidden + 1, self.cfg.btanh_s)

    def float_forward(self, x: torch.Tensor, activation=torch.tanh) -> torch.Tensor:
        """Float reference logits z2 = W2 act(W1 x + b1) + b2 (act = tanh, what Btanh approximates)."""
        x = x.to(torch.float64)
        w1, w2 = self.w1aug.to(x.device), self.w2aug.to(x.device)
        hdn = activation(x @ w1[:, :-1].T + w1[:, -1])
        return hdn @ w2[:, :-1].T + w2[:, -1]

    def input_streams(self, x: torch.Tensor, source: StreamSource, length: int, generator) -> torch.Tensor:
        """Packed input streams [N, n_in, W] of bipolar inputs x [N, n_in] (the bias input is a constant 1)."""
        return source.encode(x, length, generator=generator, role="input")

    def weight_streams(self, source: StreamSource, length: int, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Fresh packed weight streams (W1 with bias [H, n_in + 1, W], W2 with bias [O, H + 1, W])."""
        return (source.encode(self.w1aug, length, generator=generator, role="layer1"),
                source.encode(self.w2aug, length, generator=generator, role="layer2"))

    def run(self, x: torch.Tensor, *, source: StreamSource, generator: torch.Generator, labels=None,
            lengths=None, progress=None) -> SCRun:
        """Bit-exact SC classification of bipolar inputs x [N, n_in] (values in [-1, 1]).

        Input streams are drawn per image and pixel from ``source``; weight streams are drawn fresh for every
        batch of ``cfg.batch_images`` images and shared by the images of that batch (each image still sees
        independent input and weight streams; errors correlate only across images of one batch). ``lengths``
        (increasing, <= cfg.length) are read off one pass as stream prefixes (default [cfg.length]).
        """
        c = self.cfg
        check_bipolar(x, "inputs")
        lengths = _checkpoints(c.length, lengths)
        k1, k2 = self.hidden_states, self.output_states
        i1 = min(k1 - 1, round(c.initial_state * k1))
        i2 = min(k2 - 1, round(c.initial_state * k2))
        parts = []
        starts = range(0, x.shape[0], c.batch_images)
        for s in (progress(starts) if progress else starts):
            xb = x[s:s + c.batch_images]
            w1s, w2s = self.weight_streams(source, c.length, generator)
            xs = self.input_streams(xb, source, c.length, generator)
            parts.append(sc_forward(xs, w1s, w2s, length=c.length, hidden_states=k1, output_states=k2,
                                    hidden_init=i1, output_init=i2, checkpoints=lengths, path=c.path,
                                    tile=c.tile))
        sums = torch.cat([p.sums for p in parts])
        out_ones = torch.cat([p.out_ones for p in parts])
        hid = torch.cat([p.hidden_ones for p in parts])
        score = sums if c.decode == "count" else out_ones
        pred = score.argmax(-1).T.contiguous()  # [C, N]; ties -> lowest index
        acc = None
        if labels is not None:
            lab = torch.as_tensor(labels).to(pred.device)
            acc = [float((pred[i] == lab).double().mean()) for i in range(len(lengths))]
        return SCRun(lengths, pred, sums, out_ones, hid, acc, {"hidden_states": k1, "output_states": k2,
                                                              "hidden_init": i1, "output_init": i2})


# ============================================================================================ training
@dataclass(frozen=True)
class TrainConfig:
    """Float training of the network run in SC (paper 004: TensorFlow, float32, L2 keeping weights in [-1, 1]).

    Attributes:
        hidden: hidden units (paper: 128).
        epochs, batch_size, lr: Adam (scale-free steps, so s-times larger weights train as fast), learning rate
            cosine-annealed to 0.
        weight_decay: L2 coefficient (added to the gradient, as an L2 penalty).
        clip: weights and biases are clipped to [-clip, clip] after every step (<= 1 so they are bipolar).
        btanh_s: the hidden activation models a Btanh of K = `kim_btanh_states` (n, s) states,
            tanh(z K / 2n) ~ tanh(z / s): s > 1 trains s-times larger weights for a faster, smaller counter.
        variance_aware: use the Btanh's stationary transfer tanh(z K / (2 sigma^2)) with the actual per-clock
            APC variance sigma^2 = sum_j (1 - w_j^2 x_j^2) (`btanh_transfer`) instead of sigma^2 = n.
        sc_noise_clocks: SC-aware training (0: off). Hidden activations are replaced, in the forward pass, by
            the mean of this many +/-1 samples drawn with P(+1) = (1 + tanh)/2 (straight-through gradient),
            a stand-in for the finite-length estimate a Btanh stream gives; it pushes hidden units to saturate.
        input_noise: std of the Gaussian noise added to the hidden pre-activations during training, in units of
            sqrt(n / L_ref) with L_ref = 1024 (the APC noise of a 1024-clock stream), 0: off.
    """

    hidden: int = 128
    epochs: int = 8
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-5
    clip: float = 1.0
    btanh_s: float = 1.0
    variance_aware: bool = False
    sc_noise_clocks: int = 0
    input_noise: float = 0.0

    def __post_init__(self) -> None:
        check_int("hidden", self.hidden, 1, 100_000)
        check_int("epochs", self.epochs, 1, 10_000)
        check_int("batch_size", self.batch_size, 1, 1_000_000)
        check_positive("lr", self.lr)
        check_range("weight_decay", self.weight_decay, 0.0)
        check_range("clip", self.clip, 0.0, 1.0, lo_open=True)
        check_positive("btanh_s", self.btanh_s)
        check_int("sc_noise_clocks", self.sc_noise_clocks, 0, 65_536)
        check_range("input_noise", self.input_noise, 0.0)


def train_float_mlp(
    x: torch.Tensor,
    labels: torch.Tensor,
    cfg: TrainConfig | None = None,
    *,
    generator: torch.Generator,
    n_classes: int = 10,
    progress=None,
) -> dict[str, torch.Tensor]:
    """Train the float network n_in-H-n_classes (tanh hidden, softmax/CE output) on bipolar inputs x [N, n_in].

    Weights and biases are kept in [-clip, clip] by L2 and clipping after each step so they can be streamed.
    Returns float32 tensors {"w1", "b1", "w2", "b2"} on x's device.
    """
    cfg = cfg or TrainConfig()
    check_bipolar(x, "training inputs")
    return _train(x, labels, cfg, generator, n_classes, progress)


def _train(x, labels, cfg: TrainConfig, generator, n_classes, progress) -> dict[str, torch.Tensor]:
    dev = x.device
    x = x.to(torch.float32)
    labels = torch.as_tensor(labels, device=dev).long()
    n_in = x.shape[1]
    lim1, lim2 = 1.0 / math.sqrt(n_in), 1.0 / math.sqrt(cfg.hidden)
    w1 = ((torch.rand(cfg.hidden, n_in, generator=generator, device=dev) * 2 - 1) * lim1).requires_grad_()
    b1 = torch.zeros(cfg.hidden, device=dev, requires_grad=True)
    w2 = ((torch.rand(n_classes, cfg.hidden, generator=generator, device=dev) * 2 - 1) * lim2).requires_grad_()
    b2 = torch.zeros(n_classes, device=dev, requires_grad=True)
    params = [w1, b1, w2, b2]
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = x.shape[0]
    steps = cfg.epochs * math.ceil(n / cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    noise_scale = cfg.input_noise * math.sqrt((n_in + 1) / 1024.0)
    k_half = kim_btanh_states(n_in + 1, cfg.btanh_s) / 2.0
    x2 = x * x
    epochs = range(cfg.epochs)
    for _ in (progress(epochs) if progress else epochs):
        perm = torch.randperm(n, generator=generator, device=dev)
        for s in range(0, n, cfg.batch_size):
            idx = perm[s:s + cfg.batch_size]
            z1 = x[idx] @ w1.T + b1
            if noise_scale > 0:
                z1 = z1 + noise_scale * torch.randn(z1.shape, generator=generator, device=dev)
            if cfg.variance_aware:
                var = (n_in + 1) - x2[idx] @ (w1 * w1).T - b1 * b1
                hdn = torch.tanh(z1 * k_half / var)
            else:
                hdn = torch.tanh(z1 * (k_half / (n_in + 1)))
            if cfg.sc_noise_clocks:
                p = ((1 + hdn) / 2).detach().clamp(0, 1)
                m = cfg.sc_noise_clocks
                k = _binomial(m, p, generator)
                sample = 2 * k / m - 1
                hdn = hdn + (sample - hdn).detach()  # straight-through
            logits = hdn @ w2.T + b2
            loss = torch.nn.functional.cross_entropy(logits, labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                for p_ in params:
                    p_.clamp_(-cfg.clip, cfg.clip)
    return {"w1": w1.detach(), "b1": b1.detach(), "w2": w2.detach(), "b2": b2.detach()}


def _binomial(m: int, p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Binomial(m, p) counts as a sum of m Bernoulli draws from ``generator``."""
    u = torch.rand(*p.shape, m, generator=generator, device=p.device)
    return (u < p.unsqueeze(-1)).sum(-1).to(p.dtype)
