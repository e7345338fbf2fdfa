"""Flow ``thermoacoustic``: Bayesian forecasting of thermoacoustic instabilities (surrogate BKD).

simulate runs -> train (anchored ensemble, Pyro BNN, deterministic net, persistence; mapped) ->
forecast held-out runs, score against the re-simulation oracle -> studies (sensor ablation,
sensor failure, integrated gradients) -> catalog + metrics artifact + figures.

Writes ``thermoacoustic/runs``, ``/forecasts``, ``/metrics``, ``/ablation``, ``/failure``,
``/attributions``. ``thermoacoustic_retrain_flow`` (deployment ``thermoacoustic/retrain``)
retrains the anchored ensemble on the newest catalogued runs and promotes it iff its validation
CRPS at the longest horizon beats the champion's, re-scored on the same validation runs (the
test runs are not read); decisions go to ``thermoacoustic/retrain_history``. The recipe is
:mod:`sciml.thermoacoustic.experiment`.
"""

from __future__ import annotations

import pandas as pd
from prefect import flow, task, unmapped

from flows.artifacts import publish_metrics
from flows.common import (
    Workflow,
    champion_challenger,
    get_catalog,
    release_memory,
    run_logger,
    write_dataset,
    write_figure,
)
from sciml.thermoacoustic import experiment, plots
from sciml.thermoacoustic.datasets import to_dataset
from sciml.thermoacoustic.experiment import MODELS, ThermoacousticConfig

__all__ = ["ThermoacousticConfig", "WORKFLOW", "thermoacoustic_flow", "thermoacoustic_retrain_flow"]

WORKFLOW_NAME = "thermoacoustic"
RUNS = "thermoacoustic/runs"
RECORDINGS = "thermoacoustic/recordings"
HISTORY = "thermoacoustic/retrain_history"


def _runs_name(config: ThermoacousticConfig) -> str:
    return RECORDINGS if config.source == "recordings" else RUNS


def _load(config: ThermoacousticConfig, oracle: bool = False, train_only: bool = False,
          version: str | None = None):  # fmt: skip
    """The catalogued runs a step needs (:func:`~sciml.thermoacoustic.experiment.select_runs`),
    loaded, and their prepared features; ``version`` pins the catalog version (default newest)."""
    runs = get_catalog().open(_runs_name(config), version=version)
    ds = experiment.select_runs(runs, oracle, train_only).load()
    splits = ("train", "val") if train_only else ("train", "val", "test")
    return ds, experiment.prepare(ds, config, splits)


@task
def simulate(config: ThermoacousticConfig) -> str:
    """Simulate the runs and write them to the catalog."""
    ds = experiment.simulate_dataset(config)
    run_logger().info(f"simulated {ds.sizes['run']} runs x {ds.sizes['time']} frames")
    name = write_dataset.fn(RUNS, ds, config)
    del ds
    release_memory()
    return name


@task
def train_model(model: str, runs: str, config: ThermoacousticConfig):
    """Fit one forecaster on the train runs."""
    _, prep = _load(config, train_only=True)
    out = experiment.train_forecasters(prep, config, (model,), logger=run_logger())[model]
    del prep
    release_memory()
    return out


@task
def forecast_and_score(models: dict, runs: str, config: ThermoacousticConfig) -> dict:
    """Forecast the held-out runs, run the oracle, score; write forecasts and metrics."""
    ds, prep = _load(config, oracle=True)
    fcs = experiment.predict_all(models, prep, n_samples=config.bnn_samples)
    oracle = experiment.oracle_study(ds, prep, config) if experiment.has_simulator_state(ds) else None
    ev = experiment.evaluate(prep, fcs, config, oracle)
    write_dataset.fn("thermoacoustic/forecasts", to_dataset("forecasts", prep, config, fcs), config)
    write_dataset.fn("thermoacoustic/metrics", to_dataset("metrics", prep, config, ev), config)
    del ds, prep, fcs, ev
    release_memory()
    return {"forecasts": "thermoacoustic/forecasts", "metrics": "thermoacoustic/metrics"}


@task
def sensor_studies(models: dict, runs: str, config: ThermoacousticConfig) -> dict:
    """Sensor failure, integrated gradients and sensor ablation; write the three datasets."""
    ds, prep = _load(config)
    fail = experiment.failure_study(ds, prep, models, config)
    del ds
    release_memory()
    attr = experiment.attribution_study(prep, models["anchored_ensemble"], config)
    abl = experiment.ablation_study(prep, config, logger=run_logger())
    return {
        kind: write_dataset.fn(f"thermoacoustic/{kind}", to_dataset(kind, prep, config, payload), config)
        for kind, payload in (("failure", fail), ("attributions", attr), ("ablation", abl))
    }


@task
def make_plots(config: ThermoacousticConfig) -> list[str]:
    """Forecast bands with onsets, uncertainty around a sensor failure, attribution heat map."""
    cat = get_catalog()
    figs = plots.figures(
        *(cat.open(f"thermoacoustic/{k}").load() for k in ("forecasts", "failure", "attributions")),
        threshold=config.threshold, quiet_frames=config.quiet_frames,
    )  # fmt: skip
    return [write_figure(f"{WORKFLOW_NAME}/figures/{name}", fig) for name, fig in figs.items()]


@flow(name="thermoacoustic")
def thermoacoustic_flow(config: ThermoacousticConfig | None = None) -> dict:
    """Simulate, train, forecast, score and study; returns the written dataset names."""
    config = config or ThermoacousticConfig()
    runs = simulate(config) if config.source == "simulate" else RECORDINGS
    futures = train_model.map(list(MODELS), unmapped(runs), unmapped(config))
    models = dict(zip(MODELS, [f.result() for f in futures], strict=False))
    names = forecast_and_score(models, runs, config)
    names |= sensor_studies(models, runs, config)
    figs = make_plots(config)
    cat = get_catalog()
    ratio = cat.open("thermoacoustic/failure").load().epistemic_ratio.sel(sensor="p_dyn").to_dataframe()
    publish_metrics("thermoacoustic-metrics",
                    experiment.metrics_table(cat.open("thermoacoustic/metrics").load()),
                    "Thermoacoustic forecasting: held-out scores at the longest horizon",
                    figures=figs,
                    notes="Epistemic std ratio after the dynamic-pressure sensor fails:\n\n"
                    + ratio.to_markdown(floatfmt=".3g"))  # fmt: skip
    return {"runs": runs, **names}


@flow(name="thermoacoustic")
def thermoacoustic_retrain_flow(config: ThermoacousticConfig | None = None) -> dict:
    """Retrain the anchored ensemble on the newest catalogued runs; champion/challenger on the
    validation CRPS at the longest horizon (champion re-scored on the same validation runs)."""
    config = config or ThermoacousticConfig()
    cat = get_catalog()
    name = _runs_name(config)
    if config.source == "simulate" and not cat.exists(RUNS):
        simulate(config)  # first run: nothing catalogued yet
    versions = {name: cat.version(name)}
    _, prep = _load(config, train_only=True, version=versions[name])  # train and validation runs
    models = experiment.train_forecasters(prep, config, ("anchored_ensemble",), logger=run_logger())
    sd = experiment.ensemble_state_dict(models["anchored_ensemble"], prep.scaler, config)
    del models
    decision = champion_challenger(
        WORKFLOW_NAME, sd, lambda state: experiment.validation_metrics(config, state, prep), config,
        score="val_crps", history=HISTORY, data_versions=versions,
    )  # fmt: skip
    cols = ("version", "challenger_score", "champion_before", "champion_score", "promoted", "champion")
    publish_metrics(
        "thermoacoustic-retrain", pd.DataFrame([{k: decision[k] for k in cols}]),
        "Thermoacoustic retraining: champion/challenger on the validation CRPS (bar) at the "
        "longest horizon", notes=f"{decision['reason']}; data versions {versions}.",
    )  # fmt: skip
    release_memory()
    return decision


WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    flow=thermoacoustic_flow,
    config=ThermoacousticConfig,
    retrain=thermoacoustic_retrain_flow,
)
