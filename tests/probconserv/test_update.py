"""ProbConserv update and HardC projection against closed forms and dense linear algebra."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.gpme import trapezoid_weights
from sciml.probconserv import ConstrainedGaussian, hardc_projection, probconserv_update


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 1.0, 41)
    g = trapezoid_weights(x)
    mean = rng.normal(size=(5, 7, x.size))
    var = rng.uniform(0.01, 0.5, size=mean.shape)
    b = rng.normal(size=(5, 7))
    return mean, var, g, b


def _dense_update(mu, var, g, b, sigma_g):
    cov = np.diag(var)
    sg = cov @ g
    denom = sigma_g**2 + g @ cov @ g
    return mu - sg * (g @ mu - b) / denom, cov - np.outer(sg, sg) / denom


@pytest.mark.parametrize("sigma_g", [0.0, 0.05, 1.0])
def test_update_matches_dense_formula(batch, sigma_g):
    mean, var, g, b = batch
    post = probconserv_update(mean, var, g, b, sigma_g)
    for f, t in [(0, 0), (2, 5), (4, 6)]:
        mu_d, cov_d = _dense_update(mean[f, t], var[f, t], g, b[f, t], sigma_g)
        np.testing.assert_allclose(post.mean[f, t], mu_d, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(post.dense((f, t)), cov_d, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(post.variance[f, t], np.diag(cov_d), rtol=1e-12, atol=1e-14)


def test_hard_constraint_holds_to_1e10_and_kills_constrained_direction(batch):
    mean, var, g, b = batch
    post = probconserv_update(mean, var, g, b, sigma_g=0.0)
    assert np.max(np.abs(post.mean @ g - b)) < 1e-10
    # Sigma~ G^T = d * g - v (v . g) must vanish
    sigma_gt = post.diag * g - post.factor * (post.factor @ g)[..., None]
    assert np.max(np.abs(sigma_gt)) < 1e-12
    np.testing.assert_allclose(post.shrink, 1.0)


def test_infinite_sigma_returns_the_prior(batch):
    mean, var, g, b = batch
    post = probconserv_update(mean, var, g, b, sigma_g=np.inf)
    np.testing.assert_array_equal(post.mean, mean)
    np.testing.assert_array_equal(post.variance, var)
    big = probconserv_update(mean, var, g, b, sigma_g=1e8)
    np.testing.assert_allclose(big.mean, mean, atol=1e-12)
    np.testing.assert_allclose(big.variance, var, atol=1e-12)


def test_update_is_monotone_in_sigma(batch):
    mean, var, g, b = batch
    errs = [np.abs(probconserv_update(mean, var, g, b, s).mean @ g - b).max() for s in (0.01, 0.1, 1.0)]
    assert errs[0] < errs[1] < errs[2] < np.abs(mean @ g - b).max()


def test_samples_have_the_posterior_moments_and_satisfy_the_constraint():
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 1.0, 6)
    g = trapezoid_weights(x)
    mean, var = rng.normal(size=(1, 6)), rng.uniform(0.1, 1.0, size=(1, 6))
    for sigma_g in (0.0, 0.2):
        post = probconserv_update(mean, var, g, np.array([0.3]), sigma_g)
        draws = post.sample(200_000, seed=1)[:, 0]
        np.testing.assert_allclose(draws.mean(0), post.mean[0], atol=0.01)
        np.testing.assert_allclose(np.cov(draws.T), post.dense((0,)), atol=0.01)
        if sigma_g == 0.0:
            assert np.max(np.abs(draws @ g - 0.3)) < 1e-10
    # same seed, same draws
    np.testing.assert_array_equal(post.sample(5, seed=2), post.sample(5, seed=2))


def test_diagonal_gaussian_sampling_without_factor():
    d = ConstrainedGaussian(np.zeros((2, 3)), np.full((2, 3), 4.0), np.zeros((2, 3)), np.zeros(2))
    s = d.sample(100_000, seed=0)
    np.testing.assert_allclose(s.std(0), 2.0, rtol=0.02)


def test_hardc_equals_euclidean_projection(batch):
    mean, var, g, b = batch
    proj, std = hardc_projection(mean, np.sqrt(var), g, b)
    # dense: minimise |u - mu|^2 s.t. G u = b via the KKT system solved by lstsq
    n = g.size
    kkt = np.block([[np.eye(n), g[:, None]], [g[None, :], np.zeros((1, 1))]])
    for f, t in [(0, 0), (3, 4)]:
        rhs = np.concatenate([mean[f, t], [b[f, t]]])
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:n]
        np.testing.assert_allclose(proj[f, t], sol, atol=1e-10)
        pinv = mean[f, t] - np.linalg.pinv(g[None, :]) @ (g[None, :] @ mean[f, t] - b[f, t])
        np.testing.assert_allclose(proj[f, t], pinv, atol=1e-10)
    assert np.max(np.abs(proj @ g - b)) < 1e-10
    np.testing.assert_array_equal(std, np.sqrt(var))
    # HardC is the ProbConserv update with identity covariance and sigma_G = 0
    same = probconserv_update(mean, np.ones_like(mean), g, b, 0.0).mean
    np.testing.assert_allclose(proj, same, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mean": np.full((2, 5), np.nan)}, "mean or var holds NaN"),
        ({"var": np.full((2, 5), np.inf)}, "NaN or infinite"),
        ({"var": -np.ones((2, 5))}, "var must be >= 0"),
        ({"var": np.ones((2, 4))}, "same shape"),
        ({"g": np.ones(4)}, "g must have shape"),
        ({"b": np.ones(3)}, "broadcast"),
        ({"sigma_g": -1.0}, "sigma_g"),
        ({"var": np.zeros((2, 5))}, "zero predictive variance"),
    ],
)
def test_bad_inputs_raise_data_error(kwargs, match):
    args = {"mean": np.zeros((2, 5)), "var": np.ones((2, 5)), "g": np.ones(5), "b": np.ones(2)}
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        probconserv_update(**args)


def test_hardc_bad_inputs():
    with pytest.raises(DataError, match="identically zero"):
        hardc_projection(np.zeros((1, 3)), np.ones((1, 3)), np.zeros(3), [0.0])
    with pytest.raises(DataError, match="NaN"):
        hardc_projection(np.full((1, 3), np.nan), np.ones((1, 3)), np.ones(3), [0.0])
