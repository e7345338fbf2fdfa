"""Forecasters: exactness on closed forms, shapes, determinism, the scored runner."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.chaos.datasets import correlations_to_dataset
from sciml.chaos.forecast import (
    METRICS,
    MODELS,
    delay_embed,
    fit_esn,
    fit_linear_ar,
    fit_mlp_ensemble,
    forecast_series,
    naive,
    seasonal_naive,
)
from sciml.errors import ConfigError


def test_naive_and_seasonal_naive():
    h = np.arange(10.0)
    np.testing.assert_array_equal(naive(h, 3), [9, 9, 9])
    np.testing.assert_array_equal(seasonal_naive(h, 5, 4), [6, 7, 8, 9, 6])


def test_delay_embedding_rows():
    emb = delay_embed(np.arange(10.0), 3, 2)
    np.testing.assert_array_equal(emb[0], [4, 2, 0])
    assert emb.shape == (6, 3)


def test_linear_ar_is_exact_on_a_sinusoid():
    # y_{t+1} = 2 cos(w) y_t - y_{t-1}: an AR(2) forecasts a sine exactly
    t = np.arange(400)
    y = np.sin(0.1 * t)
    ar = fit_linear_ar(y[:300], n_lags=2, stride=1, ridge=1e-12)
    np.testing.assert_allclose(ar.predict(y[:300], 100), y[300:], atol=1e-5)


def test_esn_and_mlp_learn_a_sinusoid_deterministically():
    y = np.sin(0.2 * np.arange(600))
    esn = fit_esn(y[:500], n_reservoir=80, seed=0)
    f = esn.predict(y[:500], 20)
    assert f.shape == (1, 20) and np.abs(f[0] - y[500:520]).max() < 0.1
    ens = fit_mlp_ensemble(y[:500], n_members=3, n_lags=5, n_steps=300, seed=1)
    g = ens.predict(y[:500], 10)
    g2 = fit_mlp_ensemble(y[:500], n_members=3, n_lags=5, n_steps=300, seed=1).predict(y[:500], 10)
    assert g.shape == (3, 10)
    np.testing.assert_array_equal(g, g2)
    assert np.abs(g.mean(axis=0) - y[500:510]).max() < 0.3


def test_forecast_series_scores_every_model():
    t = np.linspace(0, 24 * np.pi, 360)
    train = np.sin(t) + 0.5 * np.sin(2.3 * t) + 2
    test = np.sin(t + 1) + 0.5 * np.sin(2.3 * t + 1) + 2
    out = forecast_series(train, test, 300, 30, t[1] - t[0], 0.5, seed=0, esn_size=40,
                          mlp_steps=30, n_members=3)
    assert set(out) == set(MODELS)
    for m, r in out.items():
        assert set(METRICS) <= set(r)
        assert 0 <= r["smape"] <= 200
        assert r["forecast"].shape == (60,)
        if m == "mlp_ensemble":
            assert np.isfinite(r["crps"]) and 0 <= r["coverage_90"] <= 1
        else:
            assert np.isnan(r["crps"])
    with pytest.raises(ConfigError, match="unknown forecaster"):
        forecast_series(train, test, 300, 30, 0.1, 0.5, models=("prophet",))
