r"""Forecasting benchmark datasets in the layout of Gilpin (NeurIPS 2021 D&B, sec. 4).

Per system: a *train* and a *test* series started from two different on-attractor initial
conditions; each at two granularities, *coarse* (15 points per period) and *fine* (100), and
in two versions, *clean* (the ODE/DDE solution) and *noisy* (stochastic forcing
:math:`dx = f\,dt + \eta\sigma\odot dW`, :math:`\sigma` the coordinate's std on the clean run).
Every series spans 12 periods; the first 10 are the history, the last 2 the forecast horizon.

One integration per system serves both granularities: the two grids are merged, the batched
DOP853 solver fills the union from its dense output, and the union is split again (the stochastic
run hits every union point exactly). Systems of different dimension share one dataset through a
padded ``coordinate`` dimension and a per-system ``coordinate_mask``; coarse series are padded
along ``step`` (``step_mask``), so that
``ds.sel(system="Lorenz", split="test", granularity="fine")`` is one query.

Discrete maps have no period and are not part of the forecasting benchmark (as in the reference).
"""

from __future__ import annotations

import logging

import numpy as np

from sciml.errors import ConfigError, DataError, DivergenceError

from .integrate import STATUS as STATUS_TEXT
from .integrate import (
    em_substeps,
    integrate,
    poly_batch,
    solve_ode,
    solve_ode_compiled,
    solve_ode_poly,
    solve_sde,
    solve_sde_compiled,
    solve_sde_poly,
)
from .trajectory import sample_ics, time_grid

__all__ = [
    "GRANULARITIES",
    "SPLITS",
    "NOISES",
    "generate_system",
    "generate_many",
    "plan_chunks",
    "history_forecast",
]

logger = logging.getLogger(__name__)

GRANULARITIES: dict[str, int] = {"coarse": 15, "fine": 100}
SPLITS = ("train", "test")
NOISES = ("clean", "noisy")


def generate_system(
    system,
    *,
    n_periods: int = 12,
    granularities: dict[str, int] | None = None,
    noise: float = 0.1,
    seed: int = 0,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    transient: float = 10.0,
    sde_steps_per_period: int = 200,
    method: str | None = None,
    noise_retries: int = 3,
    max_steps: int = 20_000,
) -> dict:
    """Benchmark series of one flow or delay system.

    Parameters
    ----------
    system : System (flow or delay).
    n_periods : series length in periods (history + forecast).
    granularities : ``{name: points per period}``; default coarse 15, fine 100.
    noise : stochastic-forcing amplitude :math:`\\eta` relative to the coordinates' std.
    seed : seed of the initial conditions and the noise.
    rtol, atol : tolerances of the clean integration.
    transient : periods discarded when sampling the two initial conditions.
    sde_steps_per_period : Euler-Maruyama substeps per period (at least one per grid point).
    noise_retries : when a noisy series leaves the basin (e.g. Rossler's escape to infinity),
        the noise and the Euler-Maruyama step are halved and the run repeated up to this many
        times; the level used is returned as ``noise_level``.
    max_steps : step budget per explicit trajectory; a flow that needs more is effectively stiff
        and is reported (DivergenceError, status "max steps") instead of stalling the run.

    Returns
    -------
    dict with ``x`` (split, granularity, noise, step, dim) padded with NaN along step,
    ``t`` (granularity, step), ``n_points`` (granularity,), ``ic`` (split, dim), ``noise_scale``.

    Raises
    ------
    ConfigError
        For maps. DivergenceError if a clean or noisy series diverged (the caller drops and
        reports the system).
    """
    if system.kind == "map":
        raise ConfigError(f"{system.name!r} is a map: maps are not part of the benchmark")
    gran = dict(GRANULARITIES if granularities is None else granularities)
    grids = {g: time_grid(system.period, int(n_periods * ppp), ppp) for g, ppp in gran.items()}
    union = np.unique(np.concatenate(list(grids.values())))
    where = {g: np.searchsorted(union, tg) for g, tg in grids.items()}
    if system.kind == "delay":
        # a delay system's state is its history: start from perturbed constant histories and
        # discard the transient inside the same run, so the series begin with a real history
        rng = np.random.default_rng(seed)
        ics = np.asarray(system.ic, float) * (1 + 0.05 * rng.standard_normal((2, system.dim)))
        offset = min(transient * system.period, 200 * system.delay)
        grid_run = np.concatenate([[0.0], union + offset])
        m_steps = int(np.clip(np.ceil(system.delay / (system.period / 200)), 16, 64))
        extra = {"steps_per_delay": m_steps}
    else:
        ics = sample_ics(system, 2, seed=seed, transient=transient)
        offset, grid_run, extra = 0.0, union, {}
    ode_kw = {"max_steps": max_steps} if system.kind == "flow" and not (
        system.stiff or method in ("Radau", "BDF", "LSODA")) else {}
    clean = integrate(system, ics, grid_run, method=method, rtol=rtol, atol=atol, **ode_kw,
                      **extra)
    if system.kind == "delay":
        clean.y = clean.y[:, 1:]
    if not clean.ok.all():
        raise DivergenceError(f"{system.name}: clean series diverged ({clean.diverged_report()})")
    scale = np.nanstd(clean.y, axis=1)
    kw = dict(extra)
    if system.kind == "flow":
        kw["max_dt"] = system.period / sde_steps_per_period
    level = noise
    for _ in range(noise_retries + 1):
        noisy = integrate(system, ics, grid_run, noise=level, noise_scale=scale, seed=seed + 1,
                          **kw, raise_all_diverged=False)
        if system.kind == "delay":
            noisy.y = noisy.y[:, 1:]
        if noisy.ok.all():
            break
        logger.warning("%s: noisy series diverged at noise %.3g; halving it and the Euler-"
                       "Maruyama step", system.name, level)
        level /= 2
        if "max_dt" in kw:
            kw["max_dt"] /= 2
    else:
        logger.warning("%s: noisy series dropped (NaN), clean kept", system.name)
        noisy.y[:] = np.nan
        level = float("nan")
    n_max = max(len(tg) for tg in grids.values())
    d = system.dim
    x = np.full((2, len(gran), 2, n_max, d), np.nan)
    t = np.full((len(gran), n_max), np.nan)
    for j, g in enumerate(gran):
        k = where[g]
        x[:, j, 0, : len(k)] = clean.y[:, k]
        x[:, j, 1, : len(k)] = noisy.y[:, k]
        t[j, : len(k)] = grids[g]
    return {
        "x": x,
        "t": t,
        "n_points": np.array([len(grids[g]) for g in gran]),
        "ic": ics,
        "t_offset": offset,
        "noise_scale": scale,
        "noise_level": level,
        "noisy_dropped": "" if np.isfinite(level) else "noisy series diverged at every noise level",
        "granularities": gran,
        "n_periods": n_periods,
    }


def plan_chunks(systems, max_size: int | None = None) -> list[list[str]]:
    """Split systems into batches that :func:`generate_many` integrates together.

    Flows are grouped by dimension and stiffness flag (one batched integration each, cut into
    pieces of at most ``max_size`` systems so that workers share the load); delay systems form
    one-system chunks; maps are left out (not part of the benchmark).
    """
    by_dim: dict[tuple[int, bool], list[str]] = {}
    single: list[list[str]] = []
    for s in systems:
        if s.kind == "map":
            continue
        if s.kind == "flow":
            # stiff flows get their own batches so that they do not hold the others' loop
            by_dim.setdefault((int(s.dim), bool(s.stiff)), []).append(s.name)
        else:
            single.append([s.name])
    out = []
    for d in sorted(by_dim):
        group = by_dim[d]
        size = len(group) if not max_size else max_size
        n_pieces = -(-len(group) // size)
        out += [group[i::n_pieces] for i in range(n_pieces)]
    return out + single


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


def generate_many(
    systems,
    *,
    n_periods: int = 12,
    granularities: dict[str, int] | None = None,
    noise: float = 0.1,
    seed: int = 0,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    transient: float = 10.0,
    sde_steps_per_period: int = 200,
    max_steps: int = 20_000,
    noise_retries: int = 3,
    max_degree: int = 4,
    max_monomials: int = 600,
    compiled: bool = True,
    log: logging.Logger | logging.LoggerAdapter | None = None,
    **single_kwargs,
) -> tuple[dict[str, dict], dict[str, str]]:
    r"""Benchmark series of many systems, flows of one dimension together.

    Three paths, all the same DOP853 and Euler-Maruyama schemes: polynomial vector fields
    (detected and verified by :func:`~sciml.chaos.polynomial.fit_polynomial`, degree <=
    ``max_degree``) run on the compiled polynomial kernel (:func:`~sciml.chaos.integrate.
    solve_ode_poly`), all their rows in one call, each system in its own period units
    :math:`\tau = t / T_s`, :math:`dx/d\tau = T_s f(x)` (noise :math:`\sigma\sqrt{T_s}`), so all
    rows share the output grid; flows with a compiled right-hand side
    (:func:`~sciml.chaos.systems.compiled_rhs`) run on the same compiled kernel in their own time
    units; the rest on the numpy path (:func:`~sciml.chaos.integrate.solve_ode`), batched.
    ``compiled=False`` sends every flow to the numpy path (same results to rounding for the
    polynomial ones). Steps: sample two on-attractor ICs per system (perturb + ``transient``
    periods), the clean DOP853 run on the union of the coarse and fine grids (per-row step
    control), then Euler-Maruyama for the noisy series (one stream of normals over the rows in
    the caller's system order); systems whose noisy run leaves the basin are redone (only their
    rows) with the noise and the step halved, up to ``noise_retries`` times (level stored as
    ``noise_level``). Flows flagged stiff are tried on the explicit path too; one that exceeds
    the step budget ``max_steps`` is redone alone by :func:`generate_system` on the implicit
    (Radau) path. Delay systems go through :func:`generate_system` one by one. Parameters not
    listed below are those of :func:`generate_system`.

    Parameters
    ----------
    max_degree, max_monomials : polynomial detection limits (see ``fit_polynomial``).
    compiled : use the compiled kernels (default) or the numpy path only.

    Returns
    -------
    results : ``{name: dict}`` shaped like :func:`generate_system`'s output.
    dropped : ``{name: reason}``.
    """
    from .polynomial import fit_polynomial
    from .systems import compiled_rhs

    log = log or logger
    gran = dict(GRANULARITIES if granularities is None else granularities)
    results: dict[str, dict] = {}
    dropped: dict[str, str] = {}
    single_kw = dict(n_periods=n_periods, granularities=gran, noise=noise, seed=seed, rtol=rtol,
                     atol=atol, transient=transient, sde_steps_per_period=sde_steps_per_period,
                     max_steps=max_steps, noise_retries=noise_retries, **single_kwargs)

    def _single(s):
        try:
            results[s.name] = generate_system(s, **single_kw)
        except (DivergenceError, DataError, ConfigError) as exc:
            dropped[s.name] = str(exc)
            log.warning("chaos benchmark: dropped %s: %s", s.name, exc)

    by_dim: dict[int, list] = {}
    for s in systems:
        if s.kind == "map":
            dropped[s.name] = "map: not part of the forecasting benchmark"
        elif s.kind == "flow":
            by_dim.setdefault(int(s.dim), []).append(s)
        else:
            _single(s)
    grids = {g: time_grid(1.0, int(n_periods * ppp), ppp) for g, ppp in gran.items()}
    union = np.unique(np.concatenate(list(grids.values())))
    where = {g: np.searchsorted(union, tg) for g, tg in grids.items()}
    n_max = max(len(tg) for tg in grids.values())
    rng = np.random.default_rng(seed)
    for dim, group in by_dim.items():
        # three paths, all the same DOP853 / Euler-Maruyama schemes: polynomial flows on the
        # compiled polynomial kernel (period units), flows with a compiled right-hand side on
        # the compiled kernel (own time units, one call per system), the rest on numpy
        polys, comps, others = [], [], []
        for s in group:
            fit = fit_polynomial(s.rhs, dim, s.ic, max_degree=max_degree,
                                 max_monomials=max_monomials) if compiled else None
            if fit is not None:
                polys.append((s, fit))
            elif compiled and compiled_rhs(s) is not None:
                comps.append((s, compiled_rhs(s)))
            else:
                others.append((s, None))
        order = polys + comps + others
        n_poly, n_comp = len(polys), len(comps)
        pb = poly_batch([fit[0] * s.period for s, fit in polys], dim) if polys else None
        other_funs = [(lambda y, p, s=s: s.period * s.rhs(y)) for s, _ in others]

        def split(sys_idx, n_poly=n_poly, n_comp=n_comp):
            rp = np.flatnonzero(sys_idx < n_poly)
            rc = [(j, np.flatnonzero(sys_idx == j)) for j in range(n_poly, n_poly + n_comp)]
            return rp, [(j, r) for j, r in rc if r.size], np.flatnonzero(sys_idx >= n_poly + n_comp)

        def run_ode(y0, sys_idx, grid, tol, pb=pb, order=order, other_funs=other_funs,
                    n_first=n_poly + n_comp):
            y = np.full((len(y0), len(grid), y0.shape[1]), np.nan)
            status = np.zeros(len(y0), dtype=np.int64)
            rp, rc, ro = split(sys_idx)
            kw = dict(rtol=tol[0], atol=tol[1], max_steps=max_steps, raise_all_diverged=False)
            if rp.size:
                r = solve_ode_poly(pb, y0[rp], grid, sys_idx[rp], **kw)
                y[rp], status[rp] = r.y, r.status
            for j, rows in rc:
                s, fn = order[j]
                r = solve_ode_compiled(fn, y0[rows], grid * s.period, s.params, **kw)
                y[rows], status[rows] = r.y, r.status
            if ro.size:
                r = solve_ode(other_funs, y0[ro], grid, None, groups=sys_idx[ro] - n_first, **kw)
                y[ro], status[ro] = r.y, r.status
            return y, status

        caller = [group.index(s) for s, _ in order]  # position of each system in the call

        def run_sde(y0, sys_idx, sig, max_dt, sde_seed, pb=pb, order=order, caller=caller,
                    other_funs=other_funs, n_first=n_poly + n_comp):
            """Euler-Maruyama, one stream of normals for all rows (as one numpy call would)."""
            _, nsub = em_substeps(union, max_dt)
            # the stream runs over the rows in the caller's system order, so a system's noise
            # does not depend on which path the others take
            z = np.empty((int(nsub.sum()),) + y0.shape)
            z[:, np.lexsort((np.arange(len(y0)), np.asarray(caller)[sys_idx]))] = (
                np.random.default_rng(sde_seed).standard_normal(z.shape))
            y = np.full((len(y0), len(union), y0.shape[1]), np.nan)
            status = np.zeros(len(y0), dtype=np.int64)
            rp, rc, ro = split(sys_idx)
            kw = dict(noise=1.0, raise_all_diverged=False)
            if rp.size:
                r = solve_sde_poly(pb, y0[rp], union, sys_idx[rp], noise_scale=sig[rp],
                                   max_dt=max_dt, normals=z[:, rp], **kw)
                y[rp], status[rp] = r.y, r.status
            for j, rows in rc:
                s, fn = order[j]  # own time units: t = period * tau, sigma_t = sigma / sqrt(T)
                r = solve_sde_compiled(fn, y0[rows], union * s.period, s.params,
                                       noise_scale=sig[rows] / np.sqrt(s.period),
                                       max_dt=max_dt * s.period, normals=z[:, rows], **kw)
                y[rows], status[rows] = r.y, r.status
            if ro.size:
                labs = sys_idx[ro] - n_first
                bounds = [(int(np.searchsorted(labs, g)), int(np.searchsorted(labs, g, "right")))
                          for g in range(len(other_funs))]
                r = solve_sde(_GroupedRHS(other_funs, bounds), y0[ro], union, None,
                              noise_scale=sig[ro], max_dt=max_dt, normals=z[:, ro], **kw)
                y[ro], status[ro] = r.y, r.status
            return y, status

        # 1. on-attractor ICs: 3 perturbed copies per system, `transient` periods
        # (perturbations drawn in the caller's system order, so a system's ICs do not depend on
        # which of the others are polynomial)
        idx3 = np.repeat(np.arange(len(order)), 3)
        base = np.stack([np.asarray(s.ic, float) for s, _ in order])[idx3]
        z3 = rng.standard_normal(base.shape).reshape(len(order), 3, dim)[caller].reshape(base.shape)
        x0 = base + 1e-2 * np.maximum(np.abs(base), 1.0) * z3
        pre_y, pre_status = run_ode(x0, idx3, np.array([0.0, transient]), (1e-6, 1e-6))
        ics = np.full((len(order), 2, dim), np.nan)
        ok_sys = np.zeros(len(order), bool)
        for j in range(len(order)):
            good = np.flatnonzero((pre_status == 0) & (idx3 == j))
            if len(good) >= 2:
                ics[j] = pre_y[good[:2], -1]
                ok_sys[j] = True
        for j in np.flatnonzero(~ok_sys):
            _single(order[j][0])  # retried alone (its own sampling and error report)
        keep = np.flatnonzero(ok_sys)
        if keep.size == 0:
            continue
        sub = [order[j] for j in keep]
        idx2 = np.repeat(keep, 2)
        y0 = ics[keep].reshape(-1, dim)
        # 2. clean series on the shared grid in period units
        clean_y, clean_status = run_ode(y0, idx2, union, (rtol, atol))
        # 3. noisy series: Euler-Maruyama, noise sigma * sqrt(T_s) in period units
        sig = np.nanstd(clean_y, axis=1) * np.sqrt(
            np.repeat([s.period for s, _ in sub], 2))[:, None]
        sig = np.where(np.isfinite(sig), sig, 1.0)
        level = np.full(len(sub), float(noise))
        noisy_y, noisy_status = run_sde(y0, idx2, sig * noise, 1.0 / sde_steps_per_period,
                                        int(rng.integers(2**31)))
        for attempt in range(1, noise_retries + 1):
            # systems whose stochastic run left the basin: halve noise and step, redo only them
            bad_sys = np.flatnonzero(~(noisy_status == 0).reshape(-1, 2).all(axis=1))
            if bad_sys.size == 0:
                break
            level[bad_sys] /= 2
            rows = np.sort(np.concatenate([2 * bad_sys, 2 * bad_sys + 1]))
            noisy_y[rows], noisy_status[rows] = run_sde(
                y0[rows], idx2[rows], sig[rows] * np.repeat(level[bad_sys], 2)[:, None],
                1.0 / (sde_steps_per_period * 2**attempt), int(rng.integers(2**31)))
            log.warning("chaos benchmark: noisy series of %s left the basin; noise halved to %s",
                        [sub[k][0].name for k in bad_sys], level[bad_sys].tolist())
        for k, (s, _) in enumerate(sub):
            rows = slice(2 * k, 2 * k + 2)
            if s.stiff and np.any(clean_status[rows] == 3):
                _single(s)  # step budget exceeded: the implicit path
                continue
            if not np.all(clean_status[rows] == 0):
                dropped[s.name] = f"clean series diverged ({STATUS_TEXT[int(max(clean_status[rows]))]})"
                log.warning("chaos benchmark: dropped %s: %s", s.name, dropped[s.name])
                continue
            noisy_dropped = ""
            if not np.all(noisy_status[rows] == 0):
                noisy_dropped = f"noisy series diverged even at noise {level[k]:.3g}"
                log.warning("chaos benchmark: %s: noisy series dropped (NaN), clean kept: %s",
                            s.name, noisy_dropped)
                level[k] = np.nan
            x = np.full((2, len(gran), 2, n_max, dim), np.nan)
            t = np.full((len(gran), n_max), np.nan)
            for j, g in enumerate(gran):
                kk = where[g]
                x[:, j, 0, : len(kk)] = clean_y[rows][:, kk]
                x[:, j, 1, : len(kk)] = noisy_y[rows][:, kk]
                t[j, : len(kk)] = grids[g] * s.period
            results[s.name] = {
                "x": x, "t": t, "n_points": np.array([len(grids[g]) for g in gran]),
                "ic": ics[keep[k]], "t_offset": 0.0,
                "noise_scale": sig[rows] / np.sqrt(s.period), "noise_level": float(level[k]),
                "noisy_dropped": noisy_dropped,
                "granularities": gran, "n_periods": n_periods,
            }
    return results, dropped


def history_forecast(n_points: int, n_periods: int = 12, n_history_periods: int = 10) -> int:
    """Number of history points of a series of ``n_points`` covering ``n_periods`` periods."""
    return int(round(n_points * n_history_periods / n_periods))
