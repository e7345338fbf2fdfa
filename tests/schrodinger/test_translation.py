"""LightSB between a user's clouds: the datasets the catalog declares, seeded, and sensible."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.catalog import Catalog
from sciml.errors import ConfigError
from sciml.schrodinger.experiment import LightSBConfig
from sciml.schrodinger.point_clouds import PointClouds, samples_to_dataset
from sciml.schrodinger.translation import (
    SAMPLES,
    TRANSPORT,
    USER_METRICS,
    USER_TRAJECTORIES,
    fit_clouds,
    metrics_dataset,
    metrics_table,
    trajectories_dataset,
    transport_dataset,
)

_SHIFT = np.array([2.0, -1.0])


@pytest.fixture(scope="module")
def run():
    """Clouds N(0, I) -> N(m, I) in 2-D with a held-out N(m/2, I), a K = 1 fit and its datasets."""
    rng = np.random.default_rng(0)
    clouds = PointClouds(rng.standard_normal((600, 2)), rng.standard_normal((500, 2)) + _SHIFT,
                         rng.standard_normal((400, 2)) + 0.5 * _SHIFT, 0.5)  # fmt: skip
    cfg = LightSBConfig.for_profile("tiny", n_components=1, n_steps=300, batch_size=128,
                                    data={"source": "a.npy", "target": "b.npy", "eps": 0.1})  # fmt: skip
    fit = fit_clouds(cfg, clouds)
    out = {SAMPLES: samples_to_dataset(clouds), TRANSPORT: transport_dataset(cfg, fit, clouds),
           USER_TRAJECTORIES: trajectories_dataset(cfg, fit, clouds),
           USER_METRICS: metrics_dataset(cfg, fit, clouds)}  # fmt: skip
    return cfg, clouds, fit, out


def test_datasets_are_what_the_catalog_declares(run, tmp_path):
    cat = Catalog.load(data_dir=tmp_path)
    for name, ds in run[3].items():
        cat.validate(name, ds)


def test_the_fit_moves_the_cloud_and_the_bridge_passes_the_heldout_time(run):
    cfg, clouds, fit, out = run
    moved = out[TRANSPORT]
    np.testing.assert_allclose(moved.conditional_mean.values.mean(0), _SHIFT, atol=0.2)
    path = out[USER_TRAJECTORIES].path
    np.testing.assert_array_equal(path.isel(t=0).values, clouds.source[: cfg.n_traj])
    e = out[USER_METRICS].energy_distance
    assert float(e.sel(model="lightsb", reference="target")) < 0.1 * float(
        e.sel(model="source", reference="target"))
    assert float(e.sel(model="lightsb", reference="heldout")) < 0.2 * float(
        e.sel(model="source", reference="heldout"))
    assert out[USER_METRICS].attrs["heldout_time"] == 0.5
    table = metrics_table(out[USER_METRICS])
    assert len(table) == 5  # (target, target) is not defined


def test_same_settings_same_arrays(run):
    cfg, clouds, fit, out = run
    again = transport_dataset(cfg, fit_clouds(cfg, clouds), clouds)
    np.testing.assert_array_equal(again.transported.values, out[TRANSPORT].transported.values)


def test_needs_the_data_settings(run):
    _, clouds, fit, _ = run
    with pytest.raises(ConfigError, match="data.source and data.target"):
        transport_dataset(LightSBConfig.for_profile("tiny"), fit, clouds)
