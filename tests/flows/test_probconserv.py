"""Flow probconserv end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flows.gpme import GPMEDataConfig, gpme_data_flow
from flows.probconserv import ProbConservConfig, probconserv_flow, probconserv_retrain_flow
from sciml.errors import ConfigError
from sciml.probconserv.experiment import champion_compatible, new_anp, pack_states, stored_config


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
    problems = ("diffusion", "pme", "stefan", "advection", "burgers")
    assert fast.problems == paper.problems == problems
    # versions saved before these settings existed were trained with raw inputs and mean pooling
    old = stored_config({"config": {"seed": 3}})
    assert (old["n_fourier"], old["latent_pool"], old["seed"]) == (0, "mean", 3)
    assert old["param_beta"] == dict.fromkeys(problems, 1.0)  # uniform draw
    with pytest.raises(ConfigError, match="unknown profile"):
        ProbConservConfig.for_profile("huge")
    # SoftC's lambda is per problem; a number sets all, a partial mapping keeps the defaults
    assert set(fast.softc_weight) == set(problems)
    assert ProbConservConfig(softc_weight=0.5).softc_weight == dict.fromkeys(problems, 0.5)
    partial = ProbConservConfig(softc_weight={"pme": 2.0}).softc_weight
    assert partial["pme"] == 2.0 and partial["stefan"] == fast.softc_weight["stefan"]
    assert paper.softc_weight == dict.fromkeys(problems, 1.0)
    # training steps, the Beta(a, a) parameter draw and beta-NLL are per problem too
    assert ProbConservConfig(n_steps=30).n_steps == dict.fromkeys(problems, 30)
    steps = ProbConservConfig(n_steps={"stefan": 7}).n_steps
    assert steps["stefan"] == 7 and steps["pme"] == fast.n_steps["pme"]
    assert ProbConservConfig(param_beta=2.0).param_beta == dict.fromkeys(problems, 2.0)
    assert paper.param_beta == dict.fromkeys(problems, 1.0)  # the paper's uniform draw
    assert paper.nll_beta == dict.fromkeys(problems, 0.0)  # the paper's plain ELBO
    assert fast.nll_beta == {**dict.fromkeys(problems, 0.5), "diffusion": 0.0}
    # versions saved with one step count for every problem compare as the per-problem mapping
    assert stored_config({"config": {"n_steps": 30}})["n_steps"] == ProbConservConfig(n_steps=30).n_steps


def test_a_champion_from_before_a_problem_was_added_serves_the_problems_it_holds():
    """Per-problem settings are compared on the configured problems only."""
    cfg = ProbConservConfig.for_profile("tiny", problems=("stefan",))
    old = cfg.model_dump(mode="json")
    for key in ("n_steps", "nll_beta", "param_beta", "softc_weight"):  # saved with three problems
        old[key] = {p: v for p, v in old[key].items() if p in ("diffusion", "pme", "stefan")}
    states = {"stefan": {"anp": {}, "softc": {}}}
    assert champion_compatible(cfg, {"config": old}, states)
    more = cfg.model_copy(update={"problems": ("stefan", "burgers")})
    assert not champion_compatible(more, {"config": old}, states)  # no burgers network
    old["n_steps"]["stefan"] = 99
    assert not champion_compatible(cfg, {"config": old}, states)


def _user_file(path: Path, rate: float = 1.0) -> Path:
    """Three solutions u = exp(-a t) sin(pi x) on a non-uniform grid with their exact mass and
    first moment (two rows of G) as a netCDF file."""
    import xarray as xr

    from sciml.gpme import trapezoid_weights

    x = np.sort(np.concatenate([[0.0, 1.0], np.random.default_rng(2).uniform(0, 1, 14)]))
    t = np.linspace(0.0, 1.0, 9)
    a = rate * np.array([1.0, 1.5, 2.0])
    decay = np.exp(-a[:, None] * t[None, :])
    w = trapezoid_weights(x)
    xr.Dataset(
        {"u": (("function", "t", "x"), decay[..., None] * np.sin(np.pi * x)),
         "b": (("function", "t", "row"), np.stack([2 / np.pi * decay, 1 / np.pi * decay], -1)),
         "G": (("row", "x"), np.stack([w, w * x]))},
        coords={"t": t, "x": x, "row": ["mass", "moment"]},
    ).to_netcdf(path)  # fmt: skip
    return path


def test_a_users_own_law_as_deployment_parameters(prefect_harness, catalog, tmp_path):
    """The settings as a deployment passes them (a mapping): the file becomes a catalog version,
    an ANP is trained and promoted, the constrained posterior is queryable; the same data again
    reuse the champion; new data are a new version and a retrain; the retrain flow re-reads it."""
    path = _user_file(tmp_path / "mine.nc")
    params = {"profile": "tiny", "n_train_functions": 16,
              "data": {"path": str(path), "total": "b", "constraint": "G", "n_steps": 10}}  # fmt: skip
    out = probconserv_flow(config=params)
    assert out["trained"] and out["champion"]["promoted"] and out["model_version"] == "v1"
    assert catalog.champion("probconserv/user") == "v1"
    inputs = catalog.open("probconserv/user/inputs")
    assert inputs.attrs["total_source"] == "variable 'b'"
    assert list(inputs.split.values) == ["train", "val", "test"]
    met = catalog.open("probconserv/user/metrics").load()
    ce = met["ce_max"].sel(function=2)
    assert float(ce.sel(model="ProbConserv-ANP").max()) < 1e-10 < float(ce.sel(model="ANP").min())
    prof = catalog.open("probconserv/user/predictions").sel(model="ProbConserv-ANP", function=2, t=0.5)
    assert prof["mean"].dims == ("context", "x") and prof.sizes["x"] == 16
    assert Path(catalog.data_dir, "figures", "probconserv", "user_ce_vs_t.png").is_file()

    again = probconserv_flow(config=params)  # same content: the champion is reused
    assert not again["trained"] and again["model_version"] == "v1"
    assert again["test_mse"] == pytest.approx(out["test_mse"])

    _user_file(path, rate=1.2)  # the user's data change: a new version, trained on
    changed = probconserv_flow(config=params)
    assert changed["trained"] and changed["inputs_version"] != out["inputs_version"]
    decision = probconserv_retrain_flow(config=params)
    newest = catalog.version("probconserv/user/inputs")
    assert decision["data_versions"] == {"probconserv/user/inputs": newest}
    hist = catalog.open("probconserv/user/retrain_history").load()
    assert hist.sizes["retrain"] == 3 and hist.attrs["score"] == "val_mse"
    # the retrain re-read the same file: the champion scores what it scored on those data before
    before = str(hist.champion_before[2].values)
    assert before == str(hist.champion_after[1].values)
    promoted = before == str(hist.challenger_version[1].values)
    expected = hist.challenger_score[1] if promoted else hist.champion_score[1]
    assert float(hist.champion_score[2]) == float(expected)
