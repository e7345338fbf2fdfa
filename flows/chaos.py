"""Flow ``chaos``: invariants, forecasting benchmark datasets and forecast results of chaotic systems.

Writes ``chaos/invariants`` (dims ``system``, ``exponent``), ``chaos/benchmark`` (dims ``system``,
``split``, ``granularity``, ``noise``, ``step``, ``coordinate``), ``chaos/forecast_metrics``
(dims ``model``, ``system``, ``granularity``, ``noise``) and ``chaos/correlations`` (dims
``model``, ``granularity``, ``noise``, ``invariant``). Every step fans out over systems with
``task.map`` (a Dask task runner moves it onto a cluster); invariants are cached on their inputs,
the task source and the science code's version. The recipe is :mod:`sciml.chaos.experiment`;
reference: Gilpin, NeurIPS 2021 D&B.
"""

from __future__ import annotations

import json

from prefect import flow, task, unmapped
from prefect.cache_policies import INPUTS, TASK_SOURCE

from flows.artifacts import publish_metrics
from flows.common import Workflow, get_catalog, run_logger, write_dataset, write_figure
from sciml.chaos import GRANULARITIES, experiment, get_system, plots
from sciml.chaos.benchmark import plan_chunks
from sciml.chaos.datasets import correlations_to_dataset, forecast_to_dataset, invariants_to_dataset
from sciml.chaos.experiment import INVARIANTS_FOR_CORRELATION, ChaosConfig

__all__ = ["ChaosConfig", "WORKFLOW", "chaos_flow"]

WORKFLOW_NAME = "chaos"


@task(cache_policy=INPUTS + TASK_SOURCE, persist_result=True)
def invariants_task(name: str, n_ics: int, n_periods: float, corr_periods: float,
                    seed: int, code_version: str = "") -> dict:
    """Invariants of one system, cached on the inputs, this task's source and ``code_version``
    (a hash of ``sciml/chaos``, so a change of the science code invalidates the cache too)."""
    return experiment.system_invariants(name, n_ics, n_periods, corr_periods, seed, run_logger())


@task
def benchmark_task(names: list[str], config: ChaosConfig) -> dict:
    """Benchmark series of one chunk of systems (flows of one dimension in one batch)."""
    return experiment.benchmark_chunk(names, config, run_logger())


@task
def forecast_task(name: str, lyapunov_max: float, config: ChaosConfig) -> dict:
    """Every forecaster on one system's univariate series (read back through the catalog)."""
    series = get_catalog().open(f"{WORKFLOW_NAME}/benchmark").sel(system=name).load()
    return experiment.forecast_system(series, lyapunov_max, config)


@flow(name="chaos", log_prints=True)
def chaos_flow(config: ChaosConfig | None = None) -> dict[str, str]:
    """Invariants, benchmark datasets and forecast scores over the configured systems."""
    config = config or ChaosConfig()
    names = config.system_names()
    inv_futs = invariants_task.map(names, n_ics=unmapped(config.n_ics),
                                   n_periods=unmapped(config.lyapunov_periods),
                                   corr_periods=unmapped(config.corr_periods),
                                   seed=unmapped(config.seed),
                                   code_version=unmapped(experiment.code_version()))  # fmt: skip
    bench_futs = benchmark_task.map(plan_chunks([get_system(n) for n in names]), unmapped(config))
    inv = invariants_to_dataset([f.result() for f in inv_futs], [get_system(n) for n in names])
    write_dataset(f"{WORKFLOW_NAME}/invariants", inv, config)
    bench, dropped = experiment.benchmark_dataset([f.result() for f in bench_futs], config)
    write_dataset(f"{WORKFLOW_NAME}/benchmark", bench, config)
    systems = [str(s) for s in bench.system.values]
    run_logger().info(f"benchmark: {len(systems)} systems written, {len(dropped)} dropped: {list(dropped)}")

    lmax = [float(inv.lyapunov_max.sel(system=n)) for n in systems]
    fc_futs = forecast_task.map(systems, lmax, config=unmapped(config))
    fm = forecast_to_dataset(systems, [f.result() for f in fc_futs], config.models,
                             tuple(GRANULARITIES), config.noises)  # fmt: skip
    write_dataset(f"{WORKFLOW_NAME}/forecast_metrics", fm, config)
    corr = correlations_to_dataset(fm, inv, INVARIANTS_FOR_CORRELATION)
    write_dataset(f"{WORKFLOW_NAME}/correlations", corr, config)

    figures = []
    if "clean" in config.noises:
        figures.append(write_figure("chaos/figures/smape_vs_invariants",
                                    plots.smape_vs_invariants_figure(fm, inv)))  # fmt: skip
    if config.n_attractor_plots:
        figures.append(write_figure("chaos/figures/attractors",
                                    plots.attractors_figure(bench, config.n_attractor_plots)))  # fmt: skip
    tabs = experiment.tables(inv, corr, fm)
    publish_metrics("chaos-invariants", tabs["invariants"], "Chaotic systems: estimated invariants")
    publish_metrics("chaos-forecast-correlations", tabs["correlations"],
                    "Spearman correlation of sMAPE with invariants", figures=figures,
                    notes=f"Dropped systems: {json.dumps(dropped)}" if dropped else "")  # fmt: skip
    publish_metrics("chaos-forecast-metrics", tabs["forecast"], "Forecast scores (mean over systems)")
    return {"invariants": f"{WORKFLOW_NAME}/invariants", "benchmark": f"{WORKFLOW_NAME}/benchmark",
            "forecast_metrics": f"{WORKFLOW_NAME}/forecast_metrics",
            "correlations": f"{WORKFLOW_NAME}/correlations"}  # fmt: skip


WORKFLOW = Workflow(name=WORKFLOW_NAME, flow=chaos_flow, config=ChaosConfig, retrain=None)
