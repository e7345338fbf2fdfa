"""Flow csib (default and retrain) end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from flows.csib import WORKFLOW, CSIBConfig, csib_flow, csib_retrain_flow
from sciml.catalog import Catalog
from sciml.cli import main as sciml_main
from sciml.csib import split_from_dataset
from sciml.errors import ConfigError

flow_run = pytest.mark.xdist_group("flows_csib")  # tests sharing the module's flow run


@pytest.fixture(scope="module")
def tiny_run(prefect_harness, tmp_path_factory):
    """One run of the flow on the tiny profile: (config, returned name, catalog)."""
    cfg = CSIBConfig.for_profile("tiny")
    data_dir = tmp_path_factory.mktemp("csib-flow") / "data"
    data_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIML_DATA_DIR", str(data_dir))
        name = csib_flow(config=cfg)
    return SimpleNamespace(config=cfg, name=name, catalog=Catalog.load(data_dir=data_dir))


@flow_run
def test_flow_writes_the_full_input_dataset(tiny_run):
    assert tiny_run.name == "csib/metrics"
    pm = tiny_run.catalog.open("csib/beijing_pm25")
    assert dict(pm.sizes) == {"sample": 41_757, "feature": 14}  # max_rows subsamples at training
    assert pm.attrs["config_hash"] == tiny_run.config.config_hash()
    assert set(np.unique(pm.split.values)) == {"train", "val", "test"}


@flow_run
def test_metrics_layout_and_table(tiny_run):
    ds = tiny_run.catalog.open("csib/metrics")
    assert dict(ds.rmse.sizes) == {"dataset": 2, "model": 8, "beta": 1, "split": 1, "seed": 1}
    assert ds.model.values.tolist() == ["mse", "huber", "welsch", "csib_beta0", "csib", "vib", "nib", "hsic"]
    assert ds.attrs["beta_free_models"] == ["csib_beta0", "huber", "mse", "welsch"]
    assert ds.rmse_fgsm.dims == ("dataset", "model", "beta", "split", "seed", "epsilon")
    df = ds[["rmse", "mae", "r2", "i_xt", "i_yt"]].to_dataframe()
    assert len(df) == 16 and df.notna().all().all()
    # CS-QMI is >= 0 by the Cauchy-Schwarz inequality (a property of the estimator, not a clip)
    assert (df["i_xt"] >= 0).all() and (df["i_yt"] >= 0).all()
    best = ds.rmse.sel(dataset="bike_sharing").mean(["split", "seed", "beta"]).to_series()
    assert best.index.name == "model" and len(best) == 8


@flow_run
def test_rmse_and_r2_are_scored_on_the_stored_test_split(tiny_run):
    """RMSE^2 = (1 - R^2) Var(y_test) in target units, with y_test the catalogued split: the
    metrics belong to the test rows of ``csib/<dataset>`` and carry the training std's units."""
    cfg, catalog = tiny_run.config, tiny_run.catalog
    ds = catalog.open("csib/metrics")
    for dataset in cfg.datasets:
        split = split_from_dataset(catalog.open(f"csib/{dataset}"), cfg.max_rows,
                                   seed=cfg.split_seed)
        var = float(np.var(split.y_test.astype(np.float64))) * split.y_std**2
        cell = ds.sel(dataset=dataset).squeeze(["beta", "split", "seed"])
        np.testing.assert_allclose(cell.rmse.values ** 2, (1 - cell.r2.values) * var, rtol=1e-4)


@flow_run
def test_pgd_curve_starts_at_the_clean_rmse_and_rises(tiny_run):
    ds = tiny_run.catalog.open("csib/metrics")
    clean = float(ds.rmse.sel(model="csib", dataset="bike_sharing").squeeze())
    curve = ds.rmse_pgd.sel(model="csib", dataset="bike_sharing").squeeze()
    assert float(curve.sel(epsilon=0.0)) == pytest.approx(clean, rel=1e-5)
    assert float(curve.sel(epsilon=0.1)) > float(curve.sel(epsilon=0.0))


@flow_run
def test_figures_are_written(tiny_run):
    figs = sorted(p.name for p in Path(tiny_run.catalog.data_dir, "figures", "csib").glob("*.png"))
    assert figs == ["information_plane.png", "rmse_vs_beta.png", "rmse_vs_epsilon.png"]


def test_same_config_same_metrics(prefect_harness, catalog):
    cfg = CSIBConfig.for_profile("tiny", datasets=("bike_sharing",), models=("mse", "csib"))
    csib_flow(config=cfg)
    first = catalog.open("csib/metrics").rmse.values.copy()
    csib_flow(config=cfg)
    np.testing.assert_array_equal(catalog.open("csib/metrics").rmse.values, first)


def test_retrain_champion_challenger(prefect_harness, catalog):
    cfg = CSIBConfig.for_profile("tiny", datasets=("bike_sharing",))
    first = csib_retrain_flow(config=cfg)[0]
    assert first["promoted"] and first["version"] == "v1" and first["champion_before"] is None
    again = csib_retrain_flow(config=cfg)[0]  # same config and data: same score, not strictly better
    assert again["version"] == "v2" and not again["promoted"] and again["champion"] == "v1"

    hist = catalog.open("csib/retrain_history").load()
    assert hist.sizes["retrain"] == 2 and hist.attrs["score"] == "val_rmse"
    row0, row1 = hist.isel(retrain=0), hist.isel(retrain=1)
    assert str(row0.model_name.values) == "csib/bike_sharing"
    assert str(row0.champion_before.values) == "" and bool(row0.promoted)
    assert float(row1.champion_score) == float(row0.challenger_score)  # v1 re-scored, same rows
    versions = {"csib/bike_sharing": catalog.version("csib/bike_sharing")}
    assert [json.loads(str(v)) for v in hist.data_versions.values] == [versions, versions]
    assert str(row1.champion_after.values) == "v1"

    # a challenger trained longer is scored on the same validation rows as the champion
    better = csib_retrain_flow(config=cfg.model_copy(update={"max_epochs": 8, "lr": 1e-2}))[0]
    assert better["champion_score"] == first["challenger_score"]
    assert better["challenger_score"] < better["champion_score"] and better["promoted"]
    state, info = catalog.load_model("csib/bike_sharing")
    assert info["version"] == better["champion"] == "v3"
    assert info["metrics"]["val_rmse"] == better["val_rmse"] and info["data_versions"] == versions
    assert "encoder.mean_head.weight" in state and "standardize.y_std" in state


def test_config_profiles_and_errors():
    """The profiles, a bad setting, and the documented deployment parameters of a user's table."""
    assert CSIBConfig().max_rows == 2000 and CSIBConfig.for_profile("paper").max_rows is None
    assert WORKFLOW.name == "csib" and WORKFLOW.retrain is csib_retrain_flow
    with pytest.raises(ConfigError):
        CSIBConfig.for_profile("huge")
    with pytest.raises(ValueError, match="beta"):
        CSIBConfig(betas=(-1.0,))
    with pytest.raises(ValueError):
        CSIBConfig(datasets=("mnist",))


def _table(n: int, seed: int = 0):
    """A user's table: price = 2 a - b + 1.5 [region = north] + noise, with an id column."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": np.arange(n), "a": rng.normal(size=n), "b": rng.normal(size=n),
                       "region": rng.choice(["north", "south", "east"], n)})  # fmt: skip
    df["price"] = 2 * df.a - df.b + 1.5 * (df.region == "north") + 0.1 * rng.normal(size=n)
    df.loc[3, "a"] = np.nan
    return df


def test_own_table_from_the_command_line_then_retrained_on_new_rows(prefect_harness, catalog, tmp_path,
                                                                    capsys):  # fmt: skip
    """`sciml run csib --set data.path=... --set data.target=...` on a CSV; the retrain (with the
    deployment parameters' shape) reads the table's newest version, and sees rows added later."""
    df = _table(400)
    path = tmp_path / "my.csv"
    df.iloc[:300].to_csv(path, index=False)
    sets = [f"data.path={path}", "data.target=price", "data.exclude=id", "models=mse,csib"]
    assert sciml_main(["run", "csib", "--profile", "tiny", *sum((["--set", s] for s in sets), [])]) == 0
    met = catalog.open("csib/metrics")
    assert met.dataset.values.tolist() == ["table"] and met.model.values.tolist() == ["mse", "csib"]
    assert np.isfinite(met.rmse.values).all() and met.attrs["target_units"] == {"table": ""}
    tab = catalog.open("csib/table")
    assert tab.sizes["sample"] == 299 and tab.attrs["rows_dropped_missing_features"] == 1
    assert tab.attrs["categorical_columns"] == {"region": ["east", "north", "south"]}
    assert "table" in capsys.readouterr().out

    params = {"profile": "tiny", "data": {"path": str(path), "target": "price", "exclude": ["id"]}}
    cfg = CSIBConfig.model_validate(params)  # what a deployment run's {"config": ...} builds
    first = csib_retrain_flow(config=cfg)[0]
    assert first["dataset"] == "table" and first["promoted"] and first["version"] == "v1"
    v_before = catalog.version("csib/table")

    df.to_csv(path, index=False)  # 100 new rows
    again = csib_retrain_flow(config=cfg)[0]
    v_after = catalog.version("csib/table")
    assert v_after != v_before and catalog.open("csib/table").sizes["sample"] == 399
    hist = catalog.open("csib/retrain_history").load()
    assert [json.loads(str(v)) for v in hist.data_versions.values] == [
        {"csib/table": v_before}, {"csib/table": v_after}]  # fmt: skip
    assert again["champion_before"] == "v1" and np.isfinite(again["champion_score"])
    assert again["champion_score"] != first["challenger_score"]  # v1 re-scored on the new rows
    info = catalog.model_info("csib/table", again["version"])
    assert info["data_versions"] == {"csib/table": v_after}

    # the nightly retrain (no data settings) retrains the table too: a commit of new rows starts it
    rows = csib_retrain_flow(config=CSIBConfig.for_profile("tiny", datasets=("bike_sharing",)))
    assert [r["dataset"] for r in rows] == ["bike_sharing", "table"]


def test_bad_table_fails_the_run_naming_the_column(prefect_harness, catalog, tmp_path, capsys):
    path = tmp_path / "my.csv"
    _table(200).to_csv(path, index=False)
    code = sciml_main(["run", "csib", "--profile", "tiny", "--set", f"data.path={path}",
                       "--set", "data.target=prce"])  # fmt: skip
    assert code == 2
    assert "target column 'prce' is not in table" in capsys.readouterr().err
    assert not catalog.exists("csib/table")
