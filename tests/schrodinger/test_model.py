"""LightSB model: normaliser, conditional plan, sampling, SB drift and SDE against references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.errors import ConfigError, DataError
from sciml.schrodinger.gaussian import gaussian_lightsb_params, make_gaussian_pair
from sciml.schrodinger.metrics import cbw2_uvp
from sciml.schrodinger.model import LightSB, bridge_sample


def _random_model(dim, k, eps, cov, seed=0):
    g = torch.Generator().manual_seed(seed)
    m = LightSB(dim, k, eps, cov=cov)
    with torch.no_grad():
        m.r.copy_(torch.randn(k, dim, generator=g, dtype=torch.float64))
        m.log_s.copy_(torch.rand(k, dim, generator=g, dtype=torch.float64) - 1.0)
        m.a.copy_(0.5 * eps * torch.randn(k, generator=g, dtype=torch.float64))
        if cov == "full":
            m.skew.copy_(0.5 * torch.randn(k, dim, dim, generator=g, dtype=torch.float64))
    return m


# ----------------------------------------------------------------------------- 1-D quadrature
@pytest.mark.parametrize("eps", [0.3, 1.0, 4.0])
def test_log_c_and_moments_match_quadrature_1d(eps):
    m = _random_model(1, 3, eps, "diagonal", seed=1)
    y = torch.linspace(-40, 40, 400_001, dtype=torch.float64)[:, None]
    dy = float(y[1, 0] - y[0, 0])
    log_v = m.log_v(y)
    xs = torch.tensor([[-1.3], [0.0], [0.7], [2.1]], dtype=torch.float64)
    with torch.no_grad():
        log_c = m.log_c(xs)
        mean, cov = m.conditional_moments(xs)
        for i, x in enumerate(xs[:, 0]):
            log_f = x * y[:, 0] / eps + log_v
            log_int = torch.logsumexp(log_f, 0) + math.log(dy)
            assert float(log_int) == pytest.approx(float(log_c[i]), abs=1e-8)
            p = torch.softmax(log_f, 0)
            mu = float((p * y[:, 0]).sum())
            var = float((p * (y[:, 0] - mu) ** 2).sum())
            assert mu == pytest.approx(float(mean[i, 0]), abs=1e-7)
            assert var == pytest.approx(float(cov[i, 0, 0]), rel=1e-6)


def test_v_integrates_to_sum_of_alpha_1d():
    m = _random_model(1, 4, 0.5, "diagonal", seed=2)
    y = torch.linspace(-30, 30, 200_001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        total = torch.logsumexp(m.log_v(y), 0) + math.log(float(y[1, 0] - y[0, 0]))
        assert float(total) == pytest.approx(float(torch.logsumexp(m.log_alpha, 0)), abs=1e-8)


# ----------------------------------------------------------------------------- 2-D Monte Carlo
@pytest.mark.parametrize("cov", ["diagonal", "full"])
def test_log_c_and_moments_match_monte_carlo_2d(cov):
    """c(x) = sum(alpha) E_{y ~ v/sum(alpha)} exp(<x,y>/eps); moments by self-normalised IS."""
    eps = 1.0
    m = _random_model(2, 3, eps, cov, seed=3)
    g = torch.Generator().manual_seed(5)
    n = 400_000
    with torch.no_grad():
        w = torch.softmax(m.log_alpha, 0)
        comp = torch.multinomial(w, n, replacement=True, generator=g)
        s = m.s_matrices()
        chol = torch.linalg.cholesky(eps * s)
        y = m.r[comp] + (chol[comp] @ torch.randn(n, 2, 1, generator=g, dtype=torch.float64))[..., 0]
        xs = torch.tensor([[0.3, -0.2], [-0.5, 0.4], [0.1, 0.6]], dtype=torch.float64)
        log_c = m.log_c(xs)
        mean, covm = m.conditional_moments(xs)
        for i, x in enumerate(xs):
            lw = y @ x / eps
            est = torch.logsumexp(lw, 0) - math.log(n) + torch.logsumexp(m.log_alpha, 0)
            assert float(est) == pytest.approx(float(log_c[i]), abs=0.01)
            p = torch.softmax(lw, 0)
            mu = p @ y
            dev = y - mu
            c = (p[:, None] * dev).T @ dev
            torch.testing.assert_close(mu, mean[i], atol=0.02, rtol=0)
            torch.testing.assert_close(c, covm[i], atol=0.03, rtol=0)


@pytest.mark.parametrize("cov", ["diagonal", "full"])
def test_sampling_matches_exact_moments(cov):
    m = _random_model(3, 4, 0.7, cov, seed=4)
    x = torch.tensor([[0.2, -0.1, 0.5], [1.0, 0.3, -0.4]], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        ys = m.sample(x, 100_000, generator=g)  # (n, B, D)
        mean, c = m.conditional_moments(x)
    for i in range(2):
        emp = ys[:, i]
        torch.testing.assert_close(emp.mean(0), mean[i], atol=0.02, rtol=0)
        torch.testing.assert_close(torch.cov(emp.T), c[i], atol=0.03, rtol=0)


def test_sampling_is_seeded():
    m = _random_model(2, 3, 1.0, "full", seed=6)
    x = torch.zeros(4, 2, dtype=torch.float64)
    with torch.no_grad():
        a = m.sample(x, 10, generator=torch.Generator().manual_seed(3))
        b = m.sample(x, 10, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_full_rotations_are_orthogonal_and_s_symmetric():
    m = _random_model(5, 3, 1.0, "full", seed=7)
    with torch.no_grad():
        u = m.rotations()
        eye = torch.eye(5, dtype=torch.float64).expand(3, 5, 5)
        torch.testing.assert_close(u @ u.transpose(-1, -2), eye, atol=1e-12, rtol=0)
        s = m.s_matrices()
        torch.testing.assert_close(s, s.transpose(-1, -2))
        assert bool((torch.linalg.eigvalsh(s) > 0).all())


# ----------------------------------------------------------------------------- Gaussian optimum
@pytest.mark.parametrize(("dim", "diagonal", "eps"), [(2, False, 0.5), (16, True, 1.0),
                                                      (16, False, 3.0)])
def test_k1_gaussian_closed_form_is_exact(dim, diagonal, eps):
    pair = make_gaussian_pair(dim, eps, seed=dim, diagonal=diagonal)
    la, r, s = gaussian_lightsb_params(pair.mean0, pair.cov0, pair.mean1, pair.cov1, eps)
    model = LightSB(dim, 1, eps, cov="diagonal" if diagonal else "full").set_params(
        torch.tensor(la), torch.tensor(r), torch.tensor(s)
    )
    x = pair.sample_source(500, np.random.default_rng(0))
    with torch.no_grad():
        mh, ch = model.conditional_moments(torch.tensor(x))
    mt, ct = pair.conditional_moments(x)
    score = cbw2_uvp(mh.numpy(), ch.numpy(), mt, ct, float(np.trace(pair.cov1)))
    assert score < 1e-6


# ----------------------------------------------------------------------------- SB process
@pytest.mark.parametrize("cov", ["diagonal", "full"])
def test_drift_is_eps_grad_log_h(cov):
    m = _random_model(3, 4, 0.8, cov, seed=8)
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for t in (0.0, 0.3, 0.9):
        xr = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(m.log_h(xr, t).sum(), xr)
        torch.testing.assert_close(m.drift(x, t).detach(), m.eps * grad, atol=1e-9, rtol=1e-9)


def test_posterior_at_t0_is_the_conditional_plan():
    m = _random_model(3, 4, 0.8, "full", seed=9)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        mean, _ = m.conditional_moments(x)
        torch.testing.assert_close(m.drift(x, 0.0), mean - x)
        # log h(x, 0) = log c(x) - |x|^2 / (2 eps) - D/2 log(2 pi eps)
        ref = m.log_c(x) - (x * x).sum(-1) / (2 * m.eps) - 1.5 * math.log(2 * math.pi * m.eps)
        torch.testing.assert_close(m.log_h(x, 0.0), ref)


@pytest.mark.parametrize("cov", ["diagonal", "full"])
def test_drift_matches_time_derivative_of_bridge_mean(cov):
    """E[g(x_t, t) | x_0] = d/dt E[x_t | x_0] for x_t on the Brownian bridge of the plan."""
    m = _random_model(2, 3, 1.0, cov, seed=10)
    x0 = torch.tensor([[0.4, -0.3]], dtype=torch.float64)
    g = torch.Generator().manual_seed(11)
    n = 200_000
    h = 1e-3
    with torch.no_grad():
        y = m.sample(x0, n, generator=g)[:, 0]  # (n, D)
        xs = x0.expand(n, -1)
        for t in (0.2, 0.5, 0.8):
            xt = bridge_sample(xs, y, torch.tensor([t]), m.eps, generator=g)[0]
            drift = m.drift(xt, t)
            se = drift.std(0) / math.sqrt(n)
            mean_y, _ = m.conditional_moments(x0)
            exact_fd = ((1 - t - h) * x0 + (t + h) * mean_y - (1 - t + h) * x0
                        - (t - h) * mean_y) / (2 * h)
            assert bool(((drift.mean(0) - exact_fd[0]).abs() < 5 * se + 1e-3).all())


def test_sde_terminal_distribution_matches_plan():
    m = _random_model(2, 3, 0.5, "full", seed=12)
    x0 = torch.tensor([[0.3, 0.1]], dtype=torch.float64)
    n = 20_000
    with torch.no_grad():
        x1 = m.simulate(x0.expand(n, -1), n_steps=200, generator=torch.Generator().manual_seed(0))
        mean, c = m.conditional_moments(x0)
    se = x1.std(0) / math.sqrt(n)
    assert bool(((x1.mean(0) - mean[0]).abs() < 4 * se + 0.01).all())
    torch.testing.assert_close(torch.cov(x1.T), c[0], atol=0.03, rtol=0.05)


def test_simulate_returns_path_from_x0():
    m = _random_model(2, 2, 1.0, "diagonal", seed=13)
    x0 = torch.zeros(7, 2, dtype=torch.float64)
    with torch.no_grad():
        path = m.simulate(x0, n_steps=10, generator=torch.Generator().manual_seed(0),
                          return_path=True)
    assert path.shape == (11, 7, 2)
    torch.testing.assert_close(path[0], x0)


def test_bridge_sample_moments():
    x = torch.zeros(50_000, 1, dtype=torch.float64)
    y = torch.ones(50_000, 1, dtype=torch.float64)
    xt = bridge_sample(x, y, torch.tensor([0.0, 0.25, 1.0]), 2.0,
                       generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(xt[0], x)
    torch.testing.assert_close(xt[2], y)
    assert float(xt[1].mean()) == pytest.approx(0.25, abs=0.02)
    assert float(xt[1].var()) == pytest.approx(2.0 * 0.25 * 0.75, rel=0.03)


# ----------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ConfigError, match="cov"):
        LightSB(2, 3, 1.0, cov="banded")
    with pytest.raises(ConfigError, match="eps"):
        LightSB(2, 3, 0.0)
    m = LightSB(2, 3, 1.0)
    with pytest.raises(DataError, match="shape"):
        m.log_c(torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(DataError, match="positive"):
        m.set_params(torch.zeros(3), torch.zeros(3, 2), -torch.ones(3, 2))
