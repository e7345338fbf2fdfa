"""Polynomial detection of vector fields (used to batch many systems in one evaluation)."""

from __future__ import annotations

import numpy as np

from sciml.chaos import get_system
from sciml.chaos.polynomial import fit_polynomial, monomial_indices, monomials, poly_rhs


def test_monomials_follow_index_order():
    x = np.random.default_rng(0).random((5, 3))
    idx = monomial_indices(3, 3)
    ref = np.stack([np.prod(x[:, list(i)], axis=1) for i in idx], axis=1)
    np.testing.assert_allclose(monomials(x, 3), ref)
    assert len(idx) == 20


def test_lorenz_is_recovered_exactly_and_sin_is_refused():
    s = get_system("Lorenz")
    coef, degree = fit_polynomial(s.rhs, 3, s.ic)
    assert degree == 2
    x = s.ic + np.random.default_rng(1).normal(scale=5, size=(50, 3))
    f = poly_rhs(degree)(x, np.broadcast_to(coef.ravel(), (50, coef.size)))
    np.testing.assert_allclose(f, s.rhs(x), rtol=1e-10, atol=1e-9)
    assert fit_polynomial(lambda y: np.sin(y), 2, np.zeros(2)) is None
