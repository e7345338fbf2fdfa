"""Shared orchestration pieces of every workflow: config base, catalog I/O tasks, artifacts.

Flows are thin: they read configs, call ``sciml`` functions in tasks, and read/write through the
catalog. Nothing scientific lives here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
from dataclasses import dataclass
from typing import Any

import xarray as xr
from prefect import Flow, get_run_logger, task
from prefect.exceptions import MissingContextError

from sciml.catalog import Catalog, provenance_attrs
from sciml.errors import ConfigError, ModelNotFoundError
from sciml.settings import Settings

__all__ = [
    "FlowConfig",
    "Workflow",
    "get_catalog",
    "write_dataset",
    "run_logger",
    "write_figure",
    "champion_challenger",
    "flow_run_id",
    "release_memory",
]


# every workflow's settings class subclasses sciml.settings.Settings (the flows take it as their
# one typed parameter); the old name stays for the workflows whose settings still live here
FlowConfig = Settings


@dataclass(frozen=True)
class Workflow:
    """A workflow as the registry, the pipeline and the deployments see it."""

    name: str
    flow: Flow
    config: type[FlowConfig]
    retrain: Flow | None = None


def get_catalog() -> Catalog:
    """The project catalog (``$SCIML_CATALOG``) over the data dir (``$SCIML_DATA_DIR``, ``./data``)."""
    return Catalog.load()


def flow_run_id() -> str | None:
    """Id of the current Prefect flow run, or ``None`` outside a run."""
    from prefect.runtime import flow_run

    rid = flow_run.get_id()
    return str(rid) if rid else None


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task run, else the ``sciml.flows`` logger."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("sciml.flows")


def release_memory() -> None:
    """Return freed heap memory to the OS after a large task or flow.

    Tasks run in threads; glibc keeps what a thread's arena freed (windows, spectra, training
    batches) mapped, so the resident size grows with every task. ``malloc_trim(0)`` hands it back
    (glibc only; elsewhere this only collects garbage).
    """
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@task(retries=2, retry_delay_seconds=1, tags=["io"])
def write_dataset(name: str, ds: xr.Dataset, config: FlowConfig | None = None) -> str:
    """Write ``ds`` as catalog dataset ``name`` with provenance; returns ``name``."""
    cfg = config.model_dump(mode="json") if config is not None else {}
    prov = provenance_attrs(cfg, flow_run_id=flow_run_id(), producer_config=type(config).__name__)
    path = get_catalog().write(name, ds, prov)
    run_logger().info(f"wrote {name} -> {path}")
    return name


def write_figure(name: str, fig: Any, dpi: int = 110) -> str:
    """Save the matplotlib figure ``fig`` as the catalog figure ``name`` and close it; returns its path."""
    import matplotlib.pyplot as plt

    try:
        return get_catalog().write_figure(name, fig, dpi=dpi)
    finally:
        plt.close(fig)


def champion_challenger(
    workflow: str,
    state_dict: dict[str, Any],
    metrics: dict[str, float],
    config: FlowConfig,
    score: str = "test_mse",
    lower_is_better: bool = True,
) -> dict[str, Any]:
    """Save a challenger model version and promote it iff it beats the champion on ``score``.

    Returns a dict with ``version``, ``promoted``, ``champion`` (after the decision), and the
    ``challenger_score``/``champion_score``.
    """
    if score not in metrics:
        raise ConfigError(f"score {score!r} not among the challenger's metrics {sorted(metrics)}")
    cat = get_catalog()
    version = cat.save_model(workflow, state_dict, metrics, config.model_dump(mode="json"))
    try:
        champ = cat.model_info(workflow, "champion")
        champ_score = champ["metrics"].get(score)
    except ModelNotFoundError:
        champ, champ_score = None, None
    challenger_score = float(metrics[score])
    better = champ_score is None or (
        challenger_score < champ_score if lower_is_better else challenger_score > champ_score
    )
    if better:
        cat.promote(workflow, version)
    result = {
        "workflow": workflow,
        "version": version,
        "promoted": bool(better),
        "champion": version if better else champ["version"],
        "challenger_score": challenger_score,
        "champion_score": champ_score,
    }
    run_logger().info(f"champion/challenger {workflow}: {result}")
    return result


def default_task_runner():
    """Task runner chosen by the environment: ``SCIML_TASK_RUNNER=dask`` (with optional
    ``SCIML_DASK_ADDRESS`` of an existing scheduler, else a local cluster of
    ``SCIML_DASK_WORKERS`` workers) or the default thread pool."""
    kind = os.environ.get("SCIML_TASK_RUNNER", "thread")
    return make_task_runner(kind, os.environ.get("SCIML_DASK_ADDRESS"))


def make_task_runner(
    kind: str = "thread", address: str | None = None, n_workers: int | None = None
):
    """A Prefect task runner: ``thread`` (ThreadPoolTaskRunner) or ``dask`` (prefect-dask)."""
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner()
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        workers = n_workers or int(os.environ.get("SCIML_DASK_WORKERS", "2"))
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    raise ConfigError(f"unknown task runner {kind!r}; use 'thread' or 'dask'")


def with_runner(flow: Flow, kind: str | None = None, address: str | None = None) -> Flow:
    """``flow`` with the chosen task runner (default: from the environment)."""
    runner = make_task_runner(kind, address) if kind else default_task_runner()
    return flow.with_options(task_runner=runner)
