"""Flow thermoacoustic end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from flows.thermoacoustic import (
    ThermoacousticConfig,
    thermoacoustic_flow,
    thermoacoustic_retrain_flow,
)
from sciml.catalog import Catalog
from sciml.errors import ConfigError

flow_run = pytest.mark.xdist_group("flows_thermoacoustic")  # tests sharing the module's flow run


@pytest.fixture(scope="module")
def tiny_run(prefect_harness, tmp_path_factory):
    """One run of the flow on the tiny profile: (config, returned names, catalog)."""
    cfg = ThermoacousticConfig.for_profile("tiny")
    data_dir = tmp_path_factory.mktemp("thermoacoustic-flow") / "data"
    data_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIML_DATA_DIR", str(data_dir))
        names = thermoacoustic_flow(config=cfg)
    return SimpleNamespace(config=cfg, names=names, catalog=Catalog.load(data_dir=data_dir))


@flow_run
def test_flow_writes_every_dataset_and_figure(tiny_run):
    assert set(tiny_run.names) == {"runs", "forecasts", "metrics", "failure", "attributions",
                                   "ablation"}
    figs = sorted(p.name for p in
                  Path(tiny_run.catalog.data_dir, "figures", "thermoacoustic").glob("*.png"))
    assert figs == ["attributions.png", "forecast_bands.png", "sensor_failure.png"]


@flow_run
def test_runs_dataset(tiny_run):
    runs = tiny_run.catalog.open("thermoacoustic/runs")
    assert runs.sizes["run"] == tiny_run.config.n_runs
    assert runs.attrs["config_hash"] == tiny_run.config.config_hash()
    assert set(runs.split.values) == {"train", "val", "test"}


@flow_run
def test_forecast_variance_is_aleatoric_plus_epistemic(tiny_run):
    fc = tiny_run.catalog.open("thermoacoustic/forecasts")
    assert set(fc.model.values) == {"persistence", "deterministic", "anchored_ensemble", "bnn"}
    # user query: the BNN's 200 ms forecast on one run, as a table
    sel = fc.sel(model="bnn", horizon=200.0).isel(run=0)
    df = sel[["mean", "aleatoric_std", "epistemic_std"]].to_dataframe().dropna()
    # posterior draws of the BNN's weights disagree: its epistemic part never collapses
    assert len(df) > 0 and (df["epistemic_std"] > 0).all()
    np.testing.assert_allclose(fc.total_std ** 2, fc.aleatoric_std ** 2 + fc.epistemic_std ** 2,
                               rtol=1e-4)
    assert float(fc.sel(model="persistence").epistemic_std.max()) == 0.0  # one "member"


@flow_run
def test_metrics_layout_and_oracle_ratio(tiny_run):
    m = tiny_run.catalog.open("thermoacoustic/metrics")
    assert dict(m.sizes) == {"model": 4, "horizon": 3}
    assert np.all(np.isfinite(m.crps.values))
    # the ratio compares a model's CRPS on the oracle's runs with the re-simulation oracle's
    np.testing.assert_allclose(m.crps_oracle_ratio, m.crps_oracle_subset / m.crps_oracle,
                               rtol=1e-12)
    assert m.rmse.sel(model="persistence").to_series().index.name == "horizon"


@flow_run
def test_attributions_are_complete_from_the_stored_arrays(tiny_run):
    attr = tiny_run.catalog.open("thermoacoustic/attributions").load()
    assert float(attr.completeness_error.max()) <= 0.01
    # Prop. 1 of integrated gradients, from what was written: sum of attributions = F(x) - F(x')
    total = (attr.history_attribution.sum(["channel", "lag"])
             + attr.future_attribution.sum(["control", "lead"]))
    scale = np.maximum(np.abs(attr.delta_f.values), 1e-3)
    assert np.all(np.abs(total.values - attr.delta_f.values) <= 0.01 * scale)


@flow_run
def test_dead_dynamic_pressure_sensor_is_flagged_and_frozen_equals_zeroed(tiny_run):
    fail = tiny_run.catalog.open("thermoacoustic/failure")
    p_dyn = fail.sel(sensor="p_dyn")
    for model in ("anchored_ensemble", "bnn"):
        # a dead or stuck fast sensor has no acoustic content: every window after the failure
        # lies below the training range, and both give the same features, so the same forecast
        for mode in ("zeroed", "frozen"):
            assert float(p_dyn.out_of_range.sel(model=model, failure_mode=mode)) == 1.0
        assert float(p_dyn.epistemic_ratio.sel(model=model, failure_mode="frozen")) == \
            pytest.approx(float(p_dyn.epistemic_ratio.sel(model=model, failure_mode="zeroed")),
                          rel=1e-6)


@flow_run
def test_ablation_sensor_sets(tiny_run):
    abl = tiny_run.catalog.open("thermoacoustic/ablation")
    assert list(abl.sensor_set.values) == ["all", "no_p_dyn", "no_oh_star", "slow_only"]


def test_retrain_champion_challenger(prefect_harness, catalog):
    cfg = ThermoacousticConfig.for_profile("tiny")
    first = thermoacoustic_retrain_flow(config=cfg)
    assert first["promoted"] and first["champion"] == first["version"] == "v1"
    second = thermoacoustic_retrain_flow(config=ThermoacousticConfig.for_profile("tiny", seed=0))
    # same data and seed -> the same ensemble -> the same score -> not strictly better
    assert second["challenger_score"] == first["challenger_score"]
    assert not second["promoted"] and second["champion"] == first["version"]

    hist = catalog.open("thermoacoustic/retrain_history").load()
    assert hist.sizes["retrain"] == 2 and hist.attrs["score"] == "val_crps"
    row0, row1 = hist.isel(retrain=0), hist.isel(retrain=1)
    assert str(row0.champion_before.values) == "" and bool(row0.promoted)
    assert float(row1.champion_score) == float(row0.challenger_score)  # v1 re-scored, same runs
    versions = {"thermoacoustic/runs": catalog.version("thermoacoustic/runs")}
    assert [json.loads(str(v)) for v in hist.data_versions.values] == [versions, versions]
    assert str(row1.champion_after.values) == "v1" and not bool(row1.promoted)

    sd, info = catalog.load_model("thermoacoustic")
    assert info["version"] == first["version"] and info["data_versions"] == versions
    assert info["metrics"]["val_crps"] == first["challenger_score"]
    from sciml.thermoacoustic import ensemble_from_state_dict, prepare

    net, scaler = ensemble_from_state_dict(sd, cfg)
    assert net.n_members == cfg.n_members
    # the registry holds the standardiser fitted on the catalogued runs' training windows
    ref = prepare(catalog.open("thermoacoustic/runs").load(), cfg).scaler
    np.testing.assert_allclose(scaler.y_std, ref.y_std, rtol=1e-6)
    np.testing.assert_allclose(scaler.hist_mean, ref.hist_mean, rtol=1e-6, atol=1e-6)

    # a worse champion (the same ensemble with its weights scaled) loses to the challenger
    worse = {k: 3.0 * v if k.startswith("net.weights") else v for k, v in sd.items()}
    planted = catalog.save_model("thermoacoustic", worse, {}, cfg.model_dump(mode="json"))
    catalog.promote("thermoacoustic", planted)
    third = thermoacoustic_retrain_flow(config=cfg)
    assert third["champion_before"] == planted and third["champion_score"] > third["challenger_score"]
    assert third["promoted"] and catalog.champion("thermoacoustic") == third["version"] == "v4"


def test_unknown_profile():
    with pytest.raises(ConfigError, match="unknown profile"):
        ThermoacousticConfig.for_profile("huge")
