"""Euler-Maruyama for additive stochastic forcing scaled by the coordinate's std."""

from __future__ import annotations

import numpy as np

from sciml.errors import DataError, DivergenceError

from ._rk import (
    RHS,
    BatchResult,
    _noise_scale,
    _prep_params,
)


def em_substeps(t_eval: np.ndarray, max_dt: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Grid intervals and their Euler-Maruyama substep counts :math:`\lceil \Delta t/\mathrm{max\_dt}\rceil`
    (at least 1), shapes (n_t - 1,); shared by :func:`solve_sde` and the compiled path."""
    dts = np.diff(np.asarray(t_eval, dtype=np.float64))
    return dts, np.maximum(1, np.ceil(dts / max_dt - 1e-9)).astype(np.int64)


def solve_sde(
    fun: RHS,
    y0: np.ndarray,
    t_eval: np.ndarray,
    params: np.ndarray | None = None,
    *,
    noise: float = 0.01,
    noise_scale: np.ndarray | None = None,
    max_dt: float | None = None,
    seed: int | np.random.Generator = 0,
    normals: np.ndarray | None = None,
    blowup: float = 1e8,
    raise_all_diverged: bool = True,
) -> BatchResult:
    r"""Euler-Maruyama for :math:`dx = f(x; p)\,dt + \eta\,\sigma\odot dW_t`.

    Between consecutive grid points the interval is cut into :math:`\lceil \Delta t/
    \mathrm{max\_dt}\rceil` equal substeps :math:`x \leftarrow x + f(x)\,\delta + \eta\sigma
    \sqrt{\delta}\,\xi`, :math:`\xi\sim N(0, I)`, so every grid point is hit exactly
    (strong order 1 for additive noise [KP92]_).

    Parameters
    ----------
    fun : ``f(x, p)`` vectorised; y0 : (B, d); t_eval : (n_t,) grid shared by the batch.
    noise : :math:`\eta` (relative); noise_scale : :math:`\sigma` (d,) or (B, d), e.g. the
        coordinates' standard deviation on the attractor (default 1).
    max_dt : largest substep (default: grid spacing / 20).
    seed : int or Generator.
    normals : ndarray, shape (n_substeps, B, d), optional -- the standard normals to use, one
        (B, d) array per substep in order (default: drawn from ``seed``); lets rows integrated by
        different routines share one random stream.

    Returns
    -------
    BatchResult

    Raises
    ------
    DataError
        On a non-1-D grid or ``normals`` of the wrong shape.
    DivergenceError
        When every trajectory diverged (and ``raise_all_diverged``).

    References
    ----------
    .. [KP92] P. E. Kloeden and E. Platen, "Numerical Solution of Stochastic Differential
       Equations", Springer 1992, sec. 10.2.
    """
    x = np.atleast_2d(np.asarray(y0, dtype=np.float64)).copy()
    batch, dim = x.shape
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim != 1 or t_eval.size < 1:
        raise DataError("solve_sde takes a 1-D t_eval shared by the batch")
    p = _prep_params(params, batch)
    rng = np.random.default_rng(seed)  # passes a Generator through unchanged
    sig = _noise_scale(noise_scale, batch, dim)
    dts = np.diff(t_eval)
    if max_dt is None:
        max_dt = (dts.min() if dts.size else 1.0) / 20
    _, subs = em_substeps(t_eval, max_dt)
    if normals is not None:
        normals = np.asarray(normals, dtype=np.float64)
        n_sub = int(subs.sum())
        if normals.shape != (n_sub, batch, dim):
            raise DataError(f"normals must have shape {(n_sub, batch, dim)}; got {normals.shape}")
    out = np.empty((batch, t_eval.size, dim))
    out[:, 0] = x
    alive = np.ones(batch, dtype=bool)
    q = 0
    for k, (dt, nsub) in enumerate(zip(dts, subs, strict=True)):
        nsub = int(nsub)
        d = dt / nsub
        sq = noise * np.sqrt(d) * sig
        for _ in range(nsub):
            z = rng.standard_normal(x.shape) if normals is None else normals[q]
            x = x + d * fun(x, p) + sq * z
            q += 1
        bad = ~np.all(np.isfinite(x), axis=1) | (np.max(np.abs(x), axis=1) > blowup)
        if bad.any():
            alive &= ~bad
            x[bad] = 0.0
        out[:, k + 1] = x
    out[~alive] = np.nan
    status = np.where(alive, 0, 1)
    if raise_all_diverged and not alive.any():
        raise DivergenceError(f"all {batch} stochastic trajectories diverged; lower max_dt/noise")
    return BatchResult(
        t=t_eval,
        y=out,
        status=status,
        n_steps=np.zeros(batch, dtype=np.int64),
        info={"method": "euler-maruyama", "max_dt": float(max_dt)},
    )
