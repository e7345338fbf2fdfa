r"""The ProbConserv constraint on a refined x grid, mapped back to the evaluation grid.

Hansen et al., "Learning Physical Models that Can Respect Conservation Laws", ICML 2023
(arXiv 2302.11002), Sec. 3: the update conditions the black box's Gaussian on
:math:`G u = U(t)`, where :math:`G` is a quadrature of the x grid and :math:`U(t)` the exact total.
Where the solution has a front, the quadrature of even the *exact* solution on the evaluation
grid misses :math:`U(t)` (the PME's vertical tangent integrates too little, a jump on a node too
much), so the update moves a perfect black box by that quadrature error, at the front, where the
black box's variance is largest.

A neural process can be queried anywhere. Here the black box is queried on a grid
:math:`r` times finer in x (each cell split into :math:`r` equal parts, so the evaluation nodes
are every :math:`r`-th fine node), the constraint applied there with the fine grid's trapezoid row
(whose quadrature error is about :math:`r^{-(1 + 1/m)}` of the coarse one for the PME,
:math:`1/r` for a jump), and the posterior mapped back exactly: the marginal of
:math:`N(\tilde\mu_f, \mathrm{diag}(d_f) - V_f V_f^\top)` on the evaluation nodes keeps their rows
(:meth:`~sciml.probconserv.update.ConstrainedGaussian.marginal`), still diagonal plus low rank.
The cost is :math:`r` times the black box's prediction and the update's memory per time slice.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sciml.errors import DataError
from sciml.gpme import trapezoid_weights
from sciml.probconserv.postprocess import nonneg_projection
from sciml.probconserv.update import ConstrainedGaussian, probconserv_update

__all__ = ["refined_grid", "coarse_nodes", "refined_update"]


def refined_grid(x: ArrayLike, factor: int) -> np.ndarray:
    """Split each cell of the grid ``x`` into ``factor`` equal cells.

    Parameters
    ----------
    x : array_like, shape (X,), strictly increasing (may be non-uniform).
    factor : int >= 1, the refinement factor r.

    Returns
    -------
    ndarray, shape (r (X - 1) + 1,); its every r-th point is a point of ``x``.

    Examples
    --------
    >>> refined_grid([0.0, 1.0, 3.0], 2).tolist()
    [0.0, 0.5, 1.0, 2.0, 3.0]
    """
    xx = np.asarray(x, dtype=np.float64)
    trapezoid_weights(xx)  # validates the grid
    r = int(factor)
    if r < 1:
        raise DataError(f"refinement factor must be >= 1; got {factor}")
    frac = np.arange(r) / r
    inner = (xx[:-1, None] + np.diff(xx)[:, None] * frac[None, :]).ravel()
    return np.concatenate([inner, xx[-1:]])


def coarse_nodes(n_x: int, factor: int) -> np.ndarray:
    """Indices of the evaluation nodes in the refined grid: ``0, r, 2r, ..., r (X - 1)``."""
    return np.arange(int(n_x)) * int(factor)


def refined_update(
    mean: ArrayLike,
    var: ArrayLike,
    x_fine: ArrayLike,
    factor: int,
    b: ArrayLike,
    sigma_g: float | ArrayLike = 0.0,
    nonneg: bool = False,
) -> tuple[ConstrainedGaussian, ConstrainedGaussian, np.ndarray | None]:
    r"""ProbConserv on the refined grid, and its exact marginal on the evaluation nodes.

    .. math:: \tilde\mu_f = \mu_f - \Sigma_f G_f^\top (\sigma_G^2 + G_f \Sigma_f G_f^\top)^{-1}
              (G_f \mu_f - b), \qquad \tilde\mu = (\tilde\mu_f)_{0, r, 2r, \dots}

    Parameters
    ----------
    mean, var : array_like, shape (..., X_f)
        The black box's mean and variance on the refined grid.
    x_fine : array_like, shape (X_f,), from :func:`refined_grid`.
    factor : int, the refinement factor r of ``x_fine``.
    b : array_like, broadcastable to (...), the conserved total.
    sigma_g : float or array_like, constraint noise std.
    nonneg : bool
        Also return the posterior mean projected onto :math:`u \ge 0` on the refined grid in the
        posterior precision (:func:`~sciml.probconserv.postprocess.nonneg_projection`, which
        keeps :math:`G_f u = G_f \tilde\mu_f`), restricted to the evaluation nodes.

    Returns
    -------
    fine : ConstrainedGaussian on the refined grid.
    coarse : ConstrainedGaussian, its marginal on the evaluation nodes.
    projected : ndarray (..., X) or None, the non-negative posterior mean on the nodes.
    """
    xf = np.asarray(x_fine, dtype=np.float64)
    r = int(factor)
    if r < 1 or (xf.size - 1) % r != 0:
        raise DataError(f"x_fine of {xf.size} points is not a grid refined {factor} times")
    gf = trapezoid_weights(xf)
    fine = probconserv_update(mean, var, gf, b, sigma_g)
    nodes = coarse_nodes((xf.size - 1) // r + 1, r)
    coarse = fine.marginal(nodes)
    projected = None
    if nonneg:
        fine_var = np.asarray(var, dtype=np.float64)
        projected = nonneg_projection(fine.mean, fine_var, gf, float(sigma_g))[..., nodes]
    return fine, coarse, projected
