r"""Trajectories of catalogued systems on the benchmark's time grid (Gilpin 2021, sec. 3).

Grid convention (the reference library's): a trajectory of ``n`` points with ``pts_per_period``
points per dominant period :math:`T` spans :math:`[0, T n / \mathrm{pts\_per\_period}]` with
``n`` equally spaced points, so the spacing is exactly
:math:`\Delta t = T n / (\mathrm{pts\_per\_period}\,(n - 1))`.

References
----------
.. [G21] W. Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven
   modelling", NeurIPS 2021 Datasets and Benchmarks Track.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from sciml.errors import ConfigError, DataError, DivergenceError

from .integrate import BatchResult, integrate

__all__ = ["Trajectory", "time_grid", "make_trajectory", "sample_ics"]

logger = logging.getLogger(__name__)


@dataclass
class Trajectory:
    """A batch of trajectories of one system on one grid.

    Attributes
    ----------
    t : ndarray, shape (n,) -- time (map: iterate index).
    x : ndarray, shape (B, n, d) -- states of the kept (non-diverged) trajectories.
    kept : ndarray of int -- indices (into the requested batch) of the rows in ``x``.
    dropped : ndarray of int -- indices of diverged trajectories (reported, never returned).
    mean, std : ndarray, shape (B, 1, d) -- statistics used by ``standardize`` (else None).
    """

    t: np.ndarray
    x: np.ndarray
    kept: np.ndarray
    dropped: np.ndarray
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.x, dtype=dtype)


def time_grid(period: float, n: int, pts_per_period: float) -> np.ndarray:
    r"""The resampled grid :math:`t_k = k\,T n / (\mathrm{ppp}(n-1))`, :math:`k = 0..n-1`.

    Parameters
    ----------
    period : dominant period :math:`T` (time units); n : number of points (>= 2);
    pts_per_period : points per period.

    Returns
    -------
    ndarray, shape (n,), spanning ``[0, period * n / pts_per_period]``.

    Examples
    --------
    >>> t = time_grid(2.0, 5, 4)
    >>> float(t[-1]), float(t[1] - t[0])
    (2.5, 0.625)
    """
    if n < 2 or pts_per_period <= 0 or period <= 0:
        raise ConfigError(
            f"need n >= 2, pts_per_period > 0, period > 0; got {n}, {pts_per_period}, {period}"
        )
    dt = period * n / (pts_per_period * (n - 1))
    return np.arange(n, dtype=np.float64) * dt


def _report(res: BatchResult, name: str, log: logging.Logger | logging.LoggerAdapter) -> None:
    for line in res.diverged_report():
        log.warning("%s: dropped diverged %s", name, line)


def _ic_batch(system, ic) -> np.ndarray:
    x = np.asarray(system.ic if ic is None else ic, dtype=np.float64)
    x = np.atleast_2d(x)
    if x.shape[-1] != system.dim:
        raise DataError(f"ic of {system.name!r} must have shape (..., {system.dim}); got {x.shape}")
    return x


def sample_ics(
    system,
    n_ics: int,
    *,
    seed: int = 0,
    params: np.ndarray | None = None,
    transient: float = 20.0,
    scale: float = 1e-2,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    log: logging.Logger | logging.LoggerAdapter | None = None,
) -> np.ndarray:
    r"""Initial conditions on the attractor, mutually decorrelated.

    The stored on-attractor point :math:`x^*` is perturbed,
    :math:`x_0 = x^* + s\,\max(|x^*|, 1)\odot\xi`, and every perturbed copy is integrated for
    ``transient`` periods (maps: iterates x 10): sensitive dependence spreads the copies over the
    attractor and the transient removes any off-attractor excursion.

    Parameters
    ----------
    system : System; n_ics : number of initial conditions; seed : RNG seed;
    params : (k,) or (n_ics, k), optional; transient : periods integrated and discarded;
    scale : relative perturbation :math:`s`.

    Returns
    -------
    ndarray, shape (n_ics, dim)

    Raises
    ------
    DivergenceError
        If fewer than ``n_ics`` copies survive two attempts.
    """
    log = log or logger
    rng = np.random.default_rng(seed)
    base = np.asarray(system.ic, float)
    out: list[np.ndarray] = []
    for attempt in range(2):
        need = n_ics - sum(len(o) for o in out)
        if need <= 0:
            break
        m = need + 2
        x0 = base + (scale / 10**attempt) * np.maximum(np.abs(base), 1.0) * rng.standard_normal(
            (m, system.dim))
        p = None if params is None else np.broadcast_to(np.asarray(params, float)[..., :],
                                                        (m, system.n_params))
        if system.kind == "map":
            t = np.arange(int(max(10 * transient, 10)) + 1)
        else:
            t = np.array([0.0, transient * system.period])
        kw = {"max_steps": int(1000 * transient) + 1000} if (
            system.kind == "flow" and not getattr(system, "stiff", False)) else {}
        res = integrate(system, x0, t, p, rtol=rtol, atol=atol, raise_all_diverged=False, **kw)
        _report(res, f"{system.name} ic sampling", log)
        good = res.y[res.ok, -1]
        out.append(good[:need])
    x = np.concatenate(out, axis=0) if out else np.empty((0, system.dim))
    if len(x) < n_ics:
        raise DivergenceError(
            f"only {len(x)} of {n_ics} initial conditions of {system.name!r} stayed bounded; "
            "check its ic and parameters"
        )
    return x[:n_ics]


def make_trajectory(
    system,
    n: int,
    *,
    pts_per_period: float = 100,
    ic: np.ndarray | None = None,
    params: np.ndarray | None = None,
    noise: float = 0.0,
    noise_scale: np.ndarray | None = None,
    standardize: bool = False,
    seed: int = 0,
    method: str | None = None,
    transient: float = 0.0,
    resample: bool = True,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    max_steps: int | None = None,
    log: logging.Logger | logging.LoggerAdapter | None = None,
) -> Trajectory:
    r"""Trajectory (batch) of a system on the dysts grid.

    Parameters
    ----------
    system : System
    n : number of output points.
    pts_per_period : points per dominant period (``resample=True``); maps ignore it.
    ic : (d,) or (B, d); default the stored on-attractor point.
    params : (k,) or (B, k); default the stored parameters.
    noise : relative amplitude :math:`\eta` of the stochastic forcing
        :math:`dx = f\,dt + \eta\sigma\odot dW` (Euler-Maruyama); :math:`\sigma` is ``noise_scale``
        or, by default, the coordinates' std on a clean run from the same ``ic``.
    standardize : return :math:`(x - \bar x) / s_x` per trajectory and coordinate.
    seed : seed of the noise.
    method : integrator (``"DOP853"``, ``"RK45"``, ``"Radau"``, ``"BDF"``); default DOP853, or
        Radau for systems flagged stiff.
    transient : periods (maps: iterates) integrated from ``ic`` and discarded first.
    resample : with False the grid step is the system's ``dt`` instead.
    rtol, atol : tolerances.
    max_steps : step budget per trajectory of the explicit integrator (default 1e6).

    Returns
    -------
    Trajectory
        ``x`` of shape (B, n, d) (B = 1 when ``ic`` is 1-D); diverged rows are dropped, listed in
        ``dropped`` and logged.

    Raises
    ------
    DivergenceError
        If every trajectory diverged.
    """
    log = log or logger
    if n < 2:
        raise ConfigError(f"n must be >= 2; got {n}")
    x0 = _ic_batch(system, ic)
    batch = x0.shape[0]
    p = None if params is None else np.broadcast_to(np.asarray(params, float), (batch,
                                                                                 system.n_params))
    if system.kind == "map":
        tr = int(round(transient))
        t = np.arange(n + tr, dtype=float)
    else:
        if resample:
            t = time_grid(system.period, n, pts_per_period)
        else:
            t = np.arange(n, dtype=float) * system.dt
        if transient > 0:
            t0 = transient * system.period
            pre = integrate(system, x0, np.array([0.0, t0]), p, method=method, rtol=rtol,
                            atol=atol)
            _report(pre, f"{system.name} transient", log)
            keep0 = np.flatnonzero(pre.ok)
            x0, p = pre.y[keep0, -1], None if p is None else p[keep0]
        else:
            keep0 = np.arange(batch)
    if system.kind == "map":
        keep0 = np.arange(batch)
    if noise and noise_scale is None:
        clean = integrate(system, x0, t, p, method=method, rtol=rtol, atol=atol,
                          raise_all_diverged=False)
        noise_scale = np.where(clean.ok[:, None], np.nanstd(clean.y, axis=1), 1.0)
    kw = {}
    explicit = method in ("DOP853", "RK45") or (
        method is None and not getattr(system, "stiff", False))
    if max_steps is not None and system.kind == "flow" and not noise and explicit:
        kw["max_steps"] = max_steps
    res = integrate(system, x0, t, p, method=method, rtol=rtol, atol=atol, noise=noise,
                    noise_scale=noise_scale, seed=seed, **kw)
    _report(res, system.name, log)
    ok = res.ok
    x = res.y[ok]
    if system.kind == "map":
        tr = int(round(transient))
        x, t = x[:, tr:], t[tr:] - tr
    kept = keep0[ok]
    dropped = np.setdiff1d(np.arange(batch), kept)
    mean = std = None
    if standardize:
        mean = x.mean(axis=1, keepdims=True)
        std = x.std(axis=1, keepdims=True)
        x = (x - mean) / np.where(std > 0, std, 1.0)
    return Trajectory(t=t, x=x, kept=kept, dropped=dropped, mean=mean, std=std,
                      info={"method": res.info.get("method"), "nfev": res.nfev})
