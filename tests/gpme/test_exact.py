"""Exact GPME solutions: PDE residuals, conserved totals, Stefan front."""

import numpy as np
import pytest

from sciml.errors import DataError, UnknownNameError
from sciml.gpme import (
    PROBLEMS,
    advection_exact_solution,
    boundary_fluxes,
    burgers_exact_solution,
    diffusion_exact_solution,
    exact_solution,
    exact_total_mass,
    flux,
    front_position,
    pme_exact_solution,
    stefan_alpha,
    stefan_exact_solution,
    total_from_fluxes,
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


@pytest.mark.parametrize("problem", ["diffusion", "pme", "stefan", "advection", "burgers"])
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
        # a jump on a grid node may integrate exactly on the coarse grid (Burgers at 101 points)
        assert errors[-1] < 2e-3 and (errors[-1] < errors[0] or errors[0] < 1e-12)


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


# ----------------------------------------------------------------------------- hyperbolic laws
def test_advection_carries_the_step_along_its_characteristics():
    """u(t, x0 + a t) = u(0, x0) for x0 in the domain; the inflow value 1 behind x = a t."""
    rng = np.random.default_rng(5)
    t, x0 = rng.uniform(0, 1, 12), rng.uniform(0, 1, 12)
    for a in (1.0, 3.0, 5.0):
        x = x0 + a * t
        inside = x <= 1
        carried = np.array([advection_exact_solution([a], [ti], [xi])[0, 0, 0]
                            for ti, xi in zip(t, x, strict=True)])  # fmt: skip
        np.testing.assert_array_equal(carried[inside], (x0 <= 0.5).astype(float)[inside])
    np.testing.assert_array_equal(advection_exact_solution([2.0], [0.4], [0.0, 0.79])[0, 0], [1.0, 1.0])


def test_burgers_ramp_solves_the_pde_and_keeps_values_on_characteristics():
    a = 2.0
    t = np.array([0.1, 0.25, 0.4])  # before breaking (t < 1/a)
    x = np.array([-0.7, -0.3, -0.1])
    # u_t + u u_x = 0 by central differences inside the ramp (a t - 1 < x < 0)
    h = 1e-6
    u = lambda tt, xx: burgers_exact_solution([a], [tt], [xx])[0, 0, 0]  # noqa: E731
    for ti, xi in zip(t, x, strict=True):
        assert a * ti - 1 < xi < 0
        u_t = (u(ti + h, xi) - u(ti - h, xi)) / (2 * h)
        u_x = (u(ti, xi + h) - u(ti, xi - h)) / (2 * h)
        assert abs(u_t + u(ti, xi) * u_x) < 1e-6
    # the characteristic from x0 carries u0 = -a x0: u(t, x0 + u0 t) = u0
    x0 = np.array([-0.9, -0.5, -0.2])
    for ti in t:
        got = [u(ti, xi + (-a * xi) * ti) for xi in x0]
        np.testing.assert_allclose(got, -a * x0, rtol=1e-12)


@pytest.mark.parametrize(
    ("problem", "a", "t"),
    [("burgers", 3.0, 0.5), ("burgers", 1.5, 0.9), ("advection", 1.0, 0.1), ("advection", 3.0, 0.1)],
)
def test_shocks_move_at_the_rankine_hugoniot_speed_and_are_entropic(problem, a, t):
    r"""s = (F(u_L) - F(u_R)) / (u_L - u_R) at the exact front, and F'(u_L) >= s >= F'(u_R)."""
    h = 1e-6
    x_s = front_position(problem, [a], [t])[0, 0]
    ahead, behind = (front_position(problem, [a], [s])[0, 0] for s in (t + h, t - h))
    speed = (ahead - behind) / (2 * h)
    u_l, u_r = exact_solution(problem, [a], [t], [x_s - 1e-9, x_s + 1e-9])[0, 0]
    assert u_l > u_r
    rh = (flux(problem, [a], u_l) - flux(problem, [a], u_r)) / (u_l - u_r)
    np.testing.assert_allclose(speed, rh, rtol=1e-6)
    np.testing.assert_allclose(speed, a / 2 if problem == "burgers" else a, rtol=1e-6)
    if problem == "burgers":
        assert u_l > speed > u_r  # Lax: characteristics run into the shock


def test_burgers_front_before_breaking_is_the_foot_of_the_ramp():
    np.testing.assert_allclose(front_position("burgers", [1.0, 3.0], [0.5]), [[0.0], [0.25]])
    u = burgers_exact_solution([1.0], [0.5], [-1e-9, 1e-9])[0, 0]
    assert u[0] > 0 and u[1] == 0


@pytest.mark.parametrize(("problem", "a"), [("advection", 1.0), ("advection", 3.0), ("burgers", 1.0),
                                            ("burgers", 4.0)])  # fmt: skip
def test_total_mass_is_the_boundary_flux_integral(problem, a):
    """U(t) = U(0) + int_0^t (F(u(s, x_0)) - F(u(s, x_1))) ds; Burgers a = 4 lets the shock leave
    through x = 1 at t = 3/4, advection a = 3 the jump at t = 1/6."""
    t = np.linspace(0.0, 1.0, 20_001)
    left, right = boundary_fluxes(problem, [a], t)
    u0 = exact_total_mass(problem, [a], [0.0])[0]
    from_fluxes = total_from_fluxes(t, left, right, u0)
    exact = exact_total_mass(problem, [a], t)
    np.testing.assert_allclose(from_fluxes, exact, atol=a * a * (t[1] - t[0]))
    start = 0.5 if problem == "advection" else a / 2
    np.testing.assert_allclose(exact_total_mass(problem, [a], [0.0]), [[start]])


def test_hyperbolic_inputs_are_checked():
    with pytest.raises(DataError, match="speed parameter a must be > 0"):
        burgers_exact_solution([0.0], [0.1], [0.0])
    with pytest.raises(DataError, match="not hyperbolic"):
        flux("pme", [2.0], [0.1])
