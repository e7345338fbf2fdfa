"""Flow thermoacoustic end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.thermoacoustic import (
    ThermoacousticConfig,
    thermoacoustic_flow,
    thermoacoustic_retrain_flow,
)
from sciml.errors import ConfigError


def test_flow_writes_queryable_datasets(prefect_harness, catalog):
    cfg = ThermoacousticConfig.for_profile("tiny")
    names = thermoacoustic_flow(config=cfg)
    assert set(names) == {"runs", "forecasts", "metrics", "failure", "attributions", "ablation"}
    runs = catalog.open("thermoacoustic/runs")
    assert runs.sizes["run"] == cfg.n_runs
    assert runs.attrs["config_hash"] == cfg.config_hash()
    assert set(runs.split.values) == {"train", "val", "test"}
    fc = catalog.open("thermoacoustic/forecasts")
    assert set(fc.model.values) == {"persistence", "deterministic", "anchored_ensemble", "bnn"}
    # user query: the BNN's 200 ms forecast on one run, as a table
    sel = fc.sel(model="bnn", horizon=200.0).isel(run=0)
    df = sel[["mean", "aleatoric_std", "epistemic_std"]].to_dataframe().dropna()
    assert len(df) > 0 and (df["epistemic_std"] > 0).all()
    tot = fc.total_std ** 2
    np.testing.assert_allclose(tot, fc.aleatoric_std ** 2 + fc.epistemic_std ** 2, rtol=1e-4)
    assert float(fc.sel(model="persistence").epistemic_std.max()) == 0.0
    m = catalog.open("thermoacoustic/metrics")
    assert dict(m.sizes) == {"model": 4, "horizon": 3}
    assert np.all(np.isfinite(m.crps.values)) and np.all(m.crps_oracle_ratio.values > 0)
    assert m.rmse.sel(model="persistence").to_series().index.name == "horizon"
    attr = catalog.open("thermoacoustic/attributions")
    assert float(attr.completeness_error.max()) <= 0.01
    share = attr.channel_share.sel(channel="p_dyn_band")
    assert 0.0 <= float(share) <= 1.0
    fail = catalog.open("thermoacoustic/failure")
    assert float(fail.epistemic_ratio.sel(model="anchored_ensemble", sensor="p_dyn",
                                          failure_mode="zeroed")) > 0
    abl = catalog.open("thermoacoustic/ablation")
    assert list(abl.sensor_set.values) == ["all", "no_p_dyn", "no_oh_star", "slow_only"]
    figs = sorted(p.name for p in Path(catalog.data_dir, "figures", "thermoacoustic").glob("*.png"))
    assert figs == ["attributions.png", "forecast_bands.png", "sensor_failure.png"]


def test_retrain_champion_challenger(prefect_harness, catalog):
    cfg = ThermoacousticConfig.for_profile("tiny")
    first = thermoacoustic_retrain_flow(config=cfg)
    assert first["promoted"] and first["champion"] == first["version"]
    second = thermoacoustic_retrain_flow(config=ThermoacousticConfig.for_profile("tiny", seed=0))
    # same data and seed -> same score -> not strictly better -> champion stays
    assert second["challenger_score"] == pytest.approx(first["challenger_score"], rel=1e-5)
    assert not second["promoted"] and second["champion"] == first["version"]
    sd, info = catalog.load_model("thermoacoustic")
    assert info["version"] == first["version"]
    from sciml.thermoacoustic import ensemble_from_state_dict

    net, scaler = ensemble_from_state_dict(sd, cfg)
    assert net.n_members == cfg.n_members and np.all(scaler.y_std > 0)


def test_unknown_profile():
    with pytest.raises(ConfigError, match="unknown profile"):
        ThermoacousticConfig.for_profile("huge")
