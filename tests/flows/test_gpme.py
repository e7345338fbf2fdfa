"""Flow gpme-data end to end on the tiny profile, queried as a user would."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from flows.common import FlowConfig
from flows.gpme import GPMEDataConfig, gpme_data_flow
from sciml.catalog import Catalog
from sciml.errors import ConfigError
from sciml.gpme import sample_parameters, stefan_exact_solution, validation_parameters

flow_run = pytest.mark.xdist_group("flows_gpme")  # tests sharing the module's flow run


@pytest.fixture(scope="module")
def tiny_run(prefect_harness, tmp_path_factory):
    """One run of the flow on the tiny profile: (config, returned names, catalog)."""
    cfg = GPMEDataConfig.for_profile("tiny")
    data_dir = tmp_path_factory.mktemp("gpme-flow") / "data"
    data_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCIML_DATA_DIR", str(data_dir))
        names = gpme_data_flow(config=cfg)
    return SimpleNamespace(config=cfg, names=names, catalog=Catalog.load(data_dir=data_dir))


@flow_run
def test_flow_writes_every_problem_and_figure(tiny_run):
    cfg = tiny_run.config
    assert sorted(tiny_run.names) == sorted(f"gpme/{p}/{s}" for p in cfg.problems
                                            for s in ("train", "val", "test"))
    figs = sorted(p.name for p in
                  Path(tiny_run.catalog.data_dir, "figures", "gpme-data").glob("*.png"))
    assert figs == [f"{p}_test_profiles.png" for p in sorted(cfg.problems)]


@flow_run
def test_stefan_test_set_is_the_exact_solution(tiny_run):
    cfg = tiny_run.config
    test = tiny_run.catalog.open("gpme/stefan/test")
    assert dict(test.sizes) == {"function": 2, "t": cfg.n_t, "x": cfg.n_x}
    assert test.attrs["config_hash"] == cfg.config_hash()
    # a user's query: by parameter label, at the evaluation time, as a table
    u = test.sel(param=0.6).sel(t=0.05, method="nearest").u
    np.testing.assert_allclose(u.values,
                               stefan_exact_solution([0.6], [float(u.t)], test.x.values)[0, 0])
    assert len(test.sel(param=0.6).u.to_dataframe()) == cfg.n_t * cfg.n_x


@flow_run
def test_train_parameters_are_the_seeded_draw_from_the_training_range(tiny_run):
    cfg = tiny_run.config
    train = tiny_run.catalog.open("gpme/pme/train")
    assert train.sizes["function"] == cfg.n_train_functions
    # pme's stream is seed + 1 (diffusion 0, pme 1, stefan 2): the same draw, reproduced here
    np.testing.assert_array_equal(train.param.values,
                                  sample_parameters("pme", cfg.n_train_functions, cfg.seed + 1))
    assert np.all((train.param.values >= 1.0) & (train.param.values <= 6.0))  # paper: m ~ U[1, 6]
    # the validation functions: their own draw from the same range (probconserv selects on them)
    val = tiny_run.catalog.open("gpme/pme/val")
    np.testing.assert_array_equal(val.param.values,
                                  validation_parameters("pme", cfg.n_val_functions, cfg.seed + 1))
    assert val.sizes["function"] == cfg.n_val_functions and val.attrs["split"] == "val"
    assert not np.isin(val.param.values, train.param.values).any()


def test_same_config_same_arrays(prefect_harness, catalog):
    cfg = GPMEDataConfig.for_profile("tiny", seed=7)
    gpme_data_flow(config=cfg)
    first = catalog.open("gpme/diffusion/train").param.values.copy()
    gpme_data_flow(config=cfg)
    np.testing.assert_array_equal(catalog.open("gpme/diffusion/train").param.values, first)


def test_task_failing_once_is_retried_and_flow_completes(prefect_harness, catalog, monkeypatch):
    calls = {"n": 0}
    original = Catalog.write

    def flaky(self, name, ds, provenance=None, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("simulated transient storage failure")
        return original(self, name, ds, provenance, **kwargs)

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
