"""Shared UQ scores against closed forms and invariants."""

import numpy as np
import pytest
from scipy import integrate, stats

from sciml.errors import DataError
from sciml.uq import (
    calibration_curve,
    calibration_curve_samples,
    central_interval,
    crps_gaussian,
    crps_samples,
    gaussian_nll,
    interval_coverage,
)


def test_gaussian_nll_matches_scipy():
    y, mu, sd = np.array([0.3, -2.0]), np.array([0.0, 1.0]), np.array([1.0, 2.5])
    np.testing.assert_allclose(gaussian_nll(y, mu, sd), -stats.norm.logpdf(y, mu, sd))


def test_crps_gaussian_closed_form_at_zero():
    np.testing.assert_allclose(
        crps_gaussian(0.0, 0.0, 1.0), 2 * stats.norm.pdf(0) - 1 / np.sqrt(np.pi)
    )


@pytest.mark.parametrize("y, mu, sd", [(0.7, 0.2, 0.5), (-1.0, 1.0, 2.0), (3.0, 0.0, 0.3)])
def test_crps_gaussian_equals_integral_definition(y, mu, sd):
    """CRPS = int (F(z) - 1{z >= y})^2 dz (catches a variance-vs-std mix-up)."""
    f = lambda z: (stats.norm.cdf(z, mu, sd) - (z >= y)) ** 2  # noqa: E731
    val = integrate.quad(f, -np.inf, y)[0] + integrate.quad(f, y, np.inf)[0]
    np.testing.assert_allclose(crps_gaussian(y, mu, sd), val, rtol=1e-6)


def test_crps_samples_matches_pairwise_definition_and_gaussian_limit():
    rng = np.random.default_rng(0)
    s = rng.normal(size=50)
    brute = np.mean(np.abs(s - 0.4)) - 0.5 * np.mean(np.abs(s[:, None] - s[None, :]))
    np.testing.assert_allclose(crps_samples(0.4, s), brute)
    big = rng.normal(1.0, 2.0, size=200_000)
    np.testing.assert_allclose(crps_samples(0.5, big), crps_gaussian(0.5, 1.0, 2.0), rtol=1e-2)


def test_crps_samples_batched_axis():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(30, 4, 3))
    y = rng.normal(size=(4, 3))
    out = crps_samples(y, s, axis=0)
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out[2, 1], crps_samples(y[2, 1], s[:, 2, 1]))


def test_central_interval_and_coverage():
    lo, hi = central_interval(0.0, 2.0, 0.9)
    np.testing.assert_allclose([lo, hi], [-2 * 1.6448536, 2 * 1.6448536], rtol=1e-6)
    y = np.random.default_rng(2).normal(0, 2, 200_000)
    np.testing.assert_allclose(interval_coverage(y, lo, hi), 0.9, atol=5e-3)


def test_calibration_curve_diagonal_for_calibrated_and_off_for_overconfident():
    y = np.random.default_rng(3).normal(size=100_000)
    exp, obs = calibration_curve(y, 0.0, 1.0)
    np.testing.assert_allclose(obs, exp, atol=0.01)
    _, obs_narrow = calibration_curve(y, 0.0, 0.5)
    assert np.all(obs_narrow < exp)


def test_calibration_curve_samples_agrees_with_gaussian():
    rng = np.random.default_rng(4)
    y = rng.normal(size=2000)
    samples = rng.normal(size=(4000, 2000))
    exp, obs = calibration_curve_samples(y, samples, axis=0, levels=[0.5, 0.9])
    np.testing.assert_allclose(obs, exp, atol=0.03)


def test_non_positive_std_raises():
    with pytest.raises(DataError, match="std must be > 0"):
        crps_gaussian(0.0, 0.0, 0.0)


def test_mixture_moments_total_variance_equals_pooled_sample_variance():
    """Law of total variance: aleatoric + epistemic = variance of draws from the mixture."""
    from sciml.uq import mixture_moments

    rng = np.random.default_rng(5)
    means, stds = rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=(4, 3))
    mu, ale, epi = mixture_moments(means, stds**2, axis=0)
    draws = means[:, None, :] + stds[:, None, :] * rng.standard_normal((4, 200_000, 3))
    pooled = draws.reshape(-1, 3)
    np.testing.assert_allclose(mu, pooled.mean(axis=0), atol=0.01)
    np.testing.assert_allclose(ale + epi, pooled.var(axis=0), rtol=0.01)
    np.testing.assert_allclose(epi, means.var(axis=0))
    with pytest.raises(DataError, match="one shape"):
        mixture_moments(means, stds[:2] ** 2)
