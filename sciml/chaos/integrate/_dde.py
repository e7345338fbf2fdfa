"""Method of steps for constant-delay systems (RK4 + cubic Hermite history)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sciml.errors import ConfigError, DataError, DivergenceError

from ._rk import (
    BatchResult,
    _noise_scale,
    _prep_params,
)


def _hermite(y0, y1, f0, f1, h, s):
    """Cubic Hermite interpolant on [0, h] at fraction ``s`` (arrays broadcast)."""
    s2, s3 = s * s, s * s * s
    return (
        (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * h * f0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * h * f1
    )


def dde_steps(
    fun: Callable,
    X_hist: np.ndarray,
    F_hist: np.ndarray,
    n_steps: int,
    h: float,
    p: np.ndarray | None,
    *,
    noise: float = 0.0,
    noise_scale: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    blowup: float = 1e8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Advance a delay system ``n_steps`` RK4 steps from a history buffer (see :func:`solve_dde`).

    Parameters
    ----------
    X_hist : (m + 1, B, d) -- states on the uniform grid of :math:`[t - \tau, t]`, step ``h``.
    F_hist : (m + 1, B, d) -- their derivatives; row m is the left derivative at the end of the
        history (used to interpolate delayed values; the solution's derivative is recomputed).

    Returns
    -------
    X, Fd : (m + 1 + n_steps, B, d) -- the buffer extended by the new steps, and derivatives.
    alive : (B,) bool -- rows that stayed finite and bounded.
    """
    m = X_hist.shape[0] - 1
    batch, dim = X_hist.shape[1:]
    total = m + 1 + n_steps
    X = np.empty((total, batch, dim))
    Fd = np.empty((total, batch, dim))
    X[: m + 1] = X_hist
    Fd[: m + 1] = F_hist
    f_left = np.asarray(F_hist[m], float).copy()  # left derivative at the history's end
    Fd[m] = fun(X[m], X[0], p)
    alive = np.ones(batch, dtype=bool)
    sig = 1.0 if noise_scale is None else noise_scale
    for n in range(n_steps):
        i = m + n
        xd1 = X[i - m + 1]
        fr = f_left if n == m - 1 else Fd[i - m + 1]
        xdh = _hermite(X[i - m], xd1, Fd[i - m], fr, h, 0.5)
        xc = X[i]
        k1 = Fd[i]
        k2 = fun(xc + 0.5 * h * k1, xdh, p)
        k3 = fun(xc + 0.5 * h * k2, xdh, p)
        k4 = fun(xc + h * k3, xd1, p)
        xn = xc + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        if noise:
            xn = xn + noise * sig * np.sqrt(h) * rng.standard_normal(xn.shape)
        bad = ~np.all(np.isfinite(xn), axis=1) | (np.max(np.abs(xn), axis=1) > blowup)
        if bad.any():
            alive &= ~bad
            xn[bad] = 0.0
        X[i + 1] = xn
        Fd[i + 1] = fun(xn, X[i + 1 - m], p)
    return X, Fd, alive


def solve_dde(
    fun: Callable,
    y0: np.ndarray,
    t_eval: np.ndarray,
    delay: float,
    params: np.ndarray | None = None,
    *,
    history: np.ndarray | None = None,
    steps_per_delay: int = 64,
    noise: float = 0.0,
    noise_scale: np.ndarray | None = None,
    seed: int | np.random.Generator = 0,
    blowup: float = 1e8,
    raise_all_diverged: bool = True,
) -> BatchResult:
    r"""Method of steps for :math:`\dot x(t) = f(x(t), x(t-\tau); p)` with constant delay.

    Classical RK4 with step :math:`h = \tau / m` (``m = steps_per_delay``): the delayed state at
    the step points is read from the history buffer, at the half steps from the cubic Hermite
    interpolant of the stored states and derivatives (error :math:`O(h^4)`, so the scheme keeps
    order 4 [BZ03]_). Output on ``t_eval`` is Hermite-interpolated. With ``noise`` > 0 an
    Euler-Maruyama increment :math:`\eta\sigma\sqrt h\,\xi` is added per step.

    Parameters
    ----------
    fun : ``f(x, x_delayed, p)`` vectorised over rows.
    y0 : (B, d) or (d,) -- state at t = t_eval[0]; the history on [-tau, 0] is constant ``y0``
        unless ``history`` (B, m + 1, d) on the uniform grid of [-tau, 0] is given.
    t_eval : (n_t,) increasing grid shared by the batch.
    delay : :math:`\tau > 0`.

    Returns
    -------
    BatchResult

    References
    ----------
    .. [BZ03] A. Bellen and M. Zennaro, "Numerical Methods for Delay Differential Equations",
       Oxford 2003, ch. 3-4.
    """
    if not delay > 0:
        raise ConfigError(f"delay must be positive; got {delay}")
    x = np.atleast_2d(np.asarray(y0, dtype=np.float64)).copy()
    batch, dim = x.shape
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim != 1:
        raise DataError("solve_dde takes a 1-D t_eval shared by the batch")
    p = _prep_params(params, batch)
    m = int(steps_per_delay)
    h = delay / m
    t0 = t_eval[0]
    n_steps = int(np.ceil((t_eval[-1] - t0) / h - 1e-9))
    rng = np.random.default_rng(seed)  # passes a Generator through unchanged
    sig = _noise_scale(noise_scale, batch, dim)
    if history is None:
        X0 = np.broadcast_to(x[None], (m + 1, batch, dim)).copy()
        F0 = np.zeros_like(X0)
    else:
        X0 = np.moveaxis(np.asarray(history, float), 1, 0).copy()
        F0 = np.gradient(X0, h, axis=0)
    X, Fd, alive = dde_steps(fun, X0, F0, n_steps, h, p, noise=noise, noise_scale=sig, rng=rng, blowup=blowup)
    tg = t0 + h * np.arange(n_steps + 1)
    j = np.clip(np.searchsorted(tg, t_eval, side="right") - 1, 0, max(n_steps - 1, 0))
    s = ((t_eval - tg[j]) / h)[:, None, None]
    Xs, Fs = X[m:], Fd[m:]
    j1 = np.minimum(j + 1, n_steps)
    out = _hermite(Xs[j], Xs[j1], Fs[j], Fs[j1], h, s)  # (n_t, B, d)
    out = np.moveaxis(out, 1, 0).copy()
    out[~alive] = np.nan
    status = np.where(alive, 0, 1)
    if raise_all_diverged and not alive.any():
        raise DivergenceError(f"all {batch} delay trajectories diverged; check y0 and params")
    return BatchResult(
        t=t_eval,
        y=out,
        status=status,
        n_steps=np.full(batch, n_steps),
        nfev=4 * batch * n_steps,
        info={"method": "dde-rk4", "h": h},
    )
