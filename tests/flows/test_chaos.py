"""Flow chaos end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

import numpy as np
import pytest

from flows.chaos import ChaosConfig, chaos_flow, invariants_task
from sciml.errors import ConfigError


def test_chaos_flow_tiny(prefect_harness, catalog):
    cfg = ChaosConfig.for_profile("tiny")
    names = chaos_flow(config=cfg)
    assert set(names) == {"invariants", "benchmark", "forecast_metrics", "correlations"}

    inv = catalog.open("chaos/invariants")
    assert set(inv.system.values) == {"Lorenz", "Rossler", "MackeyGlass", "Henon"}
    assert 0.6 < float(inv.lyapunov_max.sel(system="Lorenz")) < 1.2
    np.testing.assert_allclose(inv.lyapunov_sum.sel(system="Lorenz"), -(10 + 1 + 8 / 3),
                               rtol=0.01)
    assert np.isnan(inv.spectrum.sel(system="MackeyGlass", exponent=0))
    assert inv.attrs["config_hash"] == cfg.config_hash()

    bench = catalog.open("chaos/benchmark")
    sub = bench.sel(system="Lorenz", split="test", granularity="fine")
    assert dict(sub.x.sizes) == {"noise": 2, "step": 1200, "coordinate": 3}
    assert "Henon" not in bench.system.values  # maps are not forecast
    assert bool(bench.coordinate_mask.sel(system="MackeyGlass", coordinate=0))

    fm = catalog.open("chaos/forecast_metrics")
    esn = fm.sel(model="esn", granularity="coarse", noise="clean")
    assert esn.smape.sizes == {"system": 3}
    assert np.all((fm.smape.values >= 0) & (fm.smape.values <= 200))
    ens = fm.sel(model="mlp_ensemble")
    assert np.all(np.isfinite(ens.crps.values))
    df = fm.smape.to_dataframe()
    assert len(df) == fm.sizes["model"] * 3 * 2 * 1

    corr = catalog.open("chaos/correlations")
    rho = corr.spearman_rho.sel(model="linear_ar", granularity="fine", noise="clean",
                                invariant="lyapunov_max")
    assert -1 <= float(rho) <= 1


def test_invariants_task_is_cached_on_inputs():
    policy = invariants_task.cache_policy
    assert "Inputs" in repr(policy) and "TaskSource" in repr(policy)


def test_profiles():
    assert ChaosConfig.for_profile("paper").systems == "all"
    with pytest.raises(ConfigError):
        ChaosConfig.for_profile("huge")
