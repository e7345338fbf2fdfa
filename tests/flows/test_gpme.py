"""Flow gpme-data end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.common import FlowConfig
from flows.gpme import GPMEDataConfig, gpme_data_flow
from sciml.catalog import Catalog
from sciml.errors import ConfigError
from sciml.gpme import stefan_exact_solution


def test_gpme_flow_writes_every_problem(prefect_harness, catalog):
    cfg = GPMEDataConfig.for_profile("tiny")
    names = gpme_data_flow(config=cfg)
    assert sorted(names) == sorted(f"gpme/{p}/{s}" for p in cfg.problems for s in ("train", "test"))
    test = catalog.open("gpme/stefan/test")
    assert dict(test.sizes) == {"function": 2, "t": cfg.n_t, "x": cfg.n_x}
    assert test.attrs["config_hash"] == cfg.config_hash()
    # a user's query: by parameter label, at the evaluation time, as a table
    u = test.sel(param=0.6).sel(t=0.05, method="nearest").u
    np.testing.assert_allclose(u.values, stefan_exact_solution([0.6], [float(u.t)], test.x.values)[0, 0])
    df = test.sel(param=0.6).u.to_dataframe()
    assert len(df) == cfg.n_t * cfg.n_x
    train = catalog.open("gpme/pme/train")
    assert train.sizes["function"] == cfg.n_train_functions
    lo, hi = 1.0, 6.0
    assert np.all((train.param.values >= lo) & (train.param.values <= hi))
    figs = sorted(p.name for p in Path(catalog.data_dir, "figures", "gpme-data").glob("*.png"))
    assert figs == [f"{p}_test_profiles.png" for p in sorted(cfg.problems)]


def test_same_config_same_arrays(prefect_harness, catalog):
    cfg = GPMEDataConfig.for_profile("tiny", seed=7)
    gpme_data_flow(config=cfg)
    first = catalog.open("gpme/diffusion/train").param.values.copy()
    gpme_data_flow(config=cfg)
    np.testing.assert_array_equal(catalog.open("gpme/diffusion/train").param.values, first)


def test_task_failing_once_is_retried_and_flow_completes(prefect_harness, catalog, monkeypatch):
    calls = {"n": 0}
    original = Catalog.write

    def flaky(self, name, ds, provenance=None):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("simulated transient storage failure")
        return original(self, name, ds, provenance)

    monkeypatch.setattr(Catalog, "write", flaky)
    from prefect import flow

    from flows.common import write_dataset

    @flow
    def one_write():
        from sciml.gpme import make_gpme_dataset

        return write_dataset("gpme/stefan/test", make_gpme_dataset("stefan", [0.6], 5, 5, "test"), None)

    assert one_write() == "gpme/stefan/test"
    assert calls["n"] == 2
    assert catalog.open("gpme/stefan/test").sizes["x"] == 5


def test_unknown_profile_and_bad_config():
    with pytest.raises(ConfigError, match="unknown profile 'huge'"):
        GPMEDataConfig.for_profile("huge")
    with pytest.raises(ValueError, match="n_t"):
        GPMEDataConfig(n_t=1)
    with pytest.raises(ValueError, match="problems"):
        GPMEDataConfig(problems=("heat",))
    assert issubclass(GPMEDataConfig, FlowConfig)
    assert GPMEDataConfig().config_hash() == GPMEDataConfig.for_profile("fast").config_hash()
    assert GPMEDataConfig().config_hash() != GPMEDataConfig(seed=1).config_hash()
