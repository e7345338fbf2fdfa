r"""Batched integration of flows, maps and delay systems (Gilpin, NeurIPS 2021 D&B, sec. 3).

One call integrates a batch of trajectories: many initial conditions, many parameter sets and
several systems of the same dimension at once.

* :func:`solve_ode` -- explicit Runge-Kutta with per-trajectory adaptive step control:
  Dormand-Prince 5(4) [DP80]_ (``"RK45"``) or Dormand-Prince 8(5,3) [HNW93]_ (``"DOP853"``), with
  the methods' continuous extensions (4th / 7th order) as dense output onto a requested grid.
  Every trajectory keeps its own time ``t_b`` and step ``h_b``; all trajectories advance in one
  vectorised numpy step and finished ones drop out of the active set.
* :func:`solve_ode_poly` / :func:`solve_sde_poly` -- the same DOP853 and Euler-Maruyama schemes
  compiled with numba for polynomial vector fields (any number of systems of one dimension in
  one kernel, no per-system compilation); the benchmark generator's fast path.
* :func:`solve_stiff` -- the implicit path (scipy Radau / BDF with the analytic Jacobian), for
  systems flagged stiff; it loops over the batch.
* :func:`iterate_map` -- iteration of discrete maps.
* :func:`solve_dde` -- method of steps for constant-delay systems, classical RK4 on a uniform step
  that divides the delay, history kept in a buffer and mid-step delayed values from the cubic Hermite
  interpolant (4th order, matching RK4).
* :func:`solve_sde` -- Euler-Maruyama for additive stochastic forcing
  :math:`dx = f(x)\,dt + \eta\,\sigma \odot dW`, with :math:`\sigma` the coordinate's standard
  deviation on the attractor.
* :func:`integrate` -- dispatches on a :class:`~sciml.chaos.systems.System`'s kind.

Divergence: a trajectory whose state turns non-finite or exceeds ``blowup`` in absolute value, or
whose step size underflows, is marked in :attr:`BatchResult.status`; its output rows are NaN and the
caller drops and reports it. When every trajectory diverged, :class:`~sciml.errors.DivergenceError`
is raised.

References
----------
.. [DP80] J. R. Dormand and P. J. Prince, "A family of embedded Runge-Kutta formulae",
   J. Comput. Appl. Math. 6 (1980) 19-26.
.. [HNW93] E. Hairer, S. P. Norsett and G. Wanner, "Solving Ordinary Differential Equations I",
   2nd ed., Springer 1993, sec. II.5 (DOP853) and II.6 (dense output).
"""

from __future__ import annotations

import numpy as np

from sciml.errors import ConfigError, DataError

from ._compiled import (
    PolyBatch,
    pack_polynomial,
    poly_batch,
    solve_ode_compiled,
    solve_ode_poly,
    solve_sde_compiled,
    solve_sde_poly,
)
from ._dde import dde_steps, solve_dde
from ._maps import iterate_map
from ._rk import STATUS, BatchResult, solve_ode
from ._sde import em_substeps, solve_sde
from ._stiff import solve_stiff

__all__ = [
    "BatchResult",
    "solve_ode",
    "PolyBatch",
    "pack_polynomial",
    "poly_batch",
    "solve_ode_compiled",
    "solve_sde_compiled",
    "solve_ode_poly",
    "solve_sde_poly",
    "em_substeps",
    "solve_stiff",
    "iterate_map",
    "solve_dde",
    "dde_steps",
    "solve_sde",
    "integrate",
    "STATUS",
]


def integrate(
    system,
    y0: np.ndarray,
    t_eval: np.ndarray,
    params: np.ndarray | None = None,
    *,
    method: str | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    noise: float = 0.0,
    noise_scale: np.ndarray | None = None,
    seed: int | np.random.Generator = 0,
    raise_all_diverged: bool = True,
    **kwargs,
) -> BatchResult:
    """Integrate a batch of one :class:`~sciml.chaos.systems.System` (or several of one kind).

    ``system`` may be a list of flows of the same dimension: then ``params`` must be None and the
    rows of ``y0`` are split over the systems in equal consecutive blocks.

    Dispatch: maps -> :func:`iterate_map` (``t_eval`` gives the number of iterates); delay ->
    :func:`solve_dde`; flows with ``noise`` > 0 -> :func:`solve_sde`; stiff flows (or
    ``method`` in Radau/BDF/LSODA) -> :func:`solve_stiff`; otherwise :func:`solve_ode`.
    """
    if isinstance(system, list | tuple):
        systems = list(system)
        if len({s.dim for s in systems}) != 1 or any(s.kind != "flow" for s in systems):
            raise ConfigError("a list of systems must hold flows of one dimension")
        y0 = np.atleast_2d(np.asarray(y0, float))
        if y0.shape[0] % len(systems):
            raise DataError(f"{y0.shape[0]} rows do not split evenly over {len(systems)} systems")
        per = y0.shape[0] // len(systems)
        groups = np.repeat(np.arange(len(systems)), per)
        funs = [(lambda x, p, s=s: s.rhs(x, None)) for s in systems]
        return solve_ode(
            funs,
            y0,
            t_eval,
            None,
            groups=groups,
            method=method or "DOP853",
            rtol=rtol,
            atol=atol,
            raise_all_diverged=raise_all_diverged,
            **kwargs,
        )
    kind = system.kind
    if kind == "map":
        n = int(np.asarray(t_eval).shape[-1])
        return iterate_map(
            system.rhs,
            y0,
            n,
            params,
            noise=noise,
            noise_scale=noise_scale,
            seed=seed,
            raise_all_diverged=raise_all_diverged,
        )
    if kind == "delay":
        return solve_dde(
            system.rhs,
            y0,
            t_eval,
            float(system.delay),
            params,
            noise=noise,
            noise_scale=noise_scale,
            seed=seed,
            raise_all_diverged=raise_all_diverged,
            **kwargs,
        )
    if noise:
        return solve_sde(
            system.rhs,
            y0,
            t_eval,
            params,
            noise=noise,
            noise_scale=noise_scale,
            seed=seed,
            raise_all_diverged=raise_all_diverged,
            **kwargs,
        )
    if method in ("Radau", "BDF", "LSODA") or (method is None and getattr(system, "stiff", False)):
        return solve_stiff(
            system.rhs,
            system.jac,
            y0,
            t_eval,
            params,
            method=method or "Radau",
            rtol=rtol,
            atol=atol,
            raise_all_diverged=raise_all_diverged,
        )
    return solve_ode(
        system.rhs,
        y0,
        t_eval,
        params,
        method=method or "DOP853",
        rtol=rtol,
        atol=atol,
        raise_all_diverged=raise_all_diverged,
        **kwargs,
    )
