"""ProbConserv on a user's law: a tiny ANP on constructed solutions, their rows and sigma_G."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sciml.gpme import trapezoid_weights
from sciml.probconserv import UserLaw, user_law_inputs
from sciml.probconserv.experiment import ProbConservConfig
from sciml.probconserv.user_experiment import (
    USER_MODELS,
    _net,
    _predict,
    _seed,
    run_user,
    sample_grid_sets,
    user_champion_compatible,
    user_validation_metrics,
)

pytestmark = pytest.mark.xdist_group("probconserv-user")  # one worker builds the module fixture


def _solutions() -> xr.Dataset:
    """u = exp(-a t) sin(pi x) for 4 values of a on a non-uniform grid, with its mass and first
    moment (exact), the trapezoid rows of both, and sigma_G rising from 0 over t."""
    rng = np.random.default_rng(1)
    x = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 18)]))
    t = np.linspace(0.0, 1.0, 9)
    a = np.array([1.0, 1.3, 1.6, 2.0])
    decay = np.exp(-a[:, None] * t[None, :])
    w = trapezoid_weights(x)
    return xr.Dataset(
        {
            "u": (("function", "t", "x"), decay[..., None] * np.sin(np.pi * x)),
            "b": (("function", "t", "row"), np.stack([2 / np.pi * decay, 1 / np.pi * decay], -1)),
            "G": (("row", "x"), np.stack([w, w * x])),
            "noise": (("t",), np.r_[0.0, 0.0, np.linspace(0.01, 0.05, t.size - 2)]),
        },
        coords={"t": t, "x": x, "row": ["mass", "moment"]},
    )


_LAW = UserLaw(path="memory", total="b", constraint="G", sigma_g="noise", n_steps=15)
_CONFIG = ProbConservConfig.for_profile("tiny", data=_LAW, n_train_functions=16)


@pytest.fixture(scope="module")
def inputs():
    return user_law_inputs(_solutions(), _LAW)


@pytest.fixture(scope="module")
def first(inputs):
    return run_user(_CONFIG, inputs)


def test_grid_sets_are_stratified_in_t_and_distinct_sorted_in_x(inputs):
    u, t, x = inputs.u.values, inputs.t.values, inputs.x.values
    pts, vals = sample_grid_sets(u, t, x, np.array([0, 3, 3]), 3, 5, np.random.default_rng(0))
    assert pts.shape == (3, 15, 2) and vals.shape == (3, 15)
    grid = pts.reshape(3, 3, 5, 2)
    ti = np.searchsorted(t, grid[..., 0, 0])  # one time per block of 3 grid times
    assert np.all(ti // 3 == np.arange(3))
    xs = grid[:, 0, :, 1]
    assert np.all(np.diff(xs, axis=-1) > 0) and np.all(np.isin(xs, x))
    at = np.searchsorted(t, pts[1, :, 0]), np.searchsorted(x, pts[1, :, 1])
    np.testing.assert_array_equal(vals[1], u[3][at])


def test_probconserv_is_the_gaussian_conditioning_of_the_anp_on_the_users_rows(first, inputs):
    """The update of the recipe, checked against the dense conditioning formula with the user's
    G (2 rows), b(t) and per-time sigma_G, at every time of one context draw."""
    _, results, _ = first
    (r,) = results  # the last function is the test function
    f = int(np.flatnonzero(inputs.split.values == "test")[0])
    net = _net(_CONFIG, first[0])
    mean, std = _predict(net, inputs, f, _LAW, _CONFIG.n_test_functions, _CONFIG.n_latent_samples,
                         _seed(_CONFIG.seed, 4_242, 1, 0))  # fmt: skip
    np.testing.assert_array_equal(r.mean[0], mean)
    g, b, sig = inputs.g.values, inputs.total.values[f], inputs.sigma_g.values
    for i in range(inputs.sizes["t"]):
        cov = np.diag(std[0, i] ** 2)
        gain = cov @ g.T @ np.linalg.inv(np.diag(sig[i] ** 2) + g @ cov @ g.T)
        np.testing.assert_allclose(r.mean[1, 0, i], mean[0, i] - gain @ (g @ mean[0, i] - b[i]), atol=1e-12)
        np.testing.assert_allclose(r.std[1, 0, i] ** 2, np.diag(cov - gain @ g @ cov), atol=1e-12)
    hard = sig[:, 0] == 0  # both rows hold exactly where sigma_G = 0, only approximately after
    assert np.abs(r.ce_t[1][:, hard]).max() < 1e-12
    assert np.abs(r.ce_t[1][:, ~hard]).max() > 1e-8
    assert np.abs(r.ce_t[2]).max() < 1e-12  # HardC: every row, always
    assert np.abs(r.ce_t[0]).max() > 1e-3  # the ANP knows no constraint


def test_datasets_are_queryable_by_model_function_and_row(first, inputs):
    _, _, ds = first
    met, pred = ds["probconserv/user/metrics"], ds["probconserv/user/predictions"]
    assert list(met.model.values) == list(USER_MODELS) and list(met.constraint.values) == ["mass", "moment"]
    assert dict(pred["mean"].sizes) == {"model": 3, "function": 1, "context": _CONFIG.n_test_functions,
                                        "t": 9, "x": 20}  # fmt: skip
    np.testing.assert_array_equal(pred.x.values, inputs.x.values)  # the user's non-uniform grid
    profile = pred["mean"].sel(model="ProbConserv-ANP", function=3, t=0.0).isel(context=0)
    assert float(np.abs(profile.values @ inputs.g.values[1] - inputs.total.values[3, 0, 1])) < 1e-6
    curve = met["ce_t"].sel(model="ProbConserv-ANP", constraint="moment", function=3)
    assert curve.dims == ("t",) and float(abs(curve.isel(t=0))) < 1e-12
    np.testing.assert_allclose(met["ce_truth_t"].sel(function=3).values.T,
                               inputs.u.values[3] @ inputs.g.values.T - inputs.total.values[3])  # fmt: skip
    assert met[["mse", "ll", "ce_max"]].to_dataframe().shape[0] == 3 * 2


def test_same_settings_same_arrays_and_a_given_state_is_not_retrained(first, inputs):
    state, _, ds = first
    again = run_user(_CONFIG, inputs)
    for name in ds:
        for var in ds[name].data_vars:
            np.testing.assert_array_equal(again[2][name][var].values, ds[name][var].values, err_msg=var)
    given = run_user(_CONFIG, inputs, state=state)
    name = "probconserv/user/metrics"
    np.testing.assert_array_equal(given[2][name]["mse"], ds[name]["mse"])


def test_validation_uses_the_validation_function_and_ignores_the_training_seed(first, inputs):
    state = first[0]
    a = user_validation_metrics(_CONFIG, state, inputs)
    assert a == user_validation_metrics(_CONFIG.model_copy(update={"seed": 5}), state, inputs)
    assert a["score"] == a["val_mse"] > 0 and a["val_mse_pc"] > 0
    # another validation function gives another score; the test function never counts
    moved = inputs.assign(split=("function", np.array(["train", "val", "train", "test"])))
    assert user_validation_metrics(_CONFIG, state, moved)["score"] != a["score"]
    swapped = inputs.assign(u=inputs.u.where(inputs.split != "test", 0.0))  # change the test function only
    assert user_validation_metrics(_CONFIG, state, swapped) == a


def test_champion_reuse_needs_the_same_settings_and_the_same_data(inputs):
    info = {"config": _CONFIG.model_dump(mode="json")}
    digest = inputs.attrs["content_sha256"]
    assert user_champion_compatible(_CONFIG, info, digest, inputs)
    assert user_champion_compatible(_CONFIG.model_copy(update={"seed": 3}), info, digest, inputs)
    assert not user_champion_compatible(_CONFIG.model_copy(update={"width": 8}), info, digest, inputs)
    longer = _CONFIG.model_copy(update={"data": _LAW.model_copy(update={"n_steps": 99})})
    assert not user_champion_compatible(longer, info, digest, inputs)
    assert not user_champion_compatible(_CONFIG, info, "another digest", inputs)
