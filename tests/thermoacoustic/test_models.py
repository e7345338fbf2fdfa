"""Uncertainty decomposition, anchored ensemble, Pyro BNN isolation, integrated gradients."""

from __future__ import annotations

import numpy as np
import pyro
import pytest
import torch

from sciml.errors import DivergenceError, UnknownNameError
from sciml.thermoacoustic import (
    EnsembleMLP,
    combine_members,
    fit_anchored_ensemble,
    fit_bnn,
    fit_persistence,
    integrated_gradients,
    predict_members,
)
from sciml.thermoacoustic.model import (
    MIN_VAR,
    bounded_variance,
    variance_ceiling,
)


def _toy(n=512, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, d)).astype(np.float32)
    y = np.stack([np.sin(2 * x[:, 0]) + 0.1 * rng.standard_normal(n),
                  x[:, 1] * x[:, 2] + 0.2 * rng.standard_normal(n)], axis=1).astype(np.float32)
    return x, y


def test_total_variance_is_aleatoric_plus_epistemic_and_mixture_variance():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(7, 50, 3))
    var = rng.uniform(0.1, 2.0, size=(7, 50, 3))
    fc = combine_members(mu, var)
    np.testing.assert_allclose(fc.total_var, fc.aleatoric_var + fc.epistemic_var, rtol=0, atol=0)
    mixture_var = (var + mu**2).mean(0) - mu.mean(0) ** 2  # E[Y^2] - E[Y]^2 of the mixture
    np.testing.assert_allclose(fc.total_var, mixture_var, rtol=1e-12)
    np.testing.assert_allclose(fc.epistemic_var, mu.var(0), rtol=1e-12)
    s = fc.scaled(1.0, 3.0)
    np.testing.assert_allclose(s.total_var, 9 * fc.total_var)


def test_anchored_ensemble_seeded_and_uncertain_off_data():
    x, y = _toy()
    a = fit_anchored_ensemble(x, y, n_members=4, hidden=(32,), epochs=40, seed=1,
                                 batch_size=64, lr=1e-2)
    b = fit_anchored_ensemble(x, y, n_members=4, hidden=(32,), epochs=40, seed=1,
                                 batch_size=64, lr=1e-2)
    fa, fb = predict_members(a, x[:64]), predict_members(b, x[:64])
    np.testing.assert_array_equal(fa.mean, fb.mean)
    assert np.sqrt(np.mean((fa.mean[:, 0] - np.sin(2 * x[:64, 0])) ** 2)) < 0.25
    far = predict_members(a, 6.0 * np.ones((64, 6), np.float32))
    assert far.epistemic_var.mean() > 5 * fa.epistemic_var.mean()
    np.testing.assert_allclose(fa.total_var, fa.aleatoric_var + fa.epistemic_var, rtol=1e-12)


def test_bnn_fits_do_not_leak_parameters():
    x, y = _toy(n=256)
    a = fit_bnn(x, y, hidden=(16,), n_steps=150, map_steps=50, batch_size=64, seed=0)
    pa = a.predict(x[:32], n_samples=20)
    assert len(pyro.get_param_store()) == 0  # parameters live in the guide module only
    b = fit_bnn(x, y, hidden=(16,), n_steps=150, map_steps=50, batch_size=64, seed=1)
    pb = b.predict(x[:32], n_samples=20)
    pa2 = a.predict(x[:32], n_samples=20)
    np.testing.assert_array_equal(pa.mean, pa2.mean)
    np.testing.assert_array_equal(pa.epistemic_var, pa2.epistemic_var)
    assert not np.allclose(pa.mean, pb.mean)
    assert set(a.state_dict()) == set(b.state_dict())
    for k, v in a.state_dict().items():
        assert not torch.equal(v, b.state_dict()[k])
    assert np.all(pa.epistemic_var > 0) and np.all(pa.aleatoric_var > 0)
    np.testing.assert_allclose(pa.total_var, pa.aleatoric_var + pa.epistemic_var, rtol=1e-12)


def test_bnn_learns_and_lowrank_guide_runs():
    x, y = _toy(n=512)
    # from a prior draw (no MAP phase)
    fit = fit_bnn(x, y, hidden=(32,), n_steps=600, map_steps=0, init_scale=0.02, batch_size=128,
                  seed=0, lr=1e-2)
    assert fit.losses[-50:].mean() < fit.losses[:50].mean()
    fc = fit.predict(x[:256], n_samples=30)
    assert np.corrcoef(fc.mean[:, 0], np.sin(2 * x[:256, 0]))[0, 1] > 0.7
    lr = fit_bnn(x, y, hidden=(8,), n_steps=20, map_steps=20, guide="lowrank", rank=3, seed=0)
    assert np.isfinite(lr.losses).all()
    with pytest.raises(UnknownNameError, match="guide"):
        fit_bnn(x, y, guide="flow")


def test_bnn_map_phase_is_least_squares_and_the_guide_starts_there():
    """A linear BNN (no hidden layer): the MAP phase recovers the least-squares weights (N = 2000
    points, the prior is negligible), and with no SVI steps and a vanishing guide scale the
    predictive mean is the MAP network's output and the epistemic variance vanishes."""
    rng = np.random.default_rng(3)
    n = 2000
    x = rng.normal(size=(n, 3)).astype(np.float32)
    w_true = np.array([[0.5, -1.0, 0.3], [1.2, 0.0, -0.7]])
    y = (x @ w_true.T + np.array([0.2, -0.1]) + 0.1 * rng.standard_normal((n, 2))).astype(np.float32)
    fit = fit_bnn(x, y, hidden=(), n_steps=0, map_steps=600, init_scale=1e-7, batch_size=200,
                  lr=2e-2, seed=0)
    loc = fit.guide.median()
    w = loc["layers.0.weight"].numpy()[:2].astype(np.float64)  # mean rows (the rest: log-variance)
    b = loc["layers.0.bias"].numpy()[:2].astype(np.float64)
    x1 = np.column_stack([x, np.ones(n)]).astype(np.float64)
    ols = np.linalg.lstsq(x1, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(w, ols[:3].T, atol=0.02)
    np.testing.assert_allclose(b, ols[3], atol=0.02)
    fc = fit.predict(x[:100], n_samples=20)
    np.testing.assert_allclose(fc.mean, x[:100] @ w.T + b, atol=1e-4)
    assert fc.epistemic_var.max() < 1e-8
    assert fit.losses.size == 0


def test_integrated_gradients_completeness_and_linear_exactness():
    x, y = _toy(n=256)
    net = fit_anchored_ensemble(x, y, n_members=3, hidden=(16,), epochs=5, seed=0)
    res = integrated_gradients(net, x[:20], horizon=0, n_steps=64)
    assert res["completeness_error"].max() < 0.01
    np.testing.assert_allclose(res["attributions"].sum(1), res["delta_f"], rtol=0.01, atol=1e-6)
    # a linear "network": IG_i = (x_i - x'_i) * w_i exactly
    lin = EnsembleMLP(1, 6, (), 1)
    with torch.no_grad():
        lin.weights[0].copy_(torch.arange(12, dtype=torch.float32).reshape(1, 6, 2))
    res = integrated_gradients(lin, x[:5], horizon=0, n_steps=8)
    np.testing.assert_allclose(res["attributions"], x[:5] * np.arange(0, 12, 2)[None, :], rtol=1e-6)
    with pytest.raises(DivergenceError, match="completeness"):
        integrated_gradients(net, 50 * x[:20], horizon=0, n_steps=4, tol=1e-9)


def test_persistence_std_is_rms_change():
    y_now = np.array([1.0, 2.0, 3.0])
    y = np.array([[1.5, 0.0], [2.5, 2.0], [3.5, 5.0]])
    p = fit_persistence(y_now, y)
    np.testing.assert_allclose(p.step_std, [0.5, np.sqrt((1 + 0 + 4) / 3)])
    fc = p.predict(np.array([0.3]))
    np.testing.assert_allclose(fc.mean, [[0.3, 0.3]])
    assert np.all(fc.epistemic_var == 0)


def test_bounded_variance_head_stays_inside_its_learned_bounds():
    lo, hi = torch.tensor([-3.0, -1.0]), torch.tensor([0.5, 2.0])
    raw = torch.tensor([[-1e4, -1e4], [1e4, 1e4], [-1.0, 0.5]], requires_grad=True)
    var = bounded_variance(raw, lo, hi)
    ceil = variance_ceiling(lo, hi)
    assert torch.all(var > torch.exp(lo)) and torch.all(var <= ceil)
    np.testing.assert_allclose(var[0].detach().numpy(), (torch.exp(lo) + MIN_VAR).numpy(), rtol=1e-4)
    np.testing.assert_allclose(var[1].detach().numpy(), ceil.numpy(), rtol=1e-6)
    # the soft ceiling sits log1p(exp(lo - hi)) above max_logvar
    expected = torch.exp(hi + torch.log1p(torch.exp(lo - hi))) + MIN_VAR
    np.testing.assert_allclose(ceil.numpy(), expected.numpy(), rtol=1e-6)
    # well inside the bounds the head is (nearly) exp(raw)
    np.testing.assert_allclose(var[2].detach(), np.exp([-1.0, 0.5]) + MIN_VAR, rtol=0.2)
    var.sum().backward()
    assert torch.all(torch.isfinite(raw.grad))
    # a trained ensemble far off the data: members disagree, but no member's noise variance leaves
    # the bounds it learned on the data
    x, y = _toy()
    net = fit_anchored_ensemble(x, y, n_members=4, hidden=(32,), epochs=20, seed=0, batch_size=64)
    with torch.no_grad():
        _, v = net(torch.full((64, 6), 8.0))
    assert torch.all(v <= variance_ceiling(net.min_logvar, net.max_logvar) * (1 + 1e-6))
    far = predict_members(net, 8.0 * np.ones((64, 6), np.float32))
    near = predict_members(net, x[:64])
    assert far.epistemic_var.mean() > 5 * near.epistemic_var.mean()


def test_reverting_the_aleatoric_part_mixes_members_then_averages():
    rng = np.random.default_rng(3)
    mu = rng.normal(size=(5, 40, 2))
    var = rng.uniform(0.1, 2.0, size=(5, 40, 2))
    nu = rng.uniform(0.0, 1.0, size=40)
    eta = np.array([0.7, 1.3])
    fc = combine_members(mu, var).revert_aleatoric(nu, eta)
    # the same as reverting every member's variance, then taking the mixture summary
    ref = combine_members(mu, (1 - nu[None, :, None]) * var + nu[None, :, None] * eta)
    np.testing.assert_allclose(fc.aleatoric_var, ref.aleatoric_var, rtol=1e-12)
    np.testing.assert_allclose(fc.epistemic_var, ref.epistemic_var, rtol=1e-12)
    np.testing.assert_array_equal(fc.mean, ref.mean)
    ends = combine_members(mu, var).revert_aleatoric(np.r_[np.zeros(20), np.ones(20)], eta)
    np.testing.assert_allclose(ends.aleatoric_var[:20], var.mean(0)[:20], rtol=1e-12)
    np.testing.assert_allclose(ends.aleatoric_var[20:], np.broadcast_to(eta, (20, 2)))
