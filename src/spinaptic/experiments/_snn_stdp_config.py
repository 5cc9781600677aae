"""Configuration, presets and pass criteria of the snn-stdp experiment (paper 001)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import ConfigError, as_tuple, check_choice, check_int, check_range
from ..networks.snn import PRESETS


@dataclass(frozen=True)
class SNNTargets:
    """Pass criteria, fixed before the run.

    Attributes:
        accuracy_100: test accuracy the 100-neuron network with DW synapses must reach after one pass [%]
            (the issue's bar: Diehl & Cook report 82.9 % for 100 neurons).
        accuracy_400: the same for 400 neurons [%] (Diehl & Cook 87.0 %, with 3 passes).
        quick_accuracy: accuracy band of the quick preset [%] (few thousand images, 1,000 test images).
        variation_drop_points: "almost no degradation" at 25 % resistance variation: the mean accuracy may
            drop by at most this many points, or by 2 standard errors of the difference of the seed means,
            whichever is larger.
        full_track_current_tol: relative tolerance on paper 001's "~80 uA" full-track current in 1 ns (the
            paper rounds: "~").
    """

    accuracy_100: float = 83.0
    accuracy_400: float = 87.0
    quick_accuracy: float = 70.0
    variation_drop_points: float = 1.0
    full_track_current_tol: float = 0.2

    def __post_init__(self) -> None:
        for name in ("accuracy_100", "accuracy_400", "quick_accuracy"):
            check_range(name, getattr(self, name), 0.0, 100.0, unit="%")
        check_range("variation_drop_points", self.variation_drop_points, 0.0, 100.0, unit="points")
        check_range("full_track_current_tol", self.full_track_current_tol, 0.0, 1.0, lo_open=True)


@dataclass(frozen=True)
class SNNExperimentConfig:
    """Attributes:
    network: main network preset, "diehl-cook" (our best configuration) or "sengupta2016" (paper 001's
        Table II); `networks.snn.config`.
    synapse: synapse device of the main network (any registered synapse; `spinaptic list`); "dw-continuous"
        uses the calibrated displacement response (compiled), others the device protocol per STDP event.
    eta_post: amplitude of the positive STDP window (fraction of the range); 0 = the preset's.
    input_scale: input jump per unit weight (relative conductance); 0 = the preset's (`SNNConfig.input_scale`).
    also_paper_preset: also train paper 001's own Table II network ("sengupta2016") and report it.
    n_exc: excitatory neurons (100, 400, 1600).
    passes: passes over the training images.
    n_train: training images per pass (60,000: one epoch).
    order: "shuffled" (a seeded permutation per pass, as BindsNET's example) or "dataset" (file order). In file
        order the last 20,000 MNIST training images pull the 100-neuron network from 79 % (after 40,000) to
        69 % (measured; the same network trained on images 0-20,000 again instead keeps 78 %).
    n_label: labelling images (the first n_label training images, presented again with learning off).
    n_test: test images (10,000: the full test set).
    curve: training-image counts at which the main network is evaluated (the learning curve; the last point
        is the end of training). Evaluations of the curve use ``curve_test`` test images.
    curve_test: test images of the learning-curve points.
    oracle: also train the same network on the ideal synapse (fine steps: the float oracle).
    variations: device-to-device resistance variations (relative sigma) of the variation study.
    seeds: independent replicas per variation (one batched run each).
    variation_train: training images of each variation run (0: n_train x passes).
    swap_devices: other registered synapse devices trained through the device protocol (pulse counts) on
        ``swap_train`` images, to show that any device drops in.
    swap_train: training images of each swapped device.
    max_presentations: presentations of an image that drew too few spikes (Diehl & Cook repeat until 5).
    targets: pass criteria (`SNNTargets`).
    """

    network: str = "diehl-cook"
    synapse: str = "dw-continuous"
    eta_post: float = 0.0
    input_scale: float = 0.0
    also_paper_preset: bool = True
    n_exc: int = 100
    passes: int = 1
    n_train: int = 60000
    order: str = "shuffled"
    n_label: int = 10000
    n_test: int = 10000
    curve: tuple[int, ...] = (1000, 2000, 5000, 10000, 20000, 40000, 60000)
    curve_test: int = 10000
    oracle: bool = True
    variations: tuple[float, ...] = (0.0, 0.10, 0.25)
    seeds: int = 3
    variation_train: int = 0
    swap_devices: tuple[str, ...] = ("lookup-table", "compound-synapse")
    swap_train: int = 2000
    max_presentations: int = 20
    targets: SNNTargets = field(default_factory=SNNTargets)

    def __post_init__(self) -> None:
        object.__setattr__(self, "curve", as_tuple(self.curve, int))
        object.__setattr__(self, "variations", as_tuple(self.variations, float))
        object.__setattr__(self, "swap_devices", as_tuple(self.swap_devices, str))
        check_choice("network", self.network, tuple(PRESETS))
        check_range("eta_post", self.eta_post, 0.0, 1.0, unit="(fraction of range)")
        check_range("input_scale", self.input_scale, 0.0, 100.0, unit="(relative conductance per unit weight)")
        check_int("n_exc", self.n_exc, 1, 10000)
        check_int("passes", self.passes, 1, 100)
        check_int("n_train", self.n_train, 1, 60000)
        check_choice("order", self.order, ("shuffled", "dataset"))
        check_int("n_label", self.n_label, 10, 60000)
        check_int("n_test", self.n_test, 10, 10000)
        check_int("curve_test", self.curve_test, 10, 10000)
        for n in self.curve:
            check_int("curve", n, 1, self.n_train * self.passes)
        check_int("seeds", self.seeds, 1, 64)
        check_int("variation_train", self.variation_train, 0, 60000 * 100)
        check_int("swap_train", self.swap_train, 0, 60000)
        check_int("max_presentations", self.max_presentations, 1, 1000)
        for v in self.variations:
            check_range("variations", v, 0.0, 1.0, unit="(relative sigma)")
        from ..devices import synapse_device_names

        for d in self.swap_devices:
            check_choice("swap_devices", d, tuple(synapse_device_names()))
        check_choice("synapse", self.synapse, tuple(synapse_device_names()))
        if list(self.curve) != sorted(set(self.curve)):
            raise ConfigError(f"curve must be ascending without repeats, got {self.curve}")

    @property
    def total_train(self) -> int:
        """Training images of the main network (all passes)."""
        return self.n_train * self.passes


PRESETS_EXPERIMENT = {
    "quick": SNNExperimentConfig(n_train=8000, n_label=2000, n_test=1000, curve=(1000, 8000), curve_test=1000,
                                 also_paper_preset=False, oracle=False, variations=(), seeds=1, swap_devices=()),
    "paper": SNNExperimentConfig(),
    "n400": SNNExperimentConfig(n_exc=400, passes=1, curve=(10000, 20000, 40000, 60000), also_paper_preset=False,
                                oracle=False, variations=(), seeds=1, swap_devices=()),
}
