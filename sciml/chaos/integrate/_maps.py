"""Iteration of discrete maps, batched."""

from __future__ import annotations

import numpy as np

from sciml.errors import DivergenceError

from ._rk import (
    RHS,
    BatchResult,
    _noise_scale,
    _prep_params,
)


def iterate_map(
    fun: RHS,
    x0: np.ndarray,
    n: int,
    params: np.ndarray | None = None,
    *,
    noise: float = 0.0,
    noise_scale: np.ndarray | None = None,
    seed: int | np.random.Generator = 0,
    blowup: float = 1e8,
    raise_all_diverged: bool = True,
) -> BatchResult:
    r"""Iterate :math:`x_{n+1} = f(x_n; p) + \eta\,\sigma\odot\xi_n` for a batch.

    Parameters
    ----------
    fun : ``f(x, p)`` vectorised over rows; x0 : (B, d) or (d,); n : number of states returned
        (``x0`` included); params : (k,) or (B, k).
    noise : :math:`\eta`, relative amplitude of additive Gaussian noise; noise_scale :
        :math:`\sigma` per coordinate (default 1).
    seed : int or Generator for the noise.

    Returns
    -------
    BatchResult with ``t = arange(n)`` and ``y`` of shape (B, n, d).
    """
    x = np.atleast_2d(np.asarray(x0, dtype=np.float64)).copy()
    batch, dim = x.shape
    p = _prep_params(params, batch)
    rng = np.random.default_rng(seed)  # passes a Generator through unchanged
    sig = _noise_scale(noise_scale, batch, dim)
    out = np.empty((batch, n, dim))
    out[:, 0] = x
    alive = np.ones(batch, dtype=bool)
    for i in range(1, n):
        with np.errstate(over="ignore", invalid="ignore"):
            x = fun(x, p)
        if noise:
            x = x + noise * sig * rng.standard_normal(x.shape)
        out[:, i] = x
        if i % 64 == 0 or i == n - 1:
            bad = ~np.all(np.isfinite(out[:, i - min(i, 64) + 1 : i + 1]), axis=(1, 2))
            bad |= np.nanmax(np.abs(out[:, max(1, i - 63) : i + 1]), axis=(1, 2)) > blowup
            if bad.any():
                alive &= ~bad
                x = np.where(bad[:, None], 0.0, x)
    with np.errstate(invalid="ignore"):
        bad = ~np.all(np.isfinite(out), axis=(1, 2)) | (np.nanmax(np.abs(out), axis=(1, 2)) > blowup)
    alive &= ~bad
    status = np.where(alive, 0, 1)
    out[~alive] = np.nan
    if raise_all_diverged and not alive.any():
        raise DivergenceError(f"all {batch} map orbits diverged; check x0 and params")
    return BatchResult(
        t=np.arange(n, dtype=float),
        y=out,
        status=status,
        n_steps=np.full(batch, n - 1),
        nfev=batch * (n - 1),
        info={"method": "map"},
    )
