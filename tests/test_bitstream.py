"""Bipolar stochastic bit-streams and their sources (devices.bitstream): encoding, packing, ideal / MTJ / reuse."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import spinaptic
from spinaptic import devices
from spinaptic.config import ConfigError
from spinaptic.devices import bitstream as bs
from spinaptic.networks import stochastic_computing as sc

FAST = settings(max_examples=25, deadline=None)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------ encoding / packing
@FAST
@given(st.floats(-1, 1), st.integers(0, 2**31))
def test_decode_of_ideal_streams_is_unbiased(x, seed):
    n_streams, length = 64, 2048
    for src in ("torch", "packed"):
        if src == "torch":
            bits = bs.encode_bipolar(torch.full((n_streams,), x), length, generator=_gen(seed))
        else:
            words = bs.IdealSource().encode(torch.full((n_streams,), x), length, generator=_gen(seed))
            bits = bs.unpack_bits(words, length)
        est = float(bs.decode_bipolar(bits).mean())
        sd = math.sqrt(max(1 - x * x, 1e-6) / (n_streams * length))
        assert abs(est - x) <= 5 * sd + 2.0**-15, (src, x, est)


@FAST
@given(st.integers(1, 200), st.integers(1, 300), st.integers(0, 2**31))
def test_pack_unpack_roundtrip(n, length, seed):
    bits = torch.rand(n, length, generator=_gen(seed)) < 0.5
    words = bs.pack_bits(bits)
    assert words.shape == (n, (length + 63) // 64) and words.dtype == torch.int64
    assert torch.equal(bs.unpack_bits(words, length), bits)
    assert int(np.bitwise_count(bs.uint64_view(words)).sum()) == int(bits.sum())


def test_bipolar_probability():
    x = torch.tensor([-1.0, 0.0, 0.5, 1.0])
    assert torch.equal(bs.bipolar_probability(x), torch.tensor([0.0, 0.5, 0.75, 1.0], dtype=torch.float64))


# ------------------------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("bad", [1.5, -1.01, float("nan")])
def test_out_of_range_values_raise(bad):
    x = torch.tensor([0.0, bad])
    with pytest.raises(ConfigError, match=r"bipolar stochastic stream encodes values in \[-1, 1\]"):
        bs.encode_bipolar(x, 16)
    for src in (bs.IdealSource(), bs.MTJSource(), bs.ReuseSource(bs.ReuseConfig(mtj_streams=False))):
        with pytest.raises(ConfigError, match=r"\[-1, 1\]"):
            src.encode(x, 16, generator=_gen())


@pytest.mark.parametrize("bad", [0, -8, 2.5, "64", None, True])
def test_bad_lengths_raise(bad):
    with pytest.raises(ConfigError, match=r"length \(stream length in clocks\) (= .* is outside the allowed range \[1, 1048576\]|must be an integer)"):
        bs.encode_bipolar(torch.zeros(2), bad)
    with pytest.raises(ConfigError, match=r"stream length in clocks"):
        bs.IdealSource().encode(torch.zeros(2), bad, generator=_gen())


def test_config_errors():
    with pytest.raises(ConfigError, match="n_segments"):
        bs.ReuseConfig(n_segments=6)
    with pytest.raises(ConfigError, match="bank_length"):
        bs.ReuseConfig(bank_length=1000)
    with pytest.raises(ConfigError, match="precision_bits"):
        bs.IdealSource(precision_bits=0)


# ------------------------------------------------------------------------------------ sources
def test_ideal_source_reproducible_and_quantised():
    x = torch.linspace(-1, 1, 11)
    a = bs.IdealSource().encode(x, 1000, generator=_gen(7))
    b = bs.IdealSource().encode(x, 1000, generator=_gen(7))
    assert torch.equal(a, b) and a.shape == (11, 16)
    bits = bs.unpack_bits(a, 1000)
    assert not bits[0].any() and bits[-1].all()  # -1 and +1 are deterministic
    assert int(np.bitwise_count(a[:, -1].numpy().view(np.uint64)).max()) <= 1000 - 960  # tail masked


def test_reuse_source_rotates_bank_streams():
    src = bs.ReuseSource(bs.ReuseConfig(n_bias_levels=6, mtj_streams=False), seed=5)
    words, vals = src.bank("input", 1024)
    assert words.shape == (36, 16) and torch.all(vals[1:] >= vals[:-1])
    x = torch.tensor([0.3, 0.3, -0.7, 0.9])
    out = src.encode(x, 1024, generator=_gen(8))
    for i in range(4):
        j = int((vals - x[i]).abs().argmin())
        rots = [torch.roll(words[j], -2 * s) for s in range(8)]  # 128-bit segments = 2 words
        assert any(torch.equal(out[i], r) for r in rots)
    short = src.encode(x, 100, generator=_gen(8))  # prefix of the same rotated stream
    assert torch.equal(bs.unpack_bits(short, 100), bs.unpack_bits(out, 100))
    assert torch.all(short[:, -1] >> 36 == 0)  # bits past L = 100 are zero
    assert src.bank_length(4096) == 4096 and src.bank_length(16) == 1024


def test_reuse_banks_fixed_by_seed_and_separate_per_role():
    cfg = bs.ReuseConfig(n_bias_levels=4, mtj_streams=False)
    a, b = bs.ReuseSource(cfg, seed=2), bs.ReuseSource(cfg, seed=2)
    assert torch.equal(a.bank("input", 1024)[0], b.bank("input", 1024)[0])
    assert not torch.equal(a.bank("input", 1024)[0], a.bank("layer1", 1024)[0])
    assert not torch.equal(a.bank("input", 1024)[0], bs.ReuseSource(cfg, seed=3).bank("input", 1024)[0])


def test_mtj_sources_give_streams_of_the_right_value():
    x = torch.tensor([-0.5, 0.0, 0.8])
    for src in (bs.MTJSource(), bs.ReuseSource(bs.ReuseConfig(n_bias_levels=12), seed=1)):
        words = src.encode(x.repeat(40, 1), 1024, generator=_gen(9))
        est = bs.decode_bipolar(bs.unpack_bits(words, 1024)).mean(0)
        assert torch.allclose(est, x.double(), atol=0.06), (src, est)


def test_mtj_source_chunks_keep_shape_and_tail():
    x = torch.linspace(-0.9, 0.9, 14).reshape(2, 7)
    words = bs.MTJSource(max_bits_per_call=600).encode(x, 300, generator=_gen(4))  # 2 streams per call
    assert words.shape == (2, 7, 5)
    assert torch.all(words[..., -1] >> 44 == 0)  # bits past L = 300 are zero
    assert torch.equal(words, bs.MTJSource(max_bits_per_call=600).encode(x, 300, generator=_gen(4)))


# ------------------------------------------------------------------------------------ where they live
def test_sources_are_reexported_by_the_sc_network_and_the_public_api():
    for name in bs.__all__:
        assert getattr(sc, name) is getattr(bs, name), name
    for name in ("IdealSource", "MTJSource", "ReuseConfig", "ReuseSource", "StreamSource"):
        assert getattr(devices, name) is getattr(bs, name)
    for name in ("IdealSource", "MTJSource", "ReuseSource"):
        assert getattr(spinaptic, name) is getattr(bs, name)


def test_bitstream_modules_import_nothing_above_devices():
    root = Path(bs.__file__).parent
    for fname in ("bitstream.py", "_bitstream_kernels.py"):
        names = []
        for node in ast.walk(ast.parse((root / fname).read_text())):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = "spinaptic.devices".split(".")[: 2 - (node.level - 1)] if node.level else []
                names.append(".".join([*base, node.module or ""]).rstrip("."))
        above = [n for n in names if n.split(".")[:2] in ([["spinaptic", m] for m in
                                                           ("arrays", "nn", "networks", "experiments", "cli")])]
        assert not above, (fname, above)
