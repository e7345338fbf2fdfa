"""Flow lightsb (default and retrain) end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from flows.lightsb import WORKFLOW, LightSBConfig, lightsb_flow, lightsb_retrain_flow
from sciml.errors import ConfigError
from sciml.schrodinger import LightSB, pair_from_dataset, score_plan


def test_lightsb_flow_writes_pairs_metrics_models_and_plots(prefect_harness, catalog):
    cfg = LightSBConfig.for_profile("tiny")
    assert lightsb_flow(config=cfg) == "lightsb/metrics"
    ds = catalog.open("lightsb/metrics")
    assert dict(ds.cbw2_uvp.sizes) == {"dim": 2, "eps": 2, "seed": 1}
    assert ds.attrs["config_hash"] == cfg.config_hash()
    # a user's queries: one cell, a table, the worst cell
    cell = float(ds.cbw2_uvp.sel(dim=2, eps=0.1, seed=0))
    assert np.isfinite(cell) and cell >= 0
    df = ds[["cbw2_uvp", "bw2_uvp", "fit_seconds"]].to_dataframe().reset_index()
    assert len(df) == 4 and (df["fit_seconds"] > 0).all() and df["bw2_uvp"].notna().all()
    worst = ds.cbw2_uvp.mean("seed").to_series().idxmax()
    assert worst[0] in (2, 3)
    pairs = catalog.open("lightsb/pairs")
    assert dict(pairs.target_var.sizes) == {"dim": 2, "eps": 2}
    pair = pair_from_dataset(pairs, 3, 1.0)
    assert pair.dim == 3
    # the saved model version reproduces the stored score
    state, info = catalog.load_model("lightsb", "v1")
    sub = {k.split("/", 3)[3]: v for k, v in state.items() if k.startswith("d3/eps1/seed0/")}
    model = LightSB.from_state_dict(sub)
    score = score_plan(model, pair, n_test=cfg.n_test, seed=10_000)["cbw2_uvp"]
    assert score == pytest.approx(float(ds.cbw2_uvp.sel(dim=3, eps=1.0, seed=0)), rel=1e-6)
    assert info["metrics"]["mean_cbw2_uvp"] == pytest.approx(float(ds.cbw2_uvp.mean()))
    traj = catalog.open("lightsb/trajectories")
    assert set(traj.example.values) == {"pair_d2_eps0.1", "pair_d2_eps1", "swiss_roll"}
    roll = traj.path.sel(example="swiss_roll")
    assert roll.sizes["t"] == cfg.traj_steps + 1 and np.isfinite(roll.values).all()
    figs = sorted(p.name for p in Path(catalog.data_dir, "figures", "lightsb").glob("*.png"))
    assert "trajectories_swiss_roll.png" in figs and "samples_pair_d2_eps0.1.png" in figs


def test_same_config_same_metrics(prefect_harness, catalog):
    cfg = LightSBConfig.for_profile("tiny", dims=(2,), epsilons=(1.0,))
    lightsb_flow(config=cfg)
    first = catalog.open("lightsb/metrics").cbw2_uvp.values.copy()
    lightsb_flow(config=cfg)
    np.testing.assert_array_equal(catalog.open("lightsb/metrics").cbw2_uvp.values, first)


def test_retrain_champion_challenger(prefect_harness, catalog):
    cfg = LightSBConfig.for_profile("tiny")
    first = lightsb_retrain_flow(config=cfg)
    assert first["promoted"] and first["version"] == "v1"
    again = lightsb_retrain_flow(config=cfg)  # same config: same score, not strictly better
    assert again["version"] == "v2" and not again["promoted"] and again["champion"] == "v1"
    better = lightsb_retrain_flow(config=cfg.model_copy(update={"n_steps": 400}))
    assert better["cbw2_uvp"] < first["cbw2_uvp"]
    state, info = catalog.load_model("lightsb/retrain")
    assert info["version"] == better["champion"] == "v3"
    assert isinstance(LightSB.from_state_dict(state), torch.nn.Module)


def test_config_profiles_and_errors():
    assert LightSBConfig().dims == (2, 16)
    assert LightSBConfig.for_profile("paper").dims == (2, 16, 64, 128)
    assert WORKFLOW.name == "lightsb" and WORKFLOW.retrain is lightsb_retrain_flow
    with pytest.raises(ConfigError, match="profile"):
        LightSBConfig.for_profile("huge")
    with pytest.raises(ValueError, match="epsilons"):
        LightSBConfig(epsilons=(0.0,))
