r"""Shared uncertainty-quantification scores (proper scoring rules and calibration).

All functions are elementwise and broadcast like numpy ufuncs, so they work on numpy arrays and
on xarray DataArrays (reduce afterwards with ``.mean(dim)``). ``std`` is a standard deviation,
never a variance.

References
----------
.. [1] Gneiting & Raftery, "Strictly Proper Scoring Rules, Prediction, and Estimation",
   JASA 102 (2007) 359-378 (CRPS, closed form for the Gaussian, Eq. 21; energy form, Eq. 20).
.. [2] Kuleshov, Fenner, Ermon, "Accurate Uncertainties for Deep Learning Using Calibrated
   Regression", ICML 2018 (calibration curve).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri

from sciml.errors import DataError

__all__ = [
    "gaussian_nll",
    "crps_gaussian",
    "crps_samples",
    "central_interval",
    "interval_coverage",
    "calibration_curve",
    "calibration_curve_samples",
    "mixture_moments",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


def _check_std(std):
    s = np.asarray(std)
    if np.any(s <= 0):
        raise DataError("std must be > 0 everywhere (got a non-positive standard deviation)")
    return std


def mixture_moments(
    means: ArrayLike, variances: ArrayLike, axis: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Moments of an equal-weight Gaussian mixture (ensemble members or posterior samples).

    .. math:: \bar\mu = \tfrac1S\sum_s \mu_s,\quad
              \sigma^2_{\rm ale} = \tfrac1S\sum_s \sigma_s^2,\quad
              \sigma^2_{\rm epi} = \tfrac1S\sum_s (\mu_s - \bar\mu)^2

    The mixture variance is :math:`\sigma^2_{\rm ale} + \sigma^2_{\rm epi}` (law of total variance).

    Parameters
    ----------
    means, variances : arrays of one shape with the S components along ``axis`` (variances,
        not standard deviations).

    Returns
    -------
    (mean, aleatoric_var, epistemic_var), each without ``axis``.
    """
    m = np.asarray(means, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    if m.shape != v.shape:
        raise DataError(f"component means {m.shape} and variances {v.shape} must have one shape")
    mu = m.mean(axis=axis)
    return mu, v.mean(axis=axis), m.var(axis=axis)


def gaussian_nll(y: ArrayLike, mean: ArrayLike, std: ArrayLike):
    r"""Negative log density of ``y`` under :math:`N(\mu, \sigma^2)`, elementwise.

    .. math:: -\log p(y) = \tfrac12 \log(2\pi\sigma^2) + \tfrac{(y - \mu)^2}{2\sigma^2}

    >>> round(float(gaussian_nll(0.0, 0.0, 1.0)), 6)
    0.918939
    """
    _check_std(std)
    z = (y - mean) / std
    return 0.5 * _LOG_2PI + np.log(std) + 0.5 * z**2


def crps_gaussian(y: ArrayLike, mean: ArrayLike, std: ArrayLike):
    r"""Continuous ranked probability score of :math:`N(\mu, \sigma^2)` at ``y`` (lower is better).

    .. math:: \mathrm{CRPS} = \sigma\Big[z(2\Phi(z) - 1) + 2\varphi(z) - \tfrac{1}{\sqrt\pi}\Big],
              \quad z = (y - \mu)/\sigma

    >>> round(float(crps_gaussian(0.0, 0.0, 1.0)), 6)  # 2 phi(0) - 1/sqrt(pi)
    0.233695
    """
    _check_std(std)
    z = (y - mean) / std
    pdf = np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi)
    return std * (z * (2.0 * ndtr(z) - 1.0) + 2.0 * pdf - 1.0 / np.sqrt(np.pi))


def crps_samples(y: ArrayLike, samples: ArrayLike, axis: int = 0) -> np.ndarray:
    r"""CRPS of the empirical distribution of ``samples`` (along ``axis``) at ``y``.

    .. math:: \mathrm{CRPS} = \frac1n\sum_i |x_i - y| - \frac{1}{2n^2}\sum_{i,j} |x_i - x_j|

    computed in :math:`O(n \log n)` from the sorted samples
    (:math:`\sum_{i,j}|x_i - x_j| = 2\sum_i (2i - n + 1) x_{(i)}`, 0-based ranks).
    ``y`` broadcasts against ``samples`` with ``axis`` removed.
    """
    x = np.sort(np.asarray(samples, dtype=np.float64), axis=axis)
    x = np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    if n < 1:
        raise DataError("crps_samples needs at least one sample")
    yy = np.asarray(y, dtype=np.float64)[..., None]
    term1 = np.mean(np.abs(x - yy), axis=-1)
    ranks = np.arange(n, dtype=np.float64)
    spread = 2.0 * np.sum((2.0 * ranks - n + 1.0) * x, axis=-1)
    return term1 - spread / (2.0 * n**2)


def central_interval(mean: ArrayLike, std: ArrayLike, level: float = 0.9):
    """Central ``level`` interval ``(lower, upper)`` of :math:`N(\\mu, \\sigma^2)`."""
    if not 0 < level < 1:
        raise DataError(f"level must lie in (0, 1); got {level}")
    _check_std(std)
    half = ndtri(0.5 + level / 2.0) * std
    return mean - half, mean + half


def interval_coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike, axis=None):
    """Fraction of ``y`` inside ``[lower, upper]`` (mean of the indicator over ``axis``)."""
    inside = (np.asarray(y) >= np.asarray(lower)) & (np.asarray(y) <= np.asarray(upper))
    return np.mean(inside, axis=axis)


def calibration_curve(
    y: ArrayLike, mean: ArrayLike, std: ArrayLike, levels: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Expected vs observed coverage of central Gaussian intervals (Kuleshov et al., 2018).

    For each level :math:`p`, the observed value is the fraction of ``y`` inside the central
    :math:`p` interval. A calibrated forecaster lies on the diagonal.

    Returns
    -------
    (expected, observed): arrays of shape (n_levels,)
    """
    lv = np.linspace(0.05, 0.95, 19) if levels is None else np.asarray(levels, dtype=np.float64)
    _check_std(std)
    y = np.asarray(y, dtype=np.float64).ravel()
    z = np.abs((y - np.asarray(mean, dtype=np.float64).ravel()) / np.asarray(std).ravel())
    half = ndtri(0.5 + lv / 2.0)
    observed = np.mean(z[None, :] <= half[:, None], axis=1)
    return lv, observed


def calibration_curve_samples(
    y: ArrayLike, samples: ArrayLike, axis: int = 0, levels: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Calibration curve from samples: central intervals by empirical quantiles along ``axis``."""
    lv = np.linspace(0.05, 0.95, 19) if levels is None else np.asarray(levels, dtype=np.float64)
    s = np.asarray(samples, dtype=np.float64)
    lo = np.quantile(s, 0.5 - lv / 2.0, axis=axis)
    hi = np.quantile(s, 0.5 + lv / 2.0, axis=axis)
    yy = np.asarray(y, dtype=np.float64)[None, ...]
    inside = (yy >= lo) & (yy <= hi)
    observed = inside.reshape(lv.size, -1).mean(axis=1)
    return lv, observed
