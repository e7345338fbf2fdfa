r"""Non-negativity post-processing of a Gaussian prediction (GPME problems with :math:`u \ge 0`).

Hansen et al., ICML 2023 (arXiv 2302.11002), App. (inequality constraints): the porous medium and
Stefan solutions are non-negative, so a prediction is projected onto :math:`\{u \ge 0\}` in the
metric of its own (posterior) precision. For a black box with diagonal covariance
:math:`D = \mathrm{diag}(d)` conditioned on the conservation constraint :math:`G u = b` with noise
:math:`\sigma_G`, the posterior precision is :math:`D^{-1} + G^\top G / \sigma_G^2`, and

.. math::

    \hat u = \arg\min_{u \ge 0}\; (u - y)^\top D^{-1} (u - y) + \frac{(G(u - y))^2}{\sigma_G^2}.

The KKT conditions give :math:`\hat u = \max(0, y - \lambda\, d \odot G)` with one scalar
:math:`\lambda` solving :math:`G\hat u - G y = \sigma_G^2 \lambda`; :math:`G\hat u` is piecewise
linear and non-increasing in :math:`\lambda`, so the root is found exactly from the sorted
breakpoints :math:`y_j / (d_j G_j)` (no iteration). Special cases: :math:`\sigma_G = 0` projects
onto :math:`\{u \ge 0, G u = G y\}` (conservation is kept exactly: ProbConserv with the hard
constraint, and HardC with :math:`d = 1`); :math:`\sigma_G = \infty` is plain clipping
:math:`\max(0, y)` (a black box that knows no constraint). Applied to the posterior mean it equals
the MAP of the black-box prior times the constraint likelihood restricted to :math:`u \ge 0`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sciml.errors import DataError

__all__ = ["nonneg_projection"]


def nonneg_projection(
    y: ArrayLike,
    var: ArrayLike,
    g: ArrayLike,
    sigma_g: float = 0.0,
    total: ArrayLike | None = None,
) -> np.ndarray:
    r"""Project profiles onto :math:`u \ge 0` in the precision :math:`D^{-1} + G^\top G/\sigma_G^2`.

    Parameters
    ----------
    y : array_like, shape (..., X)
        Profiles to project (posterior means or posterior draws), float64.
    var : array_like, broadcastable to ``y``
        Black-box variances :math:`d > 0` (the diagonal metric; 1 for the Euclidean metric).
    g : array_like, shape (X,)
        Constraint row :math:`G` (trapezoid weights, > 0).
    sigma_g : float, default 0
        Constraint noise std; 0 keeps :math:`G u = G y` exactly, ``np.inf`` clips at 0.
    total : array_like broadcastable to ``y.shape[:-1]``, optional
        Replaces :math:`G y` in the constraint term, :math:`(G u - \text{total})^2/\sigma_G^2`
        (with ``sigma_g = 0``: :math:`G u = \text{total}`, e.g. HardC applied to a draw);
        default :math:`G y`.

    Returns
    -------
    ndarray, shape (..., X): :math:`\max(0, y - \lambda\, d \odot G)`, float64.

    Raises
    ------
    DataError
        NaN/inf in ``y``, non-positive ``var`` or ``g``, negative ``sigma_g``, shape mismatch,
        or a negative total with ``sigma_g = 0`` (no non-negative profile has it).

    Examples
    --------
    >>> nonneg_projection([[0.75, -0.25]], [[1.0, 1.0]], [0.5, 0.5]).tolist()
    [[0.5, 0.0]]
    """
    yy = np.asarray(y, dtype=np.float64)
    gg = np.asarray(g, dtype=np.float64)
    sg = float(sigma_g)
    if not np.all(np.isfinite(yy)):
        raise DataError("y holds NaN or infinite values")
    if gg.ndim != 1 or yy.shape[-1:] != gg.shape or np.any(gg <= 0):
        raise DataError(f"g must be positive with shape ({yy.shape[-1]},); got shape {gg.shape}")
    if np.isnan(sg) or sg < 0:
        raise DataError(f"sigma_g must be >= 0 (np.inf allowed); got {sigma_g!r}")
    if np.isinf(sg):
        return np.maximum(yy, 0.0)
    try:
        d = np.broadcast_to(np.asarray(var, dtype=np.float64), yy.shape)
    except ValueError:
        raise DataError(f"var (shape {np.shape(var)}) must broadcast to y {yy.shape}") from None
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise DataError("var must be finite and > 0 (it defines the metric)")
    w = d * gg
    lam = yy / w  # breakpoints: u_j > 0 iff lambda < lam_j
    order = np.argsort(-lam, axis=-1)
    lam_s = np.take_along_axis(lam, order, axis=-1)
    a = np.cumsum(np.take_along_axis(yy * gg, order, axis=-1), axis=-1)
    b = np.cumsum(np.take_along_axis(w * gg, order, axis=-1), axis=-1)
    own = yy @ gg
    if total is None:
        target = own[..., None]
    else:
        try:
            target = np.broadcast_to(np.asarray(total, dtype=np.float64), own.shape)[..., None]
        except ValueError:
            raise DataError(f"total (shape {np.shape(total)}) must broadcast to {own.shape}") from None
        if not np.all(np.isfinite(target)):
            raise DataError("total holds NaN or infinite values")
    s2 = sg * sg
    if s2 == 0.0:
        if np.any(target < -1e-12 * (np.abs(yy) @ gg)[..., None]):
            raise DataError(
                "a negative total with sigma_g = 0: no u >= 0 has it (the total is G y unless given)"
            )
        target = np.maximum(target, 0.0)
    # h_k = G u(lam_(k)) - G y - s2 lam_(k), non-decreasing in k; the root lies on the segment whose
    # active set is the top K breakpoints, K = #{k : h_k <= 0}.
    h = a - lam_s * b - target - s2 * lam_s
    k = np.sum(h <= 0, axis=-1, keepdims=True)
    if s2 == 0.0:  # h_1 = -total <= 0 up to rounding: at least the top breakpoint is active
        k = np.maximum(k, 1)
    a_k = np.where(k > 0, np.take_along_axis(a, np.maximum(k - 1, 0), axis=-1), 0.0)
    b_k = np.where(k > 0, np.take_along_axis(b, np.maximum(k - 1, 0), axis=-1), 0.0)
    root = (a_k - target) / (b_k + s2)
    return np.maximum(yy - root * w, 0.0)
