r"""Run layout of the thermoacoustic workflow: simulator output or a user's own recordings.

A set of combustor runs is an ``xarray.Dataset`` (stored as zarr or NetCDF) with

==============  =====================  ========  ==================================================
variable        dims                   units     meaning
==============  =====================  ========  ==================================================
``p_dyn``       (run, time_fast)       bar       dynamic (acoustic) chamber pressure, fast sensor
``oh_star``     (run, time_fast)       a.u.      OH* chemiluminescence intensity, fast sensor
``p_c``         (run, time)            bar       chamber static pressure
``p_inj_ox``    (run, time)            bar       oxidiser injector pressure
``p_inj_f``     (run, time)            bar       fuel injector pressure
``T_inj_ox``    (run, time)            K         oxidiser injection temperature
``T_inj_f``     (run, time)            K         fuel (H2) injection temperature
``mdot_ox``     (run, time)            kg/s      oxidiser mass-flow command (known in advance)
``mdot_f``      (run, time)            kg/s      fuel mass-flow command (known in advance)
``amplitude``   (run, time)            bar       optional: 1T band amplitude per frame (computed)
``nu``          (run, time)            1/s       optional, simulator only: true growth rate
``state``       (run, time, component) bar, bar/s  optional, simulator only: (eta, deta/dt)
``nu_fast``     (run, time_fast)       1/s       optional, simulator only: growth rate, fast rate
==============  =====================  ========  ==================================================

Coordinates: ``run`` (string labels), ``split`` on ``run`` (``train``/``val``/``test``),
``time`` [s] = frame *end* times ``(k + 1)/frame_rate`` and ``time_fast`` [s] = ``i/fs``; there are
exactly ``fs/frame_rate`` fast samples per frame. Attributes ``fs``, ``frame_rate``, ``f0``,
``band_lo``, ``band_hi`` (Hz) describe the sampling and the mode band. Slow channels are sampled
(or averaged) once per frame. :func:`validate_runs` checks all of this and raises
:class:`~sciml.errors.DataError` naming the offending variable.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sciml.errors import DataError
from sciml.thermoacoustic.simulator import (
    CONTROL_CHANNELS,
    SLOW_CHANNELS,
    CombustorParams,
    SimulatedRuns,
    frame_amplitude,
)

__all__ = [
    "REQUIRED_FAST",
    "REQUIRED_FRAME",
    "UNITS",
    "runs_to_dataset",
    "validate_runs",
    "params_from_dataset",
    "split_runs",
    "runs_from_dataset",
    "str_labels",
]

REQUIRED_FAST = ("p_dyn", "oh_star")
REQUIRED_FRAME = SLOW_CHANNELS + CONTROL_CHANNELS

UNITS = {
    "p_dyn": ("bar", "dynamic pressure"),
    "oh_star": ("a.u.", "OH* chemiluminescence"),
    "p_c": ("bar", "chamber static pressure"),
    "p_inj_ox": ("bar", "oxidiser injector pressure"),
    "p_inj_f": ("bar", "fuel injector pressure"),
    "T_inj_ox": ("K", "oxidiser injection temperature"),
    "T_inj_f": ("K", "fuel injection temperature"),
    "mdot_ox": ("kg/s", "oxidiser mass flow command"),
    "mdot_f": ("kg/s", "fuel mass flow command"),
    "amplitude": ("bar", "1T-mode band amplitude of the dynamic pressure"),
    "nu": ("1/s", "linear growth rate of the 1T mode (simulator truth)"),
    "nu_fast": ("1/s", "growth rate at the fast rate (simulator truth)"),
    "state": ("bar, bar/s", "acoustic state (eta, deta/dt) at frame ends (simulator truth)"),
}


def str_labels(values) -> np.ndarray:
    """Fixed-width unicode array of labels (zarr v3 may return numpy's variable StringDType)."""
    return np.asarray([str(v) for v in np.asarray(values).ravel()], dtype=str)


def split_runs(n_runs: int, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """Assign runs to ``train``/``val``/``test`` (whole runs, never frames of one run)."""
    n_val = max(1, int(round(fractions[1] * n_runs)))
    n_test = max(1, int(round(fractions[2] * n_runs)))
    n_train = n_runs - n_val - n_test
    if n_train < 1:
        raise DataError(f"n_runs={n_runs} too small for a train/val/test split {fractions}")
    labels = np.array(["train"] * n_train + ["val"] * n_val + ["test"] * n_test)
    return np.random.default_rng(seed).permutation(labels)


def runs_to_dataset(runs: SimulatedRuns, split: np.ndarray | None = None) -> xr.Dataset:
    """Build the documented run layout from simulator output."""
    p = runs.params
    n_frames = runs.n_frames
    n_fast = runs.p_dyn.shape[1]
    labels = np.asarray([f"run{i:03d}" for i in range(runs.n_runs)], dtype=str)
    coords = {
        "run": labels,
        "time": np.arange(1, n_frames + 1) / p.frame_rate,
        "time_fast": np.arange(n_fast) / p.fs,
        "component": np.asarray(["eta", "deta_dt"], dtype=str),
    }
    if split is not None:
        coords["split"] = ("run", np.asarray(split, dtype=str))
    dv = {
        "p_dyn": (("run", "time_fast"), runs.p_dyn.astype(np.float32)),
        "oh_star": (("run", "time_fast"), runs.oh_star.astype(np.float32)),
        "amplitude": (("run", "time"), runs.amplitude),
        "nu": (("run", "time"), runs.nu),
        "state": (("run", "time", "component"), runs.state),
        "nu_fast": (("run", "time_fast"), runs.nu_fast.astype(np.float32)),
        "delta": (("run",), runs.delta),
    }
    for k in SLOW_CHANNELS:
        dv[k] = (("run", "time"), runs.slow[k])
    for k in CONTROL_CHANNELS:
        dv[k] = (("run", "time"), runs.controls[k])
    ds = xr.Dataset(dv, coords=coords)
    for k, (u, ln) in UNITS.items():
        ds[k].attrs.update(units=u, long_name=ln)
    ds["delta"].attrs.update(units="1/s", long_name="per-run growth-rate offset (simulator truth)")
    ds["time"].attrs.update(units="s", long_name="frame end time")
    ds["time_fast"].attrs.update(units="s", long_name="fast sample time")
    ds.attrs.update(
        description="Surrogate BKD-like combustor runs: stochastic Van der Pol 1T mode + slow plant",
        fs=float(p.fs), frame_rate=float(p.frame_rate), f0=float(p.f0),
        band_lo=float(p.band[0]), band_hi=float(p.band[1]), seed=int(runs.seed),
        params_json=__import__("json").dumps(p.to_dict()),
    )
    return ds


def params_from_dataset(ds: xr.Dataset) -> CombustorParams:
    """Sampling/band parameters of a run set (simulator parameters when it carries them)."""
    import json

    if "params_json" in ds.attrs:
        d = json.loads(ds.attrs["params_json"])
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return CombustorParams(**d)
    return CombustorParams(
        fs=float(ds.attrs["fs"]), frame_rate=float(ds.attrs["frame_rate"]), f0=float(ds.attrs["f0"]),
        band=(float(ds.attrs["band_lo"]), float(ds.attrs["band_hi"])),
    )


def validate_runs(ds: xr.Dataset) -> xr.Dataset:
    """Check a run set against the layout; return it with ``amplitude`` filled in if missing.

    Raises
    ------
    DataError
        missing variable/attribute, wrong dims, fast/frame lengths that disagree, non-finite or
        non-numeric values, or no ``split`` labels.
    """
    for a in ("fs", "frame_rate", "f0", "band_lo", "band_hi"):
        if a not in ds.attrs:
            raise DataError(f"run set lacks attribute {a!r}; set ds.attrs[{a!r}] (Hz)")
    for v in REQUIRED_FAST + REQUIRED_FRAME:
        if v not in ds.data_vars:
            raise DataError(f"run set lacks variable {v!r}; required: {REQUIRED_FAST + REQUIRED_FRAME}")
    for v in REQUIRED_FAST:
        if ds[v].dims != ("run", "time_fast"):
            raise DataError(f"variable {v!r} has dims {ds[v].dims}; expected ('run', 'time_fast')")
    for v in REQUIRED_FRAME:
        if ds[v].dims != ("run", "time"):
            raise DataError(f"variable {v!r} has dims {ds[v].dims}; expected ('run', 'time')")
    for v in REQUIRED_FAST + REQUIRED_FRAME:
        if not np.issubdtype(ds[v].dtype, np.number):
            raise DataError(f"variable {v!r} is not numeric (dtype {ds[v].dtype})")
        if not bool(np.isfinite(ds[v].values).all()):
            raise DataError(f"variable {v!r} holds NaN/inf; drop or interpolate those samples")
    try:
        p = params_from_dataset(ds).validate()
    except Exception as e:  # ConfigError -> DataError for a user's file
        raise DataError(f"run set sampling attributes are inconsistent: {e}") from e
    n = p.samples_per_frame
    if ds.sizes["time_fast"] != n * ds.sizes["time"]:
        raise DataError(
            f"time_fast has {ds.sizes['time_fast']} samples but time has {ds.sizes['time']} frames "
            f"of fs/frame_rate={n}; expected {n * ds.sizes['time']}"
        )
    if "split" not in ds.coords:
        raise DataError("run set lacks the 'split' coordinate on 'run' (train/val/test)")
    bad = set(str_labels(ds["split"].values)) - {"train", "val", "test"}
    if bad:
        raise DataError(f"unknown split labels {sorted(bad)}; use train, val, test")
    if "amplitude" not in ds.data_vars:
        amp = frame_amplitude(ds["p_dyn"].values.astype(np.float64), p)
        ds = ds.assign(amplitude=(("run", "time"), amp))
        ds["amplitude"].attrs.update(units="bar", long_name=UNITS["amplitude"][1])
    return ds


def runs_from_dataset(ds: xr.Dataset) -> SimulatedRuns:
    """Rebuild :class:`SimulatedRuns` from a simulator run set (needed to re-simulate: the oracle).

    Raises
    ------
    DataError
        if the run set lacks the simulator-only variables ``state`` and ``nu_fast``.
    """
    for v in ("state", "nu_fast", "amplitude"):
        if v not in ds.data_vars:
            raise DataError(f"run set lacks {v!r}: the oracle needs simulator output, not recordings")
    p = params_from_dataset(ds)
    return SimulatedRuns(
        p_dyn=ds["p_dyn"].values, oh_star=ds["oh_star"].values,
        slow={k: ds[k].values for k in SLOW_CHANNELS},
        controls={k: ds[k].values for k in CONTROL_CHANNELS},
        amplitude=ds["amplitude"].values, nu=ds["nu"].values if "nu" in ds else None,
        state=ds["state"].values.astype(np.float64), nu_fast=ds["nu_fast"].values.astype(np.float64),
        delta=ds["delta"].values if "delta" in ds else np.zeros(ds.sizes["run"]), params=p,
        seed=int(ds.attrs.get("seed", 0)),
    )
