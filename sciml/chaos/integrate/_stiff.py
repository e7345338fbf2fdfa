"""Implicit path for stiff systems (scipy Radau/BDF with the analytic Jacobian)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp as _scipy_solve_ivp

from sciml.errors import ConfigError, DivergenceError

from ._rk import (
    RHS,
    BatchResult,
    _prep_grid,
    _prep_params,
)


def solve_stiff(
    fun: RHS,
    jac: Callable | None,
    y0: np.ndarray,
    t_eval: np.ndarray,
    params: np.ndarray | None = None,
    *,
    method: str = "Radau",
    rtol: float = 1e-9,
    atol: float = 1e-9,
    blowup: float = 1e8,
    raise_all_diverged: bool = True,
) -> BatchResult:
    """Implicit integration (scipy ``Radau`` or ``BDF``) of each row of a batch.

    Parameters
    ----------
    fun : ``f(y, p)`` vectorised as in :func:`solve_ode`.
    jac : ``J(y, p) -> (..., d, d)`` analytic Jacobian, or None (finite differences).
    y0 : ndarray, shape (B, d); t_eval : (n_t,) or (B, n_t); params : (k,) or (B, k).

    Returns
    -------
    BatchResult

    Notes
    -----
    Radau IIA (order 5) and BDF are A-stable/stiffly accurate; they are used for systems whose
    metadata flags them ``stiff`` [HW96]_.

    References
    ----------
    .. [HW96] E. Hairer and G. Wanner, "Solving ODEs II: Stiff and Differential-Algebraic
       Problems", Springer 1996, sec. IV.8.
    """
    if method not in ("Radau", "BDF", "LSODA"):
        raise ConfigError(f"stiff method {method!r} unknown; use 'Radau', 'BDF' or 'LSODA'")
    y0 = np.atleast_2d(np.asarray(y0, dtype=np.float64))
    batch, dim = y0.shape
    grid = _prep_grid(t_eval, batch)
    p_all = _prep_params(params, batch)
    out = np.full((batch, grid.shape[1], dim), np.nan)
    status = np.zeros(batch, dtype=np.int64)
    n_steps = np.zeros(batch, dtype=np.int64)
    nfev = 0
    for b in range(batch):
        pb = None if p_all is None else p_all[b : b + 1]

        def f1(_t, y, pb=pb):
            return fun(y[None], pb)[0]

        j1 = None if jac is None else (lambda _t, y, pb=pb: jac(y[None], pb)[0])
        sol = _scipy_solve_ivp(
            f1, (grid[b, 0], grid[b, -1]), y0[b], method=method, t_eval=grid[b], rtol=rtol, atol=atol, jac=j1
        )
        nfev += sol.nfev
        if not sol.success or sol.y.shape[1] != grid.shape[1]:
            status[b] = 2
            continue
        yb = sol.y.T
        if not np.all(np.isfinite(yb)) or np.max(np.abs(yb)) > blowup:
            status[b] = 1
            continue
        out[b] = yb
        n_steps[b] = sol.t.size
    res = BatchResult(
        t=np.asarray(t_eval, float),
        y=out,
        status=status,
        n_steps=n_steps,
        nfev=nfev,
        info={"method": method, "rtol": rtol, "atol": atol},
    )
    if raise_all_diverged and np.all(status != 0):
        raise DivergenceError(f"all {batch} stiff trajectories failed ({method}); check the inputs")
    return res
