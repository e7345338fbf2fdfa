"""End-to-end evaluation on a tiny model and the xarray datasets built from it."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.gpme import stefan_alpha
from sciml.probconserv import (
    MODELS,
    evaluate_param,
    evaluate_prediction,
    make_test_set,
    predict_on_grid,
)
from sciml.probconserv.datasets import to_dataset
from sciml.probconserv.experiment import (
    ProbConservConfig,
    evaluate_problem,
    evaluation_seed,
    new_anp,
    train_problem,
)

pytestmark = pytest.mark.xdist_group("test_evaluate")  # one worker builds the module fixtures

_CONFIG = ProbConservConfig.for_profile(
    "tiny", problems=("stefan",), n_steps=20, softc_steps=2, n_test_functions=3, n_shock_draws=40,
    nonneg=False,
)


@pytest.fixture(scope="module")
def states():
    return train_problem("stefan", _CONFIG)


@pytest.fixture(scope="module")
def nets(states):
    anp, softc = new_anp(_CONFIG, 0), new_anp(_CONFIG, 0)
    anp.load_state_dict(states["anp"])
    softc.load_state_dict(states["softc"])
    return anp, softc


@pytest.fixture(scope="module")
def results(states, nets):
    anp, softc = nets
    out = evaluate_problem("stefan", states, _CONFIG)
    test = make_test_set("diffusion", 1.0, 3, 11, 21, seed=0)
    out.append(evaluate_param(test, anp, softc, n_latent_samples=2, n_shock_draws=40, seed=0))
    return out


def test_probconserv_conserves_while_anp_does_not(results):
    for r in results:
        i_pc, i_anp = r.models.index("ProbConserv-ANP"), r.models.index("ANP")
        assert np.max(np.abs(r.ce_t[i_pc])) < 1e-10
        assert np.max(np.abs(r.ce_t[r.models.index("HardC-ANP")])) < 1e-10
        assert np.max(np.abs(r.ce_t[i_anp])) > 1e-4
        assert r.mean.shape == (4, 3, 11, 21) and np.all(r.std >= 0)
    stefan = results[0]
    assert stefan.front_draws.shape == (4, 3, 40)
    assert stefan.front_true == pytest.approx(float(stefan_alpha([0.6])[0]) * np.sqrt(0.05))
    assert np.all((stefan.front_draws >= 0) & (stefan.front_draws <= 1))
    assert results[-1].front_draws is None


def test_evaluation_is_reproducible(states, results):
    again = evaluate_problem("stefan", states, _CONFIG)
    np.testing.assert_array_equal(again[0].mean, results[0].mean)
    np.testing.assert_array_equal(again[1].front_draws, results[1].front_draws)


def test_eval_time_must_be_on_the_grid(nets):
    test = make_test_set("pme", 1.0, 1, 10, 5, seed=0)  # t = k/9: 0.5 is not on the grid
    with pytest.raises(DataError, match="evaluation time"):
        evaluate_param(test, nets[0], None, n_latent_samples=1, n_shock_draws=5)


def test_datasets(results):
    preds = to_dataset(results, "predictions", n_store_functions=2)
    assert preds["mean"].dims == ("model", "problem", "param", "function", "t", "x")
    assert list(preds.model.values) == list(MODELS) and preds.sizes["function"] == 2
    sel = preds.sel(model="ANP", problem="stefan", param=0.6)
    assert np.all(np.isfinite(sel["mean"].values))
    assert np.all(np.isnan(preds.sel(problem="diffusion", param=0.6)["mean"].values))
    np.testing.assert_allclose(preds["x_value"].sel(problem="diffusion")[-1], 2 * np.pi)

    met = to_dataset(results, "metrics")
    df = met[["mse", "ce", "ll"]].to_dataframe().dropna()
    assert len(df) == 4 * 3  # 4 models x (2 stefan + 1 diffusion) cells
    pc = met.sel(model="ProbConserv-ANP", problem="stefan", param=0.6)
    assert abs(float(pc.ce)) < 1e-10 and float(pc.mse_se) >= 0
    assert met["ce_t"].dims == ("model", "problem", "param", "t")

    shock = to_dataset(results, "shock")
    assert list(shock.problem.values) == ["stefan"]
    assert shock["front"].dims == ("model", "problem", "param", "function", "draw")
    err = shock["front_error"].sel(model="ANP", problem="stefan", param=0.5)
    assert np.isfinite(float(err)) and 0 <= float(shock["front_coverage"].max()) <= 1
    with pytest.raises(DataError, match="kind"):
        to_dataset(results, "other")


def test_nonneg_postprocessing(nets, results):
    """Every model's mean is projected onto u >= 0; ProbConserv and HardC stay conservative; the
    ANP and SoftC means are clipped; diffusion (u of both signs) is left alone."""
    anp, softc = nets
    raw = results[0]
    sub = evaluation_seed(_CONFIG, "stefan", 0)
    test = make_test_set("stefan", 0.6, 3, 11, 21, seed=sub)
    nn = evaluate_param(test, anp, softc, n_latent_samples=2, n_shock_draws=40, nonneg=True, seed=sub)
    assert np.all(nn.mean >= 0) and np.any(raw.mean < 0)
    for m in ("ANP", "SoftC-ANP"):
        i = nn.models.index(m)
        np.testing.assert_array_equal(nn.mean[i], np.maximum(raw.mean[i], 0))
        np.testing.assert_array_equal(nn.front_draws[i], raw.front_draws[i])  # clipping keeps u <= 0
    for m in ("ProbConserv-ANP", "HardC-ANP"):
        assert np.max(np.abs(nn.ce_t[nn.models.index(m)])) < 1e-10
    np.testing.assert_array_equal(nn.std, raw.std)
    diff = make_test_set("diffusion", 1.0, 3, 11, 21, seed=0)
    kw = dict(n_latent_samples=2, n_shock_draws=40, seed=0)
    np.testing.assert_array_equal(evaluate_param(diff, anp, softc, nonneg=True, **kw).mean, results[-1].mean)


def test_evaluate_prediction_matches_evaluate_param(nets, results):
    """Scoring the ANP's own prediction reproduces evaluate_param (same seed, same draws)."""
    anp, softc = nets
    sub = evaluation_seed(_CONFIG, "stefan", 0)
    test = make_test_set("stefan", 0.6, 3, 11, 21, seed=sub)
    seeds = np.random.SeedSequence([sub, 7]).generate_state(3)
    box = predict_on_grid(anp, test, 2, int(seeds[0]))
    soft = predict_on_grid(softc, test, 2, int(seeds[1]))
    r = evaluate_prediction(test, box, soft, n_shock_draws=40, seed=sub)
    np.testing.assert_array_equal(r.mean, results[0].mean)
    np.testing.assert_array_equal(r.front_draws, results[0].front_draws)
    with pytest.raises(DataError, match="mean and std"):
        evaluate_prediction(test, (box[0][:, :, :-1], box[1][:, :, :-1]))
    with pytest.raises(DataError, match="std positive"):
        evaluate_prediction(test, (box[0], np.zeros_like(box[1])))


@pytest.mark.parametrize(("problem", "param"), [("pme", 6.0), ("stefan", 0.6)])
def test_update_of_the_grid_truth_moves_by_the_sign_of_its_quadrature_error(problem, param):
    """A perfect black box (the exact solution on the grid) misses G u = U(t) by the trapezoid
    rule's error at the front (NOTES.md): under-counted at the PME front (vertical tangent on a
    node), over-counted at this Stefan front (x* just right of a node). With a diagonal covariance
    the update shifts every point by sigma_i^2 g_i (U - G u) / (G Sigma G^T): mass is added
    everywhere for PME, removed everywhere for Stefan, and the exact-on-the-grid mean gets worse."""
    test = make_test_set(problem, param, 2, 201, 201, seed=0)
    truth = np.broadcast_to(test.u, (2, *test.u.shape))
    std = np.full(truth.shape, 0.01)
    r = evaluate_prediction(test, (truth, std), n_shock_draws=10, seed=0)
    e = r.eval_index
    ce = float(r.ce_truth_t[e])
    assert (ce < -5e-4) if problem == "pme" else (ce > 5e-4)
    shift = r.mean[r.models.index("ProbConserv-ANP"), :, e] - truth[:, e]
    np.testing.assert_allclose(shift, np.broadcast_to(-ce * test.g / np.sum(test.g**2), shift.shape),
                               rtol=1e-9, atol=1e-15)  # fmt: skip
    assert np.all(r.mse_t[0, :, e] == 0) and np.all(r.mse_t[1, :, e] > 0)
