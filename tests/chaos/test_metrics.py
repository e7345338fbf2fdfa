"""Forecast metrics: sMAPE scale, MASE, VPT, Spearman."""

from __future__ import annotations

import numpy as np

from sciml.chaos.metrics import mase, smape, spearman, valid_prediction_time


def test_smape_is_on_0_200_scale():
    y = np.array([1.0, 2.0, 3.0])
    assert smape(y, y) == 0
    assert smape(y, -y) == 200
    np.testing.assert_allclose(smape(np.array([1.0]), np.array([3.0])), 100.0)
    assert smape(np.zeros(3), np.zeros(3)) == 0


def test_mase_of_naive_forecast_in_sample_is_one():
    rng = np.random.default_rng(0)
    h = np.cumsum(rng.normal(size=200))
    y, y_hat = h[1:], h[:-1]  # the naive forecast evaluated in sample
    np.testing.assert_allclose(mase(y, y_hat, h), 1.0)


def test_valid_prediction_time():
    y = np.zeros(10)
    y_hat = np.array([0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(valid_prediction_time(y, y_hat, 0.1, 2.0, threshold=0.4), 0.6)
    np.testing.assert_allclose(valid_prediction_time(y, y, 0.1, 2.0), 2.0)


def test_spearman():
    a = np.array([1.0, 2, 3, 4, np.nan])
    rho, p = spearman(a, a**3)
    assert rho == 1.0 and p < 0.1
    assert np.isnan(spearman([1.0, 2.0], [1.0, 2.0])[0])
