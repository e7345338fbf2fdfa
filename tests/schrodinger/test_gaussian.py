"""Gaussian entropic OT closed form against a log-domain Sinkhorn (POT) in 1-D and 2-D."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import ConfigError, DataError
from sciml.schrodinger.gaussian import (
    gaussian_eot_conditional,
    gaussian_eot_cross_cov,
    make_gaussian_pair,
    sqrtm_psd,
)

ot = pytest.importorskip("ot")


def _grid_gaussian(mean, cov, axes):
    """Normalised weights of N(mean, cov) on the tensor grid spanned by ``axes``."""
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(axes))
    diff = pts - mean
    log_w = -0.5 * np.einsum("nd,de,ne->n", diff, np.linalg.inv(cov), diff)
    w = np.exp(log_w - log_w.max())
    return pts, w / w.sum()


def _sinkhorn_plan_moments(mean0, cov0, mean1, cov1, eps, n_per_axis, width=6.0):
    """Cross-covariance of the discrete EOT plan (cost |x-y|^2/2, reg eps) on grids."""
    ax0 = [np.linspace(m - width * np.sqrt(c), m + width * np.sqrt(c), n_per_axis)
           for m, c in zip(mean0, np.diag(cov0), strict=True)]
    ax1 = [np.linspace(m - width * np.sqrt(c), m + width * np.sqrt(c), n_per_axis)
           for m, c in zip(mean1, np.diag(cov1), strict=True)]
    x, a = _grid_gaussian(mean0, cov0, ax0)
    y, b = _grid_gaussian(mean1, cov1, ax1)
    cost = 0.5 * ot.dist(x, y)
    plan = ot.sinkhorn(a, b, cost, eps, method="sinkhorn_log", numItermax=5000, stopThr=1e-11)
    mx, my = a @ x, b @ y
    cross = (x - mx).T @ plan @ (y - my)
    return cross, plan, x, y


@pytest.mark.parametrize("eps", [0.25, 1.0, 3.0])
def test_closed_form_matches_sinkhorn_1d(eps):
    mean0, cov0 = np.array([0.3]), np.array([[0.8]])
    mean1, cov1 = np.array([-0.5]), np.array([[1.7]])
    cross, plan, x, y = _sinkhorn_plan_moments(mean0, cov0, mean1, cov1, eps, 400)
    c = gaussian_eot_cross_cov(cov0, cov1, eps)
    assert cross[0, 0] == pytest.approx(c[0, 0], rel=2e-3)
    # conditional mean of y | x in the bulk of P0
    gain, offset, cond = gaussian_eot_conditional(mean0, cov0, mean1, cov1, eps)
    rows = np.where(np.abs(x[:, 0] - mean0[0]) < 1.5)[0]
    cond_mean = (plan[rows] @ y[:, 0]) / plan[rows].sum(1)
    np.testing.assert_allclose(cond_mean, offset[0] + gain[0, 0] * x[rows, 0], atol=5e-3)
    cond_var = (plan[rows] @ y[:, 0] ** 2) / plan[rows].sum(1) - cond_mean**2
    np.testing.assert_allclose(cond_var, cond[0, 0], rtol=5e-3)


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_closed_form_matches_sinkhorn_2d(eps):
    mean0 = np.array([0.2, -0.1])
    cov0 = np.array([[1.0, 0.3], [0.3, 0.6]])
    mean1 = np.array([-0.4, 0.5])
    cov1 = np.array([[0.7, -0.2], [-0.2, 1.2]])
    cross, *_ = _sinkhorn_plan_moments(mean0, cov0, mean1, cov1, eps, 36, width=5.5)
    np.testing.assert_allclose(cross, gaussian_eot_cross_cov(cov0, cov1, eps), atol=1e-2)


def test_conditional_covariance_is_eps_times_gain():
    """B - C^T A^{-1} C = eps C^T A^{-1}: the K = 1 LightSB optimum S = C^T A^{-1}."""
    pair = make_gaussian_pair(5, 0.7, seed=3, diagonal=False)
    gain, _, cond = gaussian_eot_conditional(pair.mean0, pair.cov0, pair.mean1, pair.cov1, 0.7)
    np.testing.assert_allclose(cond, 0.7 * gain, atol=1e-10)
    np.testing.assert_allclose(gain, gain.T, atol=1e-12)
    assert np.linalg.eigvalsh(gain).min() > 0


def test_small_eps_tends_to_monge_map():
    pair = make_gaussian_pair(3, 1e-6, seed=4, diagonal=False)
    gain, _, _ = gaussian_eot_conditional(pair.mean0, pair.cov0, pair.mean1, pair.cov1, 1e-6)
    a_half = sqrtm_psd(pair.cov0)
    a_mhalf = np.linalg.inv(a_half)
    monge = a_mhalf @ sqrtm_psd(a_half @ pair.cov1 @ a_half) @ a_mhalf
    np.testing.assert_allclose(gain, monge, atol=1e-5)


def test_large_eps_tends_to_independent_plan():
    pair = make_gaussian_pair(3, 1.0, seed=5, diagonal=False)
    c = gaussian_eot_cross_cov(pair.cov0, pair.cov1, 1e6)
    assert np.abs(c).max() < 1e-5


def test_errors():
    with pytest.raises(ConfigError, match="eps"):
        gaussian_eot_cross_cov(np.eye(2), np.eye(2), 0.0)
    with pytest.raises(DataError, match="positive definite"):
        gaussian_eot_cross_cov(np.eye(2), -np.eye(2), 1.0)
    with pytest.raises(DataError, match="same shape"):
        gaussian_eot_cross_cov(np.eye(2), np.eye(3), 1.0)
