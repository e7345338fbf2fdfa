r"""HardC-ANP baseline: Euclidean projection of the mean onto the constraint set.

Hansen et al., ICML 2023 (arXiv 2302.11002), Sec. 4 (baselines), after Négiar et al. (ICLR 2023):
the predicted mean is projected onto :math:`\{u : G u = b\}` in the Euclidean norm,

.. math:: \tilde\mu = \mu - G^\top (G G^\top)^{-1} (G\mu - b),

which is the ProbConserv update with :math:`\Sigma = I` and :math:`\sigma_G = 0`. The predictive
variance is left unchanged (HardC has no notion of uncertainty).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sciml.errors import DataError
from sciml.probconserv.update import _as_float64

__all__ = ["hardc_projection"]


def hardc_projection(
    mean: ArrayLike, std: ArrayLike, g: ArrayLike, b: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    r"""Project the mean onto :math:`G u = b` (identity metric); keep the std.

    .. math:: \tilde\mu = \mu - G^\top (G\mu - b) / (G G^\top)

    Parameters
    ----------
    mean, std : array_like, shape (..., X)
        Black-box predictive mean and standard deviation.
    g : array_like, shape (X,)
        Constraint row (trapezoid weights).
    b : array_like, broadcastable to (...)
        Constraint value (conserved total).

    Returns
    -------
    (mean, std) : float64 arrays, shape (..., X); ``std`` is a float64 copy of the input.

    Raises
    ------
    DataError
        NaN/inf inputs, shape mismatch, or ``g`` identically zero.

    References
    ----------
    .. [1] Hansen et al., ICML 2023, PMLR 202:12469-12510, Sec. 4.
    .. [2] Négiar, Mahoney, Krishnapriyan, "Learning differentiable solvers for systems with hard
       constraints", ICLR 2023.
    """
    mu = _as_float64("mean", mean)
    sd = _as_float64("std", std)
    gg = _as_float64("g", g)
    bb = _as_float64("b", b)
    if mu.shape != sd.shape or gg.ndim != 1 or gg.shape[0] != mu.shape[-1]:
        raise DataError(
            f"mean/std must share shape (..., X) and g have shape (X,); got {mu.shape}, "
            f"{sd.shape}, {gg.shape}"
        )
    norm2 = float(gg @ gg)
    if norm2 == 0.0:
        raise DataError("g is identically zero: there is no constraint to project onto")
    try:
        bb = np.broadcast_to(bb, mu.shape[:-1])
    except ValueError:
        raise DataError(f"b (shape {np.shape(b)}) must broadcast to {mu.shape[:-1]}") from None
    resid = mu @ gg - bb
    return mu - gg * (resid / norm2)[..., None], sd.copy()
