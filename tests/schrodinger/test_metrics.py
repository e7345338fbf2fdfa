"""BW2 / BW2-UVP / cBW2-UVP against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.schrodinger.metrics import (
    bw2_squared,
    bw2_uvp,
    cbw2_uvp,
    cbw2_uvp_samples,
    energy_distance,
    moments_from_samples,
    w2_empirical,
)


@pytest.mark.parametrize(
    ("m1", "s1", "m2", "s2"), [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -0.5, 0.5), (3.0, 0.1, 3.0, 4.0)]
)
def test_bw2_1d_is_mean_and_std_gap(m1, s1, m2, s2):
    out = bw2_squared(np.array([m1]), np.array([[s1**2]]), np.array([m2]), np.array([[s2**2]]))
    assert float(out) == pytest.approx((m1 - m2) ** 2 + (s1 - s2) ** 2, abs=1e-12)


def test_bw2_commuting_and_symmetric():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    l1, l2 = rng.uniform(0.2, 2, 4), rng.uniform(0.2, 2, 4)
    c1, c2 = (q * l1) @ q.T, (q * l2) @ q.T
    m1, m2 = rng.standard_normal(4), rng.standard_normal(4)
    ref = ((m1 - m2) ** 2).sum() + ((np.sqrt(l1) - np.sqrt(l2)) ** 2).sum()
    assert float(bw2_squared(m1, c1, m2, c2)) == pytest.approx(ref, rel=1e-10)
    assert float(bw2_squared(m2, c2, m1, c1)) == pytest.approx(ref, rel=1e-10)
    assert float(bw2_squared(m1, c1, m1, c1)) == pytest.approx(0.0, abs=1e-12)


def test_bw2_batched_and_uvp():
    m = np.zeros((3, 2))
    c = np.broadcast_to(np.eye(2), (3, 2, 2))
    out = bw2_squared(m + 1.0, c, m, c)
    np.testing.assert_allclose(out, 2.0)
    np.testing.assert_allclose(bw2_uvp(m + 1.0, c, m, c), 100.0)  # 2 / tr(I_2) = 1


def test_cbw2_uvp_exact_and_from_samples():
    rng = np.random.default_rng(1)
    n, d = 20, 3
    mean = rng.standard_normal((n, d))
    cov = np.broadcast_to(np.diag([0.5, 1.0, 2.0]), (n, d, d))
    assert cbw2_uvp(mean, cov, mean, cov, 3.5) == pytest.approx(0.0, abs=1e-10)
    shifted = cbw2_uvp(mean + 0.1, cov, mean, cov, 3.5)
    assert shifted == pytest.approx(100 * 3 * 0.01 / 3.5, rel=1e-10)
    chol = np.linalg.cholesky(cov[0])
    draws = mean[None] + rng.standard_normal((4000, n, d)) @ chol.T
    from_samples = cbw2_uvp_samples(draws, mean, cov, 3.5)
    assert 0 < from_samples < 0.5  # sampling noise floor only


def test_moments_from_samples_and_errors():
    x = np.arange(10.0)[:, None] * np.ones((1, 2))
    m, c = moments_from_samples(x)
    np.testing.assert_allclose(m, [4.5, 4.5])
    np.testing.assert_allclose(c, np.full((2, 2), np.var(np.arange(10.0), ddof=1)))
    with pytest.raises(DataError, match="at least 2"):
        moments_from_samples(x[:1])
    with pytest.raises(DataError, match="target_var"):
        cbw2_uvp(m[None], c[None], m[None], c[None], 0.0)


# ----------------------------------------------------------------------------- point clouds
def test_energy_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 3))
    assert energy_distance(a, a) == pytest.approx(0.0, abs=1e-12)
    # two point masses at distance r: 2 r - 0 - 0
    zeros, shifted = np.zeros((5, 3)), np.full((7, 3), 2.0)
    assert energy_distance(zeros, shifted) == pytest.approx(2 * 2.0 * np.sqrt(3), rel=1e-12)
    b = a + np.array([1.0, 0.0, 0.0])
    assert energy_distance(a, b) == pytest.approx(energy_distance(b, a), rel=1e-12)
    assert energy_distance(a, b) > energy_distance(a, a + np.array([0.3, 0.0, 0.0])) > 0


def test_w2_of_a_translated_cloud_is_the_shift():
    """Between a cloud and its translate by v the optimal permutation is the identity: W2 = |v|."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 4))
    v = np.array([0.5, -1.0, 0.0, 2.0])
    perm = rng.permutation(200)
    assert w2_empirical(a, (a + v)[perm]) == pytest.approx(np.linalg.norm(v), rel=1e-12)
    with pytest.raises(DataError, match="clouds"):
        w2_empirical(a, a[:, :2])
