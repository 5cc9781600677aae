"""Protocol conformance of every registered device: shapes, units, energy, reproducibility, no hidden RNG.

Every name of `device_names()` needs a case below (a built-in without one fails
`test_every_device_has_a_case`); plugin devices get the generic case built on their ``nominal_pulses``.
`check_conformance` is also run on the example plugin by ``test_device_plugins.py``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from _synthetic import synthetic_lookup_table_device
from spinaptic.devices import Device, DeviceState, Pulses, device_names, make_device, plugin_devices
from spinaptic.physics.mtj import mixed_conductance

G_PLAUSIBLE = (1e-12, 1.0)  # [S]: any read conductance that is not exactly 0 lies in here
SHAPES = [(3, 4), (5,)]


def _lookup_table_device():
    return synthetic_lookup_table_device()


def _dw_bounds(dev: Device, state: DeviceState) -> tuple[torch.Tensor, torch.Tensor]:
    """All-AP and all-P conductance of each DW-MTJ. The DW devices' `conductance_range` is the notch span
    used for weight mapping; the trapezoid's single-shot reset (and any wall pushed past the outer notches)
    reads outside it, so the physical limits f = 0 .. 1 are what is checked."""
    f = torch.zeros_like(state["q"])
    g_dw = dev.config.g_dw_s
    return (mixed_conductance(f, state["g_p"], state["g_ap"], g_dw),
            mixed_conductance(f + 1, state["g_p"], state["g_ap"], g_dw))


def _noisy_level_bounds(dev: Device, state: DeviceState) -> tuple[float, float]:
    """The notch-level device reads its levels plus a Gaussian write error: 10 sigma beyond the notch span."""
    lo, hi = dev.conductance_range()
    return lo - 10 * dev.config.write_noise_s, hi + 10 * dev.config.write_noise_s


@dataclass(frozen=True)
class Case:
    """How to exercise one device: ``make`` builds it (default: `make_device` with the default config),
    ``pulses`` are its potentiating / depressing inputs (default: ``nominal_pulses(+1)`` / ``(-1)``) and
    ``bounds`` (default: `conductance_range`) the conductance limits of a state; ``sign`` = -1 when the +
    input lowers the conductance."""

    make: Callable[[], Device] | None = None
    pulses: tuple[Pulses, Pulses] | None = None
    bounds: Callable[[Device, DeviceState], tuple] | None = None
    sign: int = 1


# The p-bit is a neuron sampled with an input current (+-I0 = 10 uA tilts P(+1) to 0.88 / 0.12); the s-MTJ
# is an RNG read under a bias: +-0.3 V for 1 ms (a few times its 5 ms zero-bias dwell) moves the telegraph.
_SMTJ = Case(pulses=(Pulses(0.3, width_s=1e-3, kind="voltage"), Pulses(-0.3, width_s=1e-3, kind="voltage")))
CASES: dict[str, Case] = {
    "compound-synapse": Case(),
    "dw-continuous": Case(bounds=_dw_bounds),
    "dw-notch-levels": Case(bounds=_noisy_level_bounds),
    "dw-notched": Case(bounds=_dw_bounds),
    "dw-straight": Case(bounds=_dw_bounds),
    "dw-trapezoid": Case(bounds=_dw_bounds),
    "ideal": Case(),
    "lookup-table": Case(make=_lookup_table_device),
    "pbit": Case(pulses=(Pulses(10e-6), Pulses(-10e-6))),
    "smtj": _SMTJ,  # registered once (the former alias "superparamagnetic-mtj" is gone)
    "sot-nanomagnet": Case(sign=-1),  # I > 0 switches 0 -> 1, read as P -> AP (paper 000, Fig. 2)
}


# ----------------------------------------------------------------------------------------- helpers
def _tensors(state) -> dict[str, torch.Tensor]:
    return dict(state) if isinstance(state, dict) else {"": state}


def _clone(state):
    return DeviceState({k: v.clone() for k, v in state.items()}) if isinstance(state, dict) else state.clone()


def assert_same(a, b) -> None:
    """Same structure and bitwise-equal tensors (dtype and shape included)."""
    assert type(a) is type(b)
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        assert ta[k].dtype == tb[k].dtype and ta[k].shape == tb[k].shape, k
        assert torch.equal(ta[k], tb[k]), f"state[{k!r}] differs"


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _check_conductance(dev: Device, state, shape, bounds, label: str) -> torch.Tensor:
    g = dev.conductance(state)
    assert isinstance(g, torch.Tensor) and g.shape == torch.Size(shape), label
    assert g.is_floating_point() and bool(torch.isfinite(g).all()), label
    assert bool((g >= 0).all()) and bool((g <= G_PLAUSIBLE[1]).all()), f"{label}: G outside [0, 1] S"
    nz = g[g != 0]
    assert bool((nz >= G_PLAUSIBLE[0]).all()), f"{label}: nonzero G below 1 pS"
    if bounds is not None:
        lo, hi = bounds(dev, state)
        lo, hi = torch.as_tensor(lo, dtype=g.dtype), torch.as_tensor(hi, dtype=g.dtype)
        tol = 1e-6 * hi.abs().max() + 1e-15
        assert bool((g >= lo - tol).all()) and bool((g <= hi + tol).all()), (
            f"{label}: G in [{float(g.min()):.4g}, {float(g.max()):.4g}] S outside the bounds "
            f"[{float(lo.min()):.4g}, {float(hi.max()):.4g}] S")
    return g


def _range_bounds(dev: Device, state) -> tuple[float, float] | None:
    try:
        return dev.conductance_range()
    except NotImplementedError:
        return None


def check_conformance(dev: Device, pulses: tuple[Pulses, Pulses], *, shape=(3, 4), bounds=None) -> None:
    """Every protocol promise of `spinaptic.devices.base` for one device and its +/- inputs."""
    bounds = bounds or (_range_bounds if _range_bounds(dev, None) is not None else None)
    cfg = dev.config
    glob_np = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global RNG is what is checked)

    # init_state: array-shaped CPU tensors, reproducible from the generator alone, inputs untouched
    torch.manual_seed(1)
    s0 = dev.init_state(shape, generator=_gen(0), device="cpu")
    torch.manual_seed(2)
    assert_same(s0, dev.init_state(torch.Size(shape), generator=_gen(0), device="cpu"))
    assert isinstance(s0, (torch.Tensor, DeviceState))
    for k, v in _tensors(s0).items():
        assert v.device.type == "cpu" and tuple(v.shape[:len(shape)]) == tuple(shape), k
    assert dev.config == cfg and dataclasses.is_dataclass(cfg)
    _check_conductance(dev, s0, shape, bounds, "init_state")
    json.dumps(dev.describe())

    state = s0
    for direction, p in zip((+1, -1), pulses):
        label = f"apply({direction:+d})"
        before = _clone(state)
        amp = p.amplitude.clone() if isinstance(p.amplitude, torch.Tensor) else p.amplitude
        torch.manual_seed(3)
        s1, e1 = dev.apply(state, p, generator=_gen(10 + direction))
        torch.manual_seed(4)
        s2, e2 = dev.apply(state, p, generator=_gen(10 + direction))
        assert_same(state, before)  # the input state is not modified in place
        if isinstance(amp, torch.Tensor):
            assert torch.equal(p.amplitude, amp)
        assert_same(s1, s2)  # bitwise reproducible and independent of the global RNG
        assert isinstance(e1, torch.Tensor) and e1.is_floating_point(), label
        assert torch.equal(e1, e2), label
        assert torch.broadcast_shapes(e1.shape, shape) == torch.Size(shape), f"{label}: energy shape {e1.shape}"
        assert bool(torch.isfinite(e1).all()) and bool((e1 >= 0).all()), f"{label}: energy {e1}"
        s_before = _tensors(state)
        for k, v in _tensors(s1).items():  # same structure, so a network can keep and checkpoint it
            assert v.dtype == s_before[k].dtype and v.shape == s_before[k].shape, f"{label}: state[{k!r}]"
        _check_conductance(dev, s1, shape, bounds, label)
        # count 0 is no pulse: state unchanged, no energy
        s_none, e_none = dev.apply(state, dataclasses.replace(p, count=0), generator=_gen(5))
        assert_same(s_none, state)
        assert bool((e_none == 0).all()), f"{label} with count 0 costs energy"
        state = s1
    _check_mixed_array(dev, state, pulses, shape, bounds)

    assert np.array_equal(np.random.get_state()[1], glob_np), "the device used NumPy's global RNG"  # noqa: NPY002


def _check_mixed_array(dev: Device, state, pulses: tuple[Pulses, Pulses], shape, bounds) -> None:
    """One call with per-device polarity and count (0, 1, 2, ...): devices with count 0 keep their state
    exactly and cost no energy."""
    up, down = pulses
    if (up.kind, up.width_s) != (down.kind, down.width_s):
        return  # the two inputs cannot share one Pulses
    n = torch.arange(int(np.prod(shape)), dtype=torch.int64).reshape(shape)
    a_up = torch.as_tensor(up.amplitude, dtype=torch.float64).expand(shape)
    a_down = torch.as_tensor(down.amplitude, dtype=torch.float64).expand(shape)
    mixed = Pulses(amplitude=torch.where(n % 2 == 0, a_up, a_down), width_s=up.width_s, count=n % 3, kind=up.kind)
    new, e = dev.apply(state, mixed, generator=_gen(6))
    assert bool(torch.isfinite(e).all()) and bool((e >= 0).all())
    idle = (n % 3 == 0)
    assert bool((e.expand(shape)[idle] == 0).all()), "an idle device (count 0) costs energy"
    for k, v in _tensors(new).items():
        assert torch.equal(v[idle], _tensors(state)[k][idle]), f"idle devices changed state[{k!r}]"
    _check_conductance(dev, new, shape, bounds, "mixed apply")


def _global_rng_untouched(dev: Device, pulses: tuple[Pulses, Pulses], shape) -> None:
    """A device drawing only from ``generator`` leaves torch's global RNG state where it was."""
    torch.manual_seed(1234)
    ref = torch.get_rng_state()
    s = dev.init_state(shape, generator=_gen(0), device="cpu")
    for p in pulses:
        s, _ = dev.apply(s, p, generator=_gen(1))
    dev.conductance(s)
    assert torch.equal(torch.get_rng_state(), ref), "the device drew from torch's global RNG"


def case_for(name: str) -> tuple[Device, tuple[Pulses, Pulses], Callable | None]:
    """(device, (potentiating, depressing) input, bounds) of a registered name."""
    case = CASES.get(name, Case())
    dev = case.make() if case.make is not None else make_device(name)
    pulses = case.pulses or (dev.nominal_pulses(1), dev.nominal_pulses(-1))
    return dev, pulses, case.bounds


# ----------------------------------------------------------------------------------------- tests
def test_every_device_has_a_case():
    builtin = set(device_names()) - set(plugin_devices())
    assert builtin == set(CASES), (f"devices without a conformance case: {sorted(builtin - set(CASES))}; "
                                   f"cases of no device: {sorted(set(CASES) - builtin)}")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", device_names())
def test_device_conforms_to_the_protocol(name, shape):
    dev, pulses, bounds = case_for(name)
    check_conformance(dev, pulses, shape=shape, bounds=bounds)
    _global_rng_untouched(dev, pulses, shape)


@pytest.mark.parametrize("name", device_names())
def test_the_inputs_move_the_conductance_their_way(name):
    """The table's +/- inputs are meaningful: after three + trains the mean conductance of 64 devices is
    above (``Case.sign`` = -1: below) what three - trains leave."""
    dev, (up, down), _ = case_for(name)
    gen = _gen(7)
    s = dev.init_state((64,), generator=gen, device="cpu")
    means = {}
    for label, p in (("up", up), ("down", down)):
        for _ in range(3):
            s, _ = dev.apply(s, p, generator=gen)
        means[label] = float(dev.conductance(s).mean())
    assert CASES.get(name, Case()).sign * (means["up"] - means["down"]) > 0, means


# ----------------------------------------------------------------------------------------- the checker fails
class _Toy(Device):
    """Conductance state in [1, 2] uS; each pulse moves it by +-0.1 uS plus noise (a well-behaved device)."""

    @classmethod
    def config_class(cls) -> type:
        return _ToyConfig

    def init_state(self, shape, *, generator=None, device=None):
        return 1.5e-6 + 0.1e-6 * torch.rand(tuple(shape), generator=generator, dtype=torch.float64, device=device)

    def conductance(self, state):
        return state

    def noise(self, state, generator):
        return 1e-9 * torch.randn(state.shape, generator=generator, dtype=state.dtype)

    def apply(self, state, pulses, *, generator=None):
        n = pulses.count_like(state).to(state.dtype)
        step = pulses.amplitude_like(state).sign() * n * 0.1e-6 + self.noise(state, generator) * (n > 0)
        return (state + step).clamp(1e-6, 2e-6), n * 1e-15

    def nominal_pulses(self, direction):
        return Pulses(amplitude=float(direction))

    def conductance_range(self):
        return (1e-6, 2e-6)


@dataclass(frozen=True)
class _ToyConfig:
    pass


class _GlobalRNG(_Toy):
    def noise(self, state, generator):
        return 1e-9 * torch.randn(state.shape, dtype=state.dtype)


class _InPlace(_Toy):
    def apply(self, state, pulses, *, generator=None):
        new, e = super().apply(state, pulses, generator=generator)
        return state.copy_(new), e


class _NegativeEnergy(_Toy):
    def apply(self, state, pulses, *, generator=None):
        new, e = super().apply(state, pulses, generator=generator)
        return new, -e


class _OutOfRange(_Toy):
    def conductance_range(self):
        return (1e-6, 1.55e-6)


class _IdleMoves(_Toy):
    def apply(self, state, pulses, *, generator=None):
        new, e = super().apply(state, pulses, generator=generator)
        return new + self.noise(state, generator), e


def test_the_checker_passes_a_good_device():
    check_conformance(_Toy(), (Pulses(1.0), Pulses(-1.0)))
    _global_rng_untouched(_Toy(), (Pulses(1.0), Pulses(-1.0)), (3, 4))


@pytest.mark.parametrize("cls, match", [
    (_GlobalRNG, "differs"), (_InPlace, "differs"), (_NegativeEnergy, "energy"), (_OutOfRange, "outside the bounds"),
    (_IdleMoves, "count 0|differs"),
])
def test_the_checker_catches_broken_devices(cls, match):
    with pytest.raises(AssertionError, match=match):
        check_conformance(cls(), (Pulses(1.0), Pulses(-1.0)))
