"""Compiled (numba) integrators: same mathematics as the numpy path, closed forms, error paths."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.chaos import generate_many, get_system, solve_ode, solve_sde
from sciml.chaos.integrate import (
    pack_polynomial,
    poly_batch,
    solve_ode_compiled,
    solve_ode_poly,
    solve_sde_poly,
)
from sciml.chaos.polynomial import fit_polynomial
from sciml.chaos.systems import compiled_rhs
from sciml.chaos.systems._compiled import COMPILED_RHS
from sciml.errors import DataError, DivergenceError


def _poly(name, degree=3):
    s = get_system(name)
    coef, _ = fit_polynomial(s.rhs, s.dim, s.ic, max_degree=degree)
    return s, coef


@pytest.mark.parametrize("name", ["Lorenz", "HyperRossler", "Aizawa"])
def test_compiled_dop853_equals_numpy_path(name):
    s, coef = _poly(name, 4)
    y0 = s.ic + 0.01 * np.random.default_rng(0).standard_normal((3, s.dim))
    t = np.linspace(0, s.period, 57)
    ref = solve_ode(s.rhs, y0, t, rtol=1e-9, atol=1e-9)
    got = solve_ode_poly(poly_batch([coef], s.dim), y0, t, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(got.n_steps, ref.n_steps)  # same step sequence
    scale = np.abs(ref.y).max()
    np.testing.assert_allclose(got.y, ref.y, rtol=0, atol=1e-9 * scale)


def test_batched_equals_one_at_a_time_across_systems():
    (s1, c1), (s2, c2) = _poly("Lorenz"), _poly("Rossler")
    pb = poly_batch([c1, c2], 3)
    y0 = np.stack([s1.ic, s2.ic, s1.ic * 1.01])
    t = np.linspace(0, 2.0, 41)
    both = solve_ode_poly(pb, y0, t, np.array([0, 1, 0]))
    np.testing.assert_array_equal(solve_ode_poly(poly_batch([c1], 3), s1.ic, t).y[0],
                                  both.y[0])  # read-only input (the catalogue's ic) accepted
    for i, k in enumerate([0, 1, 0]):
        one = solve_ode_poly(poly_batch([[c1, c2][k]], 3), y0[i], t)
        np.testing.assert_array_equal(both.y[i], one.y[0])


def test_linear_system_meets_closed_form_at_tolerance():
    # harmonic oscillator x' = y, y' = -x as a degree-1 polynomial: exact cos/sin solution
    coef = np.array([[0.0, 0.0], [0.0, -1.0], [1.0, 0.0]])
    t = np.linspace(0, 20, 333)
    exact = np.stack([np.cos(t), -np.sin(t)], axis=1)
    errs = []
    for tol in (1e-6, 1e-9, 1e-12):
        r = solve_ode_poly(poly_batch([coef], 2), [1.0, 0.0], t, rtol=tol, atol=tol)
        errs.append(np.abs(r.y[0] - exact).max())
    assert errs[1] < 1e-7 and errs[2] < 1e-10  # dense output at grid points between steps
    assert errs[0] > errs[1] > errs[2]  # tolerance proportionality


def test_compiled_sde_same_stream_as_numpy():
    s, coef = _poly("Lorenz")
    y0 = np.stack([s.ic, s.ic + 0.1])
    t = np.linspace(0, 0.5, 26)
    ref = solve_sde(s.rhs, y0, t, noise=0.3, noise_scale=[1.0, 2.0, 3.0], max_dt=0.004, seed=5)
    got = solve_sde_poly(poly_batch([coef], 3), y0, t, noise=0.3, noise_scale=[1.0, 2.0, 3.0],
                         max_dt=0.004, seed=5)
    np.testing.assert_allclose(got.y, ref.y, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(COMPILED_RHS))
def test_compiled_rhs_matches_numpy_rhs(name):
    s = get_system(name)
    rng = np.random.default_rng(1)
    fn = compiled_rhs(s)
    assert fn is COMPILED_RHS[name]
    assert fit_polynomial(s.rhs, s.dim, s.ic, max_degree=4) is None  # really not polynomial
    for _ in range(4):
        x = s.ic + np.maximum(np.abs(s.ic), 1.0) * 0.3 * rng.standard_normal(s.dim)
        p = s.params * (1 + 0.05 * rng.standard_normal(s.params.shape))
        out = np.empty(s.dim)
        fn(x, p, out, np.empty(1))
        np.testing.assert_allclose(out, s.rhs(x, p), rtol=1e-13, atol=1e-13)


def test_compiled_rhs_integrates_like_numpy():
    s = get_system("Thomas")
    y0 = s.ic[None] + np.array([[0.0, 0.0, 0.0], [0.01, 0.0, 0.0]])
    t = np.linspace(0, s.period, 30)
    ref = solve_ode(s.rhs, y0, t)
    got = solve_ode_compiled(compiled_rhs(s), y0, t, s.params)
    np.testing.assert_array_equal(got.n_steps, ref.n_steps)
    np.testing.assert_allclose(got.y, ref.y, rtol=0, atol=1e-9)


def test_generate_many_compiled_equals_numpy_path():
    # polynomial flows integrate in the same (period) units on both paths: equal to rounding;
    # Thomas' compiled rhs runs in its own time units, so its 10-period IC transient at tolerance
    # 1e-6 only agrees to that tolerance's global error (its series are checked for sanity)
    systems = [get_system(n) for n in ("Lorenz", "Thomas", "SprottB")]
    fast, _ = generate_many(systems, seed=3, granularities={"coarse": 15})
    slow, _ = generate_many(systems, seed=3, granularities={"coarse": 15}, compiled=False)
    for n in ("Lorenz", "SprottB"):
        np.testing.assert_allclose(fast[n]["ic"], slow[n]["ic"], rtol=1e-6, atol=1e-6)
        # first period of the clean series (chaos amplifies rounding later on); the noisy ones
        # share the random stream, but their noise scale is the std of the whole clean series
        np.testing.assert_allclose(fast[n]["x"][:, 0, 0, :15], slow[n]["x"][:, 0, 0, :15],
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(fast[n]["noise_scale"], slow[n]["noise_scale"], rtol=0.2)
        np.testing.assert_allclose(fast[n]["x"][:, 0, 1, :4], slow[n]["x"][:, 0, 1, :4],
                                   atol=0.05 * np.abs(slow[n]["x"][:, 0, 0]).max())
    np.testing.assert_allclose(fast["Thomas"]["ic"], slow["Thomas"]["ic"], atol=0.02)
    assert np.all(np.isfinite(fast["Thomas"]["x"][:, 0, :, :180]))
    assert fast["Thomas"]["noise_level"] == slow["Thomas"]["noise_level"] == 0.1


def test_error_paths():
    coef = np.zeros((3, 1))
    coef[2, 0] = 1.0  # y' = y^2 blows up at t = 1 from y = 1
    with pytest.raises(DivergenceError, match="diverged"):
        solve_ode_poly(poly_batch([coef], 1), [[1.0]], np.linspace(0, 2, 5))
    with pytest.raises(DataError, match="n_monomials"):
        pack_polynomial(np.zeros((5, 2)), 2)
    pb = poly_batch([coef, coef], 1)
    with pytest.raises(DataError, match="pass `systems`"):
        solve_ode_poly(pb, [[1.0]], [0.0, 0.1])
    with pytest.raises(DataError, match="systems must be"):
        solve_ode_poly(pb, [[1.0]], [0.0, 0.1], np.array([2]))
    with pytest.raises(DataError, match="non-finite"):
        solve_ode_poly(poly_batch([coef], 1), [[np.nan]], [0.0, 0.1])
    with pytest.raises(DataError, match="normals must have shape"):
        solve_sde_poly(poly_batch([coef], 1), [[0.1]], [0.0, 0.1], max_dt=0.05,
                       normals=np.zeros((3, 1, 1)))
    with pytest.raises(DataError, match="strictly increasing"):
        solve_ode_poly(poly_batch([coef], 1), [[0.1]], [0.0, 0.0])
