"""Figures of the ProbConserv results: solution profiles with bands, conservation error over time.

Hansen et al., ICML 2023 (arXiv 2302.11002), Fig. 3 (profiles at the evaluation time, mean and
two standard deviations per model) and Fig. 4 (conservation error :math:`G\\mu - U(t)` over t).
Pure functions: results in, matplotlib figures out (Agg backend, no display); the flow writes them
through the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from sciml.gpme import get_problem  # noqa: E402
from sciml.probconserv.evaluate import ParamResult  # noqa: E402

__all__ = ["ce_figure", "figures", "profile_figure", "profile_name", "user_figures"]


def profile_name(result: ParamResult) -> str:
    """Figure name of a profile plot, e.g. ``profile_stefan_u_star=0.6``."""
    return f"profile_{result.problem}_{get_problem(result.problem).param_name}={result.param:g}"


def profile_figure(result: ParamResult) -> plt.Figure:
    """Exact solution and every model's mean +- 2 sd at the evaluation time (function 0)."""
    e, spec = result.eval_index, get_problem(result.problem)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(result.x, result.u[e], "k-", lw=2, label="exact")
    for i, m in enumerate(result.models):
        mu, sd = result.mean[i, 0, e], result.std[i, 0, e]
        (line,) = ax.plot(result.x, mu, lw=1.2, label=m)
        ax.fill_between(result.x, mu - 2 * sd, mu + 2 * sd, color=line.get_color(), alpha=0.15)
    ax.set(xlabel="x", ylabel="u", title=f"{result.problem} {spec.param_name}={result.param:g}, "
           f"t={result.t[e]:.3g} (function 0, mean ± 2 sd)")  # fmt: skip
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def ce_figure(metrics: xr.Dataset) -> plt.Figure:
    """Conservation error over t per model and test value, one panel per problem."""
    problems = list(metrics.problem.values)
    fig, axes = plt.subplots(1, len(problems), figsize=(4.2 * len(problems), 3.4), squeeze=False)
    colors = {m: f"C{i}" for i, m in enumerate(metrics.model.values)}
    for ax, problem in zip(axes[0], problems, strict=True):
        sub = metrics.sel(problem=problem)
        valid = [p for p in sub.param.values if not np.all(np.isnan(sub["ce_t"].sel(param=p)))]
        for k, param in enumerate(valid):
            cell = sub.sel(param=param)
            for m in cell.model.values:
                ax.plot(sub["t_value"].values, cell["ce_t"].sel(model=m), color=colors[m],
                        ls=("-", "--", ":")[k % 3], lw=1,
                        label=f"{m}, {cell.param_name.item()}={param:g}")  # fmt: skip
        ax.set(xlabel="t", ylabel="CE = G mu - U(t)", title=problem)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def figures(results: Iterable[ParamResult], metrics: xr.Dataset) -> dict[str, plt.Figure]:
    """Every figure of a run by name: one profile per (problem, test value) and ``ce_vs_t``."""
    out = {profile_name(r): profile_figure(r) for r in results}
    out["ce_vs_t"] = ce_figure(metrics)
    return out


def user_figures(results, metrics: xr.Dataset) -> dict[str, plt.Figure]:
    """Figures of a user's law: each test function's profile at the middle time (context draw 0,
    mean ± 2 sd per model) and the conservation error of every constraint row over t."""
    out = {}
    t = metrics["t"].values
    for r in results:
        i = metrics.sizes["t"] // 2
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for k, m in enumerate(r.models):
            mu, sd = r.mean[k, 0, i], r.std[k, 0, i]
            (line,) = ax.plot(metrics["x"].values, mu, lw=1.2, label=m)
            ax.fill_between(metrics["x"].values, mu - 2 * sd, mu + 2 * sd, color=line.get_color(), alpha=0.15)
        ax.set(xlabel="x", ylabel="u", title=f"function {r.function}, t={t[i]:.3g} (context 0, mean ± 2 sd)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        out[f"user_profile_function={r.function}"] = fig
    rows = list(metrics["constraint"].values)
    fig, axes = plt.subplots(1, len(rows), figsize=(4.2 * len(rows), 3.4), squeeze=False)
    for ax, row in zip(axes[0], rows, strict=True):
        for m in metrics["model"].values:
            for f in metrics["function"].values:
                ax.plot(t, metrics["ce_t"].sel(model=m, function=f, constraint=row), lw=1, label=f"{m}, {f}")
        ax.plot(t, metrics["ce_truth_t"].sel(constraint=row).values.T, "k:", lw=1)
        ax.set(xlabel="t", ylabel="G mu - b", title=f"constraint {row} (dotted: your data)")
        ax.legend(fontsize=6)
    fig.tight_layout()
    out["user_ce_vs_t"] = fig
    return out
