"""Flow chaos end to end on the tiny profile, queried as a user would.

The flow runs once per module (``tiny_run``); each test checks one dataset or one property.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import spearmanr

from flows.chaos import ChaosConfig, benchmark_task, chaos_flow, invariants_task
from sciml.catalog import Catalog
from sciml.chaos.metrics import smape
from sciml.errors import ConfigError

FORECAST_SYSTEMS = ["Lorenz", "Rossler", "MackeyGlass"]  # Henon is a map: invariants only
flow_run = pytest.mark.xdist_group("flows_chaos")  # tests sharing the module's flow run


@pytest.fixture(scope="module")
def tiny_run(prefect_harness, tmp_path_factory):
    """One run of the flow on the tiny profile: (config, returned names, catalog)."""
    cfg = ChaosConfig.for_profile("tiny")
    data_dir = tmp_path_factory.mktemp("chaos-flow") / "data"
    data_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIML_DATA_DIR", str(data_dir))
        names = chaos_flow(config=cfg)
    return SimpleNamespace(config=cfg, names=names, catalog=Catalog.load(data_dir=data_dir))


@flow_run
def test_flow_returns_its_dataset_names(tiny_run):
    assert tiny_run.names == {name: f"chaos/{name}" for name in
                              ("invariants", "benchmark", "forecast_metrics", "correlations")}


@flow_run
def test_lorenz_invariants_match_literature_and_trace(tiny_run):
    inv = tiny_run.catalog.open("chaos/invariants")
    assert set(inv.system.values) == {"Lorenz", "Rossler", "MackeyGlass", "Henon"}
    assert 0.6 < float(inv.lyapunov_max.sel(system="Lorenz")) < 1.2  # literature: 0.906
    # the exponents sum to the (constant) divergence of the Lorenz field
    np.testing.assert_allclose(inv.lyapunov_sum.sel(system="Lorenz"), -(10 + 1 + 8 / 3),
                               rtol=0.01)
    assert np.isnan(inv.spectrum.sel(system="MackeyGlass", exponent=0))
    assert inv.attrs["config_hash"] == tiny_run.config.config_hash()


@flow_run
def test_benchmark_layout(tiny_run):
    bench = tiny_run.catalog.open("chaos/benchmark")
    sub = bench.sel(system="Lorenz", split="test", granularity="fine")
    assert dict(sub.x.sizes) == {"noise": 2, "step": 1200, "coordinate": 3}
    assert list(bench.system.values) == FORECAST_SYSTEMS  # maps are not forecast
    assert bool(bench.coordinate_mask.sel(system="MackeyGlass", coordinate=0))


@flow_run
def test_forecast_metrics_layout(tiny_run):
    fm = tiny_run.catalog.open("chaos/forecast_metrics")
    esn = fm.sel(model="esn", granularity="coarse", noise="clean")
    assert esn.smape.sizes == {"system": 3}
    assert np.all(np.isfinite(fm.smape.values))
    assert fm.smape.attrs["units"] == "percent" and fm.attrs["smape_scale"] == "0-200"
    assert np.all(np.isfinite(fm.sel(model="mlp_ensemble").crps.values))
    assert np.all(np.isnan(fm.drop_sel(model="mlp_ensemble").crps.values))  # point forecasts
    assert len(fm.smape.to_dataframe()) == fm.sizes["model"] * 3 * 2 * 1


@flow_run
def test_naive_smape_is_scored_on_the_stored_test_series(tiny_run):
    """The naive forecast repeats the last history value, so its sMAPE follows from the stored
    benchmark series alone: the flow scored the test split's last two periods."""
    bench = tiny_run.catalog.open("chaos/benchmark").load()
    fm = tiny_run.catalog.open("chaos/forecast_metrics")
    for name in FORECAST_SYSTEMS:
        for g in ("coarse", "fine"):
            n = int(bench.step_mask.sel(granularity=g).sum())
            n_hist = int(bench.n_history.sel(granularity=g))
            test = bench.univariate.sel(system=name, split="test", granularity=g,
                                        noise="clean").values[:n]
            expected = smape(test[n_hist:], test[n_hist - 1])
            got = float(fm.smape.sel(model="naive", system=name, granularity=g, noise="clean"))
            assert got == pytest.approx(expected, rel=1e-9), (name, g)


@flow_run
def test_correlations_are_spearman_of_the_stored_scores(tiny_run):
    fm = tiny_run.catalog.open("chaos/forecast_metrics")
    inv = tiny_run.catalog.open("chaos/invariants")
    corr = tiny_run.catalog.open("chaos/correlations")
    assert corr.attrs["n_systems"] == 3
    for model in ("naive", "linear_ar"):
        err = fm.smape.sel(model=model, granularity="fine", noise="clean",
                           system=FORECAST_SYSTEMS).values
        lyap = inv.lyapunov_max.sel(system=FORECAST_SYSTEMS).values
        rho = corr.spearman_rho.sel(model=model, granularity="fine", noise="clean",
                                    invariant="lyapunov_max")
        assert float(rho) == pytest.approx(spearmanr(err, lyap).statistic, abs=1e-12)


def _key(task, **inputs):
    """The cache key ``task``'s policy gives ``inputs`` in a run of its own."""
    ctx = SimpleNamespace(task=task, task_run=SimpleNamespace(id=uuid.uuid4(),
                                                               flow_run_id=uuid.uuid4()))
    return task.cache_policy.compute_key(task_ctx=ctx, inputs=inputs, flow_parameters={})


def test_invariants_task_is_cached_on_inputs_and_source_across_runs():
    inputs = dict(name="Lorenz", n_ics=2, n_periods=10.0, corr_periods=20.0, seed=0,
                  code_version="abc")
    key = _key(invariants_task, **inputs)
    assert key is not None
    assert _key(invariants_task, **inputs) == key  # another run, equal inputs: a cache hit
    for change in ({"name": "Rossler"}, {"seed": 1}, {"n_periods": 30.0}, {"code_version": "abd"}):
        assert _key(invariants_task, **{**inputs, **change}) != key, change
    # the task's source is part of the key: other code with the same inputs misses the cache
    other = SimpleNamespace(task=benchmark_task, task_run=SimpleNamespace(id=uuid.uuid4(),
                                                                          flow_run_id=None))
    assert invariants_task.cache_policy.compute_key(task_ctx=other, inputs=inputs,
                                                    flow_parameters={}) != key


def test_profiles():
    assert ChaosConfig.for_profile("paper").systems == "all"
    with pytest.raises(ConfigError):
        ChaosConfig.for_profile("huge")
