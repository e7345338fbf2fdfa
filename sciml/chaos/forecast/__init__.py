"""Forecasters of the chaos benchmark: naive, seasonal naive, linear AR on delay embeddings,
echo-state network, MLP and a deep ensemble of MLPs (probabilistic)."""

from .baselines import LinearAR, delay_embed, fit_linear_ar, naive, seasonal_naive
from .esn import ESN, fit_esn
from .neural import EnsembleMLP, fit_mlp_ensemble
from .runner import (
    METRICS,
    MODELS,
    PROBABILISTIC,
    forecast_series,
    score_forecast,
)

__all__ = [
    "LinearAR",
    "delay_embed",
    "fit_linear_ar",
    "naive",
    "seasonal_naive",
    "ESN",
    "fit_esn",
    "EnsembleMLP",
    "fit_mlp_ensemble",
    "METRICS",
    "MODELS",
    "PROBABILISTIC",
    "forecast_series",
    "score_forecast",
]
