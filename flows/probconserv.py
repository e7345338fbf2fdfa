"""Flow ``probconserv``: ANP + ProbConserv update on the GPME problems, HardC/SoftC baselines.

Per problem (fan-out with ``.map``): train the ANP and the SoftC-ANP, or reuse the registered
champion when it was trained with the same model settings; predict, update and score on the test
grid (the truth from ``gpme/<problem>/test`` where the gpme-data flow wrote that grid). Writes
``probconserv/predictions``, ``/metrics``, ``/shock``, the figures and a metrics artifact.
A freshly trained pair goes through champion/challenger on the validation functions
(``gpme/<problem>/val``, never the test values); ``probconserv_retrain_flow`` (deployment
``probconserv/retrain``) trains a challenger and does the same. Decisions are appended to
``probconserv/retrain_history``. The recipe is :mod:`sciml.probconserv.experiment`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pandas as pd
import torch
import xarray as xr
from prefect import flow, task, unmapped

from flows.artifacts import publish_metrics
from flows.common import (
    Workflow,
    champion_challenger,
    get_catalog,
    run_logger,
    write_dataset,
    write_figure,
)
from flows.gpme import GPMEDataConfig, write_validation
from sciml.errors import DatasetNotFoundError, ModelNotFoundError
from sciml.probconserv import experiment, plots
from sciml.probconserv.experiment import ProbConservConfig

__all__ = ["ProbConservConfig", "WORKFLOW", "probconserv_flow", "probconserv_retrain_flow"]

WORKFLOW_NAME = "probconserv"
HISTORY = "probconserv/retrain_history"


@contextmanager
def _torch_threads(n: int):
    """Run torch on ``n`` intra-op threads, restoring the previous count after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@task
def train_problem(problem: str, config: ProbConservConfig) -> dict[str, dict[str, torch.Tensor]]:
    """Train the ANP and the SoftC-ANP of one problem; returns their state dicts."""
    return experiment.train_problem(problem, config, run_logger())


@task
def load_champion(config: ProbConservConfig) -> tuple[dict[str, Any], str] | None:
    """The champion's networks and version if it was trained with this config's model settings
    (any seed), else None."""
    try:
        state, info = get_catalog().load_model(WORKFLOW_NAME, "champion")
    except ModelNotFoundError:
        return None
    states = experiment.unpack_states(state)
    if not experiment.champion_compatible(config, info, states):
        run_logger().info(f"champion {info.get('version')} has other model settings; training anew")
        return None
    run_logger().info(f"reusing champion {info.get('version')} of {WORKFLOW_NAME}")
    return states, str(info["version"])


def _test_data(problem: str) -> xr.Dataset | None:
    try:
        return get_catalog().open(f"gpme/{problem}/test")
    except DatasetNotFoundError:
        return None


@task
def evaluate_problem(
    problem: str, states: dict[str, dict[str, torch.Tensor]], config: ProbConservConfig
) -> list:
    """Predict, update and score every test value of ``problem``."""
    return experiment.evaluate_problem(problem, states, config, _test_data(problem), run_logger())


def _validation_data(config: ProbConservConfig) -> tuple[dict[str, xr.Dataset], dict[str, str]]:
    """The newest ``gpme/<problem>/val`` of every configured problem, loaded, and its version.

    A data dir written before the validation sets existed gets them first (gpme-data's recipe on
    its fast defaults)."""
    cat = get_catalog()
    data, versions = {}, {}
    for problem in config.problems:
        name = f"gpme/{problem}/val"
        if not cat.exists(name):
            run_logger().info(f"{name} missing: writing it with the gpme-data defaults")
            write_validation(problem, GPMEDataConfig(problems=(problem,)))
        data[problem] = cat.open(name).load()
        versions[name] = data[problem].attrs["catalog_version"]
    return data, versions


def _champion_challenger(config: ProbConservConfig, states: dict) -> dict[str, Any]:
    """Champion/challenger of a trained pair per problem on the current validation functions."""
    val, versions = _validation_data(config)

    def rescore(state):
        with _torch_threads(config.torch_threads):
            return experiment.validation_metrics(config, state, val)

    return champion_challenger(WORKFLOW_NAME, experiment.pack_states(states), rescore, config,
                               score="val_mse", history=HISTORY, data_versions=versions)  # fmt: skip


def _train_or_reuse(config: ProbConservConfig, reuse: bool) -> tuple[dict, str | None]:
    """The champion's networks and version (``reuse`` and compatible), else freshly trained ones
    and None."""
    champion = load_champion(config) if reuse else None
    if champion is not None:
        return champion
    futures = train_problem.map(list(config.problems), config=unmapped(config))
    return {p: f.result() for p, f in zip(config.problems, futures, strict=True)}, None


def _evaluate(config: ProbConservConfig, states: dict) -> list:
    futures = evaluate_problem.map(
        list(config.problems), [states[p] for p in config.problems], config=unmapped(config)
    )
    return [r for f in futures for r in f.result()]


@flow(name="probconserv", log_prints=True)
def probconserv_flow(config: ProbConservConfig | None = None) -> dict[str, Any]:
    """Train (or reuse the champion), predict, apply ProbConserv/HardC, score and write results."""
    config = config or ProbConservConfig()
    with _torch_threads(config.torch_threads):
        states, reused = _train_or_reuse(config, config.reuse_champion)
        results = _evaluate(config, states)
    trained = reused is None
    datasets = experiment.to_datasets(results, config)
    names = [write_dataset(name, ds, config) for name, ds in datasets.items()]
    metrics = datasets["probconserv/metrics"]
    score = experiment.anp_test_mse(metrics)
    decision = _champion_challenger(config, states) if trained else None
    figures = [
        write_figure(f"{WORKFLOW_NAME}/figures/{name}", fig)
        for name, fig in plots.figures(results, metrics).items()
    ]
    publish_metrics(
        "probconserv-metrics",
        experiment.metrics_table(metrics, datasets.get("probconserv/shock")),
        "ProbConserv: MSE, conservation error, log-likelihood and front error at the eval time",
        figures=figures,
        notes=f"ANP test MSE = {score:.4g} (reported only); models "
        + ("reused." if decision is None else
           f"trained: validation MSE {decision['challenger_score']:.4g} vs champion "
           f"{decision['champion_score']:.4g}, promoted: {decision['promoted']}."),
    )  # fmt: skip
    run_logger().info(f"probconserv wrote {names}")
    version = reused if decision is None else decision["version"]
    return {"datasets": names, "test_mse": score, "trained": trained, "model_version": version,
            "champion": decision}  # fmt: skip


@flow(name="probconserv", log_prints=True)
def probconserv_retrain_flow(config: ProbConservConfig | None = None) -> dict[str, Any]:
    """Train a challenger; promote it only if its validation MSE is lower than the champion's,
    both scored on the newest ``gpme/<problem>/val``.

    The challenger's seed is ``config.seed`` plus the number of stored versions, so each
    scheduled retraining draws fresh training data and initial weights (recorded in its config).
    The test values are not evaluated here.
    """
    config = config or ProbConservConfig()
    n_versions = len(get_catalog().model_versions(WORKFLOW_NAME))
    config = config.model_copy(update={"seed": config.seed + n_versions})
    run_logger().info(f"challenger seed {config.seed} ({n_versions} stored versions)")
    with _torch_threads(config.torch_threads):
        states, _ = _train_or_reuse(config, reuse=False)
    decision = _champion_challenger(config, states)
    cols = ("version", "challenger_score", "champion_before", "champion_score", "promoted", "champion")
    publish_metrics(
        "probconserv-retrain", pd.DataFrame([{k: decision[k] for k in cols}]),
        "ProbConserv retraining: champion/challenger on the validation MSE of the ANP",
        notes=f"{decision['reason']}; data versions {decision['data_versions']}.",
    )  # fmt: skip
    return decision


WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    flow=probconserv_flow,
    config=ProbConservConfig,
    retrain=probconserv_retrain_flow,
)
