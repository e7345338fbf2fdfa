"""Flow ``thermoacoustic``: Bayesian forecasting of thermoacoustic instabilities (surrogate BKD).

simulate runs -> train (anchored ensemble, Pyro BNN, deterministic net, persistence; mapped) ->
forecast held-out runs, score against the re-simulation oracle -> studies (sensor ablation,
sensor failure, integrated gradients) -> catalog + metrics artifact + figures.

Writes ``thermoacoustic/runs``, ``/forecasts``, ``/metrics``, ``/ablation``, ``/failure``,
``/attributions``. ``thermoacoustic_retrain_flow`` (deployment ``thermoacoustic/retrain``)
retrains the anchored ensemble on the catalogued runs and promotes it iff its held-out CRPS at
500 ms beats the champion's. The recipe is :mod:`sciml.thermoacoustic.experiment`.
"""

from __future__ import annotations

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
from sciml.thermoacoustic.metrics import horizon_scores

__all__ = ["ThermoacousticConfig", "WORKFLOW", "thermoacoustic_flow", "thermoacoustic_retrain_flow"]

WORKFLOW_NAME = "thermoacoustic"
RUNS = "thermoacoustic/runs"
RECORDINGS = "thermoacoustic/recordings"


def _runs_name(config: ThermoacousticConfig) -> str:
    return RECORDINGS if config.source == "recordings" else RUNS


def _load(config: ThermoacousticConfig, oracle: bool = False, train_only: bool = False):
    """The catalogued runs a step needs (:func:`~sciml.thermoacoustic.experiment.select_runs`),
    loaded, and their prepared features."""
    ds = experiment.select_runs(get_catalog().open(_runs_name(config)), oracle, train_only).load()
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
    """Retrain the anchored ensemble on the catalogued runs; champion/challenger on CRPS@500 ms."""
    config = config or ThermoacousticConfig()
    if config.source == "simulate" and not get_catalog().exists(RUNS):
        simulate(config)  # first run: nothing catalogued yet
    _, prep = _load(config)
    models = experiment.train_forecasters(prep, config, ("anchored_ensemble",), logger=run_logger())
    fc = experiment.predict_all(models, prep)["anchored_ensemble"]
    sc = horizon_scores(prep.windows["test"].y, fc)
    metrics = {"test_crps_500ms": float(sc["crps"][-1]), "test_rmse_500ms": float(sc["rmse"][-1]),
               "test_coverage90_500ms": float(sc["coverage90"][-1])}  # fmt: skip
    sd = experiment.ensemble_state_dict(models["anchored_ensemble"], prep.scaler, config)
    return champion_challenger(WORKFLOW_NAME, sd, metrics, config, score="test_crps_500ms")


WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    flow=thermoacoustic_flow,
    config=ThermoacousticConfig,
    retrain=thermoacoustic_retrain_flow,
)
