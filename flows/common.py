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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from prefect import Flow, get_run_logger, task
from prefect.exceptions import MissingContextError

from flows.events import install as _emit_commits_as_events
from flows.events import is_retrain_input
from sciml.catalog import Catalog, provenance_attrs
from sciml.errors import ChampionMovedError, ConfigError, SciMLError
from sciml.settings import Settings

__all__ = [
    "FlowConfig",
    "Workflow",
    "get_catalog",
    "write_dataset",
    "run_logger",
    "write_figure",
    "champion_challenger",
    "retrain_row",
    "flow_run_id",
    "release_memory",
]


# every commit a flow makes is a Prefect event: new input data starts the retraining deployments
_emit_commits_as_events()

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


def _provenance(config: FlowConfig | None) -> dict[str, Any]:
    cfg = config.model_dump(mode="json") if config is not None else {}
    return provenance_attrs(cfg, flow_run_id=flow_run_id(), producer_config=type(config).__name__)


@task(retries=2, retry_delay_seconds=1, tags=["io"])
def write_dataset(name: str, ds: xr.Dataset, config: FlowConfig | None = None) -> str:
    """Write ``ds`` as catalog dataset ``name`` with provenance; returns ``name``."""
    # a retraining input is committed only when its content changed: an unchanged rewrite would
    # start a retrain on the same data
    cat = get_catalog()
    version = cat.write(name, ds, _provenance(config), skip_unchanged=is_retrain_input(name))
    run_logger().info(f"wrote {name} version {version} ({cat.path(name)})")
    return name


def write_figure(name: str, fig: Any, dpi: int = 110) -> str:
    """Save the matplotlib figure ``fig`` as the catalog figure ``name`` and close it; returns its path."""
    import matplotlib.pyplot as plt

    try:
        return get_catalog().write_figure(name, fig, dpi=dpi)
    finally:
        plt.close(fig)


def champion_challenger(
    model: str,
    challenger: Mapping[str, Any],
    rescore: Callable[[Mapping[str, Any]], Mapping[str, float]],
    config: FlowConfig,
    *,
    score: str,
    history: str,
    data_versions: Mapping[str, str] | None = None,
    lower_is_better: bool = True,
    max_rounds: int = 5,
) -> dict[str, Any]:
    """Save a challenger, re-score the current champion on the same data, promote by compare-and-swap.

    ``rescore(state_dict)`` scores a model's state dict on the *current* evaluation data (a
    validation split, never the test split) and returns metrics that include ``score``. The
    challenger and the champion go through the same call, so both scores are on the same data.
    The champion pointer moves only if the challenger is better *and* the champion is still the
    one it was compared with; when another retrain moved it meanwhile, the new champion is
    re-scored and the comparison repeated (at most ``max_rounds`` times). A champion that can no
    longer be scored on the current data (other model settings) loses to the challenger.

    Every decision is appended as one row (dim ``retrain``) to the catalog dataset ``history``.

    Returns
    -------
    dict with ``model``, ``version`` (the challenger's), ``promoted``, ``champion`` (after),
    ``champion_before``, ``challenger_score``, ``champion_score`` and ``data_versions``.
    """
    logger = run_logger()
    cat = get_catalog()
    challenger_metrics = {k: float(v) for k, v in rescore(challenger).items()}
    if score not in challenger_metrics:
        raise ConfigError(f"score {score!r} not among the challenger's metrics {sorted(challenger_metrics)}")
    data_versions = dict(data_versions or {})
    version = cat.save_model(model, challenger, challenger_metrics, config.model_dump(mode="json"),
                             data_versions=data_versions)  # fmt: skip
    challenger_score = challenger_metrics[score]
    before, champion_score, promoted, reason = None, float("nan"), False, ""
    for _ in range(max_rounds):
        before = cat.champion(model)
        if before is None:
            champion_score, better, reason = float("nan"), True, "no champion yet"
        else:
            state, _ = cat.load_model(model, before)
            try:
                champion_score = float(rescore(state)[score])
                better = (challenger_score < champion_score if lower_is_better
                          else challenger_score > champion_score)  # fmt: skip
                reason = "challenger better" if better else "champion better or equal"
            except (SciMLError, KeyError, RuntimeError, ValueError) as exc:
                champion_score, better = float("nan"), True
                reason = f"champion {before} cannot be scored on the current data: {exc}"
        if not better:
            break
        try:
            cat.promote(model, version, expected=before)
            promoted = True
            break
        except ChampionMovedError as exc:
            logger.info(f"champion of {model} moved while comparing ({exc}); comparing again")
    else:
        reason = f"champion kept moving over {max_rounds} rounds; challenger not promoted"
    after = version if promoted else before
    result = {
        "model": model,
        "version": version,
        "promoted": promoted,
        "champion": after,
        "champion_before": before,
        "challenger_score": challenger_score,
        "champion_score": champion_score,
        "score": score,
        "reason": reason,
        "data_versions": data_versions,
    }
    cat.append(history, retrain_row(result, lower_is_better), dim="retrain",
               provenance=_provenance(config))  # fmt: skip
    logger.info(f"champion/challenger {model}: {reason}; champion {after} ({result})")
    return result


def retrain_row(decision: Mapping[str, Any], lower_is_better: bool = True) -> xr.Dataset:
    """One row (dim ``retrain``) of a ``<workflow>/retrain_history`` dataset from a decision."""
    import json

    from sciml.catalog.provenance import utc_now

    text = {
        "model_name": decision["model"],
        "challenger_version": decision["version"],
        "champion_before": decision["champion_before"] or "",
        "champion_after": decision["champion"] or "",
        "reason": decision["reason"],
        "data_versions": json.dumps(decision["data_versions"], sort_keys=True),
        "decided_utc": utc_now(),
        "flow_run_id": flow_run_id() or "",
    }
    ds = xr.Dataset(
        {
            **{k: ("retrain", np.array([v], dtype=object)) for k, v in text.items()},
            "challenger_score": ("retrain", [float(decision["challenger_score"])]),
            "champion_score": ("retrain", [float(decision["champion_score"])]),
            "promoted": ("retrain", [bool(decision["promoted"])]),
        },
        attrs={"score": decision["score"], "lower_is_better": int(lower_is_better),
               "description": "champion/challenger decisions, one row per retrain; both scores "
               "on the same current evaluation data (champion_score NaN: none, or not scorable)"},
    )  # fmt: skip
    return ds


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
