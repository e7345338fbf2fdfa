r"""Batched benchmark series of flows of one dimension (Gilpin, NeurIPS 2021 D&B, sec. 4).

The steps behind :func:`~sciml.chaos.generate_many`, one dimension group at a time:
:class:`DimensionGroup` routes rows to the three integration paths (polynomial kernel, compiled
right-hand side, numpy), then :func:`generate_group` samples two on-attractor initial conditions
per system, integrates the clean series, runs the noisy (Euler-Maruyama) series with retries that
halve the noise, and assembles the per-system results in the layout of
:func:`~sciml.chaos.generate_system`. Series are computed in period units
:math:`\tau = t / T_s` and stamped with their own times on assembly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sciml.errors import ConfigError, DataError, DivergenceError

from .integrate import STATUS as STATUS_TEXT
from .integrate import (
    em_substeps,
    poly_batch,
    solve_ode,
    solve_ode_compiled,
    solve_ode_poly,
    solve_sde,
    solve_sde_compiled,
    solve_sde_poly,
)
from .trajectory import time_grid

Logger = logging.Logger | logging.LoggerAdapter


@dataclass
class Collector:
    """Results and drop reasons of one :func:`~sciml.chaos.generate_many` call.

    ``single(system) -> dict`` generates one system alone (:func:`~sciml.chaos.generate_system`
    with the call's settings); ``log`` receives the warnings.
    """

    single: Callable[..., dict]
    log: Logger
    results: dict[str, dict] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    def alone(self, s) -> None:
        """Generate ``s`` on its own; a diverged or invalid system is dropped and reported."""
        try:
            self.results[s.name] = self.single(s)
        except (DivergenceError, DataError, ConfigError) as exc:
            self.dropped[s.name] = str(exc)
            self.log.warning("chaos benchmark: dropped %s: %s", s.name, exc)

    def drop(self, s, reason: str) -> None:
        """Record ``s`` as dropped for ``reason`` and report it."""
        self.dropped[s.name] = reason
        self.log.warning("chaos benchmark: dropped %s: %s", s.name, reason)


def group_flows(systems, out: Collector) -> dict[int, list]:
    """Flows by dimension, in the caller's order; maps are dropped, delay systems run alone."""
    by_dim: dict[int, list] = {}
    for s in systems:
        if s.kind == "map":
            out.dropped[s.name] = "map: not part of the forecasting benchmark"
        elif s.kind == "flow":
            by_dim.setdefault(int(s.dim), []).append(s)
        else:
            out.alone(s)
    return by_dim


@dataclass(frozen=True)
class Plan:
    """Settings of one call and its output grids in period units.

    ``grids`` maps a granularity to its grid, ``union`` is their merged grid (the one the solvers
    fill), ``where[g]`` the positions of ``grids[g]`` in ``union``, ``n_max`` the longest grid.
    """

    gran: dict[str, int]
    n_periods: int
    noise: float
    rtol: float
    atol: float
    transient: float
    sde_steps_per_period: int
    noise_retries: int
    grids: dict[str, np.ndarray]
    union: np.ndarray
    where: dict[str, np.ndarray]
    n_max: int

    @classmethod
    def make(cls, gran: dict[str, int], n_periods: int, **settings) -> Plan:
        """Plan of ``n_periods`` periods at ``gran`` points per period; ``settings`` as fields."""
        grids = {g: time_grid(1.0, int(n_periods * ppp), ppp) for g, ppp in gran.items()}
        union = np.unique(np.concatenate(list(grids.values())))
        where = {g: np.searchsorted(union, tg) for g, tg in grids.items()}
        n_max = max(len(tg) for tg in grids.values())
        return cls(gran=gran, n_periods=n_periods, grids=grids, union=union, where=where,
                   n_max=n_max, **settings)


class _GroupedRHS:
    """Fixed contiguous row slices, one right-hand side each (for the SDE path, no compaction)."""

    def __init__(self, funs, bounds):
        self.funs, self.bounds = funs, bounds

    def __call__(self, x, p):
        out = np.empty_like(x)
        for f, (a, b) in zip(self.funs, self.bounds, strict=True):
            if b > a:
                out[a:b] = f(x[a:b], None if p is None else p[a:b])
        return out


class DimensionGroup:
    """Flows of one dimension ordered by integration path, with batched ODE and SDE runs.

    ``order`` holds ``(system, extra)``: first the polynomial flows (``extra`` the fit; all rows on
    one compiled polynomial kernel, period units), then flows with a compiled right-hand side
    (``extra`` the function; one compiled call each, own time units), then the rest (numpy path,
    period units). ``compiled=False`` sends every flow to the numpy path. Rows of a run carry
    their system's index into ``order``; ``caller[j]`` is the position of ``order[j]`` in the
    caller's group, so that random draws follow the caller's order whatever the paths.
    """

    def __init__(self, group, dim: int, *, compiled: bool, max_degree: int, max_monomials: int,
                 max_steps: int):
        from .polynomial import fit_polynomial
        from .systems import compiled_rhs

        polys, comps, others = [], [], []
        for s in group:
            fit = fit_polynomial(s.rhs, dim, s.ic, max_degree=max_degree,
                                 max_monomials=max_monomials) if compiled else None
            fn = compiled_rhs(s) if compiled and fit is None else None
            if fit is not None:
                polys.append((s, fit))
            elif fn is not None:
                comps.append((s, fn))
            else:
                others.append((s, None))
        self.dim, self.max_steps = dim, max_steps
        self.order = polys + comps + others
        self.n_poly, self.n_first = len(polys), len(polys) + len(comps)
        self.pb = poly_batch([fit[0] * s.period for s, fit in polys], dim) if polys else None
        self.other_funs = [(lambda y, p, s=s: s.period * s.rhs(y)) for s, _ in others]
        self.caller = [group.index(s) for s, _ in self.order]

    def _split(self, sys_idx):
        """Rows of the polynomial path, ``(j, rows)`` per compiled system present, numpy rows."""
        rp = np.flatnonzero(sys_idx < self.n_poly)
        rc = [(j, np.flatnonzero(sys_idx == j)) for j in range(self.n_poly, self.n_first)]
        return rp, [(j, r) for j, r in rc if r.size], np.flatnonzero(sys_idx >= self.n_first)

    def run_ode(self, y0, sys_idx, grid, tol):
        """DOP853 from ``y0`` (rows of systems ``sys_idx``) on ``grid`` (period units).

        ``tol`` is ``(rtol, atol)``. Returns ``y`` (rows, n_t, dim), NaN where diverged, and the
        per-row status.
        """
        y = np.full((len(y0), len(grid), y0.shape[1]), np.nan)
        status = np.zeros(len(y0), dtype=np.int64)
        rp, rc, ro = self._split(sys_idx)
        kw = dict(rtol=tol[0], atol=tol[1], max_steps=self.max_steps, raise_all_diverged=False)
        if rp.size:
            r = solve_ode_poly(self.pb, y0[rp], grid, sys_idx[rp], **kw)
            y[rp], status[rp] = r.y, r.status
        for j, rows in rc:
            s, fn = self.order[j]
            r = solve_ode_compiled(fn, y0[rows], grid * s.period, s.params, **kw)
            y[rows], status[rows] = r.y, r.status
        if ro.size:
            r = solve_ode(self.other_funs, y0[ro], grid, None, groups=sys_idx[ro] - self.n_first,
                          **kw)
            y[ro], status[ro] = r.y, r.status
        return y, status

    def _normals(self, shape, sys_idx, sde_seed):
        """Standard normals of shape (n_sub, rows, dim), one stream over the rows taken in the
        caller's system order (a system's noise does not depend on which path the others take)."""
        z = np.empty(shape)
        z[:, np.lexsort((np.arange(shape[1]), np.asarray(self.caller)[sys_idx]))] = (
            np.random.default_rng(sde_seed).standard_normal(z.shape))
        return z

    def run_sde(self, y0, sys_idx, grid, sig, max_dt, sde_seed):
        """Euler-Maruyama with noise ``sig`` (rows, dim) and step ``max_dt`` (period units).

        One stream of normals for all rows, as one numpy call would draw it. Returns ``y`` and
        the per-row status, as :meth:`run_ode`.
        """
        _, nsub = em_substeps(grid, max_dt)
        z = self._normals((int(nsub.sum()),) + y0.shape, sys_idx, sde_seed)
        y = np.full((len(y0), len(grid), y0.shape[1]), np.nan)
        status = np.zeros(len(y0), dtype=np.int64)
        rp, rc, ro = self._split(sys_idx)
        kw = dict(noise=1.0, raise_all_diverged=False)
        if rp.size:
            r = solve_sde_poly(self.pb, y0[rp], grid, sys_idx[rp], noise_scale=sig[rp],
                               max_dt=max_dt, normals=z[:, rp], **kw)
            y[rp], status[rp] = r.y, r.status
        for j, rows in rc:
            s, fn = self.order[j]  # own time units: t = period * tau, sigma_t = sigma / sqrt(T)
            r = solve_sde_compiled(fn, y0[rows], grid * s.period, s.params,
                                   noise_scale=sig[rows] / np.sqrt(s.period),
                                   max_dt=max_dt * s.period, normals=z[:, rows], **kw)
            y[rows], status[rows] = r.y, r.status
        if ro.size:
            labs = sys_idx[ro] - self.n_first
            bounds = [(int(np.searchsorted(labs, g)), int(np.searchsorted(labs, g, "right")))
                      for g in range(len(self.other_funs))]
            r = solve_sde(_GroupedRHS(self.other_funs, bounds), y0[ro], grid, None,
                          noise_scale=sig[ro], max_dt=max_dt, normals=z[:, ro], **kw)
            y[ro], status[ro] = r.y, r.status
        return y, status


def generate_group(dg: DimensionGroup, plan: Plan, rng: np.random.Generator,
                   out: Collector) -> None:
    """Benchmark series of one dimension group into ``out``.

    ICs (``rng``'s perturbations), clean series, noisy series (``rng``'s seeds), then each system
    kept, redone alone or dropped. A system whose IC sampling fails is redone alone.
    """
    ics, ok_sys = _sample_ics(dg, rng, plan.transient)
    for j in np.flatnonzero(~ok_sys):
        out.alone(dg.order[j][0])  # retried alone (its own sampling and error report)
    keep = np.flatnonzero(ok_sys)
    if keep.size == 0:
        return
    sub = [dg.order[j][0] for j in keep]
    idx2 = np.repeat(keep, 2)
    y0 = ics[keep].reshape(-1, dg.dim)
    # clean series on the shared grid in period units
    clean_y, clean_status = dg.run_ode(y0, idx2, plan.union, (plan.rtol, plan.atol))
    sig = _noise_sigma(clean_y, sub)
    noisy_y, noisy_status, level = _noisy_with_retries(dg, plan, rng, y0, idx2, sig, sub, out.log)
    for k, s in enumerate(sub):
        rows = slice(2 * k, 2 * k + 2)
        _finish(out, plan, s, ics[keep[k]], (clean_y[rows], clean_status[rows]),
                (noisy_y[rows], noisy_status[rows]), sig[rows], level[k])


def _sample_ics(dg: DimensionGroup, rng: np.random.Generator, transient: float):
    """Two on-attractor ICs per system: 3 perturbed copies of its ``ic``, ``transient`` periods.

    Perturbations are drawn in the caller's system order, so a system's ICs do not depend on
    which of the others are polynomial. Returns ``ics`` (n_systems, 2, dim), NaN where sampling
    failed, and the mask of systems with two bounded copies.
    """
    n, dim = len(dg.order), dg.dim
    idx3 = np.repeat(np.arange(n), 3)
    base = np.stack([np.asarray(s.ic, float) for s, _ in dg.order])[idx3]
    z3 = rng.standard_normal(base.shape).reshape(n, 3, dim)[dg.caller].reshape(base.shape)
    x0 = base + 1e-2 * np.maximum(np.abs(base), 1.0) * z3
    pre_y, pre_status = dg.run_ode(x0, idx3, np.array([0.0, transient]), (1e-6, 1e-6))
    ics = np.full((n, 2, dim), np.nan)
    ok_sys = np.zeros(n, bool)
    for j in range(n):
        good = np.flatnonzero((pre_status == 0) & (idx3 == j))
        if len(good) >= 2:
            ics[j] = pre_y[good[:2], -1]
            ok_sys[j] = True
    return ics, ok_sys


def _noise_sigma(clean_y, sub) -> np.ndarray:
    r"""Per-row noise scale in period units, :math:`\sigma\sqrt{T_s}` (1 where not finite)."""
    sig = np.nanstd(clean_y, axis=1) * np.sqrt(
        np.repeat([s.period for s in sub], 2))[:, None]
    return np.where(np.isfinite(sig), sig, 1.0)


def _noisy_with_retries(dg: DimensionGroup, plan: Plan, rng: np.random.Generator, y0, idx2, sig,
                        sub, log: Logger):
    """Noisy series of the systems ``sub`` (two rows each); leavers of the basin are redone.

    A system whose stochastic run leaves the basin has its noise and step halved and only its
    rows redone, up to ``plan.noise_retries`` times; each run draws its seed from ``rng``.
    Returns ``y``, the per-row status and the noise level per system.
    """
    level = np.full(len(sub), float(plan.noise))
    noisy_y, noisy_status = dg.run_sde(y0, idx2, plan.union, sig * plan.noise,
                                       1.0 / plan.sde_steps_per_period, int(rng.integers(2**31)))
    for attempt in range(1, plan.noise_retries + 1):
        bad_sys = np.flatnonzero(~(noisy_status == 0).reshape(-1, 2).all(axis=1))
        if bad_sys.size == 0:
            break
        level[bad_sys] /= 2
        rows = np.sort(np.concatenate([2 * bad_sys, 2 * bad_sys + 1]))
        noisy_y[rows], noisy_status[rows] = dg.run_sde(
            y0[rows], idx2[rows], plan.union, sig[rows] * np.repeat(level[bad_sys], 2)[:, None],
            1.0 / (plan.sde_steps_per_period * 2**attempt), int(rng.integers(2**31)))
        log.warning("chaos benchmark: noisy series of %s left the basin; noise halved to %s",
                    [sub[k].name for k in bad_sys], level[bad_sys].tolist())
    return noisy_y, noisy_status, level


def _finish(out: Collector, plan: Plan, s, ic, clean, noisy, sig, level) -> None:
    """Keep, redo or drop one system from its ``(y, status)`` clean and noisy pairs.

    A stiff flow over the step budget is redone alone (the implicit path); a diverged clean
    series drops the system; a diverged noisy series is kept as NaN (``noise_level`` NaN).
    """
    (clean_y, clean_status), (noisy_y, noisy_status) = clean, noisy
    if s.stiff and np.any(clean_status == 3):
        out.alone(s)  # step budget exceeded: the implicit path
        return
    if not np.all(clean_status == 0):
        out.drop(s, f"clean series diverged ({STATUS_TEXT[int(max(clean_status))]})")
        return
    noisy_dropped = ""
    if not np.all(noisy_status == 0):
        noisy_dropped = f"noisy series diverged even at noise {level:.3g}"
        out.log.warning("chaos benchmark: %s: noisy series dropped (NaN), clean kept: %s",
                        s.name, noisy_dropped)
        level = np.nan
    out.results[s.name] = _assemble(plan, s, ic, clean_y, noisy_y, sig, level, noisy_dropped)


def _assemble(plan: Plan, s, ic, clean_y, noisy_y, sig, level, noisy_dropped: str) -> dict:
    """One system's result in :func:`~sciml.chaos.generate_system`'s layout, in its own times."""
    x = np.full((2, len(plan.gran), 2, plan.n_max, clean_y.shape[-1]), np.nan)
    t = np.full((len(plan.gran), plan.n_max), np.nan)
    for j, g in enumerate(plan.gran):
        kk = plan.where[g]
        x[:, j, 0, : len(kk)] = clean_y[:, kk]
        x[:, j, 1, : len(kk)] = noisy_y[:, kk]
        t[j, : len(kk)] = plan.grids[g] * s.period
    return {
        "x": x, "t": t, "n_points": np.array([len(plan.grids[g]) for g in plan.gran]),
        "ic": ic, "t_offset": 0.0,
        "noise_scale": sig / np.sqrt(s.period), "noise_level": float(level),
        "noisy_dropped": noisy_dropped,
        "granularities": plan.gran, "n_periods": plan.n_periods,
    }
