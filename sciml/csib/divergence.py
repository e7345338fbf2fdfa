r"""Kernel (Parzen) estimators of Cauchy-Schwarz divergences and mutual information.

Implements the sample estimators of Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz
Divergence Information Bottleneck for Regression", ICLR 2024 (arXiv:2404.17951), Sections 3.1-3.2:

* the CS divergence between two sample sets, :func:`cs_divergence`;
* the conditional CS divergence :math:`D_{CS}(p(y|x)\,\|\,q(\hat y|x))` for paired samples sharing
  the same inputs, :func:`conditional_cs_divergence` (the CS-IB prediction term);
* the CS quadratic mutual information :math:`I_{CS}(x; t)`, :func:`cs_mutual_information`
  (the CS-IB compression term);

plus the kernel-width rules (Silverman, median heuristic, fixed), :func:`kernel_width`.

Every estimator is batched over leading dimensions (``(..., n, d)`` sample sets) and is
differentiable in its sample arguments (kernel widths chosen by a rule are detached). Sums that
can underflow (the cross term of :func:`cs_divergence`, a prediction far from every target) are
taken in log space (a floored ``logsumexp``), so a tiny kernel width cannot turn them into
``log 0``. Sums whose Gram matrix has a unit diagonal (every row sum >= 1: the CS-QMI, the inner
sums of the prediction term) are taken in the linear domain with ``exp2``, with an analytic
backward for the prediction term; at batch 256 the Gram-matrix part of a training step costs
less than half of the all-log-space version's (``benchmarks/bench_csib.py``). Tests check the
fast paths against log-space references.

Bandwidth convention
--------------------
``sigma`` is always the width of the Parzen *window* used to estimate each density,
:math:`\hat p(z) = \frac1n \sum_i \mathcal N(z; z_i, \sigma^2 I)`. Integrals of products of two
Parzen estimates (:func:`cs_divergence`, :func:`cs_mutual_information`) then involve Gaussian
Gram matrices of width :math:`\sqrt2\,\sigma`, since
:math:`\int \mathcal N(z; a, \sigma^2 I)\,\mathcal N(z; b, \sigma^2 I)\,dz = \mathcal N(a; b, 2\sigma^2 I)`;
the resubstitution estimator of the conditional divergence evaluates the estimates at the
samples and uses width :math:`\sigma`. Normalising constants cancel in every CS ratio, so Gram
matrices are the unnormalised :math:`\exp(-\|a-b\|^2 / (2 w^2))`.

As the notes of this project stress, at a fixed ``sigma`` these estimators converge (n -> inf) to
the divergence between the *smoothed* densities :math:`p * \mathcal N_\sigma` and
:math:`q * \mathcal N_\sigma`, not between p and q; see :func:`gaussian_cs_divergence`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from sciml.errors import ConfigError, DataError

__all__ = [
    "KernelWidth",
    "kernel_width",
    "log_gram",
    "stable_logsumexp",
    "cs_divergence",
    "conditional_cs_divergence",
    "cs_mutual_information",
    "gaussian_cs_divergence",
]

KernelWidth = Literal["silverman", "median"] | float

_SQRT2 = math.sqrt(2.0)


def _as_samples(z: torch.Tensor, name: str) -> torch.Tensor:
    """Return ``z`` as ``(..., n, d)``: a 1-D tensor is n samples of dimension 1."""
    if not isinstance(z, torch.Tensor):
        raise DataError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if z.ndim == 0:
        raise DataError(f"{name} must hold samples with shape (..., n, d) or (n,), got a scalar")
    if z.ndim == 1:
        z = z[:, None]
    if z.shape[-2] < 2:
        raise DataError(f"{name} needs at least 2 samples, got shape {tuple(z.shape)}")
    return z


def _sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise squared Euclidean distances, shape (..., n, m), clamped at 0."""
    if a.shape[-1] == 1:  # scalars (targets): exact differences, no matmul
        return (a - b.transpose(-1, -2)).square()
    return _gram_sq_dists(a, b).relu_()


def _gram_sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``|a_i|^2 + |b_j|^2 - 2 a_i.b_j``: one matrix product and in-place passes (no temporaries).

    Not clamped: rounding can leave entries a few ulps below 0 where ``a_i == b_j``.
    """
    aa = (a * a).sum(-1, keepdim=True)
    bb = (b * b).sum(-1, keepdim=True).transpose(-1, -2)
    if a.ndim == 2 and b.ndim == 2:
        return torch.addmm(bb, a, b.T, alpha=-2.0).add_(aa)
    return (a @ b.transpose(-1, -2)).mul_(-2.0).add_(aa).add_(bb)


def kernel_width(z: torch.Tensor, rule: KernelWidth = "silverman", median_samples: int = 128) -> torch.Tensor:
    r"""Gaussian kernel (Parzen window) width of a sample set, by rule or fixed.

    * ``"silverman"``: :math:`\sigma = \bar s \left(\frac{4}{(d+2)\,n}\right)^{1/(d+4)}`,
      with :math:`\bar s` the mean per-dimension standard deviation (Silverman 1986, eq. 4.14).
    * ``"median"``: the median of the pairwise distances :math:`\|z_i - z_j\|, i<j`
      (Gretton et al., 2012), over the first ``median_samples`` samples only when there are
      more (a mini-batch is in random order; the subsample keeps the rule cheap, 128 points
      give 8,128 pairs).
    * a positive float: that width.

    Parameters
    ----------
    z : Tensor, shape (..., n, d) or (n,)
    rule : "silverman" | "median" | float
    median_samples : at most this many (leading) samples enter the median rule.

    Returns
    -------
    Tensor, shape (...): one width per batch element, detached from the graph, floored at
    ``1e-6`` so a collapsed sample set cannot give a zero width.

    Raises
    ------
    ConfigError
        For an unknown rule or a non-positive fixed width.
    """
    z = _as_samples(z, "z").detach()
    batch = z.shape[:-2]
    n, d = z.shape[-2], z.shape[-1]
    if isinstance(rule, int | float) and not isinstance(rule, bool):
        if not rule > 0 or not math.isfinite(rule):
            raise ConfigError(f"fixed kernel width must be a positive finite float, got {rule!r}")
        return torch.full(batch, float(rule), dtype=z.dtype, device=z.device)
    if rule == "silverman":
        s = z.std(dim=-2).mean(-1)
        width = s * (4.0 / ((d + 2.0) * n)) ** (1.0 / (d + 4.0))
    elif rule == "median":
        m = min(n, max(int(median_samples), 2))
        zs = z[..., :m, :]
        if zs.ndim == 2:  # one sample set: pdist gives the m(m-1)/2 distances directly
            width = torch.pdist(zs).median()
        else:
            iu = torch.triu_indices(m, m, offset=1, device=z.device)
            width = _sq_dists(zs, zs)[..., iu[0], iu[1]].median(dim=-1).values.sqrt()
    else:
        raise ConfigError(
            f"kernel width rule {rule!r} unknown; use 'silverman', 'median' or a positive float"
        )
    return width.clamp_min(1e-6)


def _widths(z: torch.Tensor, sigma: KernelWidth | torch.Tensor, median_samples: int = 128) -> torch.Tensor:
    """Width per batch element, shape (..., 1, 1) for broadcasting against a Gram matrix."""
    if isinstance(sigma, torch.Tensor):
        w = sigma.to(dtype=z.dtype, device=z.device).detach()
        if bool((w <= 0).any()) or not bool(torch.isfinite(w).all()):
            raise ConfigError("kernel width tensor must be positive and finite")
        w = w.expand(z.shape[:-2]) if w.ndim == 0 else w
    else:
        w = kernel_width(z, sigma, median_samples)
    return w[..., None, None]


def log_gram(a: torch.Tensor, b: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    r"""Log of the unnormalised Gaussian Gram matrix, :math:`-\|a_i-b_j\|^2 / (2 w^2)`.

    Parameters
    ----------
    a : Tensor, shape (..., n, d)
    b : Tensor, shape (..., m, d)
    width : Tensor, broadcastable to (..., 1, 1)

    Returns
    -------
    Tensor, shape (..., n, m)
    """
    return _sq_dists(a, b) * (-0.5 / (width * width))


def _log2_gram(a: torch.Tensor, b: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """:func:`log_gram` in base 2, for ``exp2`` (about 3x faster than ``exp`` on CPUs).

    Unclamped (:func:`_gram_sq_dists`): an entry can exceed 0 by rounding, i.e. a Gram entry can
    exceed 1 by ~1e-7, which no estimator here notices; skipping the clamp saves a pass.
    """
    coef = -0.5 * _LOG2E / (width * width)
    if a.shape[-1] == 1:
        return (a - b.transpose(-1, -2)).square().mul_(coef)
    return _gram_sq_dists(a, b).mul_(coef)


_FLOOR = -60.0
_LOG2E = 1.0 / math.log(2.0)


class _FlooredLogSumExp(torch.autograd.Function):
    """Floored log-sum-exp with a one-multiplication backward.

    Forward: ``m = max a``, ``e = exp(max(a - m, floor))``, ``out = log(sum e) + m``; it keeps the
    normalised weights ``p = e / sum e`` (the softmax, d out / d a) for the backward pass,
    ``grad_a = grad_out * p``, instead of letting autograd differentiate every elementwise step
    (shift, floor, exponential, sum, log): on a 256 x 256 Gram matrix that is one pass over the
    matrix instead of about six. Below the floor the exact derivative is < e^-60: set to 0.
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor, dims: tuple[int, ...], floor: float) -> torch.Tensor:
        m = a.amax(dim=dims, keepdim=True)
        e = (a - m).mul_(_LOG2E).clamp_min_(floor * _LOG2E).exp2_()  # exp2: ~3x faster than exp
        total = e.sum(dim=dims, keepdim=True)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(e.div_(total))
        ctx.dims = dims
        return (total.log_() + m).squeeze(dims)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        (p,) = ctx.saved_tensors
        grad = grad_out
        for d in sorted(x % p.ndim for x in ctx.dims):
            grad = grad.unsqueeze(d)
        return grad * p, None, None


def stable_logsumexp(a: torch.Tensor, dim: int | tuple[int, ...]) -> torch.Tensor:
    """``logsumexp`` with the shifted exponents floored at -60.

    Terms more than 60 nats below the largest one add at most ``n * e^-60`` relative to it
    (invisible in float32/float64), but left alone they become denormal floats, which are
    10-100x slower on CPUs; flooring keeps every exponent a normal number. The gradient is the
    softmax of ``a`` over ``dim`` (:class:`_FlooredLogSumExp`, first derivatives only).
    """
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return _FlooredLogSumExp.apply(a, dims, _FLOOR)


class _KernelRowLogSum(torch.autograd.Function):
    r"""Row log-sums :math:`s_j = \log \sum_i K_{ji}\, e^{-c (a_j - b_i)^2}` of 1-D samples.

    The prediction term's inner sums for scalar targets, computed in place on one N x N buffer,
    with an analytic backward (``K`` carries no gradient):

    .. math::

        \partial s_j / \partial a_j = -2c \sum_i w_{ji} d_{ji} / S_j, \qquad
        \partial s_j / \partial b_i = 2c\, w_{ji} d_{ji} / S_j,

    with :math:`d_{ji} = a_j - b_i`, :math:`w_{ji} = K_{ji} e^{-c d_{ji}^2}`,
    :math:`S_j = \sum_i w_{ji}`. Linear domain: the caller checks that every :math:`S_j` is a
    normal number (it falls back to log-space otherwise).
    """

    @staticmethod
    def forward(ctx, k: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        d = a - b.transpose(-1, -2)  # (..., N, N)
        w = (d * d).mul_(-c * _LOG2E).exp2_().mul_(k)  # exp(-c d^2) as exp2: ~3x faster than exp
        total = w.sum(-1)
        ctx.save_for_backward(w, d, total, c)
        return total.log()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        w, d, total, c = ctx.saved_tensors
        q = w * d  # not in place: a retained graph may run this backward again
        r = (grad_out / total)[..., None]  # (..., N, 1)
        two_c = 2.0 * c
        grad_a = grad_b = None
        if ctx.needs_input_grad[1]:
            grad_a = -two_c * r * q.sum(-1, keepdim=True)
        if ctx.needs_input_grad[2]:
            grad_b = two_c * (r.transpose(-1, -2) @ q).transpose(-1, -2)
        return None, grad_a, grad_b, None


_TINY_ROW_SUM = math.exp(_FLOOR)


def _log_mean(logk: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """log of the mean of exp(logk) over ``dims``, via logsumexp."""
    count = 1
    for d in dims:
        count *= logk.shape[d]
    return stable_logsumexp(logk, dims) - math.log(count)


def cs_divergence(
    x: torch.Tensor, y: torch.Tensor, sigma: KernelWidth | torch.Tensor = "silverman"
) -> torch.Tensor:
    r"""Empirical Cauchy-Schwarz divergence between two sample sets.

    .. math::

        \hat D_{CS}(p\|q) = \log \frac{1}{n^2}\sum_{ij} \kappa(x_i - x_j)
            + \log \frac{1}{m^2}\sum_{ij} \kappa(y_i - y_j)
            - 2 \log \frac{1}{nm}\sum_{ij} \kappa(x_i - y_j),
        \qquad \kappa(u) = e^{-\|u\|^2 / (4\sigma^2)}

    i.e. :math:`-\log[(\int\hat p\hat q)^2 / (\int\hat p^2 \int\hat q^2)]` for Parzen estimates
    with window :math:`\sigma` (Principe 2010, eq. 2.110; Yu et al. 2024, eq. 6). It is exactly 0
    for ``x is y``, symmetric, and >= 0 (Cauchy-Schwarz inequality in the RKHS of the kernel,
    V-statistics). At fixed :math:`\sigma` it converges to :math:`D_{CS}` of the smoothed
    densities, see :func:`gaussian_cs_divergence`.

    Parameters
    ----------
    x : Tensor, shape (..., n, d) or (n,)
    y : Tensor, shape (..., m, d) or (m,)
    sigma : "silverman" | "median" | float | Tensor
        Parzen window width. A rule is applied to the pooled samples so that both densities
        share one window (the estimator needs a common kernel to be a divergence).

    Returns
    -------
    Tensor, shape (...), in nats.

    References
    ----------
    .. [1] J. C. Principe, "Information Theoretic Learning", Springer 2010, ch. 2.
    .. [2] S. Yu et al., ICLR 2024, arXiv:2404.17951.
    """
    x = _as_samples(x, "x")
    y = _as_samples(y, "y")
    if x.shape[-1] != y.shape[-1]:
        raise DataError(f"x and y must have the same dimension, got {x.shape[-1]} and {y.shape[-1]}")
    batch = torch.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    pooled = torch.cat([x.expand(*batch, *x.shape[-2:]), y.expand(*batch, *y.shape[-2:])], dim=-2)
    # the rule sees every pooled sample, so that swapping x and y cannot change the width
    w = _widths(pooled, sigma, median_samples=pooled.shape[-2]) * _SQRT2
    lxx = _log_mean(log_gram(x, x, w), (-2, -1))
    lyy = _log_mean(log_gram(y, y, w), (-2, -1))
    lxy = _log_mean(log_gram(x, y, w), (-2, -1))
    return lxx + lyy - 2.0 * lxy


def conditional_cs_divergence(
    x: torch.Tensor,
    y: torch.Tensor,
    y_hat: torch.Tensor,
    sigma_x: KernelWidth | torch.Tensor = "silverman",
    sigma_y: KernelWidth | torch.Tensor = "silverman",
) -> torch.Tensor:
    r"""Conditional CS divergence :math:`D_{CS}(p(y|x)\,\|\,q(\hat y|x))`, the CS-IB prediction term.

    With N paired samples :math:`\{(x_j, y_j)\}` from p and :math:`\{(x_j, \hat y_j)\}` from q
    (same inputs), Gram matrices :math:`K_{ji} = \kappa_{\sigma_x}(x_j - x_i)`,
    :math:`L^{1}_{ji} = \kappa_{\sigma_y}(y_j - y_i)`,
    :math:`L^{2}_{ji} = \kappa_{\sigma_y}(\hat y_j - \hat y_i)` and
    :math:`L^{21}_{ji} = \kappa_{\sigma_y}(y_j - \hat y_i)`:

    .. math::

        \hat D_{CS} = \log \sum_j \frac{\sum_i K_{ji} L^{1}_{ji}}{(\sum_i K_{ji})^2}
            + \log \sum_j \frac{\sum_i K_{ji} L^{2}_{ji}}{(\sum_i K_{ji})^2}
            - 2 \log \sum_j \frac{\sum_i K_{ji} L^{21}_{ji}}{(\sum_i K_{ji})^2}

    (Yu et al. 2024, Proposition 1, with the shared-input simplification; each sum is the
    resubstitution estimate of :math:`\int\!\!\int p(x,y)^2/p(x)^2`,
    :math:`\int\!\!\int q(x,y)^2/q(x)^2` and :math:`\int\!\!\int p(x,y)q(x,y)/(p(x)q(x))`).
    The targets enter as N x 1 *samples* through the kernel :math:`L`; no squared error is
    involved. It is exactly 0 when ``y_hat == y`` and grows with the prediction error.

    Parameters
    ----------
    x : Tensor, shape (..., N, d_x)
        Conditioning inputs (no gradient is needed through them).
    y, y_hat : Tensor, shape (..., N, d_y) or (N,)
        Observed and predicted targets.
    sigma_x, sigma_y : kernel widths (rule or value) for x and for the targets; the target width
        from a rule is computed on the observed ``y`` only so that the prediction cannot
        widen its own kernel.

    Returns
    -------
    Tensor, shape (...), in nats.

    References
    ----------
    .. [1] S. Yu et al., "Cauchy-Schwarz Divergence Information Bottleneck for Regression",
       ICLR 2024, Sec. 3.1, Prop. 1.
    .. [2] S. Yu et al., "Conditional CS divergence with applications", arXiv:2301.08970.
    """
    x = _as_samples(x, "x")
    y = _as_samples(y, "y")
    y_hat = _as_samples(y_hat, "y_hat")
    if y.shape != y_hat.shape:
        raise DataError(
            f"y and y_hat must have the same shape, got {tuple(y.shape)} and {tuple(y_hat.shape)}"
        )
    if x.shape[-2] != y.shape[-2]:
        raise DataError(f"x and y must hold the same number of samples, got {x.shape[-2]} and {y.shape[-2]}")
    wx = _widths(x, sigma_x)
    wy = _widths(y, sigma_y)
    if y.shape[-1] == 1 and not x.requires_grad:
        # scalar targets (regression): linear-domain row sums with an analytic backward. K has
        # K_jj = 1, so sum_i K_ji >= 1; entries below e^-60 are set to exactly 0, so that no
        # product is denormal (exp itself is 10-40x slower on arguments below about -87).
        k = _log2_gram(x, x, wx).clamp_(_FLOOR * _LOG2E, 0.0).exp2_()
        k = torch.nn.functional.threshold_(k, 1.5 * _TINY_ROW_SUM, 0.0)
        log_px = k.sum(-1).log()
        c = 0.5 / (wy * wy)

        def inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            num = _KernelRowLogSum.apply(k, a, b, c)
            if bool((num < _FLOOR).any()) or not bool(torch.isfinite(num).all()):
                # a prediction ~20 kernel widths from every target: exact log-space sums instead
                num = stable_logsumexp(log_gram(x, x, wx) + log_gram(a, b, wy), dim=-1)
            return num
    else:
        lk = log_gram(x, x, wx)  # (..., j, i)
        log_px = stable_logsumexp(lk, dim=-1)  # (..., j): log sum_i K_ji

        def inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return stable_logsumexp(lk + log_gram(a, b, wy), dim=-1)

    def term(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return stable_logsumexp(inner(a, b) - 2.0 * log_px, dim=-1)

    if x.requires_grad or y.requires_grad:
        pp = term(y, y)
    else:
        with torch.no_grad():  # a constant of the loss: skip its backward graph
            pp = term(y, y)
    return pp + term(y_hat, y_hat) - 2.0 * term(y, y_hat)


def cs_mutual_information(
    x: torch.Tensor,
    t: torch.Tensor,
    sigma_x: KernelWidth | torch.Tensor = "silverman",
    sigma_t: KernelWidth | torch.Tensor = "silverman",
) -> torch.Tensor:
    r"""CS quadratic mutual information :math:`I_{CS}(x; t) = D_{CS}(p(x,t)\,\|\,p(x)p(t))`.

    With Gram matrices :math:`K` (of x) and :math:`L` (of t), both of width
    :math:`\sqrt2\sigma` (integrals of Parzen products), the V-statistic estimator is

    .. math::

        \hat I_{CS} = \log \frac{1}{N^2}\sum_{ij} K_{ij}L_{ij}
            + \log \frac{1}{N^4}\sum_{ij}K_{ij}\sum_{ij}L_{ij}
            - 2 \log \frac{1}{N^3}\sum_i \Big(\sum_j K_{ij}\Big)\Big(\sum_j L_{ij}\Big)

    (Yu et al. 2024, eq. 12). It is >= 0 for any sample (Cauchy-Schwarz between the mean
    embeddings of the joint and of the product of marginals in the product RKHS) and tends to
    0 for independent x and t.

    Parameters
    ----------
    x : Tensor, shape (..., N, d_x) or (N,)
    t : Tensor, shape (..., N, d_t) or (N,)
    sigma_x, sigma_t : kernel widths (rule or value) of the Parzen windows of x and t.

    Returns
    -------
    Tensor, shape (...), in nats.
    """
    x = _as_samples(x, "x")
    t = _as_samples(t, "t")
    if x.shape[-2] != t.shape[-2]:
        raise DataError(f"x and t must hold the same number of samples, got {x.shape[-2]} and {t.shape[-2]}")
    # Linear domain: every Gram matrix has a unit diagonal, so each row sum is >= 1 and each
    # full sum >= N (no underflow); K and L entries that underflow are negligible against them.
    k = _log2_gram(x, x, _widths(x, sigma_x) * _SQRT2).exp2_()
    ell = _log2_gram(t, t, _widths(t, sigma_t) * _SQRT2).exp2_()
    n = x.shape[-2]
    log_n = math.log(n)
    joint = (k * ell).sum((-2, -1)).log() - 2.0 * log_n
    rows_k = k.sum(-1)  # sum_j K_ij
    rows_l = ell.sum(-1)
    marg = rows_k.sum(-1).log() + rows_l.sum(-1).log() - 4.0 * log_n
    cross = (rows_k * rows_l).sum(-1).log() - 3.0 * log_n
    return joint + marg - 2.0 * cross


def gaussian_cs_divergence(
    mu1: np.ndarray,
    cov1: np.ndarray,
    mu2: np.ndarray,
    cov2: np.ndarray,
    sigma: float = 0.0,
) -> float:
    r"""Closed-form CS divergence between two Gaussians, optionally Parzen-smoothed.

    With :math:`A = \Sigma_1 + \sigma^2 I`, :math:`B = \Sigma_2 + \sigma^2 I` and
    :math:`\int \mathcal N(z; a, A)\,\mathcal N(z; b, B)\,dz = \mathcal N(a; b, A + B)`:

    .. math::

        D_{CS} = -2\log\mathcal N(\mu_1; \mu_2, A + B) + \log\mathcal N(0; 0, 2A)
            + \log\mathcal N(0; 0, 2B)

    ``sigma = 0`` gives the divergence between the Gaussians themselves; ``sigma > 0`` the
    limit of :func:`cs_divergence` with window ``sigma`` as the sample sizes grow.

    Parameters
    ----------
    mu1, mu2 : array, shape (d,)
    cov1, cov2 : array, shape (d, d), symmetric positive definite
    sigma : float, Parzen window width (>= 0)

    Returns
    -------
    float, in nats.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    d = mu1.shape[0]
    eye = np.eye(d)
    a = np.atleast_2d(np.asarray(cov1, dtype=np.float64)) + sigma**2 * eye
    b = np.atleast_2d(np.asarray(cov2, dtype=np.float64)) + sigma**2 * eye

    def log_normal_at(diff: np.ndarray, cov: np.ndarray) -> float:
        sign, logdet = np.linalg.slogdet(cov)
        if sign <= 0:
            raise DataError("covariance must be positive definite")
        quad = float(diff @ np.linalg.solve(cov, diff))
        return -0.5 * (d * math.log(2.0 * math.pi) + logdet + quad)

    zero = np.zeros(d)
    return (
        -2.0 * log_normal_at(mu1 - mu2, a + b) + log_normal_at(zero, 2.0 * a) + log_normal_at(zero, 2.0 * b)
    )
