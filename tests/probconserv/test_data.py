"""Context/target sampling of the GPME problems."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError, UnknownNameError
from sciml.gpme import exact_solution, exact_total_mass, get_problem, total_mass
from sciml.probconserv import make_test_set, make_training_set, normalise_inputs, sample_points


@pytest.mark.parametrize("problem", ["diffusion", "pme", "stefan"])
def test_context_is_stratified_in_t_and_sorted_in_x(problem):
    spec = get_problem(problem)
    inputs, values = sample_points(problem, [spec.train_range[0], spec.train_range[1]], 10, 10, seed=0)
    assert inputs.shape == (2, 100, 2) and values.shape == (2, 100)
    t = inputs[..., 0].reshape(2, 10, 10)[:, :, 0]
    x = inputs[..., 1].reshape(2, 10, 10)[:, 0, :]
    edges = np.linspace(*spec.t_domain, 11)
    assert np.all((t >= edges[:-1]) & (t <= edges[1:]))  # one draw per stratum
    assert np.all(np.diff(x, axis=-1) >= 0)
    assert np.all((x >= spec.x_domain[0]) & (x <= spec.x_domain[1]))
    # values are the exact solution at those points
    u = exact_solution(problem, [spec.train_range[1]], t[1], x[1])[0]
    np.testing.assert_allclose(values[1].reshape(10, 10), u)


def test_training_set_seeded_and_in_range():
    a = make_training_set("stefan", 6, seed=4)
    b = make_training_set("stefan", 6, seed=4)
    c = make_training_set("stefan", 6, seed=5)
    np.testing.assert_array_equal(a.x_context, b.x_context)
    np.testing.assert_array_equal(a.y_target, b.y_target)
    assert not np.array_equal(a.x_context, c.x_context)
    lo, hi = get_problem("stefan").train_range
    assert np.all((a.param >= lo) & (a.param <= hi)) and len(a) == 6


def test_training_parameters_beta_on_the_range():
    lo, hi = get_problem("pme").train_range
    # a = 1 is the uniform draw (the same stream as before the option existed)
    uni = make_training_set("pme", 50, seed=3)
    np.testing.assert_array_equal(uni.param, np.random.default_rng(3).uniform(lo, hi, size=50))
    np.testing.assert_array_equal(make_training_set("pme", 50, seed=3, param_beta=1.0).param, uni.param)
    # a = 0.5: the arcsine law on [lo, hi]; P(s < 0.1) = (2 / pi) arcsin(sqrt(0.1)) on each edge
    n = 4000
    s = (make_training_set("pme", n, seed=0, n_context_t=1, n_context_x=1, n_target_t=1,
                           n_target_x=1, param_beta=0.5).param - lo) / (hi - lo)  # fmt: skip
    assert np.all((s >= 0) & (s <= 1))
    p = 2 / np.pi * np.arcsin(np.sqrt(0.1))
    se = np.sqrt(p * (1 - p) / n)
    for frac in ((s < 0.1).mean(), (s > 0.9).mean()):
        assert abs(frac - p) < 4 * se  # 0.205 vs 0.1 for the uniform draw
    with pytest.raises(DataError, match="param_beta"):
        make_training_set("pme", 2, seed=0, param_beta=0.0)


def test_test_set_grid_and_mass():
    ts = make_test_set("pme", 3.0, n_functions=4, n_t=11, n_x=21, seed=0)
    assert ts.u.shape == (11, 21) and ts.mass.shape == (11,) and ts.x_context.shape == (4, 100, 2)
    np.testing.assert_allclose(ts.mass, exact_total_mass("pme", [3.0], ts.t)[0])
    np.testing.assert_allclose(ts.g @ ts.u.T, total_mass(ts.u, ts.x))
    assert ts.grid_inputs.shape == (11 * 21, 2)
    # precomputed grid is used as given
    other = make_test_set("pme", 3.0, 4, 11, 21, seed=0, grid=(ts.t, ts.x, ts.u * 0 + 1, ts.mass))
    assert np.all(other.u == 1)


def test_normalised_inputs_in_unit_square():
    ts = make_test_set("diffusion", 1.0, n_functions=1, n_t=5, n_x=7, seed=0)
    z = normalise_inputs("diffusion", ts.grid_inputs)
    assert z.dtype == np.float32 and z.min() == 0.0 and z.max() == pytest.approx(1.0)


def test_bad_inputs():
    with pytest.raises(DataError, match="finite"):
        sample_points("pme", [np.nan], 2, 2, seed=0)
    with pytest.raises(DataError, match=">= 1"):
        make_training_set("pme", 0, seed=0)
    with pytest.raises(DataError, match="last axis"):
        normalise_inputs("pme", np.zeros((3, 3)))
    with pytest.raises(DataError, match="NaN"):
        normalise_inputs("pme", np.full((3, 2), np.nan))
    with pytest.raises(DataError, match="grid must be"):
        make_test_set("pme", 1.0, 1, 5, 5, seed=0, grid=(np.zeros(5), np.zeros(5), np.zeros(5), 0))
    with pytest.raises(UnknownNameError, match="stefan"):
        make_training_set("stefn", 2, seed=0)
