"""Batched integrators: order on closed forms, batching, grouping, stiff/map/DDE/SDE paths,
divergence detection."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sciml.chaos import get_system
from sciml.chaos.integrate import (
    integrate,
    iterate_map,
    solve_dde,
    solve_ode,
    solve_sde,
    solve_stiff,
)
from sciml.errors import DataError, DivergenceError


def _logistic_rot(y, p=None):
    """Logistic growth in y0 and a rotation in (y1, y2): closed forms below."""
    return np.stack([y[:, 0] * (1 - y[:, 0]), y[:, 2], -y[:, 1]], axis=1)


def _exact(t, y0=0.1):
    return np.stack([1 / (1 + (1 / y0 - 1) * np.exp(-t)), np.sin(t), np.cos(t)], axis=-1)


Y0 = np.array([[0.1, 0.0, 1.0]])


@pytest.mark.parametrize(("method", "order", "dense_order"), [("DOP853", 8, 7), ("RK45", 5, 4)])
def test_fixed_step_reaches_order(method, order, dense_order):
    errs, derrs = [], []
    hs = [0.4, 0.2] if method == "DOP853" else [0.2, 0.1]
    for h in hs:
        t_end = np.array([0.0, 4.0])
        r = solve_ode(_logistic_rot, Y0, t_end, method=method, fixed_step=h)
        errs.append(np.abs(r.y[0, -1] - _exact(4.0)).max())
        # dense output at off-step points
        t_mid = np.array([0.0, 0.37 * h, 4.0 - 0.61 * h])
        rd = solve_ode(_logistic_rot, Y0, t_mid, method=method, fixed_step=h)
        derrs.append(np.abs(rd.y[0, 1:] - _exact(t_mid[1:])).max())
    rate = np.log2(errs[0] / errs[1])
    drate = np.log2(derrs[0] / derrs[1])
    assert rate > order - 0.5, (errs, rate)
    assert drate > dense_order - 0.7, (derrs, drate)


def test_adaptive_meets_tolerance_and_matches_closed_form():
    t = np.linspace(0, 6, 61)
    for tol in (1e-6, 1e-10):
        r = solve_ode(_logistic_rot, Y0, t, rtol=tol, atol=tol)
        assert np.abs(r.y[0] - _exact(t)).max() < 200 * tol
    assert r.n_steps[0] > 0 and r.status[0] == 0


def test_batched_equals_one_at_a_time():
    s = get_system("Lorenz")
    rng = np.random.default_rng(0)
    ics = s.ic + rng.normal(scale=0.5, size=(4, 3))
    ps = s.params * (1 + 0.02 * rng.normal(size=(4, 3)))
    t = np.linspace(0, 2.0, 101)
    batch = solve_ode(s.rhs, ics, t, ps).y
    for i in range(4):
        one = solve_ode(s.rhs, ics[i], t, ps[i]).y[0]
        np.testing.assert_allclose(batch[i], one, rtol=1e-9, atol=1e-9)


def test_systems_of_same_dimension_in_one_call():
    a, b = get_system("Lorenz"), get_system("Rossler")
    t = np.linspace(0, 1.0, 21)
    ics = np.stack([a.ic, a.ic * 1.01, b.ic, b.ic * 1.01])
    both = integrate([a, b], ics, t)
    np.testing.assert_allclose(both.y[:2], integrate(a, ics[:2], t).y, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(both.y[2:], integrate(b, ics[2:], t).y, rtol=1e-9, atol=1e-9)


def test_stiff_path_agrees_with_explicit():
    s = get_system("Lorenz")
    t = np.linspace(0, 1.0, 11)
    a = solve_stiff(s.rhs, s.jac, s.ic, t, rtol=1e-10, atol=1e-10).y
    b = solve_ode(s.rhs, s.ic, t, rtol=1e-10, atol=1e-10).y
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    c = integrate(s, s.ic[None], t, method="BDF", rtol=1e-10, atol=1e-10).y
    np.testing.assert_allclose(c, b, rtol=1e-5, atol=1e-5)


def test_divergence_detected_dropped_and_raised():
    def blow(y, p=None):
        return y * y  # y(t) = y0 / (1 - y0 t): blows up at t = 1/y0

    t = np.linspace(0, 1.5, 16)
    r = solve_ode(blow, np.array([[1.0], [0.1]]), t)
    assert r.status.tolist()[0] != 0 and r.status[1] == 0
    assert np.all(np.isnan(r.y[0])) and np.all(np.isfinite(r.y[1]))
    assert "trajectory 0" in r.diverged_report()[0]
    with pytest.raises(DivergenceError, match="diverged"):
        solve_ode(blow, np.array([[1.0], [2.0]]), t)
    with pytest.raises(DivergenceError):
        iterate_map(lambda x, p: x * x, np.array([[3.0]]), 50)
    with pytest.raises(DataError, match="non-finite"):
        solve_ode(blow, np.array([[np.nan]]), t)


def test_map_iteration_matches_loop():
    s = get_system("Henon")
    r = iterate_map(s.rhs, s.ic, 20).y[0]
    x = s.ic.copy()
    for k in range(20):
        np.testing.assert_allclose(r[k], x)
        x = s.rhs(x)


def test_dde_matches_method_of_steps_closed_form():
    # x'(t) = -x(t - 1), history 1 on [-1, 0]:  x = 1 - t on [0, 1],
    # x = 1 - t + (t - 1)^2 / 2 on [1, 2]
    t = np.linspace(0, 2, 41)
    r = solve_dde(lambda x, xd, p: -xd, np.array([[1.0]]), t, 1.0, steps_per_delay=50)
    exact = np.where(t <= 1, 1 - t, 1 - t + (t - 1) ** 2 / 2)
    np.testing.assert_allclose(r.y[0, :, 0], exact, atol=1e-6)


def test_sde_noise_scaled_by_coordinate_std():
    zero = lambda x, p: np.zeros_like(x)  # noqa: E731
    sigma = np.array([1.0, 3.0])
    r = solve_sde(zero, np.zeros((4000, 2)), np.array([0.0, 1.0]), noise=0.5, noise_scale=sigma,
                  max_dt=0.1, seed=1)
    std = r.y[:, -1].std(axis=0)
    np.testing.assert_allclose(std, 0.5 * sigma, rtol=0.06)
    again = solve_sde(zero, np.zeros((4000, 2)), np.array([0.0, 1.0]), noise=0.5,
                      noise_scale=sigma, max_dt=0.1, seed=1)
    np.testing.assert_array_equal(r.y, again.y)


def test_integrate_dispatches_on_kind():
    toy = SimpleNamespace(kind="flow", stiff=True, rhs=_logistic_rot, jac=None)
    t = np.linspace(0, 1, 5)
    r = integrate(toy, Y0, t, rtol=1e-10, atol=1e-10)
    assert r.info["method"] == "Radau"
    np.testing.assert_allclose(r.y[0], _exact(t), atol=1e-7)


def test_dde_converges_at_fourth_order_on_mackey_glass():
    s = get_system("MackeyGlass")
    t = np.linspace(0, 3 * s.delay, 31)
    ref = solve_dde(s.rhs, s.ic[None], t, s.delay, steps_per_delay=1024).y
    e32 = np.abs(solve_dde(s.rhs, s.ic[None], t, s.delay, steps_per_delay=32).y - ref).max()
    e64 = np.abs(solve_dde(s.rhs, s.ic[None], t, s.delay, steps_per_delay=64).y - ref).max()
    assert e32 / e64 > 8  # order >= 3 (4 expected)
