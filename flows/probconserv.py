"""Flow ``probconserv``: ANP + ProbConserv update on the GPME problems, HardC/SoftC baselines.

Per problem (fan-out with ``.map``): train the ANP and the SoftC-ANP, or reuse the registered
champion when it was trained with the same model settings; predict, update and score on the test
grid (the truth from ``gpme/<problem>/test`` where the gpme-data flow wrote that grid). Writes
``probconserv/predictions``, ``/metrics``, ``/shock``, the figures and a metrics artifact.
A freshly trained pair goes through champion/challenger on the validation functions
(``gpme/<problem>/val``, never the test values); ``probconserv_retrain_flow`` (deployment
``probconserv/retrain``) trains a challenger and does the same. Decisions are appended to
``probconserv/retrain_history``. The recipe is :mod:`sciml.probconserv.experiment`.

With ``config.data`` set (a user's own solutions and conservation law,
:class:`~sciml.probconserv.user_data.UserLaw`) the flow runs on those instead: their file is
checked and written as the newest version of ``probconserv/user/inputs``; an ANP is trained on
their functions (or the champion of ``probconserv/user`` reused when it was trained on the same
data with the same settings, or the version named by ``data.model_version`` loaded); the
ProbConserv update applies their constraint G u = b; results go to ``probconserv/user/predictions``
and ``/metrics``, decisions to ``probconserv/user/retrain_history``. The retraining flow also
retrains that model whenever ``probconserv/user/inputs`` exists. The recipe is
:mod:`sciml.probconserv.user_experiment`.
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
from sciml.errors import DatasetNotFoundError, ModelNotFoundError, SciMLError
from sciml.probconserv import experiment, plots, user_experiment
from sciml.probconserv.experiment import ProbConservConfig
from sciml.probconserv.user_data import read_user_law
from sciml.probconserv.user_experiment import USER_MODEL

__all__ = ["ProbConservConfig", "WORKFLOW", "probconserv_flow", "probconserv_retrain_flow"]

WORKFLOW_NAME = "probconserv"
HISTORY = "probconserv/retrain_history"
USER_INPUTS = "probconserv/user/inputs"
USER_HISTORY = "probconserv/user/retrain_history"


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


# ------------------------------------------------------------------------------ a user's own law
def _not_bad_data(task, task_run, state) -> bool:
    """Retry a read that failed on I/O, never one that found the data unusable."""
    return not isinstance(state.result(raise_on_failure=False), SciMLError)


@task(retries=1, retry_delay_seconds=1, retry_condition_fn=_not_bad_data)
def write_user_inputs(config: ProbConservConfig) -> str:
    """Read and check the user's file of ``config.data``; write it as the newest version of
    ``probconserv/user/inputs``; returns that version."""
    write_dataset.fn(USER_INPUTS, read_user_law(config.data), config)
    return get_catalog().version(USER_INPUTS)


def _user_inputs(version: str | None = None) -> xr.Dataset:
    return get_catalog().open(USER_INPUTS, version=version).load()


@task
def load_user_model(config: ProbConservConfig, inputs_version: str) -> tuple[dict, str] | None:
    """The user-law network to evaluate without training: the version ``data.model_version``
    names, else the champion when it was trained on inputs of the same content with the same
    settings (``reuse_champion``); None: train one."""
    cat, inputs = get_catalog(), _user_inputs(inputs_version)
    law = user_experiment.user_law_of(config, inputs)
    if law.model_version is not None:
        state, info = cat.load_model(USER_MODEL, law.model_version)
        run_logger().info(f"evaluating {USER_MODEL} {info['version']} (data.model_version)")
        return state, str(info["version"])
    if not config.reuse_champion:
        return None
    try:
        state, info = cat.load_model(USER_MODEL, "champion")
    except ModelNotFoundError:
        return None
    trained_on = (info.get("data_versions") or {}).get(USER_INPUTS)
    try:
        digest = _user_inputs(trained_on).attrs.get("content_sha256") if trained_on else None
    except DatasetNotFoundError:
        digest = None
    if not user_experiment.user_champion_compatible(config, info, digest, inputs):
        run_logger().info(f"champion {info['version']} of {USER_MODEL} has other data or settings; "
                          "training anew")  # fmt: skip
        return None
    run_logger().info(f"reusing champion {info['version']} of {USER_MODEL}")
    return state, str(info["version"])


@task
def train_user(config: ProbConservConfig, inputs_version: str) -> dict:
    """Train an ANP on the training functions of the inputs version; returns its state dict."""
    with _torch_threads(config.torch_threads):
        return user_experiment.train_user_anp(config, _user_inputs(inputs_version), run_logger())


@task
def evaluate_user(config: ProbConservConfig, state: dict, inputs_version: str) -> list:
    """Predict, update with the user's constraint and score every test function."""
    with _torch_threads(config.torch_threads):
        return user_experiment.evaluate_user(config, state, _user_inputs(inputs_version))


def _user_champion_challenger(config: ProbConservConfig, state: dict, inputs_version: str) -> dict[str, Any]:
    """Champion/challenger of a user-law network on the validation functions of the inputs."""
    inputs = _user_inputs(inputs_version)

    def rescore(s):
        with _torch_threads(config.torch_threads):
            return user_experiment.user_validation_metrics(config, s, inputs)

    return champion_challenger(USER_MODEL, state, rescore, config, score="val_mse", history=USER_HISTORY,
                               data_versions={USER_INPUTS: inputs_version})  # fmt: skip


def _user_run(config: ProbConservConfig) -> dict[str, Any]:
    """The default flow on a user's law."""
    version = write_user_inputs(config)
    loaded = load_user_model(config, version)
    decision = None
    if loaded is None:
        state = train_user(config, version)
        decision = _user_champion_challenger(config, state, version)
        model_version = decision["version"]
    else:
        state, model_version = loaded
    results = evaluate_user(config, state, version)
    inputs = _user_inputs(version)
    datasets = user_experiment.user_datasets(results, inputs)
    names = [write_dataset(name, ds, config) for name, ds in datasets.items()]
    metrics = datasets["probconserv/user/metrics"]
    figures = [write_figure(f"{WORKFLOW_NAME}/figures/{name}", fig)
               for name, fig in plots.user_figures(results, metrics).items()]  # fmt: skip
    table = metrics[["mse", "mse_se", "ll", "ll_se", "ce_max"]].to_dataframe().reset_index()
    publish_metrics(
        "probconserv-user-metrics", table,
        "ProbConserv on your conservation law: MSE, log-likelihood and the largest |G mu - b|",
        figures=figures,
        notes=f"inputs {USER_INPUTS} {version} ({inputs.attrs.get('source_file', '')}; total: "
        f"{inputs.attrs.get('total_source', '')}; constraint: {inputs.attrs.get('constraint_source', '')}; "
        f"rows {list(inputs.constraint.values)}); model {USER_MODEL} {model_version}"
        + ("" if decision is None else f", trained: validation MSE {decision['challenger_score']:.4g} vs "
           f"champion {decision['champion_score']:.4g}, promoted: {decision['promoted']}") + ".",
    )  # fmt: skip
    return {"datasets": [USER_INPUTS, *names], "inputs_version": version, "trained": decision is not None,
            "model_version": model_version, "champion": decision,
            "test_mse": float(metrics["mse"].sel(model="ANP").mean())}  # fmt: skip


def _user_retrain(config: ProbConservConfig, read_file: bool) -> dict[str, Any]:
    """Train a user-law challenger on the newest inputs (re-read from the file first when
    ``read_file``) and run champion/challenger; the seed shifts by the stored versions."""
    version = write_user_inputs(config) if read_file else get_catalog().version(USER_INPUTS)
    n_versions = len(get_catalog().model_versions(USER_MODEL))
    config = config.model_copy(update={"seed": config.seed + n_versions})
    state = train_user(config, version)
    return _user_champion_challenger(config, state, version)


@flow(name="probconserv", log_prints=True)
def probconserv_flow(config: ProbConservConfig | None = None) -> dict[str, Any]:
    """Train (or reuse the champion), predict, apply ProbConserv/HardC, score and write results
    (of the GPME problems, or of a user's own law when ``config.data`` is set)."""
    config = config or ProbConservConfig()
    if config.data is not None:
        return _user_run(config)
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
    The test values are not evaluated here. With ``config.data`` set only the user-law model is
    retrained (its file re-read first); otherwise also that model, on the newest
    ``probconserv/user/inputs``, once one exists (its decision under ``"user"``).
    """
    config = config or ProbConservConfig()
    if config.data is not None:
        return _user_retrain(config, read_file=True)
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
    if get_catalog().exists(USER_INPUTS):
        decision = {**decision, "user": _user_retrain(config, read_file=False)}
    return decision


WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    flow=probconserv_flow,
    config=ProbConservConfig,
    retrain=probconserv_retrain_flow,
)
