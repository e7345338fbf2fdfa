r"""Conservation integrals on a grid: the linear operator G of ProbConserv.

The conserved total :math:`U(t) = \int u(t, x)\,dx` is approximated by the trapezoid rule,
:math:`G u = \sum_j w_j u_j`, with :math:`w` from :func:`trapezoid_weights`; ProbConserv
(Hansen et al., ICML 2023, Sec. 3) constrains :math:`G u = U(t)`. For a hyperbolic law
:math:`u_t + \partial_x F = 0` the total changes by the boundary fluxes
(:func:`total_from_fluxes`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import trapezoid

from sciml.errors import DataError

__all__ = ["trapezoid_weights", "total_mass", "total_from_fluxes"]


def trapezoid_weights(x: ArrayLike) -> np.ndarray:
    r"""Weights :math:`w` of the trapezoid rule on the grid ``x``: :math:`\sum_j w_j u_j \approx \int u\,dx`.

    .. math:: w_0 = \tfrac{x_1 - x_0}{2},\quad w_j = \tfrac{x_{j+1} - x_{j-1}}{2},\quad
              w_{n-1} = \tfrac{x_{n-1} - x_{n-2}}{2}

    >>> trapezoid_weights([0.0, 0.5, 1.0]).tolist()
    [0.25, 0.5, 0.25]
    """
    xx = np.asarray(x, dtype=np.float64)
    if xx.ndim != 1 or xx.size < 2 or not np.all(np.diff(xx) > 0):
        raise DataError(
            f"x must be a 1-D strictly increasing grid of >= 2 points; got shape {xx.shape}"
        )
    dx = np.diff(xx)
    w = np.zeros_like(xx)
    w[:-1] += dx / 2.0
    w[1:] += dx / 2.0
    return w


def total_mass(u: ArrayLike, x: ArrayLike) -> np.ndarray:
    r"""Mass :math:`U = \int u\,dx` of profiles ``u`` (shape (..., X)) by the trapezoid rule."""
    xx = np.asarray(x, dtype=np.float64)
    trapezoid_weights(xx)  # validates the grid
    return trapezoid(np.asarray(u, dtype=np.float64), xx, axis=-1)


def total_from_fluxes(
    t: ArrayLike, flux_left: ArrayLike, flux_right: ArrayLike, initial: ArrayLike
) -> np.ndarray:
    r"""Conserved total from the boundary fluxes of :math:`u_t + \partial_x F = 0` on :math:`[x_0, x_1]`.

    .. math:: U(t) = U(t_0) + \int_{t_0}^{t} \big(F(s, x_0) - F(s, x_1)\big)\,ds

    by the cumulative trapezoid rule over the t grid (exact for fluxes linear in t between grid
    times, piecewise constant ones on a grid that holds their jumps).

    Parameters
    ----------
    t : array_like, shape (T,), strictly increasing.
    flux_left, flux_right : array_like, broadcastable to (..., T)
        :math:`F` at the left end (into the domain) and at the right end (out of it).
    initial : array_like, broadcastable to (...)
        :math:`U(t_0)`.

    Returns
    -------
    ndarray, shape (..., T), float64

    Raises
    ------
    DataError
        A non-increasing t grid, NaN/inf values, or shapes that do not broadcast.

    Examples
    --------
    >>> total_from_fluxes([0.0, 0.5, 1.0], 2.0, 0.0, 1.0).tolist()
    [1.0, 2.0, 3.0]
    """
    tt = np.asarray(t, dtype=np.float64)
    if tt.ndim != 1 or tt.size < 2 or not np.all(np.diff(tt) > 0):
        raise DataError(f"t must be a 1-D strictly increasing grid of >= 2 points; got shape {tt.shape}")
    arrays = [np.asarray(a, dtype=np.float64) for a in (flux_left, flux_right, initial)]
    for name, a in zip(("flux_left", "flux_right", "initial"), arrays, strict=True):
        if not np.all(np.isfinite(a)):
            raise DataError(f"{name} holds NaN or infinite values")
    try:
        shape = np.broadcast_shapes(arrays[0].shape, arrays[1].shape, (tt.size,))
        net = np.broadcast_to(arrays[0] - arrays[1], shape)
        start = np.broadcast_to(arrays[2], net.shape[:-1])
    except ValueError:
        raise DataError(
            f"fluxes {arrays[0].shape}, {arrays[1].shape} and initial {arrays[2].shape} do not broadcast "
            f"to (..., {tt.size})"
        ) from None
    steps = 0.5 * (net[..., 1:] + net[..., :-1]) * np.diff(tt)
    zero = np.zeros((*net.shape[:-1], 1))
    return start[..., None] + np.concatenate([zero, np.cumsum(steps, axis=-1)], axis=-1)
