"""LightSB model: normaliser, conditional plan, sampling, SB drift and SDE against references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.errors import ConfigError, DataError
from sciml.schrodinger.gaussian import (
    gaussian_lightsb_params,
    gaussian_sb_drift,
    make_gaussian_pair,
)
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
            m.tril.copy_(0.5 * torch.randn(k, dim, dim, generator=g, dtype=torch.float64))
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


def test_full_cholesky_factor_gives_spd_s_and_its_inverse():
    m = _random_model(5, 3, 1.0, "full", seed=7)
    with torch.no_grad():
        chol = m.cholesky_factors()
        torch.testing.assert_close(chol, torch.tril(chol))
        s = m.s_matrices()
        torch.testing.assert_close(s, s.transpose(-1, -2), atol=0, rtol=0)
        assert bool((torch.linalg.eigvalsh(s) > 0).all())
        eye = torch.eye(5, dtype=torch.float64).expand(3, 5, 5)
        torch.testing.assert_close(m._inverse_factors() @ chol, eye, atol=1e-12, rtol=0)
        # log det S_k is the sum of the log-pivots
        torch.testing.assert_close(torch.linalg.slogdet(s)[1], m.log_s.sum(-1))


def test_set_params_full_round_trips_s():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 6, 6))
    s = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(6)
    m = LightSB(6, 4, 0.7, cov="full").set_params(torch.zeros(4), torch.zeros(4, 6), torch.tensor(s))
    with torch.no_grad():
        torch.testing.assert_close(m.s_matrices(), torch.tensor(s), atol=1e-12, rtol=1e-12)
    with pytest.raises(DataError, match="positive definite"):
        m.set_params(torch.zeros(4), torch.zeros(4, 6), -torch.tensor(s))


def test_diagonal_is_the_full_model_with_w_zero():
    """Every closed form of a full model with W_k = 0 equals the diagonal model's (float64)."""
    d, k, eps = 4, 3, 0.6
    diag = _random_model(d, k, eps, "diagonal", seed=14)
    full = LightSB(d, k, eps, cov="full")
    full.load_state_dict({**diag.state_dict(), "tril": torch.zeros(k, d, d, dtype=torch.float64)})
    x = torch.randn(7, d, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    t = torch.linspace(0.0, 0.95, 7, dtype=torch.float64)
    with torch.no_grad():
        for f in (lambda m: m.log_v(x), lambda m: m.log_c(x), lambda m: m.conditional_moments(x),
                  lambda m: m.drift(x, 0.4), lambda m: m.drift(x, t), lambda m: m.log_h(x, t)):
            torch.testing.assert_close(f(full), f(diag), atol=1e-12, rtol=1e-12)


def test_legacy_rotation_state_dict_loads_as_the_same_plan():
    """A full state dict of the earlier rotation form (skew, u0) converts to the same S_k."""
    d, k = 3, 2
    g = torch.Generator().manual_seed(0)
    skew = torch.randn(k, d, d, generator=g, dtype=torch.float64)
    u = torch.linalg.matrix_exp(skew - skew.transpose(-1, -2))
    log_s = torch.randn(k, d, generator=g, dtype=torch.float64)
    legacy = {"r": torch.randn(k, d, generator=g, dtype=torch.float64), "log_s": log_s,
              "a": torch.randn(k, generator=g, dtype=torch.float64),
              "eps_value": torch.tensor(0.5, dtype=torch.float64), "skew": skew,
              "u0": torch.eye(d, dtype=torch.float64).expand(k, d, d).clone()}
    m = LightSB.from_state_dict(legacy)
    assert m.cov == "full" and "tril" in m.state_dict()
    with torch.no_grad():
        torch.testing.assert_close(m.s_matrices(), (u * log_s.exp()[:, None, :]) @ u.transpose(-1, -2))
        torch.testing.assert_close(m.log_alpha, legacy["a"] / 0.5)


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


def _dense_drift(log_alpha, r, s, eps, x, t):
    r"""The SB drift of the potential sum_k alpha_k N(y | r_k, eps S_k) by dense solves (numpy).

    p(y | x_t) has components of precision P_k / eps, P_k = S_k^-1 + q I, means P_k^-1 b_k,
    b_k = S_k^-1 r_k + x / s, and log weights log alpha_k - 1/2 log det(I + q S_k)
    + (b_k^T P_k^-1 b_k - r_k^T S_k^-1 r_k) / (2 eps), s = 1 - t, q = t / s.
    """
    d = r.shape[1]
    s_t = 1.0 - t
    q = t / s_t
    s_inv = np.linalg.inv(s)
    p = s_inv + q * np.eye(d)
    b = np.einsum("kde,ke->kd", s_inv, r)[None] + x[:, None, :] / s_t
    m = np.linalg.solve(p[None], b[..., None])[..., 0]
    logw = (log_alpha - 0.5 * np.linalg.slogdet(np.eye(d) + q * s)[1]
            + (np.einsum("bkd,bkd->bk", b, m) - np.einsum("kd,kde,ke->k", r, s_inv, r)) / (2 * eps))
    w = np.exp(logw - logw.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    return (np.einsum("bk,bkd->bd", w, m) - x) / s_t


@pytest.mark.parametrize(("cov", "dim"), [("diagonal", 3), ("diagonal", 16), ("full", 3),
                                          ("full", 16)])
def test_drift_equals_dense_closed_form_of_the_mixture_potential(cov, dim):
    m = _random_model(dim, 4, 0.8, cov, seed=15)
    x = np.random.default_rng(1).standard_normal((6, dim))
    with torch.no_grad():
        la, r, s = m.log_alpha.numpy(), m.r.numpy(), m.s_matrices().numpy()
        for t in (0.0, 0.3, 0.9):
            ref = _dense_drift(la, r, s, m.eps, x, t)
            got = m.drift(torch.tensor(x), t).numpy()
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
        # one time per particle
        ts = np.linspace(0.0, 0.9, 6)
        got = m.drift(torch.tensor(x), torch.tensor(ts)).numpy()
        ref = np.stack([_dense_drift(la, r, s, m.eps, x[i:i + 1], ts[i])[0] for i in range(6)])
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize(("dim", "diagonal", "eps"), [(16, False, 1.0), (16, True, 1.0),
                                                      (5, False, 0.1), (5, False, 10.0)])
def test_k1_drift_equals_gaussian_schrodinger_bridge_drift(dim, diagonal, eps):
    """K = 1 with the exact Gaussian parameters: the drift is the Gaussian SB's, to 1e-9."""
    pair = make_gaussian_pair(dim, eps, seed=dim + 1, diagonal=diagonal)
    la, r, s = gaussian_lightsb_params(pair.mean0, pair.cov0, pair.mean1, pair.cov1, eps)
    model = LightSB(dim, 1, eps, cov="diagonal" if diagonal else "full").set_params(
        torch.tensor(la), torch.tensor(r), torch.tensor(s))
    x = pair.sample_source(50, np.random.default_rng(0))
    with torch.no_grad():
        for t in (0.0, 0.5, 0.95):
            ref = gaussian_sb_drift(pair.mean0, pair.cov0, pair.mean1, pair.cov1, eps, x, t)
            got = model.drift(torch.tensor(x), t).numpy()
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


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
