r"""The ProbConserv Bayesian update under a linear conservation constraint.

Hansen, Maddix, Alizadeh, Gupta, Mahoney, "Learning Physical Models that Can Respect Conservation
Laws", ICML 2023 (arXiv 2302.11002), Sec. 3 (Step 2), Eq. (6)-(7).

A probabilistic black box gives, at a time :math:`t`, a Gaussian :math:`N(\mu, \Sigma)` over the
solution on the x grid. The integral form of the conservation law is a linear observation
:math:`b = G u + \varepsilon`, :math:`\varepsilon \sim N(0, \sigma_G^2)`, with :math:`G` the row
of trapezoid weights and :math:`b = U(t)` the conserved total. Conditioning gives

.. math::

    \tilde\mu &= \mu - \Sigma G^\top (\sigma_G^2 + G \Sigma G^\top)^{-1} (G\mu - b),\\
    \tilde\Sigma &= \Sigma - \Sigma G^\top (\sigma_G^2 + G \Sigma G^\top)^{-1} G \Sigma.

With a diagonal :math:`\Sigma = \mathrm{diag}(d)` and one constraint per time,
:math:`\tilde\Sigma = \mathrm{diag}(d) - v v^\top` with
:math:`v = d \odot G / \sqrt{\sigma_G^2 + G\Sigma G^\top}`: diagonal-plus-rank-one.
:class:`ConstrainedGaussian` keeps it in that form (O(n_x) memory and sampling cost per time),
never an n_x x n_x matrix unless :meth:`ConstrainedGaussian.dense` is asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike

from sciml.errors import DataError

__all__ = ["ConstrainedGaussian", "probconserv_update"]


def _as_float64(name: str, a: ArrayLike) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} holds NaN or infinite values; clean the input before the update")
    return arr


@dataclass(frozen=True)
class ConstrainedGaussian:
    r"""Gaussian with covariance :math:`\mathrm{diag}(d) - v v^\top` over the last axis.

    Attributes
    ----------
    mean : ndarray, shape (..., X), float64
        Posterior mean :math:`\tilde\mu`.
    diag : ndarray, shape (..., X), float64
        Prior variances :math:`d` (diagonal of :math:`\Sigma`).
    factor : ndarray, shape (..., X), float64
        Rank-one factor :math:`v`; :math:`\tilde\Sigma = \mathrm{diag}(d) - v v^\top`.
    shrink : ndarray, shape (...), float64
        :math:`a = G\Sigma G^\top / (\sigma_G^2 + G\Sigma G^\top) \in [0, 1]`, the fraction of the
        variance along the constrained direction removed (1 for the hard constraint).
    """

    mean: np.ndarray
    diag: np.ndarray
    factor: np.ndarray
    shrink: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        r"""Marginal variances :math:`\mathrm{diag}(\tilde\Sigma) = d - v^2`, clipped at 0."""
        return np.maximum(self.diag - self.factor**2, 0.0)

    @property
    def std(self) -> np.ndarray:
        """Marginal standard deviations, shape (..., X)."""
        return np.sqrt(self.variance)

    def dense(self, index: tuple[int, ...] = ()) -> np.ndarray:
        """Dense covariance of the slice ``index`` of the leading dims (tests, small grids only).

        Returns
        -------
        ndarray, shape (X, X) when ``index`` selects all leading dims, else (..., X, X).
        """
        d, v = self.diag[index], self.factor[index]
        eye = np.eye(d.shape[-1])
        return d[..., :, None] * eye - v[..., :, None] * v[..., None, :]

    def sample(
        self, n_samples: int, seed: int | np.random.Generator, index: tuple = ()
    ) -> np.ndarray:
        r"""Draw from :math:`N(\tilde\mu, \mathrm{diag}(d) - v v^\top)` with an O(n_x) square root.

        Write :math:`\tilde\Sigma = D^{1/2}(I - a\,\hat w \hat w^\top) D^{1/2}` with
        :math:`\hat w = D^{1/2} G / \|D^{1/2} G\|`. Its symmetric square root is
        :math:`D^{1/2}(I - c\,\hat w \hat w^\top)` with :math:`c = 1 - \sqrt{1 - a}`, so a draw is
        :math:`\tilde\mu + D^{1/2}(\epsilon - c\,\hat w (\hat w^\top \epsilon))`,
        :math:`\epsilon \sim N(0, I)`. With :math:`\sigma_G = 0` (:math:`a = 1`) every draw
        satisfies :math:`G u = b` up to rounding.

        Parameters
        ----------
        n_samples : number of draws.
        seed : int or ``numpy.random.Generator``.
        index : optional basic index into the leading dims (e.g. ``(slice(None), 50)`` for one time).

        Returns
        -------
        ndarray, shape (n_samples, ..., X), float64
        """
        if int(n_samples) < 1:
            raise DataError(f"n_samples must be >= 1; got {n_samples}")
        rng = np.random.default_rng(seed)  # passes a Generator through unchanged
        mean, d, v, a = self.mean[index], self.diag[index], self.factor[index], self.shrink[index]
        sd = np.sqrt(d)
        # v = d * G / sqrt(denom)  =>  D^{-1/2} v = sqrt(d) * G / sqrt(denom), proportional to w.
        w = np.divide(v, sd, out=np.zeros_like(v), where=sd > 0)
        norm = np.sqrt(np.sum(w * w, axis=-1, keepdims=True))
        w_hat = np.divide(w, norm, out=np.zeros_like(w), where=norm > 0)
        c = (1.0 - np.sqrt(np.clip(1.0 - a, 0.0, 1.0)))[..., None]
        eps = rng.standard_normal((int(n_samples), *mean.shape))
        proj = np.sum(w_hat * eps, axis=-1, keepdims=True)
        return mean + sd * (eps - c * w_hat * proj)


def probconserv_update(
    mean: ArrayLike,
    var: ArrayLike,
    g: ArrayLike,
    b: ArrayLike,
    sigma_g: float | ArrayLike = 0.0,
) -> ConstrainedGaussian:
    r"""Condition a diagonal Gaussian on the linear constraint :math:`G u = b` (ProbConserv step 2).

    .. math::

        \tilde\mu = \mu - \Sigma G^\top (\sigma_G^2 + G\Sigma G^\top)^{-1}(G\mu - b),\qquad
        \tilde\Sigma = \Sigma - \Sigma G^\top (\sigma_G^2 + G\Sigma G^\top)^{-1} G\Sigma

    computed in float64, batched over all leading dims (functions, times) in one call.

    Parameters
    ----------
    mean : array_like, shape (..., X)
        Black-box predictive mean :math:`\mu` on the x grid (e.g. (F, T, X)).
    var : array_like, shape (..., X)
        Predictive variances (diagonal of :math:`\Sigma`), >= 0.
    g : array_like, shape (X,)
        Constraint row :math:`G` (trapezoid weights of the x grid).
    b : array_like, broadcastable to (...)
        Constraint value :math:`b = U(t)` (e.g. (F, T) or (T,)).
    sigma_g : float or array_like broadcastable to (...), default 0
        Constraint noise std :math:`\sigma_G`; 0 is the hard constraint, ``np.inf`` leaves the
        prediction unchanged.

    Returns
    -------
    ConstrainedGaussian
        Posterior mean, prior diagonal, rank-one factor (posterior covariance
        :math:`\mathrm{diag}(d) - v v^\top`) and shrink fraction.

    Raises
    ------
    DataError
        NaN/inf in the inputs, negative variances or sigma_g, or mismatched shapes.

    References
    ----------
    .. [1] Hansen et al., "Learning Physical Models that Can Respect Conservation Laws",
       ICML 2023, PMLR 202:12469-12510, Eq. (6)-(7).

    Examples
    --------
    >>> post = probconserv_update([[1.0, 1.0]], [[1.0, 1.0]], [0.5, 0.5], [0.0])
    >>> post.mean.tolist()
    [[0.0, 0.0]]
    """
    mu = np.asarray(mean, dtype=np.float64)
    d = np.asarray(var, dtype=np.float64)
    gg = _as_float64("g", g)
    bb = _as_float64("b", b)
    sg = np.asarray(sigma_g, dtype=np.float64)
    if np.any(np.isnan(sg)) or np.any(sg < 0):
        raise DataError(f"sigma_g must be >= 0 (np.inf allowed); got {sigma_g!r}")
    if mu.ndim < 1 or mu.shape != d.shape:
        raise DataError(f"mean and var must have the same shape (..., X); got {mu.shape} and {d.shape}")
    if gg.ndim != 1 or gg.shape[0] != mu.shape[-1]:
        raise DataError(f"g must have shape ({mu.shape[-1]},) to match the x axis; got {gg.shape}")
    lead = mu.shape[:-1]
    try:
        bb = np.ascontiguousarray(np.broadcast_to(bb, lead)).reshape(-1)
        sg2 = np.ascontiguousarray(np.broadcast_to(sg * sg, lead)).reshape(-1)
    except ValueError:
        raise DataError(
            f"b (shape {np.shape(b)}) and sigma_g must broadcast to the leading shape {lead}"
        ) from None
    n_x = mu.shape[-1]
    mu2 = np.ascontiguousarray(mu).reshape(-1, n_x)
    d2 = np.ascontiguousarray(d).reshape(-1, n_x)
    new_mean = np.empty_like(mu2)
    factor = np.empty_like(mu2)
    shrink = np.empty(mu2.shape[0])
    status = _update_rows(mu2, d2, gg, bb, sg2, new_mean, factor, shrink)
    if status & 1:
        raise DataError("mean or var holds NaN or infinite values; clean the input before the update")
    if status & 2:
        raise DataError("var must be >= 0 everywhere (it is a variance, not a log-variance)")
    if status & 4:
        raise DataError(
            "sigma_g = 0 with zero predictive variance on the whole x grid: the constraint "
            "cannot be applied; give a positive var or sigma_g"
        )
    new_mean = new_mean.reshape(mu.shape)
    factor = factor.reshape(mu.shape)
    shrink = shrink.reshape(lead)
    d = d2.reshape(mu.shape)
    return ConstrainedGaussian(mean=new_mean, diag=d, factor=factor, shrink=shrink)


@numba.njit(cache=True)
def _update_rows(mu, d, g, b, sg2, out_mean, out_factor, shrink):  # pragma: no cover - compiled
    """Fused kernel of :func:`probconserv_update` over rows (one row = one function and time).

    Two passes over each row of n_x values (it stays in L1 cache): the reductions
    s = G Sigma G^T and r = G mu - b, then mu~ = mu - (d g) r / (sigma^2 + s) and
    v = (d g) / sqrt(sigma^2 + s). Returns a bit mask: 1 non-finite input, 2 negative variance,
    4 zero denominator.
    """
    n, n_x = mu.shape
    status = 0
    for i in range(n):
        s = 0.0
        r = 0.0
        for j in range(n_x):
            dj = d[i, j]
            mj = mu[i, j]
            if not (np.isfinite(dj) and np.isfinite(mj)):
                status |= 1
            elif dj < 0.0:
                status |= 2
            gj = g[j]
            s += dj * gj * gj
            r += mj * gj
        r -= b[i]
        denom = sg2[i] + s
        if np.isinf(denom):
            coef = 0.0
            inv = 0.0
            shrink[i] = 0.0
        elif denom == 0.0:
            status |= 4
            coef = 0.0
            inv = 0.0
            shrink[i] = 0.0
        else:
            coef = r / denom
            inv = 1.0 / np.sqrt(denom)
            shrink[i] = s / denom
        for j in range(n_x):
            dg = d[i, j] * g[j]
            out_mean[i, j] = mu[i, j] - dg * coef
            out_factor[i, j] = dg * inv
    return status
