"""Flow probconserv end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.gpme import GPMEDataConfig, gpme_data_flow
from flows.probconserv import ProbConservConfig, probconserv_flow, probconserv_retrain_flow
from sciml.errors import ConfigError
from sciml.probconserv.experiment import new_anp, stored_config


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

    # retraining: a challenger with a fresh seed is saved, and promoted only when its score is
    # lower. A planted champion that scores 0 cannot be beaten; one that scores 1e9 always is.
    cat = catalog
    state, _ = cat.load_model("probconserv", "v1")
    perfect = cat.save_model("probconserv", state, {"test_mse": 0.0}, cfg.model_dump(mode="json"))
    cat.promote("probconserv", perfect)
    dec = probconserv_retrain_flow(config=cfg)
    assert (dec["version"], dec["promoted"], dec["champion"]) == ("v3", False, perfect)
    assert cat.champion("probconserv") == perfect
    assert stored_config(cat.model_info("probconserv", "v3"))["seed"] == cfg.seed + 2  # 2 versions before
    hopeless = cat.save_model("probconserv", state, {"test_mse": 1e9}, cfg.model_dump(mode="json"))
    cat.promote("probconserv", hopeless)
    dec = probconserv_retrain_flow(config=cfg)
    assert (dec["version"], dec["promoted"], dec["champion"]) == ("v5", True, "v5")
    assert cat.champion("probconserv") == "v5"


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
