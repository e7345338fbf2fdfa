"""Simulator: Fokker-Planck stationary amplitude law, seeds, frame amplitude, re-simulation."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import ConfigError, DataError
from sciml.thermoacoustic import (
    CombustorParams,
    frame_amplitude,
    integrate_mode,
    resimulate,
    simulate_runs,
    stationary_amplitude_density,
)


def _stationary_amplitudes(params, nu, n_runs=48, n_steps=120_000, burn=20_000, seed=0):
    rng = np.random.default_rng(seed)
    eta, v = integrate_mode(np.full((n_runs, n_steps), nu), rng.standard_normal((n_runs, n_steps)),
                            params)
    return np.sqrt(eta**2 + (v / params.w0) ** 2)[:, burn::50].ravel()


@pytest.mark.parametrize(
    ("params", "nu"),
    [
        (CombustorParams(), -10.0),  # noise-driven, below the Hopf point
        (CombustorParams(), 0.0),  # at the bifurcation
        (CombustorParams(), 10.0),  # limit cycle
        (CombustorParams.subcritical(), 5.0),  # subcritical variant, above the Hopf point
        (CombustorParams.subcritical(), -12.0),  # subcritical, below the fold (monostable)
    ],
)
def test_stationary_amplitude_matches_fokker_planck(params, nu):
    a = _stationary_amplitudes(params, nu)
    grid = np.linspace(0.0, 3 * a.max(), 30001)
    dens = stationary_amplitude_density(grid, nu, params)
    assert np.trapezoid(dens, grid) == pytest.approx(1.0, abs=1e-4)
    m1 = np.trapezoid(grid * dens, grid)
    m2 = np.trapezoid(grid**2 * dens, grid)
    assert a.mean() == pytest.approx(m1, rel=0.03)
    assert np.sqrt((a**2).mean()) == pytest.approx(np.sqrt(m2), rel=0.03)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    ks = np.max(np.abs(np.interp(np.sort(a), grid, cdf) - np.arange(1, a.size + 1) / a.size))
    assert ks < 0.03


def test_linear_limit_is_rayleigh_with_oscillator_variance():
    p = CombustorParams(kappa=1e-12)
    nu = -20.0
    grid = np.linspace(0, 5, 20001)
    s2 = p.gamma / (4 * p.w0**2 * abs(nu))  # Var(eta) of eta'' + 2|nu| eta' + w0^2 eta = xi
    rayleigh = grid / s2 * np.exp(-(grid**2) / (2 * s2))
    np.testing.assert_allclose(stationary_amplitude_density(grid, nu, p), rayleigh, atol=1e-6)


def test_same_seed_same_runs_other_seed_differs():
    a = simulate_runs(3, 0.5, seed=11)
    b = simulate_runs(3, 0.5, seed=11)
    c = simulate_runs(3, 0.5, seed=12)
    np.testing.assert_array_equal(a.p_dyn, b.p_dyn)
    np.testing.assert_array_equal(a.slow["p_c"], b.slow["p_c"])
    np.testing.assert_array_equal(a.amplitude, b.amplitude)
    assert not np.allclose(a.p_dyn, c.p_dyn)
    assert a.amplitude.shape == (3, 50) and a.p_dyn.shape == (3, 5000)
    assert a.state.shape == (3, 50, 2)


def test_runs_do_not_depend_on_chunking_or_run_count():
    a = simulate_runs(5, 0.3, seed=4, chunk=2)
    b = simulate_runs(5, 0.3, seed=4, chunk=5)
    c = simulate_runs(3, 0.3, seed=4)
    for x in (b, c):
        n = x.n_runs
        np.testing.assert_array_equal(a.p_dyn[:n], x.p_dyn)
        np.testing.assert_array_equal(a.oh_star[:n], x.oh_star)
        np.testing.assert_array_equal(a.slow["T_inj_f"][:n], x.slow["T_inj_f"])
        np.testing.assert_array_equal(a.state[:n], x.state)
        np.testing.assert_array_equal(a.delta[:n], x.delta)
    assert a.p_dyn.dtype == a.nu_fast.dtype == np.float32
    # each run draws from its own stream
    assert not np.allclose(a.delta[0], a.delta[1])


def test_frame_amplitude_of_a_sinusoid_is_its_amplitude():
    p = CombustorParams()
    t = np.arange(20 * p.samples_per_frame) / p.fs
    amp = np.array([0.5, 2.0])[:, None]
    x = amp * np.cos(2 * np.pi * p.f0 * t + 0.3)
    np.testing.assert_allclose(frame_amplitude(x, p), np.broadcast_to(amp, (2, 20)), rtol=1e-10)


def test_resimulate_seeded_and_consistent_with_the_run():
    runs = simulate_runs(2, 1.5, seed=3)
    s1 = resimulate(runs, np.array([0, 1]), np.array([40, 60]), 10, 64, seed=5)
    s2 = resimulate(runs, np.array([0, 1]), np.array([40, 60]), 10, 64, seed=5)
    s3 = resimulate(runs, np.array([0, 1]), np.array([40, 60]), 10, 64, seed=6)
    np.testing.assert_array_equal(s1, s2)
    assert not np.allclose(s1, s3)
    assert s1.shape == (2, 64, 10)
    # one frame ahead, the oracle is tight around the recorded next amplitude
    obs = runs.amplitude[[0, 1], [41, 61]]
    q_lo, q_hi = np.quantile(s1[:, :, 0], [0.005, 0.995], axis=1)
    assert np.all((obs > q_lo - 0.05) & (obs < q_hi + 0.05))


def test_zero_noise_resimulation_reproduces_the_deterministic_path():
    p = CombustorParams(gamma=1e-12, noise_p_dyn=0.0, noise_p=0.0, noise_t=0.0, oh_noise=0.0)
    runs = simulate_runs(1, 1.0, seed=0, params=p)
    s = resimulate(runs, np.array([0]), np.array([20]), 30, 2, seed=1)
    np.testing.assert_allclose(s[0, 0], runs.amplitude[0, 21:51], rtol=1e-6, atol=1e-9)


def test_bad_parameters_raise():
    with pytest.raises(ConfigError, match="fs/frame_rate"):
        simulate_runs(1, 1.0, seed=0, params=CombustorParams(frame_rate=97.0))
    with pytest.raises(ConfigError, match="unbounded"):
        simulate_runs(1, 1.0, seed=0, params=CombustorParams(kappa=-1.0, kappa5=0.0))
    with pytest.raises(DataError, match="same 2-D shape"):
        integrate_mode(np.zeros((2, 5)), np.zeros((2, 4)), CombustorParams())


def test_subcritical_variant_shows_hysteresis_supercritical_does_not():
    fs = CombustorParams().fs
    up = np.linspace(-20.0, 5.0, int(3 * fs))
    nu = np.concatenate([up, up[::-1]])[None, :].repeat(8, axis=0)
    at = np.argmin(np.abs(up - (-4.0)))  # nu = -4 1/s, inside the bistable range (-8, 0)
    idx_up, idx_down = at, 2 * up.size - 1 - at
    rng = np.random.default_rng(0)
    amps = {}
    for name, p in (("sub", CombustorParams.subcritical(gamma=2e7)),
                    ("super", CombustorParams(gamma=2e7))):
        eta, v = integrate_mode(nu, rng.standard_normal(nu.shape), p)
        a = np.sqrt(eta**2 + (v / p.w0) ** 2)
        amps[name] = (a[:, idx_up].mean(), a[:, idx_down].mean())
    up_a, down_a = amps["sub"]
    assert up_a < 0.6 and down_a > 3.0  # upper branch (A ~ 3.7 bar) persists on the way down
    up_a, down_a = amps["super"]
    assert abs(down_a - up_a) < 0.5 and down_a < 1.0
