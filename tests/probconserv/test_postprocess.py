"""Non-negativity projection: KKT conditions, limits, and the MAP identity for ProbConserv."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from sciml.errors import DataError
from sciml.probconserv import nonneg_projection, probconserv_update


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    y = rng.normal(0.3, 0.5, size=(400, 25))
    g = rng.uniform(0.5, 1.5, size=25)
    keep = y @ g > 0  # a non-negative profile needs a positive total
    return y[keep], rng.uniform(0.1, 2.0, size=(int(keep.sum()), 25)), g


@pytest.mark.parametrize("sigma_g", [0.0, 0.3])
def test_kkt_conditions(case, sigma_g):
    y, d, g = case
    u = nonneg_projection(y, d, g, sigma_g)
    assert np.all(u >= 0) and np.any(u == 0) and np.any(y < 0)
    w = d * g
    # u = max(0, y - lam w): lam is one number per profile on the positive entries ...
    lam_pos = np.where(u > 0, (y - u) / w, np.nan)
    lam = np.nanmean(lam_pos, axis=-1)
    pos = u > 0
    np.testing.assert_allclose(lam_pos[pos], np.broadcast_to(lam[:, None], u.shape)[pos], atol=1e-10)
    # ... and the zero entries are those with y <= lam w
    assert np.all(y[u == 0] <= (lam[:, None] * w)[u == 0] + 1e-12)
    # G u - G y = sigma_G^2 lam (sigma_G = 0: the total is kept)
    np.testing.assert_allclose(u @ g - y @ g, sigma_g**2 * lam, atol=1e-12)


def test_limits(case):
    y, d, g = case
    np.testing.assert_array_equal(nonneg_projection(y, d, g, np.inf), np.maximum(y, 0))
    pos = np.abs(y)
    np.testing.assert_allclose(nonneg_projection(pos, d, g, 0.0), pos, atol=1e-14)
    np.testing.assert_array_equal(nonneg_projection(np.zeros((2, 25)), 1.0, g), 0.0)


def test_projected_probconserv_mean_is_the_constrained_map():
    """argmin_{u>=0} (u-mu)' D^-1 (u-mu) + (Gu-b)^2/s^2 == projection of the posterior mean."""
    rng = np.random.default_rng(0)
    n = 12
    mu, d = rng.normal(0.1, 0.4, n), rng.uniform(0.05, 1.0, n)
    g, b, s = np.full(n, 1.0 / n), 0.4, 0.05
    post = probconserv_update(mu[None], d[None], g, [b], s)
    got = nonneg_projection(post.mean[0], d, g, s)

    def obj(u):
        r = u @ g - b
        return np.sum((u - mu) ** 2 / d) + r**2 / s**2, 2 * (u - mu) / d + 2 * r * g / s**2

    ref = minimize(obj, np.maximum(mu, 0), jac=True, method="L-BFGS-B", bounds=[(0, None)] * n,
                   options={"ftol": 1e-15, "gtol": 1e-12})  # fmt: skip
    np.testing.assert_allclose(got, ref.x, atol=1e-6)
    assert np.any(got == 0)


def test_bad_inputs(case):
    y, d, g = case
    with pytest.raises(DataError, match="negative total"):
        nonneg_projection(-np.abs(y[:2]), d[:2], g, 0.0)
    with pytest.raises(DataError, match="var must be"):
        nonneg_projection(y, 0.0 * d, g)
    with pytest.raises(DataError, match="g must be positive"):
        nonneg_projection(y, d, -g)
    with pytest.raises(DataError, match="sigma_g"):
        nonneg_projection(y, d, g, -1.0)


def test_given_total(case):
    """With a total, sigma_G = 0 is the projection onto {u >= 0, G u = total} (HardC on a draw)."""
    y, d, g = case
    u = nonneg_projection(y, 1.0, g, 0.0, total=0.7)
    np.testing.assert_allclose(u @ g, 0.7, atol=1e-12)
    assert np.all(u >= 0)
    np.testing.assert_allclose(nonneg_projection(y, d, g, 0.0, total=y @ g), nonneg_projection(y, d, g))
    with pytest.raises(DataError, match="negative total"):
        nonneg_projection(y, d, g, 0.0, total=-1.0)
