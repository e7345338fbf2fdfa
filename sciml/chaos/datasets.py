r"""The chaos workflow's results as xarray Datasets (no I/O).

Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven modelling",
NeurIPS 2021 Datasets and Benchmarks: :func:`benchmark_to_dataset` (the forecasting benchmark
series, Sec. 4), :func:`invariants_to_dataset` (the annotated catalogue's estimated invariants),
:func:`forecast_to_dataset` (forecast scores) and :func:`correlations_to_dataset` (the headline
rank correlations of forecast error with the invariants, Fig. 4).
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from sciml.errors import DataError

from .benchmark import NOISES, SPLITS, history_forecast
from .forecast.runner import METRICS, MODELS
from .invariants import INVARIANT_FIELDS
from .metrics import spearman

__all__ = [
    "benchmark_to_dataset",
    "correlations_to_dataset",
    "forecast_to_dataset",
    "invariants_to_dataset",
]


def benchmark_to_dataset(
    results: dict[str, dict],
    *,
    dims: dict[str, int] | None = None,
    periods: dict[str, float] | None = None,
    noise: float = 0.1,
    n_history_periods: int = 10,
    dropped: dict[str, str] | None = None,
) -> xr.Dataset:
    """Assemble per-system results into the ``chaos/benchmark`` dataset.

    Dims: ``system``, ``split`` (train/test), ``granularity`` (coarse/fine), ``noise``
    (clean/noisy), ``step`` (time index), ``coordinate`` (state component, padded).

    Variables: ``x`` (all dims), ``univariate`` (``x`` at coordinate 0), ``time``
    (system, granularity, step), ``coordinate_mask`` (system, coordinate), ``step_mask``
    (granularity, step), ``is_forecast`` (granularity, step), ``n_history`` (granularity),
    ``dim`` and ``period`` (system).
    """
    if not results:
        raise DataError("no system in the benchmark results: nothing to write")
    names = list(results)
    first = results[names[0]]
    gran = list(first["granularities"])
    n_periods = int(first["n_periods"])
    n_step = max(r["x"].shape[3] for r in results.values())
    max_dim = max(r["x"].shape[4] for r in results.values())
    x = np.full((len(names), 2, len(gran), 2, n_step, max_dim), np.nan)
    t = np.full((len(names), len(gran), n_step), np.nan)
    cmask = np.zeros((len(names), max_dim), bool)
    for i, n in enumerate(names):
        r = results[n]
        if list(r["granularities"]) != gran:
            raise DataError(f"system {n!r} was generated with other granularities {r['granularities']}")
        d = r["x"].shape[4]
        x[i, :, :, :, : r["x"].shape[3], :d] = r["x"]
        t[i, :, : r["t"].shape[1]] = r["t"]
        cmask[i, :d] = True
    n_pts = first["n_points"]
    smask = np.arange(n_step)[None, :] < n_pts[:, None]
    n_hist = np.array([history_forecast(int(k), n_periods, n_history_periods) for k in n_pts])
    is_fc = (np.arange(n_step)[None, :] >= n_hist[:, None]) & smask
    dims_arr = np.array([cmask[i].sum() for i in range(len(names))])
    levels = np.array([float(results[n].get("noise_level", noise)) for n in names])
    per = np.array([(periods or {}).get(n, np.nan) for n in names], float)
    ds = xr.Dataset(
        {
            "x": (("system", "split", "granularity", "noise", "step", "coordinate"), x,
                  {"long_name": "state", "units": "system units"}),
            "univariate": (("system", "split", "granularity", "noise", "step"), x[..., 0],
                           {"long_name": "first coordinate", "units": "system units"}),
            "time": (("system", "granularity", "step"), t,
                     {"long_name": "time", "units": "system time units"}),
            "coordinate_mask": (("system", "coordinate"), cmask,
                                {"long_name": "coordinate exists for the system"}),
            "step_mask": (("granularity", "step"), smask, {"long_name": "step holds a point"}),
            "is_forecast": (("granularity", "step"), is_fc,
                            {"long_name": "step is in the forecast horizon (last 2 periods)"}),
            "n_history": (("granularity",), n_hist, {"long_name": "history length (points)"}),
            "dim": (("system",), dims_arr, {"long_name": "state dimension"}),
            "period": (("system",), per, {"long_name": "dominant period", "units": "time"}),
            "noise_level": (("system",), levels,
                            {"long_name": "stochastic forcing amplitude relative to coordinate std"}),
        },
        coords={
            "system": np.asarray(names, dtype=str),
            "split": np.asarray(SPLITS, dtype=str),
            "granularity": np.asarray(gran, dtype=str),
            "noise": np.asarray(NOISES, dtype=str),
            "step": np.arange(n_step),
            "coordinate": np.arange(max_dim),
        },
        attrs={
            "description": (
                "Chaotic-system forecasting benchmark (Gilpin 2021 layout): per system a train and "
                "a test series from different on-attractor initial conditions, coarse/fine "
                "granularity, clean and stochastically forced (noisy); 12 periods, the first 10 "
                "history and the last 2 the forecast horizon."
            ),
            "pts_per_period": json.dumps({g: int(v) for g, v in first["granularities"].items()}),
            "n_periods": n_periods,
            "n_history_periods": int(n_history_periods),
            "noise_level": float(noise),
            "grid": "t_k = k * period * n / (pts_per_period * (n - 1)), k = 0..n-1",
            "dropped_systems": json.dumps(dropped or {}),
            "dropped_noisy": json.dumps({n: r["noisy_dropped"] for n, r in results.items()
                                         if r.get("noisy_dropped")}),
        },
    )
    return ds


def invariants_to_dataset(results: list[dict], systems: list | None = None):
    """Table of :func:`estimate_invariants` results as an ``xarray.Dataset`` (dim ``system``).

    Variables: every :data:`INVARIANT_FIELDS` entry and its ``_se``; ``spectrum`` and
    ``spectrum_se`` over a padded ``exponent`` dim; ``period_pvalue``, ``period_significant``,
    ``reliable``, ``flags`` (comma-separated), ``kind``, ``dim``; with ``systems`` also the
    catalogue's ``catalogue_period``, ``lyapunov_max_literature`` and ``lyapunov_source``.
    """
    if not results:
        raise DataError("no invariants to tabulate")
    names = [r["name"] for r in results]
    n_exp = max(len(r["spectrum"]) for r in results)
    spec = np.full((len(results), n_exp), np.nan)
    spec_se = spec.copy()
    for i, r in enumerate(results):
        spec[i, : len(r["spectrum"])] = r["spectrum"]
        spec_se[i, : len(r["spectrum_se"])] = r["spectrum_se"]
    units = {"period": "time", "lyapunov_max": "1/time", "lyapunov_max_two_traj": "1/time",
             "lyapunov_sum": "1/time", "kaplan_yorke": "1", "pesin_entropy": "nats/time",
             "correlation_dimension": "1"}
    data = {}
    for f in INVARIANT_FIELDS:
        data[f] = ("system", np.array([r[f] for r in results], float),
                   {"long_name": f.replace("_", " "), "units": units[f]})
        data[f"{f}_se"] = ("system", np.array([r[f"{f}_se"] for r in results], float),
                           {"long_name": f"standard error of {f.replace('_', ' ')} over ICs",
                            "units": units[f]})
    data["spectrum"] = (("system", "exponent"), spec, {"long_name": "Lyapunov spectrum (QR)",
                                                       "units": "1/time (maps: 1/iterate)"})
    data["spectrum_se"] = (("system", "exponent"), spec_se, {"long_name": "its standard error"})
    data["period_pvalue"] = ("system", np.array([r["period_pvalue"] for r in results]),
                             {"long_name": "Fisher g-test p-value of the spectral peak"})
    data["period_significant"] = ("system", np.array([r["period_significant"] for r in results]))
    data["reliable"] = ("system", np.array([r["reliable"] for r in results]),
                        {"long_name": "no reliability flag raised"})
    data["flags"] = ("system", np.asarray([",".join(r["flags"]) for r in results], dtype=str))
    data["kind"] = ("system", np.asarray([r["kind"] for r in results], dtype=str))
    data["dim"] = ("system", np.array([r["dim"] for r in results], int))
    if systems is not None:
        lit = [s.metadata.get("lyapunov_max_literature") for s in systems]
        data["lyapunov_max_literature"] = (
            "system", np.array([np.nan if v is None else float(v) for v in lit]),
            {"long_name": "literature maximum Lyapunov exponent", "units": "1/time"})
        data["lyapunov_source"] = ("system", np.asarray(
            [str(s.metadata.get("lyapunov_source", "")) for s in systems], dtype=str))
        data["catalogue_period"] = ("system", np.array([float(s.period) for s in systems]),
                                    {"long_name": "period stored in the catalogue"})
    return xr.Dataset(
        data,
        coords={"system": np.asarray(names, dtype=str), "exponent": np.arange(n_exp)},
        attrs={"description": "Invariants of chaotic systems, one estimator set (QR spectrum, "
               "two-trajectory max exponent, Kaplan-Yorke, Pesin, Grassberger-Procaccia, "
               "periodogram + Fisher g test); mean and standard error over initial conditions."},
    )


def forecast_to_dataset(
    names: list[str],
    results: list[dict],
    models: tuple[str, ...] = MODELS,
    granularities: tuple[str, ...] = ("coarse", "fine"),
    noises: tuple[str, ...] = ("clean",),
):
    """``chaos/forecast_metrics``: one variable per metric over (model, system, granularity, noise).

    ``results[i]`` maps ``(granularity, noise)`` to :func:`forecast_series`'s output for
    ``names[i]``.
    """
    gran, nzs = list(granularities), list(noises)
    arr = np.full((len(METRICS), len(models), len(names), len(gran), len(nzs)), np.nan)
    for i, res in enumerate(results):
        for (g, nz), per_model in res.items():
            for j, m in enumerate(models):
                for k, met in enumerate(METRICS):
                    arr[k, j, i, gran.index(g), nzs.index(nz)] = per_model[m][met]
    long = {"smape": ("sMAPE on the 0-200 scale", "percent"), "mase": ("MASE (naive scale)", "1"),
            "vpt": ("valid prediction time (error/std > 0.4)", "Lyapunov times"),
            "crps": ("CRPS of the ensemble", "system units"),
            "coverage_90": ("coverage of the central 90% interval", "1")}
    return xr.Dataset(
        {met: (("model", "system", "granularity", "noise"), arr[k],
               {"long_name": long[met][0], "units": long[met][1]})
         for k, met in enumerate(METRICS)},
        coords={"model": np.asarray(models, dtype=str), "system": np.asarray(names, dtype=str),
                "granularity": np.asarray(gran, dtype=str), "noise": np.asarray(nzs, dtype=str)},
        attrs={"description": "Forecast scores on the last 2 periods of each system's test "
               "series (univariate, first coordinate), fitted on the train series.",
               "smape_scale": "0-200"},
    )


def correlations_to_dataset(fm, inv, invariants=("lyapunov_max", "pesin_entropy",
                                                 "correlation_dimension")):
    """Spearman correlation of sMAPE with each invariant across the systems of both datasets.

    Returns a Dataset with ``spearman_rho`` and ``pvalue`` over (model, granularity, noise,
    invariant).
    """
    systems = [s for s in fm.system.values if s in set(inv.system.values)]
    shape = (fm.sizes["model"], fm.sizes["granularity"], fm.sizes["noise"], len(invariants))
    rho, pv = np.full(shape, np.nan), np.full(shape, np.nan)
    err = fm.smape.sel(system=systems).transpose("model", "granularity", "noise", "system").values
    for d, key in enumerate(invariants):
        iv = inv[key].sel(system=systems).values
        for idx in np.ndindex(shape[:3]):
            rho[idx + (d,)], pv[idx + (d,)] = spearman(err[idx], iv)
    dims = ("model", "granularity", "noise", "invariant")
    return xr.Dataset(
        {"spearman_rho": (dims, rho, {"long_name": "Spearman rank correlation of sMAPE with "
                                      "the invariant across systems"}),
         "pvalue": (dims, pv, {"long_name": "two-sided p-value"})},
        coords={"model": fm.model.values, "granularity": fm.granularity.values,
                "noise": fm.noise.values, "invariant": np.asarray(invariants, dtype=str)},
        attrs={"description": "Headline of Gilpin 2021: rank correlation of forecast error with "
               "the maximum Lyapunov exponent, Pesin entropy and correlation dimension.",
               "n_systems": len(systems)},
    )
