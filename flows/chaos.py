"""Flow ``chaos``: invariants, forecasting benchmark datasets and forecast results of chaotic systems.

Writes ``chaos/invariants`` (dims ``system``, ``exponent``), ``chaos/benchmark`` (dims ``system``,
``split``, ``granularity``, ``noise``, ``step``, ``coordinate``), ``chaos/forecast_metrics``
(dims ``model``, ``system``, ``granularity``, ``noise``) and ``chaos/correlations`` (dims
``model``, ``granularity``, ``noise``, ``invariant``). Every step fans out over systems with
``task.map`` (a Dask task runner moves it onto a cluster); invariants are cached on their inputs
and the task source. Science in :mod:`sciml.chaos`; reference: Gilpin, NeurIPS 2021 D&B.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from prefect import flow, task, unmapped  # noqa: E402
from prefect.cache_policies import INPUTS, TASK_SOURCE  # noqa: E402
from pydantic import Field  # noqa: E402

import sciml.chaos  # noqa: E402
from flows.common import (
    FlowConfig,
    Workflow,
    get_catalog,
    publish_metrics,
    run_logger,
    write_dataset,
    write_figure,
)
from sciml.chaos import (  # noqa: E402
    GRANULARITIES,
    estimate_invariants,
    get_system,
    list_systems,
    to_dataset,
)
from sciml.chaos.benchmark import generate_many, plan_chunks  # noqa: E402
from sciml.chaos.forecast import (  # noqa: E402
    METRICS,
    MODELS,
    correlations_to_dataset,
    forecast_series,
    forecast_to_dataset,
)
from sciml.chaos.invariants import failed_invariants, invariants_to_dataset  # noqa: E402
from sciml.errors import SciMLError  # noqa: E402

WORKFLOW_NAME = "chaos"

#: Fast default: classic 3-D flows, a 4-D/N-D flow, a delay system and two maps (invariants only).
FAST_SYSTEMS = (
    "Lorenz", "Rossler", "Chen", "Lu", "Thomas", "Aizawa", "Halvorsen", "Chua", "Lorenz84",
    "NoseHoover", "Rucklidge", "ShimizuMorioka", "SprottB", "HyperRossler", "Lorenz96",
    "MackeyGlass", "Henon", "Logistic",
)

INVARIANTS_FOR_CORRELATION = ("lyapunov_max", "pesin_entropy", "correlation_dimension")


class ChaosConfig(FlowConfig):
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


def chaos_code_version() -> str:
    """Hash of every source and data file of :mod:`sciml.chaos` (part of the invariants' cache key)."""
    root = Path(sciml.chaos.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".yaml", ".json"}:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@task(cache_policy=INPUTS + TASK_SOURCE, persist_result=True)
def invariants_task(name: str, n_ics: int, n_periods: float, corr_periods: float,
                    seed: int, code_version: str = "") -> dict:
    """Invariants of one system (cached on the inputs and this task's source).

    ``code_version`` (a hash of ``sciml/chaos``) is an input so that a change of the science code
    invalidates the cache too.

    A system whose estimators fail (e.g. no bounded initial condition) gets a NaN record flagged
    ``failed: ...`` instead of stopping the flow.
    """
    system = get_system(name)
    try:
        return estimate_invariants(system, n_ics=n_ics, n_periods=n_periods,
                                   corr_periods=corr_periods, seed=seed)
    except SciMLError as exc:
        run_logger().warning(f"chaos invariants: {name} failed: {exc}")
        return failed_invariants(system, f"{type(exc).__name__}: {exc}")


@task
def benchmark_task(names: list[str], noise: float, rtol: float, atol: float, seed: int) -> dict:
    """Benchmark series of one chunk of systems (flows of one dimension in one batch).

    Returns ``{"results": {name: arrays}, "dropped": {name: reason}}``.
    """
    results, dropped = generate_many([get_system(n) for n in names], noise=noise, rtol=rtol,
                                     atol=atol, seed=seed, log=run_logger())
    return {"results": results, "dropped": dropped}


@task
def forecast_task(name: str, lyapunov_max: float, config: ChaosConfig) -> dict:
    """Every forecaster on one system's univariate series (read back through the catalog)."""
    ds = get_catalog().open("chaos/benchmark").sel(system=name).load()
    out = {}
    for g in ds.granularity.values:
        n = int(ds.step_mask.sel(granularity=g).sum())
        n_hist = int(ds.n_history.sel(granularity=g))
        t = ds.time.sel(granularity=g).values
        for nz in config.noises:
            series = ds.univariate.sel(granularity=g, noise=nz).values[:, :n]
            if not np.all(np.isfinite(series)):  # a noisy series dropped at generation
                out[(str(g), nz)] = {m: dict.fromkeys(METRICS, float("nan"))
                                     for m in config.models}
                continue
            res = forecast_series(series[0], series[1], n_hist, GRANULARITIES[str(g)],
                                  float(t[1] - t[0]), lyapunov_max, models=config.models,
                                  seed=config.seed, esn_size=config.esn_size,
                                  mlp_steps=config.mlp_steps)
            out[(str(g), nz)] = {m: {k: v for k, v in r.items() if k != "forecast"}
                                 for m, r in res.items()}
    return out


def _scatter_plot(fm: xr.Dataset, inv: xr.Dataset) -> str:
    systems = [s for s in fm.system.values if s in inv.system.values]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    sub = fm.smape.sel(granularity="fine", noise="clean", system=systems)
    for ax, key in zip(axes, INVARIANTS_FOR_CORRELATION, strict=True):
        xv = inv[key].sel(system=systems).values
        for m in fm.model.values:
            ax.scatter(xv, sub.sel(model=m).values, s=12, label=str(m))
        ax.set(xlabel=key.replace("_", " "), ylabel="sMAPE (0-200), fine, clean")
    axes[0].legend(fontsize=7)
    fig.suptitle("Forecast error vs invariants across systems")
    fig.tight_layout()
    path = write_figure("chaos/figures/smape_vs_invariants", fig)
    return str(path)


def _attractor_plot(bench: xr.Dataset, n: int) -> str:
    names = list(bench.system.values)[:n]
    fig = plt.figure(figsize=(3.2 * max(len(names), 1), 3.2))
    for i, name in enumerate(names):
        sub = bench.x.sel(system=name, split="train", granularity="fine", noise="clean")
        d = int(bench.dim.sel(system=name))
        ax = fig.add_subplot(1, len(names), i + 1)
        if d >= 2:
            ax.plot(sub.isel(coordinate=0), sub.isel(coordinate=1), lw=0.4)
            ax.set(xlabel="x0", ylabel="x1")
        else:
            ax.plot(bench.time.sel(system=name, granularity="fine"), sub.isel(coordinate=0), lw=0.5)
            ax.set(xlabel="t", ylabel="x0")
        ax.set_title(name, fontsize=9)
    fig.tight_layout()
    path = write_figure("chaos/figures/attractors", fig)
    return str(path)


@flow(name="chaos", log_prints=True)
def chaos_flow(config: ChaosConfig | None = None) -> dict[str, str]:
    """Invariants, benchmark datasets and forecast scores over the configured systems."""
    config = config or ChaosConfig()
    log = run_logger()
    names = config.system_names()
    inv_futs = invariants_task.map(names, n_ics=unmapped(config.n_ics),
                                   n_periods=unmapped(config.lyapunov_periods),
                                   corr_periods=unmapped(config.corr_periods),
                                   seed=unmapped(config.seed),
                                   code_version=unmapped(chaos_code_version()))
    chunks = plan_chunks([get_system(n) for n in names])
    bench_futs = benchmark_task.map(chunks, noise=unmapped(config.noise),
                                    rtol=unmapped(config.rtol), atol=unmapped(config.atol),
                                    seed=unmapped(config.seed))
    invariants = [f.result() for f in inv_futs]
    inv_ds = invariants_to_dataset(invariants, [get_system(n) for n in names])
    write_dataset(f"{WORKFLOW_NAME}/invariants", inv_ds, config)

    results, dropped = {}, {}
    for f in bench_futs:
        r = f.result()
        results.update(r["results"])
        dropped.update(r["dropped"])
    results = {n: results[n] for n in names if n in results}  # configured order
    bench = to_dataset(results, periods={n: get_system(n).period for n in results},
                       noise=config.noise, dropped=dropped)
    write_dataset(f"{WORKFLOW_NAME}/benchmark", bench, config)
    log.info(f"benchmark: {len(results)} systems written, {len(dropped)} dropped: {list(dropped)}")

    fc_names = list(results)
    lmax = {n: float(inv_ds.lyapunov_max.sel(system=n)) for n in fc_names}
    fc_futs = forecast_task.map(fc_names, [lmax[n] for n in fc_names], config=unmapped(config))
    fm = forecast_to_dataset(fc_names, [f.result() for f in fc_futs], config.models,
                             tuple(GRANULARITIES), config.noises)
    write_dataset(f"{WORKFLOW_NAME}/forecast_metrics", fm, config)
    corr = correlations_to_dataset(fm, inv_ds, INVARIANTS_FOR_CORRELATION)
    write_dataset(f"{WORKFLOW_NAME}/correlations", corr, config)

    figures = [_scatter_plot(fm, inv_ds)] if "clean" in config.noises else []
    if config.n_attractor_plots:
        figures.append(_attractor_plot(bench, config.n_attractor_plots))
    cols = ["kind", "dim", "period", "lyapunov_max", "lyapunov_max_se", "lyapunov_max_two_traj",
            "lyapunov_max_literature", "kaplan_yorke", "pesin_entropy", "correlation_dimension",
            "reliable", "flags"]
    table = inv_ds[cols].to_dataframe()
    publish_metrics("chaos-invariants", table, "Chaotic systems: estimated invariants")
    ctab = corr.spearman_rho.to_dataframe().reset_index().pivot_table(
        index=["model", "granularity", "noise"], columns="invariant", values="spearman_rho")
    publish_metrics("chaos-forecast-correlations", ctab,
                    "Spearman correlation of sMAPE with invariants", figures=figures,
                    notes=f"Dropped systems: {json.dumps(dropped)}" if dropped else "")
    mean_tab = fm[list(METRICS)].mean("system").to_dataframe()
    publish_metrics("chaos-forecast-metrics", mean_tab, "Forecast scores (mean over systems)")
    return {"invariants": f"{WORKFLOW_NAME}/invariants", "benchmark": f"{WORKFLOW_NAME}/benchmark",
            "forecast_metrics": f"{WORKFLOW_NAME}/forecast_metrics",
            "correlations": f"{WORKFLOW_NAME}/correlations"}


def summary_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Mean forecast metrics per model (a user's first look at ``chaos/forecast_metrics``)."""
    return ds[list(METRICS)].mean(["system"]).to_dataframe()


WORKFLOW = Workflow(name=WORKFLOW_NAME, flow=chaos_flow, config=ChaosConfig, retrain=None)
