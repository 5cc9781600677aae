"""Bipolar stochastic bit-streams and their sources: ideal RNGs and superparamagnetic MTJs (paper 004).

A value x in [-1, 1] is carried by a Bernoulli stream with P(1) = (x + 1) / 2 and read back as
x_hat = 2 ones / L - 1 (Brown & Card, IEEE TC 2001); this is the encoding of stochastic computing
(`networks.stochastic_computing`). Streams are packed int64 tensors [..., ceil(L / 64)], clock t in bit t % 64
of word t // 64, bits past L zero (`pack_bits`). A *source* (`StreamSource`) turns values into such streams:

* `IdealSource`: every bit fresh and independent (comparator SNG on a uniform random number);
* `MTJSource`: one s-MTJ per stream, biased to P(1) and sampled in time (`devices.mtj_rng`), so neighbouring
  bits carry the telegraph correlation;
* `ReuseSource`: paper 004's reuse scheme, a fixed bank of measured MTJ streams picked by value and rotated.

What is fresh and what is shared is stated on each. Randomness comes only from the ``generator`` passed in;
the compiled CPU kernels (`_bitstream_kernels`) take a seed drawn from it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from ..config import ConfigError, check_int, check_range

if TYPE_CHECKING:  # mtj_rng (and numba with it) is imported lazily, only by the MTJ sources
    from .mtj_rng import SMTJConfig

__all__ = [
    "IdealSource",
    "MTJSource",
    "ReuseConfig",
    "ReuseSource",
    "StreamSource",
    "bipolar_probability",
    "check_bipolar",
    "check_length",
    "decode_bipolar",
    "encode_bipolar",
    "pack_bits",
    "uint64_view",
    "unpack_bits",
]


# ============================================================================================ validation
def check_bipolar(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """Raise `ConfigError` unless every value of ``x`` is a number in [-1, 1] (the bipolar SC range)."""
    x = torch.as_tensor(x)
    if x.numel() == 0:
        return x
    if x.is_floating_point():
        lo, hi = torch.aminmax(x)  # one pass; NaN propagates into lo/hi and fails the test below
        if bool((lo >= -1) & (hi <= 1)):
            return x
    xf = x.to(torch.float64)
    bad = torch.isnan(xf) | (xf < -1) | (xf > 1)
    if bool(bad.any()):
        idx = tuple(int(i) for i in torch.nonzero(bad)[0])
        n_bad = int(bad.sum())
        raise ConfigError(
            f"{name}: a bipolar stochastic stream encodes values in [-1, 1]; {n_bad} value(s) are outside, "
            f"e.g. {float(xf[idx])!r} at index {idx} (scale or clip the values first)"
        )
    return x


def check_length(length, name: str = "length") -> int:
    """A stream length must be a positive integer number of clocks."""
    if isinstance(length, np.integer):
        length = int(length)
    return check_int(f"{name} (stream length in clocks)", length, 1, 2**20)


# ============================================================================================ encoding
def bipolar_probability(x: torch.Tensor) -> torch.Tensor:
    """P(bit = 1) = (x + 1) / 2 of the bipolar stream of x in [-1, 1] (validated)."""
    x = check_bipolar(torch.as_tensor(x))
    return (x.to(torch.float64) + 1.0) / 2.0


def encode_bipolar(x: torch.Tensor, length: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Independent (ideal-RNG) bipolar streams of ``x`` [...]: bool [..., length], P(1) = (x + 1) / 2."""
    length = check_length(length)
    p = bipolar_probability(x)
    u = torch.rand(*p.shape, length, generator=generator, dtype=torch.float64, device=p.device)
    return u < p.unsqueeze(-1)


def decode_bipolar(bits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """x_hat = 2 (ones / L) - 1 along ``dim`` (float64)."""
    return 2.0 * bits.to(torch.float64).mean(dim=dim) - 1.0


# ============================================================================================ packing
def pack_bits(bits: torch.Tensor) -> torch.Tensor:
    """Pack bool streams [..., L] into int64 words [..., ceil(L / 64)] (clock t -> bit t % 64 of word t // 64)."""
    bits = torch.as_tensor(bits)
    length = check_length(bits.shape[-1], "stream length")
    n_words = (length + 63) // 64
    if bits.device.type == "cpu":
        b = bits.to(torch.bool).numpy()
        pad = n_words * 64 - length
        if pad:
            b = np.concatenate([b, np.zeros((*b.shape[:-1], pad), bool)], axis=-1)
        packed = np.packbits(b, axis=-1, bitorder="little")
        return torch.from_numpy(np.ascontiguousarray(packed).view("<i8").copy())
    b = torch.nn.functional.pad(bits.to(torch.int64), (0, n_words * 64 - length))
    b = b.reshape(*bits.shape[:-1], n_words, 64)
    return (b << torch.arange(64, device=bits.device)).sum(-1)


def unpack_bits(words: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse of `pack_bits`: int64 words [..., W] -> bool [..., length]."""
    length = check_length(length)
    sh = torch.arange(64, device=words.device)
    bits = ((words.unsqueeze(-1) >> sh) & 1).bool()
    return bits.flatten(-2)[..., :length]


def uint64_view(words: torch.Tensor) -> np.ndarray:
    """A uint64 numpy view of packed int64 CPU words (what the compiled kernels take)."""
    return words.contiguous().numpy().view(np.uint64)


def _seed(generator: torch.Generator | None) -> int:
    """A 63-bit seed for a compiled kernel, drawn from ``generator``."""
    dev = generator.device if generator is not None else torch.device("cpu")
    return int(torch.randint(0, 2**63 - 1, (1,), generator=generator, device=dev).item())


# ============================================================================================ sources
class StreamSource(Protocol):
    """Turns bipolar values into packed streams. ``role`` names the independent stream set ("input",
    "layer1", "layer2") a value belongs to; sources with shared hardware keep the sets apart."""

    name: str

    def encode(self, values: torch.Tensor, length: int, *, generator: torch.Generator, role: str = "input"
               ) -> torch.Tensor: ...


@dataclass(frozen=True)
class IdealSource:
    """Ideal RNG: every bit of every stream fresh and independent, P(1) = (x + 1) / 2.

    Comparator SNG with a ``precision_bits``-bit uniform random number (P(1) quantised to 2^-precision_bits,
    16 bits -> 1.5e-5, far below the 2/L resolution of any stream). CPU: compiled counter-based kernel
    (`_bitstream_kernels.bernoulli_packed`); other devices: torch.rand < p. Each call draws its own seed.
    """

    precision_bits: int = 16
    name: str = "ideal"

    def __post_init__(self) -> None:
        check_int("precision_bits", self.precision_bits, 1, 30)

    def encode(self, values, length, *, generator, role="input"):
        length = check_length(length)
        p = bipolar_probability(values)
        if p.device.type != "cpu":
            u = torch.rand(*p.shape, length, generator=generator, dtype=torch.float64, device=p.device)
            return pack_bits(u < p.unsqueeze(-1))
        from . import _bitstream_kernels as K

        full = 1 << self.precision_bits
        pq = torch.round(p * full).to(torch.int64).reshape(-1).numpy()
        out = np.empty((pq.size, (length + 63) // 64), np.uint64)
        K.bernoulli_packed(pq, self.precision_bits, length, _seed(generator), out)
        return torch.from_numpy(out.view(np.int64)).reshape(*p.shape, -1)


@dataclass(frozen=True)
class MTJSource:
    """Fresh telegraph-process streams, one superparamagnetic MTJ per stream (`devices.mtj_rng`).

    Each value gets its own s-MTJ biased to P(1 = P) = (x + 1)/2 and read every ``sampling_interval_s``
    (default: the device config's 100 ms, paper 004), so bits are Bernoulli with the telegraph correlation
    exp(-s dt) between neighbours; ``independent`` replaces the telegraph by ideal draws with the same marginal.
    Every call is fresh (no reuse).
    """

    smtj: SMTJConfig | None = None
    sampling_interval_s: float | None = None
    independent: bool = False
    max_bits_per_call: int = 1 << 26
    name: str = "mtj"

    def encode(self, values, length, *, generator, role="input"):
        from .mtj_rng import mtj_bitstreams

        length = check_length(length)
        p = bipolar_probability(values)
        flat = p.reshape(-1)
        step = max(1, self.max_bits_per_call // length)  # bounds the bool [..., L] intermediate
        parts = [pack_bits(mtj_bitstreams(flat[i:i + step], length, cfg=self.smtj, generator=generator,
                                          sampling_interval_s=self.sampling_interval_s,
                                          independent=self.independent))
                 for i in range(0, flat.numel(), step)]
        return torch.cat(parts).reshape(*p.shape, -1)


@dataclass(frozen=True)
class ReuseConfig:
    """The reuse scheme of paper 004 (Shao et al. 2020, Sec. IV.B).

    Six MTJs: each pair gives one independent stream *set* (inputs, layer-1 weights, layer-2 weights). Each
    MTJ is measured at ``n_bias_levels`` bias points spanning P(1) in [p_min, 1 - p_min] (paper: ~30 biases,
    "> 95 % AP to > 95 % P"); the XNOR products of every stream of one MTJ with every stream of the other
    give the set's ``n_bias_levels``^2 base streams ("deeper number resolution"). A value is mapped to the
    base stream whose measured value is nearest, rotated to start at segment i of ``n_segments`` (i uniform,
    log2(n_segments) bits of a 50 % MTJ stream; paper: 1024 bits = 8 x 128), and truncated to L.
    Base streams are ``bank_length`` bits (paper 1024; longer L use max(L, bank_length) rounded up to
    64 n_segments bits).

    Attributes:
        n_bias_levels: bias points per MTJ.
        p_min: lowest P(1) of a bias point (0: the extreme biases pin the junction).
        n_segments: segments per base stream (a power of two).
        bank_length: base stream length [clocks].
        mtj_streams: base and rotation streams from the s-MTJ telegraph model (True) or ideal Bernoulli draws.
        smtj: `SMTJConfig` of the junctions (None: defaults of `devices.mtj_rng`).
    """

    n_bias_levels: int = 30
    p_min: float = 0.0
    n_segments: int = 8
    bank_length: int = 1024
    mtj_streams: bool = True
    smtj: SMTJConfig | None = None

    def __post_init__(self) -> None:
        check_int("n_bias_levels", self.n_bias_levels, 2, 4096)
        check_range("p_min", self.p_min, 0.0, 0.5, hi_open=True)
        check_int("n_segments", self.n_segments, 1, 1024)
        if self.n_segments & (self.n_segments - 1):
            raise ConfigError(f"n_segments = {self.n_segments} must be a power of two (offset from random bits)")
        check_length(self.bank_length, "bank_length")
        if self.bank_length % (64 * self.n_segments):
            raise ConfigError(f"bank_length = {self.bank_length} must be a multiple of 64 x n_segments "
                              f"= {64 * self.n_segments} clocks (segments are whole 64-bit words)")


class ReuseSource:
    """Paper 004's stream reuse: a fixed bank of measured streams per set, picked by value, rotated randomly.

    The banks (what the paper measured once) are built deterministically from ``seed`` on first use; every
    `encode` draws fresh rotation offsets from ``generator``. Streams of equal values in one set share a base
    stream and differ only by rotation, so 1 in ``n_segments`` pairs of them are identical: the correlation
    the rotation is there to reduce.
    """

    name = "reuse"

    def __init__(self, cfg: ReuseConfig | None = None, *, seed: int = 0) -> None:
        self.cfg = cfg or ReuseConfig()
        self.seed = int(seed)
        self._banks: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def bank_length(self, length: int) -> int:
        """Base-stream length used for streams of ``length`` clocks."""
        unit = 64 * self.cfg.n_segments
        return max(self.cfg.bank_length, -(-length // unit) * unit)

    def _gen(self, tag: str) -> torch.Generator:
        g = torch.Generator()
        h = hashlib.sha256(f"reuse:{self.seed}:{tag}".encode()).digest()
        g.manual_seed(int.from_bytes(h[:8], "little") & ((1 << 63) - 1))
        return g

    def _streams(self, p: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
        if self.cfg.mtj_streams:
            from .mtj_rng import mtj_bitstreams

            return mtj_bitstreams(p, length, cfg=self.cfg.smtj, generator=generator)
        u = torch.rand(*p.shape, length, generator=generator, dtype=torch.float64)
        return u < p.unsqueeze(-1)

    def bank(self, role: str, bank_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(packed base streams [B, bank_length / 64], their measured bipolar values [B], sorted ascending)."""
        key = (role, bank_length)
        if key not in self._banks:
            c = self.cfg
            g = self._gen(f"{role}:{bank_length}")
            p = torch.linspace(c.p_min, 1.0 - c.p_min, c.n_bias_levels, dtype=torch.float64)
            a = self._streams(p, bank_length, g)  # MTJ A of the pair, [n, Lb]
            b = self._streams(p, bank_length, g)  # MTJ B
            prod = ~(a[:, None, :] ^ b[None, :, :])  # XNOR of every pair -> [n, n, Lb]
            prod = prod.reshape(-1, bank_length)
            values = decode_bipolar(prod)
            order = torch.argsort(values, stable=True)
            self._banks[key] = (pack_bits(prod[order]), values[order])
        return self._banks[key]

    def encode(self, values, length, *, generator, role="input"):
        length = check_length(length)
        x = check_bipolar(torch.as_tensor(values)).to(torch.float64)
        lb = self.bank_length(length)
        words, vals = self.bank(role, lb)
        flat = x.reshape(-1).cpu()
        # nearest measured value
        hi = torch.searchsorted(vals, flat).clamp(1, vals.numel() - 1)
        lo = hi - 1
        idx = torch.where((flat - vals[lo]).abs() <= (vals[hi] - flat).abs(), lo, hi)
        n_seg = self.cfg.n_segments
        n_bits = max(1, int(math.log2(n_seg)))
        if n_seg > 1:
            half = torch.full((1,), 0.5, dtype=torch.float64)
            rb = self._streams(half, flat.numel() * n_bits, generator).reshape(flat.numel(), n_bits)
            seg = (rb.to(torch.int64) << torch.arange(n_bits)).sum(-1)
        else:
            seg = torch.zeros(flat.numel(), dtype=torch.int64)
        rot = seg * (lb // 64 // n_seg)
        n_words = (length + 63) // 64
        from . import _bitstream_kernels as K

        out = np.empty((flat.numel(), n_words), np.uint64)
        K.gather_rotate(uint64_view(words), idx.numpy(), rot.numpy(), length, out)
        return torch.from_numpy(out.view(np.int64)).reshape(*x.shape, n_words).to(x.device)
