"""Benchmark datasets: layout, grids, splits, padding, noise, and the user's query."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sciml.chaos import benchmark_to_dataset, generate_system, get_system, time_grid
from sciml.errors import ConfigError


@pytest.fixture(scope="module")
def results():
    out = {}
    for name in ("Lorenz", "MackeyGlass"):
        out[name] = generate_system(get_system(name), seed=0, rtol=1e-8, atol=1e-8)
    return out


def test_generate_system_layout(results):
    r = results["Lorenz"]
    s = get_system("Lorenz")
    assert r["x"].shape == (2, 2, 2, 1200, 3)
    assert r["n_points"].tolist() == [180, 1200]
    np.testing.assert_allclose(r["t"][1], time_grid(s.period, 1200, 100), rtol=1e-12)
    np.testing.assert_allclose(r["t"][0, :180], time_grid(s.period, 180, 15), rtol=1e-12)
    assert np.all(np.isnan(r["x"][:, 0, :, 180:]))
    assert np.all(np.isfinite(r["x"][:, 1]))
    # train and test start from different on-attractor points
    assert np.linalg.norm(r["ic"][0] - r["ic"][1]) > 0.1
    # coarse and fine come from one integration: equal where the grids coincide (t = 0, end)
    np.testing.assert_allclose(r["x"][:, 0, 0, 179], r["x"][:, 1, 0, 1199], rtol=1e-10)
    # noisy differs from clean but has the same scale
    clean, noisy = r["x"][:, 1, 0], r["x"][:, 1, 1]
    assert np.abs(clean - noisy).max() > 1e-3
    np.testing.assert_allclose(noisy.std(axis=1), clean.std(axis=1), rtol=0.5)


def test_same_seed_same_series():
    a = generate_system(get_system("Rossler"), seed=3, noise=0.01)
    b = generate_system(get_system("Rossler"), seed=3, noise=0.01)
    np.testing.assert_array_equal(a["x"], b["x"])


def test_maps_refused():
    with pytest.raises(ConfigError, match="map"):
        generate_system(get_system("Henon"))


def test_to_dataset_query(results):
    ds = benchmark_to_dataset(results, periods={n: get_system(n).period for n in results},
                    dropped={"Rossler": "diverged"})
    sub = ds.sel(system="Lorenz", split="test", granularity="fine")
    assert dict(sub.x.sizes) == {"noise": 2, "step": 1200, "coordinate": 3}
    assert ds.coordinate_mask.sel(system="MackeyGlass").values.tolist() == [True, False, False]
    assert np.all(np.isnan(ds.x.sel(system="MackeyGlass", coordinate=1)))
    assert int(ds.n_history.sel(granularity="fine")) == 1000
    assert int(ds.is_forecast.sel(granularity="coarse").sum()) == 30
    hist = sub.univariate.sel(noise="clean").where(~sub.is_forecast & sub.step_mask, drop=True)
    assert hist.sizes["step"] == 1000
    np.testing.assert_array_equal(ds.univariate.values, ds.x.sel(coordinate=0).values)
    assert json.loads(ds.attrs["dropped_systems"]) == {"Rossler": "diverged"}
    df = ds.univariate.sel(system="Lorenz", granularity="coarse", noise="clean").to_dataframe()
    assert len(df) == 2 * 1200


def test_generate_many_batches_systems_and_solves_each_ode():
    from sciml.chaos import generate_many, plan_chunks, solve_ode

    systems = [get_system(n) for n in ("Lorenz", "Rossler", "MackeyGlass", "Henon")]
    assert plan_chunks(systems) == [["Lorenz", "Rossler"], ["MackeyGlass"]]
    res, dropped = generate_many(systems[:2] + systems[3:], noise=0.1, seed=0)
    assert set(res) == {"Lorenz", "Rossler"} and "Henon" in dropped
    for name in ("Lorenz", "Rossler"):
        s, r = get_system(name), res[name]
        assert r["x"].shape == (2, 2, 2, 1200, 3)
        t = r["t"][1]
        np.testing.assert_allclose(np.diff(t), s.period * 1200 / (100 * 1199), rtol=1e-12)
        # the batched clean train series is the ODE solution from its initial condition
        direct = solve_ode(s.rhs, r["ic"][0], t[:300], rtol=1e-10, atol=1e-10).y[0]
        np.testing.assert_allclose(r["x"][0, 1, 0, :300], direct, rtol=1e-5, atol=1e-5)
        assert np.all(np.isfinite(r["x"][:, :, 1, :180]))
        assert 0 < r["noise_level"] <= 0.1
    # Rossler escapes to infinity under strong forcing: its noise was halved, and recorded
    assert res["Rossler"]["noise_level"] < 0.1
