"""The whole LightSB recipe on the tiny settings: the catalog's datasets, reproducible, exact."""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pytest

from sciml.catalog import Catalog
from sciml.errors import ConfigError, DataError
from sciml.schrodinger import plots
from sciml.schrodinger.data import make_clouds, make_gaussian_pair, make_mixture_pair
from sciml.schrodinger.experiment import (
    METRICS,
    PAIRS,
    TRAJECTORIES,
    LightSBConfig,
    cell_seeds,
    example_seeds,
    fit_cell,
    grid,
    make_pairs,
    metrics_table,
    model_metrics,
    pack_states,
    retrain_cell,
    run,
    run_cell,
    simulate_examples,
    unpack_states,
    validation_metrics,
    validation_seed,
)
from sciml.schrodinger.metrics import score_plan
from sciml.schrodinger.model import LightSB

pytestmark = pytest.mark.xdist_group("schrodinger-experiment")  # one worker builds the module fixture

_TINY = LightSBConfig.for_profile("tiny")


@pytest.fixture(scope="module")
def datasets():
    return run(_TINY)


@pytest.fixture(scope="module")
def cells_2d(datasets):
    """The D = 2 cells of the tiny grid, fitted on the run's pairs."""
    return [fit_cell(_TINY, d, e, s, datasets[PAIRS]) for d, e, s in grid(_TINY) if d == 2]


def test_run_returns_what_the_catalog_declares(datasets, tmp_path):
    cat = Catalog.load(data_dir=tmp_path)
    user = {n for n in cat.list() if n.startswith("lightsb/user_")}  # runs on your own clouds
    expected = {n for n in cat.list() if n.startswith("lightsb/")} - {"lightsb/retrain_history"} - user
    assert set(datasets) == expected == {PAIRS, METRICS, TRAJECTORIES}
    for name, ds in datasets.items():
        cat.validate(name, ds)  # raises SchemaError naming what is off
    met = datasets[METRICS]
    assert dict(met.cbw2_uvp.sizes) == {"dim": 2, "eps": 2, "seed": 1}
    assert np.isfinite(met.cbw2_uvp.values).all()  # values: see the reproduction test below


def test_same_settings_give_the_same_arrays(datasets):
    again = run(_TINY)
    for name, ds in datasets.items():
        for var in ds.variables:
            if var.endswith("_seconds"):  # wall-clock time
                continue
            np.testing.assert_array_equal(again[name][var].values, ds[var].values,
                                          err_msg=f"{name}::{var}")


def test_stored_cell_parameters_reproduce_the_scores(datasets, cells_2d):
    met = datasets[METRICS]
    for cell in cells_2d:
        stored = float(met.cbw2_uvp.sel(dim=cell.dim, eps=cell.eps, seed=cell.seed))
        assert cell.scores["cbw2_uvp"] == stored  # the run's cell, refitted: same seeds, same fit
        # the packed model version rebuilds the same plan, scored on the cell's own test points
        state = unpack_states(pack_states(cells_2d))[f"d2/eps{cell.eps:g}/seed{cell.seed}"]
        pair = make_mixture_pair(2, cell.eps, seed=_TINY.pair_seed)
        model = LightSB.from_state_dict(state)
        rescored = score_plan(model, pair, n_test=_TINY.n_test,
                              seed=cell_seeds(2, cell.eps, cell.seed).score)
        assert rescored["cbw2_uvp"] == pytest.approx(stored, rel=1e-12)
    metrics = model_metrics(cells_2d)
    assert metrics["max_cbw2_uvp"] == max(c.scores["cbw2_uvp"] for c in cells_2d)


def test_validation_score_is_deterministic_and_not_on_the_test_points(datasets):
    pairs = datasets[PAIRS]
    cell = retrain_cell(_TINY, pairs)  # retrain_dim 2, retrain_eps 1
    a, b = validation_metrics(_TINY, cell.state, pairs), validation_metrics(_TINY, cell.state, pairs)
    assert a == b and a["score"] == a["val_cbw2_uvp"]
    pair = make_mixture_pair(2, 1.0, seed=_TINY.pair_seed)
    on_val = score_plan(cell.model(), pair, n_test=_TINY.n_test, seed=validation_seed(2, 1.0, _TINY.seed))
    assert a["val_cbw2_uvp"] == pytest.approx(on_val["cbw2_uvp"], rel=1e-12)
    assert a["val_cbw2_uvp"] != cell.scores["cbw2_uvp"]  # the test points give another number
    # the initial parameters of the fit score worse than the fitted ones
    init = LightSB(2, _TINY.n_components, 1.0).state_dict()
    assert validation_metrics(_TINY, init, pairs)["score"] > 2.0 * a["score"]


def test_validation_rejects_a_state_of_another_cell(datasets, cells_2d):
    pairs = datasets[PAIRS]
    eps01 = next(c for c in cells_2d if c.eps == 0.1)
    with pytest.raises(DataError, match="dim=2, eps=0.1; the retrain cell is dim=2, eps=1"):
        validation_metrics(_TINY, eps01.state, pairs)
    with pytest.raises(DataError, match="not a LightSB state dict"):
        validation_metrics(_TINY, {"weight": eps01.state["r"]}, pairs)
    with pytest.raises(ConfigError, match="not in the pairs dataset"):
        validation_metrics(_TINY.model_copy(update={"retrain_dim": 16}),
                           LightSB(16, _TINY.n_components, 1.0).state_dict(), pairs)


def test_gaussian_cell_recovers_the_closed_form_plan():
    """Between Gaussians the EOT plan is Gaussian (Janati et al. 2020); one diagonal component
    represents it exactly, so the fitted plan's cBW2-UVP against the exact conditionals is ~0."""
    pair = make_gaussian_pair(2, 1.0, seed=0, diagonal=True)
    scores, state = run_cell(2, 1.0, seed=0, pair=pair, n_train=20_000, n_test=500,
                             n_components=1, n_steps=400, batch_size=256)
    assert scores["cbw2_uvp"] < 0.1 and scores["bw2_uvp"] < 0.1, scores
    assert state["r"].shape == (1, 2)


def test_trajectories_start_at_the_source_points(datasets):
    traj = datasets[TRAJECTORIES]
    assert set(traj.example.values) == {"pair_d2_eps0.1", "pair_d2_eps1", "swiss_roll"}
    np.testing.assert_array_equal(traj.t.values, np.linspace(0.0, 1.0, _TINY.traj_steps + 1))
    source, target = make_clouds(_TINY.clouds_n, seed=example_seeds(_TINY).clouds)
    roll = traj.sel(example="swiss_roll")
    np.testing.assert_array_equal(roll.path.isel(t=0).values, source[: _TINY.n_traj])
    np.testing.assert_array_equal(roll.target.values, target[: _TINY.n_traj])
    assert float(roll.eps) == _TINY.clouds_eps


def test_figures_by_name(datasets, cells_2d):
    figs = plots.figures(simulate_examples(_TINY, datasets[PAIRS], cells_2d))
    assert list(figs) == ["samples_pair_d2_eps0.1", "samples_pair_d2_eps1",
                          "trajectories_pair_d2_eps0.1", "trajectories_pair_d2_eps1",
                          "trajectories_swiss_roll"]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs.values())
    import matplotlib.pyplot as plt

    for f in figs.values():
        plt.close(f)


def test_metrics_table_is_the_mean_over_seeds(datasets):
    table = metrics_table(datasets[METRICS])
    assert list(table.columns) == ["dim", "eps", "cbw2_uvp", "bw2_uvp", "fit_seconds"]
    assert len(table) == 4 and table.notna().all().all()


def test_seeds_are_derived_from_the_settings():
    cfg = LightSBConfig(seed=3, n_seeds=2)
    assert cfg.seeds() == [3, 4]
    assert grid(cfg)[:2] == [(2, 0.1, 3), (2, 0.1, 4)] and len(grid(cfg)) == 2 * 3 * 2
    draws = {tuple(cell_seeds(d, e, s).draws) for d, e, s in grid(cfg)}
    assert len(draws) == len(grid(cfg))  # every cell draws its own training set
    assert cell_seeds(2, 1.0, 3) == ([3, 2, 1000], 3, 10_003)
    assert example_seeds(cfg) == (3, 0, 3, 3, 3)
    # the validation points of a cell are a stream of their own: not its test points' seed
    val = {validation_seed(d, e, s) for d, e, s in grid(cfg)}
    assert len(val) == len(grid(cfg)) and not val & {cell_seeds(d, e, s).score for d, e, s in grid(cfg)}


def test_bad_settings_raise_clear_errors(datasets):
    with pytest.raises(ValueError, match="dims needs at least one value"):
        LightSBConfig(dims=())
    with pytest.raises(ValueError, match="epsilons"):
        LightSBConfig(epsilons=(1.0, -1.0))
    with pytest.raises(ConfigError, match="unknown profile 'huge'"):
        LightSBConfig.for_profile("huge")
    with pytest.raises(ValueError, match="n_stepz"):
        LightSBConfig(n_stepz=10)
    with pytest.raises(ConfigError, match=r"cell \(dim=16, eps=1.0\) is not in the pairs"):
        fit_cell(_TINY, 16, 1.0, 0, datasets[PAIRS])


def test_pair_frames_rotated_by_default_axis_aligned_by_name(datasets):
    rotated = datasets[PAIRS]
    assert _TINY.pair_frames == "rotated" and rotated.attrs["pair_frames"] == "rotated"
    covs = rotated.potential_covs.sel(dim=3).isel(axis=slice(0, 3), axis2=slice(0, 3)).values
    off = covs - np.einsum("...ii->...i", covs)[..., None] * np.eye(3)
    assert np.abs(off).max() > 0.05  # the plan components are not axis-aligned
    flat = _TINY.model_copy(update={"pair_frames": "axis_aligned"})
    aligned = make_pairs(flat)
    covs = aligned.potential_covs.sel(dim=3).isel(axis=slice(0, 3), axis2=slice(0, 3)).values
    np.testing.assert_array_equal(covs, np.einsum("...ii->...i", covs)[..., None] * np.eye(3))
    # a cell of one frame is never scored on the pairs of the other
    with pytest.raises(ConfigError, match="holds rotated pairs but pair_frames='axis_aligned'"):
        fit_cell(flat, 2, 1.0, 0, rotated)


def test_data_settings_from_dotted_keys():
    cfg = LightSBConfig.for_profile("tiny", **{"data.source": "a.h5ad", "data.target": "a.h5ad",
                                               "data.target_value": 4, "n_components": 3})
    assert cfg.data.source == "a.h5ad" and cfg.data.target_value == "4" and cfg.n_components == 3
    assert LightSBConfig(data={"source": "a.npy", "target": "b.npy"}).data.eps == 0.1
    with pytest.raises(ValueError, match="data.sourc"):
        LightSBConfig(**{"data.sourc": "a.npy", "data.target": "b.npy"})
