"""Invariants: Lorenz and Henon against their known values, closed-form checks of the estimators."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.chaos import (
    correlation_dimension,
    dominant_period,
    get_system,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    make_trajectory,
    max_lyapunov_two_trajectory,
    pesin_entropy,
)
from sciml.chaos.datasets import invariants_to_dataset
from sciml.chaos.invariants import estimate_invariants, fisher_g_pvalue
from sciml.errors import ConfigError


@pytest.fixture(scope="module")
def lorenz_spectrum():
    s = get_system("Lorenz")
    return lyapunov_spectrum(s, n_ics=2, n_periods=100, seed=0, rtol=1e-6, atol=1e-6)


def test_lorenz_spectrum(lorenz_spectrum):
    spectra, (mean, se) = lorenz_spectrum
    assert 0.85 <= mean[0] <= 0.95
    assert abs(mean[1]) < 0.05
    np.testing.assert_allclose(spectra.sum(axis=1), -(10 + 1 + 8 / 3), rtol=0.01)
    assert np.all(np.isfinite(se))


def test_lorenz_two_trajectory_agrees():
    lam, (mean, se) = max_lyapunov_two_trajectory(get_system("Lorenz"), n_ics=2, n_periods=100,
                                                 rtol=1e-7, atol=1e-9)
    assert 0.8 <= mean <= 1.0


def test_lorenz_correlation_dimension():
    s = get_system("Lorenz")
    x = make_trajectory(s, 4000, pts_per_period=20, transient=2, rtol=1e-6, atol=1e-6).x
    d2 = correlation_dimension(x)
    assert abs(d2[0] - 2.05) <= 0.15


def test_henon_exponents():
    s = get_system("Henon")
    spectra, (mean, se) = lyapunov_spectrum(s, n_ics=3, n_iter=8_000)
    np.testing.assert_allclose(mean, [0.419, -1.623], atol=0.01)
    np.testing.assert_allclose(spectra.sum(axis=1), np.log(0.3), rtol=1e-9)
    lam, (m2, _) = max_lyapunov_two_trajectory(s, n_ics=3, n_iter=8_000)
    np.testing.assert_allclose(m2, 0.419, atol=0.01)


def test_mackey_glass_two_trajectory_positive_and_no_spectrum():
    s = get_system("MackeyGlass")
    lam, (mean, se) = max_lyapunov_two_trajectory(s, n_ics=2, n_periods=30)
    assert 0.0 < mean < 0.03  # literature ~0.007 per unit time at tau = 17
    with pytest.raises(ConfigError, match="delay"):
        lyapunov_spectrum(s)


@pytest.mark.parametrize(("spec", "ky", "h"), [
    ([0.9056, 0.0, -14.5723], 2 + 0.9056 / 14.5723, 0.9056),
    ([0.42, -1.62], 1 + 0.42 / 1.62, 0.42),
    ([-0.1, -1.0], 0.0, 0.0),
    ([0.5, 0.2], 2.0, 0.7),
    ([0.1, 0.1, -0.05, -1.0], 3 + 0.15 / 1.0, 0.2),
])
def test_kaplan_yorke_and_pesin(spec, ky, h):
    np.testing.assert_allclose(kaplan_yorke_dimension(np.array(spec)), ky)
    np.testing.assert_allclose(pesin_entropy(np.array(spec)), h)


def test_correlation_dimension_of_line_and_square():
    rng = np.random.default_rng(0)
    line = np.stack([rng.random(3000)] * 3, axis=1) * [1, 2, 3]
    square = np.concatenate([rng.random((3000, 2)), np.zeros((3000, 1))], axis=1)
    np.testing.assert_allclose(correlation_dimension(line, theiler=0), 1.0, atol=0.05)
    np.testing.assert_allclose(correlation_dimension(square, theiler=0), 2.0, atol=0.15)


def test_dominant_period_and_significance():
    dt = 0.01
    t = np.arange(4000) * dt
    x = np.sin(2 * np.pi * t / 0.8)[:, None]
    per, p, sig = dominant_period(x, dt)
    np.testing.assert_allclose(per, 0.8, rtol=0.01)
    assert sig and p < 1e-10
    noise = np.random.default_rng(0).normal(size=(20, 512, 1))
    _, p, sig = dominant_period(noise, dt)
    assert sig.mean() < 0.2  # alpha = 0.01 test on white noise rarely rejects
    np.testing.assert_allclose(fisher_g_pvalue(np.array([1.0]), 10), 0.0, atol=1e-12)


def test_estimate_invariants_table():
    res = [estimate_invariants(get_system(n), n_ics=2, n_periods=20, corr_periods=30,
                               n_iter=3000) for n in ("Lorenz", "Henon")]
    lor = res[0]
    assert 0.7 < lor["lyapunov_max"] < 1.1 and 1.9 < lor["kaplan_yorke"] < 2.2
    assert lor["flags"] == [] or "qr_two_traj_disagree" in lor["flags"]
    ds = invariants_to_dataset(res, [get_system("Lorenz"), get_system("Henon")])
    assert ds.sizes == {"system": 2, "exponent": 3}
    assert np.isnan(ds.spectrum.sel(system="Henon", exponent=2))
    np.testing.assert_allclose(ds.lyapunov_max_literature.sel(system="Lorenz"), 0.9056)
