"""Figures of the chaos results: forecast error against invariants, and attractor projections.

Gilpin, NeurIPS 2021 Datasets and Benchmarks, Fig. 4 (forecast error against the maximum
Lyapunov exponent, Pesin entropy and correlation dimension across systems) and Fig. 1 (the
attractors). Pure functions: datasets in, matplotlib figures out (Agg backend); the flow writes
them through the catalog.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

from .experiment import INVARIANTS_FOR_CORRELATION  # noqa: E402

__all__ = ["attractors_figure", "smape_vs_invariants_figure"]


def smape_vs_invariants_figure(forecasts: xr.Dataset, invariants: xr.Dataset) -> plt.Figure:
    """sMAPE (fine granularity, clean series) of every model against each invariant, one point
    per system."""
    systems = [s for s in forecasts.system.values if s in invariants.system.values]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    sub = forecasts.smape.sel(granularity="fine", noise="clean", system=systems)
    for ax, key in zip(axes, INVARIANTS_FOR_CORRELATION, strict=True):
        xv = invariants[key].sel(system=systems).values
        for m in forecasts.model.values:
            ax.scatter(xv, sub.sel(model=m).values, s=12, label=str(m))
        ax.set(xlabel=key.replace("_", " "), ylabel="sMAPE (0-200), fine, clean")
    axes[0].legend(fontsize=7)
    fig.suptitle("Forecast error vs invariants across systems")
    fig.tight_layout()
    return fig


def attractors_figure(benchmark: xr.Dataset, n: int) -> plt.Figure:
    """The first ``n`` systems' clean fine train series: (x0, x1) projection, or x0 over t."""
    names = list(benchmark.system.values)[:n]
    fig = plt.figure(figsize=(3.2 * max(len(names), 1), 3.2))
    for i, name in enumerate(names):
        sub = benchmark.x.sel(system=name, split="train", granularity="fine", noise="clean")
        ax = fig.add_subplot(1, len(names), i + 1)
        if int(benchmark.dim.sel(system=name)) >= 2:
            ax.plot(sub.isel(coordinate=0), sub.isel(coordinate=1), lw=0.4)
            ax.set(xlabel="x0", ylabel="x1")
        else:
            ax.plot(benchmark.time.sel(system=name, granularity="fine"), sub.isel(coordinate=0), lw=0.5)
            ax.set(xlabel="t", ylabel="x0")
        ax.set_title(name, fontsize=9)
    fig.tight_layout()
    return fig
