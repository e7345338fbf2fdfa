r"""Scores of ProbConserv and its baselines (Hansen et al., ICML 2023, Sec. 4 and App. E).

* MSE at a time :math:`t`: :math:`\frac1{n_x}\sum_j (\mu(t, x_j) - u(t, x_j))^2`.
* Conservation error CE: the signed :math:`G\mu(t) - U(t)` (trapezoid integral of the predicted
  mean minus the exact conserved total).
* LL: mean Gaussian log-likelihood per grid point, :math:`\frac1{n_x}\sum_j
  \log N(u_j; \mu_j, \sigma_j^2)` with the marginal std.
* Shock (front) position of a profile: the first grid point where :math:`u` falls to the level
  (default 0); its posterior from draws of the predictive distribution (500 in the paper).

Standard errors are over test functions: :math:`\mathrm{sd}/\sqrt{F}`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from sciml.errors import DataError
from sciml.uq import gaussian_nll, interval_coverage

__all__ = [
    "squared_error",
    "conservation_error",
    "log_likelihood",
    "shock_position",
    "shock_summary",
    "mean_and_se",
]


def _check_same(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise DataError(f"{name_a} {a.shape} and {name_b} {b.shape} do not broadcast") from None
    for name, arr in ((name_a, a), (name_b, b)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{name} holds NaN or infinite values")


def squared_error(mean: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """Mean squared error over the last (x) axis, shape (...)."""
    m, u = np.asarray(mean, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    _check_same("mean", m, "truth", u)
    return np.mean((m - u) ** 2, axis=-1)


def conservation_error(mean: ArrayLike, g: ArrayLike, b: ArrayLike) -> np.ndarray:
    r"""Signed conservation error :math:`G\mu - b` over the last (x) axis, shape (...)."""
    m, gg = np.asarray(mean, dtype=np.float64), np.asarray(g, dtype=np.float64)
    if gg.ndim != 1 or m.shape[-1:] != gg.shape:
        raise DataError(f"g must have shape ({m.shape[-1]},); got {gg.shape}")
    _check_same("mean", m, "b", np.asarray(b, dtype=np.float64)[..., None])
    return m @ gg - np.asarray(b, dtype=np.float64)


def log_likelihood(
    mean: ArrayLike, std: ArrayLike, truth: ArrayLike, min_std: float = 1e-12
) -> np.ndarray:
    """Mean Gaussian log-likelihood per point over the last (x) axis, shape (...).

    ``std`` is floored at ``min_std`` (a hard constraint can leave a variance at rounding level).
    """
    m, s = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    u = np.asarray(truth, dtype=np.float64)
    _check_same("mean", m, "truth", u)
    _check_same("mean", m, "std", s)
    return -np.mean(gaussian_nll(u, m, np.maximum(s, min_std)), axis=-1)


def shock_position(profiles: ArrayLike, x: ArrayLike, level: float = 0.0) -> np.ndarray:
    """Position of the first grid point where a profile falls to ``level`` or below.

    Parameters
    ----------
    profiles : array_like, shape (..., X), profiles u(x) (e.g. posterior draws).
    x : array_like, shape (X,), the grid.
    level : threshold (0: where u reaches 0).

    Returns
    -------
    ndarray, shape (...): ``x`` at the first index with ``u <= level``; ``x[-1]`` if none.
    """
    u = np.asarray(profiles, dtype=np.float64)
    xx = np.asarray(x, dtype=np.float64)
    if xx.ndim != 1 or u.shape[-1:] != xx.shape:
        raise DataError(f"profiles (..., {xx.shape[-1:]}) must match x {xx.shape}; got {u.shape}")
    if np.any(np.isnan(u)):
        raise DataError("profiles hold NaN values")
    below = u <= level
    idx = np.where(below.any(axis=-1), below.argmax(axis=-1), xx.shape[0] - 1)
    return xx[idx]


def shock_summary(
    draws: ArrayLike, x_true: ArrayLike, level: float = 0.9
) -> dict[str, np.ndarray]:
    """Summaries of a front-position posterior given by draws along the last axis.

    Parameters
    ----------
    draws : array_like, shape (..., D), front positions drawn from the posterior.
    x_true : array_like broadcastable to (...), exact front position.
    level : central interval mass for the coverage.

    Returns
    -------
    dict with arrays of shape (...): ``mean``, ``std``, ``error`` (mean - x_true),
    ``abs_error``, ``lower``, ``upper`` (central empirical interval) and ``covered``
    (1.0 where the interval holds x_true).
    """
    d = np.asarray(draws, dtype=np.float64)
    xt = np.asarray(x_true, dtype=np.float64)
    if not np.all(np.isfinite(d)) or not np.all(np.isfinite(xt)):
        raise DataError("draws and x_true must be finite")
    mean = d.mean(axis=-1)
    lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    xt_b = np.broadcast_to(xt, mean.shape)
    covered = interval_coverage(xt_b[..., None], lo[..., None], hi[..., None], axis=-1)
    return {
        "mean": mean,
        "std": d.std(axis=-1),
        "error": mean - xt_b,
        "abs_error": np.abs(mean - xt_b),
        "lower": lo,
        "upper": hi,
        "covered": np.asarray(covered, dtype=np.float64),
    }


def mean_and_se(values: ArrayLike, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error (sample sd / sqrt(n), ddof=1; 0 for n = 1) along ``axis``."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[axis]
    if n < 1:
        raise DataError("mean_and_se needs at least one value")
    se = stats.sem(v, axis=axis) if n > 1 else np.zeros_like(v.mean(axis=axis))
    return v.mean(axis=axis), se
