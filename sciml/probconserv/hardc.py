r"""HardC-ANP baseline: Euclidean projection of the mean onto the constraint set.

Hansen et al., ICML 2023 (arXiv 2302.11002), Sec. 4 (baselines), after Négiar et al. (ICLR 2023):
the predicted mean is projected onto :math:`\{u : G u = b\}` (one row or several) in the
Euclidean norm,

.. math:: \tilde\mu = \mu - G^\top (G G^\top)^{-1} (G\mu - b),

which is the ProbConserv update with :math:`\Sigma = I` and :math:`\sigma_G = 0`. The predictive
variance is left unchanged (HardC has no notion of uncertainty).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sciml.errors import DataError
from sciml.probconserv.update import _as_float64, _rows

__all__ = ["hardc_projection"]


def hardc_projection(
    mean: ArrayLike, std: ArrayLike, g: ArrayLike, b: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    r"""Project the mean onto :math:`G u = b` (identity metric); keep the std.

    .. math:: \tilde\mu = \mu - G^\top (G G^\top)^{-1} (G\mu - b)

    Parameters
    ----------
    mean, std : array_like, shape (..., X)
        Black-box predictive mean and standard deviation.
    g : array_like, shape (X,) or (K, X)
        Constraint row (trapezoid weights) or rows.
    b : array_like
        Constraint values, broadcastable to (...) for one row of shape (X,), to (..., K) for
        rows of shape (K, X).

    Returns
    -------
    (mean, std) : float64 arrays, shape (..., X); ``std`` is a float64 copy of the input.

    Raises
    ------
    DataError
        NaN/inf inputs, shape mismatch, or rows that are zero or linearly dependent.

    References
    ----------
    .. [1] Hansen et al., ICML 2023, PMLR 202:12469-12510, Sec. 4.
    .. [2] Négiar, Mahoney, Krishnapriyan, "Learning differentiable solvers for systems with hard
       constraints", ICLR 2023.
    """
    mu = _as_float64("mean", mean)
    sd = _as_float64("std", std)
    if mu.shape != sd.shape or mu.ndim < 1:
        raise DataError(f"mean and std must share shape (..., X); got {mu.shape}, {sd.shape}")
    one_row = np.ndim(g) == 1
    gg = _rows(g, mu.shape[-1])
    bb = _as_float64("b", b)
    gram = gg @ gg.T
    if np.any(np.diag(gram) == 0.0):
        raise DataError("g is identically zero: there is no constraint to project onto")
    n_k = gg.shape[0]
    if np.linalg.matrix_rank(gram) < n_k:
        raise DataError(f"the {n_k} constraint rows are linearly dependent; drop the dependent ones")
    want = mu.shape[:-1] if one_row else (*mu.shape[:-1], n_k)
    try:
        bb = np.broadcast_to(bb[..., None] if one_row else bb, (*mu.shape[:-1], n_k))
    except ValueError:
        raise DataError(f"b (shape {np.shape(b)}) must broadcast to {want}") from None
    resid = mu @ gg.T - bb  # (..., K)
    coef = np.linalg.solve(gram, resid[..., None])[..., 0] if n_k > 1 else resid / gram[0, 0]
    return mu - coef @ gg, sd.copy()
