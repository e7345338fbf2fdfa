"""Attentive Neural Process, moment matching, SoftC residual."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.errors import DataError, DivergenceError
from sciml.gpme import exact_solution, get_problem
from sciml.probconserv import (
    AttentiveNeuralProcess,
    init_weights,
    make_training_set,
    moment_match,
    normalise_inputs,
    pde_residual,
    predict_anp,
    sample_points,
    train_anp,
    train_softc,
)


def _data(problem="pme", n=16, seed=0):
    d = make_training_set(problem, n, seed=seed, n_target_t=5, n_target_x=5)
    return d, normalise_inputs(problem, d.x_context), normalise_inputs(problem, d.x_target)


def test_moment_matched_mixture_variance():
    rng = np.random.default_rng(0)
    means, stds = rng.normal(size=(4, 3)), rng.uniform(0.1, 1, size=(4, 3))
    m, s = moment_match(means, stds)
    # mixture of 4 equal-weight Gaussians: check against a large sample
    comp = rng.integers(0, 4, size=400_000)
    draws = means[comp, 0] + stds[comp, 0] * rng.standard_normal(400_000)
    assert m[0] == pytest.approx(means[:, 0].mean())
    assert s[0] ** 2 == pytest.approx((stds[:, 0] ** 2).mean() + means[:, 0].var())
    assert s[0] == pytest.approx(draws.std(), rel=0.01)


def test_forward_shapes_and_positive_std():
    net = init_weights(AttentiveNeuralProcess(width=16, n_heads=2, n_self_attention=1), 0)
    xc, yc, xt = torch.rand(3, 10, 2), torch.rand(3, 10, 1), torch.rand(3, 7, 2)
    mean, std = net(xc, yc, xt)
    assert mean.shape == (3, 7, 1) and std.shape == (3, 7, 1) and torch.all(std >= net.min_std)
    z = torch.zeros(5, 3, 16)
    m5, _ = net.decode(xt, net.deterministic(xc, yc, xt), z)
    assert m5.shape == (5, 3, 7, 1)
    with pytest.raises(DataError, match="divisible"):
        AttentiveNeuralProcess(width=10, n_heads=3)


def test_training_is_seeded_and_lowers_the_loss():
    d, xc, xt = _data()
    nets = []
    for _ in range(2):
        net = init_weights(AttentiveNeuralProcess(width=16, n_heads=2), seed=1)
        hist = train_anp(net, xc, d.y_context, xt, d.y_target, n_steps=40, batch_size=4, lr=3e-3, seed=2)
        nets.append(net)
    for (k, a), b in zip(nets[0].state_dict().items(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    assert hist[-10:].mean() < hist[:5].mean()
    assert not nets[0].training  # left in eval mode
    tx = np.stack(np.meshgrid([0.5], np.linspace(0, 1, 9), indexing="ij"), -1).reshape(-1, 2)
    grid = normalise_inputs("pme", tx)
    m1, s1 = predict_anp(nets[0], xc[:2], d.y_context[:2], grid, n_samples=3, seed=0, chunk=4)
    m2, s2 = predict_anp(nets[1], xc[:2], d.y_context[:2], grid, n_samples=3, seed=0)
    np.testing.assert_allclose(m1, m2, rtol=1e-5, atol=1e-6)
    assert m1.shape == (2, 9) and np.all(s1 > 0) and m1.dtype == np.float64


def test_bad_training_inputs():
    d, xc, xt = _data()
    net = AttentiveNeuralProcess(width=8, n_heads=2)
    yc = d.y_context.copy()
    yc[0, 0] = np.nan
    with pytest.raises(DataError, match="y_context holds NaN"):
        train_anp(net, xc, yc, xt, d.y_target, n_steps=1, batch_size=2, lr=1e-3, seed=0)
    with pytest.raises(DataError, match="disagree"):
        train_anp(net, xc, d.y_context[:3], xt, d.y_target, n_steps=1, batch_size=2, lr=1e-3, seed=0)
    with pytest.raises(DivergenceError, match="lower lr"):
        train_anp(net, xc, d.y_context * 1e30, xt, d.y_target * 1e30, n_steps=3, batch_size=2,
                  lr=1e-3, seed=0)  # fmt: skip
    with pytest.raises(DataError, match="x_target"):
        predict_anp(net, xc, d.y_context, xt, n_samples=1, seed=0)


class _Exact(torch.nn.Module):
    """A stand-in 'model' whose mean is an exact GPME solution of normalised inputs."""

    def __init__(self, problem, param):
        super().__init__()
        self.problem, self.param = problem, param

    def forward(self, xc, yc, xt):
        t, x = xt[..., 0], xt[..., 1]
        if self.problem == "diffusion":
            u = torch.exp(-self.param * t) * torch.sin(2 * np.pi * x)
        else:
            m = self.param
            u = (m * torch.relu(t - x)) ** (1.0 / m)
        return u[..., None], torch.ones_like(u)[..., None]


@pytest.mark.parametrize(("problem", "param"), [("diffusion", 2.0), ("pme", 1.0), ("pme", 3.0)])
def test_pde_residual_vanishes_on_exact_solutions(problem, param):
    xt = torch.rand(2, 50, 2, dtype=torch.float64)
    if problem == "pme":  # stay inside the support, away from the front
        xt[..., 1] = xt[..., 0] * 0.8
        xt[..., 0] = 0.2 + 0.8 * xt[..., 0]
    res = pde_residual(problem, _Exact(problem, param), None, None, xt, torch.full((2,), param))
    assert res.abs().max() < 1e-8
    wrong = pde_residual(problem, _Exact(problem, param), None, None, xt, torch.full((2,), 2 * param))
    assert wrong.abs().max() > 1e-3


def test_softc_training_runs_and_is_seeded():
    d, xc, xt = _data("stefan", 8)
    out = []
    for _ in range(2):
        net = init_weights(AttentiveNeuralProcess(width=8, n_heads=2), seed=0)
        out.append(train_softc(net, "stefan", xc, d.y_context, xt, d.y_target, d.param, n_steps=3,
                               batch_size=2, lr=1e-3, seed=0, n_points=5))  # fmt: skip
    np.testing.assert_array_equal(out[0], out[1])
    assert np.all(np.isfinite(out[0]))


def test_fourier_features_closed_form():
    x = torch.tensor([[0.25, 0.5], [0.1, 0.9]])
    net = AttentiveNeuralProcess(width=8, n_heads=2, n_fourier=3)
    f = net.features(x)
    assert net.in_dim == 14 and f.shape == (2, 14)
    ang = np.pi * np.array([1.0, 2.0, 4.0])
    for i, row in enumerate(x.numpy().astype(np.float64)):
        a = (row[:, None] * ang).ravel()  # (t octaves, then x octaves)
        np.testing.assert_allclose(f[i].numpy(), np.concatenate([row, np.sin(a), np.cos(a)]), atol=1e-6)
    plain = AttentiveNeuralProcess(width=8, n_heads=2)
    assert plain.in_dim == 2 and torch.equal(plain.features(x), x)
    xc, yc, xt = torch.rand(3, 10, 2), torch.rand(3, 10, 1), torch.rand(3, 7, 2)
    mean, std = init_weights(net, 0)(xc, yc, xt)
    assert mean.shape == (3, 7, 1) and torch.all(std >= net.min_std)
    with pytest.raises(DataError, match="n_fourier"):
        AttentiveNeuralProcess(width=8, n_heads=2, n_fourier=-1)


def test_trained_anp_reads_its_context():
    """After a short seeded training on diffusion (k in [1, 5]), the prediction at t = 0.5 from a
    k = 1 context differs from that of a k = 5 context like the exact solutions do: the network
    conditions on its context instead of predicting the average training function."""
    problem = "diffusion"
    d, xc, xt = _data(problem, n=64, seed=3)
    net = init_weights(AttentiveNeuralProcess(width=16, n_heads=2), seed=0)
    train_anp(net, xc, d.y_context, xt, d.y_target, n_steps=300, batch_size=8, lr=3e-3, seed=0)
    x = np.linspace(*get_problem(problem).x_domain, 40, endpoint=False)
    grid = normalise_inputs(problem, np.stack([np.full_like(x, 0.5), x], -1))
    preds, truth = [], []
    for k in (1.0, 5.0):
        inputs, values = sample_points(problem, [k] * 4, 10, 10, seed=11)
        m, _ = predict_anp(net, normalise_inputs(problem, inputs), values, grid, n_samples=4, seed=0)
        preds.append(m.mean(0))
        truth.append(exact_solution(problem, [k], [0.5], x)[0, 0])
    dp, du = preds[0] - preds[1], truth[0] - truth[1]
    # norm ratio of this seeded run: 0.04 after 100 steps (the context is ignored), 0.24 after
    # 150, 0.65 after 300
    assert np.corrcoef(dp, du)[0, 1] > 0.9
    assert 0.3 < np.linalg.norm(dp) / np.linalg.norm(du) < 1.5


@pytest.mark.parametrize("pool", ["mean", "meanmax", "attention"])
def test_latent_pooling_is_permutation_invariant_and_seeded(pool):
    net = init_weights(AttentiveNeuralProcess(width=16, n_heads=2, latent_pool=pool), 3)
    xc, yc = torch.rand(2, 12, 2), torch.rand(2, 12, 1)
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(0))
    mu, sd = net.latent(xc, yc)
    mu_p, sd_p = net.latent(xc[:, perm], yc[:, perm])
    torch.testing.assert_close(mu, mu_p, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(sd, sd_p, rtol=1e-5, atol=1e-6)
    assert mu.shape == (2, 16) and torch.all((sd >= 0.1) & (sd <= 1.0))
    twin = init_weights(AttentiveNeuralProcess(width=16, n_heads=2, latent_pool=pool), 3)
    for (k, a), b in zip(net.state_dict().items(), twin.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_meanmax_and_attention_pooling_closed_form():
    s = torch.tensor([[[1.0, -2.0, 0.5, 0.0], [3.0, 0.0, -1.5, 2.0]]])  # (B=1, N=2, W=4)
    mm = AttentiveNeuralProcess(width=4, n_heads=2, latent_pool="meanmax").latent_pool
    torch.testing.assert_close(mm(s), torch.tensor([[2.0, -1.0, -0.5, 1.0, 3.0, 0.0, 0.5, 2.0]]))
    att = init_weights(AttentiveNeuralProcess(width=4, n_heads=1, latent_pool="attention"), 0).latent_pool
    blk = att.block
    q = att.query[0]  # (1, W)
    w = torch.softmax(blk.q(q) @ blk.k(s[0]).T / 2.0, dim=-1)  # one head of size 4: scale 1/sqrt(4)
    want = blk.norm(q + blk.out(w @ blk.v(s[0])))
    torch.testing.assert_close(att(s), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(DataError, match="latent_pool"):
        AttentiveNeuralProcess(width=8, n_heads=2, latent_pool="median")


class _Wave(torch.nn.Module):
    """Smooth exact solutions of the hyperbolic problems as a stand-in 'model' (normalised inputs):
    advection u = sin(2 pi (x - a t)); Burgers the ramp u = a x / (a t - 1) on x = -1 + 2 x_n."""

    def __init__(self, problem, param):
        super().__init__()
        self.problem, self.param = problem, param

    def forward(self, xc, yc, xt):
        t, x = xt[..., 0], xt[..., 1]
        if self.problem == "advection":
            u = torch.sin(2 * np.pi * (x - self.param * t))
        else:
            u = self.param * (-1 + 2 * x) / (self.param * t - 1)
        return u[..., None], torch.ones_like(u)[..., None]


def test_hyperbolic_residuals_vanish_on_smooth_solutions():
    xt = torch.rand(2, 40, 2, dtype=torch.float64)
    res = pde_residual("advection", _Wave("advection", 2.0), None, None, xt, torch.full((2,), 2.0))
    assert res.abs().max() < 1e-8
    wrong = pde_residual("advection", _Wave("advection", 2.0), None, None, xt, torch.full((2,), 3.0))
    assert wrong.abs().max() > 1e-2
    xt[..., 1] = 0.3 + 0.15 * xt[..., 1]  # x in [-0.4, -0.1]: inside the ramp for a = 0.5, t <= 1
    res = pde_residual("burgers", _Wave("burgers", 0.5), None, None, xt, torch.full((2,), 0.5))
    assert res.abs().max() < 1e-8
    # the linear-advection residual of the same field is not 0: the flux is u^2/2, not a u
    other = pde_residual("advection", _Wave("burgers", 0.5), None, None, xt, torch.full((2,), 0.5))
    assert other.abs().max() > 1e-2
