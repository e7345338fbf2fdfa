r"""Test metrics, information-plane estimates and beta selection of CS-IB.

Yu et al., ICLR 2024 (arXiv:2404.17951), Sec. 5: test RMSE (Table 2), the information plane
I(x;t) vs I(y;t) (Fig. 4) and RMSE under adversarial attack (Fig. 5).

Units: RMSE and MAE are in the *modelled* target's units, i.e. the standardised error times the
training standard deviation: log(100,000 USD) for California Housing (the log target of the IB
literature), rentals/hour for Bike Sharing, ug/m^3 for PM2.5 and Wh for Appliances Energy.
R^2 is unitless. I(x;t) and I(y;t) are CS quadratic mutual-information estimates in nats
(:func:`sciml.csib.divergence.cs_mutual_information`, median-heuristic widths, one common
estimator for every model), on a fixed seeded subset. The ``csib/metrics`` dataset these
functions read is built by :func:`sciml.csib.datasets.to_dataset`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from sciml.csib.divergence import cs_mutual_information
from sciml.csib.model import IBNet
from sciml.errors import DataError

__all__ = [
    "regression_metrics",
    "information_plane",
    "select_beta",
    "summary_table",
]


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, scale: float = 1.0) -> dict:
    r"""RMSE, MAE and :math:`R^2 = 1 - \sum (y-\hat y)^2 / \sum (y - \bar y)^2`.

    Parameters
    ----------
    y_true, y_pred : (n,) arrays on the same (e.g. standardised) scale.
    scale : factor taking that scale to target units (e.g. the training std); R^2 is
        scale-free.

    Returns
    -------
    dict with float ``rmse``, ``mae`` (target units) and ``r2``.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise DataError(
            f"y_true and y_pred must be 1-D of equal shape, got {y_true.shape} and {y_pred.shape}"
        )
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise DataError("y_true / y_pred hold non-finite values")
    err = y_pred - y_true
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(err**2)) * scale),
        "mae": float(np.mean(np.abs(err)) * scale),
        "r2": float(1.0 - (err**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
    }


def information_plane(
    net: IBNet, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, seed: int = 0
) -> tuple[float, float]:
    """CS-QMI estimates ``(I(x;t), I(y;t))`` in nats of the noisy representation t.

    t is drawn once with a generator seeded by ``seed`` (the same noise at every call), and
    all widths use the median heuristic, so values are comparable across epochs and models.
    """
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    with torch.no_grad():
        _, t, _, _ = net(xt, sample=True, generator=torch.Generator().manual_seed(seed))
        xd, td, yd = xt.double(), t.double(), yt.double()[:, None]
        i_xt = cs_mutual_information(xd, td, "median", "median")
        i_yt = cs_mutual_information(yd, td, "median", "median")
    return float(i_xt), float(i_yt)


def select_beta(ds: xr.Dataset) -> xr.Dataset:
    """Pick, per (dataset, model, seed), the beta with the lowest *validation* RMSE.

    Returns
    -------
    xarray.Dataset without the ``beta`` dim; the chosen value is the coordinate
    ``beta_selected`` (dataset, model, seed). Cells whose runs are all missing stay NaN.
    """
    val = ds["val_rmse"].fillna(np.inf)
    idx = val.argmin("beta")
    out = ds.isel(beta=idx)
    chosen = ds["beta"].isel(beta=idx).drop_vars("beta", errors="ignore")
    out = out.drop_vars("beta").assign_coords(beta_selected=chosen)
    out["beta_selected"].attrs.update(long_name="beta selected on validation RMSE")
    return out


def summary_table(ds: xr.Dataset, variable: str = "rmse") -> pd.DataFrame:
    """Mean and standard error over seeds of ``variable`` at the validation-selected beta.

    Returns
    -------
    DataFrame indexed by (dataset, model) with columns ``mean``, ``se``, ``n_seeds`` and
    ``beta`` (the most frequently selected beta; NaN for models without a compression term).
    """
    selected = select_beta(ds)
    sel = selected[variable]
    n = sel.count("seed")
    mean = sel.mean("seed")
    se = sel.std("seed", ddof=1) / np.sqrt(n.where(n > 0))
    beta = selected["beta_selected"]
    free = set(ds.attrs.get("beta_free_models", []))
    rows = []
    for d in ds["dataset"].values:
        for m in ds["model"].values:
            b = beta.sel(dataset=d, model=m).values
            vals, counts = np.unique(b[np.isfinite(b)], return_counts=True)
            rows.append(
                {
                    "dataset": str(d),
                    "model": str(m),
                    "mean": float(mean.sel(dataset=d, model=m)),
                    "se": float(se.sel(dataset=d, model=m))
                    if int(n.sel(dataset=d, model=m)) > 1
                    else float("nan"),
                    "n_seeds": int(n.sel(dataset=d, model=m)),
                    "beta": float(vals[np.argmax(counts)])
                    if len(vals) and str(m) not in free
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows).set_index(["dataset", "model"])
