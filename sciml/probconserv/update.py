r"""The ProbConserv Bayesian update under linear conservation constraints.

Hansen, Maddix, Alizadeh, Gupta, Mahoney, "Learning Physical Models that Can Respect Conservation
Laws", ICML 2023 (arXiv 2302.11002), Sec. 3 (Step 2), Eq. (6)-(7).

A probabilistic black box gives, at a time :math:`t`, a Gaussian :math:`N(\mu, \Sigma)` over the
solution on the x grid. The integral form of a conservation law is a linear observation
:math:`b = G u + \varepsilon`, :math:`\varepsilon \sim N(0, \Sigma_G)`: :math:`G` holds one row
per conserved quantity (the trapezoid weights of the grid for the mass; any other linear
functional, a first moment say, for more), :math:`b` the conserved totals and
:math:`\Sigma_G = \mathrm{diag}(\sigma_G^2)` their noise. Conditioning gives

.. math::

    \tilde\mu &= \mu - \Sigma G^\top (\Sigma_G + G \Sigma G^\top)^{-1} (G\mu - b),\\
    \tilde\Sigma &= \Sigma - \Sigma G^\top (\Sigma_G + G \Sigma G^\top)^{-1} G \Sigma.

With a diagonal :math:`\Sigma = \mathrm{diag}(d)` and :math:`K` rows, write the :math:`K \times K`
matrix :math:`S = \Sigma_G + G\Sigma G^\top = L L^\top` (Cholesky); then
:math:`\tilde\Sigma = \mathrm{diag}(d) - V V^\top` with :math:`V = \mathrm{diag}(d)\, G^\top
L^{-\top}` (:math:`n_x \times K`): diagonal plus rank :math:`K`. :class:`ConstrainedGaussian`
keeps it in that form (O(n_x K) memory, O(n_x K^2) work and O(n_x K) sampling cost per time),
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
    r"""Gaussian with covariance :math:`\mathrm{diag}(d) - V V^\top` over the last axis.

    Attributes
    ----------
    mean : ndarray, shape (..., X), float64
        Posterior mean :math:`\tilde\mu`.
    diag : ndarray, shape (..., X), float64
        Prior variances :math:`d` (diagonal of :math:`\Sigma`).
    factor : ndarray, shape (..., X, K), float64
        Low-rank factor :math:`V`, one column per constraint row;
        :math:`\tilde\Sigma = \mathrm{diag}(d) - V V^\top`. ``K = 0`` is a diagonal Gaussian.
    residual : ndarray, shape (..., K, K), float64
        :math:`R = L^{-1}\Sigma_G L^{-\top} = I - U^\top U` with :math:`U = D^{-1/2} V`: the
        share of the prior variance left along the constrained directions (0 under the hard
        constraint, exactly, so that draws keep :math:`G u = b` to rounding).
    """

    mean: np.ndarray
    diag: np.ndarray
    factor: np.ndarray
    residual: np.ndarray

    @classmethod
    def diagonal(cls, mean: ArrayLike, var: ArrayLike) -> ConstrainedGaussian:
        """The Gaussian :math:`N(\\mu, \\mathrm{diag}(d))` (no constraint, ``K = 0``)."""
        mu = np.asarray(mean, dtype=np.float64)
        lead = mu.shape[:-1]
        return cls(mu, np.asarray(var, dtype=np.float64), np.zeros((*mu.shape, 0)), np.zeros((*lead, 0, 0)))

    @property
    def n_constraints(self) -> int:
        """Number K of constraint rows conditioned on."""
        return int(self.factor.shape[-1])

    @property
    def variance(self) -> np.ndarray:
        r"""Marginal variances :math:`\mathrm{diag}(\tilde\Sigma) = d - \sum_k V_{\cdot k}^2`, at least 0."""
        return np.maximum(self.diag - np.sum(self.factor**2, axis=-1), 0.0)

    @property
    def std(self) -> np.ndarray:
        """Marginal standard deviations, shape (..., X)."""
        return np.sqrt(self.variance)

    def _whitened(self, index: tuple = ()) -> np.ndarray:
        r""":math:`U = D^{-1/2} V`, shape (..., X, K) (0 where :math:`d = 0`)."""
        d, v = self.diag[index], self.factor[index]
        sd = np.sqrt(d)[..., None]
        return np.divide(v, sd, out=np.zeros_like(v), where=sd > 0)

    @property
    def shrink(self) -> np.ndarray:
        r"""Eigenvalues of :math:`U^\top U`, :math:`U = D^{-1/2} V`, shape (..., K), descending.

        Each is the fraction of the prior variance removed along one constrained direction, in
        [0, 1]; all are 1 under the hard constraint (:math:`\sigma_G = 0`). With one row it is
        :math:`G\Sigma G^\top / (\sigma_G^2 + G\Sigma G^\top)`.
        """
        if self.n_constraints == 0:
            return np.zeros(self.residual.shape[:-1])
        return np.clip(1.0 - np.linalg.eigvalsh(self.residual), 0.0, 1.0)

    def dense(self, index: tuple[int, ...] = ()) -> np.ndarray:
        """Dense covariance of the slice ``index`` of the leading dims (tests, small grids only).

        Returns
        -------
        ndarray, shape (X, X) when ``index`` selects all leading dims, else (..., X, X).
        """
        d, v = self.diag[index], self.factor[index]
        eye = np.eye(d.shape[-1])
        return d[..., :, None] * eye - v @ np.swapaxes(v, -1, -2)

    def marginal(self, index: ArrayLike) -> ConstrainedGaussian:
        """The marginal Gaussian of the grid points ``index`` (an integer array into the x axis).

        Exact: the marginal of :math:`N(\\tilde\\mu, \\mathrm{diag}(d) - VV^\\top)` on a subset of
        points keeps those rows of :math:`\\tilde\\mu`, :math:`d` and :math:`V`; its residual is
        :math:`I - U_S^\\top U_S` of the kept rows :math:`U_S = D_S^{-1/2} V_S`.
        """
        idx = np.asarray(index)
        sub = ConstrainedGaussian(self.mean[..., idx], self.diag[..., idx], self.factor[..., idx, :],
                                  self.residual)  # fmt: skip
        u = sub._whitened()
        eye = np.eye(self.n_constraints)
        return ConstrainedGaussian(sub.mean, sub.diag, sub.factor, eye - np.swapaxes(u, -1, -2) @ u)

    def sample(
        self, n_samples: int, seed: int | np.random.Generator, index: tuple = ()
    ) -> np.ndarray:
        r"""Draw from :math:`N(\tilde\mu, \mathrm{diag}(d) - V V^\top)` at O(n_x K) cost per draw.

        Write :math:`\tilde\Sigma = D^{1/2}(I - U U^\top) D^{1/2}`, :math:`U = D^{-1/2} V`, and
        :math:`I - U^\top U = R = W \mathrm{diag}(\rho) W^\top` (:math:`K \times K`). The
        symmetric square root of :math:`I - UU^\top` is :math:`I - U W \mathrm{diag}(h) W^\top
        U^\top` with :math:`h_k = (1 - \sqrt{\rho_k}) / (1 - \rho_k)`, so a draw is
        :math:`\tilde\mu + D^{1/2}(\epsilon - U W \mathrm{diag}(h) W^\top U^\top \epsilon)`,
        :math:`\epsilon \sim N(0, I)`. With :math:`\sigma_G = 0` every draw satisfies
        :math:`G u = b` up to rounding.

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
        mean, d = self.mean[index], self.diag[index]
        sd = np.sqrt(d)
        eps = rng.standard_normal((int(n_samples), *mean.shape))
        if self.n_constraints == 0:
            return mean + sd * eps
        u = self._whitened(index)
        rho, w = np.linalg.eigh(self.residual[index])
        rho = np.clip(rho, 0.0, 1.0)
        lam = 1.0 - rho  # eigenvalues of U^T U
        h = np.where(lam > 1e-300, (1.0 - np.sqrt(rho)) / np.where(lam > 1e-300, lam, 1.0), 0.5)
        core = (w * h[..., None, :]) @ np.swapaxes(w, -1, -2)  # (..., K, K)
        proj = np.einsum("s...x,...xk->s...k", eps, u)  # U^T eps: (S, ..., K)
        back = np.einsum("...kl,s...l->s...k", core, proj)
        return mean + sd * (eps - np.einsum("...xk,s...k->s...x", u, back))


def _rows(g: np.ndarray, n_x: int, name: str = "g") -> np.ndarray:
    """The constraint matrix as (K, X) float64, checked against the x axis."""
    gg = _as_float64(name, g)
    if gg.ndim == 1:
        gg = gg[None, :]
    if gg.ndim != 2 or gg.shape[1] != n_x or gg.shape[0] < 1:
        raise DataError(
            f"{name} must have shape ({n_x},) or (K, {n_x}) to match the x axis of {n_x} points; "
            f"got {np.shape(g)}"
        )
    return np.ascontiguousarray(gg)


def probconserv_update(
    mean: ArrayLike,
    var: ArrayLike,
    g: ArrayLike,
    b: ArrayLike,
    sigma_g: float | ArrayLike = 0.0,
) -> ConstrainedGaussian:
    r"""Condition a diagonal Gaussian on the linear constraints :math:`G u = b` (ProbConserv step 2).

    .. math::

        \tilde\mu = \mu - \Sigma G^\top (\Sigma_G + G\Sigma G^\top)^{-1}(G\mu - b),\qquad
        \tilde\Sigma = \Sigma - \Sigma G^\top (\Sigma_G + G\Sigma G^\top)^{-1} G\Sigma

    with :math:`\Sigma = \mathrm{diag}(d)` and :math:`\Sigma_G = \mathrm{diag}(\sigma_G^2)`,
    computed in float64, batched over all leading dims (functions, times) in one call, at
    O(n_x K^2) work per leading index for K rows.

    Parameters
    ----------
    mean : array_like, shape (..., X)
        Black-box predictive mean :math:`\mu` on the x grid (e.g. (F, T, X)).
    var : array_like, shape (..., X)
        Predictive variances (diagonal of :math:`\Sigma`), >= 0.
    g : array_like, shape (X,) or (K, X)
        Constraint rows :math:`G` (one row: the trapezoid weights of the x grid; several: mass,
        first moment, ...).
    b : array_like
        Constraint values: broadcastable to (...) for one row given as shape (X,), to (..., K)
        for rows given as (K, X) (e.g. (F, T, K) or (T, K)).
    sigma_g : float or array_like, default 0
        Constraint noise std :math:`\sigma_G`, broadcastable like ``b`` (so one value, one per
        time, per row, or per time and row); 0 is the hard constraint, ``np.inf`` drops that row.

    Returns
    -------
    ConstrainedGaussian
        Posterior mean, prior diagonal and the (..., X, K) factor of the posterior covariance
        :math:`\mathrm{diag}(d) - V V^\top`.

    Raises
    ------
    DataError
        NaN/inf in the inputs, negative variances or sigma_g, mismatched shapes, or a hard
        constraint that cannot be applied (:math:`G\Sigma G^\top` singular: no predictive
        variance where a row weighs, or linearly dependent rows).

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
    if mu.ndim < 1 or mu.shape != d.shape:
        raise DataError(f"mean and var must have the same shape (..., X); got {mu.shape} and {d.shape}")
    one_row = np.ndim(g) == 1
    gg = _rows(g, mu.shape[-1])
    bb = _as_float64("b", b)
    sg = np.asarray(sigma_g, dtype=np.float64)
    if np.any(np.isnan(sg)) or np.any(sg < 0):
        raise DataError(f"sigma_g must be >= 0 (np.inf allowed); got {sigma_g!r}")
    lead, n_k = mu.shape[:-1], gg.shape[0]
    if one_row:  # b and sigma_g broadcast to the leading dims
        bb, sg = bb[..., None], sg[..., None]
    try:
        bb = np.ascontiguousarray(np.broadcast_to(bb, (*lead, n_k))).reshape(-1, n_k)
        sg2 = np.ascontiguousarray(np.broadcast_to(sg * sg, (*lead, n_k))).reshape(-1, n_k)
    except ValueError:
        want = lead if one_row else (*lead, n_k)
        raise DataError(
            f"b (shape {np.shape(b)}) and sigma_g (shape {np.shape(sigma_g)}) must broadcast to "
            f"{want}" + ("" if one_row else " (leading shape, then one per constraint row)")
        ) from None
    n_x = mu.shape[-1]
    mu2 = np.ascontiguousarray(mu).reshape(-1, n_x)
    d2 = np.ascontiguousarray(d).reshape(-1, n_x)
    new_mean = np.empty_like(mu2)
    factor = np.empty((mu2.shape[0], n_x, n_k))
    resid = np.empty((mu2.shape[0], n_k, n_k))
    if n_k == 1:
        status = _update_one_row(mu2, d2, gg[0], bb[:, 0].copy(), sg2[:, 0].copy(), new_mean, factor, resid)
    else:
        status = _update_rows(mu2, d2, gg, bb, sg2, new_mean, factor, resid)
    if status & 1:
        raise DataError("mean or var holds NaN or infinite values; clean the input before the update")
    if status & 2:
        raise DataError("var must be >= 0 everywhere (it is a variance, not a log-variance)")
    if status & 4:
        raise DataError(
            "sigma_g = 0 with zero predictive variance where a constraint row weighs (or with "
            "linearly dependent rows): G Sigma G^T is singular and the constraint cannot be "
            "applied; give a positive var or sigma_g, or drop the dependent row"
        )
    return ConstrainedGaussian(
        mean=new_mean.reshape(mu.shape), diag=d2.reshape(mu.shape),
        factor=factor.reshape((*mu.shape, n_k)), residual=resid.reshape((*lead, n_k, n_k)),
    )  # fmt: skip


@numba.njit(cache=True)
def _update_one_row(mu, d, g, b, sg2, out_mean, out_factor, out_resid):  # pragma: no cover - compiled
    """Fused kernel of :func:`probconserv_update` for one constraint row (the mass).

    Two passes over each row of n_x values (it stays in L1 cache): the reductions
    s = G Sigma G^T and r = G mu - b, then mu~ = mu - (d g) r / (sigma^2 + s) and
    v = (d g) / sqrt(sigma^2 + s), and the residual share sigma^2 / (sigma^2 + s). Returns a bit
    mask: 1 non-finite input, 2 negative variance, 4 zero denominator.
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
            out_resid[i, 0, 0] = 1.0
        elif denom == 0.0:
            status |= 4
            coef = 0.0
            inv = 0.0
            out_resid[i, 0, 0] = 0.0
        else:
            coef = r / denom
            inv = 1.0 / np.sqrt(denom)
            out_resid[i, 0, 0] = sg2[i] / denom
        for j in range(n_x):
            dg = d[i, j] * g[j]
            out_mean[i, j] = mu[i, j] - dg * coef
            out_factor[i, j, 0] = dg * inv
    return status


@numba.njit(cache=True)
def _update_rows(mu, d, g, b, sg2, out_mean, out_factor, out_resid):  # pragma: no cover - compiled
    """Kernel of :func:`probconserv_update` for K constraint rows, one leading index at a time.

    Per index: S = Sigma_G + G D G^T and r = G mu - b in one pass over the n_x values, the
    Cholesky factor L of the K x K matrix S, c = S^{-1} r, then per grid point j
    mu~_j = mu_j - d_j (G^T c)_j and V_j = d_j L^{-1} G_j (one triangular solve of size K), and
    R = L^{-1} Sigma_G L^{-T}. A row with infinite sigma_G is dropped (its column of V is 0, its
    share of R is 1). Returns the status bit mask of
    :func:`_update_one_row` (4: S singular).
    """
    n, n_x = mu.shape
    n_k = g.shape[0]
    status = 0
    s = np.empty((n_k, n_k))
    lo = np.empty((n_k, n_k))
    r = np.empty(n_k)
    c = np.empty(n_k)
    y = np.empty(n_k)
    gj = np.empty(n_k)
    on = np.empty(n_k)
    sig = np.empty(n_k)
    z = np.empty(n_k)
    for i in range(n):
        for k in range(n_k):
            on[k] = 0.0 if np.isinf(sg2[i, k]) else 1.0
            r[k] = 0.0
            for m in range(n_k):
                s[k, m] = 0.0
        for j in range(n_x):
            dj = d[i, j]
            mj = mu[i, j]
            if not (np.isfinite(dj) and np.isfinite(mj)):
                status |= 1
            elif dj < 0.0:
                status |= 2
            for k in range(n_k):
                gk = g[k, j] * on[k]
                r[k] += gk * mj
                dgk = dj * gk
                for m in range(k + 1):
                    s[k, m] += dgk * g[m, j] * on[m]
        for k in range(n_k):
            if on[k] == 1.0:
                r[k] -= b[i, k]
                s[k, k] += sg2[i, k]
                sig[k] = np.sqrt(sg2[i, k])
            else:
                s[k, k] = 1.0  # a dropped row: identity block, zero residual, unit noise
                sig[k] = 1.0
        # Cholesky S = L L^T (lower); a pivot at rounding level of its diagonal means S is singular
        singular = False
        for k in range(n_k):
            for m in range(k + 1):
                acc = s[k, m]
                for q in range(m):
                    acc -= lo[k, q] * lo[m, q]
                if k == m:
                    if not (acc > 1e-13 * s[k, k]) or s[k, k] <= 0.0:
                        singular = True
                        acc = 1.0
                    lo[k, k] = np.sqrt(acc)
                else:
                    lo[k, m] = acc / lo[m, m]
            for m in range(k + 1, n_k):
                lo[k, m] = 0.0
        if singular:
            status |= 4
            for k in range(n_k):
                c[k] = 0.0
        else:
            # c = S^{-1} r: L y = r, then L^T c = y
            for k in range(n_k):
                acc = r[k]
                for q in range(k):
                    acc -= lo[k, q] * y[q]
                y[k] = acc / lo[k, k]
            for k in range(n_k - 1, -1, -1):
                acc = y[k]
                for q in range(k + 1, n_k):
                    acc -= lo[q, k] * c[q]
                c[k] = acc / lo[k, k]
        for j in range(n_x):
            dj = d[i, j]
            corr = 0.0
            for k in range(n_k):
                gj[k] = g[k, j] * on[k]
                corr += gj[k] * c[k]
            out_mean[i, j] = mu[i, j] - dj * corr
            for k in range(n_k):  # V_j = d_j L^{-1} G_j
                acc = gj[k]
                for q in range(k):
                    acc -= lo[k, q] * y[q]
                y[k] = acc / lo[k, k]
                out_factor[i, j, k] = 0.0 if singular else dj * y[k]
        # R = sum_k z_k z_k^T with L z_k = sig_k e_k
        for k in range(n_k):
            for m in range(n_k):
                out_resid[i, k, m] = 0.0
        if not singular:
            for k in range(n_k):
                for q in range(n_k):
                    acc = sig[k] if q == k else 0.0
                    for p in range(q):
                        acc -= lo[q, p] * z[p]
                    z[q] = acc / lo[q, q] if q >= k else 0.0
                for q in range(n_k):
                    for m in range(n_k):
                        out_resid[i, q, m] += z[q] * z[m]
    return status
