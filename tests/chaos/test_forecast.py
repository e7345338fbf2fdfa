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
    score_forecast,
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


def _periodic(k):
    """A positive signal of period exactly 30 points: two harmonics (an AR model's closed form)."""
    return 2 + np.sin(2 * np.pi * k / 30) + 0.5 * np.sin(2 * np.pi * 3 * k / 30 + 0.4)


def test_forecast_series_scores_every_model_against_closed_forms():
    train, test = _periodic(np.arange(360)), _periodic(np.arange(360) + 7)
    hist, fut = test[:300], test[300:]
    dt, lyap = 0.1, 0.5
    out = forecast_series(train, test, 300, 30, dt, lyap, seed=0, esn_size=40,
                          mlp_steps=30, n_members=3)
    assert set(out) == set(MODELS)
    for m, r in out.items():
        assert set(METRICS) <= set(r)
        assert r["forecast"].shape == (60,)
        assert np.isfinite(r["smape"]) and np.isfinite(r["mase"]), m
        if m == "mlp_ensemble":
            assert np.isfinite(r["crps"]) and np.isfinite(r["coverage_90"])
        else:
            assert np.isnan(r["crps"]) and np.isnan(r["coverage_90"])
    # the signal repeats every 30 points: the seasonal naive forecast is the truth
    exact = out["seasonal_naive"]
    np.testing.assert_allclose(exact["forecast"], fut, rtol=0, atol=1e-12)
    assert exact["smape"] == pytest.approx(0.0, abs=1e-9)
    assert exact["mase"] == pytest.approx(0.0, abs=1e-9)
    assert exact["vpt"] == pytest.approx(len(fut) * dt * lyap)  # never leaves the threshold
    # two harmonics obey a linear recurrence in any 4 lags: the AR model is exact up to its ridge
    assert out["linear_ar"]["smape"] < 1e-3
    assert out["linear_ar"]["vpt"] == pytest.approx(len(fut) * dt * lyap)
    # naive repeats the last value c: sMAPE = 200/H sum |y - c| / (y + c) for y, c > 0
    c = hist[-1]
    naive_out = out["naive"]
    assert naive_out["smape"] == pytest.approx(200 * np.mean(np.abs(fut - c) / (fut + c)), rel=1e-12)
    assert naive_out["mase"] == pytest.approx(
        np.mean(np.abs(fut - c)) / np.mean(np.abs(np.diff(hist))), rel=1e-12)
    first_bad = np.argmax(np.abs(fut - c) / np.std(hist) > 0.4)
    assert naive_out["vpt"] == pytest.approx(first_bad * dt * lyap)
    with pytest.raises(ConfigError, match="unknown forecaster"):
        forecast_series(train, test, 300, 30, 0.1, 0.5, models=("prophet",))


def test_score_forecast_of_the_truth_and_of_a_constant_offset():
    y = 1.0 + np.arange(40) / 40.0
    history = np.linspace(0.0, 1.0, 21)  # in-sample naive error 0.05 per step
    perfect = score_forecast(y, y[None], history, 0.1, 0.9, 1.0, probabilistic=False)
    assert perfect["smape"] == 0.0 and perfect["mase"] == 0.0
    assert perfect["vpt"] == pytest.approx(40 * 0.1 * 0.9)
    off = score_forecast(y, (y + 0.3)[None], history, 0.1, 0.9, 1.0, probabilistic=False)
    # |y - (y + c)| / (|y| + |y + c|) = c / (2 y + c) for y > 0
    assert off["smape"] == pytest.approx(200 * np.mean(0.3 / (2 * y + 0.3)), rel=1e-12)
    assert off["mase"] == pytest.approx(0.3 / 0.05, rel=1e-12)
    assert off["vpt"] == pytest.approx(40 * 0.1 * 0.9)  # 0.3 < 0.4 x scale: still valid
    late = score_forecast(y, (y + 0.5)[None], history, 0.1, 0.9, 1.0, probabilistic=False)
    assert late["vpt"] == 0.0  # 0.5 > 0.4 from the first step


def test_score_forecast_of_a_calibrated_gaussian_ensemble():
    """Truth and members drawn from one N(0, 1) per step: the central 90% interval covers the
    truth at rate 0.9 (within 4 binomial s.e.), and the mean CRPS is sigma / sqrt(pi)."""
    rng = np.random.default_rng(0)
    n_members, horizon = 1000, 4000
    samples = rng.standard_normal((n_members, horizon))
    y = rng.standard_normal(horizon)
    out = score_forecast(y, samples, rng.standard_normal(50), 0.1, 1.0, 1.0, probabilistic=True)
    se = np.sqrt(0.9 * 0.1 / horizon)
    assert abs(out["coverage_90"] - 0.9) < 4 * se
    assert out["crps"] == pytest.approx(1 / np.sqrt(np.pi), rel=0.03)
    # an ensemble twice too wide covers P(|Z| < 2 x 1.645) = 0.998997
    wide = score_forecast(y, 2 * samples, rng.standard_normal(50), 0.1, 1.0, 1.0, probabilistic=True)
    assert abs(wide["coverage_90"] - 0.998997) < 4 * np.sqrt(0.999 * 0.001 / horizon)


def test_correlations_of_monotone_relations_are_plus_and_minus_one():
    """sMAPE rising with lambda_max gives rho = 1, falling gives -1; a system missing from the
    invariants and a NaN score are left out of the rank correlation."""
    import xarray as xr

    systems = ["A", "B", "C", "D", "E", "F"]
    lyap = np.array([0.1, 0.5, 0.9, 1.4, 2.0, np.nan])  # F: no invariant estimate
    err = np.stack([np.exp(lyap), 100 - 10 * lyap])  # rising, falling (strictly monotone)
    err[0, 1] = np.nan  # model "up" failed on B
    fm = xr.Dataset(
        {"smape": (("model", "system", "granularity", "noise"),
                   np.concatenate([err, err[:, :1]], axis=1)[..., None, None])},
        coords={"model": ["up", "down"], "system": systems + ["G"], "granularity": ["fine"],
                "noise": ["clean"]},
    )
    inv = xr.Dataset({k: ("system", lyap) for k in ("lyapunov_max", "pesin_entropy",
                                                     "correlation_dimension")},
                     coords={"system": systems})
    corr = correlations_to_dataset(fm, inv)
    rho = corr.spearman_rho.sel(granularity="fine", noise="clean", invariant="lyapunov_max")
    assert float(rho.sel(model="up")) == pytest.approx(1.0)
    assert float(rho.sel(model="down")) == pytest.approx(-1.0)
    assert corr.attrs["n_systems"] == 6  # G has no invariants
    assert float(corr.pvalue.sel(model="down", granularity="fine", noise="clean",
                                 invariant="lyapunov_max")) < 0.05
