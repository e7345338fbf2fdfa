"""Flow ``thermoacoustic``: Bayesian forecasting of thermoacoustic instabilities (surrogate BKD).

simulate runs -> train (anchored ensemble, Pyro BNN, deterministic net, persistence; mapped) ->
forecast held-out runs, score against the re-simulation oracle -> studies (sensor ablation,
sensor failure, integrated gradients) -> catalog + metrics artifact + plots.

Writes ``thermoacoustic/runs``, ``/forecasts``, ``/metrics``, ``/ablation``, ``/failure``,
``/attributions``. ``thermoacoustic_retrain_flow`` (deployment ``thermoacoustic/retrain``)
retrains the anchored ensemble on the catalogued runs and promotes it iff its held-out CRPS at
500 ms beats the champion's. Science in :mod:`sciml.thermoacoustic`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from prefect import flow, task, unmapped  # noqa: E402
from pydantic import Field  # noqa: E402

from flows.common import (
    FlowConfig,
    Workflow,
    champion_challenger,
    get_catalog,
    publish_metrics,
    release_memory,
    run_logger,
    write_dataset,
    write_figure,
)
from sciml.errors import DatasetNotFoundError  # noqa: E402
from sciml.thermoacoustic import (  # noqa: E402
    MODELS,
    ExperimentConfig,
    ablation_study,
    attribution_study,
    detect_onsets,
    ensemble_state_dict,
    evaluate,
    failure_study,
    horizon_scores,
    oracle_study,
    predict_all,
    prepare,
    simulate_dataset,
    to_dataset,
    train_forecasters,
)
from sciml.thermoacoustic.data import str_labels  # noqa: E402

WORKFLOW_NAME = "thermoacoustic"
RUNS = "thermoacoustic/runs"


class ThermoacousticConfig(FlowConfig):
    """Sizes of the thermoacoustic experiment (fast defaults: ~4-6 min on 2 cores).

    See :class:`sciml.thermoacoustic.ExperimentConfig` for the meaning of every field; times in
    frames of 10 ms.
    """

    n_runs: int = Field(160, ge=4)
    duration: float = Field(8.0, gt=0)
    split: tuple[float, float, float] = (0.6, 0.15, 0.25)
    subcritical: bool = False
    window: int = Field(30, ge=1)
    horizons: tuple[int, ...] = (1, 5, 10, 20, 30, 50)
    future_stride: int = Field(5, ge=1)
    train_stride: int = Field(1, ge=1)
    n_members: int = Field(5, ge=2)
    hidden: tuple[int, ...] = (64, 64)
    epochs: int = Field(12, ge=1)
    bnn_steps: int = Field(4000, ge=1)
    bnn_map_steps: int = Field(2000, ge=0)
    bnn_init_scale: float = Field(0.005, gt=0)
    bnn_guide: str = "normal"
    bnn_samples: int = Field(100, ge=2)
    ablation_members: int = Field(3, ge=2)
    ablation_epochs: int = Field(8, ge=1)
    oracle_states: int = Field(60, ge=1)
    oracle_seeds: int = Field(200, ge=2)
    fail_frac: float = Field(0.5, gt=0, lt=1)
    threshold: float = Field(1.5, gt=0)
    warn_prob: float = Field(0.3, gt=0, lt=1)
    lead_frames: int = 30
    early_frames: int = 60
    quiet_frames: int = 50
    ig_samples: int = Field(64, ge=1)
    ig_steps: int = Field(64, ge=4)
    recalibrate: bool = True
    revert_aleatoric: bool = True

    PROFILES = {
        "fast": {},
        "paper": {
            "n_runs": 320, "duration": 10.0, "n_members": 10, "epochs": 30, "bnn_steps": 8000,
            "bnn_map_steps": 4000, "bnn_samples": 200, "ablation_members": 5, "ablation_epochs": 20,
            "oracle_states": 400, "oracle_seeds": 400, "ig_samples": 256, "hidden": (128, 128),
        },
        "tiny": {
            "n_runs": 6, "duration": 1.6, "split": (0.5, 0.17, 0.33), "window": 10,
            "horizons": (1, 5, 20), "n_members": 2, "hidden": (16,), "epochs": 1,
            "bnn_steps": 30, "bnn_map_steps": 30, "bnn_samples": 8, "ablation_members": 2,
            "ablation_epochs": 1,
            "oracle_states": 3, "oracle_seeds": 16, "ig_samples": 3, "ig_steps": 32,
            "fail_frac": 0.5, "quiet_frames": 10, "lead_frames": 5, "early_frames": 15,
        },
    }

    def experiment(self) -> ExperimentConfig:
        return ExperimentConfig.from_dict(self.model_dump())


# simulator-only variables that only the oracle reads (``nu_fast`` is as large as a fast channel)
_ORACLE_ONLY = ("nu_fast", "state", "nu", "delta")


def _load(config: ThermoacousticConfig, oracle: bool = False, train_only: bool = False):
    """Runs (without the oracle's variables unless ``oracle``; only the train and validation
    runs if ``train_only``), their prepared features, and the experiment config."""
    cfg = config.experiment()
    ds = get_catalog().open(RUNS)
    if not oracle:
        ds = ds.drop_vars([v for v in _ORACLE_ONLY if v in ds.data_vars])
    splits = ("train", "val", "test")
    if train_only:
        splits = ("train", "val")
        ds = ds.isel(run=np.flatnonzero(np.isin(str_labels(ds["split"].values), splits)))
    ds = ds.load()
    return ds, prepare(ds, cfg, splits), cfg


@task
def simulate(config: ThermoacousticConfig) -> str:
    """Simulate the runs and write them to the catalog."""
    ds = simulate_dataset(config.experiment())
    run_logger().info(f"simulated {ds.sizes['run']} runs x {ds.sizes['time']} frames")
    name = write_dataset.fn(RUNS, ds, config)
    del ds
    release_memory()
    return name


@task
def train_model(model: str, runs: str, config: ThermoacousticConfig):
    """Fit one forecaster on the train runs."""
    _, prep, cfg = _load(config, train_only=True)
    out = train_forecasters(prep, cfg, (model,), logger=run_logger())[model]
    del prep
    release_memory()
    return out


@task
def forecast_and_score(models: dict, runs: str, config: ThermoacousticConfig) -> dict:
    """Forecast the held-out runs, run the oracle, score; write forecasts and metrics."""
    ds, prep, cfg = _load(config, oracle=True)
    fcs = predict_all(models, prep, n_samples=cfg.bnn_samples)
    orc = oracle_study(ds, prep, cfg)
    ev = evaluate(prep, fcs, cfg, orc)
    write_dataset.fn("thermoacoustic/forecasts", to_dataset("forecasts", prep, cfg, fcs), config)
    write_dataset.fn("thermoacoustic/metrics", to_dataset("metrics", prep, cfg, ev), config)
    del ds, prep, fcs, orc, ev
    release_memory()
    return {"forecasts": "thermoacoustic/forecasts", "metrics": "thermoacoustic/metrics"}


@task
def sensor_studies(models: dict, runs: str, config: ThermoacousticConfig) -> dict:
    """Sensor failure, integrated gradients and sensor ablation; write the three datasets."""
    ds, prep, cfg = _load(config)
    fail = failure_study(ds, prep, models, cfg)
    del ds
    release_memory()
    attr = attribution_study(prep, models["anchored_ensemble"], cfg)
    abl = ablation_study(prep, cfg, logger=run_logger())
    out = {}
    for kind, payload in (("failure", fail), ("attributions", attr), ("ablation", abl)):
        out[kind] = write_dataset.fn(f"thermoacoustic/{kind}", to_dataset(kind, prep, cfg, payload),
                                     config)
    return out


@task
def make_plots(config: ThermoacousticConfig) -> list[str]:
    """Forecast bands with onsets, uncertainty around a sensor failure, attribution heat map."""
    cat = get_catalog()
    fc = cat.open("thermoacoustic/forecasts").load()
    fail = cat.open("thermoacoustic/failure").load()
    attr = cat.open("thermoacoustic/attributions").load()
    cfg = config.experiment()
    paths = []
    onset = detect_onsets(fc.amplitude.values, cfg.threshold, cfg.quiet_frames)
    r = int(np.argmax(onset.sum(axis=1)))
    h = float(fc.horizon[-1])
    fig, ax = plt.subplots(figsize=(10, 4))
    t = fc.time.values
    ax.plot(t, fc.amplitude.isel(run=r), "k", lw=1, label="observed amplitude")
    for m, c in (("anchored_ensemble", "C0"), ("bnn", "C1")):
        if m not in fc.model:
            continue
        sel = fc.sel(model=m, horizon=h).isel(run=r)
        tt = t + h / 1000.0
        ax.plot(tt, sel["mean"], c, lw=1, label=f"{m} mean (+{h:.0f} ms)")
        ax.fill_between(tt, sel["mean"] - 1.645 * sel.total_std, sel["mean"] + 1.645 * sel.total_std,
                        color=c, alpha=0.2, label=f"{m} 90% band")
    for k in np.flatnonzero(onset[r]):
        ax.axvline(t[k], color="r", ls="--", lw=1)
    ax.axhline(cfg.threshold, color="gray", ls=":", lw=1)
    ax.set(xlabel="time [s]", ylabel="1T amplitude [bar]",
           title=f"held-out run {fc.run.values[r]}: forecasts {h:.0f} ms ahead (red: onsets)")
    ax.legend(fontsize=7, loc="upper left")
    paths.append(_save(fig, "forecast_bands"))
    fig, ax = plt.subplots(figsize=(10, 4))
    for m, c in zip(fail.model.values, ("C0", "C1"), strict=False):
        s = fail.sel(model=m, sensor="p_dyn", failure_mode="zeroed")
        ax.plot(t, s.epistemic_std_nominal_t.mean("run"), c, ls=":", label=f"{m} nominal")
        ax.plot(t, s.epistemic_std_t.mean("run"), c, label=f"{m} p_dyn zeroed")
        ax.plot(t, s.aleatoric_std_t.mean("run"), c, ls="--", lw=0.8, label=f"{m} aleatoric (failed)")
    ax.axvline(fail.attrs["fail_time_s"], color="r", lw=1)
    ax.set(yscale="log", xlabel="time [s]", ylabel="std [bar] (mean over test runs)",
           title="uncertainty before/after the dynamic-pressure sensor fails")
    ax.legend(fontsize=7)
    paths.append(_save(fig, "sensor_failure"))
    fig, ax = plt.subplots(figsize=(8, 4))
    im = ax.pcolormesh(attr.lag.values, np.arange(attr.sizes["channel"]),
                       attr.mean_abs_history.values, shading="nearest", cmap="viridis")
    ax.set_yticks(np.arange(attr.sizes["channel"]), attr.channel.values, fontsize=7)
    ax.set(xlabel="lag [ms]", title="mean |integrated gradients| of the 500 ms forecast")
    fig.colorbar(im, ax=ax)
    paths.append(_save(fig, "attributions"))
    return paths


def _save(fig, figure: str) -> str:
    fig.tight_layout()
    return write_figure(f"{WORKFLOW_NAME}/figures/{figure}", fig)


def _table() -> pd.DataFrame:
    m = get_catalog().open("thermoacoustic/metrics").load()
    h = float(m.horizon[-1])
    sel = m.sel(horizon=h)
    cols = ["rmse", "rmse_reduction_vs_persistence", "coverage90", "crps", "nll",
            "crps_oracle_ratio", "epistemic_std", "onset_warning_rate", "false_alarm_rate"]
    cols = [c for c in cols if c in sel]
    return sel[cols].to_dataframe()[cols]


@flow(name="thermoacoustic")
def thermoacoustic_flow(config: ThermoacousticConfig | None = None) -> dict:
    """Simulate, train, forecast, score and study; returns the written dataset names."""
    config = config or ThermoacousticConfig()
    runs = simulate(config)
    futures = train_model.map(list(MODELS), unmapped(runs), unmapped(config))
    models = dict(zip(MODELS, [f.result() for f in futures], strict=False))
    names = forecast_and_score(models, runs, config)
    names |= sensor_studies(models, runs, config)
    figs = make_plots(config)
    fail = get_catalog().open("thermoacoustic/failure").load()
    ratio = fail.epistemic_ratio.sel(sensor="p_dyn").to_dataframe()
    publish_metrics("thermoacoustic-metrics", _table(),
                    "Thermoacoustic forecasting: held-out scores at the longest horizon",
                    figures=figs,
                    notes="Epistemic std ratio after the dynamic-pressure sensor fails:\n\n"
                    + ratio.to_markdown(floatfmt=".3g"))
    return {"runs": runs, **names}


@flow(name="thermoacoustic")
def thermoacoustic_retrain_flow(config: ThermoacousticConfig | None = None) -> dict:
    """Retrain the anchored ensemble on the catalogued runs; champion/challenger on CRPS@500 ms."""
    config = config or ThermoacousticConfig()
    try:
        get_catalog().open(RUNS)
    except DatasetNotFoundError:  # first run: nothing catalogued yet
        simulate(config)
    ds, prep, cfg = _load(config)
    models = train_forecasters(prep, cfg, ("anchored_ensemble",), logger=run_logger())
    fc = predict_all(models, prep)["anchored_ensemble"]
    sc = horizon_scores(prep.windows["test"].y, fc)
    metrics = {"test_crps_500ms": float(sc["crps"][-1]), "test_rmse_500ms": float(sc["rmse"][-1]),
               "test_coverage90_500ms": float(sc["coverage90"][-1])}
    sd = ensemble_state_dict(models["anchored_ensemble"], prep.scaler, cfg)
    return champion_challenger(WORKFLOW_NAME, sd, metrics, config, score="test_crps_500ms")


WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    flow=thermoacoustic_flow,
    config=ThermoacousticConfig,
    retrain=thermoacoustic_retrain_flow,
)
