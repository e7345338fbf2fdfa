"""xarray Datasets of the thermoacoustic workflow (no I/O): forecasts, metrics, studies.

One entry point, :func:`to_dataset`, builds each result dataset from the arrays of
:mod:`sciml.thermoacoustic.experiment`. Dimension ``model`` labels the compared forecasters;
``horizon`` is in milliseconds.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sciml.errors import unknown_name
from sciml.thermoacoustic.features import FEATURE_CHANNELS
from sciml.thermoacoustic.simulator import CONTROL_CHANNELS

__all__ = ["to_dataset", "KINDS"]

KINDS = ("forecasts", "metrics", "ablation", "failure", "attributions")


def _s(labels) -> np.ndarray:
    return np.asarray(list(labels), dtype=str)


def _horizon_ms(prep, cfg) -> np.ndarray:
    return (np.asarray(cfg.horizons) * 1000.0 / prep.params.frame_rate).astype(np.float64)


def _forecasts(prep, cfg, forecasts: dict) -> xr.Dataset:
    w = prep.windows["test"]
    test = np.flatnonzero(prep.split == "test")
    pos = {r: i for i, r in enumerate(test)}
    ri = np.array([pos[r] for r in w.run])
    n_t, n_h = prep.amplitude.shape[1], len(cfg.horizons)
    names = list(forecasts)
    arr = {k: np.full((len(names), test.size, n_t, n_h), np.nan, dtype=np.float32)
           for k in ("mean", "aleatoric_std", "epistemic_std", "total_std")}
    for i, m in enumerate(names):
        fc = forecasts[m]
        arr["mean"][i, ri, w.frame] = fc.mean
        arr["aleatoric_std"][i, ri, w.frame] = fc.aleatoric_std
        arr["epistemic_std"][i, ri, w.frame] = fc.epistemic_std
        arr["total_std"][i, ri, w.frame] = fc.std
    obs = np.full((test.size, n_t, n_h), np.nan, dtype=np.float32)
    obs[ri, w.frame] = w.y
    dims = ("model", "run", "time", "horizon")
    ds = xr.Dataset(
        {k: (dims, v) for k, v in arr.items()}
        | {"observed": (dims[1:], obs),
           "amplitude": (("run", "time"), prep.amplitude[test].astype(np.float32))},
        coords={"model": _s(names), "run": _s(prep.run_labels[test]), "time": prep.time,
                "horizon": _horizon_ms(prep, cfg)},
    )
    long = {"mean": "predictive mean amplitude", "aleatoric_std": "aleatoric std",
            "epistemic_std": "epistemic std", "total_std": "total predictive std",
            "observed": "observed amplitude at time + horizon", "amplitude": "amplitude now"}
    for k, ln in long.items():
        ds[k].attrs.update(units="bar", long_name=ln)
    ds["time"].attrs.update(units="s", long_name="forecast issue time (frame end)")
    ds["horizon"].attrs.update(units="ms", long_name="forecast horizon")
    ds.attrs["description"] = ("Forecasts of the 1T dynamic-pressure amplitude on held-out runs, "
                               "issued at `time` for `time + horizon`; NaN where no full window")
    return ds


def _metrics(prep, cfg, evaluation: dict) -> xr.Dataset:
    scores = evaluation["scores"]
    names = list(scores)
    # the oracle's scores are NaN where there is no oracle (a user's recordings: no simulator)
    keys = sorted({k for s in scores.values() for k in s} | {"crps_oracle_ratio", "crps_oracle_subset"})
    dv = {k: (("model", "horizon"), np.stack([scores[m].get(k, np.full(len(cfg.horizons), np.nan))
                                               for m in names]).astype(np.float64)) for k in keys}
    pers = scores.get("persistence")
    if pers is not None:
        dv["rmse_reduction_vs_persistence"] = (
            ("model", "horizon"), 1.0 - dv["rmse"][1] / pers["rmse"][None, :])
    warn = evaluation["warnings"]
    for k in ("onset_warning_rate", "false_alarm_rate", "n_onsets"):
        dv[k] = (("model",), np.array([float(warn[m][k]) for m in names]))
    if evaluation.get("oracle_crps") is not None:
        dv["crps_oracle"] = (("horizon",), np.asarray(evaluation["oracle_crps"], dtype=np.float64))
    if evaluation.get("oracle_gaussian_ratio") is not None:
        # CRPS of a Gaussian with the oracle's mean and std / oracle CRPS: the shape penalty
        dv["crps_oracle_gaussian_ratio"] = (
            ("horizon",), np.asarray(evaluation["oracle_gaussian_ratio"], dtype=np.float64))
    ds = xr.Dataset(dv, coords={"model": _s(names), "horizon": _horizon_ms(prep, cfg)})
    units = {"rmse": "bar", "crps": "bar", "crps_oracle": "bar", "crps_oracle_subset": "bar",
             "aleatoric_std": "bar", "epistemic_std": "bar", "nll": "nats"}
    for k in ds.data_vars:
        ds[k].attrs.update(units=units.get(k, "1"), long_name=k.replace("_", " "))
    ds["horizon"].attrs.update(units="ms", long_name="forecast horizon")
    ds.attrs.update(
        description="Scores on held-out runs; crps_oracle_ratio = model CRPS / re-simulation "
        "oracle CRPS on the oracle subset; onset warnings at the longest horizon",
        threshold_bar=float(cfg.threshold), warn_prob=float(cfg.warn_prob),
        lead_ms=float(cfg.lead_frames * 10), early_ms=float(cfg.early_frames * 10),
    )
    return ds


def _ablation(prep, cfg, ablation: dict) -> xr.Dataset:
    names = list(ablation)
    keys = list(next(iter(ablation.values())))
    dv = {k: (("sensor_set", "horizon"), np.stack([ablation[n][k] for n in names]))
          for k in keys}
    ds = xr.Dataset(dv, coords={"sensor_set": _s(names), "horizon": _horizon_ms(prep, cfg),
                                "model": "anchored_ensemble"})
    ds.attrs["description"] = "Anchored ensembles trained and tested on sensor subsets"
    for k in ds.data_vars:
        ds[k].attrs.update(units="bar" if k != "nll" and k != "coverage90" else "1", long_name=k)
    return ds


def _failure(prep, cfg, failure: dict) -> xr.Dataset:
    eff = failure["effects"]
    models = sorted({k[0] for k in eff})
    sensors = sorted({k[1] for k in eff})
    modes = sorted({k[2] for k in eff})
    scalar = [k for k, v in next(iter(eff.values())).items() if np.ndim(v) == 0]
    dv = {}
    for k in scalar:
        a = np.full((len(models), len(sensors), len(modes)), np.nan)
        for (m, s, f), e in eff.items():
            a[models.index(m), sensors.index(s), modes.index(f)] = e[k]
        dv[k] = (("model", "sensor", "failure_mode"), a)
    test = np.flatnonzero(prep.split == "test")
    pos = {r: i for i, r in enumerate(test)}
    ri = np.array([pos[r] for r in failure["run"]])
    n_t = prep.amplitude.shape[1]
    series = {"series_nominal": "epistemic_std_nominal_t", "series_failed": "epistemic_std_t",
              "aleatoric_series_failed": "aleatoric_std_t",
              "aleatoric_series_failed_raw": "aleatoric_std_raw_t",
              "aleatoric_series_nominal": "aleatoric_std_nominal_t"}  # fmt: skip
    for k, name in series.items():
        a = np.full((len(models), len(sensors), len(modes), test.size, n_t), np.nan, np.float32)
        for (m, s, f), e in eff.items():
            a[models.index(m), sensors.index(s), modes.index(f), ri, failure["frame"]] = e[k]
        dv[name] = (("model", "sensor", "failure_mode", "run", "time"), a)
    ds = xr.Dataset(dv, coords={"model": _s(models), "sensor": _s(sensors),
                                "failure_mode": _s(modes), "run": _s(prep.run_labels[test]),
                                "time": prep.time})
    ds.attrs.update(description="Sensor failure at test time (longest horizon): ratios failed / "
                    "nominal of mean std after the failure, and std time series; aleatoric as "
                    "forecast (off-data reversion applied) and *_raw (the network's own)",
                    fail_time_s=float(prep.time[failure["fail_frame"]] - 1 / prep.params.frame_rate))
    return ds


def _attributions(prep, cfg, attr: dict) -> xr.Dataset:
    lag_ms = (np.arange(-cfg.window + 1, 1) * 1000.0 / prep.params.frame_rate)
    lead_ms = np.arange(cfg.future_stride, max(cfg.horizons) + 1, cfg.future_stride) * 10.0
    hist, fut = attr["history"], attr["future"]
    tot = np.abs(hist).sum(axis=(1, 2)) + np.abs(fut).sum(axis=(1, 2))
    ds = xr.Dataset(
        {
            "history_attribution": (("sample", "channel", "lag"), hist.astype(np.float32)),
            "future_attribution": (("sample", "control", "lead"), fut.astype(np.float32)),
            "mean_abs_history": (("channel", "lag"), np.abs(hist).mean(0)),
            "channel_share": (("channel",), (np.abs(hist).sum(2) / tot[:, None]).mean(0)),
            "delta_f": (("sample",), attr["delta_f"]),
            "completeness_error": (("sample",), attr["completeness_error"]),
        },
        coords={"channel": _s(FEATURE_CHANNELS), "lag": lag_ms, "control": _s(CONTROL_CHANNELS),
                "lead": lead_ms, "sample": np.arange(hist.shape[0]), "model": "anchored_ensemble"},
    )
    ds["lag"].attrs.update(units="ms", long_name="lag before the forecast time")
    ds["lead"].attrs.update(units="ms", long_name="lead of the future control")
    ds["completeness_error"].attrs.update(units="1", long_name="|sum IG - (F(x)-F(x'))| / |F(x)-F(x')|")
    ds.attrs["description"] = ("Integrated gradients of the anchored-ensemble mean forecast at the "
                               "longest horizon (standardised units), baseline = training mean")
    return ds


def to_dataset(kind: str, prep, cfg, payload) -> xr.Dataset:
    """Build the ``thermoacoustic/<kind>`` dataset.

    Parameters
    ----------
    kind : one of :data:`KINDS`
    prep : :class:`~.experiment.Prepared`
    cfg : :class:`~.experiment.ThermoacousticConfig`
    payload : forecasts dict (``forecasts``), evaluation dict (``metrics``), or the result of the
        matching study function.
    """
    builders = {"forecasts": _forecasts, "metrics": _metrics, "ablation": _ablation,
                "failure": _failure, "attributions": _attributions}
    if kind not in builders:
        raise unknown_name("dataset kind", kind, list(KINDS))
    ds = builders[kind](prep, cfg, payload)
    ds.attrs.setdefault("reference", "Sengupta et al., arXiv 2107.06396 (surrogate data)")
    return ds
