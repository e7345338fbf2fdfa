"""Exact GPME solutions: PDE residuals, conserved totals, Stefan front."""

import numpy as np
import pytest

from sciml.errors import DataError, UnknownNameError
from sciml.gpme import (
    PROBLEMS,
    diffusion_exact_solution,
    exact_solution,
    exact_total_mass,
    front_position,
    pme_exact_solution,
    stefan_alpha,
    stefan_exact_solution,
    total_mass,
    trapezoid_weights,
)


def _residual(u_fn, diffusivity, param, t, x, h=1e-5):
    """u_t - d/dx(k(u) u_x) by central differences at points (t, x)."""

    def u(tt, xx):
        return np.array([u_fn(param, [ti], [xi])[0, 0, 0] for ti, xi in zip(tt, xx, strict=True)])

    u_t = (u(t + h, x) - u(t - h, x)) / (2 * h)
    flux = lambda xx: diffusivity(u(t, xx)) * (u(t, xx + h) - u(t, xx - h)) / (2 * h)  # noqa: E731
    return u_t - (flux(x + h) - flux(x - h)) / (2 * h)


def test_diffusion_solves_heat_equation():
    rng = np.random.default_rng(1)
    t, x = rng.uniform(0.1, 1, 8), rng.uniform(0, 2 * np.pi, 8)
    for k in (1.0, 3.5):
        res = _residual(
            diffusion_exact_solution, lambda u, k=k: k * np.ones_like(u), k, t, x, h=1e-3
        )
        np.testing.assert_allclose(res, 0, atol=1e-5)


@pytest.mark.parametrize("m", [1.0, 2.0, 4.0])
def test_pme_solves_porous_medium_equation_away_from_front(m):
    rng = np.random.default_rng(2)
    t = rng.uniform(0.4, 1.0, 10)
    x = t - rng.uniform(0.05, 0.3, 10)  # behind the front x* = t
    res = _residual(pme_exact_solution, lambda u: u**m, m, t, x, h=1e-4)
    np.testing.assert_allclose(res, 0, atol=1e-4)


def test_stefan_solves_heat_equation_behind_front_and_is_zero_ahead():
    u_star = 0.6
    alpha = stefan_alpha(u_star)[0]
    t = np.array([0.02, 0.05, 0.08])
    x = 0.5 * alpha * np.sqrt(t)
    res = _residual(stefan_exact_solution, lambda u: np.ones_like(u), u_star, t, x, h=1e-4)
    np.testing.assert_allclose(res, 0, atol=1e-3)
    ahead = stefan_exact_solution(u_star, t, [0.9])
    assert np.all(ahead == 0)


def test_stefan_front_value_is_u_star():
    """Behind the front u -> u* as x -> x*(t) (the melting value)."""
    for u_star in (0.55, 0.6, 0.7):
        a = stefan_alpha(u_star)[0]
        t = 0.05
        u = stefan_exact_solution(u_star, [t], [a * np.sqrt(t) * (1 - 1e-12)])
        np.testing.assert_allclose(u[0, 0, 0], u_star, rtol=1e-8)


def test_stefan_alpha_paper_value():
    np.testing.assert_allclose(stefan_alpha(0.6), 1.0513, atol=1e-4)
    assert np.all(np.diff(stefan_alpha([0.55, 0.6, 0.65, 0.7])) < 0)


@pytest.mark.parametrize("problem", ["diffusion", "pme", "stefan"])
def test_trapezoid_mass_converges_to_closed_form(problem):
    spec = PROBLEMS[problem]
    params = np.array(spec.test_values)
    t = np.array([spec.eval_time])
    errors = []
    for n_x in (101, 401, 1601):
        x = np.linspace(*spec.x_domain, n_x)
        u = exact_solution(problem, params, t, x)
        errors.append(np.max(np.abs(total_mass(u, x) - exact_total_mass(problem, params, t))))
    if problem == "diffusion":
        assert errors[-1] < 1e-12
    else:
        assert errors[-1] < errors[0] and errors[-1] < 2e-3


def test_pme_total_mass_closed_form():
    m, t = 3.0, 0.5
    expected = m ** (1 + 1 / m) / (m + 1) * t ** (1 + 1 / m)
    np.testing.assert_allclose(exact_total_mass("pme", [m], [t]), [[expected]])


def test_shapes_and_vectorisation():
    x = np.linspace(0, 1, 7)
    t = np.linspace(0, 0.1, 5)
    u = stefan_exact_solution([0.55, 0.6, 0.7], t, x)
    assert u.shape == (3, 5, 7)
    one = stefan_exact_solution([0.6], t, x)
    np.testing.assert_array_equal(u[1], one[0])


def test_front_positions():
    np.testing.assert_allclose(front_position("pme", [2.0], [0.3]), [[0.3]])
    np.testing.assert_allclose(
        front_position("stefan", [0.6], [0.04]), [[1.0513396 * 0.2]], rtol=1e-6
    )
    with pytest.raises(DataError, match="no front"):
        front_position("diffusion", [1.0], [0.5])


def test_trapezoid_weights_integrate_linear_exactly():
    x = np.sort(np.random.default_rng(0).uniform(0, 1, 20))
    w = trapezoid_weights(x)
    np.testing.assert_allclose(w @ (3 * x + 1), 1.5 * (x[-1] ** 2 - x[0] ** 2) + (x[-1] - x[0]))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: stefan_alpha(1.2), "u_star must lie"),
        (lambda: pme_exact_solution([np.nan], [0.1], [0.1]), "non-finite"),
        (lambda: diffusion_exact_solution([1.0], [-1.0], [0.0]), "t must be >= 0"),
        (lambda: trapezoid_weights([0.0, 0.0, 1.0]), "strictly increasing"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(DataError, match=match):
        call()


def test_unknown_problem():
    with pytest.raises(UnknownNameError, match="stefan"):
        exact_solution("stefen", [0.6], [0.1], [0.1])
