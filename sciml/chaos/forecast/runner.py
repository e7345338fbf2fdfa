"""Run every forecaster on one system's univariate benchmark series and score it.

Protocol (Gilpin 2021, sec. 4): fit on the whole *train* series; condition on the first 10
periods of the *test* series; forecast its last 2 periods; score against them. Series are
standardised with the train mean and std; metrics are computed in the original units.
"""

from __future__ import annotations

import numpy as np
import torch

from sciml.errors import ConfigError, DataError
from sciml.uq import central_interval, crps_samples, interval_coverage

from ..metrics import mase, smape, valid_prediction_time
from .baselines import fit_linear_ar, naive, seasonal_naive
from .esn import fit_esn
from .neural import fit_mlp_ensemble

__all__ = [
    "MODELS",
    "METRICS",
    "PROBABILISTIC",
    "forecast_series",
    "score_forecast",
]

#: Forecasters, in the order of the ``model`` coordinate.
MODELS = ("naive", "seasonal_naive", "linear_ar", "esn", "mlp", "mlp_ensemble")
#: Models with a predictive distribution (scored with CRPS and coverage).
PROBABILISTIC = ("mlp_ensemble",)
#: Metrics, in the order written by the flow.
METRICS = ("smape", "mase", "vpt", "crps", "coverage_90")


def score_forecast(y, samples, history, dt, lyapunov_max, scale, probabilistic) -> dict:
    """Metrics of one forecast: ``samples`` (M, H) (M = 1 for point forecasts)."""
    point = samples.mean(axis=0)
    out = {
        "smape": float(smape(y, point)),
        "mase": float(mase(y, point, history)),
        "vpt": float(valid_prediction_time(y, point, dt, lyapunov_max, scale=scale)),
        "crps": float("nan"),
        "coverage_90": float("nan"),
    }
    if probabilistic:
        std = np.maximum(samples.std(axis=0, ddof=1), 1e-6 * scale)
        lo, hi = central_interval(point, std, 0.9)
        out["crps"] = float(np.mean(crps_samples(y, samples, axis=0)))
        out["coverage_90"] = float(interval_coverage(y, lo, hi))
    return out


def forecast_series(
    train: np.ndarray,
    test: np.ndarray,
    n_history: int,
    season: int,
    dt: float,
    lyapunov_max: float,
    *,
    models: tuple[str, ...] = MODELS,
    seed: int = 0,
    n_lags: int = 10,
    esn_size: int = 200,
    mlp_steps: int = 300,
    n_members: int = 5,
) -> dict[str, dict[str, float]]:
    """Forecast the last part of ``test`` with every model and score it.

    Parameters
    ----------
    train : (n,) training series; test : (n,) test series (history then horizon).
    n_history : history length; season : points per period (seasonal naive, lag stride).
    dt : sampling step (time units); lyapunov_max : for the valid prediction time.

    Returns
    -------
    ``{model: {metric: value}}`` with metrics :data:`METRICS`, plus ``"forecast"`` arrays under
    ``{model: {"forecast": (H,)}}`` (the point forecast).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ConfigError(f"unknown forecaster(s) {unknown}; known: {MODELS}")
    train = np.asarray(train, float)
    test = np.asarray(test, float)
    if not (np.all(np.isfinite(train)) and np.all(np.isfinite(test))):
        raise DataError("train/test series hold NaN; pass the unpadded part of the series")
    mu, sd = train.mean(), train.std()
    sd = sd if sd > 0 else 1.0
    z_tr, z_te = (train - mu) / sd, (test - mu) / sd
    hist, fut = test[:n_history], test[n_history:]
    z_hist = z_te[:n_history]
    horizon = len(fut)
    stride = max(1, season // n_lags)
    scale = float(np.std(hist)) or 1.0
    torch.set_num_threads(1)
    forecasts: dict[str, np.ndarray] = {}
    for m in models:
        if m == "naive":
            forecasts[m] = naive(hist, horizon)[None]
        elif m == "seasonal_naive":
            forecasts[m] = seasonal_naive(hist, horizon, season)[None]
        elif m == "linear_ar":
            ar = fit_linear_ar(z_tr, n_lags=n_lags, stride=stride)
            forecasts[m] = (ar.predict(z_hist, horizon) * sd + mu)[None]
        elif m == "esn":
            esn = fit_esn(z_tr, n_reservoir=esn_size, seed=seed)
            forecasts[m] = esn.predict(z_hist, horizon) * sd + mu
    if "mlp" in models or "mlp_ensemble" in models:
        ens = fit_mlp_ensemble(z_tr, n_members=n_members, n_lags=n_lags, stride=stride,
                               n_steps=mlp_steps, seed=seed)
        paths = ens.predict(z_hist, horizon) * sd + mu
        paths = np.where(np.isfinite(paths), paths, np.nan)
        if "mlp" in models:
            forecasts["mlp"] = paths[:1]
        if "mlp_ensemble" in models:
            forecasts["mlp_ensemble"] = paths
    out: dict[str, dict] = {}
    for m in models:
        f = np.clip(forecasts[m], mu - 1e3 * sd, mu + 1e3 * sd)  # bound runaway rollouts
        f = np.where(np.isfinite(f), f, mu)
        out[m] = score_forecast(fut, f, hist, dt, lyapunov_max, scale, m in PROBABILISTIC)
        out[m]["forecast"] = f.mean(axis=0)
    return out
