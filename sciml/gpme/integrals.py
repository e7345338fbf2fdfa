r"""Conservation integrals on a grid: the linear operator G of ProbConserv.

The conserved total :math:`U(t) = \int u(t, x)\,dx` is approximated by the trapezoid rule,
:math:`G u = \sum_j w_j u_j`, with :math:`w` from :func:`trapezoid_weights`; ProbConserv
(Hansen et al., ICML 2023, Sec. 3) constrains :math:`G u = U(t)`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import trapezoid

from sciml.errors import DataError

__all__ = ["trapezoid_weights", "total_mass"]


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
