"""CS divergence, conditional CS divergence and CS-QMI estimators against invariants and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from sciml.csib.divergence import (
    conditional_cs_divergence,
    cs_divergence,
    cs_mutual_information,
    gaussian_cs_divergence,
    kernel_width,
)
from sciml.errors import ConfigError, DataError


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _gauss(n, mu, scale, reps, seed):
    mu = torch.as_tensor(mu, dtype=torch.float64)
    z = torch.randn(reps, n, mu.shape[0], generator=_gen(seed), dtype=torch.float64)
    return mu + scale * z


@pytest.mark.parametrize("sigma", ["silverman", "median", 0.3, 2.0])
@pytest.mark.parametrize("d", [1, 3])
def test_divergence_of_a_set_with_itself_is_zero(sigma, d):
    x = torch.randn(5, 200, d, generator=_gen(d), dtype=torch.float64)  # batch of 5 sets
    np.testing.assert_allclose(cs_divergence(x, x, sigma).numpy(), 0.0, atol=1e-12)


@pytest.mark.parametrize("sigma", ["silverman", "median", 0.5])
def test_divergence_is_symmetric_and_nonnegative(sigma):
    x = _gauss(150, [0.0, 0.0], 1.0, 32, seed=1)
    y = _gauss(120, [0.3, -0.2], 1.5, 32, seed=2)  # different sample sizes
    dxy = cs_divergence(x, y, sigma)
    dyx = cs_divergence(y, x, sigma)
    np.testing.assert_allclose(dxy.numpy(), dyx.numpy(), rtol=1e-12, atol=1e-12)
    assert dxy.shape == (32,)
    assert bool((dxy > 0).all())


def test_divergence_of_nearly_identical_samples_is_nonnegative():
    # Cauchy-Schwarz makes the V-statistic >= 0 even for tiny differences
    x = torch.randn(64, 50, 2, generator=_gen(3), dtype=torch.float64)
    y = x + 1e-3 * torch.randn(64, 50, 2, generator=_gen(4), dtype=torch.float64)
    assert bool((cs_divergence(x, y, 0.4) >= -1e-12).all())


def test_gaussian_closed_form_matches_numerical_integration():
    m1, s1, m2, s2, sig = 0.3, 0.8, -0.5, 1.4, 0.6
    a, b = math.hypot(s1, sig), math.hypot(s2, sig)

    def integral(f):
        return integrate.quad(f, -30, 30, epsabs=1e-13, limit=200)[0]

    p = stats.norm(m1, a).pdf
    q = stats.norm(m2, b).pdf
    pq, pp, qq = integral(lambda z: p(z) * q(z)), integral(lambda z: p(z) ** 2), integral(lambda z: q(z) ** 2)
    expected = -math.log(pq**2 / (pp * qq))
    got = gaussian_cs_divergence([m1], [[s1**2]], [m2], [[s2**2]], sigma=sig)
    assert got == pytest.approx(expected, rel=1e-9)
    assert gaussian_cs_divergence([m1], [[s1**2]], [m1], [[s1**2]]) == pytest.approx(0, abs=1e-12)


def test_estimate_converges_to_smoothed_closed_form_at_fixed_sigma():
    """NOTES: at fixed sigma the Parzen estimator targets the smoothed densities (S + sigma^2 I)."""
    sigma = 1.0
    mu1, mu2 = np.zeros(2), np.array([1.0, -0.5])
    s1, s2 = np.eye(2), np.diag([1.69, 0.64])
    smoothed = gaussian_cs_divergence(mu1, s1, mu2, s2, sigma=sigma)
    plain = gaussian_cs_divergence(mu1, s1, mu2, s2, sigma=0.0)
    assert plain - smoothed > 0.25  # the smoothing matters: the test can tell them apart
    rms, means = [], []
    for n in (100, 1000):
        x = _gauss(n, mu1, 1.0, 8, seed=10 + n)  # 8 independent replicates, batched
        y = torch.as_tensor(mu2) + torch.randn(
            8, n, 2, generator=_gen(20 + n), dtype=torch.float64
        ) * torch.tensor([1.3, 0.8], dtype=torch.float64)
        est = cs_divergence(x, y, sigma).numpy()
        rms.append(float(np.sqrt(np.mean((est - smoothed) ** 2))))
        means.append(float(est.mean()))
    assert rms[1] < rms[0] / 1.5  # error shrinks with n (~1/sqrt(n))
    assert abs(means[1] - smoothed) < 0.03
    assert abs(means[1] - plain) > 0.25


def test_estimate_tends_to_unsmoothed_closed_form_as_sigma_shrinks():
    plain = gaussian_cs_divergence([0.0], [[1.0]], [1.0], [[2.25]], sigma=0.0)
    errors = []
    for sigma, n in ((0.8, 300), (0.08, 3000)):
        x = _gauss(n, [0.0], 1.0, 1, seed=int(n))
        y = _gauss(n, [1.0], 1.5, 1, seed=int(n) + 1)
        errors.append(abs(float(cs_divergence(x, y, sigma).mean()) - plain))
    assert errors[0] > 0.08  # a wide window is visibly biased towards the smoothed value
    assert errors[-1] < 0.04


def test_tiny_kernel_width_stays_finite_in_log_space():
    x = torch.randn(100, 5, generator=_gen(5), dtype=torch.float32)
    y = torch.randn(100, 5, generator=_gen(6), dtype=torch.float32) + 3.0
    d = cs_divergence(x, y, 1e-3)  # exp(-|x-y|^2/(4 sigma^2)) underflows without logsumexp
    assert torch.isfinite(d)
    assert float(d) > 100


def test_prediction_term_is_zero_at_y_hat_equal_y_and_grows_with_error():
    g = _gen(7)
    x = torch.randn(256, 8, generator=g)
    y = torch.randn(256, 1, generator=g)
    noise = torch.randn(256, 1, generator=g)
    assert float(conditional_cs_divergence(x, y, y.clone())) == pytest.approx(0.0, abs=1e-6)
    scales = torch.tensor([0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6])
    # batched over error scales: (7, 256, *)
    yh = y + scales[:, None, None] * noise
    vals = conditional_cs_divergence(x.expand(7, -1, -1), y.expand(7, -1, -1), yh, sigma_x=0.5, sigma_y=0.5)
    assert vals[0].abs() < 1e-6
    assert bool((vals[1:] > 0).all())
    assert bool((torch.diff(vals) > 0).all()), vals


def test_prediction_term_is_a_divergence_not_squared_error():
    # a constant offset and a permutation-like shuffle with equal MSE give different values
    g = _gen(8)
    x = torch.randn(300, 2, generator=g, dtype=torch.float64)
    y = x[:, :1] + 0.1 * torch.randn(300, 1, generator=g, dtype=torch.float64)
    shift = y + 0.5
    flip = y + 0.5 * torch.where(torch.arange(300)[:, None] % 2 == 0, 1.0, -1.0).double()
    a = conditional_cs_divergence(x, y, shift, 0.5, 0.5)
    b = conditional_cs_divergence(x, y, flip, 0.5, 0.5)
    assert torch.mean((shift - y) ** 2) == pytest.approx(torch.mean((flip - y) ** 2))
    assert abs(float(a) - float(b)) > 0.05


@pytest.mark.parametrize("sigma_y", [1.0, 2.0])
def test_prediction_term_with_isolated_inputs_has_closed_form_and_gradient(sigma_y):
    # inputs 10 apart with a 0.25 window: K is the identity to exp(-800), so the self terms are
    # log N and the term is -2 log mean_j exp(-e_j^2 / (2 sigma_y^2)), e_j = y_j - y_hat_j
    n = 50
    x = 10.0 * torch.arange(n, dtype=torch.float64)[:, None]
    y = torch.randn(n, 1, generator=_gen(21), dtype=torch.float64)
    yh = (y + 2.0 * torch.randn(n, 1, generator=_gen(22), dtype=torch.float64)).requires_grad_(True)
    val = conditional_cs_divergence(x, y, yh, 0.25, sigma_y)
    e = (y - yh).detach()[:, 0]
    w = torch.exp(-(e**2) / (2 * sigma_y**2))
    assert float(val.detach()) == pytest.approx(float(-2.0 * torch.log(w.mean())), rel=1e-12)
    val.backward()
    # d/dy_hat_j = -2 w_j e_j / (sigma_y^2 sum_k w_k): an error e is weighted by exp(-e^2/2s^2)
    expected = -2.0 * w * e / (sigma_y**2 * w.sum())
    torch.testing.assert_close(yh.grad[:, 0], expected, rtol=1e-10, atol=1e-14)


def test_prediction_term_has_gradients_for_predictions():
    x = torch.randn(64, 3, generator=_gen(9))
    y = torch.randn(64, 1, generator=_gen(10))
    yh = (y + 0.3).requires_grad_(True)
    conditional_cs_divergence(x, y, yh).backward()
    assert yh.grad is not None and torch.isfinite(yh.grad).all() and yh.grad.abs().sum() > 0


def test_cs_qmi_nonnegative_zero_for_independent_positive_for_dependent():
    g = _gen(11)
    x = torch.randn(16, 200, 3, generator=g, dtype=torch.float64)
    t = torch.randn(16, 200, 2, generator=g, dtype=torch.float64)
    vals = cs_mutual_information(x, t, "median", "median")
    assert vals.shape == (16,) and bool((vals >= -1e-12).all())
    xi = torch.randn(1200, 3, generator=g, dtype=torch.float64)
    ti = torch.randn(1200, 2, generator=g, dtype=torch.float64)
    indep = float(cs_mutual_information(xi, ti, "median", "median"))
    dep = float(cs_mutual_information(xi, xi[:, :2] + 0.1 * ti, "median", "median"))
    assert 0 <= indep < 1e-3
    assert dep > 20 * indep and dep > 0.01
    # non-negative at any (fixed) width, too
    assert float(cs_mutual_information(xi[:300], ti[:300], 0.2, 0.2)) >= 0


def test_cs_qmi_grows_with_dependence():
    g = _gen(12)
    x = torch.randn(800, 1, generator=g, dtype=torch.float64)
    e = torch.randn(800, 1, generator=g, dtype=torch.float64)
    vals = [float(cs_mutual_information(x, x + s * e, 1.0, 1.0)) for s in (2.0, 1.0, 0.5, 0.1)]
    assert vals == sorted(vals)


def test_kernel_width_rules():
    z = torch.randn(500, 1, generator=_gen(13), dtype=torch.float64)
    n = 500
    expected = float(z.std()) * (4.0 / (3.0 * n)) ** 0.2  # Silverman 1-D: 1.06 s n^-1/5
    assert float(kernel_width(z, "silverman")) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1.0592 * float(z.std()) * n**-0.2, rel=1e-3)
    d = np.abs(z.numpy() - z.numpy().T)[np.triu_indices(n, 1)]
    exact = float(kernel_width(z, "median", median_samples=n))
    assert exact == pytest.approx(np.sort(d)[(len(d) - 1) // 2])
    sub = np.abs(z.numpy()[:128] - z.numpy()[:128].T)[np.triu_indices(128, 1)]
    assert float(kernel_width(z, "median")) == pytest.approx(np.sort(sub)[(len(sub) - 1) // 2])
    assert float(kernel_width(z, "median")) == pytest.approx(exact, rel=0.15)
    assert float(kernel_width(z, 0.7)) == 0.7
    zb = torch.randn(3, 40, 2, generator=_gen(14))
    assert kernel_width(zb, "median").shape == (3,)
    with pytest.raises(ConfigError, match="unknown"):
        kernel_width(z, "scott")
    with pytest.raises(ConfigError, match="positive"):
        kernel_width(z, -1.0)


def test_input_errors():
    with pytest.raises(DataError, match="same dimension"):
        cs_divergence(torch.zeros(10, 2), torch.zeros(10, 3), 1.0)
    with pytest.raises(DataError, match="same shape"):
        conditional_cs_divergence(torch.zeros(10, 2), torch.zeros(10, 1), torch.zeros(9, 1))
    with pytest.raises(DataError, match="same number of samples"):
        cs_mutual_information(torch.zeros(10, 2), torch.zeros(9, 2))
    with pytest.raises(DataError, match="at least 2"):
        cs_divergence(torch.zeros(1, 2), torch.zeros(5, 2), 1.0)


# --- the fast paths (linear domain, analytic backward) against log-space references ---------


def _log_space_conditional(x, y, y_hat, wx, wy):
    """Reference: Prop. 1 with every sum in log space via torch.logsumexp (autograd backward)."""
    lk = -torch.cdist(x, x) ** 2 / (2 * wx**2)
    log_px = torch.logsumexp(lk, -1)

    def term(a, b):
        num = torch.logsumexp(lk - (a - b.T) ** 2 / (2 * wy**2), -1)
        return torch.logsumexp(num - 2 * log_px, -1)

    return term(y, y) + term(y_hat, y_hat) - 2 * term(y, y_hat)


def _log_space_qmi(x, t, wx, wt):
    lk = -torch.cdist(x, x) ** 2 / (4 * wx**2)
    ll = -torch.cdist(t, t) ** 2 / (4 * wt**2)
    n = x.shape[0]
    joint = torch.logsumexp((lk + ll).flatten(), 0) - 2 * math.log(n)
    rk, rl = torch.logsumexp(lk, -1), torch.logsumexp(ll, -1)
    marg = torch.logsumexp(rk, 0) + torch.logsumexp(rl, 0) - 4 * math.log(n)
    cross = torch.logsumexp(rk + rl, 0) - 3 * math.log(n)
    return joint + marg - 2 * cross


@pytest.mark.parametrize("far", [False, True])
def test_fast_prediction_term_matches_log_space_value_and_gradient(far):
    g = _gen(31)
    x = torch.randn(120, 4, generator=g, dtype=torch.float64)
    y = torch.randn(120, 1, generator=g, dtype=torch.float64)
    yh = y + 0.7 * torch.randn(120, 1, generator=g, dtype=torch.float64)
    if far:  # ~50 target widths away: its linear-domain row sum underflows to 0, log space takes over
        yh[3] = 100.0
    yh.requires_grad_(True)
    fast = conditional_cs_divergence(x, y, yh, 0.6, 2.0)
    (g_fast,) = torch.autograd.grad(fast, yh)
    ref = _log_space_conditional(x, y, yh, 0.6, 2.0)
    (g_ref,) = torch.autograd.grad(ref, yh)
    assert torch.isfinite(fast) and torch.isfinite(g_fast).all()
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(g_fast, g_ref, rtol=1e-8, atol=1e-12)  # finite: no 0 * inf from an underflow


def test_fast_prediction_term_float32_agrees_with_float64():
    g = _gen(32)
    x = torch.randn(256, 8, generator=g)
    y = torch.randn(256, 1, generator=g)
    yh = (y + 0.5 * torch.randn(256, 1, generator=g)).requires_grad_(True)
    v32 = conditional_cs_divergence(x, y, yh, 0.25, 2.0)
    (g32,) = torch.autograd.grad(v32, yh)
    y64 = yh.detach().double().requires_grad_(True)
    v64 = conditional_cs_divergence(x.double(), y.double(), y64, 0.25, 2.0)
    (g64,) = torch.autograd.grad(v64, y64)
    assert float(v32.detach()) == pytest.approx(float(v64.detach()), rel=1e-4)
    torch.testing.assert_close(g32.double(), g64, rtol=1e-3, atol=1e-7)


def test_kernel_row_logsum_passes_gradcheck():
    from sciml.csib.divergence import _KernelRowLogSum

    g = _gen(33)
    k = torch.rand(2, 7, 7, generator=g, dtype=torch.float64)
    a = torch.randn(2, 7, 1, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 7, 1, generator=g, dtype=torch.float64, requires_grad=True)
    c = torch.full((2, 1, 1), 0.3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a, b: _KernelRowLogSum.apply(k, a, b, c), (a, b))


def test_floored_logsumexp_matches_torch_value_and_gradient():
    from sciml.csib.divergence import stable_logsumexp

    a = (3.0 * torch.randn(5, 40, 30, generator=_gen(34), dtype=torch.float64)).requires_grad_(True)
    for dim in (-1, (-2, -1)):
        out = stable_logsumexp(a, dim)
        ref = torch.logsumexp(a, dim)
        torch.testing.assert_close(out, ref, rtol=1e-13, atol=1e-13)
        w = torch.randn(out.shape, generator=_gen(35), dtype=torch.float64)
        (g1,) = torch.autograd.grad((out * w).sum(), a)
        (g2,) = torch.autograd.grad((ref * w).sum(), a)
        torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-14)


def test_linear_domain_qmi_matches_log_space_value_and_gradient():
    g = _gen(36)
    x = torch.randn(150, 3, generator=g, dtype=torch.float64)
    t = (x[:, :2] + 0.5 * torch.randn(150, 2, generator=g, dtype=torch.float64)).requires_grad_(True)
    for wx, wt in ((0.7, 0.4), (2.0, 1.5)):
        val = cs_mutual_information(x, t, wx, wt)
        ref = _log_space_qmi(x, t, wx, wt)
        torch.testing.assert_close(val, ref, rtol=1e-10, atol=1e-13)
        (g1,) = torch.autograd.grad(val, t)
        (g2,) = torch.autograd.grad(ref, t)
        torch.testing.assert_close(g1, g2, rtol=1e-8, atol=1e-13)


def test_median_rule_single_set_equals_batched_path():
    z = torch.randn(300, 5, generator=_gen(37), dtype=torch.float64)
    single = kernel_width(z, "median")  # pdist path
    batched = kernel_width(z[None].expand(2, -1, -1), "median")  # Gram path
    torch.testing.assert_close(batched, single.expand(2), rtol=1e-10, atol=0)
