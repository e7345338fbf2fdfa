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
    v = post.factor[..., 0]
    sigma_gt = post.diag * g - v * (v @ g)[..., None]
    assert np.max(np.abs(sigma_gt)) < 1e-12
    np.testing.assert_allclose(post.shrink, 1.0)
    assert post.factor.shape == (*mean.shape, 1) and post.n_constraints == 1


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
    d = ConstrainedGaussian.diagonal(np.zeros((2, 3)), np.full((2, 3), 4.0))
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


# ------------------------------------------------------------------ several rows, per-time sigma_G
@pytest.fixture
def rows_case():
    """A non-uniform grid; rows: the trapezoid mass, the first moment, an arbitrary functional."""
    rng = np.random.default_rng(11)
    x = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 23)]))
    w = trapezoid_weights(x)
    g = np.stack([w, w * x, rng.normal(size=x.size)])
    mean = rng.normal(size=(3, 4, x.size))
    var = rng.uniform(0.01, 0.5, size=mean.shape)
    b = rng.normal(size=(3, 4, 3))
    sigma = rng.uniform(0.01, 0.2, size=(4, 3))  # per time and row
    return mean, var, g, b, sigma


def _conditioned(mu, var, g, b, sigma):
    """Gaussian conditioning of N(mu, diag(var)) on b = G u + N(0, diag(sigma^2)), dense."""
    cov = np.diag(var)
    gain = cov @ g.T @ np.linalg.inv(np.diag(sigma**2) + g @ cov @ g.T)
    return mu - gain @ (g @ mu - b), cov - gain @ g @ cov


def test_several_rows_with_per_time_sigma_are_the_gaussian_conditioning(rows_case):
    mean, var, g, b, sigma = rows_case
    post = probconserv_update(mean, var, g, b, sigma)
    assert post.factor.shape == (*mean.shape, 3) and post.residual.shape == (3, 4, 3, 3)
    for f in range(3):
        for t in range(4):
            mu_d, cov_d = _conditioned(mean[f, t], var[f, t], g, b[f, t], sigma[t])
            np.testing.assert_allclose(post.mean[f, t], mu_d, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(post.dense((f, t)), cov_d, rtol=1e-10, atol=1e-13)
    # the residual is what is left of the prior variance along the rows: I - U^T U
    u = post.factor / np.sqrt(post.diag)[..., None]
    np.testing.assert_allclose(post.residual, np.eye(3) - np.swapaxes(u, -1, -2) @ u, atol=1e-12)
    assert np.all((post.shrink > 0) & (post.shrink < 1))


def test_sigma_to_zero_is_the_exact_projection_in_the_prior_metric(rows_case):
    mean, var, g, b, _ = rows_case
    hard = probconserv_update(mean, var, g, b, 0.0)
    np.testing.assert_allclose(hard.mean @ g.T, b, atol=1e-12)
    np.testing.assert_allclose(hard.shrink, 1.0, atol=1e-12)
    np.testing.assert_array_equal(hard.residual, 0.0)
    n = g.shape[1]
    for f, t in [(0, 0), (2, 3)]:
        # argmin (u - mu)^T D^-1 (u - mu) s.t. G u = b: the KKT system
        kkt = np.block([[np.diag(1 / var[f, t]), g.T], [g, np.zeros((3, 3))]])
        rhs = np.concatenate([mean[f, t] / var[f, t], b[f, t]])
        np.testing.assert_allclose(hard.mean[f, t], np.linalg.solve(kkt, rhs)[:n], atol=1e-10)
        assert np.max(np.abs(g @ hard.dense((f, t)))) < 1e-12  # no variance left along the rows
    # the limit sigma -> 0: the gap closes as sigma^2
    gaps = []
    for s in (1e-4, 1e-5, 1e-6):
        soft = probconserv_update(mean, var, g, b, s)
        gaps.append([np.abs(soft.mean - hard.mean).max(), np.abs(soft.variance - hard.variance).max()])
    gaps = np.array(gaps)
    assert gaps[-1].max() < 1e-7
    np.testing.assert_allclose(gaps[1:] / gaps[:-1], 1e-2, rtol=0.05)


def test_one_row_given_as_a_matrix_and_dropped_rows(rows_case):
    mean, var, g, b, sigma = rows_case
    one = probconserv_update(mean, var, g[0], b[..., 0], sigma[:, 0][None, :])
    as_matrix = probconserv_update(mean, var, g[:1], b[..., :1], sigma[:, :1])
    np.testing.assert_allclose(as_matrix.mean, one.mean, atol=1e-13)
    np.testing.assert_allclose(as_matrix.variance, one.variance, atol=1e-13)
    # an infinite sigma_G drops that row: the same as conditioning on the others only
    drop = np.where(np.arange(3) == 1, np.inf, sigma)
    post = probconserv_update(mean, var, g, b, drop)
    two = probconserv_update(mean, var, g[[0, 2]], b[..., [0, 2]], sigma[:, [0, 2]])
    np.testing.assert_allclose(post.mean, two.mean, atol=1e-12)
    np.testing.assert_allclose(post.variance, two.variance, atol=1e-12)
    np.testing.assert_array_equal(post.factor[..., 1], 0.0)


def test_samples_of_several_rows_have_the_posterior_moments_and_keep_the_constraints():
    rng = np.random.default_rng(4)
    x = np.array([0.0, 0.1, 0.35, 0.5, 0.8, 1.0])
    w = trapezoid_weights(x)
    g = np.stack([w, w * x])
    mean, var = rng.normal(size=(1, 6)), rng.uniform(0.1, 1.0, size=(1, 6))
    for sigma in (0.0, np.array([0.1, 0.3])):
        post = probconserv_update(mean, var, g, np.array([[0.3, 0.1]]), sigma)
        draws = post.sample(200_000, seed=1)[:, 0]
        np.testing.assert_allclose(draws.mean(0), post.mean[0], atol=0.01)
        np.testing.assert_allclose(np.cov(draws.T), post.dense((0,)), atol=0.01)
        if np.ndim(sigma) == 0:
            assert np.max(np.abs(draws @ g.T - [0.3, 0.1])) < 1e-10
    # the marginal on a subset of points is the submatrix of the dense covariance
    sub = post.marginal(np.array([0, 2, 5]))
    np.testing.assert_allclose(sub.dense((0,)), post.dense((0,))[np.ix_([0, 2, 5], [0, 2, 5])], atol=1e-14)
    draws = sub.sample(100_000, seed=2)[:, 0]
    np.testing.assert_allclose(np.cov(draws.T), sub.dense((0,)), atol=0.01)


def test_hardc_with_several_rows_is_the_update_with_identity_covariance(rows_case):
    mean, _, g, b, _ = rows_case
    proj, _ = hardc_projection(mean, np.ones_like(mean), g, b)
    np.testing.assert_allclose(proj @ g.T, b, atol=1e-12)
    same = probconserv_update(mean, np.ones_like(mean), g, b, 0.0).mean
    np.testing.assert_allclose(proj, same, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"g": np.ones((2, 4))}, r"g must have shape \(5,\) or \(K, 5\)"),
        ({"b": np.ones((2, 3))}, r"must broadcast to \(2, 2\)"),
        ({"sigma_g": np.ones(3)}, "must broadcast"),
        ({"g": np.ones((2, 5))}, "linearly dependent"),  # two equal rows, hard constraint
        ({"b": np.full((2, 2), np.nan)}, "b holds NaN"),
    ],
)
def test_bad_constraint_matrices_raise_data_error(kwargs, match):
    rng = np.random.default_rng(0)
    args = {"mean": np.zeros((2, 5)), "var": np.ones((2, 5)), "g": rng.normal(size=(2, 5)),
            "b": np.ones((2, 2))}  # fmt: skip
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        probconserv_update(**args)
    # dependent rows with noise are fine (the noise makes S invertible)
    probconserv_update(np.zeros((2, 5)), np.ones((2, 5)), np.ones((2, 5)), np.ones((2, 2)), 0.1)
