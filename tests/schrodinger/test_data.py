"""Datasets of the LightSB workflow: dims, coords, round trip of the pairs, user queries."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.schrodinger.clouds import make_clouds
from sciml.schrodinger.datasets import (
    pair_from_dataset,
    pairs_to_dataset,
    to_dataset,
    trajectories_to_dataset,
)
from sciml.schrodinger.model import LightSB, sb_trajectories
from sciml.schrodinger.pairs import make_mixture_pair


def test_metrics_dataset_queries():
    recs = [
        {"dim": d, "eps": e, "seed": 0, "cbw2_uvp": d * e, "bw2_uvp": 0.1, "fit_seconds": 1.0}
        for d in (2, 16) for e in (0.1, 1.0)
    ]
    ds = to_dataset(recs)
    assert dict(ds.sizes) == {"dim": 2, "eps": 2, "seed": 1}
    assert float(ds.cbw2_uvp.sel(dim=16, eps=1.0, seed=0)) == 16.0
    assert ds.cbw2_uvp.attrs["units"] == "%"
    df = ds.to_dataframe().reset_index()
    assert set(df.columns) >= {"dim", "eps", "seed", "cbw2_uvp", "bw2_uvp", "fit_seconds"}
    assert np.isnan(ds.final_loss).all()
    with pytest.raises(DataError):
        to_dataset([])


def test_pairs_round_trip():
    pairs = {(d, e): make_mixture_pair(d, e) for d in (2, 3) for e in (0.1, 1.0)}
    moments = {k: p.target_moments(500) for k, p in pairs.items()}
    ds = pairs_to_dataset(pairs, moments)
    assert ds.sizes["axis"] == 3
    back = pair_from_dataset(ds, 2, 1.0)
    ref = pairs[(2, 1.0)]
    np.testing.assert_array_equal(back.potential_covs, ref.potential_covs)
    np.testing.assert_array_equal(back.source_means, ref.source_means)
    assert back.eps == 1.0
    x = ref.sample_source(5, np.random.default_rng(0))
    np.testing.assert_allclose(back.conditional_moments(x)[0], ref.conditional_moments(x)[0])
    assert np.isnan(ds.potential_means.sel(dim=2).isel(axis=2)).all()
    assert float(ds.target_var.sel(dim=3, eps=0.1)) == pytest.approx(
        np.trace(moments[(3, 0.1)][1]))


def test_clouds_and_trajectories():
    src, tgt = make_clouds(500, seed=0)
    assert src.shape == tgt.shape == (500, 2)
    np.testing.assert_allclose(tgt.std(0), 1.0, atol=0.05)
    np.testing.assert_array_equal(make_clouds(500, seed=0)[1], tgt)
    model = LightSB(2, 3, 0.1)
    times, path = sb_trajectories(model, src[:20], n_steps=10, seed=0)
    assert times.shape == (11,) and path.shape == (11, 20, 2)
    ds = trajectories_to_dataset(times, {"swiss_roll": path}, {"swiss_roll": tgt[:20]},
                                 {"swiss_roll": 0.1})
    assert ds.path.sel(example="swiss_roll", t=1.0).shape == (20, 2)
