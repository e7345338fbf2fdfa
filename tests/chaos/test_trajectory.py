"""make_trajectory: the dysts grid convention, transients, IC sampling, noise, standardisation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sciml.chaos import get_system, make_trajectory, sample_ics, time_grid
from sciml.errors import ConfigError


@pytest.mark.parametrize(("n", "ppp"), [(1200, 100), (180, 15), (7, 3)])
def test_resampled_grid_spacing_is_exact(n, ppp):
    s = get_system("Lorenz")
    traj = make_trajectory(s, n, pts_per_period=ppp)
    dt = s.period * n / (ppp * (n - 1))
    np.testing.assert_allclose(np.diff(traj.t), dt, rtol=1e-12)
    np.testing.assert_allclose(traj.t[-1], s.period * n / ppp, rtol=1e-12)
    assert traj.x.shape == (1, n, 3)
    np.testing.assert_allclose(traj.x[0, 0], s.ic)


def test_time_grid_rejects_bad_inputs():
    with pytest.raises(ConfigError):
        time_grid(1.0, 1, 10)


def test_transient_standardize_and_noise():
    s = get_system("Lorenz")
    tr = make_trajectory(s, 300, transient=5, standardize=True)
    np.testing.assert_allclose(tr.x.mean(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(tr.x.std(axis=1), 1, atol=1e-10)
    a = make_trajectory(s, 300, noise=0.1, seed=3).x
    b = make_trajectory(s, 300, noise=0.1, seed=3).x
    c = make_trajectory(s, 300, noise=0.1, seed=4).x
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_sampled_ics_are_on_attractor_and_distinct():
    s = get_system("Lorenz")
    ics = sample_ics(s, 5, seed=0)
    assert ics.shape == (5, 3)
    assert np.min(np.linalg.norm(ics[:, None] - ics[None], axis=-1) + np.eye(5) * 1e9) > 0.1
    # on the Lorenz attractor z stays within (0, 50) and |x| < 25
    assert np.all((ics[:, 2] > 0) & (ics[:, 2] < 50)) and np.all(np.abs(ics[:, 0]) < 25)


def test_diverged_rows_dropped_and_reported(caplog):
    blow = SimpleNamespace(name="Blow", kind="flow", dim=1, n_params=0, period=1.0, dt=0.01,
                           stiff=False, ic=np.array([0.1]), rhs=lambda y, p=None: y * y)
    tr = make_trajectory(blow, 50, pts_per_period=10, ic=np.array([[0.1], [1.0]]))
    assert tr.kept.tolist() == [0] and tr.dropped.tolist() == [1]
    assert tr.x.shape == (1, 50, 1) and np.all(np.isfinite(tr.x))
    assert any("dropped" in r.message for r in caplog.records)


def test_map_trajectory():
    s = get_system("Henon")
    tr = make_trajectory(s, 100, transient=10)
    assert tr.x.shape == (1, 100, 2) and np.all(np.abs(tr.x) < 2)
    np.testing.assert_array_equal(tr.t, np.arange(100))
