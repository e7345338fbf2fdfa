r"""Compiled (numba) DOP853 and Euler-Maruyama for batches of polynomial vector fields.

The numpy path (:func:`~sciml.chaos.integrate.solve_ode`) advances every trajectory of a batch in
one vectorised step; its cost is the Python overhead per stage (13 right-hand-side calls per
step), which dominates for the short, small-dimensional series of the benchmark. Here the same
mathematics runs as one compiled loop per trajectory:

* the right-hand side is the exact polynomial form :math:`f_b(x) = C_b^\top\phi(x)` of
  :mod:`sciml.chaos.polynomial`, stored sparsely (the non-zero :math:`(k, j, C_{kj})` of each
  system) with the monomials built incrementally, :math:`\phi_k = \phi_{\mathrm{parent}(k)}
  x_{\mathrm{var}(k)}`; so ONE compiled kernel (cached on disk, ``cache=True``) serves every
  polynomial system of any dimension and degree, with no per-system compilation;
* :func:`solve_ode_poly` is Dormand-Prince 8(5,3) with exactly the step control, starting-step
  heuristic, divergence tests and 7th-order dense output of ``solve_ode(method="DOP853")``
  (results agree to rounding; rows are independent, so a batch equals one-at-a-time calls);
* :func:`solve_sde_poly` is the Euler-Maruyama scheme of :func:`~sciml.chaos.integrate.solve_sde`
  on the same right-hand side, fed with the same stream of standard normals (drawn by numpy in
  the same order), so a seed gives the same noisy series as the numpy path.

References
----------
.. [HNW93] E. Hairer, S. P. Norsett and G. Wanner, "Solving Ordinary Differential Equations I",
   2nd ed., Springer 1993, sec. II.4-II.6.
.. [KP92] P. E. Kloeden and E. Platen, "Numerical Solution of Stochastic Differential Equations",
   Springer 1992, sec. 10.2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate._ivp import dop853_coefficients as _d8

from sciml.errors import DataError, DivergenceError

from ._rk import STATUS, BatchResult
from ._sde import em_substeps

__all__ = [
    "PolyBatch",
    "pack_polynomial",
    "poly_batch",
    "solve_ode_compiled",
    "solve_sde_compiled",
    "solve_ode_poly",
    "solve_sde_poly",
]

_NS = _d8.N_STAGES
_A = np.ascontiguousarray(_d8.A[:_NS, :_NS], dtype=np.float64)
_B = np.ascontiguousarray(_d8.B, dtype=np.float64)
_E5 = np.ascontiguousarray(_d8.E5, dtype=np.float64)
_E3 = np.ascontiguousarray(_d8.E3, dtype=np.float64)
_A_EXTRA = np.ascontiguousarray(_d8.A[_NS + 1 :], dtype=np.float64)
_D = np.ascontiguousarray(_d8.D, dtype=np.float64)



def pack_polynomial(coef: np.ndarray, dim: int) -> tuple[np.ndarray, int]:
    r"""Pack a coefficient matrix :math:`C` (n_monomials, d) for :func:`poly_rhs_packed`.

    Layout: ``[n_need, n_terms, (k, parent(k), var(k)) for each needed monomial k >= 1 in
    increasing order, term monomials, term outputs, term coefficients]``; a monomial is needed
    when a non-zero coefficient or a needed monomial builds on it. Returns the row and the
    scratch length (n_monomials).

    Raises
    ------
    DataError
        If ``coef`` does not have ``dim`` columns and a monomial count of rows.
    """
    from ..polynomial import monomial_indices

    coef = np.asarray(coef, dtype=np.float64)
    counts = [math.comb(dim + g, g) for g in range(9)]  # monomials of degree <= g in dim vars
    if coef.ndim != 2 or coef.shape[1] != dim or coef.shape[0] not in counts:
        raise DataError(f"coefficient matrix has shape {coef.shape}; expected (n_monomials, {dim})"
                        f" with n_monomials in {counts} (degree 0..8)")
    idx = monomial_indices(dim, counts.index(coef.shape[0]))
    pos = {t: k for k, t in enumerate(idx)}
    k_nz, j_nz = np.nonzero(coef)
    need: set[int] = set()
    for k in k_nz.tolist():
        while k > 0 and k not in need:  # a monomial and every prefix it is built from
            need.add(k)
            k = pos[idx[k][:-1]]
    chain = [(k, pos[idx[k][:-1]], idx[k][-1]) for k in sorted(need)]
    row = np.concatenate([[len(chain), k_nz.size], np.ravel(chain), k_nz, j_nz,
                          coef[k_nz, j_nz]]).astype(np.float64)
    return row, len(idx)


@dataclass(frozen=True)
class PolyBatch:
    """Packed polynomial right-hand sides of several systems of one dimension.

    Attributes
    ----------
    dim : state dimension.
    packed : ndarray (n_sys, k) -- one :func:`pack_polynomial` row per system (zero padded).
    work_len : scratch length the rows need.
    """

    dim: int
    packed: np.ndarray
    work_len: int

    @property
    def n_systems(self) -> int:
        """Number of systems held."""
        return int(self.packed.shape[0])


def poly_batch(coefs: Sequence[np.ndarray], dim: int) -> PolyBatch:
    r"""Pack coefficient matrices :math:`C_s` (n_monomials(d, degree_s), d) into a :class:`PolyBatch`.

    Each ``coefs[s]`` is in :func:`~sciml.chaos.polynomial.monomial_indices` order for its own
    degree (the orders of different degrees share their prefix, so they mix freely).

    Raises
    ------
    DataError
        If a matrix does not have ``dim`` columns or its row count is not a monomial count.
    """
    rows = [pack_polynomial(c, dim) for c in coefs]
    width = max((r.size for r, _ in rows), default=2)
    packed = np.zeros((len(rows), width))
    for i, (r, _) in enumerate(rows):
        packed[i, : r.size] = r
    return PolyBatch(dim=dim, packed=packed, work_len=max((w for _, w in rows), default=1))


# ----------------------------------------------------------------------------------------------
# Python front ends
# ----------------------------------------------------------------------------------------------


def _state(y0, dim: int | None = None) -> np.ndarray:
    y0 = np.array(y0, dtype=np.float64, order="C", ndmin=2)  # a writable copy for the kernels
    if y0.ndim != 2 or (dim is not None and y0.shape[1] != dim):
        raise DataError(f"y0 must have shape (B, {dim or 'd'}); got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise DataError("y0 holds non-finite values; pass a finite initial condition")
    return y0


def _params(params, n_rows: int) -> np.ndarray:
    p = np.zeros((1, 1)) if params is None else np.asarray(params, dtype=np.float64)
    if p.ndim == 1:
        p = p[None]
    if p.ndim != 2 or p.shape[0] not in (1, n_rows):
        raise DataError(f"params must have shape (k,) or ({n_rows}, k); got {p.shape}")
    return np.array(np.broadcast_to(p, (n_rows, max(p.shape[1], 1))), order="C")


def _grid(t_eval) -> np.ndarray:
    grid = np.array(t_eval, dtype=np.float64, order="C")
    if grid.ndim != 1 or grid.size < 1:
        raise DataError(f"t_eval must be a 1-D grid shared by the batch; got shape {grid.shape}")
    if np.any(np.diff(grid) <= 0) or not np.all(np.isfinite(grid)):
        raise DataError("t_eval must be finite and strictly increasing")
    return grid


def _systems(pb: PolyBatch, systems, n_rows: int) -> np.ndarray:
    if systems is None:
        if pb.n_systems != 1:
            raise DataError(f"{pb.n_systems} systems in the batch: pass `systems`, one per row")
        return np.zeros(n_rows, dtype=np.int64)
    systems = np.asarray(systems, dtype=np.int64)
    if systems.shape != (n_rows,) or (n_rows and (systems.min() < 0
                                                  or systems.max() >= pb.n_systems)):
        raise DataError(f"systems must be ints in [0, {pb.n_systems}) of shape ({n_rows},); "
                        f"got shape {systems.shape}")
    return systems


def solve_ode_compiled(
    rhs,
    y0: np.ndarray,
    t_eval: np.ndarray,
    params: np.ndarray | None = None,
    *,
    work_len: int = 1,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    max_steps: int = 1_000_000,
    blowup: float = 1e8,
    raise_all_diverged: bool = True,
) -> BatchResult:
    r"""Compiled DOP853 for any compiled right-hand side; same results as ``solve_ode("DOP853")``.

    Parameters
    ----------
    rhs : numba function compiled with the signature :data:`RHS_SIG`, ``rhs(x, p, out, work)``
        (e.g. :func:`poly_rhs_packed` or a system's entry in
        :data:`sciml.chaos.systems.COMPILED_RHS`).
    y0 : ndarray, shape (B, d) -- start states at ``t_eval[0]``.
    t_eval : ndarray, shape (n_t,) -- output grid shared by the batch, strictly increasing.
    params : ndarray, shape (k,) or (B, k) -- the ``p`` handed to ``rhs`` for each row.
    work_len : scratch length ``rhs`` needs.
    rtol, atol, max_steps, blowup, raise_all_diverged : as in
        :func:`~sciml.chaos.integrate.solve_ode`.

    Returns
    -------
    BatchResult
        ``y`` (B, n_t, d), NaN rows for diverged trajectories; ``nfev`` counts row evaluations.

    Raises
    ------
    DataError
        On badly shaped inputs or a non-finite initial condition.
    DivergenceError
        When every trajectory diverged (and ``raise_all_diverged``).
    """
    y0 = _state(y0)
    grid = _grid(t_eval)
    n_rows, dim = y0.shape
    P = _params(params, n_rows)
    out = np.empty((n_rows, grid.size, dim))
    status = np.zeros(n_rows, dtype=np.int64)
    n_acc = np.zeros(n_rows, dtype=np.int64)
    nfev = np.zeros(n_rows, dtype=np.int64)
    from . import _kernels as kn

    _dop853_rows = kn._dop853_rows
    _dop853_rows(rhs, y0, grid, P, int(work_len), float(rtol), float(atol), int(max_steps),
                 float(blowup), _A, _B, _E5, _E3, _A_EXTRA, _D, out, status, n_acc, nfev)
    if raise_all_diverged and n_rows and np.all(status != 0):
        raise DivergenceError(
            f"all {n_rows} trajectories diverged ({STATUS[int(status[0])]} for the first); "
            "check the initial conditions and parameters, or lower the tolerances")
    return BatchResult(t=grid, y=out, status=status, n_steps=n_acc, nfev=int(nfev.sum()),
                       info={"method": "DOP853", "rtol": rtol, "atol": atol, "compiled": True})


def solve_sde_compiled(
    rhs,
    y0: np.ndarray,
    t_eval: np.ndarray,
    params: np.ndarray | None = None,
    *,
    work_len: int = 1,
    noise: float = 0.01,
    noise_scale: np.ndarray | None = None,
    max_dt: float | None = None,
    seed: int | np.random.Generator = 0,
    normals: np.ndarray | None = None,
    blowup: float = 1e8,
    raise_all_diverged: bool = True,
) -> BatchResult:
    r"""Compiled Euler-Maruyama for :math:`dx = f(x; p)\,dt + \eta\sigma\odot dW`.

    Same scheme and random stream as :func:`~sciml.chaos.integrate.solve_sde` (one standard
    normal array of shape (B, d) per substep, drawn in order from ``seed``), so both give the
    same series for the same seed. ``normals`` (n_substeps, B, d) replaces the draws (the caller
    then owns the stream, e.g. to share it with rows integrated elsewhere). ``rhs``,
    ``params`` and ``work_len`` as in :func:`solve_ode_compiled`.

    Raises
    ------
    DataError
        On badly shaped inputs (``normals`` of the wrong shape included).
    DivergenceError
        When every trajectory diverged (and ``raise_all_diverged``).
    """
    y0 = _state(y0)
    grid = _grid(t_eval)
    n_rows, dim = y0.shape
    P = _params(params, n_rows)
    dts = np.diff(grid)
    if max_dt is None:
        max_dt = (dts.min() if dts.size else 1.0) / 20
    dts, nsub = em_substeps(grid, max_dt)
    n_sub = int(nsub.sum())
    if normals is None:
        normals = np.random.default_rng(seed).standard_normal((n_sub, n_rows, dim))
    normals = np.require(normals, dtype=np.float64, requirements=["C", "W"])
    if normals.shape != (n_sub, n_rows, dim):
        raise DataError(f"normals must have shape {(n_sub, n_rows, dim)}; got {normals.shape}")
    sig = np.array(np.broadcast_to(
        np.ones(dim) if noise_scale is None else np.asarray(noise_scale, float), (n_rows, dim)),
        order="C")
    out = np.empty((n_rows, grid.size, dim))
    alive = np.ones(n_rows, dtype=np.bool_)
    from . import _kernels as kn

    kn._em_rows(rhs, y0, dts, nsub, P, int(work_len), float(noise), sig, normals, float(blowup),
             out, alive)
    if raise_all_diverged and n_rows and not alive.any():
        raise DivergenceError(f"all {n_rows} stochastic trajectories diverged; lower max_dt/noise")
    return BatchResult(t=grid, y=out, status=np.where(alive, 0, 1),
                       n_steps=np.zeros(n_rows, dtype=np.int64),
                       info={"method": "euler-maruyama", "max_dt": float(max_dt),
                             "compiled": True})


def solve_ode_poly(pb: PolyBatch, y0, t_eval, systems=None, **kwargs) -> BatchResult:
    """:func:`solve_ode_compiled` on the polynomial systems of ``pb``; ``systems`` (B,) picks
    each row's system (default: the only one). Keywords as :func:`solve_ode_compiled`."""
    y0 = _state(y0, pb.dim)
    sys_idx = _systems(pb, systems, y0.shape[0])
    from ._kernels import poly_rhs_packed

    return solve_ode_compiled(poly_rhs_packed, y0, t_eval, pb.packed[sys_idx],
                              work_len=pb.work_len, **kwargs)


def solve_sde_poly(pb: PolyBatch, y0, t_eval, systems=None, **kwargs) -> BatchResult:
    """:func:`solve_sde_compiled` on the polynomial systems of ``pb`` (see :func:`solve_ode_poly`)."""
    y0 = _state(y0, pb.dim)
    sys_idx = _systems(pb, systems, y0.shape[0])
    from ._kernels import poly_rhs_packed

    return solve_sde_compiled(poly_rhs_packed, y0, t_eval, pb.packed[sys_idx],
                              work_len=pb.work_len, **kwargs)
