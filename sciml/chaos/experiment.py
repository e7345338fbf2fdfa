r"""The chaos benchmark experiment: settings and the steps of the recipe (no I/O).

Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven modelling", NeurIPS
2021 Datasets and Benchmarks. For the configured systems:

1. estimate the invariants of each system (:func:`system_invariants`: Lyapunov spectrum,
   Kaplan-Yorke and correlation dimension, Pesin entropy, dominant period; Sec. 3);
2. generate the forecasting benchmark series, flows of one dimension in one batch
   (:func:`benchmark_chunk`: train and test series, coarse and fine, clean and noisy; Sec. 4);
3. fit and score every forecaster on each system's univariate series
   (:func:`forecast_system`);
4. correlate forecast error with the invariants across systems (Fig. 4).

:func:`run` does all four in one call; the ``chaos`` flow maps the same functions over systems
and writes their output through the catalog. Every seed derives from ``ChaosConfig.seed``.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field

from sciml.errors import SciMLError
from sciml.settings import Settings

from .benchmark import GRANULARITIES, generate_many, plan_chunks
from .datasets import (
    benchmark_to_dataset,
    correlations_to_dataset,
    forecast_to_dataset,
    invariants_to_dataset,
)
from .forecast import METRICS, MODELS, forecast_series
from .invariants import estimate_invariants, failed_invariants
from .systems import get_system, list_systems

__all__ = [
    "FAST_SYSTEMS",
    "INVARIANTS_FOR_CORRELATION",
    "ChaosConfig",
    "benchmark_chunk",
    "benchmark_dataset",
    "code_version",
    "forecast_system",
    "run",
    "system_invariants",
    "tables",
]

#: Fast default: classic 3-D flows, a 4-D/N-D flow, a delay system and two maps (invariants only).
FAST_SYSTEMS = (
    "Lorenz", "Rossler", "Chen", "Lu", "Thomas", "Aizawa", "Halvorsen", "Chua", "Lorenz84",
    "NoseHoover", "Rucklidge", "ShimizuMorioka", "SprottB", "HyperRossler", "Lorenz96",
    "MackeyGlass", "Henon", "Logistic",
)  # fmt: skip

#: Invariants whose rank correlation with the forecast error is reported (Gilpin 2021, Fig. 4).
INVARIANTS_FOR_CORRELATION = ("lyapunov_max", "pesin_entropy", "correlation_dimension")


class ChaosConfig(Settings):
    """Systems, estimator budgets and forecaster sizes (fast defaults; ``paper``: all systems)."""

    systems: tuple[str, ...] | Literal["all"] = FAST_SYSTEMS
    n_ics: int = Field(2, ge=1, description="initial conditions per system for the invariants")
    lyapunov_periods: float = Field(30.0, gt=0, description="QR / two-trajectory run length")
    corr_periods: float = Field(40.0, gt=0, description="trajectory length for period and D2")
    noise: float = Field(0.1, ge=0, description="stochastic forcing relative to coordinate std")
    rtol: float = Field(1e-9, gt=0)
    atol: float = Field(1e-9, gt=0)
    models: tuple[str, ...] = MODELS
    noises: tuple[Literal["clean", "noisy"], ...] = ("clean",)
    mlp_steps: int = Field(150, ge=1)
    esn_size: int = Field(150, ge=10)
    n_attractor_plots: int = Field(6, ge=0)

    PROFILES = {
        "fast": {},
        "paper": {
            "systems": "all",
            "n_ics": 6,
            "lyapunov_periods": 300.0,
            "corr_periods": 300.0,
            "noises": ("clean", "noisy"),
            "mlp_steps": 1000,
            "esn_size": 300,
        },
        "tiny": {
            "systems": ("Lorenz", "Rossler", "MackeyGlass", "Henon"),
            "n_ics": 2,
            "lyapunov_periods": 10.0,
            "corr_periods": 20.0,
            "mlp_steps": 10,
            "esn_size": 30,
            "n_attractor_plots": 2,
        },
    }

    def system_names(self) -> list[str]:
        """The configured systems (``"all"`` -> the whole catalogue)."""
        return list_systems() if self.systems == "all" else list(self.systems)


def code_version() -> str:
    """Hash of every source and data file of :mod:`sciml.chaos` (16 hex digits).

    Part of the invariants' cache key: a change of the science code invalidates cached results.
    """
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".yaml", ".json"}:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def system_invariants(
    name: str, n_ics: int, n_periods: float, corr_periods: float, seed: int,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> dict:  # fmt: skip
    """Invariants of one system (:func:`~sciml.chaos.invariants.estimate_invariants`).

    A system whose estimators fail (e.g. no bounded initial condition) gets a NaN record flagged
    ``failed: ...`` (:func:`~sciml.chaos.invariants.failed_invariants`) instead of an error, so one
    system cannot stop a catalogue-wide run.
    """
    system = get_system(name)
    try:
        return estimate_invariants(system, n_ics=n_ics, n_periods=n_periods,
                                   corr_periods=corr_periods, seed=seed)  # fmt: skip
    except SciMLError as exc:
        if logger is not None:
            logger.warning(f"chaos invariants: {name} failed: {exc}")
        return failed_invariants(system, f"{type(exc).__name__}: {exc}")


def benchmark_chunk(
    names: list[str], config: ChaosConfig, logger: logging.Logger | logging.LoggerAdapter | None = None
) -> dict[str, dict]:
    """Benchmark series of one chunk of systems (:func:`~sciml.chaos.benchmark.plan_chunks`).

    Returns ``{"results": {name: arrays}, "dropped": {name: reason}}``.
    """
    results, dropped = generate_many([get_system(n) for n in names], noise=config.noise,
                                     rtol=config.rtol, atol=config.atol, seed=config.seed,
                                     log=logger)  # fmt: skip
    return {"results": results, "dropped": dropped}


def benchmark_dataset(chunks: list[dict[str, dict]], config: ChaosConfig) -> tuple[xr.Dataset, dict]:
    """The ``chaos/benchmark`` dataset of the chunks' results (configured system order), and the
    dropped systems with their reasons."""
    results, dropped = {}, {}
    for chunk in chunks:
        results.update(chunk["results"])
        dropped.update(chunk["dropped"])
    results = {n: results[n] for n in config.system_names() if n in results}
    ds = benchmark_to_dataset(results, periods={n: get_system(n).period for n in results},
                              noise=config.noise, dropped=dropped)  # fmt: skip
    return ds, dropped


def forecast_system(series: xr.Dataset, lyapunov_max: float, config: ChaosConfig) -> dict:
    """Every forecaster on one system's univariate series, per (granularity, noise).

    ``series`` is ``chaos/benchmark`` selected at one system. A noisy series that was dropped at
    generation (NaN) scores NaN.
    """
    out: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for g in series.granularity.values:
        n = int(series.step_mask.sel(granularity=g).sum())
        n_hist = int(series.n_history.sel(granularity=g))
        t = series.time.sel(granularity=g).values
        for nz in config.noises:
            y = series.univariate.sel(granularity=g, noise=nz).values[:, :n]
            if not np.all(np.isfinite(y)):
                out[(str(g), nz)] = {m: dict.fromkeys(METRICS, float("nan")) for m in config.models}
                continue
            res = forecast_series(y[0], y[1], n_hist, GRANULARITIES[str(g)], float(t[1] - t[0]),
                                  lyapunov_max, models=config.models, seed=config.seed,
                                  esn_size=config.esn_size, mlp_steps=config.mlp_steps)  # fmt: skip
            out[(str(g), nz)] = {m: {k: v for k, v in r.items() if k != "forecast"}
                                 for m, r in res.items()}  # fmt: skip
    return out


def tables(invariants: xr.Dataset, correlations: xr.Dataset, forecasts: xr.Dataset) -> dict[str, pd.DataFrame]:  # noqa: E501
    """The headline tables: estimated invariants, Spearman correlations of sMAPE with the
    invariants, and forecast scores averaged over systems."""
    cols = ["kind", "dim", "period", "lyapunov_max", "lyapunov_max_se", "lyapunov_max_two_traj",
            "lyapunov_max_literature", "kaplan_yorke", "pesin_entropy", "correlation_dimension",
            "reliable", "flags"]  # fmt: skip
    rho = correlations.spearman_rho.to_dataframe().reset_index().pivot_table(
        index=["model", "granularity", "noise"], columns="invariant", values="spearman_rho")
    return {
        "invariants": invariants[cols].to_dataframe(),
        "correlations": rho,
        "forecast": forecasts[list(METRICS)].mean("system").to_dataframe(),
    }


def run(config: ChaosConfig, logger: logging.Logger | None = None) -> dict[str, Any]:
    """The whole experiment in one call; returns the datasets by catalog name
    (``chaos/invariants``, ``/benchmark``, ``/forecast_metrics``, ``/correlations``)."""
    names = config.system_names()
    invariants = invariants_to_dataset(
        [system_invariants(n, config.n_ics, config.lyapunov_periods, config.corr_periods,
                           config.seed, logger) for n in names],
        [get_system(n) for n in names],
    )  # fmt: skip
    chunks = [benchmark_chunk(c, config, logger) for c in plan_chunks([get_system(n) for n in names])]
    bench, _ = benchmark_dataset(chunks, config)
    systems = [str(s) for s in bench.system.values]
    scores = [forecast_system(bench.sel(system=n), float(invariants.lyapunov_max.sel(system=n)), config)
              for n in systems]  # fmt: skip
    fm = forecast_to_dataset(systems, scores, config.models, tuple(GRANULARITIES), config.noises)
    corr = correlations_to_dataset(fm, invariants, INVARIANTS_FOR_CORRELATION)
    return {"chaos/invariants": invariants, "chaos/benchmark": bench,
            "chaos/forecast_metrics": fm, "chaos/correlations": corr}  # fmt: skip
