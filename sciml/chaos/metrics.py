r"""Forecast metrics of the chaos benchmark (Gilpin 2021, sec. 4) and the headline correlation.

* sMAPE on the **0-200 scale**: :math:`\mathrm{sMAPE} = \frac{200}{H}\sum_t
  \frac{|y_t - \hat y_t|}{|y_t| + |\hat y_t|}` (0 for a perfect forecast, 200 at worst);
* MASE: mean absolute error over the in-sample mean absolute error of the seasonal naive
  forecast with season ``m`` on the history [HK06]_;
* valid prediction time (VPT): the first time the error normalised by the history's standard
  deviation exceeds ``threshold``, in Lyapunov times :math:`t\,\lambda_{\max}` [P18]_;
* Spearman rank correlation of forecast error with an invariant across systems.

Pesin entropy and the correlation dimension are re-exported from :mod:`.invariants`.

References
----------
.. [HK06] R. J. Hyndman and A. B. Koehler, "Another look at measures of forecast accuracy",
   Int. J. Forecasting 22 (2006) 679-688.
.. [P18] J. Pathak et al., "Model-free prediction of large spatiotemporally chaotic systems from
   data: a reservoir computing approach", Phys. Rev. Lett. 120 (2018) 024102.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from sciml.errors import DataError

from .invariants import correlation_dimension, pesin_entropy

__all__ = [
    "smape",
    "mase",
    "valid_prediction_time",
    "spearman",
    "pesin_entropy",
    "correlation_dimension",
]


def smape(y: np.ndarray, y_hat: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Symmetric mean absolute percentage error on the 0-200 scale.

    .. math:: \frac{200}{H}\sum_t \frac{|y_t-\hat y_t|}{|y_t|+|\hat y_t|}\quad(0/0 := 0)

    Examples
    --------
    >>> float(smape(np.array([1.0, 2.0]), np.array([1.0, 2.0])))
    0.0
    >>> float(smape(np.array([1.0]), np.array([-1.0])))
    200.0
    """
    y, y_hat = np.broadcast_arrays(np.asarray(y, float), np.asarray(y_hat, float))
    num = np.abs(y - y_hat)
    den = np.abs(y) + np.abs(y_hat)
    ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return 200.0 * np.mean(ratio, axis=axis)


def mase(y: np.ndarray, y_hat: np.ndarray, history: np.ndarray, m: int = 1,
         axis: int = -1) -> np.ndarray:
    r"""Mean absolute scaled error, :math:`\frac{\mathrm{mean}_t|y_t-\hat y_t|}
    {\mathrm{mean}_t|h_t - h_{t-m}|}` with the in-sample seasonal naive error of the history.

    Parameters
    ----------
    y, y_hat : (..., H); history : (..., n) with n > m; m : season (1: naive).
    """
    history = np.asarray(history, float)
    if history.shape[-1] <= m:
        raise DataError(f"history of length {history.shape[-1]} is too short for season m={m}")
    scale = np.mean(np.abs(history[..., m:] - history[..., :-m]), axis=-1)
    err = np.mean(np.abs(np.asarray(y, float) - np.asarray(y_hat, float)), axis=axis)
    return err / np.where(scale > 0, scale, np.nan)


def valid_prediction_time(
    y: np.ndarray,
    y_hat: np.ndarray,
    dt: float,
    lyapunov_max: float | np.ndarray,
    *,
    scale: float | np.ndarray = 1.0,
    threshold: float = 0.4,
) -> np.ndarray:
    r"""Valid prediction time in Lyapunov times.

    .. math:: \mathrm{VPT} = \lambda_{\max}\,\Delta t\,\min\{k : |y_k - \hat y_k| / s >
              \varepsilon\}

    (the full horizon :math:`H` when the error never exceeds :math:`\varepsilon`).

    Parameters
    ----------
    y, y_hat : (..., H); dt : sampling step; lyapunov_max : :math:`\lambda_{\max}` (per time);
    scale : :math:`s`, e.g. the history's standard deviation; threshold : :math:`\varepsilon`.
    """
    y, y_hat = np.broadcast_arrays(np.asarray(y, float), np.asarray(y_hat, float))
    s = np.asarray(scale, float)[..., None] if np.ndim(scale) else float(scale)
    bad = np.abs(y - y_hat) / s > threshold
    horizon = y.shape[-1]
    first = np.where(bad.any(axis=-1), np.argmax(bad, axis=-1), horizon)
    return first * dt * np.asarray(lyapunov_max, float)


def spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Spearman rank correlation and its p-value over the finite pairs of ``a`` and ``b``."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    res = spearmanr(a[ok], b[ok])
    return float(res.statistic), float(res.pvalue)
