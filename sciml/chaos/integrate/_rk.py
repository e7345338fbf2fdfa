"""Explicit batched Runge-Kutta (Dormand-Prince 5(4), 8(5,3)) with dense output; see the package docstring."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import RK45
from scipy.integrate._ivp import dop853_coefficients as _d8

from sciml.errors import ConfigError, DataError, DivergenceError

logger = logging.getLogger(__name__)

#: Meaning of :attr:`BatchResult.status` codes.
STATUS = {0: "ok", 1: "non-finite or blown-up state", 2: "step size underflow", 3: "max steps"}

RHS = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


@dataclass
class BatchResult:
    """Output of a batched integration.

    Attributes
    ----------
    t : ndarray, shape (n_t,) or (B, n_t) -- the output grid.
    y : ndarray, shape (B, n_t, d) -- states on the grid; NaN rows for diverged trajectories.
    status : ndarray of int, shape (B,) -- 0 ok, see :data:`STATUS`.
    n_steps : ndarray of int, shape (B,) -- accepted steps per trajectory.
    nfev : int -- right-hand-side evaluations (batched calls x rows, summed over groups).
    """

    t: np.ndarray
    y: np.ndarray
    status: np.ndarray
    n_steps: np.ndarray
    nfev: int = 0
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of trajectories that did not diverge."""
        return self.status == 0

    def diverged_report(self) -> list[str]:
        """One line per diverged trajectory (index and reason)."""
        return [f"trajectory {i}: {STATUS[int(s)]}" for i, s in enumerate(self.status) if s]


# ----------------------------------------------------------------------------------------------
# Butcher tableaux (mathematical constants of the published methods, taken from scipy's tables).
# ----------------------------------------------------------------------------------------------


def _tableau(method: str) -> dict:
    m = method.upper()
    if m in ("DOP853", "DP8"):
        n = _d8.N_STAGES
        return {
            "name": "DOP853",
            "n_stages": n,
            "A": np.asarray(_d8.A[:n, :n], float),
            "B": np.asarray(_d8.B, float),
            "C": np.asarray(_d8.C[:n], float),
            "E5": np.asarray(_d8.E5, float),
            "E3": np.asarray(_d8.E3, float),
            "A_extra": np.asarray(_d8.A[n + 1 :], float),
            "C_extra": np.asarray(_d8.C[n + 1 :], float),
            "D": np.asarray(_d8.D, float),
            "err_order": 7,
        }
    if m in ("RK45", "DP5", "DOPRI5"):
        return {
            "name": "RK45",
            "n_stages": RK45.n_stages,
            "A": np.asarray(RK45.A, float),
            "B": np.asarray(RK45.B, float),
            "C": np.asarray(RK45.C, float),
            "E": np.asarray(RK45.E, float),
            "P": np.asarray(RK45.P, float),
            "err_order": 4,
        }
    raise ConfigError(f"method {method!r} is not an explicit RK method here; use 'DOP853' or 'RK45'")


# ----------------------------------------------------------------------------------------------
# Right-hand side over a batch that may mix several systems (grouped rows).
# ----------------------------------------------------------------------------------------------


class _BatchRHS:
    """Evaluate one or several vectorised right-hand sides on the rows of a batch.

    Rows are sorted by group so that every system sees a contiguous slice; subsets of sorted rows
    stay sorted, so a subset is split by :func:`numpy.searchsorted` on its labels.
    """

    def __init__(self, funs: Sequence[RHS], labels: np.ndarray):
        self.funs = list(funs)
        self.labels = labels
        self.nfev = 0

    def __call__(self, y: np.ndarray, p: np.ndarray | None, labels: np.ndarray) -> np.ndarray:
        self.nfev += y.shape[0]
        if len(self.funs) == 1:
            return self.funs[0](y, p)
        out = np.empty_like(y)
        present = np.unique(labels)
        bounds = np.append(np.searchsorted(labels, present), len(labels))
        for j, g in enumerate(present):
            a, b = bounds[j], bounds[j + 1]
            out[a:b] = self.funs[g](y[a:b], None if p is None else p[a:b])
        return out


def _as_funs(fun, groups, batch: int) -> tuple[list[RHS], np.ndarray]:
    if callable(fun):
        return [fun], np.zeros(batch, dtype=np.int64)
    funs = list(fun)
    if groups is None:
        raise ConfigError("several right-hand sides given: pass `groups`, one label per row")
    groups = np.asarray(groups, dtype=np.int64)
    if groups.shape != (batch,) or groups.min() < 0 or groups.max() >= len(funs):
        raise DataError(f"groups must be ints in [0, {len(funs)}) of shape ({batch},); got {groups.shape}")
    return funs, groups


def _prep_grid(t_eval, batch: int) -> np.ndarray:
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim == 1:
        t_eval = np.broadcast_to(t_eval, (batch, t_eval.size))
    if t_eval.ndim != 2 or t_eval.shape[0] != batch or t_eval.shape[1] < 1:
        raise DataError(f"t_eval must have shape (n_t,) or ({batch}, n_t); got {t_eval.shape}")
    if np.any(np.diff(t_eval, axis=1) <= 0) or not np.all(np.isfinite(t_eval)):
        raise DataError("t_eval must be finite and strictly increasing along time")
    return t_eval


def _noise_scale(noise_scale, batch: int, dim: int) -> np.ndarray:
    """Per-coordinate noise scale sigma, (1, dim) ones by default, else broadcast to (batch, dim)."""
    if noise_scale is None:
        return np.ones((1, dim))
    return np.broadcast_to(np.asarray(noise_scale, float), (batch, dim))


def _prep_params(params, batch: int) -> np.ndarray | None:
    if params is None:
        return None
    p = np.asarray(params, dtype=np.float64)
    if p.ndim == 1:
        p = np.broadcast_to(p, (batch, p.size))
    if p.ndim != 2 or p.shape[0] != batch:
        raise DataError(f"params must have shape (n_params,) or ({batch}, n_params); got {p.shape}")
    return np.ascontiguousarray(p)


def _initial_step(f0, y0, fun, p, lab, rtol, atol, order, t_span):
    """Vectorised version of Hairer's starting-step heuristic [HNW93, sec. II.4]."""
    sc = atol + np.abs(y0) * rtol
    d0 = np.sqrt(np.mean((y0 / sc) ** 2, axis=1))
    d1 = np.sqrt(np.mean((f0 / sc) ** 2, axis=1))
    h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
    h0 = np.minimum(h0, t_span)
    y1 = y0 + h0[:, None] * f0
    f1 = fun(y1, p, lab)
    d2 = np.sqrt(np.mean(((f1 - f0) / sc) ** 2, axis=1)) / h0
    big = np.maximum(d1, d2)
    h1 = np.where(
        big <= 1e-15,
        np.maximum(1e-6, h0 * 1e-3),
        (0.01 / np.maximum(big, 1e-300)) ** (1.0 / (order + 1)),
    )
    return np.minimum(np.minimum(100 * h0, h1), t_span)


# divergence is detected explicitly: numpy's overflow chatter is silenced meanwhile
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def solve_ode(
    fun: RHS | Sequence[RHS],
    y0: np.ndarray,
    t_eval: np.ndarray,
    params: np.ndarray | None = None,
    *,
    groups: np.ndarray | None = None,
    t0: float | np.ndarray | None = None,
    method: str = "DOP853",
    rtol: float = 1e-9,
    atol: float = 1e-9,
    first_step: float | np.ndarray | None = None,
    max_steps: int = 1_000_000,
    blowup: float = 1e8,
    stops: bool = False,
    callback: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    raise_all_diverged: bool = True,
    fixed_step: float | None = None,
) -> BatchResult:
    r"""Integrate :math:`\dot y = f(y; p)` for a batch with per-trajectory adaptive steps.

    Each row :math:`b` advances by :math:`y_{n+1} = y_n + h_b \sum_i b_i k_i`, with the embedded
    error estimate :math:`\|e\|` (RMS over coordinates scaled by ``atol + rtol |y|``; for DOP853 the
    combined 5th/3rd-order estimate of [HNW93]_) and the step update
    :math:`h_b \leftarrow h_b \min(10, \max(0.2, 0.9 \|e\|^{-1/(q+1)}))`, :math:`q` the order of the
    error estimator. Output on ``t_eval`` comes from the method's continuous extension.

    Parameters
    ----------
    fun : callable ``f(y, p) -> dy/dt`` on ``y`` of shape (m, d), ``p`` of shape (m, k) or None;
        or a sequence of such callables (several systems of the same dimension) with ``groups``.
    y0 : ndarray, shape (B, d) or (d,)
    t_eval : ndarray, shape (n_t,) or (B, n_t), strictly increasing, ``>= t0``.
    params : ndarray, shape (k,) or (B, k), optional
    groups : ndarray of int, shape (B,) -- index into ``fun`` per row, when ``fun`` is a sequence.
    t0 : start time(s); default ``t_eval[..., 0]``.
    method : ``"DOP853"`` (8th order, 7th-order dense output) or ``"RK45"`` (Dormand-Prince 5(4)).
    rtol, atol : tolerances of the local error control.
    first_step : initial step(s); default from Hairer's heuristic.
    max_steps : per-trajectory limit of attempted steps.
    blowup : a state component above this (in absolute value) counts as divergence.
    stops : land exactly on every ``t_eval`` point instead of interpolating (needed by
        ``callback``).
    callback : ``callback(rows, k, y) -> y`` called when trajectories ``rows`` land on grid index
        ``k`` (arrays, one per row) with states ``y`` (m, d); its return value replaces the state
        (e.g. re-orthonormalisation of tangent vectors). Implies ``stops=True``.
    raise_all_diverged : raise :class:`DivergenceError` when no trajectory finished.
    fixed_step : integrate with this constant step and no error control (the last step and, with
        ``stops``, steps before a stop are shortened to land on it); for order checks and
        reproducible fixed-granularity runs.

    Returns
    -------
    BatchResult
        ``y`` of shape (B, n_t, d), always 3-D.

    Raises
    ------
    DivergenceError
        When every trajectory diverged (and ``raise_all_diverged``).
    DataError
        On badly shaped inputs or a non-finite initial condition.

    References
    ----------
    .. [HNW93] Hairer, Norsett & Wanner, Solving ODEs I, Springer 1993, sec. II.4-II.6.
    """
    tab = _tableau(method)
    y0 = np.atleast_2d(np.asarray(y0, dtype=np.float64))
    if y0.ndim != 2:
        raise DataError(f"y0 must have shape (B, d) or (d,); got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise DataError("y0 holds non-finite values; pass a finite initial condition")
    batch, dim = y0.shape
    grid = _prep_grid(t_eval, batch)
    n_t = grid.shape[1]
    p_all = _prep_params(params, batch)
    funs, labels = _as_funs(fun, groups, batch)
    if callback is not None:
        stops = True
    t_start = grid[:, 0].copy() if t0 is None else np.broadcast_to(np.asarray(t0, float), (batch,))
    if np.any(grid[:, 0] < t_start - 1e-12 * np.maximum(1.0, np.abs(t_start))):
        raise DataError("t_eval must not start before t0")

    order = np.argsort(labels, kind="stable")
    rows = order.copy()  # original row index of each active slot
    lab = labels[order]
    rhs = _BatchRHS(funs, labels)
    Y = y0[order].copy()
    P = None if p_all is None else p_all[order]
    T = t_start[order].copy()
    Gr = grid[order]
    t_end = Gr[:, -1].copy()

    out = np.full((batch, n_t, dim), np.nan)
    status = np.zeros(batch, dtype=np.int64)
    n_acc = np.zeros(batch, dtype=np.int64)
    n_try = np.zeros(batch, dtype=np.int64)

    # grid points at t0 take the initial state
    at0 = np.abs(Gr[:, 0] - T) <= 1e-12 * np.maximum(1.0, np.abs(T))
    nxt = at0.astype(np.int64)
    out[rows[at0], 0] = Y[at0]
    if callback is not None and at0.any():
        Y[at0] = callback(rows[at0], np.zeros(int(at0.sum()), dtype=np.int64), Y[at0])

    F0 = rhs(Y, P, lab)
    if fixed_step is not None:
        H = np.full(batch, float(fixed_step))
    elif first_step is None:
        H = _initial_step(F0, Y, rhs, P, lab, rtol, atol, tab["err_order"], t_end - T)
    else:
        H = np.broadcast_to(np.asarray(first_step, float), (batch,))[order].copy()
    H = np.maximum(H, 1e-12)
    after_reject = np.zeros(batch, dtype=bool)
    done = nxt >= n_t
    A, Bw = tab["A"], tab["B"]
    ns = tab["n_stages"]
    expo = -1.0 / (tab["err_order"] + 1)

    def _keep(mask):
        nonlocal Y, P, T, Gr, t_end, rows, lab, F0, H, after_reject, nxt
        Y, T, Gr, t_end, rows, lab = Y[mask], T[mask], Gr[mask], t_end[mask], rows[mask], lab[mask]
        F0, H, after_reject, nxt = F0[mask], H[mask], after_reject[mask], nxt[mask]
        if P is not None:
            P = P[mask]

    if done.any():
        _keep(~done)

    shared = bool(np.asarray(t_eval).ndim == 1)
    g1 = grid[0]
    K = np.empty((ns + 1, batch, dim))
    while rows.size:
        m = rows.size
        if K.shape[1] != m:
            K = np.empty((ns + 1, m, dim))
        Kf = K.reshape(ns + 1, m * dim)
        K[0] = F0
        if stops:
            t_target = Gr[np.arange(m), nxt]
        else:
            t_target = t_end
        hit = T + H >= t_target - 1e-12 * np.maximum(1.0, np.abs(t_target))
        h = np.where(hit, t_target - T, H)
        hc = h[:, None]
        for s in range(1, ns):
            dy = (A[s, :s] @ Kf[:s]).reshape(m, dim)
            K[s] = rhs(Y + hc * dy, P, lab)
        Ynew = Y + hc * (Bw @ Kf[:ns]).reshape(m, dim)
        Fnew = rhs(Ynew, P, lab)
        K[ns] = Fnew
        scale = atol + rtol * np.maximum(np.abs(Y), np.abs(Ynew))
        if tab["name"] == "DOP853":
            e5 = (tab["E5"] @ Kf).reshape(m, dim) / scale
            e3 = (tab["E3"] @ Kf).reshape(m, dim) / scale
            n5 = np.sum(e5 * e5, axis=1)
            n3 = np.sum(e3 * e3, axis=1)
            den = n5 + 0.01 * n3
            with np.errstate(invalid="ignore", divide="ignore"):
                err = np.where(den > 0, np.abs(h) * n5 / np.sqrt(den * dim), 0.0)
        else:
            e = (tab["E"] @ Kf).reshape(m, dim) * hc / scale
            err = np.sqrt(np.mean(e * e, axis=1))
        finite = np.all(np.isfinite(Ynew), axis=1) & np.isfinite(err)
        acc = ((err < 1.0) | (fixed_step is not None)) & finite
        n_try[rows] += 1
        # step update
        with np.errstate(divide="ignore", over="ignore"):
            fac = np.where(err == 0, 10.0, 0.9 * np.power(np.maximum(err, 1e-300), expo))
        fac = np.where(acc, np.minimum(fac, np.where(after_reject, 1.0, 10.0)), np.clip(fac, 0.2, 1.0))
        fac = np.where(finite, fac, 0.2)
        H_next = np.where(acc & hit, np.maximum(h * fac, H), h * fac)
        if fixed_step is not None:
            H_next = np.where(finite, H, h * 0.2)
        after_reject = ~acc

        # dense output onto grid points inside (T, T + h]
        T_new = np.where(acc & hit, t_target, T + h)
        if acc.any():
            if stops:
                land = acc & hit
                idx = np.flatnonzero(land)
                if idx.size:
                    vals = Ynew[idx]
                    out[rows[idx], nxt[idx]] = vals
                    if callback is not None:
                        newv = callback(rows[idx], nxt[idx].copy(), vals)
                        Ynew[idx] = newv
                        Fnew[idx] = rhs(newv, None if P is None else P[idx], lab[idx])
                    nxt[idx] += 1
            else:
                _dense_fill(
                    tab, K, Y, Ynew, h, T, T_new, acc, Gr, g1 if shared else None, nxt, out, rows, rhs, P, lab
                )
        if acc.all():
            Y, F0, T = Ynew, Fnew, T_new
        else:
            Y = np.where(acc[:, None], Ynew, Y)
            F0 = np.where(acc[:, None], Fnew, F0)
            T = np.where(acc, T_new, T)
        n_acc[rows[acc]] += 1
        H = H_next

        bad = acc & (np.max(np.abs(Ynew), axis=1) > blowup)
        bad |= ~finite & (H < 1e-13 * np.maximum(1.0, np.abs(T)))
        status[rows[bad]] = 1
        under = (H < 1e-14 * np.maximum(1.0, np.abs(T))) & ~bad
        status[rows[under]] = 2
        over = (n_try[rows] >= max_steps) & ~bad & ~under
        status[rows[over]] = 3
        finished = nxt >= n_t
        drop = bad | under | over | finished
        if drop.any():
            _keep(~drop)

    out[status != 0] = np.nan
    res = BatchResult(
        t=np.asarray(t_eval, float),
        y=out,
        status=status,
        n_steps=n_acc,
        nfev=rhs.nfev,
        info={"method": tab["name"], "rtol": rtol, "atol": atol},
    )
    if raise_all_diverged and np.all(status != 0):
        raise DivergenceError(
            f"all {batch} trajectories diverged ({STATUS[int(status[0])]} for the first); "
            "check the initial conditions and parameters, or lower the tolerances"
        )
    return res


def _dense_fill(tab, K, Y, Ynew, h, T, T_new, acc, Gr, g1, nxt, out, rows, rhs, P, lab):
    """Fill grid points in (T, T_new] of accepted rows from the continuous extension.

    ``g1`` is the shared 1-D grid (fast path by :func:`numpy.searchsorted`) or None for per-row
    grids.
    """
    n_t = Gr.shape[1]
    m, dim = Y.shape
    tol = T_new * (1 + 1e-15) + 1e-300
    if g1 is not None:
        upto = np.searchsorted(g1, tol, side="right")
    else:
        upto = nxt.copy()
        ar = np.arange(m)
        while True:
            more = (upto < n_t) & (Gr[ar, np.minimum(upto, n_t - 1)] <= tol)
            if not more.any():
                break
            upto += more
    cnt = np.where(acc, np.maximum(upto - nxt, 0), 0)
    idx = np.flatnonzero(cnt)
    if idx.size == 0:
        return
    mi = idx.size
    Ki = K[:, idx]
    hi = h[idx][:, None]
    y_old, y_new = Y[idx], Ynew[idx]
    if tab["name"] == "DOP853":
        ns = tab["n_stages"]
        Pi = None if P is None else P[idx]
        Kall = np.empty((ns + 4, mi, dim))
        Kall[: ns + 1] = Ki
        Kflat = Kall.reshape(ns + 4, mi * dim)
        for j, a in enumerate(tab["A_extra"]):
            s = ns + 1 + j
            dy = (a[:s] @ Kflat[:s]).reshape(mi, dim)
            Kall[s] = rhs(y_old + hi * dy, Pi, lab[idx])
        dlt = y_new - y_old
        f_old, f_new = Kall[0], Kall[ns]
        coef = np.empty((7, mi, dim))
        coef[0] = dlt
        coef[1] = hi * f_old - dlt
        coef[2] = 2 * dlt - hi * (f_new + f_old)
        coef[3:] = hi[None] * (tab["D"] @ Kflat).reshape(4, mi, dim)
    else:
        coef = hi[None] * (tab["P"].T @ Ki.reshape(Ki.shape[0], mi * dim)).reshape(4, mi, dim)
    c = cnt[idx]
    loc = np.repeat(np.arange(mi), c)  # local row of each point
    start = np.repeat(np.cumsum(c) - c, c)
    kk = np.repeat(nxt[idx], c) + (np.arange(loc.size) - start)
    tk = g1[kk] if g1 is not None else Gr[idx[loc], kk]
    x = ((tk - T[idx][loc]) / h[idx][loc])[:, None]
    cf = coef[:, loc]
    if tab["name"] == "DOP853":
        val = np.zeros_like(cf[0])
        for i in range(6, -1, -1):
            val = (val + cf[i]) * (x if (6 - i) % 2 == 0 else 1 - x)
        val += y_old[loc]
    else:
        val = y_old[loc] + x * (cf[0] + x * (cf[1] + x * (cf[2] + x * cf[3])))
    out[rows[idx[loc]], kk] = val
    nxt[idx] += c


# ----------------------------------------------------------------------------------------------
# Implicit path, maps, delays, stochastic forcing.
# ----------------------------------------------------------------------------------------------
