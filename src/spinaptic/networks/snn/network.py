"""Paper 001's spiking network: 784 Poisson inputs -> excitatory layer <-> inhibitory layer, with STDP
synapses realised as programming of devices.

Every input synapse is a device of the registered kind ``config.synapse``; its weight is the read conductance
mapped onto the device's nominal range, w = (G - G_min) / (G_max - G_min) (a reference column subtracts
G_min, so a device with resistance variation reads with its own gain and offset). Learning programs the
devices only through the device protocol: an STDP window's requested change Delta-w becomes

* a programming current for current-programmable devices (paper 001's DW-MTJ, `dw-continuous` with the
  calibrated displacement response: the wall moves by Delta-w of the track per 1 ns pulse), one pulse per
  synapse and event, clipped at the track ends by the device;
* a signed count of nominal pulses for every other synapse device (lookup-table, compound, notched DW, ideal),
  stochastically rounded from Delta-w / mean step.

Replicas (``replicas=R``) are independent networks (own devices, own initial weights and input spikes) run in
one batched computation, for seeds and variation sweeps; they see the same images in the same order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ...config import ConfigError
from ...devices import Pulses, make_device
from ...devices.base import Device, DeviceState
from ...rng import draw_key
from . import _kernels as K
from .config import SNNConfig


def _column_sums(cols: np.ndarray) -> np.ndarray:
    """Row sums accumulated left to right (as the compiled loop does; numpy's pairwise sum rounds differently)."""
    return np.cumsum(cols, axis=1)[:, -1]


def _index(state, r: torch.Tensor, j: torch.Tensor):
    return state.map(lambda t: t[r, j]) if isinstance(state, DeviceState) else state[r, j]


def _scatter(state, r: torch.Tensor, j: torch.Tensor, new) -> None:
    if isinstance(state, DeviceState):
        for k, v in state.items():
            v[r, j] = new[k]
    else:
        state[r, j] = new


class STDPNetwork:
    """The network of `SNNConfig` with ``replicas`` independent copies; CPU (numba) simulation, devices on
    ``device``. Randomness from ``generator`` (initial weights, device variation, input spikes). ``synapse``:
    a device instance (e.g. a user's own, or a lookup-table device with its table) instead of
    ``config.synapse``; ``compiled=False`` forces the protocol path."""

    def __init__(self, config: SNNConfig, *, replicas: int = 1, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu", compiled: bool = True, synapse: Device | None = None) -> None:
        if not isinstance(config, SNNConfig):
            raise ConfigError(f"STDPNetwork needs an SNNConfig, got {type(config).__name__}")
        if not isinstance(replicas, int) or replicas < 1:
            raise ConfigError(f"replicas must be an int >= 1, got {replicas!r}")
        self.config, self.replicas, self.device = config, replicas, torch.device(device)
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.synapse = self._make_synapse(config, synapse)
        self.g_lo, self.g_hi = self.synapse.conductance_range()
        self.current_mode = bool(getattr(self.synapse, "current_programmable", False))
        self.compiled = compiled
        prog = getattr(self.synapse, "compiled_programming", None)
        self._compiled_prog = prog(config.supply_v, (self.g_lo, self.g_hi)) if prog and self.device.type == "cpu" \
            else None
        c, n, n_in, R = config, config.n_exc, config.n_inputs, replicas
        self.ce, self.ci = c.exc.coefficients(c.dt_s), c.inh.coefficients(c.dt_s)
        s = c.stdp
        self.net = np.array([c.input_scale, c.w_exc_inh, c.w_inh_exc, s.eta_post, s.eta_pre,
                             math.exp(-c.dt_s / s.tau_post1_s), math.exp(-c.dt_s / s.tau_post2_s), float(s.triplet),
                             float(c.steps(s.window_s))], dtype=np.float64)
        n_tab = c.steps_per_image + c.rest_steps + 1
        self.pw_pre = np.cumprod(np.r_[1.0, np.full(n_tab - 1, math.exp(-c.dt_s / s.tau_pre_s))])
        self.w = np.zeros((R, n_in, n), dtype=np.float64)
        self.gain = np.ones((R, n), dtype=np.float64)
        self.fs = np.zeros((R, K.N_F, n), dtype=np.float64)
        self.ints = np.zeros((R, K.N_I, n), dtype=np.int64)
        self.t_last = np.full((R, n_in), K.NO_SPIKE, dtype=np.int64)
        self._ptr = np.zeros((R, c.steps_per_image + 1), dtype=np.int64)
        self._idx = np.zeros((R, n_in * c.steps_per_image), dtype=np.int32)
        self._times = np.zeros((R, n_in * c.steps_per_image), dtype=np.int64)
        self._win_p = np.zeros((R, n, n_in))
        self._win_d = np.zeros((R, n, n_in))
        self._ev_j = np.zeros((R, 2 * n), dtype=np.int64)
        self._ev_dw = np.zeros((R, 2 * n, n_in))
        self._n_ev = np.zeros((R, 1), dtype=np.int64)
        self.counters = {"images": 0, "presentations": 0, "exc_spikes": 0.0, "inh_spikes": 0.0,
                         "synaptic_events": 0, "programming_energy_j": 0.0, "supply_energy_j": 0.0,
                         "normalisation_energy_j": 0.0, "normalisation_supply_j": 0.0}
        self._rest_neurons()
        self.state = self.synapse.init_state((R, n, n_in), generator=self.generator, device=self.device)
        w0 = torch.rand((R, n, n_in), generator=self.generator, dtype=torch.float64) * c.w_init_max
        self._program_to(torch.arange(R).repeat_interleave(n), torch.arange(n).repeat(R), w0.reshape(R * n, n_in))
        if c.normalisation != "none":  # every column starts normalised, as Diehl & Cook's before the first image
            self._normalise(np.ones((R, n), dtype=bool))
        self.counters["normalisation_energy_j"] = self.counters["normalisation_supply_j"] = 0.0

    # ------------------------------------------------------------------------------------------- devices
    @staticmethod
    def _make_synapse(c: SNNConfig, given: Device | None):
        if given is not None:  # a user's (or a prepared) device instance instead of config.synapse
            if c.variation > 0:
                if "r_p_dtod" not in {f.name for f in dataclasses.fields(given.config)}:
                    raise ConfigError(f"variation: device {given.name!r} has no resistance variation (r_p_dtod)")
                given = type(given)(given.config, r_p_dtod=c.variation)
            if not given.is_synapse:
                raise ConfigError(f"synapse: {given.name!r} is not a synapse device")
            return given
        opts = dict(c.synapse_options)
        dev = make_device(c.synapse)
        fields = {f.name for f in dataclasses.fields(dev.config)}
        if "response" in opts and ("response" not in fields or dev.config.nominal_kind != "current"):
            opts.pop("response")  # the calibrated-response default applies to current-driven DW devices only
        if c.variation > 0:
            if "r_p_dtod" not in fields:
                raise ConfigError(f"variation: device {c.synapse!r} has no resistance variation (r_p_dtod); use 0")
            opts["r_p_dtod"] = c.variation
        dev = make_device(c.synapse, **opts) if opts else dev
        if not dev.is_synapse:
            raise ConfigError(f"synapse: {c.synapse!r} is not a synapse device")
        return dev

    def _weights_of(self, g: torch.Tensor) -> np.ndarray:
        return ((g.to(torch.float64) - self.g_lo) / (self.g_hi - self.g_lo)).cpu().numpy()

    def _program_delta(self, r: torch.Tensor, j: torch.Tensor, dw: torch.Tensor) -> tuple[float, float]:
        """Program synapses (r, j, :) by the requested weight changes ``dw`` (k, n_inputs); returns (energy
        dissipated [J] from the device, supply energy [J] of the programming currents)."""
        sub = _index(self.state, r, j)
        if self.current_mode:
            amp = self.synapse.current_for_displacement_fraction(dw.to(self.device))
            width = self.synapse.config.nominal_width_s
            # one pulse per synapse of the column; a zero request is a zero current (no move, no energy)
            new, energy = self.synapse.apply(sub, Pulses(amplitude=amp, width_s=width), generator=self.generator)
            supply = float(amp.abs().sum()) * self.config.supply_v * width
        else:
            span = self.g_hi - self.g_lo
            step = torch.where(dw > 0, torch.tensor(self.synapse.mean_step(1)), torch.tensor(self.synapse.mean_step(-1)))
            m = dw.abs() * span / step
            u = torch.rand(m.shape, generator=self.generator, dtype=m.dtype)
            counts = (torch.floor(m) + (u < m - torch.floor(m))).to(torch.int64) * torch.sign(dw).to(torch.int64)
            new, energy = self.synapse.program_counts(sub, counts.to(self.device), generator=self.generator)
            supply = 0.0
        _scatter(self.state, r, j, new)
        self.w[r.numpy(), :, j.numpy()] = self._weights_of(self.synapse.conductance(new))
        return float(energy.sum()), supply

    def _program_to(self, r: torch.Tensor, j: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
        """Program columns (r, j) toward target weights (open loop, from the weights read now)."""
        now = torch.from_numpy(self.w[r.numpy(), :, j.numpy()])
        return self._program_delta(r, j, target - now)

    def _set_gain(self, r: np.ndarray, j: np.ndarray) -> None:
        sums = _column_sums(self.w[r, :, j])
        self.gain[r, j] = self.config.norm_target / np.maximum(sums, 1e-12)

    # ------------------------------------------------------------------------------------------- dynamics
    def _rest_neurons(self) -> None:
        c = self.config
        self.fs[:, K.V_E] = c.exc.v_rest_v
        self.fs[:, K.V_I] = c.inh.v_rest_v
        self.ints[:, K.CLOSE_T] = -1

    def _keys(self) -> np.ndarray:
        """One key per replica for an image's first presentation (re-presentations chain `K.next_key`)."""
        return draw_key(self.generator, (self.replicas,))

    def _handle_events(self) -> int:
        n_ev = self._n_ev[:, 0]
        if not n_ev.any():
            return 0
        r = np.repeat(np.arange(self.replicas), n_ev)
        e = np.concatenate([np.arange(k) for k in n_ev])
        j = self._ev_j[r, e]
        dw = torch.from_numpy(self._ev_dw[r, e])
        energy, supply = self._program_delta(torch.from_numpy(r), torch.from_numpy(j), dw)
        self.counters["programming_energy_j"] += energy
        self.counters["supply_energy_j"] += supply
        self.counters["synaptic_events"] += int((dw != 0).sum())
        return len(r)

    def _present(self, image: np.ndarray) -> None:
        """Show one image to every replica (again, with boosted rates, to replicas that fired too little)."""
        c = self.config
        todo = np.ones(self.replicas, dtype=bool)
        p = c.p_max
        learned = np.zeros((self.replicas, c.n_exc), dtype=bool)
        keys = self._keys()
        for pres in range(c.max_presentations):
            if pres:
                keys = np.array([K.next_key(k) for k in keys], dtype=np.uint64)
            t_now = np.where(todo, 0, c.steps_per_image).astype(np.int64)
            self.fs[:, K.COUNT] = 0.0
            self.fs[:, K.COUNT_I] = 0.0
            rates = np.minimum(image * p, 1.0)
            for r in np.nonzero(todo)[0]:
                K.encode(rates, c.steps_per_image, keys[r], self._ptr[r], self._idx[r], self._times[r])
            while (t_now < c.steps_per_image).any():
                K.train_run(t_now, c.steps_per_image, self.w, self.gain, self.fs, self.ints, self.t_last, self._ptr,
                            self._idx, self.ce, self.ci, self.net, self.pw_pre, self._win_p, self._win_d, self._ev_j,
                            self._ev_dw, self._n_ev)
                self._note_learned(learned)
                self._handle_events()
            K.close_windows(self.fs, self.ints, self._win_p, self._win_d, self._ev_j, self._ev_dw, self._n_ev)
            self._note_learned(learned)
            self._handle_events()
            counts = self.fs[:, K.COUNT].sum(axis=1)
            self.counters["exc_spikes"] += float(counts[todo].sum())
            self.counters["inh_spikes"] += float(self.fs[todo, K.COUNT_I].sum())
            self.counters["presentations"] += int(todo.sum())
            n_rest = c.rest_steps
            K.rest_all(todo, self.fs, self.ints, self.t_last, self.ce, self.ci, *self._rest_decays(), n_rest,
                       c.steps_per_image + n_rest)
            todo = todo & (counts < c.min_spikes)
            if not todo.any():
                break
            p += c.boost
        self._normalise(learned)

    def _rest_decays(self) -> tuple[float, float]:
        """Decay of the two post traces over the rest period (one number for both paths)."""
        n = self.config.rest_steps
        return float(self.net[5]) ** n, float(self.net[6]) ** n

    def _note_learned(self, learned: np.ndarray) -> None:
        for r in np.nonzero(self._n_ev[:, 0])[0]:
            learned[r, self._ev_j[r, :self._n_ev[r, 0]]] = True

    def _normalise(self, learned: np.ndarray) -> None:
        c = self.config
        r, j = np.nonzero(learned)
        if not len(r) or c.normalisation == "none":
            return
        if c.normalisation == "gain":
            self._set_gain(r, j)
            return
        cols = self.w[r, :, j]
        target = torch.from_numpy(cols * (c.norm_target / np.maximum(_column_sums(cols), 1e-12))[:, None])
        energy, supply = self._program_to(torch.from_numpy(r), torch.from_numpy(j), target.clamp(0.0, 1.0))
        self.counters["normalisation_energy_j"] += energy
        self.counters["normalisation_supply_j"] += supply

    # ------------------------------------------------------------------------------------------- public API
    def train(self, images: torch.Tensor, *, progress: Callable[[int], Any] | None = None,
              stop: Callable[[], bool] | None = None, chunk: int = 100) -> int:
        """Online STDP on ``images`` (n, n_inputs) intensities in [0, 1], one image at a time in order.

        On a device with a compiled programming response (`compiled_path`) stretches of ``chunk`` images run
        in one compiled call; otherwise the loop returns to Python at every STDP event to program the devices
        through the protocol. Both give the same result. ``progress(k)`` is called with the images done after
        every stretch (every image on the protocol path), ``stop()`` is checked before each; returns the
        number of images trained."""
        x = self._images(images)
        step = max(1, int(chunk)) if self.compiled_path() else 1
        if self.config.stdp.anneal_images > 0:  # the amplitudes change between stretches: keep them short
            step = min(step, max(1, int(self.config.stdp.anneal_images // 100)))
        done = 0
        while done < x.shape[0]:
            if stop is not None and stop():
                break
            # with annealing, stretches end at multiples of `step` images (so how train() is called does not matter)
            n = step - self.counters["images"] % step if self.config.stdp.anneal_images > 0 else step
            part = x[done:done + n]
            self._anneal(self.counters["images"] - self.counters["images"] % step)
            if self.compiled_path():
                self._train_compiled(part)
            else:
                self._present(part[0])
            self.counters["images"] += len(part)
            done += len(part)
            if progress is not None:
                progress(done)
        return done

    def _anneal(self, images: int) -> None:
        """STDP amplitudes after ``images`` trained images (`STDPParams.anneal_images`; constant when 0)."""
        s = self.config.stdp
        f = math.exp(-images / s.anneal_images) if s.anneal_images > 0 else 1.0
        self.net[3], self.net[4] = s.eta_post * f, s.eta_pre * f

    def compiled_path(self) -> bool:
        """Whether training runs in compiled stretches (the synapse offers `compiled_programming`, e.g.
        `dw-continuous` with the calibrated response, and ``compiled`` was not switched off)."""
        return self.compiled and self._compiled_prog is not None

    def _train_compiled(self, x: np.ndarray) -> None:
        c = self.config
        keys = np.stack([self._keys() for _ in range(len(x))])
        kp, fi, fd, idd, ii = self._compiled_prog
        st = self.state
        acc = np.zeros((self.replicas, 9))
        K.train_images(x, keys, c.p_max, c.boost, float(c.min_spikes), c.max_presentations, c.steps_per_image,
                       c.rest_steps, self.w, self.gain, self.fs, self.ints, self.t_last, self._ptr, self._idx,
                       self._times, self.ce, self.ci, self.net, self.pw_pre, self._win_p, self._win_d, self._ev_j,
                       self._ev_dw, self._n_ev, st["q"].numpy(), st["g_p"].numpy(), st["g_ap"].numpy(), kp, fi, fd,
                       idd, ii, {"reprogram": 0, "gain": 1, "none": 2}[c.normalisation], c.norm_target,
                       *self._rest_decays(), acc)
        tot = acc.sum(axis=0)
        for k, name in enumerate(("programming_energy_j", "supply_energy_j", "synaptic_events", "normalisation_energy_j",
                                  "normalisation_supply_j")):
            self.counters[name] += int(tot[k]) if name == "synaptic_events" else float(tot[k])
        self.counters["exc_spikes"] += float(tot[6])
        self.counters["presentations"] += int(tot[7])
        self.counters["inh_spikes"] += float(tot[8])

    def responses(self, images: torch.Tensor) -> torch.Tensor:
        """Excitatory spike counts (replicas, n, n_exc) per image with learning off (weights and theta frozen;
        every image starts from rest). Batched over replicas and images."""
        c = self.config
        x = self._images(images)
        keys = draw_key(self.generator, (self.replicas, x.shape[0]))
        fs0 = np.zeros_like(self.fs)
        fs0[:, K.V_E] = c.exc.v_rest_v
        fs0[:, K.V_I] = c.inh.v_rest_v
        fs0[:, K.TH_E] = self.fs[:, K.TH_E]
        counts = np.zeros((self.replicas, x.shape[0], c.n_exc))
        K.infer(x, c.p_max, keys, c.steps_per_image, self.w, self.gain, fs0, self.ce, self.ci, self.net,
                float(c.min_spikes), c.boost, c.max_presentations, counts)
        return torch.from_numpy(counts)

    def _images(self, images: torch.Tensor) -> np.ndarray:
        x = torch.as_tensor(images, dtype=torch.float64).reshape(len(images), -1)
        if x.shape[1] != self.config.n_inputs:
            raise ConfigError(f"images: need {self.config.n_inputs} inputs per image, got {x.shape[1]}")
        if len(x) and not (float(x.min()) >= 0.0 and float(x.max()) <= 1.0):
            raise ConfigError("images: intensities must be in [0, 1]")
        return np.ascontiguousarray(x.cpu().numpy())

    def weights(self) -> torch.Tensor:
        """Effective weights (replicas, n_exc, n_inputs) as read from the devices (gain not included)."""
        return torch.from_numpy(self.w.transpose(0, 2, 1).copy())

    def conductances(self) -> torch.Tensor:
        """Read conductances [S] (replicas, n_exc, n_inputs)."""
        return self.synapse.conductance(self.state)

    def theta(self) -> torch.Tensor:
        """Homeostatic threshold offsets [V] (replicas, n_exc)."""
        return torch.from_numpy(self.fs[:, K.TH_E].copy())

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed training needs to continue bit-identically (with the generator's state)."""
        st = self.state.clone() if isinstance(self.state, DeviceState) else self.state.clone()
        return {"w": self.w.copy(), "gain": self.gain.copy(), "fs": self.fs.copy(), "ints": self.ints.copy(),
                "t_last": self.t_last.copy(), "device_state": st, "counters": dict(self.counters),
                "generator": self.generator.get_state()}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore `state_dict` (same config and replica count)."""
        if sd["w"].shape != self.w.shape:
            raise ConfigError(f"load_state_dict: weights of shape {sd['w'].shape}, this network has {self.w.shape}")
        self.w[...], self.gain[...], self.fs[...] = sd["w"], sd["gain"], sd["fs"]
        self.ints[...], self.t_last[...] = sd["ints"], sd["t_last"]
        self.state = sd["device_state"]
        self.counters = dict(sd["counters"])
        self.generator.set_state(sd["generator"])
