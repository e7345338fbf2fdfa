"""Scores: MSE, CE, LL, front position and its posterior summary."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.probconserv import (
    conservation_error,
    log_likelihood,
    mean_and_se,
    shock_position,
    shock_summary,
    squared_error,
)


def test_closed_forms():
    u = np.zeros((2, 4))
    assert squared_error(u + 2.0, u).tolist() == [4.0, 4.0]
    g = np.full(4, 0.25)
    np.testing.assert_allclose(conservation_error(u + 1.0, g, [0.5, 1.0]), [0.5, 0.0])
    ll = log_likelihood(u, np.ones((2, 4)), u)
    np.testing.assert_allclose(ll, -0.5 * np.log(2 * np.pi))


def test_shock_position_first_crossing():
    x = np.linspace(0, 1, 11)
    prof = np.array([[1, 1, 0.5, 0.1, -0.01, 0.3, 0, 0, 0, 0, 0], np.ones(11)], dtype=float)
    np.testing.assert_allclose(shock_position(prof, x), [0.4, 1.0])
    np.testing.assert_allclose(shock_position(prof, x, level=0.2), [0.3, 1.0])


def test_shock_summary_and_se():
    draws = np.array([[0.1, 0.2, 0.3, 0.4, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5]])
    s = shock_summary(draws, 0.3, level=0.9)
    np.testing.assert_allclose(s["mean"], [0.3, 0.5])
    np.testing.assert_allclose(s["abs_error"], [0.0, 0.2])
    np.testing.assert_array_equal(s["covered"], [1.0, 0.0])
    m, se = mean_and_se(np.array([1.0, 3.0]))
    assert m == 2.0 and se == pytest.approx(1.0)
    assert mean_and_se(np.array([5.0]))[1] == 0.0


def test_bad_inputs():
    with pytest.raises(DataError, match="NaN"):
        squared_error(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(DataError, match="broadcast"):
        squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(DataError, match="g must have shape"):
        conservation_error(np.zeros((2, 3)), np.ones(4), 0.0)
    with pytest.raises(DataError, match="match x"):
        shock_position(np.zeros((2, 3)), np.linspace(0, 1, 4))


@pytest.mark.parametrize("n_x", [101, 201])
def test_shock_position_recovers_the_exact_front(n_x):
    """The locator on the exact profile: x* itself when it is a grid point (PME at t = 0.5), else
    the first grid point at or past x* (Stefan's jump lies between grid points)."""
    from sciml.gpme import exact_solution, front_position, get_problem

    for problem in ("pme", "stefan"):
        spec = get_problem(problem)
        x = np.linspace(*spec.x_domain, n_x)
        u = exact_solution(problem, spec.test_values, [spec.eval_time], x)[:, 0]
        xs = front_position(problem, spec.test_values, [spec.eval_time])[:, 0]
        found = shock_position(u, x)
        if problem == "pme":
            np.testing.assert_array_equal(found, 0.5)
        else:
            np.testing.assert_array_equal(found, x[np.searchsorted(x, xs)])
            assert np.all((found >= xs) & (found - xs < x[1] - x[0]))
