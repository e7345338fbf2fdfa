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
    y0, grid, p_all, funs, labels, t_start = _check_inputs(fun, y0, t_eval, params, groups, t0)
    run = _Stepper(tab, _BatchRHS(funs, labels), grid, y0.shape, rtol=rtol, atol=atol,
                   stops=stops or callback is not None, callback=callback, fixed_step=fixed_step,
                   max_steps=max_steps, blowup=blowup, shared=bool(np.asarray(t_eval).ndim == 1))
    run.start(y0, p_all, labels, t_start, first_step)
    while run.act.rows.size:
        run.step()
    return run.result(t_eval, raise_all_diverged)


def _check_inputs(fun, y0, t_eval, params, groups, t0):
    """Validated inputs of :func:`solve_ode`: ``y0`` (B, d), the (B, n_t) grid, the params, the
    right-hand sides with one group label per row, and the start times (B,)."""
    y0 = np.atleast_2d(np.asarray(y0, dtype=np.float64))
    if y0.ndim != 2:
        raise DataError(f"y0 must have shape (B, d) or (d,); got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise DataError("y0 holds non-finite values; pass a finite initial condition")
    batch = y0.shape[0]
    grid = _prep_grid(t_eval, batch)
    p_all = _prep_params(params, batch)
    funs, labels = _as_funs(fun, groups, batch)
    t_start = grid[:, 0].copy() if t0 is None else np.broadcast_to(np.asarray(t0, float), (batch,))
    if np.any(grid[:, 0] < t_start - 1e-12 * np.maximum(1.0, np.abs(t_start))):
        raise DataError("t_eval must not start before t0")
    return y0, grid, p_all, funs, labels, t_start


class _Active:
    """The trajectories still integrating, one slot each, slots sorted by right-hand-side group.

    Per slot: ``rows`` (original row), ``lab`` (group), state ``Y``, params ``P`` (or None), time
    ``T``, grid ``Gr`` and its end ``t_end``, derivative ``F0`` at ``(T, Y)``, next step ``H``,
    ``after_reject`` (the last attempt was rejected) and ``nxt`` (next grid index to fill).
    """

    _PER_SLOT = ("Y", "T", "Gr", "t_end", "rows", "lab", "F0", "H", "after_reject", "nxt")

    def __init__(self, rows, lab, Y, P, T, Gr):
        self.rows, self.lab, self.Y, self.P, self.T, self.Gr = rows, lab, Y, P, T, Gr
        self.t_end = Gr[:, -1].copy()
        self.F0 = self.H = self.after_reject = self.nxt = None

    def keep(self, mask) -> None:
        """Keep only the slots in ``mask`` (finished and failed trajectories drop out)."""
        for name in self._PER_SLOT:
            setattr(self, name, getattr(self, name)[mask])
        if self.P is not None:
            self.P = self.P[mask]


class _Stepper:
    """One batched explicit Runge-Kutta run of :func:`solve_ode`.

    Holds the tableau ``tab``, the batched right-hand side, the step controls, the output buffers
    (``out``, ``status``, accepted and attempted step counts) and the active set ``act``.
    """

    def __init__(self, tab, rhs, grid, shape, *, rtol, atol, stops, callback, fixed_step,
                 max_steps, blowup, shared):
        batch, dim = shape
        self.tab, self.rhs, self.grid, self.n_t = tab, rhs, grid, grid.shape[1]
        self.rtol, self.atol, self.stops, self.callback = rtol, atol, stops, callback
        self.fixed_step, self.max_steps, self.blowup = fixed_step, max_steps, blowup
        self.g1 = grid[0] if shared else None  # shared 1-D grid: fast dense output
        self.expo = -1.0 / (tab["err_order"] + 1)
        self.out = np.full((batch, self.n_t, dim), np.nan)
        self.status = np.zeros(batch, dtype=np.int64)
        self.n_acc = np.zeros(batch, dtype=np.int64)
        self.n_try = np.zeros(batch, dtype=np.int64)
        self.act = self.K = None

    def start(self, y0, p_all, labels, t_start, first_step) -> None:
        """Sort the rows by group, fill grid points at ``t0`` with the initial state (and apply
        ``callback`` there), take the first derivative and step, and drop rows already done."""
        batch, dim = y0.shape
        order = np.argsort(labels, kind="stable")
        a = _Active(order.copy(), labels[order], y0[order].copy(),
                    None if p_all is None else p_all[order], t_start[order].copy(),
                    self.grid[order])
        at0 = np.abs(a.Gr[:, 0] - a.T) <= 1e-12 * np.maximum(1.0, np.abs(a.T))
        a.nxt = at0.astype(np.int64)
        self.out[a.rows[at0], 0] = a.Y[at0]
        if self.callback is not None and at0.any():
            a.Y[at0] = self.callback(a.rows[at0], np.zeros(int(at0.sum()), dtype=np.int64),
                                     a.Y[at0])
        a.F0 = self.rhs(a.Y, a.P, a.lab)
        a.H = np.maximum(self._first_step(a, first_step, batch), 1e-12)
        a.after_reject = np.zeros(batch, dtype=bool)
        done = a.nxt >= self.n_t
        if done.any():
            a.keep(~done)
        self.act = a
        self.K = np.empty((self.tab["n_stages"] + 1, batch, dim))

    def _first_step(self, a, first_step, batch):
        """Initial steps: ``fixed_step``, else Hairer's heuristic, else ``first_step``."""
        if self.fixed_step is not None:
            return np.full(batch, float(self.fixed_step))
        if first_step is None:
            return _initial_step(a.F0, a.Y, self.rhs, a.P, a.lab, self.rtol, self.atol,
                                 self.tab["err_order"], a.t_end - a.T)
        return np.broadcast_to(np.asarray(first_step, float), (batch,))[a.rows].copy()

    def step(self) -> None:
        """One attempted step of every active trajectory: stages, error control, output onto the
        grid, state update, then the divergence checks and drop-outs."""
        a = self.act
        h, hit, t_target, Ynew, Fnew = self._attempt(a)
        err = self._error(a.Y, Ynew, h)
        finite = np.all(np.isfinite(Ynew), axis=1) & np.isfinite(err)
        acc = ((err < 1.0) | (self.fixed_step is not None)) & finite
        self.n_try[a.rows] += 1
        H_next = self._next_step(a, err, acc, finite, hit, h)
        a.after_reject = ~acc
        T_new = np.where(acc & hit, t_target, a.T + h)
        if acc.any():
            self._output(a, acc, hit, h, T_new, Ynew, Fnew)
        if acc.all():
            a.Y, a.F0, a.T = Ynew, Fnew, T_new
        else:
            a.Y = np.where(acc[:, None], Ynew, a.Y)
            a.F0 = np.where(acc[:, None], Fnew, a.F0)
            a.T = np.where(acc, T_new, a.T)
        self.n_acc[a.rows[acc]] += 1
        a.H = H_next
        self._retire(a, acc, finite, Ynew)

    def _attempt(self, a):
        """Stages of one step of size ``h`` (shortened to land on the target ``t_target``, hit
        rows); returns ``h``, ``hit``, ``t_target``, the new state and its derivative."""
        m, dim = a.Y.shape
        ns, A, Bw = self.tab["n_stages"], self.tab["A"], self.tab["B"]
        if self.K.shape[1] != m:
            self.K = np.empty((ns + 1, m, dim))
        K = self.K
        Kf = K.reshape(ns + 1, m * dim)
        K[0] = a.F0
        t_target = a.Gr[np.arange(m), a.nxt] if self.stops else a.t_end
        hit = a.T + a.H >= t_target - 1e-12 * np.maximum(1.0, np.abs(t_target))
        h = np.where(hit, t_target - a.T, a.H)
        hc = h[:, None]
        for s in range(1, ns):
            dy = (A[s, :s] @ Kf[:s]).reshape(m, dim)
            K[s] = self.rhs(a.Y + hc * dy, a.P, a.lab)
        Ynew = a.Y + hc * (Bw @ Kf[:ns]).reshape(m, dim)
        Fnew = self.rhs(Ynew, a.P, a.lab)
        K[ns] = Fnew
        return h, hit, t_target, Ynew, Fnew

    def _error(self, Y, Ynew, h):
        """Scaled error norm per row: DOP853's combined 5th/3rd-order estimate [HNW93]_ or the
        RMS of the embedded RK45 estimate."""
        tab = self.tab
        m, dim = Y.shape
        Kf = self.K.reshape(tab["n_stages"] + 1, m * dim)
        scale = self.atol + self.rtol * np.maximum(np.abs(Y), np.abs(Ynew))
        if tab["name"] == "DOP853":
            e5 = (tab["E5"] @ Kf).reshape(m, dim) / scale
            e3 = (tab["E3"] @ Kf).reshape(m, dim) / scale
            n5 = np.sum(e5 * e5, axis=1)
            n3 = np.sum(e3 * e3, axis=1)
            den = n5 + 0.01 * n3
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(den > 0, np.abs(h) * n5 / np.sqrt(den * dim), 0.0)
        e = (tab["E"] @ Kf).reshape(m, dim) * h[:, None] / scale
        return np.sqrt(np.mean(e * e, axis=1))

    def _next_step(self, a, err, acc, finite, hit, h):
        """Next step sizes: ``h min(10, max(0.2, 0.9 err^(-1/(q+1))))``, no growth right after a
        rejection, 0.2 h after a non-finite attempt; ``fixed_step`` keeps the step."""
        with np.errstate(divide="ignore", over="ignore"):
            fac = np.where(err == 0, 10.0, 0.9 * np.power(np.maximum(err, 1e-300), self.expo))
        fac = np.where(acc, np.minimum(fac, np.where(a.after_reject, 1.0, 10.0)),
                       np.clip(fac, 0.2, 1.0))
        fac = np.where(finite, fac, 0.2)
        H_next = np.where(acc & hit, np.maximum(h * fac, a.H), h * fac)
        if self.fixed_step is not None:
            H_next = np.where(finite, a.H, h * 0.2)
        return H_next

    def _output(self, a, acc, hit, h, T_new, Ynew, Fnew) -> None:
        """Grid values of the accepted steps: the landed points (``stops``; ``callback`` may
        replace the state there) or the dense output on (T, T_new]."""
        if not self.stops:
            _dense_fill(self.tab, self.K, a.Y, Ynew, h, a.T, T_new, acc, a.Gr, self.g1, a.nxt,
                        self.out, a.rows, self.rhs, a.P, a.lab)
            return
        idx = np.flatnonzero(acc & hit)
        if idx.size:
            vals = Ynew[idx]
            self.out[a.rows[idx], a.nxt[idx]] = vals
            if self.callback is not None:
                newv = self.callback(a.rows[idx], a.nxt[idx].copy(), vals)
                Ynew[idx] = newv
                Fnew[idx] = self.rhs(newv, None if a.P is None else a.P[idx], a.lab[idx])
            a.nxt[idx] += 1

    def _retire(self, a, acc, finite, Ynew) -> None:
        """Status 1 (blown up or non-finite at a tiny step), 2 (step underflow) or 3 (max steps);
        those rows and the finished ones leave the active set."""
        bad = acc & (np.max(np.abs(Ynew), axis=1) > self.blowup)
        bad |= ~finite & (a.H < 1e-13 * np.maximum(1.0, np.abs(a.T)))
        self.status[a.rows[bad]] = 1
        under = (a.H < 1e-14 * np.maximum(1.0, np.abs(a.T))) & ~bad
        self.status[a.rows[under]] = 2
        over = (self.n_try[a.rows] >= self.max_steps) & ~bad & ~under
        self.status[a.rows[over]] = 3
        drop = bad | under | over | (a.nxt >= self.n_t)
        if drop.any():
            a.keep(~drop)

    def result(self, t_eval, raise_all_diverged: bool) -> BatchResult:
        """The :class:`BatchResult` (NaN rows for diverged trajectories); raises
        :class:`DivergenceError` when all diverged and ``raise_all_diverged``."""
        status = self.status
        self.out[status != 0] = np.nan
        res = BatchResult(
            t=np.asarray(t_eval, float),
            y=self.out,
            status=status,
            n_steps=self.n_acc,
            nfev=self.rhs.nfev,
            info={"method": self.tab["name"], "rtol": self.rtol, "atol": self.atol},
        )
        if raise_all_diverged and np.all(status != 0):
            raise DivergenceError(
                f"all {len(status)} trajectories diverged ({STATUS[int(status[0])]} for the "
                "first); check the initial conditions and parameters, or lower the tolerances"
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
