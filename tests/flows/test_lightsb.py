"""Flow lightsb (default and retrain) end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from flows.lightsb import WORKFLOW, LightSBConfig, lightsb_flow, lightsb_retrain_flow
from sciml.catalog import Catalog
from sciml.errors import ConfigError
from sciml.schrodinger import (
    LightSB,
    make_clouds,
    make_mixture_pair,
    pair_from_dataset,
    score_plan,
)
from sciml.schrodinger.experiment import cell_seeds

flow_run = pytest.mark.xdist_group("flows_lightsb")  # tests sharing the module's flow run


@pytest.fixture(scope="module")
def tiny_run(prefect_harness, tmp_path_factory):
    """One run of the flow on the tiny profile: (config, returned name, catalog)."""
    cfg = LightSBConfig.for_profile("tiny")
    data_dir = tmp_path_factory.mktemp("lightsb-flow") / "data"
    data_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIML_DATA_DIR", str(data_dir))
        name = lightsb_flow(config=cfg)
    return SimpleNamespace(config=cfg, name=name, catalog=Catalog.load(data_dir=data_dir))


@flow_run
def test_metrics_layout_units_and_user_queries(tiny_run):
    assert tiny_run.name == "lightsb/metrics"
    ds = tiny_run.catalog.open("lightsb/metrics")
    assert dict(ds.cbw2_uvp.sizes) == {"dim": 2, "eps": 2, "seed": 1}
    assert ds.attrs["config_hash"] == tiny_run.config.config_hash()
    assert ds.cbw2_uvp.attrs["units"] == "%" and ds.bw2_uvp.attrs["units"] == "%"
    assert ds.fit_seconds.attrs["units"] == "s" and ds.fit_seconds.dtype == np.float64
    # a user's queries: one cell, a table, the per-cell mean over seeds
    assert np.isfinite(float(ds.cbw2_uvp.sel(dim=2, eps=0.1, seed=0)))
    df = ds[["cbw2_uvp", "bw2_uvp", "fit_seconds"]].to_dataframe().reset_index()
    assert len(df) == 4 and df.notna().all().all()
    per_cell = ds.cbw2_uvp.mean("seed").to_series()
    assert per_cell.index.names == ["dim", "eps"] and len(per_cell) == 4


@flow_run
def test_pairs_round_trip_to_the_fixed_seed_benchmark_pair(tiny_run):
    pairs = tiny_run.catalog.open("lightsb/pairs")
    assert dict(pairs.target_var.sizes) == {"dim": 2, "eps": 2}
    pair = pair_from_dataset(pairs, 3, 1.0)
    ref = make_mixture_pair(3, 1.0, seed=tiny_run.config.pair_seed)
    for field in ("source_weights", "source_means", "source_covs", "potential_weights",
                  "potential_means", "potential_covs"):
        np.testing.assert_array_equal(getattr(pair, field), getattr(ref, field), err_msg=field)
    assert pair.eps == 1.0 and pair.dim == 3


@flow_run
def test_saved_model_version_reproduces_the_stored_score(tiny_run):
    cfg, catalog = tiny_run.config, tiny_run.catalog
    ds = catalog.open("lightsb/metrics")
    pair = pair_from_dataset(catalog.open("lightsb/pairs"), 3, 1.0)
    state, info = catalog.load_model("lightsb", "v1")
    sub = {k.split("/", 3)[3]: v for k, v in state.items() if k.startswith("d3/eps1/seed0/")}
    model = LightSB.from_state_dict(sub)
    score = score_plan(model, pair, n_test=cfg.n_test, seed=cell_seeds(3, 1.0, 0).score)["cbw2_uvp"]
    assert score == pytest.approx(float(ds.cbw2_uvp.sel(dim=3, eps=1.0, seed=0)), rel=1e-6)
    assert info["metrics"]["mean_cbw2_uvp"] == pytest.approx(float(ds.cbw2_uvp.mean()))


@flow_run
def test_trajectories_start_at_the_source_points(tiny_run):
    cfg = tiny_run.config
    traj = tiny_run.catalog.open("lightsb/trajectories")
    assert set(traj.example.values) == {"pair_d2_eps0.1", "pair_d2_eps1", "swiss_roll"}
    np.testing.assert_allclose(traj.t.values, np.linspace(0.0, 1.0, cfg.traj_steps + 1))
    roll = traj.path.sel(example="swiss_roll")
    assert roll.sizes["t"] == cfg.traj_steps + 1 and np.isfinite(roll.values).all()
    source, _ = make_clouds(cfg.clouds_n, seed=cfg.seed)
    np.testing.assert_allclose(roll.isel(t=0).values, source[: cfg.n_traj], rtol=0, atol=1e-12)


@flow_run
def test_figures_are_written(tiny_run):
    figs = sorted(p.name for p in Path(tiny_run.catalog.data_dir, "figures", "lightsb").glob("*.png"))
    assert "trajectories_swiss_roll.png" in figs and "samples_pair_d2_eps0.1.png" in figs


def test_same_config_same_metrics(prefect_harness, catalog):
    cfg = LightSBConfig.for_profile("tiny", dims=(2,), epsilons=(1.0,))
    lightsb_flow(config=cfg)
    first = catalog.open("lightsb/metrics").cbw2_uvp.values.copy()
    lightsb_flow(config=cfg)
    np.testing.assert_array_equal(catalog.open("lightsb/metrics").cbw2_uvp.values, first)


def test_retrain_champion_challenger(prefect_harness, catalog):
    cfg = LightSBConfig.for_profile("tiny")
    first = lightsb_retrain_flow(config=cfg)  # no pairs yet: the flow writes them first
    assert first["promoted"] and first["version"] == "v1" and first["champion_before"] is None
    again = lightsb_retrain_flow(config=cfg)  # same config: same score, not strictly better
    assert again["version"] == "v2" and not again["promoted"] and again["champion"] == "v1"
    # the champion is re-scored on the same validation points: exactly its first score
    assert again["champion_score"] == first["challenger_score"] == first["val_cbw2_uvp"]
    hist = catalog.open("lightsb/retrain_history").load()
    assert hist.sizes["retrain"] == 2 and hist.attrs["score"] == "val_cbw2_uvp"
    versions = {"lightsb/pairs": catalog.version("lightsb/pairs")}
    assert [json.loads(str(v)) for v in hist.data_versions.values] == [versions, versions]
    better = lightsb_retrain_flow(config=cfg.model_copy(update={"n_steps": 400}))
    assert better["val_cbw2_uvp"] < better["champion_score"] == first["challenger_score"]
    state, info = catalog.load_model("lightsb/retrain")
    assert info["version"] == better["champion"] == "v3"
    assert info["metrics"]["val_cbw2_uvp"] == better["val_cbw2_uvp"]
    assert isinstance(LightSB.from_state_dict(state), torch.nn.Module)


def test_config_profiles_and_errors():
    assert LightSBConfig().dims == (2, 16)
    assert LightSBConfig.for_profile("paper").dims == (2, 16, 64, 128)
    assert WORKFLOW.name == "lightsb" and WORKFLOW.retrain is lightsb_retrain_flow
    with pytest.raises(ConfigError, match="profile"):
        LightSBConfig.for_profile("huge")
    with pytest.raises(ValueError, match="epsilons"):
        LightSBConfig(epsilons=(0.0,))


# ----------------------------------------------------------------------------- your own clouds
def _h5ad_writer():
    """``write_h5ad`` of tests/schrodinger/h5ad.py (tests are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "lightsb_h5ad", Path(__file__).parents[1] / "schrodinger" / "h5ad.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_h5ad


def _three_days(path):
    """Cells of days 0, 2, 4 in a 4-D PCA embedding: N(0, I), N(m/2, I), N(m, I)."""
    rng = np.random.default_rng(0)
    m = np.array([3.0, -2.0, 1.0, 0.0])
    days = np.repeat(["0", "2", "4"], 400)
    pca = rng.standard_normal((1200, 4)) + (days.astype(float) / 4)[:, None] * m
    _h5ad_writer()(path, {"X_pca": pca}, {"day": days})
    return pca, days


def test_sciml_run_lightsb_on_your_own_h5ad(prefect_harness, catalog, tmp_path, capsys):
    """`sciml run lightsb --set data.source=cells.h5ad ...`: samples, model, transport, trajectories
    and the held-out distances land in the catalog; the bridge at t = 0.5 is near day 2."""
    from sciml.cli import main

    path = tmp_path / "cells.h5ad"
    pca, days = _three_days(path)
    sets = [f"data.source={path}", f"data.target={path}", "data.obs_key=day",
            "data.source_value=0", "data.target_value=4", "data.heldout_value=2", "data.eps=0.1",
            "n_components=2", "n_steps=300", "batch_size=256"]
    assert main(["run", "lightsb", "--profile", "tiny", *[a for s in sets for a in ("--set", s)]]) == 0
    samples = catalog.open("lightsb/user_samples")
    np.testing.assert_array_equal(samples.source.values, pca[days == "0"])
    assert samples.attrs["heldout_time"] == 0.5 and samples.attrs["source_embedding"] == "X_pca"
    state, info = catalog.load_model("lightsb/user", "v1")
    assert info["data_versions"] == {"lightsb/user_samples": catalog.version("lightsb/user_samples")}
    assert LightSB.from_state_dict(state).dim == 4
    transport = catalog.open("lightsb/user_transport")
    assert dict(transport.transported.sizes) == {"point": 400, "axis": 4}
    np.testing.assert_allclose(transport.conditional_mean.values.mean(0), pca[days == "4"].mean(0),
                               atol=0.3)  # the target's mean
    traj = catalog.open("lightsb/user_trajectories")
    np.testing.assert_array_equal(traj.path.isel(t=0).values, pca[days == "0"][: traj.sizes["particle"]])
    m = catalog.open("lightsb/user_metrics").load()
    e = m.energy_distance
    assert float(e.sel(model="lightsb", reference="heldout")) < 0.25 * float(
        e.sel(model="source", reference="heldout"))
    assert float(e.sel(model="lightsb", reference="target")) < 0.1 * float(
        e.sel(model="source", reference="target"))
    assert np.isnan(float(e.sel(model="target", reference="target")))


def test_sciml_run_lightsb_bad_clouds_fail_by_name(prefect_harness, catalog, tmp_path, capsys):
    from sciml.cli import main

    path = tmp_path / "cells.h5ad"
    _three_days(path)
    base = ["--set", f"data.source={path}", "--set", f"data.target={path}", "--set", "data.obs_key=day",
            "--set", "data.source_value=0", "--set", "data.target_value=4"]
    assert main(["run", "lightsb", "--profile", "tiny", *base, "--set", "data.embedding=X_umap"]) == 2
    assert "embedding (obsm key) of data.source" in capsys.readouterr().err
    np.save(tmp_path / "flat.npy", np.zeros((50, 3)))
    assert main(["run", "lightsb", "--profile", "tiny", *base, "--set",
                 f"data.target={tmp_path / 'flat.npy'}"]) == 2
    assert "has dimension 3 but data.source" in capsys.readouterr().err
    assert not catalog.exists("lightsb/user_samples")
