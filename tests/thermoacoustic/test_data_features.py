"""Run layout: validation errors, NetCDF/zarr round trip; frame features and windows."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError, UnknownNameError
from sciml.thermoacoustic import (
    FEATURE_CHANNELS,
    frame_features,
    load_runs,
    make_windows,
    runs_to_dataset,
    simulate_runs,
    split_runs,
    validate_runs,
)
from sciml.thermoacoustic.features import channel_indices


@pytest.fixture(scope="module")
def runs():
    return simulate_runs(4, 1.0, seed=2)


@pytest.fixture(scope="module")
def ds(runs):
    return runs_to_dataset(runs, split_runs(4, (0.5, 0.25, 0.25), seed=0))


def test_user_recordings_round_trip_and_amplitude_recomputed(ds, tmp_path):
    user = ds.drop_vars(["amplitude", "nu", "state", "nu_fast", "delta"])
    for ext in ("nc", "zarr"):
        path = tmp_path / f"mine.{ext}"
        user.to_netcdf(path) if ext == "nc" else user.to_zarr(path)
        back = load_runs(path)
        np.testing.assert_allclose(back.amplitude.values, ds.amplitude.values, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.drop_vars("p_c"), "lacks variable 'p_c'"),
        (lambda d: d.assign(p_c=d.p_c.where(d.time > 0.2)), "'p_c' holds NaN"),
        (lambda d: d.isel(time_fast=slice(0, -1)), "time_fast has"),
        (lambda d: d.drop_vars("split"), "split"),
        (lambda d: d.assign_attrs(fs=None) and d.drop_attrs(), "lacks attribute"),
        (lambda d: d.assign(p_dyn=d.p_dyn.T), "expected \\('run', 'time_fast'\\)"),
    ],
)
def test_validation_names_the_problem(ds, mutate, match):
    with pytest.raises(DataError, match=match):
        validate_runs(mutate(ds.copy()))


def test_missing_file_raises(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_runs(tmp_path / "nope.zarr")


def test_windows_index_the_right_frames(runs):
    f = frame_features(runs.p_dyn, runs.oh_star, runs.slow, runs.controls, runs.params)
    assert f.shape == (4, 100, len(FEATURE_CHANNELS)) and f.dtype == np.float32
    band = FEATURE_CHANNELS.index("p_dyn_band")
    np.testing.assert_allclose(np.exp(f[..., band]) - 1e-2, runs.amplitude, rtol=1e-4, atol=1e-5)
    w = make_windows(f, runs.amplitude, window=7, horizons=(1, 10), future_stride=5, runs=[1, 3])
    i = 5
    r, k = w.run[i], w.frame[i]
    np.testing.assert_array_equal(w.x_hist[i][:, -1], f[r, k])
    np.testing.assert_array_equal(w.x_hist[i][:, 0], f[r, k - 6])
    np.testing.assert_allclose(w.y[i], runs.amplitude[r, [k + 1, k + 10]], rtol=1e-6)
    np.testing.assert_allclose(w.x_fut[i][0], runs.controls["mdot_ox"][r, [k + 5, k + 10]], rtol=1e-6)
    assert set(w.run) == {1, 3} and len(w) == 2 * (100 - 6 - 10)
    with pytest.raises(DataError, match="exceeds the run"):
        make_windows(f, runs.amplitude, window=95, horizons=(10,))


def test_sensor_sets():
    assert len(channel_indices("all")) == len(FEATURE_CHANNELS)
    names = [FEATURE_CHANNELS[i] for i in channel_indices("no_p_dyn")]
    assert "p_dyn_band" not in names and "oh_band" in names
    with pytest.raises(UnknownNameError, match="no_p_dyn"):
        channel_indices("no_pdyn")
