"""The constraint on a refined grid: nested grids, the exact marginal, the quadrature it fixes."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.gpme import exact_solution, trapezoid_weights
from sciml.probconserv import evaluate_prediction, make_test_set, probconserv_update
from sciml.probconserv.experiment import ProbConservConfig
from sciml.probconserv.refine import coarse_nodes, refined_grid, refined_update


def test_refined_grids_nest_the_evaluation_grid():
    x = np.array([0.0, 0.1, 0.4, 1.0])  # non-uniform cells are split evenly
    xf = refined_grid(x, 3)
    assert xf.size == 10
    np.testing.assert_array_equal(xf[coarse_nodes(x.size, 3)], x)
    np.testing.assert_allclose(np.diff(xf), np.repeat(np.diff(x) / 3, 3))
    np.testing.assert_array_equal(refined_grid(x, 1), x)
    with pytest.raises(DataError, match="factor must be >= 1"):
        refined_grid(x, 0)
    with pytest.raises(DataError, match="not a grid refined 4 times"):
        refined_update(np.zeros((1, 10)), np.ones((1, 10)), xf, 4, [0.0])


@pytest.mark.parametrize("sigma_g", [0.0, 0.05])
def test_the_mapped_back_posterior_is_the_marginal_of_the_fine_conditioning(sigma_g):
    """Gaussian conditioning on the fine grid, then the submatrix of the evaluation nodes."""
    rng = np.random.default_rng(2)
    x = np.sort(np.r_[0.0, 1.0, rng.uniform(0, 1, 6)])
    xf = refined_grid(x, 4)
    mean, var = rng.normal(size=(2, xf.size)), rng.uniform(0.05, 0.5, size=(2, xf.size))
    b = np.array([0.3, 0.2])
    fine, coarse, proj = refined_update(mean, var, xf, 4, b, sigma_g, nonneg=True)
    nodes = coarse_nodes(x.size, 4)
    gf = trapezoid_weights(xf)
    for i in range(2):
        cov = np.diag(var[i])
        gain = cov @ gf / (sigma_g**2 + gf @ cov @ gf)
        mu = mean[i] - gain * (gf @ mean[i] - b[i])
        post = cov - np.outer(gain, gf @ cov)
        np.testing.assert_allclose(coarse.mean[i], mu[nodes], atol=1e-12)
        np.testing.assert_allclose(coarse.dense((i,)), post[np.ix_(nodes, nodes)], atol=1e-12)
    draws = coarse.sample(100_000, seed=0)[:, 0]
    np.testing.assert_allclose(np.cov(draws.T), coarse.dense((0,)), atol=0.01)
    assert proj.shape == (2, x.size) and np.all(proj >= 0)
    if sigma_g == 0.0:
        np.testing.assert_allclose(fine.mean @ gf, b, atol=1e-12)


@pytest.mark.parametrize(("problem", "value"), [("pme", 6.0), ("stefan", 0.6)])
def test_a_perfect_black_box_moves_less_under_the_refined_constraint(problem, value):
    """The exact solution as mean with an ANP-like std: on the 201-point grid its trapezoid total
    misses U(t) (PME: -1.03e-3, Stefan: +1.45e-3), so the update moves it; on the grid refined
    8x the quadrature error is about 10x smaller and so is the move; ProbConserv's CE on the
    evaluation grid is then the refined truth's, not 0."""
    test = make_test_set(problem, value, 2, 201, 201, seed=0)
    moved, ce = {}, {}
    for r in (1, 8):
        xf = refined_grid(test.x, r)
        u = np.broadcast_to(exact_solution(problem, [value], test.t, xf)[0], (2, test.t.size, xf.size))
        sd = np.where(u > 1e-9, 0.05, 0.003)
        nodes = coarse_nodes(test.x.size, r)
        res = evaluate_prediction(test, (u[..., nodes], sd[..., nodes]), refine=r,
                                  fine_box=(u, sd) if r > 1 else None, n_shock_draws=20, seed=0)  # fmt: skip
        e = res.eval_index
        moved[r] = float(np.abs(res.mean[1, :, e] - test.u[e]).max())
        ce[r] = (float(res.ce_t[1, :, e].mean()), float(u[0, e] @ trapezoid_weights(xf) - test.mass[e]))
        np.testing.assert_array_equal(res.mean[0], u[..., nodes])  # the black box itself is kept
        assert np.abs(res.ce_constraint_t[1]).max() < 1e-12  # G u = U(t) on the constraint's grid
        np.testing.assert_array_equal(res.ce_constraint_t[0], res.ce_t[0])
    assert abs(ce[1][1]) > 1e-3 and abs(ce[8][1]) < 0.15 * abs(ce[1][1])
    assert abs(ce[1][0]) < 1e-12  # the plain update meets U(t) on the evaluation grid
    assert abs(ce[8][0]) > 1e-5  # the refined one meets it on the refined grid
    assert moved[8] < 0.2 * moved[1]


def test_refine_one_is_the_plain_update_and_the_setting_is_per_problem():
    test = make_test_set("stefan", 0.6, 2, 11, 21, seed=0)
    rng = np.random.default_rng(0)
    mean, std = rng.uniform(0, 1, (2, 11, 21)), rng.uniform(0.1, 0.2, (2, 11, 21))
    res = evaluate_prediction(test, (mean, std), refine=1, n_shock_draws=5, seed=0)
    direct = probconserv_update(mean, std**2, test.g, test.mass[None], 0.0)
    np.testing.assert_array_equal(res.mean[1], direct.mean)
    with pytest.raises(DataError, match="needs the black box on the refined grid"):
        evaluate_prediction(test, (mean, std), refine=4, seed=0)
    assert ProbConservConfig(refine=4).refine == dict.fromkeys(ProbConservConfig().problems, 4)
    assert ProbConservConfig(refine={"pme": 8}).refine["pme"] == 8
