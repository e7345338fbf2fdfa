"""Flow csib (default and retrain) end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.csib import WORKFLOW, CSIBConfig, csib_flow, csib_retrain_flow
from sciml.errors import ConfigError


def test_csib_flow_writes_inputs_metrics_and_plots(prefect_harness, catalog):
    cfg = CSIBConfig.for_profile("tiny")
    assert csib_flow(config=cfg) == "csib/metrics"
    pm = catalog.open("csib/beijing_pm25")
    assert dict(pm.sizes) == {"sample": 41_757, "feature": 14}
    assert pm.attrs["config_hash"] == cfg.config_hash()
    assert set(np.unique(pm.split.values)) == {"train", "val", "test"}
    ds = catalog.open("csib/metrics")
    assert dict(ds.rmse.sizes) == {"dataset": 2, "model": 5, "beta": 1, "seed": 1}
    assert ds.rmse_fgsm.dims == ("dataset", "model", "beta", "seed", "epsilon")
    # a user's queries: one model by label, robustness curve, a table
    csib = ds.rmse.sel(model="csib", dataset="bike_sharing").squeeze()
    assert np.isfinite(float(csib)) and float(csib) > 0
    curve = ds.rmse_pgd.sel(model="csib", dataset="bike_sharing").squeeze()
    assert float(curve.sel(epsilon=0.0)) == pytest.approx(float(csib), rel=1e-5)
    assert float(curve.sel(epsilon=0.1)) > float(curve.sel(epsilon=0.0))
    df = ds[["rmse", "mae", "r2", "i_xt", "i_yt"]].to_dataframe()
    assert len(df) == 10 and df["rmse"].notna().all() and (df["i_xt"] >= 0).all()
    best = ds.rmse.sel(dataset="bike_sharing").mean(["seed", "beta"]).to_series().idxmin()
    assert best in set(ds.model.values)
    figs = sorted(p.name for p in Path(catalog.data_dir, "figures", "csib").glob("*.png"))
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
    assert first["promoted"] and first["version"] == "v1"
    again = csib_retrain_flow(config=cfg)[0]  # same config: same score, not strictly better
    assert again["version"] == "v2" and not again["promoted"] and again["champion"] == "v1"
    better = csib_retrain_flow(config=cfg.model_copy(update={"max_epochs": 8}))[0]
    state, info = catalog.load_model("csib/bike_sharing")
    assert info["version"] == better["champion"]
    assert info["metrics"]["val_rmse"] <= first["val_rmse"]
    assert "encoder.mean_head.weight" in state


def test_config_profiles_and_errors():
    assert CSIBConfig().max_rows == 2000 and CSIBConfig.for_profile("paper").max_rows is None
    assert WORKFLOW.name == "csib" and WORKFLOW.retrain is csib_retrain_flow
    with pytest.raises(ConfigError):
        CSIBConfig.for_profile("huge")
    with pytest.raises(ValueError, match="beta"):
        CSIBConfig(betas=(-1.0,))
    with pytest.raises(ValueError):
        CSIBConfig(datasets=("mnist",))
