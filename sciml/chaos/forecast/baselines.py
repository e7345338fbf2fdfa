r"""Baseline forecasters: naive, seasonal naive, linear autoregression on a delay embedding.

The linear model is the least-squares (ridge) fit of
:math:`y_{t+1} = c + \sum_{j=0}^{p-1} a_j\,y_{t - j s}` on the training series (a linear
model on the delay embedding of Takens [T81]_), rolled out recursively.

References
----------
.. [T81] F. Takens, "Detecting strange attractors in turbulence", Lecture Notes in Math. 898
   (1981) 366-381.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciml.errors import DataError

__all__ = ["naive", "seasonal_naive", "delay_embed", "LinearAR", "fit_linear_ar"]


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed value: :math:`\\hat y_{T+k} = y_T`."""
    history = np.asarray(history, float)
    return np.repeat(history[..., -1:], horizon, axis=-1)


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last season: :math:`\\hat y_{T+k} = y_{T+k-m\\lceil k/m\\rceil}`."""
    history = np.asarray(history, float)
    if season < 1 or history.shape[-1] < season:
        raise DataError(f"season {season} needs a history of at least that many points")
    last = history[..., -season:]
    reps = int(np.ceil(horizon / season))
    return np.concatenate([last] * reps, axis=-1)[..., :horizon]


def delay_embed(y: np.ndarray, n_lags: int, stride: int) -> np.ndarray:
    """Rows :math:`(y_{t}, y_{t-s}, \\dots, y_{t-(p-1)s})` for every admissible t, shape
    (n - (p-1)s, p), most recent value first."""
    y = np.asarray(y, float)
    span = (n_lags - 1) * stride
    if y.shape[-1] <= span:
        raise DataError(f"series of length {y.shape[-1]} too short for {n_lags} lags x {stride}")
    idx = np.arange(span, y.shape[-1])[:, None] - stride * np.arange(n_lags)[None, :]
    return y[..., idx]


@dataclass
class LinearAR:
    """Fitted linear AR on a delay embedding (coefficients most-recent-first)."""

    coef: np.ndarray
    intercept: float
    n_lags: int
    stride: int

    def predict(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Recursive multi-step forecast from the end of ``history`` (1-D)."""
        span = (self.n_lags - 1) * self.stride
        buf = list(np.asarray(history, float)[-(span + 1):])
        out = np.empty(horizon)
        lag_idx = -1 - self.stride * np.arange(self.n_lags)
        for k in range(horizon):
            arr = np.asarray(buf)
            v = float(self.intercept + arr[lag_idx] @ self.coef)
            out[k] = v
            buf.append(v)
            buf.pop(0)
        return out


def fit_linear_ar(y: np.ndarray, n_lags: int = 10, stride: int = 1,
                  ridge: float = 1e-6) -> LinearAR:
    r"""Ridge least squares :math:`\min_a \|Xa - y\|^2 + \rho\|a\|^2` on the delay embedding."""
    emb = delay_embed(y, n_lags, stride)[:-1]
    target = np.asarray(y, float)[(n_lags - 1) * stride + 1:]
    mu_x, mu_y = emb.mean(axis=0), target.mean()
    xc, yc = emb - mu_x, target - mu_y
    a = np.linalg.solve(xc.T @ xc + ridge * len(xc) * np.eye(n_lags), xc.T @ yc)
    return LinearAR(coef=a, intercept=float(mu_y - mu_x @ a), n_lags=n_lags, stride=stride)
