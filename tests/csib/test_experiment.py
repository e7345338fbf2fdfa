"""The whole CS-IB recipe in one call: the catalog's datasets, reproducible cells, the retraining score."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sciml.catalog import Catalog
from sciml.csib import plots
from sciml.csib.data import DATASETS
from sciml.csib.experiment import (
    BETA_FREE,
    Cell,
    CSIBConfig,
    build_net,
    grid,
    load_split,
    metrics_table,
    prepare_inputs,
    run,
    run_cell,
    train_challenger,
    validation_metrics,
)
from sciml.errors import ConfigError, DataError, UnknownNameError

pytestmark = pytest.mark.xdist_group("csib-experiment")  # one worker builds the module fixture

# every shipped dataset (the catalog declares all four), two models, the tiny sizes
_CONFIG = CSIBConfig.for_profile("tiny", datasets=tuple(DATASETS), models=("mse", "csib"))


@pytest.fixture(scope="module")
def datasets():
    return run(_CONFIG)


def test_run_returns_what_the_catalog_declares(datasets, tmp_path):
    cat = Catalog.load(data_dir=tmp_path)
    # csib/table holds a user's table: written only with data settings (tests/csib/test_table.py)
    expected = {n for n in cat.list() if n.startswith("csib/")} - {"csib/retrain_history", "csib/table"}
    assert set(datasets) == expected
    for name, ds in datasets.items():
        cat.validate(name, ds)  # raises SchemaError naming what is off
    met = datasets["csib/metrics"]
    assert dict(met.rmse.sizes) == {"dataset": 4, "model": 2, "beta": 1, "split": 1, "seed": 1}
    assert met.attrs["target_units"] == {d: DATASETS[d].target_units for d in DATASETS}


def test_same_cell_gives_the_same_record_and_another_seed_another(datasets):
    inputs = datasets["csib/bike_sharing"]
    cell = Cell("bike_sharing", "csib", 0.1, 0)
    first, again = (run_cell(cell, inputs, _CONFIG) for _ in range(2))
    other = run_cell(cell._replace(seed=1), inputs, _CONFIG)
    timing = {"train_seconds"}
    assert {k: v for k, v in first.items() if k not in timing} == {
        k: v for k, v in again.items() if k not in timing
    }
    assert other["rmse"] != first["rmse"]
    # the run's metrics hold exactly this record at its cell
    met = datasets["csib/metrics"].sel(dataset="bike_sharing", model="csib", beta=0.1, split=0, seed=0)
    assert float(met.rmse) == first["rmse"] and float(met.val_rmse) == first["val_rmse"]


def test_grid_runs_the_beta_free_models_once_and_every_other_model_per_beta():
    cfg = CSIBConfig(datasets=("bike_sharing",), betas=(0.1, 0.01), n_seeds=2, seed=7)
    cells = grid(cfg)
    # 1 dataset x 2 seeds x (4 runs without a compression term + 4 models x 2 betas)
    assert len(cells) == 2 * (4 + 4 * 2) == len(set(cells))
    assert {c.seed for c in cells} == {7, 8} and cfg.seeds() == [7, 8]
    assert [c.beta for c in cells if c.model == "mse"] == [None, None]
    assert {c.beta for c in cells if c.model not in BETA_FREE} == {0.01, 0.1}  # sorted, deduplicated


def test_mse_net_is_repeated_along_beta_and_the_table_carries_units(datasets):
    met = datasets["csib/metrics"]
    table = metrics_table(met)
    assert list(table.columns) == ["dataset", "model", "mean", "se", "n_splits", "n_seeds", "beta", "units"]
    assert len(table) == 4 * 2 and set(table["n_seeds"]) == {1} and set(table["n_splits"]) == {1}
    row = table.set_index(["dataset", "model"]).loc[("beijing_pm25", "mse")]
    assert row["units"] == "ug/m^3" and np.isnan(row["beta"])  # the MSE net has no beta
    assert row["mean"] == float(met.rmse.sel(dataset="beijing_pm25", model="mse").squeeze())


def test_split_standardises_with_training_rows_and_subsamples_to_max_rows(datasets):
    split = load_split(datasets["csib/beijing_pm25"], _CONFIG)
    n = len(split.y_train) + len(split.y_val) + len(split.y_test)
    assert n == pytest.approx(_CONFIG.max_rows, abs=2)
    np.testing.assert_allclose(split.x_train.mean(0), 0.0, atol=1e-5)
    assert float(split.y_train.astype(np.float64).std()) == pytest.approx(1.0, abs=1e-6)


def test_challenger_score_is_the_grid_cell_validation_rmse(datasets):
    """Retraining at ``retrain_beta`` with model seed ``seed`` is the grid's (csib, beta, seed)
    cell: the champion/challenger score is that cell's validation RMSE, never a test score."""
    inputs = datasets["csib/bike_sharing"]
    cfg = _CONFIG.model_copy(update={"retrain_beta": 0.1})
    challenger = train_challenger(inputs, cfg)
    record = run_cell(Cell("bike_sharing", "csib", 0.1, cfg.seed), inputs, cfg)
    assert challenger.metrics["val_rmse"] == pytest.approx(record["val_rmse"], rel=1e-12)
    assert challenger.metrics["test_rmse"] == pytest.approx(record["rmse"], rel=1e-12)
    assert challenger.metrics["beta"] == 0.1
    assert "encoder.mean_head.weight" in challenger.state_dict


# a challenger that learns something in four epochs (the tiny profile's two barely move)
_RETRAIN = _CONFIG.model_copy(update={"max_epochs": 4, "patience": 4, "lr": 1e-2})


def test_validation_score_is_deterministic_and_trained_beats_its_initialisation(datasets):
    inputs = datasets["csib/bike_sharing"]
    challenger = train_challenger(inputs, _RETRAIN)
    a = validation_metrics(_RETRAIN, challenger.state_dict, inputs)
    assert a == validation_metrics(_RETRAIN, challenger.state_dict, inputs)
    assert a["score"] == a["val_rmse"] and a["n_val"] == len(load_split(inputs, _RETRAIN).y_val)
    # the same rows and scale as the early-stopping score (float32 standardised there)
    assert a["val_rmse"] == pytest.approx(challenger.metrics["val_rmse"], rel=1e-5)
    init = build_net("csib", inputs.sizes["feature"], _RETRAIN, seed=_RETRAIN.seed).state_dict()
    assert validation_metrics(_RETRAIN, init, inputs)["val_rmse"] > 1.2 * a["val_rmse"]
    # an older version without its statistics is standardised with the current training rows
    weights = {k: v for k, v in challenger.state_dict.items() if not k.startswith("standardize.")}
    assert validation_metrics(_RETRAIN, weights, inputs)["val_rmse"] == pytest.approx(a["val_rmse"])


def test_validation_rejects_a_state_that_does_not_fit(datasets):
    inputs = datasets["csib/bike_sharing"]
    state = train_challenger(inputs, _RETRAIN).state_dict
    with pytest.raises(DataError, match=r"does not fit the CS-IB net \(d_t=8"):
        validation_metrics(_RETRAIN.model_copy(update={"d_t": 8}), state, inputs)
    with pytest.raises(DataError, match="standardises 12 features; the dataset 'beijing_pm25' has 14"):
        validation_metrics(_RETRAIN, state, datasets["csib/beijing_pm25"])


def test_figures_are_the_three_catalog_figures(datasets):
    figs = plots.figures(datasets["csib/metrics"])
    try:
        assert list(figs) == ["information_plane", "rmse_vs_beta", "rmse_vs_epsilon"]
        assert all(isinstance(f, plt.Figure) for f in figs.values())
    finally:
        for f in figs.values():
            plt.close(f)


def test_bad_settings_raise_clear_errors(datasets):
    with pytest.raises(ValueError, match="at least one value"):
        CSIBConfig(betas=())
    with pytest.raises(ValueError, match="datasets"):
        CSIBConfig(datasets=("mnist",))
    with pytest.raises(ValueError, match="max_rows"):
        CSIBConfig(max_rows=10)
    with pytest.raises(ConfigError, match="unknown profile"):
        CSIBConfig.for_profile("huge")
    with pytest.raises(UnknownNameError, match="mnist"):
        prepare_inputs("mnist", _CONFIG)
    with pytest.raises(UnknownNameError, match="cs-ib"):
        run_cell(Cell("bike_sharing", "cs-ib", 0.1, 0), datasets["csib/bike_sharing"], _CONFIG)
    with pytest.raises(DataError, match="split"):
        load_split(datasets["csib/bike_sharing"].drop_vars("split"), _CONFIG)


def test_a_redrawn_split_trains_and_scores_on_other_rows(datasets):
    inputs = datasets["csib/bike_sharing"]
    a = run_cell(Cell("bike_sharing", "mse", None, 0, split=0), inputs, _CONFIG)
    b = run_cell(Cell("bike_sharing", "mse", None, 0, split=1), inputs, _CONFIG)
    assert (a["split"], b["split"]) == (0, 1) and a["rmse"] != b["rmse"]
    s0, s1 = load_split(inputs, _CONFIG, 0), load_split(inputs, _CONFIG, 1)
    assert len(s0.y_test) == len(s1.y_test) and not np.array_equal(s0.y_test, s1.y_test)
