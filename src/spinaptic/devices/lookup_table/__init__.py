"""Probabilistic lookup-table synapse: Delta-G drawn from a measured/simulated distribution at each G.

Paper 003 (Liu et al. APL 118, 202405 (2021), Fig. 3a) and CrossSim's "DG_LOOKUP" model: per conductance bin,
the inverse CDF of the per-pulse Delta-G, one table instance per device (device-to-device variation); the data
layout is documented in `table`.

The package holds

* `table`: `LookupTable`, the validated data class (D instances, M bins, K CDF points), and its statistics:
  mean and spread of Delta-G against G (`table_statistics`, `quantiles`, `density_map`) and the
  cycle-to-cycle variation of paper 003 Table I (`cycle_to_cycle`);
* `formats`: readers/writers: our NPZ (`load_npz`/`save_npz`), the CrossSim text format
  (`read_crosssim_file`, `load_crosssim`, `load_crosssim_dir`, `write_crosssim`) and a dispatcher `load_table`;
* `sampler`: `TableSampler`, vectorised sampling for any number of devices (numba on CPU, torch anywhere);
* `device`: `LookupTableDevice` ("lookup-table") and its `LookupTableConfig`;
* `table_i`: the Table I figures of paper 003 (NeuroSim nonlinearity label, `table_i_figures`,
  `ramp_table_i_figures`);
* `builders`: `table_from_ramps` (how physics-generated tables are made from conductance ramps),
  `perturb_table` (device-to-device instances from R_P / TMR variation), `ideal_table` (noise-free constant step).

The heatmap of paper 003 Fig. 3a is drawn by `spinaptic.experiments.lookup_table_plots.plot_heatmap`.
Every public name is re-exported here: ``from spinaptic.devices.lookup_table import LookupTable``.
"""

from __future__ import annotations

from .builders import ideal_table, perturb_table, ramp_polarity, table_from_ramps
from .device import LookupTableConfig, LookupTableDevice
from .formats import (
    CROSSSIM_HEADER,
    MAX_CROSSSIM_TEXT_BYTES,
    load_crosssim,
    load_crosssim_dir,
    load_npz,
    load_table,
    read_crosssim_file,
    save_npz,
    write_crosssim,
)
from .sampler import TableSampler
from .table import (
    DIRECTIONS,
    LookupTable,
    LookupTableError,
    cycle_to_cycle,
    density_map,
    quantiles,
    table_statistics,
    validate_table,
)
from .table_i import (
    NEUROSIM_NL_PER_DEVIATION,
    fit_nonlinearity_a,
    mean_pulse_response,
    nonlinear_response,
    nonlinearity,
    nonlinearity_label,
    ramp_table_i_figures,
    table_i_figures,
)

__all__ = [
    "CROSSSIM_HEADER",
    "DIRECTIONS",
    "MAX_CROSSSIM_TEXT_BYTES",
    "NEUROSIM_NL_PER_DEVIATION",
    "LookupTable",
    "LookupTableConfig",
    "LookupTableDevice",
    "LookupTableError",
    "TableSampler",
    "cycle_to_cycle",
    "density_map",
    "fit_nonlinearity_a",
    "load_crosssim",
    "load_crosssim_dir",
    "load_npz",
    "load_table",
    "mean_pulse_response",
    "nonlinear_response",
    "nonlinearity",
    "nonlinearity_label",
    "ideal_table",
    "perturb_table",
    "quantiles",
    "ramp_polarity",
    "ramp_table_i_figures",
    "read_crosssim_file",
    "save_npz",
    "table_from_ramps",
    "table_i_figures",
    "table_statistics",
    "validate_table",
    "write_crosssim",
]
