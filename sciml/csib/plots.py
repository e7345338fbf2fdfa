"""Plots of the ``csib/metrics`` dataset: information plane, RMSE vs beta, RMSE vs epsilon.

Yu et al., ICLR 2024 (arXiv:2404.17951), Fig. 4 (information plane), Fig. 3 (RMSE vs beta) and
Fig. 5 (RMSE under attack). Pure functions: dataset in, matplotlib figure out (Agg backend, no
display); the flow writes it through the catalog.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from sciml.csib.metrics import select_beta  # noqa: E402

__all__ = ["figures", "plot_information_plane", "plot_rmse_vs_beta", "plot_rmse_vs_epsilon"]


def _grid(n: int) -> tuple[plt.Figure, np.ndarray]:
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _runs(da: xr.DataArray) -> list[str]:
    """The run dims (split, seed) to average over."""
    return [d for d in ("split", "seed") if d in da.dims]


def _beta_free(ds: xr.Dataset) -> set[str]:
    """Models without a compression term (one run repeated along beta)."""
    return {str(m) for m in ds.attrs.get("beta_free_models", ["mse"])}


def plot_information_plane(ds: xr.Dataset) -> plt.Figure:
    """I(x;t) vs I(y;t) over training epochs (seed mean) for every model and beta."""
    free = _beta_free(ds)
    fig, axes = _grid(ds.sizes["dataset"])
    for ax, d in zip(axes, ds["dataset"].values, strict=False):
        for m in ds["model"].values:
            for b in ds["beta"].values:
                sub = ds.sel(dataset=d, model=m, beta=b)
                ix = sub["plane_i_xt"].mean(_runs(sub["plane_i_xt"])).values
                iy = sub["plane_i_yt"].mean(_runs(sub["plane_i_yt"])).values
                ok = np.isfinite(ix) & np.isfinite(iy)
                if not ok.any():
                    continue
                label = str(m) if str(m) in free else f"{m} b={b:g}"
                line = ax.plot(ix[ok], iy[ok], "-", lw=1, alpha=0.8, label=label)[0]
                ax.plot(ix[ok][-1], iy[ok][-1], "o", color=line.get_color(), ms=4)
                if str(m) in free:
                    break
        ax.set(title=str(d), xlabel="I(x;t) [nat]", ylabel="I(y;t) [nat]")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Information plane over training (CS-QMI estimates, dot = last epoch)")
    fig.tight_layout()
    return fig


def plot_rmse_vs_beta(ds: xr.Dataset) -> plt.Figure:
    """Test RMSE (mean +- s.e. over every split and seed run) against beta per model; models
    without a compression term as flat dashed lines."""
    free = _beta_free(ds)
    fig, axes = _grid(ds.sizes["dataset"])
    betas = ds["beta"].values
    for ax, d in zip(axes, ds["dataset"].values, strict=False):
        for m in ds["model"].values:
            r = ds["rmse"].sel(dataset=d, model=m)
            runs = _runs(r)
            mean = r.mean(runs).values
            n = r.count(runs)
            se = (r.std(runs, ddof=1) / np.sqrt(n.where(n > 1))).values
            style = "--" if str(m) in free else "-o"
            ax.errorbar(betas, mean, yerr=np.nan_to_num(se), fmt=style, ms=3, capsize=2, label=str(m))
        ax.set_xscale("log")
        ax.set(title=str(d), xlabel="beta", ylabel=f"test RMSE [{_units(ds, d)}]")
        ax.legend(fontsize=7)
    fig.suptitle("Test RMSE vs compression weight beta")
    fig.tight_layout()
    return fig


def plot_rmse_vs_epsilon(ds: xr.Dataset) -> plt.Figure:
    """Test RMSE under FGSM (solid) and PGD (dashed) attack vs epsilon, beta chosen on validation."""
    sel = select_beta(ds)
    fig, axes = _grid(ds.sizes["dataset"])
    eps = ds["epsilon"].values
    for ax, d in zip(axes, ds["dataset"].values, strict=False):
        for m in ds["model"].values:
            f = sel["rmse_fgsm"].sel(dataset=d, model=m)
            p = sel["rmse_pgd"].sel(dataset=d, model=m)
            f, p = f.mean(_runs(f)).values, p.mean(_runs(p)).values
            line = ax.plot(eps, f, "-o", ms=3, label=f"{m} FGSM")[0]
            ax.plot(eps, p, "--", color=line.get_color(), label=f"{m} PGD")
        ax.set(title=str(d), xlabel="epsilon (standardised inputs)", ylabel=f"test RMSE [{_units(ds, d)}]")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Adversarial robustness (beta selected on validation)")
    fig.tight_layout()
    return fig


def _units(ds: xr.Dataset, dataset: str) -> str:
    units = ds.attrs.get("target_units", {})
    return str(units.get(str(dataset), "")) if isinstance(units, dict) else ""


def figures(ds: xr.Dataset) -> dict[str, plt.Figure]:
    """Every figure of the ``csib`` workflow, by catalog figure name.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``csib/metrics`` dataset.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``information_plane`` (Yu et al., ICLR 2024, Fig. 4), ``rmse_vs_beta`` (Fig. 3) and
        ``rmse_vs_epsilon`` (Fig. 5), in that order.
    """
    return {
        "information_plane": plot_information_plane(ds),
        "rmse_vs_beta": plot_rmse_vs_beta(ds),
        "rmse_vs_epsilon": plot_rmse_vs_epsilon(ds),
    }
