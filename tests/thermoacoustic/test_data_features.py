"""Run layout: validation errors, NetCDF/zarr round trip; frame features and windows."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError, DatasetNotFoundError, UnknownNameError
from sciml.thermoacoustic import (
    FEATURE_CHANNELS,
    frame_features,
    make_windows,
    runs_to_dataset,
    simulate_runs,
    split_runs,
    validate_runs,
)
from sciml.thermoacoustic.features import (
    AMP_FLOOR,
    Standardizer,
    channel_indices,
    measured_amplitude,
    nowcast,
    still_frames,
    tail_amplitude,
)
from sciml.thermoacoustic.simulator import CombustorParams


@pytest.fixture(scope="module")
def runs():
    return simulate_runs(4, 1.0, seed=2)


@pytest.fixture(scope="module")
def ds(runs):
    return runs_to_dataset(runs, split_runs(4, (0.5, 0.25, 0.25), seed=0))


def test_user_recordings_import_by_name_and_amplitude_recomputed(ds, tmp_path, catalog):
    """A user's file (netCDF or zarr) goes into the catalog as ``thermoacoustic/recordings``;
    the layout validator recomputes the amplitude it lacks."""
    user = ds.drop_vars(["amplitude", "nu", "state", "nu_fast", "delta"])
    # zarr v3 specifies variable-length strings only (numpy's fixed-width '<U' labels raise
    # zarr's UnstableSpecificationWarning) and no consolidated metadata: write it as specified
    labels = {k: user[k].astype(object) for k in user.coords if user[k].dtype.kind == "U"}
    for ext in ("nc", "zarr"):
        path = tmp_path / f"mine.{ext}"
        if ext == "nc":
            user.to_netcdf(path)
        else:
            user.assign_coords(labels).to_zarr(path, consolidated=False)
        catalog.import_file("thermoacoustic/recordings", path)
        back = catalog.open("thermoacoustic/recordings").load()
        np.testing.assert_allclose(back.amplitude.values, ds.amplitude.values, rtol=1e-5, atol=1e-6)
        assert back.attrs["imported_from"] == str(path.resolve())
    bad = tmp_path / "bad.nc"
    user.assign(p_c=user.p_c.where(user.time > 0.2)).to_netcdf(bad)
    with pytest.raises(DataError, match="dataset 'thermoacoustic/recordings': variable 'p_c' holds NaN"):
        catalog.import_file("thermoacoustic/recordings", bad)
    assert catalog.open("thermoacoustic/recordings").sizes["run"] == ds.sizes["run"]  # previous kept


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


def test_missing_file_raises(tmp_path, catalog):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        catalog.import_file("thermoacoustic/recordings", tmp_path / "nope.zarr")


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


def test_tail_amplitude_is_the_last_period_amplitude():
    # amplitude ramps linearly inside each frame: the tail sees the end value, the frame its mean
    p = CombustorParams()
    n_frame, n_tail = p.samples_per_frame, int(round(p.fs / p.f0))
    t = np.arange(3 * n_frame) / p.fs
    env = np.repeat([0.5, 1.0, 2.0], n_frame)
    x = env * np.cos(p.w0 * t + 0.3)
    np.testing.assert_allclose(tail_amplitude(x, p), [0.5, 1.0, 2.0], rtol=1e-10)
    ramp = np.tile(np.linspace(0.0, 1.0, n_frame, endpoint=False), 3) + 1.0
    tail = tail_amplitude(ramp * np.cos(p.w0 * t), p)
    np.testing.assert_allclose(tail, np.mean(ramp[n_frame - n_tail : n_frame]), rtol=2e-2)
    assert np.all(tail > 1.85)
    with pytest.raises(DataError, match="no bin"):
        tail_amplitude(x, CombustorParams(band=(1050.0, 1150.0)))


def test_nowcast_measured_amplitude_and_residual_targets(runs):
    f = frame_features(runs.p_dyn, runs.oh_star, runs.slow, runs.controls, runs.params)
    np.testing.assert_allclose(measured_amplitude(f), runs.amplitude, rtol=1e-4, atol=1e-5)
    w = make_windows(f, runs.amplitude, window=5, horizons=(1, 5))
    np.testing.assert_allclose(nowcast(w), tail_amplitude(runs.p_dyn, runs.params)[w.run, w.frame],
                               rtol=1e-4, atol=1e-5)
    for residual in (True, False):
        sc = Standardizer.fit(w, residual=residual)
        z = sc.target(w)
        np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-5)
        np.testing.assert_allclose(z.std(0), 1.0, rtol=1e-4)
        from sciml.thermoacoustic import Forecast

        back = sc.forecast(Forecast(z.astype(np.float64), np.ones_like(z), np.zeros_like(z)), w)
        np.testing.assert_allclose(back.mean, w.y, rtol=1e-5, atol=1e-5)
        rt = Standardizer.from_arrays(sc.to_arrays())
        assert rt.residual is residual
        np.testing.assert_allclose(rt.target(w), z, rtol=1e-6, atol=1e-6)


def test_dead_fast_sensor_leaves_the_training_range(runs):
    f = frame_features(runs.p_dyn, runs.oh_star, runs.slow, runs.controls, runs.params)
    w = make_windows(f, runs.amplitude, window=5, horizons=(1, 5), runs=[0, 1])
    sc = Standardizer.fit(w)
    assert not sc.out_of_range(w).any()  # training windows are inside by construction
    for held in (0.0, 0.37):  # dead (zeroed) or stuck at a value: no acoustic content
        x = np.array(runs.p_dyn, copy=True)
        x[:, 50 * runs.params.samples_per_frame :] = held
        g = frame_features(x, runs.oh_star, runs.slow, runs.controls, runs.params)
        for c in ("p_dyn_band", "p_dyn_broad", "p_dyn_tail"):
            np.testing.assert_allclose(g[:, 50:, FEATURE_CHANNELS.index(c)], np.log(AMP_FLOOR),
                                       rtol=1e-6)
        wf = make_windows(g, runs.amplitude, window=5, horizons=(1, 5), runs=[2, 3])
        flag = sc.out_of_range(wf, margin=1.0)
        after = wf.frame >= 50
        assert flag[after][:, FEATURE_CHANNELS.index("p_dyn_band")].all()
        assert nowcast(wf)[after].max() == 0.0
        # exceedance in training stds: the band feature's distance below its training minimum
        c = FEATURE_CHANNELS.index("p_dyn_band")
        gap = (sc.hist_min[c] - np.log(AMP_FLOOR)) / sc.hist_std[c]
        assert np.all(sc.exceedance(wf)[wf.frame >= 54] >= gap * (1 - 1e-5))
        nu = sc.off_data_weight(wf)
        np.testing.assert_allclose(nu, -np.expm1(-0.5 * sc.exceedance(wf) ** 2))
        assert np.all(nu[wf.frame >= 54] > 0)
    assert np.all(sc.exceedance(w) == 0) and np.all(sc.off_data_weight(w) == 0)


def test_moving_average_channels_are_causal_first_order_lags():
    from sciml.thermoacoustic.features import _ema

    # a unit step at k = 10: y_k = 1 - a^(k - 9) for k >= 10 with a = exp(-1/n), 0 before
    n = 7.0
    x = np.zeros((2, 60))
    x[:, 10:] = 1.0
    y = _ema(x, n)
    k = np.arange(60)
    np.testing.assert_allclose(y[0], np.where(k >= 10, 1.0 - np.exp(-(k - 9) / n), 0.0), atol=1e-12)
    np.testing.assert_allclose(_ema(np.full((1, 5), 3.0), n), 3.0)  # starts at the first value
    z = x.copy()
    z[:, 40:] = 5.0  # the future does not change the past
    np.testing.assert_array_equal(_ema(z, n)[:, :40], y[:, :40])


def test_still_frames_counts_the_trailing_repeats():
    x = np.array([[[1.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 2.0, 3.0],
                   [4.0, 4.0, 5.0, 5.0]]], dtype=np.float32)  # (n=1, C=4, W=4)
    np.testing.assert_array_equal(still_frames(x), [[2, 3, 0, 1]])


def test_frozen_monitor_flags_stale_features_not_held_controls(runs):
    f = frame_features(runs.p_dyn, runs.oh_star, runs.slow, runs.controls, runs.params)
    w = make_windows(f, runs.amplitude, window=5, horizons=(1, 5), runs=[0, 1])
    sc = Standardizer.fit(w)
    ctrl = [FEATURE_CHANNELS.index(c) for c in ("mdot_ox", "mdot_f")]
    sensors = np.setdiff1d(np.arange(len(FEATURE_CHANNELS)), ctrl)
    assert np.all(sc.hist_still[sensors] == 0)  # noisy features never repeat a value
    assert not sc.frozen(w).any()
    g = f.copy()
    band = FEATURE_CHANNELS.index("p_dyn_band")
    g[:, 50:, band] = g[:, 49:50, band]  # a stuck feature pipeline from frame 50 on
    wf = make_windows(g, runs.amplitude, window=5, horizons=(1, 5), runs=[2, 3])
    flag = sc.frozen(wf, min_frames=3)
    # frame k >= 50 repeats frame 49: k - 49 trailing repeats, flagged from 3 on
    np.testing.assert_array_equal(flag[:, band], wf.frame >= 52)
    assert not np.delete(flag, band, axis=1).any()
    rt = Standardizer.from_arrays(sc.to_arrays())
    np.testing.assert_array_equal(rt.frozen(wf), sc.frozen(wf))
