"""Flow probconserv end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flows.gpme import GPMEDataConfig, gpme_data_flow
from flows.probconserv import ProbConservConfig, probconserv_flow, probconserv_retrain_flow
from sciml.errors import ConfigError
from sciml.probconserv.experiment import new_anp, pack_states, stored_config


def test_probconserv_flow_end_to_end(prefect_harness, catalog):
    gpme_data_flow(config=GPMEDataConfig.for_profile("tiny", problems=("pme", "stefan")))
    cfg = ProbConservConfig.for_profile("tiny")
    out = probconserv_flow(config=cfg)
    assert out["trained"] and out["champion"]["promoted"] and out["champion"]["version"] == "v1"

    met = catalog.open("probconserv/metrics").load()
    assert met.attrs["config_hash"] == cfg.config_hash()
    # ProbConserv's conservation error is 0 to 1e-10 at every t, the ANP's is not
    pc = met["ce_t"].sel(model="ProbConserv-ANP", problem="stefan", param=0.6)
    anp = met["ce_t"].sel(model="ANP", problem="stefan", param=0.6)
    assert float(np.abs(pc).max()) < 1e-10
    assert float(np.abs(anp).max()) > 1e-4
    assert abs(float(met["ce"].sel(model="ProbConserv-ANP", problem="pme", param=6.0))) < 1e-10
    table = met[["mse", "ce", "ll"]].to_dataframe().dropna()
    assert len(table) == 4 * (3 + 2)  # 4 models x (3 PME + 2 Stefan test values)
    assert set(table.index.get_level_values("model")) == {
        "ANP", "ProbConserv-ANP", "HardC-ANP", "SoftC-ANP"
    }  # fmt: skip

    preds = catalog.open("probconserv/predictions")
    prof = preds.sel(model="ProbConserv-ANP", problem="stefan", param=0.5).isel(function=0)
    assert prof["mean"].shape == (cfg.n_t, cfg.n_x)
    # the truth is the gpme-data test grid
    gp = catalog.open("gpme/stefan/test").sel(param=0.5)
    np.testing.assert_allclose(
        preds["u_true"].sel(problem="stefan", param=0.5).values, gp.u.values, atol=1e-12
    )
    at_eval = preds.sel(problem="pme", param=3.0, t=0.5, model="ANP")
    assert np.all(np.isfinite(at_eval["std"].values))

    shock = catalog.open("probconserv/shock").load()
    draws = shock["front"].sel(model="ProbConserv-ANP", problem="stefan", param=0.6)
    assert draws.sizes == {"function": cfg.n_test_functions, "draw": cfg.n_shock_draws}
    assert float(shock["front_true"].sel(problem="pme", param=6.0)) == pytest.approx(0.5)

    figs = sorted(p.name for p in Path(catalog.data_dir, "figures", "probconserv").glob("*.png"))
    assert "ce_vs_t.png" in figs and "profile_stefan_u_star=0.6.png" in figs

    # second run reuses the champion (same model settings), results identical
    again = probconserv_flow(config=cfg)
    assert not again["trained"] and again["test_mse"] == pytest.approx(out["test_mse"])
    assert again["model_version"] == "v1"


def test_retrain_rescores_the_champion_on_the_same_validation_data(prefect_harness, catalog):
    """Two retrains on unchanged data: the second re-scores the first's model on the same
    validation functions and gets its score exactly; the better one is champion, and the
    default flow then reuses that version."""
    gpme_data_flow(config=GPMEDataConfig.for_profile("tiny", problems=("stefan",)))
    cfg = ProbConservConfig.for_profile("tiny", problems=("stefan",))
    first = probconserv_retrain_flow(config=cfg)
    second = probconserv_retrain_flow(config=cfg)
    assert (first["version"], second["version"]) == ("v1", "v2")
    assert stored_config(catalog.model_info("probconserv", "v2"))["seed"] == cfg.seed + 1

    hist = catalog.open("probconserv/retrain_history").load()
    assert hist.sizes["retrain"] == 2 and hist.attrs["score"] == "val_mse"
    row0, row1 = hist.isel(retrain=0), hist.isel(retrain=1)
    assert str(row0.champion_before.values) == "" and bool(row0.promoted)
    assert np.isnan(float(row0.champion_score))
    assert float(row1.champion_score) == float(row0.challenger_score)  # v1 re-scored, same data
    versions = {"gpme/stefan/val": catalog.version("gpme/stefan/val")}
    assert [json.loads(str(v)) for v in hist.data_versions.values] == [versions, versions]
    assert first["data_versions"] == versions
    better = "v2" if float(row1.challenger_score) < float(row1.champion_score) else "v1"
    assert second["champion"] == str(row1.champion_after.values) == better
    assert catalog.champion("probconserv") == better

    # a champion that does not fit the settings (another width) cannot be scored: it loses
    other = ProbConservConfig.for_profile("tiny", problems=("stefan",), width=8)
    planted = catalog.save_model("probconserv", pack_states({"stefan": {
        "anp": new_anp(other, 0).state_dict(), "softc": new_anp(other, 1).state_dict()}}), {},
        other.model_dump(mode="json"))  # fmt: skip
    catalog.promote("probconserv", planted)
    third = probconserv_retrain_flow(config=cfg)
    assert third["promoted"] and np.isnan(third["champion_score"])
    assert "cannot be scored" in third["reason"] and "does not fit" in third["reason"]

    # the default flow reuses the promoted champion, whatever its training seed
    reused = probconserv_flow(config=cfg)
    assert not reused["trained"] and reused["model_version"] == third["version"]
    assert catalog.champion("probconserv") == third["version"]


def test_profiles():
    paper = ProbConservConfig.for_profile("paper")
    assert (paper.width, paper.n_heads, paper.n_t, paper.n_x) == (128, 4, 201, 201)
    assert (paper.n_fourier, paper.latent_pool) == (0, "mean")  # Kim et al.'s ANP
    fast = ProbConservConfig.for_profile("fast", latent_pool="attention")
    net = new_anp(fast, 0)
    assert (net.n_fourier, net.latent_pool.kind) == (fast.n_fourier, "attention")
    # versions saved before these settings existed were trained with raw inputs and mean pooling
    old = stored_config({"config": {"seed": 3}})
    assert (old["n_fourier"], old["latent_pool"], old["seed"]) == (0, "mean", 3)
    assert old["param_beta"] == {"diffusion": 1.0, "pme": 1.0, "stefan": 1.0}  # uniform draw
    with pytest.raises(ConfigError, match="unknown profile"):
        ProbConservConfig.for_profile("huge")
    # SoftC's lambda is per problem; a number sets all, a partial mapping keeps the defaults
    assert set(fast.softc_weight) == {"diffusion", "pme", "stefan"}
    assert ProbConservConfig(softc_weight=0.5).softc_weight == {"diffusion": 0.5, "pme": 0.5, "stefan": 0.5}
    partial = ProbConservConfig(softc_weight={"pme": 2.0}).softc_weight
    assert partial["pme"] == 2.0 and partial["stefan"] == fast.softc_weight["stefan"]
    assert paper.softc_weight == {"diffusion": 1.0, "pme": 1.0, "stefan": 1.0}
    # training steps and the Beta(a, a) parameter draw are per problem too
    assert ProbConservConfig(n_steps=30).n_steps == {"diffusion": 30, "pme": 30, "stefan": 30}
    steps = ProbConservConfig(n_steps={"stefan": 7}).n_steps
    assert steps["stefan"] == 7 and steps["pme"] == fast.n_steps["pme"]
    assert ProbConservConfig(param_beta=2.0).param_beta == {"diffusion": 2.0, "pme": 2.0, "stefan": 2.0}
    assert paper.param_beta == {"diffusion": 1.0, "pme": 1.0, "stefan": 1.0}  # the paper's uniform draw
    # versions saved with one step count for every problem compare as the per-problem mapping
    assert stored_config({"config": {"n_steps": 30}})["n_steps"] == ProbConservConfig(n_steps=30).n_steps
