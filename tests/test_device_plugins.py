"""Devices from other packages through the ``spinaptic.devices`` entry-point group.

A fake installed distribution (a ``*.dist-info`` folder with METADATA and entry_points.txt, plus its module)
in a temporary folder on ``sys.path`` exercises the real `importlib.metadata` mechanism without pip; the
example package is ``tests/plugin_example`` (its pyproject's entry points are the ones written here).
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from spinaptic.cli import main
from spinaptic.config import ConfigError
from spinaptic.devices import (
    Device,
    DevicePluginWarning,
    Pulses,
    device_class,
    device_names,
    make_device,
    plugin_devices,
    refresh_plugins,
    register_device,
)
from spinaptic.devices.ideal import IdealSynapse

EXAMPLE = Path(__file__).parent / "plugin_example"
EXAMPLE_MODULE = "spinaptic_linear_memristor"
BASELINE = device_names()  # the built-ins, and any plugin installed in this environment
ENV_PLUGINS = set(plugin_devices())


def _example_entry_points() -> dict[str, str]:
    with open(EXAMPLE / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["entry-points"]["spinaptic.devices"]


class FakeSite:
    """A folder on ``sys.path`` holding fake installed distributions and their modules."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []
        root.mkdir()
        sys.path.insert(0, str(root))

    def install(self, dist: str, entry_points: dict[str, str], modules: dict[str, str] | None = None) -> None:
        """Write ``dist``'s metadata declaring ``entry_points`` (name -> value) and its ``modules`` (name -> source)."""
        info = self.root / f"{dist.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(f"[spinaptic.devices]\n{lines}")
        for name, src in (modules or {}).items():
            (self.root / f"{name}.py").write_text(textwrap.dedent(src))
            self.modules.append(name)

    def uninstall(self) -> None:
        if str(self.root) in sys.path:
            sys.path.remove(str(self.root))
        for m in self.modules:
            sys.modules.pop(m, None)


@pytest.fixture
def site(tmp_path):
    s = FakeSite(tmp_path / "site")
    yield s
    s.uninstall()
    refresh_plugins()  # leave the registry with the built-ins only, for the tests that follow
    assert device_names() == BASELINE


@pytest.fixture
def example(site):
    site.install("spinaptic-linear-memristor", _example_entry_points(),
                 {EXAMPLE_MODULE: (EXAMPLE / f"{EXAMPLE_MODULE}.py").read_text()})
    return site


def _scan() -> tuple[list[str], list[str]]:
    """(names of the test's plugins, DevicePluginWarning messages about them) of a fresh scan."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        names = refresh_plugins()
    msgs = [str(w.message) for w in rec if issubclass(w.category, DevicePluginWarning)]
    return sorted(set(names) - ENV_PLUGINS), [m for m in msgs if not any(f"'{n}'" in m for n in ENV_PLUGINS)]


# ----------------------------------------------------------------------------------------- the example
def test_example_plugin_is_registered_usable_and_listed(example):
    names, warned = _scan()
    assert names == ["linear-memristor"] and warned == []
    assert device_names() == sorted([*BASELINE, "linear-memristor"])
    assert plugin_devices()["linear-memristor"] == ("spinaptic-linear-memristor: linear-memristor = "
                                                    "spinaptic_linear_memristor:LinearMemristor")
    dev = make_device("linear-memristor", c2c_sigma=0.0)
    assert type(dev).__module__ == EXAMPLE_MODULE and dev.name == "linear-memristor"
    assert dev.describe()["device"] == "linear-memristor"
    s = dev.init_state((2, 3), generator=torch.Generator().manual_seed(0))
    s, e = dev.apply(s, Pulses(amplitude=torch.tensor([[100e-6], [-100e-6]]), width_s=1e-6, count=10))
    # 10 x 100 uA x 1 us = 1 nC -> w = 0.1: G = 10 uS + 0.1 x 990 uS; the depressed row stays off
    g = dev.conductance(s)
    assert torch.allclose(g[0], torch.full((3,), 109e-6, dtype=torch.float64), rtol=1e-12)
    assert torch.equal(g[1], torch.full((3,), 1e-5, dtype=torch.float64))
    assert torch.allclose(e, torch.full((2, 3), (100e-6) ** 2 * 1e-6 * 10 / 1e-5, dtype=torch.float64))
    with pytest.raises(ConfigError, match="g_on_s > g_off_s"):
        make_device("linear-memristor", g_on_s=1e-6)

    out = CliRunner().invoke(main, ["list"])
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if "linear-memristor" in ln)
    assert "Linear ion-drift memristor" in line
    out = CliRunner().invoke(main, ["list", "--json"])
    assert "linear-memristor" in json.loads(out.output)["devices"]


def test_example_plugin_conforms_to_the_device_protocol(example):
    from test_device_protocol import check_conformance

    refresh_plugins()
    dev = make_device("linear-memristor")
    check_conformance(dev, (dev.nominal_pulses(1), dev.nominal_pulses(-1)))


def test_uninstalled_plugin_disappears_on_refresh(example):
    assert "linear-memristor" in refresh_plugins()
    example.uninstall()
    assert _scan() == ([], [])
    assert device_names() == BASELINE
    with pytest.raises(ConfigError, match="unknown device 'linear-memristor'"):
        make_device("linear-memristor")


def test_readme_shows_the_example_entry_point():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Adding a new device", 1)[1].split("\n## ", 1)[0]
    assert '[project.entry-points."spinaptic.devices"]' in section
    for name, value in _example_entry_points().items():
        assert f'{name} = "{value}"' in section


# ----------------------------------------------------------------------------------------- module entry points
_MODULE_PLUGIN = """
    import torch
    from spinaptic.devices import register_device
    from spinaptic.devices.ideal import IdealSynapse

    @register_device("half-ideal")
    class HalfIdeal(IdealSynapse):
        '''An ideal synapse registered by importing a plugin module.'''

        def conductance(self, state):
            return 0.5 * state
"""


def test_module_entry_point_registers_its_decorated_devices(site):
    site.install("half-ideal-plugin", {"half": "half_ideal_plugin"}, {"half_ideal_plugin": _MODULE_PLUGIN})
    assert _scan() == (["half-ideal"], [])
    cls = device_class("half-ideal")
    assert cls.__module__ == "half_ideal_plugin" and issubclass(cls, IdealSynapse)
    assert _scan() == (["half-ideal"], [])  # the module is imported already: re-scanning re-attaches it
    assert device_class("half-ideal") is cls
    new = importlib.reload(sys.modules["half_ideal_plugin"]).HalfIdeal  # a reload redefines, it does not clash
    assert new is not cls and device_class("half-ideal") is new


# ----------------------------------------------------------------------------------------- failures
def test_broken_plugin_warns_once_and_is_skipped(example):
    example.install("broken-plugin", {"broken-device": "broken_plugin:Broken"},
                    {"broken_plugin": "import spinaptic_no_such_dependency\n"})
    names, warned = _scan()
    assert names == ["linear-memristor"]  # the good plugin still loads
    assert len(warned) == 1 and "\n" not in warned[0]
    assert "'broken-device'" in warned[0] and "broken_plugin:Broken" in warned[0]
    assert "ModuleNotFoundError" in warned[0] and "spinaptic_no_such_dependency" in warned[0]
    with warnings.catch_warnings(record=True) as rec:  # the scan is cached: no second warning
        warnings.simplefilter("always")
        assert device_names() == sorted([*BASELINE, "linear-memristor"])
        make_device("ideal")
    assert rec == []


def test_plugin_raising_at_import_and_bad_values_are_skipped(site):
    site.install("bad-plugins", {"raises": "raising_plugin", "not-a-device": "json:dumps", "missing-attr": "json:nope"},
                 {"raising_plugin": "raise RuntimeError('calibration file not found\\nsecond line')\n"})
    names, warned = _scan()
    assert names == [] and len(warned) == 3 and all("\n" not in w for w in warned)
    text = " | ".join(warned)
    assert "RuntimeError: calibration file not found second line" in text
    assert "must name a module or a Device subclass" in text and "AttributeError" in text
    assert device_names() == BASELINE


def test_name_collision_with_a_builtin_is_refused_with_a_warning(site):
    site.install("clash-plugin", {"ideal": "clash_plugin:Other", "clash-module": "clash_module"}, {
        "clash_plugin": "from spinaptic.devices.ideal import IdealSynapse\nclass Other(IdealSynapse):\n    pass\n",
        # all or nothing: "fine-one" is registered before the clash, and dropped with it
        "clash_module": """
            from spinaptic.devices import register_device
            from spinaptic.devices.ideal import IdealSynapse

            @register_device("fine-one")
            class FineOne(IdealSynapse):
                pass

            @register_device("ideal")
            class Clash(IdealSynapse):
                pass
            """,
    })
    names, warned = _scan()
    assert names == [] and len(warned) == 2
    for w in warned:
        assert "device name 'ideal' registered twice: by built-in spinaptic.devices.ideal.IdealSynapse" in w
    assert any("clash_plugin.Other" in w for w in warned) and any("clash_module.Clash" in w for w in warned)
    assert device_class("ideal") is IdealSynapse and IdealSynapse.name == "ideal"
    assert "fine-one" not in device_names()


def test_two_plugins_with_one_name_first_in_order_wins(site):
    """Entry points load in (name, value) order, so the winner does not depend on the sys.path order."""
    src = "from spinaptic.devices.ideal import IdealSynapse\nclass Twin(IdealSynapse):\n    pass\n"
    site.install("twin-b", {"twin": "twin_b:Twin"}, {"twin_b": src})
    site.install("twin-a", {"twin": "twin_a:Twin"}, {"twin_a": src})
    names, warned = _scan()
    assert names == ["twin"] and device_class("twin").__module__ == "twin_a"
    assert len(warned) == 1 and "'twin' (twin_b:Twin, distribution twin-b)" in warned[0]
    assert "registered twice: by twin_a.Twin and by twin_b.Twin" in warned[0]


def test_registering_a_taken_name_directly_raises():
    class Mine(IdealSynapse):
        pass

    with pytest.raises(ConfigError, match=r"device name 'ideal' registered twice: by built-in "
                       r"spinaptic\.devices\.ideal\.IdealSynapse and by .*Mine; choose another name"):
        register_device("ideal")(Mine)
    assert device_class("ideal") is IdealSynapse and "name" not in vars(Mine)
    with pytest.raises(ConfigError, match="needs a Device subclass"):
        register_device("not-a-device")(dict)
    assert issubclass(IdealSynapse, Device) and "not-a-device" not in device_names()


# ----------------------------------------------------------------------------------------- a real install
@pytest.mark.slow
def test_pip_installed_example_package(tmp_path, monkeypatch):
    """``pip install`` of tests/plugin_example (copied, so no build files land in the repository)."""
    pytest.importorskip("setuptools")
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path / "target"
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                          "--no-index", "--disable-pip-version-check", "-q", "--target", str(target), str(src)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert time.perf_counter() - t0 < 60
    monkeypatch.syspath_prepend(str(target))
    try:
        assert "linear-memristor" in refresh_plugins()
        assert make_device("linear-memristor").conductance_range() == (1e-5, 1e-3)
    finally:
        monkeypatch.undo()
        sys.modules.pop(EXAMPLE_MODULE, None)
        refresh_plugins()
    assert device_names() == BASELINE


def test_a_plugin_synapse_trains_in_an_analog_layer(example):
    """Issue 10: a user's out-of-tree device drops into AnalogLinear and learns like any built-in synapse."""
    from torch import nn

    from spinaptic.arrays import TileConfig
    from spinaptic.data import load_dataset
    from spinaptic.devices import synapse_device_names
    from spinaptic.nn import AnalogLayerConfig, DeviceSGD, convert_to_analog, energy_report

    _scan()
    assert "linear-memristor" in synapse_device_names()
    x, y = load_dataset("mnist-sample", "train", flatten=True)
    xt, yt = load_dataset("mnist-sample", "test", flatten=True)
    torch.manual_seed(0)
    cfg = AnalogLayerConfig(TileConfig(device="linear-memristor", device_overrides={"c2c_sigma": 0.02}))
    model = convert_to_analog(nn.Sequential(nn.Linear(784, 10)), cfg, generator=torch.Generator().manual_seed(1))
    opt = DeviceSGD(model.parameters(), lr=0.1)
    for i in range(0, 960, 32):
        loss = nn.functional.cross_entropy(model(x[i:i + 32]), y[i:i + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = float((model(xt).argmax(1) == yt).float().mean())
    assert acc > 0.3, acc  # chance: 0.1
    assert energy_report(model)["per_training_sample_j"] > 0
