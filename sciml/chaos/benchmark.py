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

import functools
import logging

import numpy as np

from sciml.errors import ConfigError, DivergenceError

from ._generate import Collector, DimensionGroup, Plan, generate_group, group_flows
from .integrate import integrate
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
    log = log or logger
    gran = dict(GRANULARITIES if granularities is None else granularities)
    single_kw = dict(n_periods=n_periods, granularities=gran, noise=noise, seed=seed, rtol=rtol,
                     atol=atol, transient=transient, sde_steps_per_period=sde_steps_per_period,
                     max_steps=max_steps, noise_retries=noise_retries, **single_kwargs)
    out = Collector(functools.partial(generate_system, **single_kw), log)
    by_dim = group_flows(systems, out)  # maps dropped, delay systems generated alone
    plan = Plan.make(gran, n_periods, noise=noise, rtol=rtol, atol=atol, transient=transient,
                     sde_steps_per_period=sde_steps_per_period, noise_retries=noise_retries)
    rng = np.random.default_rng(seed)  # per group: IC perturbations, then the SDE seeds
    for dim, group in by_dim.items():
        dg = DimensionGroup(group, dim, compiled=compiled, max_degree=max_degree,
                            max_monomials=max_monomials, max_steps=max_steps)
        generate_group(dg, plan, rng, out)
    return out.results, out.dropped


def history_forecast(n_points: int, n_periods: int = 12, n_history_periods: int = 10) -> int:
    """Number of history points of a series of ``n_points`` covering ``n_periods`` periods."""
    return int(round(n_points * n_history_periods / n_periods))
